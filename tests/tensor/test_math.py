"""Every elementwise function of the scalar table / `T` namespace against NumPy and SciPy.

Values AND output dtypes, through `theano.function` and `.eval()`, on several
shapes (0-d, 1-d, 2-d with static broadcasting and dimshuffle) and dtypes.
The dtype rule checked here is the one documented in `arignote.scalar.dtypes`:
NumPy 2 promotion, Python scalars weak, and real-valued functions of integers
give float32 (8/16-bit ints, bool) or float64 (32/64-bit ints).
"""
import zlib

import numpy as np
import pytest
import scipy.special as sp

import theano
import theano.tensor as T
from arignote.gradient import NullTypeGradError, verify_grad

def seed_of(*parts) -> int:
    """A reproducible seed per test case (str hashes vary between runs)."""
    return zlib.crc32("/".join(parts).encode())


SMALL_INT_TO_FLOAT32 = {"bool", "int8", "uint8", "int16", "uint16"}


def float_of(dtype: str) -> str:
    """The dtype of a real-valued function of `dtype` (written independently of dtypes.py)."""
    if dtype in SMALL_INT_TO_FLOAT32:
        return "float32"
    if np.dtype(dtype).kind in "iu":
        return "float64"
    return dtype


def expected_dtype(kind: str, *dtypes: str) -> str:
    r = np.result_type(*dtypes).name
    return {"same": r, "float": float_of(r), "bool": "bool"}[kind]


def compute(out, ins, vals):
    """Evaluate `out` through theano.function and through .eval(); both must agree exactly."""
    f = theano.function(list(ins), out)
    r1 = f(*vals)
    r2 = out.eval(dict(zip(ins, vals)))
    assert isinstance(r1, np.ndarray) and isinstance(r2, np.ndarray)
    assert r1.dtype == out.dtype, (r1.dtype, out.dtype)
    assert r2.dtype == out.dtype
    np.testing.assert_array_equal(r1, r2)
    return r1


def assert_close(got, want, dtype):
    assert got.shape == np.shape(want), (got.shape, np.shape(want))
    if np.dtype(dtype).kind == "f":
        tol = dict(rtol=2e-5, atol=1e-6) if np.dtype(dtype).itemsize <= 4 else dict(rtol=1e-12, atol=1e-13)
        np.testing.assert_allclose(got, want, **tol)
    else:
        np.testing.assert_array_equal(got, want)


def sym(dtype, shape, name="x"):
    """A symbolic tensor with static shape pattern `shape` (1 = broadcastable, None = unknown)."""
    return T.TensorType(dtype, shape=shape)(name)


def random_values(rng, dtype, shape, domain):
    lo, hi = domain
    if np.dtype(dtype).kind == "f":
        return rng.uniform(lo, hi, size=shape).astype(dtype)
    if dtype == "bool":
        return rng.integers(0, 2, size=shape).astype(bool)
    return rng.integers(int(np.ceil(lo)), int(np.floor(hi)) + 1, size=shape).astype(dtype)


# --------------------------------------------------------------------------------------------
# unary functions: name -> (T function, float64 reference, float domain, int domain or None, kind)

def _softplus_ref(x):
    x = np.asarray(x, dtype=np.float64)
    return np.where(x > 30, x, np.log1p(np.exp(np.minimum(x, 30))))


UNARY = {
    "neg": (T.neg, np.negative, (-5, 5), (-5, 5), "same"),
    "abs": (T.abs_, np.abs, (-5, 5), (-5, 5), "same"),
    "sgn": (T.sgn, np.sign, (-5, 5), (-2, 2), "same"),
    "sqr": (T.sqr, np.square, (-5, 5), (-5, 5), "same"),
    "inv": (T.inv, lambda x: 1.0 / x, (0.5, 3), (1, 5), "float"),
    "exp": (T.exp, np.exp, (-3, 3), (-3, 3), "float"),
    "exp2": (T.exp2, np.exp2, (-3, 3), (-3, 3), "float"),
    "expm1": (T.expm1, np.expm1, (-3, 3), (-3, 3), "float"),
    "log": (T.log, np.log, (0.1, 5), (1, 5), "float"),
    "log2": (T.log2, np.log2, (0.1, 5), (1, 5), "float"),
    "log10": (T.log10, np.log10, (0.1, 5), (1, 5), "float"),
    "log1p": (T.log1p, np.log1p, (-0.5, 5), (0, 5), "float"),
    "sqrt": (T.sqrt, np.sqrt, (0, 5), (0, 5), "float"),
    "sin": (T.sin, np.sin, (-3, 3), (-3, 3), "float"),
    "cos": (T.cos, np.cos, (-3, 3), (-3, 3), "float"),
    "tan": (T.tan, np.tan, (-1.2, 1.2), (-1, 1), "float"),
    "arcsin": (T.arcsin, np.arcsin, (-0.95, 0.95), (-1, 1), "float"),
    "arccos": (T.arccos, np.arccos, (-0.95, 0.95), (-1, 1), "float"),
    "arctan": (T.arctan, np.arctan, (-5, 5), (-5, 5), "float"),
    "sinh": (T.sinh, np.sinh, (-3, 3), (-3, 3), "float"),
    "cosh": (T.cosh, np.cosh, (-3, 3), (-3, 3), "float"),
    "tanh": (T.tanh, np.tanh, (-3, 3), (-3, 3), "float"),
    "arcsinh": (T.arcsinh, np.arcsinh, (-5, 5), (-5, 5), "float"),
    "arccosh": (T.arccosh, np.arccosh, (1.1, 5), (1, 5), "float"),
    "arctanh": (T.arctanh, np.arctanh, (-0.9, 0.9), (0, 0), "float"),
    "erf": (T.erf, sp.erf, (-2, 2), (-2, 2), "float"),
    "erfc": (T.erfc, sp.erfc, (-2, 2), (-2, 2), "float"),
    "erfinv": (T.erfinv, sp.erfinv, (-0.9, 0.9), (0, 0), "float"),
    "gammaln": (T.gammaln, sp.gammaln, (0.1, 5), (1, 5), "float"),
    "psi": (T.psi, sp.digamma, (0.1, 5), (1, 5), "float"),
    "tri_gamma": (T.tri_gamma, lambda x: sp.polygamma(1, x), (0.1, 5), (1, 5), "float"),
    "gamma": (T.gamma, sp.gamma, (0.1, 4), (1, 4), "float"),
    "erfcx": (T.erfcx, sp.erfcx, (-1, 3), (-1, 3), "float"),
    "erfcinv": (T.erfcinv, sp.erfcinv, (0.1, 1.9), (1, 1), "float"),
    "j0": (T.j0, sp.j0, (-5, 5), (-5, 5), "float"),
    "j1": (T.j1, sp.j1, (-5, 5), (-5, 5), "float"),
    "i0": (T.i0, sp.i0, (-3, 3), (-3, 3), "float"),
    "i1": (T.i1, sp.i1, (-3, 3), (-3, 3), "float"),
    "deg2rad": (T.deg2rad, np.deg2rad, (-180, 180), (-180, 127), "float"),
    "rad2deg": (T.rad2deg, np.rad2deg, (-3, 3), (-3, 3), "float"),
    "sigmoid": (T.sigmoid, lambda x: 1.0 / (1.0 + np.exp(-x)), (-5, 5), (-5, 5), "float"),
    "softplus": (T.softplus, _softplus_ref, (-5, 5), (-5, 5), "float"),
    "floor": (T.floor, np.floor, (-5, 5), (-5, 5), "float"),
    "ceil": (T.ceil, np.ceil, (-5, 5), (-5, 5), "float"),
    "trunc": (T.trunc, np.trunc, (-5, 5), (-5, 5), "float"),
    "round": (T.round, np.round, (-5, 5), (-5, 5), "float"),
    "isnan": (T.isnan, np.isnan, (-5, 5), (-5, 5), "bool"),
    "isinf": (T.isinf, np.isinf, (-5, 5), (-5, 5), "bool"),
}

