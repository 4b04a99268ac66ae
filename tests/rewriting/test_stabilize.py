"""The stabilize rewrites: each fires where it should, keeps results, stays off where it must,
and makes the extreme cases finite and right (checked against mpmath at 50 digits)."""
import mpmath
import numpy as np
import pytest

import arignote
import arignote.tensor as T
from arignote.compile import Mode
from arignote.rewriting import rewrites
from arignote.rewriting.rules.stabilize import STABILIZE_REWRITES
from arignote.tensor.elemwise import Elemwise
from arignote.tensor.nnet.crossentropy import CrossentropyCategorical1Hot
from arignote.tensor.nnet.softmax_ops import LogSoftmax, SoftmaxGrad

mpmath.mp.dps = 50
NONE = Mode("py", None)
RNG = np.random.default_rng(0)


def compile_(inputs, outputs, exclude=(), fusion=False):
    """Compiled with every rewrite but those in `exclude` (and fusion, so the ops stay visible)."""
    mode = Mode("py", "fast_run").excluding(*exclude, *(() if fusion else ("fusion",)))
    return arignote.function(inputs, outputs, mode=mode)


def fired(f):
    return f.maker.fgraph.rewrite_trace.fired()


def scalar_fns(f):
    return sorted(n.op.scalar_fn.name for n in f.maker.fgraph.apply_nodes
                  if isinstance(n.op, Elemwise) and n.op.out_dtype is None)


def op_types(f):
    return {type(n.op) for n in f.maker.fgraph.apply_nodes}


def check_same(inputs, output, values, rewrite, rtol=1e-6, atol=0.0):
    """`rewrite` fires, and the result equals the unrewritten graph's (value and dtype)."""
    f = compile_(inputs, output)
    ref = arignote.function(inputs, output, mode=NONE)
    assert rewrite in fired(f), fired(f)
    got, want = f(*values), ref(*values)
    for a, b in zip(*(([got], [want]) if isinstance(output, list) is False else (got, want))):
        assert a.dtype == b.dtype
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)
    return f


def mp_array(fn, *arrays):
    """`fn` applied elementwise at 50 digits, rounded to float64."""
    arrays = np.broadcast_arrays(*[np.asarray(a, dtype=np.float64) for a in arrays])
    out = np.empty(arrays[0].shape)
    for i in np.ndindex(out.shape):
        out[i] = float(fn(*[mpmath.mpf(float(a[i])) for a in arrays]))
    return out


def mp_sigmoid(x):
    return 1 / (1 + mpmath.exp(-x))


def mp_log_sigmoid(x):
    """log(sigmoid(x)) as -log(1 + exp(-x)): no 1 - sigmoid to round at 50 digits."""
    return -mpmath.log(1 + mpmath.exp(-x))


def mp_log_softmax(x, axis=-1):
    x = np.moveaxis(np.asarray(x, dtype=np.float64), axis, -1)
    out = np.empty(x.shape)
    for i in np.ndindex(x.shape[:-1]):
        row = [mpmath.mpf(float(v)) for v in x[i]]
        lse = mpmath.log(mpmath.fsum(mpmath.exp(v) for v in row))
        out[i] = [float(v - lse) for v in row]
    return np.moveaxis(out, -1, axis)


def mp_softmax(x, axis=-1):
    x = np.moveaxis(np.asarray(x, dtype=np.float64), axis, -1)
    out = np.empty(x.shape)
    for i in np.ndindex(x.shape[:-1]):
        row = [mpmath.mpf(float(v)) for v in x[i]]
        s = mpmath.fsum(mpmath.exp(v) for v in row)
        out[i] = [float(mpmath.exp(v) / s) for v in row]
    return np.moveaxis(out, -1, axis)


# --- registration ------------------------------------------------------------------------------

def test_every_rewrite_is_registered_in_stabilize_and_fast_run():
    entries = {e.name: e for e in rewrites.entries}
    for name in STABILIZE_REWRITES:
        assert entries[name].phase == "stabilize"
        assert {"stabilize", "fast_run"} <= entries[name].tags
    assert [e.name for e in rewrites.select("fast_compile") if e.name in STABILIZE_REWRITES] == []


