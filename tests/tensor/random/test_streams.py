"""RandomStreams (theano.tensor.shared_randomstreams): streams, seeding, updates, distributions."""
import pickle

import numpy as np
import pytest

import arignote as th
import arignote.tensor as T
import theano
from arignote.tensor.random import RandomStateSharedVariable, RandomStreams


def test_import_paths():
    from theano.tensor.shared_randomstreams import RandomStreams as R1
    from arignote.tensor.shared_randomstreams import RandomStreams as R2
    from arignote.tensor.random import RandomStreams as R3
    assert R1 is R2 is R3 is RandomStreams


# --- equality with Theano 1.0.5 ----------------------------------------------------------------------------
def test_same_numbers_as_theano_uniform():
    srng = RandomStreams(seed=234)
    f = th.function([], srng.uniform((2, 2)))
    # these numbers come from Theano 1.0.5 (RandomStreams(seed=234), two calls of f)
    np.testing.assert_array_equal(f(), [[0.12672381400898758, 0.9709159656786431],
                                        [0.13989097862581312, 0.887548254199325]])
    np.testing.assert_array_equal(f(), [[0.3197141503373775, 0.47584376667160355],
                                        [0.24129163169315337, 0.4204608139408894]])


def test_same_numbers_as_theano_all_distributions():
    s = RandomStreams(seed=42)
    outs = [s.binomial((3, 4), n=5, p=0.3), s.random_integers((2, 5), low=-3, high=7),
            s.choice((2, 3), a=10, replace=False), s.permutation((2,), n=5),
            s.multinomial((2,), n=10, pvals=[0.2, 0.3, 0.5]), s.poisson((5,), lam=3.0),
            s.uniform((3,), low=[0., 1., 2.], high=5.), s.normal(avg=[1., 2.], std=[1., 3.]),
            s.choice((4,), a=[3, 5, 9], p=[.1, .2, .7]), s.random_integers(low=[0, 10], high=[[2, 20], [4, 40]]),
            s.multinomial(n=[3, 5], pvals=[[0.5, 0.5], [0.1, 0.9]]), s.uniform((2, 2), dtype='float32'),
            s.binomial((5,), p=[0.1, 0.2, 0.3, 0.4, 0.9])]
    h = th.function([], outs)
    # every expected value below was printed by Theano 1.0.5 for the same graph and seed
    expected = [
        [[1, 2, 0, 0], [3, 1, 2, 1], [0, 2, 1, 3]],
        [[5, -2, 3, 3, 0], [7, 1, 5, 5, -3]],
        [[1, 3, 7], [4, 8, 6]],
        [[3, 4, 2, 1, 0], [0, 3, 2, 1, 4]],
        [[3, 1, 6], [2, 4, 4]],
        [0, 3, 5, 0, 5],
        [3.670140089927841, 4.757478950411086, 2.490821535915651],
        [2.318818108179328, 3.6822042714179783],
        [9, 9, 9, 9],
        [[2, 17], [4, 16]],
        [[0, 3], [1, 4]],
        np.asarray([[0.8791359, 0.35848153], [0.4865138, 0.5125597]], dtype="float32"),
        [0, 0, 1, 0, 1],
    ]
    dtypes = ["int64"] * 6 + ["float64"] * 2 + ["int64"] * 3 + ["float32", "int64"]
    got = h()
    for g, e, dt in zip(got, expected, dtypes):
        assert g.dtype == dt
        np.testing.assert_array_equal(g, e)
    # second call (Theano 1.0.5 again)
    second = h()
    np.testing.assert_array_equal(second[0], [[2, 3, 2, 2], [0, 1, 1, 3], [2, 1, 2, 0]])
    np.testing.assert_array_equal(second[4], [[2, 1, 7], [3, 4, 3]])
    np.testing.assert_array_equal(second[10], [[2, 1], [0, 5]])
    # shuffle_row_elements made after these streams (Theano 1.0.5's result)
    x = T.dmatrix()
    out = th.function([x], s.shuffle_row_elements(x))(np.arange(12.).reshape(3, 4))
    np.testing.assert_array_equal(out, [[3., 1., 2., 0.], [6., 5., 4., 7.], [8., 9., 11., 10.]])
    # reseeding every stream (Theano 1.0.5's numbers after s.seed(7))
    s.seed(7)
    after = h()
    np.testing.assert_array_equal(after[0], [[0, 1, 1, 1], [1, 0, 1, 4], [2, 2, 1, 3]])
    np.testing.assert_array_equal(after[1], [[2, -2, 0, 5, 3], [7, 0, -1, -3, -3]])
    np.testing.assert_array_equal(after[2], [[6, 0, 2], [4, 7, 8]])


