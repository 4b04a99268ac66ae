"""Reductions against NumPy: sum prod mean var std max min argmax argmin any all logsumexp."""
import numpy as np
import pytest
import scipy.special as sp

import theano
import theano.tensor as T
from arignote.gradient import verify_grad


def run(out, ins, vals):
    f = theano.function(list(ins), out, on_unused_input="ignore")
    r = f(*vals)
    assert isinstance(r, np.ndarray), type(r)
    assert r.dtype == out.dtype, (r.dtype, out.dtype)
    np.testing.assert_array_equal(r, out.eval(dict(zip(ins, vals))))
    return r


def values(dtype, shape, seed=0, lo=-3, hi=3):
    rng = np.random.default_rng(seed)
    if dtype == "bool":
        return rng.integers(0, 2, size=shape).astype(bool)
    if np.dtype(dtype).kind in "iu":
        return rng.integers(0 if dtype.startswith("u") else lo, hi + 1, size=shape).astype(dtype)
    return rng.uniform(lo, hi, size=shape).astype(dtype)


def close(got, want, dtype):
    want = np.asarray(want)
    assert got.shape == want.shape, (got.shape, want.shape)
    if np.dtype(dtype).kind == "f":
        tol = 1e-5 if np.dtype(dtype).itemsize <= 4 else 1e-12
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol)
    else:
        np.testing.assert_array_equal(got, want)


AXES = [None, 0, 1, -1, -2, (0, 2), (2, 0), (0, 1, 2), (), (-1, 0)]

# name -> (T function, NumPy reference, expected dtype for an input dtype)
SUM_LIKE = {
    "sum": (T.sum, np.sum),
    "prod": (T.prod, np.prod),
    "max": (T.max, np.max),
    "min": (T.min, np.min),
    "any": (T.any, np.any),
    "all": (T.all, np.all),
    "mean": (T.mean, np.mean),
    "var": (T.var, np.var),
    "std": (T.std, np.std),
}


def want_dtype(name, dtype):
    """NumPy's result dtype for the reduction (mean/var/std of integers: float64)."""
    x = np.zeros((1,), dtype=dtype)
    return np.asarray(SUM_LIKE[name][1](x)).dtype.name


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("name", sorted(SUM_LIKE))
def test_reductions_axes_and_keepdims(name, axis, keepdims):
    fn, ref = SUM_LIKE[name]
    x = T.dtensor3("x")
    val = values("float64", (2, 3, 4), seed=1, lo=0.5, hi=1.5)
    out = fn(x, axis=axis, keepdims=keepdims)
    want = ref(val, axis=axis, keepdims=keepdims)
    assert out.ndim == np.ndim(want)
    close(run(out, [x], [val]), want, "float64")
    # the method form agrees
    meth = getattr(x, name)(axis=axis, keepdims=keepdims)
    close(run(meth, [x], [val]), want, "float64")
    if keepdims:
        axes = range(3) if axis is None else [a % 3 for a in np.atleast_1d(axis)]
        assert all(out.broadcastable[a] for a in axes)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int8", "int32", "int64", "uint8", "bool"])
@pytest.mark.parametrize("name", sorted(SUM_LIKE))
def test_reduction_dtypes(name, dtype):
    fn, ref = SUM_LIKE[name]
    x = T.TensorType(dtype, shape=(None, None))("x")
    val = values(dtype, (3, 4), seed=2, lo=-2, hi=3)
    for axis in (None, 0, 1):
        out = fn(x, axis=axis)
        assert out.dtype == want_dtype(name, dtype), (name, dtype, out.dtype)
        close(run(out, [x], [val]), np.asarray(ref(val, axis=axis)).astype(out.dtype), out.dtype)


def test_sum_prod_accumulate_without_overflow():
    b = T.bvector("b")
    val = np.full(10, 100, dtype="int8")
    np.testing.assert_array_equal(run(T.sum(b), [b], [val]), 1000)
    np.testing.assert_array_equal(run(T.prod(b), [b], [val[:4]]), 100 ** 4)
    u = T.TensorType("uint8", shape=(None,))("u")
    assert T.sum(u).dtype == "uint64"
    np.testing.assert_array_equal(run(T.sum(u), [u], [np.full(4, 200, "uint8")]), 800)


