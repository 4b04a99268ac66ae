"""RandomFunction (Theano's raw_random) and permute_row_elements."""
import copy

import numpy as np
import pytest

import arignote as th
import arignote.tensor as T
from arignote.gradient import NullTypeGradError, verify_grad
from arignote.tensor.random import RandomFunction, permute_row_elements, random_state_type
from arignote.tensor.random import basic as raw
from arignote.tensor.type import TensorType


def _rng(seed=0):
    return th.shared(np.random.RandomState(seed))


def test_random_function_node_and_str():
    r = _rng()
    new_r, sample = raw.uniform(r, (2, 3))
    assert new_r.type == random_state_type
    assert sample.type == TensorType("float64", shape=(2, 3))
    assert isinstance(sample.owner.op, RandomFunction)
    assert str(sample.owner.op) == "RandomFunction{uniform}"
    # ops compare by their parameters, so identical draws built twice are the same op
    assert raw.uniform(r, (2, 3))[1].owner.op == sample.owner.op
    assert hash(raw.uniform(r, (2, 3))[1].owner.op) == hash(sample.owner.op)


def test_perform_never_mutates_its_input_generator():
    r = _rng(4)
    before = copy.deepcopy(r.get_value(borrow=True))
    new_r, sample = raw.normal(r, (5,))
    f = th.function([], [new_r, sample])
    got_r, got = f()
    assert random_state_type.values_eq(r.get_value(borrow=True), before)
    assert got_r is not r.get_value(borrow=True)
    expected = np.random.RandomState(4).normal(0.0, 1.0, (5,))
    np.testing.assert_array_equal(got, expected)
    assert got.dtype == np.float64
    # the returned generator is the advanced copy: it continues the stream
    follow = np.random.RandomState(4)
    follow.normal(0.0, 1.0, (5,))
    np.testing.assert_array_equal(got_r.uniform(size=3), follow.uniform(size=3))
    # without an update the function repeats itself
    np.testing.assert_array_equal(f()[1], expected)


def test_update_advances_the_generator():
    r = _rng(4)
    new_r, sample = raw.uniform(r, (3,))
    f = th.function([], sample, updates=[(r, new_r)])
    ref = np.random.RandomState(4)
    for _ in range(3):
        np.testing.assert_array_equal(f(), ref.uniform(0.0, 1.0, (3,)))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_uniform_dtype_and_params_broadcast(dtype):
    r = _rng(1)
    low = T.dvector("low")
    _, s = raw.uniform(r, (2, 3), low=low, high=10.0, dtype=dtype)
    assert s.dtype == dtype and s.type.shape == (2, 3)
    f = th.function([low], s)
    lo = np.array([0.0, 5.0, 9.0])
    out = f(lo)
    assert out.dtype == dtype and out.shape == (2, 3)
    expected = np.random.RandomState(1).uniform(lo, 10.0, (2, 3)).astype(dtype)
    np.testing.assert_array_equal(out, expected)
    assert (out >= lo).all() and (out <= 10.0).all()


def test_size_none_takes_the_shape_of_the_parameters():
    r = _rng(2)
    avg = T.dmatrix("avg")
    _, s = raw.normal(r, avg=avg, std=1e-9)
    assert s.ndim == 2 and s.type.shape == (None, None)
    a = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(th.function([avg], s)(a), a, atol=1e-6)


def test_size_scalar_default_is_a_scalar():
    _, s = raw.uniform(_rng(3))
    assert s.ndim == 0
    v = s.eval()
    assert isinstance(v, np.ndarray) and v.shape == () and v.dtype == np.float64


def test_symbolic_sizes():
    r = _rng(5)
    n = T.iscalar("n")
    _, s = raw.uniform(r, (n, 3))
    assert s.type.shape == (None, 3)
    f = th.function([n], s)
    assert f(4).shape == (4, 3)
    size = T.lvector("size")
    _, s2 = raw.normal(r, size, ndim=2)
    assert th.function([size], s2)([2, 5]).shape == (2, 5)


def test_minus_one_size_borrows_a_parameter_dimension():
    r = _rng(5)
    p = T.dvector("p")
    _, s = raw.binomial(r, (4, -1), n=1, p=p)
    assert s.ndim == 2
    out = th.function([p], s)(np.array([0.0, 1.0, 0.0]))
    np.testing.assert_array_equal(out, np.tile([0, 1, 0], (4, 1)))


def test_binomial_poisson_integers_dtypes():
    r = _rng(6)
    _, b = raw.binomial(r, (1000,), n=10, p=0.3, dtype="int32")
    _, p = raw.poisson(r, (1000,), lam=4.0)
    _, i = raw.random_integers(r, (1000,), low=-2, high=2, dtype="int16")
    vb, vp, vi = th.function([], [b, p, i])()
    assert vb.dtype == np.int32 and vp.dtype == np.int64 and vi.dtype == np.int16
    assert vb.min() >= 0 and vb.max() <= 10 and abs(vb.mean() - 3.0) < 0.3
    assert abs(vp.mean() - 4.0) < 0.4
    assert set(np.unique(vi)) == {-2, -1, 0, 1, 2}


