"""Cross-entropies and confusion_matrix of theano.tensor.nnet."""
import numpy as np
import pytest
import scipy.special as sp

import theano
import theano.tensor as T
from arignote.gradient import verify_grad
from arignote.tensor.nnet import CrossentropyCategorical1Hot, PickColumns, PutColumns

RNG = np.random.default_rng(5)


def probs(shape, dtype="float64"):
    return sp.softmax(RNG.standard_normal(shape), axis=-1).astype(dtype)


def tol(dtype):
    return dict(rtol=1e-5, atol=1e-6) if dtype == "float32" else dict(rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("rows,classes", [(4, 3), (1, 5), (6, 2)])
def test_categorical_crossentropy_with_indices(dtype, rows, classes):
    p = probs((rows, classes), dtype)
    t = RNG.integers(0, classes, size=rows)
    c = T.TensorType(dtype, shape=(None, None))("c")
    idx = T.lvector("idx")
    out = T.nnet.categorical_crossentropy(c, idx)
    assert isinstance(out.owner.op, CrossentropyCategorical1Hot)
    assert out.dtype == dtype and out.ndim == 1
    got = theano.function([c, idx], out)(p, t)
    assert got.dtype == dtype
    np.testing.assert_allclose(got, -np.log(p.astype(np.float64)[np.arange(rows), t]), **tol(dtype))
    np.testing.assert_array_equal(out.eval({c: p, idx: t}), got)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_categorical_crossentropy_with_one_hot_and_probabilities(dtype):
    p = probs((5, 4), dtype)
    t = RNG.integers(0, 4, size=5)
    one_hot = np.eye(4, dtype=dtype)[t]
    soft = probs((5, 4), dtype)
    c = T.TensorType(dtype, shape=(None, None))("c")
    y = T.TensorType(dtype, shape=(None, None))("y")
    out = T.nnet.categorical_crossentropy(c, y)
    assert out.dtype == dtype
    f = theano.function([c, y], out)
    p64 = p.astype(np.float64)
    np.testing.assert_allclose(f(p, one_hot), -np.log(p64[np.arange(5), t]), **tol(dtype))
    np.testing.assert_allclose(f(p, soft), -(soft * np.log(p64)).sum(axis=1), **tol(dtype))
    # an integer one-hot matrix computes in the coding distribution's dtype
    yi = T.imatrix("yi")
    out_i = T.nnet.categorical_crossentropy(c, yi)
    assert out_i.dtype == dtype
    np.testing.assert_allclose(out_i.eval({c: p, yi: one_hot.astype("int32")}), -np.log(p64[np.arange(5), t]),
                               **tol(dtype))


def test_categorical_crossentropy_grads_wrt_coding_dist():
    p = probs((4, 3)) + 0.1
    t = np.array([0, 2, 1, 2])
    verify_grad(lambda c: T.nnet.categorical_crossentropy(c, T.constant(t)), [p], rng=np.random.default_rng(0))
    verify_grad(lambda c: T.nnet.categorical_crossentropy(c, T.constant(np.eye(3)[t])), [p],
                rng=np.random.default_rng(0))
    verify_grad(lambda c: T.nnet.crossentropy_categorical_1hot(c, T.constant(t)), [p],
                rng=np.random.default_rng(0))
    # through a softmax, and twice (the gradient ops are differentiable)
    x = RNG.standard_normal((4, 3))
    verify_grad(lambda z: T.nnet.categorical_crossentropy(T.nnet.softmax(z), T.constant(t)), [x],
                rng=np.random.default_rng(0))
    verify_grad(lambda z: T.grad(T.nnet.categorical_crossentropy(T.nnet.softmax(z), T.constant(t)).sum(), z),
                [x], rng=np.random.default_rng(0))


def test_crossentropy_1hot_gradient_value():
    c, idx = T.dmatrix("c"), T.lvector("idx")
    p, t = probs((3, 4)), np.array([3, 0, 1])
    g = T.grad(T.nnet.crossentropy_categorical_1hot(c, idx).sum(), c).eval({c: p, idx: t})
    expected = np.zeros_like(p)
    expected[np.arange(3), t] = -1 / p[np.arange(3), t]
    np.testing.assert_allclose(g, expected)


def test_crossentropy_errors():
    c = T.dmatrix("c")
    with pytest.raises(TypeError, match="rank mismatch"):
        T.nnet.categorical_crossentropy(c, T.dtensor3("y"))
    with pytest.raises(TypeError, match="integer vector"):
        T.nnet.crossentropy_categorical_1hot(c, T.dvector("y"))
    with pytest.raises(TypeError, match="float matrix"):
        T.nnet.crossentropy_categorical_1hot(T.dvector("v"), T.lvector("y"))
    a = T.TensorType("float64", shape=(3, 4))("a")
    b = T.TensorType("int64", shape=(5,))("b")
    with pytest.raises(ValueError, match="3 rows.*5 indices"):
        T.nnet.categorical_crossentropy(a, b)
    idx = T.lvector("idx")
    f = theano.function([c, idx], T.nnet.categorical_crossentropy(c, idx))
    with pytest.raises(ValueError, match="class index 4 .* out of range for 4 classes"):
        f(probs((2, 4)), np.array([0, 4]))
    with pytest.raises(ValueError, match="class index -1"):
        f(probs((2, 4)), np.array([-1, 0]))
    with pytest.raises(ValueError, match="2 rows"):
        f(probs((2, 4)), np.array([0, 1, 2]))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_binary_crossentropy(dtype):
    out_v = RNG.uniform(0.05, 0.95, size=(3, 4)).astype(dtype)
    tgt = RNG.uniform(0, 1, size=(3, 4)).astype(dtype)
    o = T.TensorType(dtype, shape=(None, None))("o")
    t = T.TensorType(dtype, shape=(None, None))("t")
    res = T.nnet.binary_crossentropy(o, t)
    assert res.dtype == dtype
    got = theano.function([o, t], res)(out_v, tgt)
    o64, t64 = out_v.astype(np.float64), tgt.astype(np.float64)
    np.testing.assert_allclose(got, -(t64 * np.log(o64) + (1 - t64) * np.log(1 - o64)), **tol(dtype))
    verify_grad(lambda p: T.nnet.binary_crossentropy(p, T.constant(tgt.astype(np.float64))),
                [o64], rng=np.random.default_rng(0))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sigmoid_binary_crossentropy_is_stable(dtype):
    logits = np.array([-100.0, -40.0, -3.0, -0.5, 0.0, 0.5, 3.0, 40.0, 100.0], dtype=dtype)
    for target in (0.0, 1.0, 0.3):
        tgt = np.full_like(logits, target)
        x = T.TensorType(dtype, shape=(None,))("x")
        t = T.TensorType(dtype, shape=(None,))("t")
        res = T.nnet.sigmoid_binary_crossentropy(x, t)
        assert res.dtype == dtype
        got = theano.function([x, t], res)(logits, tgt)
        l64 = logits.astype(np.float64)
        expected = -(target * sp.log_expit(l64) + (1 - target) * sp.log_expit(-l64))
        assert np.all(np.isfinite(got))
        np.testing.assert_allclose(got, expected, rtol=1e-5 if dtype == "float32" else 1e-12, atol=1e-40)
        g = T.grad(res.sum(), x).eval({x: logits, t: tgt})
        np.testing.assert_allclose(g, sp.expit(l64) - target, rtol=1e-5, atol=1e-7)


def test_sigmoid_binary_crossentropy_matches_binary_crossentropy_and_grads():
    x = RNG.standard_normal((3, 4)) * 2
    tgt = RNG.uniform(0, 1, size=(3, 4))
    xs, ts = T.dmatrices("x", "t")
    a = T.nnet.sigmoid_binary_crossentropy(xs, ts).eval({xs: x, ts: tgt})
    b = T.nnet.binary_crossentropy(T.nnet.sigmoid(xs), ts).eval({xs: x, ts: tgt})
    np.testing.assert_allclose(a, b, rtol=1e-10)
    verify_grad(T.nnet.sigmoid_binary_crossentropy, [x, tgt], rng=np.random.default_rng(0))


def test_crossentropy_softmax_1hot():
    x, b, idx = T.dmatrix("x"), T.dvector("b"), T.lvector("idx")
    a = RNG.standard_normal((4, 3)) * 3
    a[0, 0] = 1000.0  # stable: a naive -log(softmax) would give inf for the other classes
    bias, t = RNG.standard_normal(3), np.array([1, 0, 2, 2])
    nll, sm = T.nnet.crossentropy_softmax_1hot(x, idx)
    f = theano.function([x, idx], [nll, sm])
    got_nll, got_sm = f(a, t)
    np.testing.assert_allclose(got_sm, sp.softmax(a, axis=1))
    np.testing.assert_allclose(got_nll, -sp.log_softmax(a, axis=1)[np.arange(4), t])
    assert np.isfinite(got_nll[0]) and got_nll[0] == pytest.approx(1000.0 - a[0, 1])
    nll_b, sm_b, am = T.nnet.crossentropy_softmax_argmax_1hot_with_bias(x, b, idx)
    vals = theano.function([x, b, idx], [nll_b, sm_b, am])(a, bias, t)
    np.testing.assert_allclose(vals[0], -sp.log_softmax(a + bias, axis=1)[np.arange(4), t])
    np.testing.assert_allclose(vals[1], sp.softmax(a + bias, axis=1))
    np.testing.assert_array_equal(vals[2], np.argmax(a + bias, axis=1))
    verify_grad(lambda z: T.nnet.crossentropy_softmax_1hot(z, T.constant(t))[0], [RNG.standard_normal((4, 3))],
                rng=np.random.default_rng(0))


def test_pick_and_put_columns():
    c, idx, v = T.dmatrix("c"), T.lvector("idx"), T.dvector("v")
    a, t, w = RNG.standard_normal((3, 4)), np.array([2, 0, 3]), RNG.standard_normal(3)
    np.testing.assert_array_equal(PickColumns()(c, idx).eval({c: a, idx: t}), a[np.arange(3), t])
    put = PutColumns()(v, idx, c).eval({v: w, idx: t, c: a})
    expected = np.zeros((3, 4))
    expected[np.arange(3), t] = w
    np.testing.assert_array_equal(put, expected)
    verify_grad(lambda m: PickColumns()(m, T.constant(t)), [a], rng=np.random.default_rng(0))
    verify_grad(lambda u: PutColumns()(u, T.constant(t), T.constant(a)), [w], rng=np.random.default_rng(0))


def test_confusion_matrix():
    actual, pred = T.lvectors("actual", "pred")
    a = np.array([0, 1, 2, 2, 5, 1, 0])
    p = np.array([0, 2, 2, 1, 5, 1, 3])
    conf, order = T.nnet.confusion_matrix(actual, pred)
    f = theano.function([actual, pred], [conf, order])
    got_conf, got_order = f(a, p)
    classes = np.union1d(a, p)
    expected = np.array([[np.sum((a == i) & (p == j)) for j in classes] for i in classes])
    np.testing.assert_array_equal(got_order, classes)
    np.testing.assert_array_equal(got_conf, expected)
    assert got_conf.dtype == np.int64 and got_conf.sum() == len(a)
    with pytest.raises(ValueError, match="must be a vector"):
        T.nnet.confusion_matrix(T.lmatrix("m"), pred)