# --- log1p, log1mexp, expm1 --------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("build", [lambda x: T.log(1 + x), lambda x: T.log(x + 1), lambda x: T.log(T.add(x, 1.0))])
def test_log1p_fires_and_keeps_values(dtype, build):
    x = T.matrix("x", dtype=dtype)
    v = RNG.uniform(-0.5, 3, (3, 4)).astype(dtype)
    f = check_same([x], build(x), [v], "local_log1p", rtol=1e-5 if dtype == "float32" else 1e-12)
    assert "log1p" in scalar_fns(f) and "log" not in scalar_fns(f)


def test_log1p_of_one_minus_x_and_tiny_values():
    x = T.dvector("x")
    f = check_same([x], T.log(1 - x), [np.array([0.3, -0.5, 0.9])], "local_log1p", rtol=1e-12)
    v = np.array([1e-20, -1e-18, 0.3, -0.5])
    np.testing.assert_allclose(f(v), mp_array(lambda a: mpmath.log(1 - a), v), rtol=1e-14)
    g = compile_([x], T.log(1 + x))
    assert g(np.array([1e-20]))[0] == 1e-20  # the naive form gives 0


def test_log1p_with_several_terms_and_broadcasting():
    x, y = T.dmatrix("x"), T.drow("y")
    vx, vy = RNG.uniform(0, 1, (3, 4)), RNG.uniform(0, 1, (1, 4))
    f = check_same([x, y], T.log(T.add(x, 1, y)), [vx, vy], "local_log1p", rtol=1e-12)
    assert f(vx, vy).shape == (3, 4)


@pytest.mark.parametrize("dtype", ["int8", "int32", "uint8"])
def test_log1p_leaves_integers_alone(dtype):
    x = T.vector("x", dtype=dtype)
    f = compile_([x], T.log(1 + x))
    assert "local_log1p" not in fired(f)
    v = np.array([0, 3, 100], dtype=dtype)
    out = f(v)
    assert out.dtype == ("float32" if dtype in ("int8", "uint8") else "float64")
    np.testing.assert_allclose(out, np.log(1 + v.astype(np.float64)), rtol=1e-6)


def test_log1p_does_not_fire_on_other_constants_or_bigger_broadcasts():
    x = T.drow("x")
    f = compile_([x], T.log(2 + x))
    assert "local_log1p" not in fired(f)
    ones = T.constant(np.ones((3, 4)))
    g = compile_([x], T.log(ones + x))  # the ones give the result its 3 rows: x alone would not
    assert "local_log1p" not in fired(g)
    v = RNG.uniform(0, 1, (1, 4))
    np.testing.assert_allclose(g(v), np.log(1 + np.broadcast_to(v, (3, 4))))


def test_log1mexp_is_stable_on_both_sides_of_minus_log2():
    x = T.dvector("x")
    v = np.array([-1e-12, -1e-5, -0.5, -0.69314, -0.69316, -2.0, -40.0, -700.0])
    f = compile_([x], T.log(1 - T.exp(x)))
    assert "local_log1mexp" in fired(f) and "local_log1p" not in fired(f)
    assert "expm1" in scalar_fns(f) and "switch" in scalar_fns(f)
    np.testing.assert_allclose(f(v), mp_array(lambda a: mpmath.log1p(-mpmath.exp(a)), v), rtol=1e-13)
    ref = arignote.function([x], T.log(1 - T.exp(x)), mode=NONE)
    moderate = RNG.uniform(-3, -0.1, 20)
    np.testing.assert_allclose(f(moderate), ref(moderate), rtol=1e-10)
    with np.errstate(divide="ignore", invalid="ignore"):
        assert f(np.array([0.0]))[0] == -np.inf and np.isnan(f(np.array([1.0]))[0])


def test_log1mexp_float32():
    x = T.fvector("x")
    f = check_same([x], T.log(1 - T.exp(x)), [np.float32([-0.1, -1.0, -5.0])], "local_log1mexp", rtol=1e-5)
    assert f(np.float32([-1e-6]))[0] == pytest.approx(np.log(1e-6), rel=1e-3)


