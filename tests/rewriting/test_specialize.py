"""The 'specialize' rewrites: products to Gemm/Gemv/Ger, integer powers, sum of products to dot.

Each rewrite is compiled alone (optimizer None plus the rewrite by name) and
inside the full 'fast_run' pipeline, and its results are compared with the
function compiled without any rewrite.
"""
import warnings

import numpy as np
import pytest

import theano
import theano.tensor as T
from arignote.compile import Mode
from arignote.tensor.blas import Dot
from arignote.tensor.blas_ops import Gemm, Gemv, Ger
from arignote.tensor.elemwise import Elemwise
from arignote.tensor.reduce import Reduce
from arignote.tensor.shape_ops import Alloc

RNG = np.random.default_rng(7)
REFERENCE = Mode("py", None)
BLAS_RULES = ("local_dot_to_gemm", "local_dot_to_gemv", "local_dot_to_ger")


def only(*names):
    return Mode("py", None).including(*names)


def compile_pair(inputs, outputs, mode, **kw):
    f = theano.function(inputs, outputs, mode=mode, **kw)
    g = theano.function(inputs, outputs, mode=REFERENCE, **kw)
    return f, g


def ops(f):
    return [n.op for n in f.maker.fgraph.toposort()]


def count(f, cls):
    return sum(isinstance(op, cls) for op in ops(f))


def fired(f, name):
    return f.maker.fgraph.rewrite_trace.count(name)


def rand(shape, dtype="float64", low=None):
    if np.dtype(dtype).kind in "iu":
        return RNG.integers(-4, 5, size=shape).astype(dtype)
    if low is not None:  # magnitudes in [low, 1.5], random signs
        return (RNG.uniform(low, 1.5, size=shape) * RNG.choice([-1, 1], size=shape)).astype(dtype)
    return RNG.standard_normal(shape).astype(dtype)


def tol(dtype):
    return dict(rtol=2e-4, atol=2e-4) if np.dtype(dtype) == np.float32 else dict(rtol=1e-10, atol=1e-10)


def same_results(f, g, values, dtype):
    got, want = f(*values), g(*values)
    if not isinstance(got, list):
        got, want = [got], [want]
    for a, b in zip(got, want):
        assert np.asarray(a).dtype == np.asarray(b).dtype
        np.testing.assert_allclose(a, b, **tol(dtype))


def mat(dtype, name, shape=(None, None)):
    return T.TensorType(dtype, shape=shape)(name)


# --- dot -> Gemm -----------------------------------------------------------------------------