UNARY_DTYPES = ["float32", "float64", "int8", "int32"]
UNARY_SHAPES = [((), ()), ((None,), (5,)), ((None, None), (2, 3)), ((1, None), (1, 4))]


@pytest.mark.parametrize("dtype", UNARY_DTYPES)
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_values_and_dtype(name, dtype):
    fn, ref, fdom, idom, kind = UNARY[name]
    rng = np.random.default_rng(seed_of(name, dtype))
    for pattern, shape in UNARY_SHAPES:
        x = sym(dtype, pattern)
        out = fn(x)
        want_dtype = expected_dtype(kind, dtype)
        assert out.dtype == want_dtype, (name, dtype, out.dtype)
        assert out.type.shape == pattern
        val = random_values(rng, dtype, shape, fdom if np.dtype(dtype).kind == "f" else idom)
        got = compute(out, [x], [val])
        # the reference works in float64 on the input as the function sees it
        base = val.astype(want_dtype) if kind == "float" else val
        want = ref(base.astype(np.float64) if np.dtype(dtype).kind == "f" or kind == "float" else base)
        if kind != "float":
            want = np.asarray(want).astype(want_dtype)
        assert_close(got, want, want_dtype)


def test_unary_bool_input():
    b = T.TensorType("bool", shape=(None,))("b")
    val = np.array([True, False, True])
    assert T.exp(b).dtype == "float32"
    np.testing.assert_allclose(compute(T.exp(b), [b], [val]), np.exp(val.astype("float32")), rtol=1e-6)
    assert T.neg(T.cast(b, "int8")).dtype == "int8"
    assert T.isnan(b).dtype == "bool"


def test_unary_int64_and_uint8_give_float64_and_float32():
    assert T.exp(T.lvector()).dtype == "float64"
    assert T.sqrt(T.TensorType("uint8", shape=(None,))()).dtype == "float32"
    assert T.log(T.wvector()).dtype == "float32"  # int16
    assert T.sin(T.ivector()).dtype == "float64"


def test_isnan_isinf_values():
    x = T.dvector("x")
    val = np.array([0.0, np.nan, np.inf, -np.inf, 1.5])
    np.testing.assert_array_equal(compute(T.isnan(x), [x], [val]), np.isnan(val))
    np.testing.assert_array_equal(compute(T.isinf(x), [x], [val]), np.isinf(val))
    i = T.ivector("i")
    np.testing.assert_array_equal(compute(T.isnan(i), [i], [np.array([1, 2], "int32")]), [False, False])


def test_round_modes_on_halves():
    x = T.dvector("x")
    val = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.49, -0.51, 0.49999999999999994, -0.49999999999999994,
                    4503599627370497.0, -0.0, np.inf, -np.inf])
    np.testing.assert_array_equal(compute(T.round(x), [x], [val]), np.round(val))
    np.testing.assert_array_equal(compute(T.round(x, "half_to_even"), [x], [val]), np.round(val))
    away = np.array([-3, -2, -1, 1, 2, 3, 0, -1, 0, -0.0, 4503599627370497.0, -0.0, np.inf, -np.inf])
    np.testing.assert_array_equal(compute(T.round(x, "half_away_from_zero"), [x], [val]), away)
    f = T.fvector("f")
    r = compute(T.round_half_away_from_zero(f), [f], [val.astype("float32")])
    assert r.dtype == "float32"
    np.testing.assert_array_equal(r[:8], away[:8].astype("float32"))
    nan = compute(T.round(x, "half_away_from_zero"), [x], [np.array([np.nan])])
    assert np.isnan(nan).all()
    with pytest.raises(ValueError, match="half_to_even"):
        T.round(x, "banker")


def test_polygamma():
    x = T.dvector("x")
    val = np.array([0.3, 1.0, 4.5])
    for n in (0, 1, 2, 3):
        out = T.polygamma(n, x)
        assert out.dtype == "float64"
        np.testing.assert_allclose(compute(out, [x], [val]), sp.polygamma(n, val), rtol=1e-12)
    n = T.ivector("n")
    out = T.polygamma(n, x)
    np.testing.assert_allclose(compute(out, [n, x], [np.array([0, 1, 2], "int32"), val]),
                               sp.polygamma([0, 1, 2], val), rtol=1e-12)
    assert T.polygamma(1, T.fvector()).dtype == "float32"
    assert T.polygamma(1, T.bvector()).dtype == "float32"
    with pytest.raises(TypeError, match="order must be an integer"):
        T.polygamma(T.dvector(), x)
    verify_grad(lambda v: T.polygamma(2, v), [val], rng=np.random.default_rng(0))


@pytest.mark.parametrize("fn", [T.neg, T.sgn, lambda b: b - b, lambda b: -b])
def test_bool_has_no_negation_or_subtraction(fn):
    b = T.TensorType("bool", shape=(None,))("b")
    with pytest.raises(TypeError, match="not defined for booleans"):
        fn(b)
    # with an integer it is fine (NumPy: bool - int8 is int8)
    i = T.bvector("i")
    assert (b - i).dtype == "int8"