@pytest.mark.parametrize("build", [lambda x: T.exp(x) - 1, lambda x: -1 + T.exp(x), lambda x: T.exp(x) + (-1.0)])
def test_expm1_fires_and_is_exact_near_zero(build):
    x = T.dvector("x")
    f = check_same([x], build(x), [np.array([0.3, 0.5, -2.0])], "local_expm1", rtol=1e-12)
    v = np.array([1e-15, -1e-10, 0.5, -2.0])
    assert "expm1" in scalar_fns(f) and "exp" not in scalar_fns(f)
    np.testing.assert_allclose(f(v), mp_array(lambda a: mpmath.expm1(a), v), rtol=1e-15)


def test_expm1_among_other_terms_and_with_integers():
    x, y = T.dvector("x"), T.dvector("y")
    vx, vy = RNG.uniform(-1, 1, 5), RNG.uniform(-1, 1, 5)
    check_same([x, y], T.add(T.exp(x), y, -1), [vx, vy], "local_expm1", rtol=1e-12)
    i = T.ivector("i")
    f = check_same([i], T.exp(i) - 1, [np.array([0, 1, -3], dtype="int32")], "local_expm1", rtol=1e-12)
    assert f.maker.fgraph.outputs[0].dtype == "float64"


def test_expm1_does_not_fire_on_other_constants():
    x = T.dvector("x")
    assert "local_expm1" not in fired(compile_([x], T.exp(x) - 2))
    assert "local_expm1" not in fired(compile_([x], 1 - T.exp(x)))


def test_log1p_exp_becomes_softplus():
    x = T.dvector("x")
    v = np.array([-3.0, 0.0, 2.0])
    f = check_same([x], T.log(1 + T.exp(x)), [v], "local_log1p_exp", rtol=1e-12)
    assert scalar_fns(f) == ["softplus"]
    np.testing.assert_allclose(f(np.array([1000.0, -1000.0])), [1000.0, float(mpmath.log1p(mpmath.exp(-1000)))])


# --- sigmoid -----------------------------------------------------------------------------------

def test_log_sigmoid_of_minus_1000_is_finite():  # acceptance
    x = T.dscalar("x")
    f = arignote.function([x], T.log(T.nnet.sigmoid(x)))
    assert "local_log_sigmoid" in fired(f)
    out = f(-1000.0)
    assert np.isfinite(out)
    assert out == pytest.approx(float(mpmath.log(mp_sigmoid(mpmath.mpf(-1000)))), rel=1e-15)
    assert out == pytest.approx(-1000.0)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_log_sigmoid_values_and_gradient(dtype):
    x = T.vector("x", dtype=dtype)
    v = np.array([-1000, -60, -3, 0, 2, 40, 1000], dtype=dtype)
    out = T.log(T.nnet.sigmoid(x))
    f = compile_([x], [out, T.grad(out.sum(), x)])
    assert {"local_log_sigmoid", "local_sigmoid_grad_cancel"} <= set(fired(f))
    val, grad = f(v)
    assert val.dtype == grad.dtype == dtype
    rtol = 1e-6 if dtype == "float32" else 1e-14
    np.testing.assert_allclose(val, mp_array(mp_log_sigmoid, v), rtol=rtol)
    np.testing.assert_allclose(grad, mp_array(lambda a: mp_sigmoid(-a), v), rtol=rtol, atol=1e-300)
    moderate = RNG.uniform(-4, 4, 7).astype(dtype)
    ref = arignote.function([x], [out, T.grad(out.sum(), x)], mode=NONE)
    for a, b in zip(f(moderate), ref(moderate)):
        np.testing.assert_allclose(a, b, rtol=1e-5 if dtype == "float32" else 1e-12)


def test_sigmoid_grad_cancel_is_what_makes_the_gradient_finite():
    x = T.dvector("x")
    out = T.log(T.nnet.sigmoid(x)).sum()
    f = compile_([x], T.grad(out, x), exclude=["local_sigmoid_grad_cancel"])
    with np.errstate(all="ignore"):
        assert np.isnan(f(np.array([-1000.0]))[0])