def test_sum_dtype_argument():
    x = T.fmatrix("x")
    val = values("float32", (2, 3))
    out = T.sum(x, axis=0, dtype="float64")
    assert out.dtype == "float64"
    close(run(out, [x], [val]), val.sum(axis=0, dtype="float64"), "float64")
    i = T.ivector("i")
    out = T.sum(i, dtype="int32")
    assert out.dtype == "int32"
    out = T.prod(i, dtype="float32")
    assert out.dtype == "float32"
    np.testing.assert_allclose(run(out, [i], [np.array([2, 3], "int32")]), 6.0)
    # no axis to reduce: still the requested dtype
    s = T.iscalar("s")
    assert T.sum(s).dtype == "int64" and T.sum(s, dtype="int32").dtype == "int32"
    np.testing.assert_array_equal(run(T.sum(s), [s], [np.int32(7)]), 7)


def test_mean_dtypes_and_values():
    x = T.fmatrix("x")
    out = T.mean(x, axis=1)
    assert out.dtype == "float32"
    val = values("float32", (3, 5))
    close(run(out, [x], [val]), val.mean(axis=1), "float32")
    i = T.imatrix("i")
    vi = values("int32", (3, 5))
    assert T.mean(i).dtype == "float64"
    close(run(T.mean(i), [i], [vi]), vi.mean(), "float64")
    close(run(T.mean(i, axis=0), [i], [vi]), vi.mean(axis=0), "float64")
    b = T.TensorType("bool", shape=(None,))("b")
    close(run(T.mean(b), [b], [np.array([True, False, True, True])]), 0.75, "float64")


@pytest.mark.parametrize("ddof", [0, 1])
def test_var_std_ddof_and_corrected(ddof):
    x = T.dmatrix("x")
    val = values("float64", (4, 5), seed=3)
    for axis in (None, 0, 1, (0, 1)):
        close(run(T.var(x, axis=axis, ddof=ddof), [x], [val]), np.var(val, axis=axis, ddof=ddof), "float64")
        close(run(T.std(x, axis=axis, ddof=ddof), [x], [val]), np.std(val, axis=axis, ddof=ddof), "float64")
    close(run(T.var(x, corrected=True), [x], [val]), np.var(val, ddof=1), "float64")
    close(run(x.std(axis=0, corrected=True, keepdims=True), [x], [val]), np.std(val, 0, ddof=1, keepdims=True),
          "float64")


def test_mean_var_over_dimensions_of_unknown_length():
    x = T.dtensor3("x")
    for shape in ((2, 3, 4), (5, 1, 2)):
        val = values("float64", shape, seed=4)
        close(run(T.mean(x, axis=(0, 2)), [x], [val]), val.mean(axis=(0, 2)), "float64")
        close(run(T.var(x, axis=1), [x], [val]), val.var(axis=1), "float64")
        close(run(x.mean(), [x], [val]), val.mean(), "float64")
    fixed = T.TensorType("float64", shape=(2, None))("fixed")
    val = values("float64", (2, 6))
    close(run(T.mean(fixed, axis=0), [fixed], [val]), val.mean(axis=0), "float64")
    close(run(T.mean(fixed, axis=1), [fixed], [val]), val.mean(axis=1), "float64")


def test_zero_d_and_empty_inputs():
    s = T.dscalar("s")
    for fn in (T.sum, T.prod, T.max, T.min, T.mean):
        out = fn(s)
        assert out.ndim == 0
        close(run(out, [s], [np.float64(2.5)]), 2.5, "float64")
        close(run(fn(s, axis=0), [s], [np.float64(2.5)]), 2.5, "float64")
        close(run(fn(s, axis=-1, keepdims=True), [s], [np.float64(2.5)]), 2.5, "float64")
    v = T.dvector("v")
    close(run(T.sum(v), [v], [np.zeros(0)]), 0.0, "float64")
    close(run(T.prod(v), [v], [np.zeros(0)]), 1.0, "float64")
    assert not run(T.any(v), [v], [np.zeros(0)]) and run(T.all(v), [v], [np.zeros(0)])
    f = theano.function([v], T.max(v))
    with pytest.raises(ValueError, match="max of an empty dimension"):
        f(np.zeros(0))


def test_axis_errors():
    x = T.dmatrix("x")
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        T.sum(x, axis=2)
    with pytest.raises(ValueError, match="axis -3 is out of range"):
        T.max(x, axis=-3)
    with pytest.raises(ValueError, match="repeats"):
        T.sum(x, axis=(0, -2))
    with pytest.raises(ValueError, match="out of range"):
        T.sum(T.dscalar(), axis=1)


def test_axis_given_as_a_constant_or_numpy_int():
    x = T.dmatrix("x")
    val = values("float64", (2, 3))
    close(run(T.sum(x, axis=np.int64(1)), [x], [val]), val.sum(axis=1), "float64")
    close(run(T.sum(x, axis=T.constant(0)), [x], [val]), val.sum(axis=0), "float64")
    close(run(T.sum(x, axis=[1]), [x], [val]), val.sum(axis=1), "float64")