GEMM_FORMS = {
    "z + a*dot": lambda z, x, y, a, b: z + a * T.dot(x, y),
    "z - a*dot": lambda z, x, y, a, b: z - a * T.dot(x, y),
    "z - lr*dot (sgd)": lambda z, x, y, a, b: z - 0.01 * T.dot(x, y),
    "a*dot + b*z": lambda z, x, y, a, b: a * T.dot(x, y) + b * z,
    "dot + z": lambda z, x, y, a, b: T.dot(x, y) + z,
    "z - dot": lambda z, x, y, a, b: z - T.dot(x, y),
    "-dot + z": lambda z, x, y, a, b: -T.dot(x, y) + z,
    "dot*a - z*b*2": lambda z, x, y, a, b: T.dot(x, y) * a - z * b * 2,
    "z - (-(a*dot))": lambda z, x, y, a, b: z - (-(a * T.dot(x, y))),
    "b*z - 3*(a*dot)": lambda z, x, y, a, b: b * z - 3 * (a * T.dot(x, y)),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("form", sorted(GEMM_FORMS))
def test_gemm_forms_fire_and_keep_results(form, dtype):
    z, x, y = mat(dtype, "z"), mat(dtype, "x"), mat(dtype, "y")
    a, b = T.scalar("a", dtype=dtype), T.scalar("b", dtype=dtype)
    out = GEMM_FORMS[form](z, x, y, a, b)
    inputs = [z, x, y, a, b]
    values = [rand((4, 5), dtype), rand((4, 3), dtype), rand((3, 5), dtype), rand((), dtype), rand((), dtype)]
    for mode in (only("local_dot_to_gemm"), Mode("py", "fast_run")):
        f, g = compile_pair(inputs, out, mode, on_unused_input="ignore")
        assert fired(f, "local_dot_to_gemm") == 1
        assert count(f, Gemm) == 1 and count(f, Dot) == 0
        same_results(f, g, values, dtype)
    f = theano.function(inputs, out, mode=only("local_dot_to_gemm"), on_unused_input="ignore")
    assert all(not op.inplace for op in ops(f) if isinstance(op, Gemm))  # rewrites make the copying version


def test_gemm_absorbs_the_scalars_into_alpha_and_beta():
    z, x, y = T.dmatrices("z", "x", "y")
    f = theano.function([z, x, y], 2.0 * z - 0.5 * T.dot(x, y), mode=only("local_dot_to_gemm"))
    (node,) = f.maker.fgraph.toposort()
    assert isinstance(node.op, Gemm)
    gz, ga, gx, gy, gb = node.inputs
    assert float(ga.data) == -0.5 and float(gb.data) == 2.0
    assert gx.name == "x" and gy.name == "y" and gz.name == "z"


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gemm_with_two_products_and_extra_terms(dtype):
    z, w, x, y, u, v = (mat(dtype, n) for n in "zwxyuv")
    out = T.dot(x, y) + z - 2 * T.dot(u, v) + w
    vals = [rand((3, 4), dtype), rand((3, 4), dtype), rand((3, 2), dtype), rand((2, 4), dtype),
            rand((3, 5), dtype), rand((5, 4), dtype)]
    f, g = compile_pair([z, w, x, y, u, v], out, only("local_dot_to_gemm"))
    assert count(f, Gemm) == 2 and count(f, Dot) == 0
    assert fired(f, "local_dot_to_gemm") == 2
    same_results(f, g, vals, dtype)


BIASES = {
    "row vector": (lambda b: b, (4,)),
    "column": (lambda b: b.dimshuffle(0, "x"), (3,)),
    "scalar": (lambda b: b, ()),
    "(1, 1) matrix": (lambda b: b, (1, 1)),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("bias", sorted(BIASES))
def test_broadcast_accumulator_is_materialised_with_alloc(bias, dtype):
    """dot(x, W) + b with b broadcast: Gemm gets b stretched to the output's shape by Alloc."""
    shape_fn, bshape = BIASES[bias]
    x, w = mat(dtype, "x"), mat(dtype, "W")
    b = T.TensorType(dtype, shape=tuple(1 if s == 1 else None for s in bshape))("b")
    out = T.dot(x, w) + shape_fn(b)
    vals = [rand((3, 6), dtype), rand((6, 4), dtype), rand(bshape, dtype)]
    f, g = compile_pair([x, w, b], out, only("local_dot_to_gemm"))
    assert count(f, Gemm) == 1 and count(f, Alloc) == 1 and count(f, Dot) == 0
    gemm = [n for n in f.maker.fgraph.toposort() if isinstance(n.op, Gemm)][0]
    assert isinstance(gemm.inputs[0].owner.op, Alloc)  # z is the fresh, full-size array
    same_results(f, g, vals, dtype)
    # the bias is not modified, and repeated calls give the same answer
    before = vals[2].copy()
    same_results(f, g, vals, dtype)
    np.testing.assert_array_equal(vals[2], before)


def test_broadcast_accumulator_keeps_the_shape_errors():
    x, w, b = T.dmatrix("x"), T.dmatrix("W"), T.dvector("b")
    f, g = compile_pair([x, w, b], T.dot(x, w) + b, only("local_dot_to_gemm"))
    assert count(f, Gemm) == 1
    bad = [rand((3, 6)), rand((6, 4)), rand((5,))]
    for fn in (f, g):
        with pytest.raises(ValueError):
            fn(*bad)
    # a bias of runtime length 1 that was not declared broadcastable is an error in both
    for fn in (f, g):
        with pytest.raises(ValueError):
            fn(rand((3, 6)), rand((6, 4)), rand((1,)))


def test_gemm_keeps_runtime_shape_errors():
    z, x, y = T.dmatrices("z", "x", "y")
    f, g = compile_pair([z, x, y], z + T.dot(x, y), only("local_dot_to_gemm"))
    assert count(f, Gemm) == 1
    for fn in (f, g):
        with pytest.raises(ValueError):
            fn(rand((3, 3)), rand((4, 2)), rand((2, 3)))


@pytest.mark.parametrize("case", ["int", "dot used twice", "mixed dtypes", "dot broadcasts", "matrix factor",
                                  "float16", "vector dot vector", "sum of dot only"])
def test_gemm_does_not_fire(case):
    x, y, z = T.dmatrices("x", "y", "z")
    inputs = [x, y, z]
    vals = [rand((3, 4)), rand((4, 5)), rand((3, 5))]
    dtype = "float64"
    if case == "int":
        x, y, z = T.imatrices("x", "y", "z")
        inputs, vals = [x, y, z], [rand((3, 4), "int32"), rand((4, 5), "int32"), rand((3, 5), "int32")]
        outputs = z + 2 * T.dot(x, y)
    elif case == "dot used twice":
        d = T.dot(x, y)
        outputs = [d, z - 0.1 * d]
    elif case == "mixed dtypes":  # the product is float32, the sum float64: Gemm would change precision
        x, y = T.fmatrices("x", "y")
        inputs = [x, y, z]
        vals = [rand((3, 4), "float32"), rand((4, 5), "float32"), rand((3, 5))]
        outputs = z + T.dot(x, y)
    elif case == "dot broadcasts":  # dot(row, y) is stretched over z's rows
        x = mat("float64", "x", (1, None))
        inputs = [x, y, z]
        vals = [rand((1, 4)), rand((4, 5)), rand((3, 5))]
        outputs = z + T.dot(x, y)
    elif case == "matrix factor":  # elementwise scaling by a matrix is not a scalar alpha
        m = T.dmatrix("m")
        inputs = [x, y, z, m]
        vals = vals + [rand((3, 5))]
        outputs = z + m * T.dot(x, y)
    elif case == "float16":
        x, y, z = (mat("float16", n) for n in "xyz")
        inputs, dtype = [x, y, z], "float32"
        vals = [rand((3, 4), "float16"), rand((4, 5), "float16"), rand((3, 5), "float16")]
        outputs = z + T.dot(x, y)
    elif case == "vector dot vector":
        u, v, s = T.dvector("u"), T.dvector("v"), T.dscalar("s")
        inputs, vals = [u, v, s], [rand((4,)), rand((4,)), rand(())]
        outputs = s + T.dot(u, v)
    else:  # no accumulator at all
        inputs, vals = [x, y], vals[:2]
        outputs = 3 * T.dot(x, y)
    for mode in (only(*BLAS_RULES), Mode("py", "fast_run")):
        f, g = compile_pair(inputs, outputs, mode)
        assert not any(isinstance(op, (Gemm, Gemv, Ger)) for op in ops(f)), case
        assert not any(fired(f, name) for name in BLAS_RULES)
        got, want = f(*vals), g(*vals)
        for a, b in zip(got if isinstance(got, list) else [got], want if isinstance(want, list) else [want]):
            assert np.asarray(a).dtype == np.asarray(b).dtype
            np.testing.assert_allclose(a, b, **tol(dtype))


def test_gemm_can_be_excluded_by_name():
    z, x, y = T.dmatrices("z", "x", "y")
    out = z - 0.1 * T.dot(x, y)
    f = theano.function([z, x, y], out, mode=Mode("py", "fast_run").excluding("local_dot_to_gemm"))
    assert count(f, Gemm) == 0 and count(f, Dot) == 1
    f = theano.function([z, x, y], out, mode=Mode("py", "fast_run").excluding("blas"))
    assert count(f, Gemm) == 0
    f = theano.function([z, x, y], out, mode=Mode("py", "fast_run"))
    assert count(f, Gemm) == 1


# --- dot -> Gemv -----------------------------------------------------------------------------

GEMV_FORMS = {
    "z + dot(A, x)": lambda z, A, x, s: z + T.dot(A, x),
    "z - s*dot(x, A.T)": lambda z, A, x, s: z - s * T.dot(x, A.T),
    "2*z - 0.5*dot(A, x)": lambda z, A, x, s: 2 * z - 0.5 * T.dot(A, x),
    "dot(A, x) + s (broadcast)": lambda z, A, x, s: T.dot(A, x) + s + 0 * z.sum(),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("form", sorted(GEMV_FORMS))
def test_gemv_forms(form, dtype):
    z, x = T.vector("z", dtype=dtype), T.vector("x", dtype=dtype)
    A, s = mat(dtype, "A"), T.scalar("s", dtype=dtype)
    out = GEMV_FORMS[form](z, A, x, s)
    vals = [rand((5,), dtype), rand((5, 3), dtype), rand((3,), dtype), rand((), dtype)]
    for mode in (only(*BLAS_RULES), Mode("py", "fast_run")):
        f, g = compile_pair([z, A, x, s], out, mode, on_unused_input="ignore")
        assert fired(f, "local_dot_to_gemv") >= 1 and count(f, Gemv) >= 1
        assert count(f, Dot) == 0
        same_results(f, g, vals, dtype)


def test_gemv_for_vector_times_matrix_uses_the_transpose():
    b, v, W = T.dvector("b"), T.dvector("v"), T.dmatrix("W")
    f, g = compile_pair([b, v, W], b - 0.3 * T.dot(v, W), only("local_dot_to_gemv"))
    (gemv,) = [n for n in f.maker.fgraph.toposort() if isinstance(n.op, Gemv)]
    assert gemv.inputs[2].owner.op.new_order == (1, 0) and gemv.inputs[2].owner.inputs[0] is f.maker.fgraph.inputs[2]
    same_results(f, g, [rand((4,)), rand((6,)), rand((6, 4))], "float64")


def test_gemv_looks_through_a_transpose():
    z, x, A = T.dvector("z"), T.dvector("x"), T.dmatrix("A")
    f, g = compile_pair([z, x, A], z + T.dot(x, A.T), only("local_dot_to_gemv"))
    (gemv,) = [n for n in f.maker.fgraph.toposort() if isinstance(n.op, Gemv)]
    assert gemv.inputs[2] is f.maker.fgraph.inputs[2]  # A itself, no DimShuffle
    same_results(f, g, [rand((4,)), rand((3,)), rand((4, 3))], "float64")


# --- outer -> Ger ----------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_ger_forms(dtype):
    W, u, v, s = mat(dtype, "W"), T.vector("u", dtype=dtype), T.vector("v", dtype=dtype), T.scalar("s", dtype=dtype)
    vals = [rand((4, 3), dtype), rand((4,), dtype), rand((3,), dtype), rand((), dtype)]
    for out in (W - 0.1 * T.outer(u, v), W + s * T.outer(u, v), 2 * W - T.outer(u, v)):
        for mode in (only(*BLAS_RULES), Mode("py", "fast_run")):
            f, g = compile_pair([W, u, v, s], out, mode, on_unused_input="ignore")
            assert fired(f, "local_dot_to_ger") == 1 and count(f, Ger) == 1
            assert count(f, Dot) == 0 and count(f, Gemm) == 0
            same_results(f, g, vals, dtype)


def test_column_times_matrix_with_unknown_rows_is_a_gemm():
    """dot(col, W): the summed length is 1 only on col's side, so W is not a row: Gemm, not Ger."""
    col, W, z = mat("float64", "col", (None, 1)), T.dmatrix("W"), T.dmatrix("z")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a failing rewrite would only warn
        f, g = compile_pair([col, W, z], z + T.dot(col, W), only(*BLAS_RULES))
    assert count(f, Gemm) == 1 and count(f, Ger) == 0
    same_results(f, g, [rand((3, 1)), rand((1, 4)), rand((3, 4))], "float64")


def test_single_example_sgd_update_becomes_ger():
    """The gradient of dot(x, W) for one example is outer(x, g): the update is a rank-1 Ger."""
    x = T.dvector("x")
    W = theano.shared(rand((5, 3)), "W")
    cost = T.sum(T.tanh(T.dot(x, W)))
    new_W = W - 0.05 * T.grad(cost, W)
    f, g = compile_pair([x], new_W, Mode("py", "fast_run"))
    assert count(f, Ger) == 1 and fired(f, "local_dot_to_ger") == 1
    same_results(f, g, [rand((5,))], "float64")


# --- the MLP training step ---------------------------------------------------------------------

def _mlp_step(params, mode):
    x, y = T.fmatrix("x"), T.ivector("y")
    W1, b1, W2, b2 = (theano.shared(p.copy(), name) for p, name in zip(params, ["W1", "b1", "W2", "b2"]))
    hidden = T.tanh(T.dot(x, W1) + b1)
    p_y = T.nnet.softmax(T.dot(hidden, W2) + b2)
    cost = -T.mean(T.log(p_y)[T.arange(y.shape[0]), y])
    shared = [W1, b1, W2, b2]
    grads = T.grad(cost, shared)
    f = theano.function([x, y], cost, updates=[(p, p - 0.01 * g) for p, g in zip(shared, grads)], mode=mode)
    return f, shared


def test_mlp_training_step_uses_gemm_and_matches_the_unrewritten_function():
    params = [rand((784, 500), "float32") * 0.05, rand((500,), "float32") * 0.1,
              rand((500, 10), "float32") * 0.05, rand((10,), "float32") * 0.1]
    f, fast_shared = _mlp_step(params, Mode("py", "fast_run"))
    g, ref_shared = _mlp_step(params, REFERENCE)
    gemms = [op for op in ops(f) if isinstance(op, Gemm)]
    # the two forward products with their biases and the two weight updates
    assert len(gemms) == 4 and fired(f, "local_dot_to_gemm") == 4
    assert count(g, Gemm) == 0
    x = rand((128, 784), "float32")
    y = RNG.integers(0, 10, size=128).astype("int32")
    for _ in range(2):
        np.testing.assert_allclose(f(x, y), g(x, y), rtol=1e-5)
        for a, b in zip(fast_shared, ref_shared):
            np.testing.assert_allclose(a.get_value(), b.get_value(), rtol=1e-4, atol=1e-6)


def test_mlp_specialize_phase_is_fast():
    params = [rand((784, 50), "float32"), rand((50,), "float32"), rand((50, 10), "float32"), rand((10,), "float32")]
    _mlp_step(params, Mode("py", "fast_run"))  # imports and caches warmed up
    best = min(dict(_mlp_step(params, Mode("py", "fast_run"))[0].maker.fgraph.rewrite_timings)["specialize"]
               for _ in range(3))
    assert best < 0.05


# --- integer powers -------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("n", [-8, -7, -5, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7, 8])
def test_integer_powers_become_multiplications(n, dtype):
    x = T.vector("x", dtype=dtype)
    out = x ** n
    f, g = compile_pair([x], out, only("local_pow_specialize"))
    assert fired(f, "local_pow_specialize") == 1
    names = [op.scalar_fn.name for op in ops(f) if isinstance(op, Elemwise)]
    assert "pow" not in names
    if abs(n) >= 2:
        assert names.count("sqr") == int(np.floor(np.log2(abs(n))))  # repeated squaring
    assert (n < 0) == ("inv" in names)
    vals = [rand((50,), dtype, low=0.5)]
    assert f(*vals).dtype == np.dtype(dtype)
    same_results(f, g, vals, dtype)
    f = theano.function([x], out, mode=Mode("py", "fast_run"))  # and within the whole pipeline
    assert not any(isinstance(op, Elemwise) and op.scalar_fn.name == "pow" for op in ops(f))
    same_results(f, g, vals, dtype)


def test_power_zero_and_one_follow_numpy():
    x = T.dvector("x")
    vals = [np.array([np.nan, np.inf, 0.0, -2.0])]
    for out in (x ** 0, x ** 1):
        f, g = compile_pair([x], out, only("local_pow_specialize"))
        assert fired(f, "local_pow_specialize") == 1
        np.testing.assert_array_equal(f(*vals), g(*vals))


@pytest.mark.parametrize("dtype", ["int8", "int32", "int64", "uint16"])
def test_integer_powers_of_integers_are_exact(dtype):
    x = T.vector("x", dtype=dtype)
    vals = [np.arange(-20, 21).astype(dtype) if dtype[0] == "i" else np.arange(0, 40).astype(dtype)]
    outs = [x ** 2, x ** 3, x ** 7, x ** 8]
    f, g = compile_pair([x], outs, only("local_pow_specialize"))
    assert fired(f, "local_pow_specialize") == 4
    for a, b in zip(f(*vals), g(*vals)):  # same wrap-around as NumPy's integer power
        assert a.dtype == b.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(a, b)


def test_power_with_a_float_exponent_of_an_integer_tensor():
    x = T.ivector("x")
    out = x ** np.float64(3.0)
    assert out.dtype == "float64"
    f, g = compile_pair([x], out, only("local_pow_specialize"))
    assert fired(f, "local_pow_specialize") == 1
    same_results(f, g, [np.arange(-5, 6).astype("int32")], "float64")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_half_powers_become_sqrt(dtype):
    x = T.vector("x", dtype=dtype)
    f, g = compile_pair([x], [x ** 0.5, x ** -0.5], only("local_pow_specialize"))
    assert fired(f, "local_pow_specialize") == 2
    names = [op.scalar_fn.name for op in ops(f) if isinstance(op, Elemwise)]
    assert "pow" not in names and "sqrt" in names
    same_results(f, g, [np.abs(rand((20,), dtype, low=0.1))], dtype)


def test_powers_that_are_left_alone():
    x, e = T.dvector("x"), T.dvector("e")
    xi = T.ivector("xi")
    col = T.TensorType("float64", shape=(1,))("col")
    cases = [
        ([x], x ** 2.5),                                         # not an integer
        ([x], x ** 9),                                           # beyond the exponent limit
        ([x, e], x ** e),                                        # not a constant
        ([xi], xi ** -2),                                        # negative power of integers: NumPy's error
        ([col], col ** T.constant(np.full(4, 3.0))),             # the exponent stretches x
        ([x], x ** T.constant(np.array([2.0, 3.0, 2.0]))),      # not one value
    ]
    for inputs, out in cases:
        f = theano.function(inputs, out, mode=only("local_pow_specialize"))
        assert fired(f, "local_pow_specialize") == 0, out
    f, g = compile_pair([xi], xi ** -2, only("local_pow_specialize"))
    for fn in (f, g):
        with pytest.raises(ValueError, match="negative integer powers"):
            fn(np.array([1, 2], dtype="int32"))
    f, g = compile_pair([col], col ** T.constant(np.full(4, 3.0)), Mode("py", "fast_run"))
    np.testing.assert_allclose(f(np.array([1.5])), g(np.array([1.5])))


# --- sum of products -> dot ------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(7,), (1,), (0,), (4, 5), (2, 3, 4)])
def test_sum_of_product_becomes_dot(shape, dtype):
    x, y = (T.TensorType(dtype, shape=(None,) * len(shape))(n) for n in "xy")
    outs = [T.sum(x * y), T.sum(T.sqr(x)), (x * y).sum() / 3]
    f, g = compile_pair([x, y], outs, only("local_sum_mul_to_dot"))
    assert fired(f, "local_sum_mul_to_dot") == 3
    assert count(f, Dot) == 3 and count(f, Reduce) == 0
    vals = [rand(shape, dtype), rand(shape, dtype)]
    for a in f(*vals):
        assert a.dtype == np.dtype(dtype) and a.shape == ()
    same_results(f, g, vals, dtype)


def test_sum_of_product_in_the_full_pipeline_and_mean():
    x, y = T.fvector("x"), T.fvector("y")
    f, g = compile_pair([x, y], [T.mean(x * y), T.sum(T.sqr(x - y))], Mode("py", "fast_run"))
    # mean's divisor reads the product's shape: it reads x's instead, so the product is gone
    assert fired(f, "local_sum_mul_to_dot") == 3
    assert count(f, Dot) == 2 and count(f, Reduce) == 0
    assert not any("mul" in str(op) or "sqr" in str(op) for op in ops(f))
    same_results(f, g, [rand((100,), "float32"), rand((100,), "float32")], "float32")


def test_l2_penalty_and_its_gradient():
    """sum(sqr(W)) in a cost: the gradient reads sqr(W) only for its shape (second), which W gives too."""
    W = theano.shared(rand((6, 4)), "W")
    x = T.dvector("x")
    cost = T.sum(T.dot(x, W)) + 1e-2 * T.sqr(W).sum()
    f, g = compile_pair([x], [cost, W - 0.1 * T.grad(cost, W)], Mode("py", "fast_run"))
    assert fired(f, "local_sum_mul_to_dot") >= 1
    assert not any(isinstance(op, Elemwise) and op.scalar_fn.name == "sqr" for op in ops(f))
    assert count(f, Reduce) == 1  # only the sum of dot(x, W) is left
    same_results(f, g, [rand((6,))], "float64")


def test_sum_of_mixed_precision_product_casts_first():
    x, w = T.fvector("x"), T.dvector("w")  # as in the tutorial's minimal training example
    f, g = compile_pair([x, w], (x * w).sum(), only("local_sum_mul_to_dot"))
    assert fired(f, "local_sum_mul_to_dot") == 1
    xv, wv = rand((6,), "float32"), rand((6,))
    assert f(xv, wv).dtype == np.float64
    np.testing.assert_allclose(f(xv, wv), g(xv, wv), rtol=1e-12)


def test_sum_of_product_left_alone():
    x, y = T.dvectors("x", "y")
    m, n = T.dmatrices("m", "n")
    xi, yi = T.ivectors("xi", "yi")
    one = T.TensorType("float64", shape=(1,))("one")
    z = T.dvector("z")
    cases = [
        ([xi, yi], T.sum(xi * yi)),                   # integers
        ([m, n], T.sum(m * n, axis=0)),               # not every axis
        ([x, one], T.sum(x * one)),                   # broadcasting
        ([x, y, z], T.sum(T.mul(x, y, z))),           # three factors
        ([x, y], T.sum(x + y)),                       # not a product
        ([x, y], T.sum(x * y, dtype="float32")),      # another dtype
    ]
    for inputs, out in cases:
        f = theano.function(inputs, out, mode=only("local_sum_mul_to_dot"))
        assert fired(f, "local_sum_mul_to_dot") == 0, out
    prod = x * y  # the product is an output too: computing it once is cheaper
    f, g = compile_pair([x, y], [prod, T.sum(prod)], only("local_sum_mul_to_dot"))
    assert fired(f, "local_sum_mul_to_dot") == 0
    f, g = compile_pair([x, one], T.sum(x * one), Mode("py", "fast_run"))
    same_results(f, g, [rand((5,)), rand((1,))], "float64")