def test_log_sigmoid_of_integers_computes_in_float():
    i = T.bvector("i")
    f = check_same([i], T.log(T.nnet.sigmoid(i)), [np.array([-7, 0, 5], dtype="int8")], "local_log_sigmoid",
                   rtol=1e-5)
    assert f.maker.fgraph.outputs[0].dtype == "float32"
    # -(-128) would wrap around in int8: the rewrite negates the float
    np.testing.assert_allclose(f(np.array([-128, 127], dtype="int8")), [-128.0, 0.0], rtol=1e-6, atol=1e-38)


def test_one_minus_sigmoid():
    x = T.dvector("x")
    v = np.array([-5.0, 0.0, 3.0, 40.0])
    f = check_same([x], 1 - T.nnet.sigmoid(x), [v], "local_1msigmoid", rtol=1e-12, atol=1e-16)
    assert scalar_fns(f) == ["neg", "sigmoid"]
    np.testing.assert_allclose(f(v), mp_array(lambda a: mp_sigmoid(-a), v), rtol=1e-14)


def test_log_one_minus_sigmoid():
    x = T.dvector("x")
    v = np.array([-1000.0, -3.0, 0.0, 5.0, 1000.0])
    want = mp_array(lambda a: mp_log_sigmoid(-a), v)
    f = compile_([x], T.log(1 - T.nnet.sigmoid(x)))
    np.testing.assert_allclose(f(v), want, rtol=1e-14)
    assert scalar_fns(f) == ["neg", "softplus"]
    # also by itself, when 1 - sigmoid is not rewritten first, and as log1p(-sigmoid(x))
    g = compile_([x], T.log(1 - T.nnet.sigmoid(x)), exclude=["local_1msigmoid"])
    assert "local_log1m_sigmoid" in fired(g)
    np.testing.assert_allclose(g(v), want, rtol=1e-14)
    h = compile_([x], T.log1p(-T.nnet.sigmoid(x)))
    assert "local_log1m_sigmoid" in fired(h)
    np.testing.assert_allclose(h(v), want, rtol=1e-14)


@pytest.mark.parametrize("build, sign", [(lambda x: 1 / (1 + T.exp(-x)), 1), (lambda x: T.inv(1 + T.exp(-x)), 1),
                                         (lambda x: 1.0 / (T.exp(-x) + 1), 1), (lambda x: 1 / (1 + T.exp(x)), -1)])
def test_explicit_sigmoid_is_recognised(build, sign):
    x = T.dvector("x")
    v = RNG.uniform(-5, 5, 6)
    f = check_same([x], build(x), [v], "local_exp_to_sigmoid", rtol=1e-12)
    assert "exp" not in scalar_fns(f) and "sigmoid" in scalar_fns(f)
    np.testing.assert_allclose(f(v), 1 / (1 + np.exp(-sign * v)), rtol=1e-12)


def test_explicit_sigmoid_then_log_is_finite():
    x = T.dscalar("x")
    f = compile_([x], T.log(1 / (1 + T.exp(-x))))
    assert {"local_exp_to_sigmoid", "local_log_sigmoid"} <= set(fired(f))
    assert f(-1000.0) == pytest.approx(-1000.0)


def test_explicit_sigmoid_not_matched_with_other_numerators():
    x = T.dvector("x")
    assert "local_exp_to_sigmoid" not in fired(compile_([x], 2 / (1 + T.exp(-x))))
    assert "local_exp_to_sigmoid" not in fired(compile_([x], 1 / (2 + T.exp(-x))))


# --- binary cross-entropy ----------------------------------------------------------------------

def mp_bce(x, t):
    return -(t * mp_log_sigmoid(x) + (1 - t) * mp_log_sigmoid(-x))