def test_static_shapes_of_reductions():
    x = T.TensorType("float64", shape=(2, None, 4))("x")
    assert T.sum(x, axis=1).type.shape == (2, 4)
    assert T.max(x, axis=(0, 2), keepdims=True).type.shape == (1, None, 1)
    assert T.argmax(x, axis=2).type.shape == (2, None)
    assert T.mean(x, axis=0).type.shape == (None, 4)


# --- argmax / argmin -----------------------------------------------------------------------

@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", [None, 0, 1, 2, -1, (0, 1), (1, 2), (0, 2), (0, 1, 2)], ids=str)
@pytest.mark.parametrize("name", ["argmax", "argmin"])
def test_argmax_argmin(name, axis, keepdims):
    fn, ref = getattr(T, name), getattr(np, name)
    x = T.dtensor3("x")
    val = values("float64", (2, 3, 4), seed=5)
    out = fn(x, axis=axis, keepdims=keepdims)
    assert out.dtype == "int64"
    got = run(out, [x], [val])
    if axis is None or isinstance(axis, int):
        want = ref(val, axis=axis, keepdims=keepdims)
    else:  # several axes: the index into those axes flattened (Theano's rule)
        axes = list(axis)
        keep = [d for d in range(3) if d not in axes]
        moved = val.transpose(keep + axes).reshape([val.shape[d] for d in keep] + [-1])
        want = ref(moved, axis=-1)
        if keepdims:
            want = np.expand_dims(want, tuple(axes))
    np.testing.assert_array_equal(got, want)
    meth = getattr(x, name)(axis=axis, keepdims=keepdims)
    np.testing.assert_array_equal(run(meth, [x], [val]), want)


def test_argmax_without_axis_flattens():
    a = T.dmatrix("a")
    assert int(run(T.argmax(a), [a], [np.array([[1.0, 2.0], [3.0, 4.0]])])) == 3
    assert int(run(T.argmin(a), [a], [np.array([[1.0, 2.0], [3.0, 0.0]])])) == 3
    i = T.imatrix("i")
    assert int(run(T.argmax(i), [i], [np.array([[1, 9], [3, 4]], "int32")])) == 1
    mx, am = T.max_and_argmax(a, axis=1)
    val = np.array([[1.0, 5.0, 2.0], [7.0, 0.0, 1.0]])
    rm, ra = theano.function([a], [mx, am])(val)
    np.testing.assert_array_equal(rm, [5.0, 7.0])
    np.testing.assert_array_equal(ra, [1, 0])


def test_argmax_ties_pick_the_first():
    v = T.dvector("v")
    assert int(run(T.argmax(v), [v], [np.array([1.0, 3.0, 3.0, 0.0])])) == 1
    assert int(run(T.argmin(v), [v], [np.array([1.0, 0.0, 3.0, 0.0])])) == 1


def test_argmax_gradient_is_zero_and_max_gradient_flows_to_the_max():
    x = T.dmatrix("x")
    g = T.grad(T.argmax(x, axis=1).sum() * 1.0 + T.max(x, axis=1).sum(), x)
    val = np.array([[1.0, 5.0, 2.0], [7.0, 0.0, 1.0]])
    np.testing.assert_array_equal(run(g, [x], [val]), [[0, 1, 0], [1, 0, 0]])


# --- any / all ---------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["bool", "int8", "int32", "float32", "float64"])
def test_any_all(dtype):
    x = T.TensorType(dtype, shape=(None, None))("x")
    val = np.array([[0, 0, 2], [0, 0, 0], [1, 1, 1]], dtype=dtype)
    for axis in (None, 0, 1, -1):
        for keepdims in (False, True):
            out = T.any(x, axis=axis, keepdims=keepdims)
            assert out.dtype == "bool"
            np.testing.assert_array_equal(run(out, [x], [val]), np.any(val, axis=axis, keepdims=keepdims))
            out = T.all(x, axis=axis, keepdims=keepdims)
            np.testing.assert_array_equal(run(out, [x], [val]), np.all(val, axis=axis, keepdims=keepdims))


# --- logsumexp ---------------------------------------------------------------------------

@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 1)], ids=str)
def test_logsumexp(axis, keepdims):
    x = T.dmatrix("x")
    val = values("float64", (3, 4), seed=6)
    out = T.logsumexp(x, axis=axis, keepdims=keepdims)
    close(run(out, [x], [val]), sp.logsumexp(val, axis=axis, keepdims=keepdims), "float64")
    big = val * 1000
    close(run(out, [x], [big]), sp.logsumexp(big, axis=axis, keepdims=keepdims), "float64")