def test_softplus_sigmoid_extremes_do_not_overflow():
    x = T.dvector("x")
    val = np.array([-800.0, -40.0, 0.0, 40.0, 800.0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        sp_val = compute(T.softplus(x), [x], [val])
    np.testing.assert_allclose(sp_val, [0.0, np.exp(-40.0), np.log(2.0), 40.0, 800.0], rtol=1e-12, atol=1e-300)
    sg = compute(T.sigmoid(x), [x], [val])
    np.testing.assert_allclose(sg, sp.expit(val), rtol=1e-12)
    f = T.fvector("f")
    r = compute(T.softplus(f), [f], [val.astype("float32")])
    assert r.dtype == "float32" and np.all(np.isfinite(r))


def test_real_valued_function_computes_in_float32_for_int8():
    # 8-bit ints computed in float32, not float16 (NumPy's own choice for int8)
    b = T.bvector("b")
    val = np.array([100, -100, 7], dtype="int8")
    out = compute(T.sqrt(T.abs_(b)), [b], [val])
    assert out.dtype == "float32"
    np.testing.assert_allclose(out, np.sqrt(np.abs(val.astype(np.float32))), rtol=1e-7)
    e = compute(T.exp(b), [b], [np.array([80], dtype="int8")])
    assert np.isfinite(e).all()  # exp(80) overflows float16 but not float32


# --------------------------------------------------------------------------------------------
# binary functions: name -> (T function, reference, domain a, domain b, kind)

def _nonzero(rng, dtype, shape):
    if np.dtype(dtype).kind == "f":
        v = rng.uniform(0.5, 3, size=shape) * rng.choice([-1, 1], size=shape)
    else:
        v = rng.choice([-3, -2, -1, 1, 2, 3], size=shape)
    return np.asarray(v).astype(dtype)


BINARY = {
    "add": (T.add, np.add, (-5, 5), (-5, 5), "same"),
    "sub": (T.sub, np.subtract, (-5, 5), (-5, 5), "same"),
    "mul": (T.mul, np.multiply, (-5, 5), (-5, 5), "same"),
    "true_div": (T.true_div, np.true_divide, (-5, 5), "nonzero", "float"),
    "int_div": (T.int_div, np.floor_divide, (-5, 5), "nonzero", "same"),
    "mod": (T.mod, np.mod, (-5, 5), "nonzero", "same"),
    "pow": (T.pow, np.power, (0.5, 3), (0, 3), "same"),
    "arctan2": (T.arctan2, np.arctan2, (-5, 5), (-5, 5), "float"),
    "jv": (T.jv, sp.jv, (0, 3), (-5, 5), "float"),
    "iv": (T.iv, sp.iv, (0, 3), (-3, 3), "float"),
    "chi2sf": (T.chi2sf, lambda x, k: sp.chdtrc(k, x), (0.1, 5), (1, 4), "float"),
    "maximum": (T.maximum, np.maximum, (-5, 5), (-5, 5), "same"),
    "minimum": (T.minimum, np.minimum, (-5, 5), (-5, 5), "same"),
    "eq": (T.eq, np.equal, (-2, 2), (-2, 2), "bool"),
    "neq": (T.neq, np.not_equal, (-2, 2), (-2, 2), "bool"),
    "lt": (T.lt, np.less, (-2, 2), (-2, 2), "bool"),
    "gt": (T.gt, np.greater, (-2, 2), (-2, 2), "bool"),
    "le": (T.le, np.less_equal, (-2, 2), (-2, 2), "bool"),
    "ge": (T.ge, np.greater_equal, (-2, 2), (-2, 2), "bool"),
}

BINARY_DTYPES = [("float32", "float32"), ("float64", "float64"), ("float32", "float64"), ("int32", "int32"),
                 ("int8", "int32"), ("int8", "int8"), ("int32", "float32"), ("int8", "float32"),
                 ("int64", "float64"), ("uint8", "int8")]
# (static pattern a, value shape a, static pattern b, value shape b)
BINARY_SHAPES = [
    ((), (), (), ()),
    ((None,), (4,), (None,), (4,)),
    ((None, None), (3, 4), (1, None), (1, 4)),  # matrix and row
    ((None, 1), (3, 1), (1, None), (1, 4)),  # col and row
    ((None, None), (3, 4), (), ()),  # matrix and scalar
    ((None,), (4,), (None, None), (3, 4)),  # lower rank is padded on the left
    ((1, 1), (1, 1), (None, None), (2, 3)),
]


def _binary_values(rng, name, dtypes, shapes):
    _, _, da, db, _ = BINARY[name]
    a = random_values(rng, dtypes[0], shapes[0], da)
    b = _nonzero(rng, dtypes[1], shapes[1]) if db == "nonzero" else random_values(rng, dtypes[1], shapes[1], db)
    if name in ("eq", "neq", "lt", "gt", "le", "ge") and np.dtype(dtypes[0]).kind == "f":
        a = np.round(a)  # ties must occur
    if name in ("eq", "neq", "lt", "gt", "le", "ge") and np.dtype(dtypes[1]).kind == "f":
        b = np.round(b)
    return a, b


def _binary_check(name, dtypes, pa, sa, pb, sb, seed):
    fn, ref, _, _, kind = BINARY[name]
    rng = np.random.default_rng(seed)
    a, b = sym(dtypes[0], pa, "a"), sym(dtypes[1], pb, "b")
    out = fn(a, b)
    want_dtype = expected_dtype(kind, *dtypes)
    assert out.dtype == want_dtype, (name, dtypes, out.dtype)
    va, vb = _binary_values(rng, name, dtypes, (sa, sb))
    got = compute(out, [a, b], [va, vb])
    if kind == "float":
        want = ref(va.astype(want_dtype).astype(np.float64), vb.astype(want_dtype).astype(np.float64))
    elif np.dtype(want_dtype).kind == "f":
        want = ref(va.astype(np.float64), vb.astype(np.float64))
    else:
        want = ref(va.astype(want_dtype) if kind == "same" else va, vb.astype(want_dtype) if kind == "same" else vb)
    assert_close(got, np.asarray(want), want_dtype)


@pytest.mark.parametrize("dtypes", BINARY_DTYPES, ids=lambda d: "-".join(d))
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_dtypes(name, dtypes):
    _binary_check(name, dtypes, (None, None), (3, 4), (1, None), (1, 4), seed_of(name, *dtypes))


@pytest.mark.parametrize("shapes", range(len(BINARY_SHAPES)))
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_shapes(name, shapes):
    pa, sa, pb, sb = BINARY_SHAPES[shapes]
    _binary_check(name, ("float64", "float64"), pa, sa, pb, sb, shapes)
    _binary_check(name, ("float64", "float64"), pb, sb, pa, sa, shapes + 100)
    out = BINARY[name][0](sym("float64", pa), sym("float64", pb))
    want_pattern = tuple(
        1 if x == 1 and y == 1 else None
        for x, y in zip((1,) * (len(pb) - len(pa)) + pa, (1,) * (len(pa) - len(pb)) + pb))
    assert out.type.shape == want_pattern


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_with_dimshuffle(name):
    fn, ref, _, _, kind = BINARY[name]
    rng = np.random.default_rng(7)
    v, m = T.dvector("v"), T.dmatrix("m")
    va, vm = _binary_values(rng, name, ("float64", "float64"), ((3,), (3, 4)))
    if BINARY[name][3] == "nonzero":
        va = _nonzero(rng, "float64", (3,))
    col = fn(m, v.dimshuffle(0, "x"))
    row = fn(v.dimshuffle("x", 0), m.T)
    assert col.broadcastable == (False, False)
    got_col = compute(col, [v, m], [va, vm])
    assert_close(got_col, np.asarray(ref(vm, va[:, None])), col.dtype)
    got_row = compute(row, [v, m], [va, vm])
    assert_close(got_row, np.asarray(ref(va[None, :], vm.T)), row.dtype)


def test_pow_integer_semantics():
    a, b = T.ivectors("a", "b")
    va = np.array([-3, -2, 0, 2, 5], dtype="int32")
    vb = np.array([3, 2, 0, 5, 1], dtype="int32")
    out = a ** b
    assert out.dtype == "int32"
    np.testing.assert_array_equal(compute(out, [a, b], [va, vb]), va ** vb)
    f = T.fvector("f")
    r = compute(f ** 2, [f], [np.array([1.5, -2.0], "float32")])
    assert r.dtype == "float32"
    np.testing.assert_array_equal(r, np.array([2.25, 4.0], "float32"))


def test_int_div_and_mod_follow_python_sign_rules():
    a, b = T.ivectors("a", "b")
    va = np.array([7, -7, 7, -7, 0], dtype="int32")
    vb = np.array([2, 2, -2, -2, 3], dtype="int32")
    np.testing.assert_array_equal(compute(a // b, [a, b], [va, vb]), [7 // 2, -7 // 2, 7 // -2, -7 // -2, 0])
    np.testing.assert_array_equal(compute(a % b, [a, b], [va, vb]), [7 % 2, -7 % 2, 7 % -2, -7 % -2, 0])
    x, y = T.dvectors("x", "y")
    vx, vy = np.array([5.5, -5.5]), np.array([2.0, 2.0])
    np.testing.assert_array_equal(compute(x // y, [x, y], [vx, vy]), [2.0, -3.0])
    np.testing.assert_array_equal(compute(x % y, [x, y], [vx, vy]), [1.5, 0.5])
    assert (x // y).dtype == "float64"


# --------------------------------------------------------------------------------------------
# logic

LOGIC = {"and_": (T.and_, np.bitwise_and), "or_": (T.or_, np.bitwise_or), "xor": (T.xor, np.bitwise_xor)}
LOGIC_DTYPES = [("bool", "bool"), ("int8", "int8"), ("int32", "int32"), ("int8", "int32"), ("bool", "int8"),
                ("uint8", "uint8")]


@pytest.mark.parametrize("dtypes", LOGIC_DTYPES, ids=lambda d: "-".join(d))
@pytest.mark.parametrize("name", sorted(LOGIC))
def test_logic(name, dtypes):
    fn, ref = LOGIC[name]
    rng = np.random.default_rng(3)
    a, b = sym(dtypes[0], (None, None), "a"), sym(dtypes[1], (1, None), "b")
    va = random_values(rng, dtypes[0], (3, 4), (0, 7))
    vb = random_values(rng, dtypes[1], (1, 4), (0, 7))
    out = fn(a, b)
    assert out.dtype == np.result_type(*dtypes).name
    np.testing.assert_array_equal(compute(out, [a, b], [va, vb]), ref(va, vb))


@pytest.mark.parametrize("dtype", ["bool", "int8", "int32", "uint8"])
def test_invert(dtype):
    x = sym(dtype, (None,))
    val = random_values(np.random.default_rng(1), dtype, (6,), (0, 9))
    out = T.invert(x)
    assert out.dtype == dtype
    np.testing.assert_array_equal(compute(out, [x], [val]), np.invert(val))
    np.testing.assert_array_equal(compute(~x, [x], [val]), np.invert(val))


@pytest.mark.parametrize("fn", [T.and_, T.or_, T.xor])
def test_logic_rejects_floats(fn):
    with pytest.raises(TypeError, match="integer or boolean"):
        fn(T.fvector("x"), T.fvector("y"))
    with pytest.raises(TypeError, match="integer or boolean"):
        fn(T.bvector("x"), T.dvector("y"))
    with pytest.raises(TypeError, match="integer or boolean"):
        T.invert(T.dvector("z"))


# --------------------------------------------------------------------------------------------
# clip, switch/where, cast

@pytest.mark.parametrize("dtype", ["float32", "float64", "int8", "int32"])
def test_clip(dtype):
    x = sym(dtype, (None, None))
    rng = np.random.default_rng(4)
    val = random_values(rng, dtype, (3, 4), (-5, 5))
    out = T.clip(x, -2, 3)
    assert out.dtype == dtype  # Python bounds are weak
    np.testing.assert_array_equal(compute(out, [x], [val]), np.clip(val, -2, 3))
    np.testing.assert_array_equal(compute(x.clip(-2, 3), [x], [val]), np.clip(val, -2, 3))
    lo, hi = sym(dtype, (None,), "lo"), sym(dtype, (1,), "hi")
    vlo = random_values(rng, dtype, (4,), (-4, 0))
    vhi = np.full((1,), 2, dtype=dtype)
    out2 = T.clip(x, lo, hi)
    assert out2.dtype == dtype
    np.testing.assert_array_equal(compute(out2, [x, lo, hi], [val, vlo, vhi]), np.clip(val, vlo, vhi))


def test_clip_mixed_dtypes_promote():
    i = T.ivector("i")
    out = T.clip(i, 0.5, 1.5)
    assert out.dtype == "float64"
    np.testing.assert_array_equal(compute(out, [i], [np.array([0, 1, 2], "int32")]), [0.5, 1.0, 1.5])


@pytest.mark.parametrize("cond_dtype", ["bool", "int8", "int32"])
@pytest.mark.parametrize("dtypes", [("float32", "float32"), ("float32", "float64"), ("int32", "int8"),
                                    ("int8", "float32")], ids=lambda d: "-".join(d))
@pytest.mark.parametrize("fn", [T.switch, T.where], ids=["switch", "where"])
def test_switch(fn, dtypes, cond_dtype):
    rng = np.random.default_rng(5)
    c = sym(cond_dtype, (None, 1), "c")
    a = sym(dtypes[0], (None, None), "a")
    b = sym(dtypes[1], (), "b")
    vc = random_values(rng, cond_dtype, (3, 1), (0, 1))
    va = random_values(rng, dtypes[0], (3, 4), (-5, 5))
    vb = random_values(rng, dtypes[1], (), (-5, 5))
    out = fn(c, a, b)
    want_dtype = np.result_type(*dtypes).name
    assert out.dtype == want_dtype
    assert out.broadcastable == (False, False)
    got = compute(out, [c, a, b], [vc, va, vb])
    np.testing.assert_array_equal(got, np.where(vc, va, vb).astype(want_dtype))


def test_switch_python_scalars():
    x = T.fvector("x")
    out = T.switch(x > 0, x, 0)
    assert out.dtype == "float32"
    val = np.array([-1, 2, -3, 4], dtype="float32")
    np.testing.assert_array_equal(compute(out, [x], [val]), np.maximum(val, 0))


CAST_DTYPES = ["bool", "int8", "int16", "int32", "int64", "uint8", "float32", "float64"]


@pytest.mark.parametrize("dst", CAST_DTYPES)
@pytest.mark.parametrize("src", CAST_DTYPES)
def test_cast(src, dst):
    x = sym(src, (None,))
    rng = np.random.default_rng(6)
    if np.dtype(src).kind == "f":
        val = np.array([-3.7, -1.0, 0.0, 0.5, 2.9, 100.2], dtype=src)
    else:
        val = random_values(rng, src, (6,), (0, 100) if src.startswith("u") else (-100, 100))
    out = T.cast(x, dst)
    assert out.dtype == dst
    if src == dst:
        assert out is x
    with np.errstate(invalid="ignore"):
        want = val.astype(dst)
    np.testing.assert_array_equal(compute(out, [x], [val]), want)
    np.testing.assert_array_equal(compute(x.astype(dst), [x], [val]), want)


def test_cast_floatx_and_errors():
    x = T.ivector("x")
    assert T.cast(x, "floatX").dtype == theano.config.floatX
    assert T.cast(x, np.float32).dtype == "float32"
    with pytest.raises(TypeError, match="dtype"):
        T.cast(x, "float128")


# --------------------------------------------------------------------------------------------
# n-ary add / mul, and argument checks

def test_add_mul_many_arguments():
    a, b, c = T.dvector("a"), T.drow("b"), T.dscalar("c")
    a2 = T.dmatrix("a2")
    va = np.arange(4.0)
    vb = np.arange(4.0)[None] + 1
    vc = np.array(2.5)
    va2 = np.ones((3, 4))
    s = T.add(a2, a, b, c)
    m = T.mul(a2, a, b, c)
    np.testing.assert_allclose(compute(s, [a2, a, b, c], [va2, va, vb, vc]), va2 + va + vb + vc)
    np.testing.assert_allclose(compute(m, [a2, a, b, c], [va2, va, vb, vc]), va2 * va * vb * vc)
    one = T.add(a)
    np.testing.assert_array_equal(compute(one, [a], [va]), va)


def test_arity_and_broadcast_errors():
    with pytest.raises(TypeError, match="sub takes 2 arguments, got 3"):
        T.sub(T.dvector(), T.dvector(), T.dvector())
    with pytest.raises(TypeError, match="exp takes 1 argument"):
        T.exp(T.dvector(), T.dvector())
    a = T.TensorType("float64", shape=(3,))("a")
    b = T.TensorType("float64", shape=(4,))("b")
    with pytest.raises(ValueError, match="cannot broadcast.*'a' has length 3.*'b' has length 4"):
        a + b
    x, y = T.dvector("x"), T.dvector("y")
    f = theano.function([x, y], x + y)
    with pytest.raises(ValueError, match="'y' has shape \\(1,\\).*broadcastable"):
        f(np.ones(3), np.ones(1))


def test_special_functions_reject_complex():
    z = T.zvector("z")
    for fn in (T.erf, T.gammaln, T.sigmoid, T.floor):
        with pytest.raises(TypeError, match="complex"):
            fn(z)


# --------------------------------------------------------------------------------------------
# operators, Python scalars (weak) and NumPy arrays on the left

OPERATORS = {
    "+": (lambda a, b: a + b, np.add), "-": (lambda a, b: a - b, np.subtract),
    "*": (lambda a, b: a * b, np.multiply), "/": (lambda a, b: a / b, np.true_divide),
    "//": (lambda a, b: a // b, np.floor_divide), "%": (lambda a, b: a % b, np.mod),
    "**": (lambda a, b: a ** b, np.power), "<": (lambda a, b: a < b, np.less),
    "<=": (lambda a, b: a <= b, np.less_equal), ">": (lambda a, b: a > b, np.greater),
    ">=": (lambda a, b: a >= b, np.greater_equal),
}


@pytest.mark.parametrize("op", sorted(OPERATORS))
@pytest.mark.parametrize("dtype", ["float32", "float64", "int8", "int32"])
def test_operators_between_variables_and_python_scalars(op, dtype):
    sym_op, np_op = OPERATORS[op]
    x = sym(dtype, (None,))
    val = np.array([1, 2, 3, 4], dtype=dtype)
    y = sym(dtype, (None,), "y")
    vy = np.array([2, 1, 3, 2], dtype=dtype)
    for scalar in (2, 3.0) if np.dtype(dtype).kind == "f" else (2, 3, 2.5):
        for out, want in ((sym_op(x, scalar), np_op(val, scalar)), (sym_op(scalar, x), np_op(scalar, val))):
            # NumPy 2 with a weak Python scalar gives the reference dtype
            assert out.dtype == np.asarray(want).dtype.name or (
                op == "/" and out.dtype == float_of(np.asarray(want).dtype.name)
                or op == "/" and np.dtype(dtype).itemsize < 4), (op, dtype, scalar, out.dtype)
            got = compute(out, [x], [val])
            want = np.asarray(want)
            if np.dtype(out.dtype).kind == "f":
                np.testing.assert_allclose(got, want.astype(out.dtype), rtol=1e-6)
            else:
                np.testing.assert_array_equal(got, want)
    out = sym_op(x, y)
    got = compute(out, [x, y], [val, vy])
    want = np.asarray(np_op(val, vy))
    np.testing.assert_allclose(got, want.astype(out.dtype), rtol=1e-6)


def test_weak_python_scalars_keep_tensor_dtype():
    # NumPy 2 / NEP 50: `fvector * 0.1` stays float32 (Theano with floatX=float64 gave float64)
    f = T.fvector("f")
    assert (f * 0.1).dtype == "float32"
    assert (0.1 * f).dtype == "float32"
    assert (f + 1).dtype == "float32"
    assert (f / 3).dtype == "float32"
    b = T.bvector("b")
    assert (b + 1).dtype == "int8"
    assert (b * 2.5).dtype == "float64"  # a float scalar with ints: NumPy's default float
    assert (b / 2).dtype == "float32"  # real-valued division of int8
    assert (T.ivector() / 2).dtype == "float64"
    assert (b + 1000).dtype == "int16"  # the value does not fit: it takes part in promotion
    r = compute(b + 1000, [b], [np.array([1, -2], "int8")])
    np.testing.assert_array_equal(r, [1001, 998])
    assert (f ** 2).dtype == "float32" and (2 ** f).dtype == "float32"
    assert (T.bscalar() + True).dtype == "int8"
    # a lone Python scalar has no tensor to adapt to
    assert T.add(1, 2).dtype == "int64"


def test_numpy_arrays_and_scalars_are_strong():
    f = T.fvector("f")
    val = np.array([1, 2, 3], "float32")
    out = np.ones(3) + f
    assert out.dtype == "float64"  # a float64 array is not weak
    np.testing.assert_array_equal(compute(out, [f], [val]), val + 1.0)
    out2 = np.ones(3, dtype="float32") * f
    assert out2.dtype == "float32"
    out3 = np.float64(2.0) * f
    assert out3.dtype == "float64"
    np.testing.assert_array_equal(compute(out3, [f], [val]), val * 2.0)
    out4 = f + np.arange(3, dtype="int8")
    assert out4.dtype == "float32"
    np.testing.assert_array_equal(compute(out4, [f], [val]), val + np.arange(3))


@pytest.mark.parametrize("op, ref", [
    ("+", np.add), ("-", np.subtract), ("*", np.multiply), ("/", np.true_divide), ("//", np.floor_divide),
    ("%", np.mod), ("**", np.power), ("<", np.less), ("<=", np.less_equal), (">", np.greater),
    (">=", np.greater_equal), ("&", np.bitwise_and), ("|", np.bitwise_or), ("^", np.bitwise_xor),
])
def test_numpy_array_on_the_left_builds_a_graph(op, ref):
    dtype = "int32" if op in "&|^" else "float64"
    x = sym(dtype, (None,))
    arr = np.array([3, 1, 2], dtype=dtype)
    val = np.array([1, 2, 2], dtype=dtype)
    out = eval(f"arr {op} x")
    assert isinstance(out, theano.Variable), type(out)
    np.testing.assert_allclose(compute(out, [x], [val]), ref(arr, val))


def test_unary_operators():
    x = T.dvector("x")
    val = np.array([-1.5, 0.0, 2.0])
    np.testing.assert_array_equal(compute(-x, [x], [val]), -val)
    np.testing.assert_array_equal(compute(abs(x), [x], [val]), np.abs(val))
    assert +x is x
    i = T.ivector("i")
    vi = np.array([-3, 0, 5], dtype="int32")
    np.testing.assert_array_equal(compute(~i, [i], [vi]), ~vi)
    np.testing.assert_array_equal(compute(-i, [i], [vi]), -vi)
    assert (-i).dtype == "int32"


def test_bitwise_operators():
    a, b = T.ivectors("a", "b")
    va, vb = np.array([1, 6, 12], "int32"), np.array([3, 5, 10], "int32")
    np.testing.assert_array_equal(compute(a & b, [a, b], [va, vb]), va & vb)
    np.testing.assert_array_equal(compute(a | b, [a, b], [va, vb]), va | vb)
    np.testing.assert_array_equal(compute(a ^ b, [a, b], [va, vb]), va ^ vb)
    np.testing.assert_array_equal(compute(3 & a, [a], [va]), 3 & va)
    c = T.dvector("c")
    m = (c > 0) & (c < 2)
    assert m.dtype == "bool"
    np.testing.assert_array_equal(compute(m, [c], [np.array([-1.0, 1.0, 3.0])]), [False, True, False])


def test_matmul_operator():
    a, b = T.dmatrix("a"), T.dmatrix("b")
    va, vb = np.arange(6.0).reshape(2, 3), np.arange(12.0).reshape(3, 4)
    np.testing.assert_allclose(compute(a @ b, [a, b], [va, vb]), va @ vb)
    np.testing.assert_allclose(compute(va.T @ a, [a], [va]), va.T @ va)


def test_comparison_operators_do_not_use_identity_for_ordering():
    x = T.dscalar("x")
    assert (x < 1).dtype == "bool"
    assert (1 < x).owner.op == T.gt(x, 1).owner.op  # reflected: 1 < x is x > 1
    with pytest.raises(TypeError, match="truth value"):
        bool(x < 1)


# --------------------------------------------------------------------------------------------
# gradients of every differentiable elementwise function

def _pos(shape, lo, hi, seed=0):
    return np.random.default_rng(seed).uniform(lo, hi, size=shape)


GRAD_UNARY = {
    "neg": (T.neg, (-3, 3)), "abs": (T.abs_, (0.3, 3)), "sqr": (T.sqr, (-3, 3)), "inv": (T.inv, (0.5, 3)),
    "exp": (T.exp, (-2, 2)), "exp2": (T.exp2, (-2, 2)), "expm1": (T.expm1, (-2, 2)),
    "log": (T.log, (0.5, 3)), "log2": (T.log2, (0.5, 3)), "log10": (T.log10, (0.5, 3)),
    "log1p": (T.log1p, (-0.5, 3)), "sqrt": (T.sqrt, (0.5, 3)), "sin": (T.sin, (-3, 3)),
    "cos": (T.cos, (-3, 3)), "tan": (T.tan, (-1.2, 1.2)), "arcsin": (T.arcsin, (-0.8, 0.8)),
    "arccos": (T.arccos, (-0.8, 0.8)), "arctan": (T.arctan, (-3, 3)), "sinh": (T.sinh, (-2, 2)),
    "cosh": (T.cosh, (-2, 2)), "tanh": (T.tanh, (-2, 2)), "arcsinh": (T.arcsinh, (-3, 3)),
    "arccosh": (T.arccosh, (1.2, 3)), "arctanh": (T.arctanh, (-0.8, 0.8)), "erf": (T.erf, (-1.5, 1.5)),
    "erfc": (T.erfc, (-1.5, 1.5)), "erfinv": (T.erfinv, (-0.8, 0.8)), "gammaln": (T.gammaln, (0.5, 4)),
    "psi": (T.psi, (0.5, 4)), "tri_gamma": (T.tri_gamma, (0.5, 4)), "sigmoid": (T.sigmoid, (-3, 3)),
    "softplus": (T.softplus, (-3, 3)), "tensor_copy": (T.tensor_copy, (-3, 3)),
    "gamma": (T.gamma, (0.5, 4)), "erfcx": (T.erfcx, (-1, 3)), "erfcinv": (T.erfcinv, (0.2, 1.8)),
    "j0": (T.j0, (-5, 5)), "j1": (T.j1, (-5, 5)), "i0": (T.i0, (-3, 3)), "i1": (T.i1, (-3, 3)),
    "i1_near_0": (T.i1, (-0.01, 0.01)), "j1_near_0": (T.j1, (-0.01, 0.01)),
    "deg2rad": (T.deg2rad, (-180, 180)), "rad2deg": (T.rad2deg, (-3, 3)),
    "jv": (lambda x: T.jv(2.5, x), (0.5, 5)), "iv": (lambda x: T.iv(1.5, x), (0.5, 3)),
    "jv_int_order": (lambda x: T.jv(T.constant(np.array([0, 1, 3], "int32")), x), (0.5, 5)),
    "chi2sf": (lambda x: T.chi2sf(x, 3.0), (0.2, 5)),
    "abs_negative": (T.abs_, (-3, -0.3)),
    "neg_abs_mix": (lambda x: T.abs_(x - 0.1), (0.3, 3)),
}


@pytest.mark.parametrize("name", sorted(GRAD_UNARY))
def test_unary_grad(name):
    fn, (lo, hi) = GRAD_UNARY[name]
    verify_grad(fn, [_pos((2, 3), lo, hi)], rng=np.random.default_rng(0))
    verify_grad(fn, [_pos((), lo, hi, seed=1)], rng=np.random.default_rng(0))


@pytest.mark.parametrize("fn", [T.jv, T.iv, lambda v, x: T.chi2sf(x, v)])
def test_no_gradient_wrt_an_order_or_degrees_of_freedom(fn):
    v, x = T.dvector("v"), T.dvector("x")
    with pytest.raises(NullTypeGradError, match="not differentiable w.r.t. its argument"):
        T.grad(T.sum(fn(v, x)), v)
    # w.r.t. x it is fine, and an integer order has a (zero) gradient
    gx = T.grad(T.sum(fn(v, x)), x)
    assert gx.dtype == "float64"
    i = T.ivector("i")
    gi = T.grad(T.sum(fn(i, x)), i)
    np.testing.assert_array_equal(compute(gi, [i], [np.array([1, 2], "int32")]), [0, 0])


def test_iround_ceil_intdiv_largest_smallest():
    x = T.dvector("x")
    val = np.array([-1.5, -0.4, 0.5, 2.5, 2.6])
    out = T.iround(x)
    assert out.dtype == "int64"
    np.testing.assert_array_equal(compute(out, [x], [val]), np.round(val).astype("int64"))
    np.testing.assert_array_equal(compute(T.iround(x, "half_away_from_zero"), [x], [val]), [-2, 0, 1, 3, 3])
    a, b = T.ivectors("a", "b")
    va, vb = np.array([7, 6, -7, 0, 1], "int32"), np.array([2, 2, 2, 3, 5], "int32")
    out = T.ceil_intdiv(a, b)
    assert out.dtype == "int32"
    np.testing.assert_array_equal(compute(out, [a, b], [va, vb]), -(-va // vb))
    y, z = T.dvectors("y", "z")
    vy, vz = np.array([1.0, 5.0, -3.0, 0.0, 9.0]), np.array([0.0, 6.0, -4.0, 1.0, 2.0])
    np.testing.assert_array_equal(compute(T.largest(x, y, z), [x, y, z], [val, vy, vz]), np.max([val, vy, vz], 0))
    np.testing.assert_array_equal(compute(T.smallest(x, y, z), [x, y, z], [val, vy, vz]), np.min([val, vy, vz], 0))
    np.testing.assert_array_equal(compute(T.largest(x, 0), [x], [val]), np.maximum(val, 0))


@pytest.mark.parametrize("equal_nan", [False, True])
def test_isclose_allclose(equal_nan):
    a, b = T.dvectors("a", "b")
    va = np.array([1.0, 1.0, np.inf, np.inf, np.nan, np.nan, 0.0, 1e-9, -np.inf, 100.0])
    vb = np.array([1.0 + 1e-6, 1.1, np.inf, -np.inf, np.nan, 1.0, 1e-9, 0.0, 5.0, 100.0009])
    out = T.isclose(a, b, equal_nan=equal_nan)
    assert out.dtype == "bool"
    with np.errstate(invalid="ignore"):
        got = compute(out, [a, b], [va, vb])
    np.testing.assert_array_equal(got, np.isclose(va, vb, equal_nan=equal_nan))
    np.testing.assert_array_equal(compute(T.isclose(a, b, rtol=0.2), [a, b], [va[:2], vb[:2]]), [True, True])
    assert compute(T.allclose(a, b), [a, b], [va[:1], vb[:1]])
    assert not compute(T.allclose(a, b, atol=0, rtol=1e-9), [a, b], [va[:1], vb[:1]])


@pytest.mark.parametrize("fn", [T.floor, T.ceil, T.trunc, T.round, T.sgn,
                                lambda x: T.round(x, "half_away_from_zero")])
def test_piecewise_constant_functions_have_zero_gradient(fn):
    x = T.dvector("x")
    g = T.grad(fn(x).sum(), x)
    val = np.array([0.3, -1.7, 2.2])
    got = compute(g, [x], [val])
    np.testing.assert_array_equal(got, np.zeros(3))
    verify_grad(fn, [val], rng=np.random.default_rng(0))


GRAD_BINARY = {
    "add": (T.add, (-3, 3), (-3, 3)), "sub": (T.sub, (-3, 3), (-3, 3)), "mul": (T.mul, (-3, 3), (-3, 3)),
    "true_div": (T.true_div, (-3, 3), (0.5, 3)), "pow": (T.pow, (0.5, 3), (-2, 2)),
    "arctan2": (T.arctan2, (-3, 3), (0.5, 3)), "mod": (T.mod, (0.1, 0.9), (1.2, 3)),
    "mod_wrapped": (T.mod, (3.3, 3.5), (1.0, 1.05)),
    "maximum": (T.maximum, (-3, -1), (1, 3)), "minimum": (T.minimum, (-3, -1), (1, 3)),
    "maximum_rev": (T.maximum, (1, 3), (-3, -1)), "minimum_rev": (T.minimum, (1, 3), (-3, -1)),
}


@pytest.mark.parametrize("name", sorted(GRAD_BINARY))
def test_binary_grad(name):
    fn, da, db = GRAD_BINARY[name]
    a, b = _pos((2, 3), *da, seed=1), _pos((2, 3), *db, seed=2)
    verify_grad(fn, [a, b], rng=np.random.default_rng(0))
    # broadcasting: a row against a matrix, and a scalar against a matrix
    verify_grad(lambda x, y: fn(x, y), [a[:1], b], rng=np.random.default_rng(0))
    verify_grad(lambda x, y: fn(x, y), [a, b[:, :1]], rng=np.random.default_rng(0))
    verify_grad(lambda x, y: fn(x, y), [a[0, 0], b], rng=np.random.default_rng(0))


def test_pow_grad_both_arguments_analytic():
    x, y = T.dscalars("x", "y")
    gx, gy = T.grad(x ** y, [x, y])
    vx, vy = 1.7, 2.3
    rx, ry = theano.function([x, y], [gx, gy])(vx, vy)
    np.testing.assert_allclose(rx, vy * vx ** (vy - 1), rtol=1e-12)
    np.testing.assert_allclose(ry, np.log(vx) * vx ** vy, rtol=1e-12)
    # the gradient w.r.t. the exponent at base 0 is finite (0), not nan
    r0 = theano.function([x, y], gy)(0.0, 2.0)
    assert r0 == 0.0


def test_mul_many_arguments_grad():
    verify_grad(lambda a, b, c: T.mul(a, b, c), [_pos((2, 3), 0.5, 2, 1), _pos((1, 3), 0.5, 2, 2),
                                                  _pos((), 0.5, 2, 3)], rng=np.random.default_rng(0))
    verify_grad(lambda a, b, c: T.add(a, b, c), [_pos((2, 3), 0.5, 2, 1), _pos((2, 1), 0.5, 2, 2),
                                                  _pos((3,), 0.5, 2, 3)], rng=np.random.default_rng(0))


def test_clip_grad():
    x = np.array([-2.5, -0.5, 0.3, 1.7, 2.6])
    verify_grad(lambda v: T.clip(v, -1.0, 2.0), [x], rng=np.random.default_rng(0))
    lo, hi = np.array([-1.0, -1.0, -1.0, -1.0, -1.0]), np.array([2.0, 2.0, 2.0, 2.0, 2.0])
    verify_grad(T.clip, [x, lo, hi], rng=np.random.default_rng(0))
    v = T.dvector("v")
    g = compute(T.grad(T.clip(v, -1, 2).sum(), v), [v], [x])
    np.testing.assert_array_equal(g, [0, 1, 1, 1, 0])


def test_switch_grad():
    c = np.array([[1, 0, 1], [0, 0, 1]], dtype="int8")
    a, b = _pos((2, 3), -2, 2, 1), _pos((2, 3), -2, 2, 2)
    verify_grad(lambda x, y: T.switch(T.constant(c), x, y), [a, b], rng=np.random.default_rng(0))
    verify_grad(lambda x, y: T.switch(T.constant(c), x, y), [a[:1], b[0, 0]], rng=np.random.default_rng(0))
    cv, xv, yv = T.bvector("c"), T.dvector("x"), T.dvector("y")
    gc, gx = T.grad(T.switch(cv, xv, yv).sum(), [cv, xv])
    assert gc.dtype == theano.config.floatX
    r = compute(gx, [cv, xv, yv], [np.array([1, 0], "int8"), np.ones(2), np.ones(2)])
    np.testing.assert_array_equal(r, [1.0, 0.0])


def test_cast_grad():
    verify_grad(lambda v: T.cast(v, "float32") * 2, [np.array([0.5, 1.5])], rng=np.random.default_rng(0),
                abs_tol=1e-3, rel_tol=1e-3)
    f = T.fvector("f")
    g = T.grad(T.cast(f, "float64").sum(), f)
    assert g.dtype == "float32"
    i = T.ivector("i")
    gi = T.grad(T.cast(i, "float64").sum(), i)
    np.testing.assert_array_equal(compute(gi, [i], [np.array([1, 2], "int32")]), [0.0, 0.0])


def test_row_plus_matrix_gradient_is_summed():
    r, m = T.drow("r"), T.dmatrix("m")
    gr, gm = T.grad((r + m).sum() + (r * m).sum(), [r, m])
    assert gr.broadcastable == (True, False)
    vr, vm = np.array([[1.0, 2.0, 3.0]]), np.arange(6.0).reshape(2, 3)
    got_r, got_m = theano.function([r, m], [gr, gm])(vr, vm)
    np.testing.assert_allclose(got_r, 2 + vm.sum(axis=0, keepdims=True))
    np.testing.assert_allclose(got_m, 1 + np.broadcast_to(vr, (2, 3)))
    v = T.dvector("v")
    gv = T.grad((v.dimshuffle("x", 0) * m).sum(), v)
    np.testing.assert_allclose(compute(gv, [v, m], [vr[0], vm]), vm.sum(axis=0))


@pytest.mark.parametrize("fn", [T.exp, T.tanh, T.sigmoid, T.softplus, T.sqrt, T.erf, T.gammaln, T.arctan,
                                lambda x: x ** 2, lambda x: x / 3, lambda x: 1 / (1 + x * x),
                                lambda x: T.maximum(x, 1.0), lambda x: T.switch(x > 1, x, 2 * x)])
def test_float32_gradients_are_float32(fn):
    x = T.fvector("x")
    out = fn(x)
    assert out.dtype == "float32"
    g = T.grad(out.sum(), x)
    assert g.dtype == "float32"
    r = compute(g, [x], [np.array([0.5, 1.5, 2.5], "float32")])
    assert r.dtype == "float32" and np.all(np.isfinite(r))
    verify_grad(fn, [np.array([0.5, 1.5, 2.5], "float32")], rng=np.random.default_rng(0))


def test_integer_inputs_get_zero_float_gradients():
    i = T.ivector("i")
    x = T.dvector("x")
    gi, gx = T.grad((T.exp(i) * x).sum(), [i, x])
    assert gi.dtype == theano.config.floatX
    vi, vx = np.array([1, 2], "int32"), np.array([0.5, 0.25])
    ri, rx = theano.function([i, x], [gi, gx])(vi, vx)
    np.testing.assert_array_equal(ri, [0.0, 0.0])
    np.testing.assert_allclose(rx, np.exp(vi))


def test_comparison_and_logic_grads_are_zero():
    x, y = T.dvectors("x", "y")
    out = T.switch(T.lt(x, y), x * y, x + y)
    verify_grad(lambda a, b: T.switch(T.lt(a, b), a * b, a + b), [np.array([1.0, 3.0]), np.array([2.0, 1.0])],
                rng=np.random.default_rng(0))
    gx = T.grad(T.eq(x, y).sum() * 1.0 + out.sum(), x)
    np.testing.assert_allclose(compute(gx, [x, y], [np.array([1.0, 3.0]), np.array([2.0, 1.0])]), [2.0, 1.0])