def test_binary_crossentropy_of_sigmoid():
    x, t = T.dvector("x"), T.dvector("t")
    cost = T.nnet.binary_crossentropy(T.nnet.sigmoid(x), t)
    moderate = [RNG.uniform(-4, 4, 6), RNG.uniform(0, 1, 6)]
    f = check_same([x, t], cost, moderate, "local_sigmoid_binary_crossentropy", rtol=1e-12)
    assert "log" not in scalar_fns(f)
    v, vt = np.array([-1000.0, -30.0, 0.0, 30.0, 1000.0]), np.array([1.0, 0.3, 0.5, 0.0, 0.0])
    np.testing.assert_allclose(f(v, vt), mp_array(mp_bce, v, vt), rtol=1e-13)
    g = compile_([x, t], T.grad(cost.sum(), x))
    np.testing.assert_allclose(g(v, vt), mp_array(lambda a, b: mp_sigmoid(a) - b, v, vt), rtol=1e-13, atol=1e-300)


def test_binary_crossentropy_of_a_non_sigmoid_is_left_alone():
    p, t = T.dvector("p"), T.dvector("t")
    f = compile_([p, t], T.nnet.binary_crossentropy(p, t))
    assert "local_sigmoid_binary_crossentropy" not in fired(f)
    vp, vt = RNG.uniform(0.1, 0.9, 4), RNG.uniform(0, 1, 4)
    np.testing.assert_allclose(f(vp, vt), -(vt * np.log(vp) + (1 - vt) * np.log(1 - vp)), rtol=1e-12)


# --- softmax, log-softmax, cross-entropy -------------------------------------------------------

@pytest.mark.parametrize("scale", [1e3, 1e4])
def test_softmax_is_stable_for_huge_logits(scale):
    x = T.dmatrix("x")
    v = np.array([[1.0, 0.0, -1.0], [0.5, 0.5, 0.4], [-1.0, 2.0, 0.0]]) * scale
    out = arignote.function([x], T.nnet.softmax(x))(v)
    np.testing.assert_allclose(out, mp_softmax(v), rtol=1e-14, atol=1e-300)