@pytest.mark.filterwarnings("ignore:divide by zero encountered in log")
def test_logsumexp_infinities_and_float32():
    x = T.dvector("x")
    out = T.logsumexp(x)
    assert run(out, [x], [np.array([-np.inf, -np.inf])]) == -np.inf
    assert run(out, [x], [np.array([np.inf, 1.0])]) == np.inf
    close(run(out, [x], [np.array([-np.inf, 0.0])]), 0.0, "float64")
    f = T.fmatrix("f")
    out32 = T.logsumexp(f, axis=1)
    assert out32.dtype == "float32"
    val = values("float32", (2, 3))
    close(run(out32, [f], [val]), sp.logsumexp(val.astype("float64"), axis=1), "float32")


# --- gradients ---------------------------------------------------------------------------

GRAD_AXES = [None, 0, 1, -1, (0, 1)]


@pytest.mark.parametrize("axis", GRAD_AXES, ids=str)
@pytest.mark.parametrize("name", ["sum", "prod", "mean", "var", "std", "max", "min", "logsumexp"])
def test_reduction_gradients(name, axis):
    fn = getattr(T, name)
    val = values("float64", (3, 4), seed=7, lo=0.5, hi=2.0)  # distinct values: no max ties
    verify_grad(lambda x: fn(x, axis=axis), [val], rng=np.random.default_rng(0))
    verify_grad(lambda x: fn(x, axis=axis, keepdims=True) * x, [val], rng=np.random.default_rng(1))


@pytest.mark.parametrize("name", ["sum", "prod", "mean", "var", "std", "max", "min", "logsumexp"])
def test_reduction_gradients_3d_and_broadcastable_input(name):
    fn = getattr(T, name)
    val = values("float64", (2, 3, 2), seed=8, lo=0.5, hi=2.0)
    verify_grad(lambda x: fn(x, axis=(0, 2)), [val], rng=np.random.default_rng(0))
    row = values("float64", (1, 4), seed=9, lo=0.5, hi=2.0)
    verify_grad(lambda x: fn(x, axis=1), [row], rng=np.random.default_rng(0))
    if name != "std":  # the std of one element has no gradient (sqrt at 0), as in Theano
        verify_grad(lambda x: fn(x, axis=0), [row], rng=np.random.default_rng(0))


@pytest.mark.parametrize("axis", [None, 0, 1])
def test_prod_gradient_with_zeros(axis):
    one_zero = np.array([[0.0, 2.0, 3.0], [1.5, 2.5, 0.5]])
    two_zeros = np.array([[0.0, 2.0, 0.0], [0.0, 2.5, 0.5]])
    for val in (one_zero, two_zeros, np.zeros((2, 3))):
        verify_grad(lambda x: T.prod(x, axis=axis), [val], rng=np.random.default_rng(0))
    x = T.dmatrix("x")
    g = T.grad(T.prod(x), x)
    np.testing.assert_allclose(run(g, [x], [one_zero]), [[2 * 3 * 1.5 * 2.5 * 0.5, 0, 0], [0, 0, 0]])
    np.testing.assert_array_equal(run(g, [x], [two_zeros]), np.zeros((2, 3)))
    assert np.all(np.isfinite(run(T.grad(T.prod(x, axis=1).sum(), x), [x], [two_zeros])))


def test_max_gradient_at_ties_goes_to_every_maximum():
    x = T.dvector("x")
    g = T.grad(T.max(x), x)
    np.testing.assert_array_equal(run(g, [x], [np.array([1.0, 3.0, 3.0])]), [0.0, 1.0, 1.0])


def test_reduction_gradients_keep_float32():
    x = T.fmatrix("x")
    for fn in (T.sum, T.prod, T.mean, T.var, T.std, T.max, T.min, T.logsumexp):
        g = T.grad(fn(x, axis=1).sum(), x)
        assert g.dtype == "float32", fn
        r = run(g, [x], [values("float32", (2, 3), lo=0.5, hi=2)])
        assert r.dtype == "float32"


def test_integer_reductions_have_zero_float_gradients():
    i = T.imatrix("i")
    x = T.dscalar("x")
    gi, gx = T.grad((T.sum(i) + T.max(i) + T.prod(i)) * x + T.mean(i), [i, x])
    assert gi.dtype == theano.config.floatX
    vi = np.array([[1, 2], [3, 4]], "int32")
    ri, rx = theano.function([i, x], [gi, gx])(vi, 2.0)
    np.testing.assert_array_equal(ri, np.zeros((2, 2)))
    assert rx == 10 + 4 + 24