def test_stream_seeds_follow_theano_scheme():
    # each stream is RandomState(seedgen.randint(2**30)) with seedgen = RandomState(seed)
    srng = RandomStreams(seed=99)
    a, b = srng.uniform((3,)), srng.normal((2,))
    seedgen = np.random.RandomState(99)
    ra = np.random.RandomState(seedgen.randint(2 ** 30))
    rb = np.random.RandomState(seedgen.randint(2 ** 30))
    va, vb = th.function([], [a, b])()
    np.testing.assert_array_equal(va, ra.uniform(0.0, 1.0, (3,)))
    np.testing.assert_array_equal(vb, rb.normal(0.0, 1.0, (2,)))
    assert srng.default_instance_seed == 99


# --- the stream mechanics ------------------------------------------------------------------------------
def test_draw_attributes():
    srng = RandomStreams(seed=1)
    rv = srng.normal((2,))
    assert isinstance(rv.rng, RandomStateSharedVariable)
    assert rv.update[0] is rv.rng
    assert rv.rng.default_update is rv.update[1]
    assert srng.state_updates == [rv.update]
    assert srng.updates() == [rv.update]
    assert srng[rv.rng] is rv.rng.get_value(borrow=True)
    new = np.random.RandomState(5)
    srng[rv.rng] = new
    assert rv.rng.get_value(borrow=True) is new


def test_drawn_once_per_call_and_calls_differ():
    srng = RandomStreams(seed=5)
    rv_u = srng.uniform((3, 4))
    f = th.function([], rv_u + rv_u - 2 * rv_u)
    for _ in range(3):
        np.testing.assert_array_equal(f(), np.zeros((3, 4)))
    g = th.function([], rv_u)
    a, b = g(), g()
    assert not np.array_equal(a, b)
    # two outputs of one call see the same draw
    h = th.function([], [rv_u, rv_u * 2])
    x, y = h()
    np.testing.assert_array_equal(y, 2 * x)


def test_no_default_updates_repeats():
    srng = RandomStreams(seed=5)
    rv = srng.normal((4,))
    f = th.function([], rv, no_default_updates=True)
    np.testing.assert_array_equal(f(), f())
    g = th.function([], rv, no_default_updates=[rv.rng])
    np.testing.assert_array_equal(g(), g())
    h = th.function([], rv)
    assert not np.array_equal(h(), h())


def test_functions_share_a_stream():
    srng = RandomStreams(seed=5)
    rv = srng.uniform((3,))
    f, g = th.function([], rv), th.function([], rv * 1.0)
    ref = th.function([], rv, no_default_updates=True)
    first = ref()
    np.testing.assert_array_equal(f(), first)
    # g continues where f left off
    second = ref()
    np.testing.assert_array_equal(g(), second)