def test_log_softmax_of_huge_logits_value_and_gradient():  # acceptance
    x = T.dmatrix("x")
    w = T.dmatrix("w")
    v = np.array([[1000.0, 0.0, -1000.0], [3.0, 1003.0, 999.0]])
    wv = RNG.uniform(-1, 1, (2, 3))
    ls = T.log(T.nnet.softmax(x))
    f = compile_([x, w], [ls, T.grad((ls * w).sum(), x)])
    assert {"local_log_softmax", "local_log_softmax_grad"} <= set(fired(f))
    assert LogSoftmax in op_types(f) and "log" not in scalar_fns(f) and SoftmaxGrad not in op_types(f)
    val, grad = f(v, wv)
    assert np.all(np.isfinite(val)) and np.all(np.isfinite(grad))
    np.testing.assert_allclose(val, mp_log_softmax(v), rtol=1e-14)
    sm = mp_softmax(v)
    np.testing.assert_allclose(grad, wv - sm * wv.sum(axis=1, keepdims=True), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_log_softmax_keeps_the_axis_and_the_values(axis):
    x = T.tensor3("x", dtype="float32")
    v = RNG.normal(size=(2, 3, 4)).astype("float32")
    out = T.log(T.nnet.softmax(x, axis=axis))
    f = check_same([x], [out, T.grad(out[0].sum(), x)], [v], "local_log_softmax", rtol=1e-5, atol=1e-6)
    (node,) = [n for n in f.maker.fgraph.apply_nodes if isinstance(n.op, LogSoftmax)]
    assert node.op.axis % 3 == axis % 3


@pytest.mark.parametrize("index", ["adv_after", "adv_before", "basic", "rows", "transpose"])
def test_log_softmax_through_indexing(index):
    x, y = T.dmatrix("x"), T.ivector("y")
    p = T.nnet.softmax(x)
    n = T.arange(y.shape[0])
    build = {"adv_after": lambda: T.log(p)[n, y], "adv_before": lambda: T.log(p[n, y]),
             "basic": lambda: T.log(p[1:, 0]), "rows": lambda: T.log(p[y]), "transpose": lambda: T.log(p.T)}
    out = build[index]()
    cost = -out.sum()
    vx, vy = RNG.normal(size=(3, 4)), np.array([0, 2, 1], dtype="int32")
    ins, vals = ([x], [vx]) if index in ("basic", "transpose") else ([x, y], [vx, vy])
    f = check_same(ins, [out, T.grad(cost, x)], vals, "local_log_softmax", rtol=1e-10, atol=1e-12)
    assert "log" not in scalar_fns(f)
    big = vx * 1e3
    val, grad = f(*[big] + vals[1:])
    assert np.all(np.isfinite(val)) and np.all(np.isfinite(grad))
    lsm = mp_log_softmax(big)
    want = {"adv_after": lsm[[0, 1, 2], vy], "adv_before": lsm[[0, 1, 2], vy], "basic": lsm[1:, 0],
            "rows": lsm[vy], "transpose": lsm.T}[index]
    np.testing.assert_allclose(val, want, rtol=1e-13, atol=1e-15)


def test_w4_mlp_cost_has_no_exp_log_round_trip():
    x, y = T.fmatrix("x"), T.ivector("y")
    W = arignote.shared(RNG.normal(0, 0.05, (20, 10)).astype("float32"), "W")
    b = arignote.shared(np.zeros(10, dtype="float32"), "b")
    p = T.nnet.softmax(T.dot(x, W) + b)
    cost = -T.mean(T.log(p)[T.arange(y.shape[0]), y])
    gW, gb = T.grad(cost, [W, b])
    f = compile_([x, y], [cost, gW, gb])
    assert {"local_log_softmax", "local_log_softmax_grad"} <= set(fired(f))
    assert "log" not in scalar_fns(f) and "exp" not in scalar_fns(f)
    assert SoftmaxGrad not in op_types(f) and LogSoftmax in op_types(f)
    vx, vy = RNG.normal(size=(8, 20)).astype("float32"), RNG.integers(0, 10, 8).astype("int32")
    ref = arignote.function([x, y], [cost, gW, gb], mode=NONE)
    for a, b_ in zip(f(vx, vy), ref(vx, vy)):
        np.testing.assert_allclose(a, b_, rtol=2e-4, atol=1e-6)
    W.set_value(W.get_value() * 1e4)  # logits ~1e3
    assert all(np.all(np.isfinite(a)) for a in f(vx, vy))
    timings = dict(f.maker.fgraph.rewrite_timings)
    assert timings["stabilize"] < 0.1


def ce_reference(v, labels):
    lsm = mp_log_softmax(v)
    value = -lsm[np.arange(len(labels)), labels]
    grad = mp_softmax(v)
    grad[np.arange(len(labels)), labels] -= 1
    return value, grad


@pytest.mark.parametrize("form", ["indices", "onehot", "1hot_op"])
def test_crossentropy_of_softmax_with_huge_logits(form):  # acceptance
    x = T.dmatrix("x")
    labels = np.array([2, 0, 1])
    v = np.array([[1000.0, 0.0, -1000.0], [-500.0, 500.0, 0.0], [0.0, 1.0, 2.0]]) * 1.5
    if form == "onehot":
        y = T.dmatrix("y")
        value = np.eye(3)[labels]
        cost = T.nnet.categorical_crossentropy(T.nnet.softmax(x), y)
        rewrite = "local_log_softmax"
    else:
        y = T.ivector("y")
        value = labels.astype("int32")
        fn = T.nnet.categorical_crossentropy if form == "indices" else T.nnet.crossentropy_categorical_1hot
        cost = fn(T.nnet.softmax(x), y)
        rewrite = "local_crossentropy_softmax"
    f = compile_([x, y], [cost, T.grad(cost.sum(), x)])
    assert {rewrite, "local_log_softmax_grad"} <= set(fired(f))
    assert CrossentropyCategorical1Hot not in op_types(f) and "log" not in scalar_fns(f)
    got_v, got_g = f(v, value)
    want_v, want_g = ce_reference(v, labels)
    np.testing.assert_allclose(got_v, want_v, rtol=1e-14)
    np.testing.assert_allclose(got_g, want_g, rtol=1e-12, atol=1e-14)
    moderate = RNG.normal(size=(3, 3))
    ref = arignote.function([x, y], [cost, T.grad(cost.sum(), x)], mode=NONE)
    for a, b in zip(f(moderate, value), ref(moderate, value)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_crossentropy_of_other_distributions_is_left_alone():
    p, y = T.dmatrix("p"), T.ivector("y")
    f = compile_([p, y], T.nnet.categorical_crossentropy(p, y))
    assert "local_crossentropy_softmax" not in fired(f) and CrossentropyCategorical1Hot in op_types(f)
    vp = RNG.uniform(0.1, 1, (2, 3))
    np.testing.assert_allclose(f(vp, np.array([1, 2], dtype="int32")), -np.log(vp[[0, 1], [1, 2]]))


def test_log_of_softmax_grad_not_rewritten_for_other_divisions():
    x, d = T.dmatrix("x"), T.dmatrix("d")
    sm = T.nnet.softmax(x)
    out = T.nnet.softmax_grad(d / (sm + 1), sm)
    f = compile_([x, d], out)
    assert "local_log_softmax_grad" not in fired(f) and SoftmaxGrad in op_types(f)


# --- log-sum-exp -------------------------------------------------------------------------------

def mp_lse(v, axis):
    v = np.asarray(v, dtype=np.float64)
    out = np.apply_along_axis(lambda r: float(mpmath.log(mpmath.fsum(mpmath.exp(mpmath.mpf(float(a))) for a in r))),
                              axis, v)
    return out


@pytest.mark.parametrize("axis, keepdims", [(1, False), (1, True), (0, True), (None, False)])
def test_log_sum_exp(axis, keepdims):
    x = T.dmatrix("x")
    out = T.log(T.sum(T.exp(x), axis=axis, keepdims=keepdims))
    v = RNG.normal(size=(3, 4))
    f = check_same([x], [out, T.grad(out.sum(), x)], [v], "local_log_sum_exp", rtol=1e-12)
    assert "local_log_sum_exp_grad" in fired(f)
    big = v * 1e3
    got, grad = f(big)
    want_grad = mp_softmax(big.reshape(1, -1)).reshape(big.shape) if axis is None else mp_softmax(big, axis)
    np.testing.assert_allclose(grad, want_grad, rtol=1e-12, atol=1e-300)
    flat = big.reshape(1, -1) if axis is None else big
    want = mp_lse(flat, 1 if axis is None else axis)
    if axis is None:
        want = want[0]
    elif keepdims:
        want = np.expand_dims(want, axis)
    assert got.shape == np.shape(want)
    np.testing.assert_allclose(got, want, rtol=1e-14)


def test_log_sum_exp_over_two_axes_and_infinities():
    x = T.dtensor3("x")
    f = compile_([x], T.log(T.exp(x).sum(axis=(0, 2))))
    assert "local_log_sum_exp" in fired(f)
    v = RNG.normal(size=(2, 3, 4)) * 800
    np.testing.assert_allclose(f(v), [float(mpmath.log(mpmath.fsum(mpmath.exp(mpmath.mpf(float(a)))
                                                                     for a in v[:, j].ravel()))) for j in range(3)],
                               rtol=1e-14)
    w = np.full((2, 3, 4), -np.inf)
    w[0, 1, 0] = np.inf
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(f(w), [-np.inf, np.inf, -np.inf])


def test_stable_log_sum_exp_forms_are_not_rewritten_again():
    o = T.fvector("o")
    lp = o - T.log(T.sum(T.exp(o - T.max(o)))) - T.max(o)  # W5's hand-written form
    f = compile_([o], [lp, T.grad(lp[2], o)])
    assert "local_log_sum_exp" not in fired(f)
    v = (RNG.normal(size=5) * 1e3).astype("float32")
    ref = arignote.function([o], [lp, T.grad(lp[2], o)], mode=NONE)
    for a, b in zip(f(v), ref(v)):
        assert np.all(np.isfinite(a))
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    x = T.dmatrix("x")
    g = compile_([x], T.logsumexp(x, axis=1))
    assert "local_log_sum_exp" not in fired(g)
    # the rewrite's own output is stable: it fires once, not again on what it built
    h = compile_([x], T.log(T.exp(x).sum(axis=1)))
    assert fired(h).count("local_log_sum_exp") == 1


# --- more places where nothing may fire --------------------------------------------------------

def test_plain_softmax_gradient_is_left_alone():
    x, w = T.dmatrix("x"), T.dmatrix("w")
    out = (T.nnet.softmax(x) * w).sum()
    f = compile_([x, w], T.grad(out, x))
    assert "local_log_softmax_grad" not in fired(f) and SoftmaxGrad in op_types(f)
    vx, vw = RNG.normal(size=(2, 3)), RNG.normal(size=(2, 3))
    ref = arignote.function([x, w], T.grad(out, x), mode=NONE)
    np.testing.assert_allclose(f(vx, vw), ref(vx, vw), rtol=1e-12)


def test_sigmoid_gradients_without_a_division_are_left_alone():
    x, y, w = T.dvector("x"), T.dvector("y"), T.dvector("w")
    s = T.nnet.sigmoid(x)
    f = compile_([x, w], T.grad((s * w).sum(), x))
    assert "local_sigmoid_grad_cancel" not in fired(f)
    other = T.grad((T.log(T.nnet.sigmoid(y)) * s).sum(), x)  # the division is by sigmoid(y), not sigmoid(x)
    g = compile_([x, y], other)
    assert "local_sigmoid_grad_cancel" not in fired(g)
    vx, vy, vw = RNG.normal(size=4), RNG.normal(size=4), RNG.normal(size=4)
    sx = 1 / (1 + np.exp(-vx))
    np.testing.assert_allclose(f(vx, vw), vw * sx * (1 - sx), rtol=1e-12)
    np.testing.assert_allclose(g(vx, vy), -np.log1p(np.exp(-vy)) * sx * (1 - sx), rtol=1e-12)


def test_one_minus_sigmoid_not_rewritten_where_it_would_change_shape_or_dtype():
    x = T.drow("x")
    ones = T.constant(np.ones((3, 4)))
    f = compile_([x], ones - T.nnet.sigmoid(x))
    assert "local_1msigmoid" not in fired(f)
    v = RNG.normal(size=(1, 4))
    np.testing.assert_allclose(f(v), np.broadcast_to(1 - 1 / (1 + np.exp(-v)), (3, 4)), rtol=1e-12)
    y = T.fvector("y")
    g = compile_([y], np.float64(1) - T.nnet.sigmoid(y))  # a float64 result of a float32 sigmoid
    out = g(np.float32([0.5, -2.0]))
    assert out.dtype == "float64"
    np.testing.assert_allclose(out, 1 - 1 / (1 + np.exp(-np.float32([0.5, -2.0]).astype(np.float64))), rtol=1e-6)


def test_log_sum_exp_left_alone_for_other_forms():
    x = T.fmatrix("x")
    for out in (T.log(T.sum(T.exp(x), axis=1) + 1), T.log(T.sum(x, axis=1)),
                T.log(T.sum(T.exp(x), axis=1, dtype="float64"))):
        f = compile_([x], out)
        assert "local_log_sum_exp" not in fired(f)
        ref = arignote.function([x], out, mode=NONE)
        v = RNG.uniform(0.5, 2, (2, 3)).astype("float32")
        np.testing.assert_allclose(f(v), ref(v), rtol=1e-5)


def test_acceptance_cases_in_the_default_mode():
    """The same graphs through function()'s default mode (fusion included)."""
    x, y = T.dmatrix("x"), T.ivector("y")
    cost = T.nnet.categorical_crossentropy(T.nnet.softmax(x), y)
    ls = T.log(T.nnet.softmax(x))
    f = arignote.function([x, y], [cost, T.grad(cost.sum(), x), ls, T.grad(ls[:, 0].sum(), x)])
    v = np.array([[1000.0, 0.0, -1000.0], [-500.0, 500.0, 0.0]])
    labels = np.array([2, 0])
    got = f(v, labels.astype("int32"))
    want_v, want_g = ce_reference(v, labels)
    np.testing.assert_allclose(got[0], want_v, rtol=1e-14)
    np.testing.assert_allclose(got[1], want_g, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(got[2], mp_log_softmax(v), rtol=1e-14)
    sm = mp_softmax(v)
    np.testing.assert_allclose(got[3], np.eye(3)[[0, 0]] - sm, rtol=1e-12, atol=1e-14)