def test_random_integers_with_broadcast_bounds():
    r = _rng(7)
    _, s = raw.random_integers(r, low=[0, 10], high=[[2, 20], [4, 40]])
    out = s.eval()
    assert out.shape == (2, 2)
    assert (out[:, 0] >= 0).all() and (out[:, 1] >= 10).all()
    assert (out <= np.array([[2, 20], [4, 40]])).all()


def test_choice_and_permutation_and_multinomial():
    r = _rng(8)
    _, c = raw.choice(r, (2, 3), a=10, replace=False)
    _, pm = raw.permutation(r, (3,), n=6)
    _, mn = raw.multinomial(r, (4,), n=7, pvals=[0.2, 0.3, 0.5])
    vc, vp, vm = th.function([], [c, pm, mn])()
    assert vc.shape == (2, 3) and len(set(vc.ravel())) == 6 and vc.min() >= 0 and vc.max() < 10
    assert vp.shape == (3, 6)
    for row in vp:
        np.testing.assert_array_equal(np.sort(row), np.arange(6))
    assert vm.shape == (4, 3) and vm.dtype == np.int64
    np.testing.assert_array_equal(vm.sum(axis=1), [7, 7, 7, 7])


def test_choice_with_probabilities():
    r = _rng(9)
    _, c = raw.choice(r, (2000,), a=[3, 5, 9], p=[0.1, 0.2, 0.7])
    v = c.eval()
    assert set(np.unique(v)) <= {3, 5, 9}
    assert abs((v == 9).mean() - 0.7) < 0.05


def test_gradient_through_a_draw_is_undefined():
    x = T.dscalar("x")
    _, s = raw.uniform(_rng(), (3,), low=x, high=x + 1)
    with pytest.raises(NullTypeGradError, match="No gradient defined through raw random numbers op"):
        T.grad(s.sum(), x)


def test_build_time_errors():
    r = _rng()
    with pytest.raises(ValueError, match="ndim"):
        raw.uniform(r, (2, 3), ndim=3)
    with pytest.raises(ValueError, match="more than the 1"):
        raw.uniform(r, (2,), low=T.dmatrix())
    with pytest.raises(TypeError, match="integer scalar"):
        raw.uniform(r, (2, T.dscalar("s")))
    with pytest.raises(ValueError, match="size entry 0"):
        raw.uniform(r, (-3, 2))
    with pytest.raises(TypeError, match="RandomStateType"):
        raw.uniform(T.dvector("not_rng"), (2,))
    with pytest.raises(ValueError, match="no parameter"):
        raw.uniform(r, (-1, 2))


def test_run_time_error_names_the_mismatch():
    r = _rng()
    p = T.dvector("p")
    _, s = raw.binomial(r, (3,), n=1, p=p)
    f = th.function([p], s)
    with pytest.raises(ValueError, match="shape mismatch|cannot be broadcast|built at"):
        f(np.array([0.5, 0.5]))


# ------------------------------------------------------------------------------------------------------
# permute_row_elements


@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 4)])
def test_permute_row_elements_matches_numpy(shape):
    rng = np.random.default_rng(0)
    x = T.tensor("float64", shape=(None,) * len(shape))
    y = T.tensor("int64", shape=(None,) * len(shape))
    xv = rng.normal(size=shape)
    yv = np.argsort(rng.random(shape), axis=-1)
    f = th.function([x, y], [permute_row_elements(x, y), permute_row_elements(x, y, inverse=True)])
    out, inv = f(xv, yv)
    np.testing.assert_array_equal(out, np.take_along_axis(xv, yv, axis=-1))
    np.testing.assert_array_equal(np.take_along_axis(inv, yv, axis=-1), xv)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(permute_row_elements(x, y).eval({x: xv, y: yv}), out)


def test_permute_row_elements_broadcasts_a_vector_over_permutations():
    x = T.dvector("x")
    y = T.lmatrix("y")
    out = th.function([x, y], permute_row_elements(x, y))(np.array([10.0, 20.0, 30.0]),
                                                          np.array([[2, 1, 0], [0, 2, 1]]))
    np.testing.assert_array_equal(out, [[30.0, 20.0, 10.0], [10.0, 30.0, 20.0]])


def test_permute_row_elements_grad():
    rng = np.random.default_rng(1)
    yv = np.argsort(rng.random((3, 4)), axis=-1)
    verify_grad(lambda x: permute_row_elements(x, T.constant(yv)), [rng.normal(size=(3, 4))],
                rng=np.random.default_rng(0))
    verify_grad(lambda x: permute_row_elements(x, T.constant(yv), inverse=True), [rng.normal(size=(3, 4))],
                rng=np.random.default_rng(0))
    # a vector permuted by a matrix of permutations: the gradient sums over the rows
    verify_grad(lambda x: permute_row_elements(x, T.constant(yv)), [rng.normal(size=(4,))],
                rng=np.random.default_rng(0))


def test_permute_row_elements_errors():
    x = T.dmatrix("x")
    with pytest.raises(TypeError, match="must be integers"):
        permute_row_elements(x, T.dmatrix("y"))
    f = th.function([x], permute_row_elements(x, T.constant(np.array([[0, 0, 1]]))))
    with pytest.raises(ValueError, match="not a permutation"):
        f(np.ones((1, 3)))
    with pytest.raises(ValueError, match="permutations of length"):
        f(np.ones((1, 4)))