def test_same_seed_reproduces_and_seed_reseeds_all_streams():
    def build(seed):
        s = RandomStreams(seed=seed)
        return s, th.function([], [s.uniform((3,)), s.normal((2, 2)), s.binomial((4,), p=0.5)])

    s1, f1 = build(3)
    s2, f2 = build(3)
    for a, b in zip(f1(), f2()):
        np.testing.assert_array_equal(a, b)
    first = f1()
    later = f1()
    s1.seed(3)
    s1.seed()  # None: back to the instance seed
    again = f1()
    for a, b in zip(f2(), first):
        np.testing.assert_array_equal(a, b)
    assert not all(np.array_equal(a, b) for a, b in zip(first, later))
    s3, f3 = build(3)
    s3.seed(3)
    for a, b in zip(f3(), again):
        np.testing.assert_array_equal(a, b)
    s1.seed(11)
    x = f1()
    s1.seed(11)
    for a, b in zip(f1(), x):
        np.testing.assert_array_equal(a, b)


def test_copy_state_between_graphs():
    a, b = RandomStreams(seed=1), RandomStreams(seed=2)
    fa = th.function([], a.uniform((5,)))
    fb = th.function([], b.uniform((5,)))
    assert not np.array_equal(fa(), fb())
    for (ra, _), (rb, _) in zip(a.state_updates, b.state_updates):
        rb.set_value(ra.get_value())
    np.testing.assert_array_equal(fa(), fb())
    np.testing.assert_array_equal(fa(), fb())


def test_pickled_function_keeps_its_stream_state():
    srng = RandomStreams(seed=8)
    f = th.function([], srng.normal((3,)))
    f()
    g = pickle.loads(pickle.dumps(f))
    # the copy starts where f stood, and then runs on its own generator
    np.testing.assert_array_equal(g(), f())
    np.testing.assert_array_equal(g(), f())
    s2 = pickle.loads(pickle.dumps(srng))
    assert len(s2.state_updates) == 1


def test_updates_can_be_passed_explicitly():
    srng = RandomStreams(seed=8)
    rv = srng.uniform((2,))
    f = th.function([], rv, updates=srng.updates(), no_default_updates=True)
    assert not np.array_equal(f(), f())


# --- shapes and dtypes ----------------------------------------------------------------------------------
def test_static_and_symbolic_sizes():
    srng = RandomStreams(seed=2)
    n = T.iscalar("n")
    a = srng.uniform((n, 3))
    b = srng.normal(T.stack([n, n]), ndim=2)
    c = srng.uniform((2, 1))
    assert a.type.shape == (None, 3) and b.ndim == 2 and c.type.shape == (2, 1)
    va, vb, vc = th.function([n], [a, b, c])(4)
    assert va.shape == (4, 3) and vb.shape == (4, 4) and vc.shape == (2, 1)
    x = T.dmatrix("x")
    d = srng.uniform(x.shape)
    assert th.function([x], d)(np.zeros((2, 7))).shape == (2, 7)


@pytest.mark.parametrize("floatX", ["float32", "float64"])
def test_default_dtypes(floatX):
    with th.change_flags(floatX=floatX):
        srng = RandomStreams(seed=2)
        u, nrm = srng.uniform((3,)), srng.normal((3,))
        u2 = srng.uniform((3,), low=-1, high=1)  # small Python ints do not upcast floatX (as in Theano)
        assert u.dtype == nrm.dtype == u2.dtype == floatX
        assert srng.binomial((2,)).dtype == "int64"
        assert srng.random_integers((2,)).dtype == "int64"
        assert srng.uniform((3,), low=np.float64(0)).dtype == "float64"
        vu, vn = th.function([], [u, nrm])()
        assert vu.dtype == floatX and vn.dtype == floatX


