"""softmax, log_softmax, softmax_grad and softmax_graph of theano.tensor.nnet."""
import warnings

import numpy as np
import pytest
import scipy.special as sp

import theano
import theano.tensor as T
from arignote.gradient import verify_grad
from arignote.graph.basic import io_toposort
from arignote.tensor.nnet import LogSoftmax, Softmax, SoftmaxGrad

RNG = np.random.default_rng(3)


def sym(value, name="x"):
    return T.TensorType(value.dtype, shape=(None,) * value.ndim)(name)


def tol(dtype):
    return dict(rtol=1e-5, atol=1e-6) if dtype == "float32" else dict(rtol=1e-12, atol=1e-14)


SHAPE_AXIS = [((3, 4), -1), ((3, 4), 0), ((5, 2), 1), ((2, 3, 4), -1), ((2, 3, 4), 1), ((2, 3, 4), 0)]


@pytest.mark.parametrize("shape,axis", SHAPE_AXIS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_softmax_matches_scipy(shape, axis, dtype):
    a = (RNG.standard_normal(shape) * 3).astype(dtype)
    x = sym(a)
    out = T.nnet.softmax(x, axis=axis)
    assert isinstance(out.owner.op, Softmax)
    assert out.dtype == dtype
    got = theano.function([x], out)(a)
    assert got.dtype == dtype and got.shape == shape
    np.testing.assert_allclose(got, sp.softmax(a.astype(np.float64), axis=axis), **tol(dtype))
    np.testing.assert_allclose(got.sum(axis=axis), 1.0, **tol(dtype))
    np.testing.assert_array_equal(out.eval({x: a}), got)


@pytest.mark.parametrize("shape,axis", SHAPE_AXIS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_log_softmax_matches_scipy(shape, axis, dtype):
    a = (RNG.standard_normal(shape) * 3).astype(dtype)
    x = sym(a)
    out = T.nnet.log_softmax(x, axis=axis)
    assert isinstance(out.owner.op, LogSoftmax)
    assert out.dtype == dtype
    got = theano.function([x], out)(a)
    assert got.dtype == dtype
    np.testing.assert_allclose(got, sp.log_softmax(a.astype(np.float64), axis=axis), **tol(dtype))
    np.testing.assert_array_equal(out.eval({x: a}), got)


def test_tutorial_softmax_rows():
    a = theano.shared(np.array([[1.0, 2.0], [3.0, 4.0]]))
    got = T.nnet.softmax(a).eval()
    for row, value in zip(got, [[1.0, 2.0], [3.0, 4.0]]):
        e = np.exp(value)
        np.testing.assert_allclose(row, e / e.sum())


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_softmax_and_log_softmax_are_stable(dtype):
    a = np.array([[1000.0, 0.0, -1000.0], [-1e4, -1e4, -1e4], [88.0, 89.0, 90.0]], dtype=dtype)
    x = T.TensorType(dtype, shape=(None, None))("x")
    sm = T.nnet.softmax(x).eval({x: a})
    lsm = T.nnet.log_softmax(x).eval({x: a})
    assert np.all(np.isfinite(sm)) and np.all(np.isfinite(lsm))
    np.testing.assert_allclose(sm, sp.softmax(a.astype(np.float64), axis=1), **tol(dtype))
    np.testing.assert_allclose(lsm, sp.log_softmax(a.astype(np.float64), axis=1), rtol=1e-6, atol=1e-4)
    assert lsm[0, 2] == pytest.approx(-2000.0)
    g = T.grad((T.nnet.log_softmax(x) * np.array([0.0, 0.0, 1.0], dtype=dtype)).sum(), x).eval({x: a})
    assert np.all(np.isfinite(g))
    np.testing.assert_allclose(g, np.array([0.0, 0.0, 1.0]) - sp.softmax(a.astype(np.float64), axis=1),
                               **tol(dtype))


def test_vector_input_gives_a_row_like_theano():
    v = T.dvector("v")
    a = np.array([1.0, 2.0, 3.0])
    for fn, ref in ((T.nnet.softmax, sp.softmax), (T.nnet.log_softmax, sp.log_softmax)):
        out = fn(v)
        assert out.ndim == 2 and out.broadcastable == (True, False)
        got = out.eval({v: a})
        assert got.shape == (1, 3)
        np.testing.assert_allclose(got[0], ref(a))
    # axis 0 of a vector is its only axis
    np.testing.assert_allclose(T.nnet.softmax(v, axis=0).eval({v: a})[0], sp.softmax(a))
    # the op applied directly pads too
    np.testing.assert_allclose(T.nnet.softmax_op(v).eval({v: a}), [sp.softmax(a)])
    verify_grad(T.nnet.softmax, [a], rng=np.random.default_rng(0))


def test_list_holding_one_vector():
    v = T.dvector("v")
    a = np.array([0.5, -1.0, 2.0, 0.0])
    out = T.nnet.softmax([v])
    assert out.ndim == 2
    np.testing.assert_allclose(out.eval({v: a}), [sp.softmax(a)])


def test_softmax_of_integers_is_float():
    x = T.imatrix("x")
    out = T.nnet.softmax(x)
    assert out.dtype == "float64"
    a = np.array([[1, 2, 3]], dtype="int32")
    np.testing.assert_allclose(out.eval({x: a}), sp.softmax(a.astype(float), axis=1))


@pytest.mark.parametrize("shape,axis", SHAPE_AXIS)
def test_softmax_grad_verified(shape, axis):
    a = RNG.standard_normal(shape)
    verify_grad(lambda x: T.nnet.softmax(x, axis=axis), [a], rng=np.random.default_rng(0))
    verify_grad(lambda x: T.nnet.log_softmax(x, axis=axis), [a], rng=np.random.default_rng(0))


def test_softmax_gradient_graph_has_no_log():
    x = T.dmatrix("x")
    g = T.grad((T.nnet.softmax(x) * T.constant(RNG.standard_normal((1, 4)))).sum(), x)
    ops = [node.op for node in io_toposort([x], [g])]
    assert any(isinstance(op, SoftmaxGrad) for op in ops)
    assert not any("log" in str(op).lower() for op in ops)


def test_second_derivatives():
    def g_softmax(x):
        return T.grad((T.nnet.softmax(x) ** 2).sum(), x)

    def g_log_softmax(x):
        return T.grad((T.nnet.log_softmax(x) * T.constant(np.arange(12.0).reshape(3, 4))).sum(), x)

    a = RNG.standard_normal((3, 4))
    verify_grad(g_softmax, [a], rng=np.random.default_rng(0))
    verify_grad(g_log_softmax, [a], rng=np.random.default_rng(0))


def test_softmax_grad_function_and_op():
    dy, sm = T.dmatrices("dy", "sm")
    a = sp.softmax(RNG.standard_normal((3, 4)), axis=1)
    d = RNG.standard_normal((3, 4))
    got = T.nnet.softmax_grad(dy, sm).eval({dy: d, sm: a})
    np.testing.assert_allclose(got, (d - (d * a).sum(axis=1, keepdims=True)) * a)
    verify_grad(lambda p, q: SoftmaxGrad(-1)(p, q), [d, a], rng=np.random.default_rng(0))


def test_rop_of_softmax_and_log_softmax():
    x, v = T.dmatrices("x", "v")
    a, e = RNG.standard_normal((3, 4)), RNG.standard_normal((3, 4))
    sm = sp.softmax(a, axis=1)
    expected = sm * (e - (sm * e).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(T.Rop(T.nnet.softmax(x), x, v).eval({x: a, v: e}), expected, rtol=1e-10)
    node = T.nnet.softmax(x).owner
    (direct,) = node.op.R_op(node.inputs, [v])
    np.testing.assert_allclose(direct.eval({x: a, v: e}), expected, rtol=1e-10)
    node = T.nnet.log_softmax(x).owner
    (direct,) = node.op.R_op(node.inputs, [v])
    np.testing.assert_allclose(direct.eval({x: a, v: e}), e - (sm * e).sum(axis=1, keepdims=True), rtol=1e-10)


def test_softmax_graph_and_with_bias():
    x, b = T.dmatrix("x"), T.dvector("b")
    a, c = RNG.standard_normal((3, 4)), RNG.standard_normal(4)
    np.testing.assert_allclose(T.nnet.softmax_graph(x).eval({x: a}), sp.softmax(a, axis=1))
    np.testing.assert_allclose(T.nnet.softmax_with_bias(x, b).eval({x: a, b: c}), sp.softmax(a + c, axis=1))


def test_errors():
    x = T.dmatrix("x")
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        T.nnet.softmax(x, axis=2)
    with pytest.raises(TypeError, match="scalar"):
        T.nnet.softmax(T.dscalar("s"))
    with pytest.raises(TypeError, match="complex"):
        T.nnet.log_softmax(T.zmatrix("z"))
    with pytest.raises(ValueError, match="out of range for the vector"):
        T.nnet.softmax(T.dvector("v"), axis=1)


def test_length_one_axis_warns():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        T.nnet.softmax(T.dcol("c"))
    assert any("length 1" in str(w.message) for w in caught)


def test_infer_shape():
    x = T.dmatrix("x")
    node = T.nnet.softmax(x).owner
    assert [tuple(s) for s in node.op.infer_shape(None, node, [(3, 4)])] == [(3, 4)]