def test_distribution_moments():
    srng = RandomStreams(seed=123)
    n = 200000
    u = srng.uniform((n,), low=-2.0, high=3.0)
    g = srng.normal((n,), avg=1.5, std=2.0)
    b = srng.binomial((n,), n=8, p=0.25)
    ri = srng.random_integers((n,), low=3, high=6)
    po = srng.poisson((n,), lam=2.5)
    it = srng.integers((n,), 4)
    vu, vg, vb, vri, vpo, vit = th.function([], [u, g, b, ri, po, it])()
    assert vu.min() >= -2.0 and vu.max() < 3.0
    assert abs(vu.mean() - 0.5) < 0.02 and abs(vu.var() - 25 / 12) < 0.03
    assert abs(vg.mean() - 1.5) < 0.02 and abs(vg.std() - 2.0) < 0.02
    assert abs(vb.mean() - 2.0) < 0.02 and abs(vb.var() - 1.5) < 0.03 and vb.max() <= 8
    assert set(np.unique(vri)) == {3, 4, 5, 6}  # inclusive high, as Theano
    assert abs(vri.mean() - 4.5) < 0.02
    assert abs(vpo.mean() - 2.5) < 0.02 and abs(vpo.var() - 2.5) < 0.05
    assert set(np.unique(vit)) == {0, 1, 2, 3}  # NumPy-style exclusive high


def test_integers_matches_numpy_randint():
    srng = RandomStreams(seed=4)
    rv = srng.integers((6,), low=2, high=9)
    seed = np.random.RandomState(4).randint(2 ** 30)
    np.testing.assert_array_equal(th.function([], rv)(),
                                  np.random.RandomState(seed).randint(2, 9, size=6))


def test_permutation_multinomial_choice_shuffle():
    srng = RandomStreams(seed=9)
    p = srng.permutation((2, 3), n=4)
    m = srng.multinomial((5,), n=20, pvals=[0.1, 0.9])
    c = srng.choice((3,), a=5, replace=False)
    one = srng.permutation(n=6)
    assert p.type.shape == (2, 3, 4) and m.type.shape == (5, 2) and one.type.shape == (6,)
    vp, vm, vc, vo = th.function([], [p, m, c, one])()
    np.testing.assert_array_equal(np.sort(vp, axis=-1), np.broadcast_to(np.arange(4), (2, 3, 4)))
    np.testing.assert_array_equal(vm.sum(axis=1), [20] * 5)
    assert len(set(vc)) == 3
    np.testing.assert_array_equal(np.sort(vo), np.arange(6))
    x = T.dmatrix("x")
    sh = srng.shuffle_row_elements(x)
    assert sh.permutation.ndim == 2
    xv = np.arange(20.0).reshape(4, 5)
    out = th.function([x], sh)(xv)
    np.testing.assert_array_equal(np.sort(out, axis=1), xv)
    v = T.dvector("v")
    vout = th.function([v], srng.shuffle_row_elements(v))(np.arange(7.0))
    np.testing.assert_array_equal(np.sort(vout), np.arange(7.0))


def test_gen_with_a_custom_op():
    from arignote.tensor.random import basic as raw

    srng = RandomStreams(seed=3)
    rv = srng.gen(raw.uniform, (2,), 5.0, 6.0)
    out = th.function([], rv)()
    assert out.shape == (2,) and (out >= 5).all() and (out < 6).all()
    assert srng.state_updates[-1] == rv.update


def test_gradient_through_streams_is_undefined():
    from arignote.gradient import NullTypeGradError

    srng = RandomStreams(seed=3)
    mu = T.dscalar("mu")
    with pytest.raises(NullTypeGradError):
        T.grad(srng.normal((3,), avg=mu).sum(), mu)
    # a draw that does not depend on the wrt is simply a constant for the gradient
    w = T.dvector("w")
    cost = (w * srng.uniform((3,))).sum()
    g = th.function([w], T.grad(cost, w), no_default_updates=True)
    gv = g(np.ones(3))
    assert gv.shape == (3,) and (gv >= 0).all() and (gv < 1).all()


def test_poisson_requires_lam():
    with pytest.raises(TypeError, match="lam"):
        RandomStreams(1).poisson((2,), lam=None)


def test_theano_shared_random_state_namespace():
    assert theano.tensor.shared_randomstreams.RandomStreams is RandomStreams
