"""arange, eye, identity_like, tri, tril, triu, diag, diagonal and fill_diagonal against NumPy."""
import numpy as np
import pytest

import theano
import theano.tensor as T
from arignote.config import config
from arignote.gradient import verify_grad
from arignote.tensor.construct import ARange, AllocDiag, ExtractDiag, Eye, FillDiagonal, Tri

RNG = np.random.default_rng(77)


def rand(shape, dtype="float64"):
    kind = np.dtype(dtype).kind
    if kind == "b":
        return RNG.integers(0, 2, size=shape).astype(bool)
    if kind in "iu":
        return RNG.integers(0 if kind == "u" else -5, 6, size=shape).astype(dtype)
    return RNG.standard_normal(shape).astype(dtype)


def sym(value, name):
    return T.TensorType(value.dtype, shape=(None,) * value.ndim)(name)


def both(out, inputs, values):
    r1 = theano.function(inputs, out)(*values)
    r2 = out.eval(dict(zip(inputs, values)))
    np.testing.assert_array_equal(r1, r2)
    assert isinstance(r1, np.ndarray) and r1.dtype == np.dtype(out.dtype), (type(r1), out.dtype)
    return r1


def check_infer_shape(out, inputs, values):
    """The op's infer_shape, evaluated on the inputs' real shapes, gives the output's real shape."""
    node = out.owner
    dims = [[T.lscalar() for _ in range(i.ndim)] for i in node.inputs]
    (inferred,) = node.op.infer_shape(None, node, [tuple(d) for d in dims])
    computed = theano.function(inputs, node.inputs + [out], on_unused_input="ignore")(*values)
    dim_vars = [d for ds in dims for d in ds]
    dim_vals = [np.int64(s) for v in computed[:-1] for s in np.shape(v)]
    symbolic = [T.as_tensor_variable(e) for e in inferred if not isinstance(e, (int, np.integer))]
    vals = iter(theano.function(list(inputs) + dim_vars, symbolic, on_unused_input="ignore")(*values, *dim_vals))
    got = [int(e) if isinstance(e, (int, np.integer)) else int(next(vals)) for e in inferred]
    assert got == list(computed[-1].shape)


# --- arange ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("args", [(5,), (0,), (2, 9), (2, 9, 3), (9, 2, -2), (3, 3), (5, 2), (-4, 4, 3)])
def test_arange_python_ints(args):
    out = T.arange(*args)
    expected = np.arange(*args)
    assert out.dtype == "int64"
    assert out.type.shape == expected.shape
    np.testing.assert_array_equal(both(out, [], []), expected)


@pytest.mark.parametrize("args", [(2.5,), (0.5, 3.0), (1.0, 0.0, -0.25), (0, 1, 0.1), (-1.5, 2.2, 0.7)])
def test_arange_python_floats(args):
    out = T.arange(*args)
    assert out.dtype == config.floatX
    np.testing.assert_allclose(both(out, [], []), np.arange(*args).astype(config.floatX))


@pytest.mark.parametrize("dtypes,expected_dtype", [
    (("int32", "int32", "int32"), "int64"), (("int8", "int16", "int8"), "int64"),
    (("uint8", "uint16", "uint8"), "uint64"), (("float32", "float32", "float32"), "float32"),
    (("int32", "float32", "int32"), "float64"), (("float64", "float32", "int8"), "float64"),
])
def test_arange_symbolic_dtype_rule(dtypes, expected_dtype):
    start, stop, step = (T.TensorType(d, shape=())(n) for d, n in zip(dtypes, ("start", "stop", "step")))
    out = T.arange(start, stop, step)
    assert out.dtype == expected_dtype
    assert out.type.shape == (None,)
    values = [np.asarray(v, dtype=d) for v, d in zip((1, 9, 2), dtypes)]
    np.testing.assert_array_equal(both(out, [start, stop, step], values), np.arange(1, 9, 2))
    check_infer_shape(out, [start, stop, step], values)


def test_arange_static_length_without_building_it():
    assert T.arange(10 ** 12).type.shape == (10 ** 12,)
    assert T.arange(2 ** 62, 2 ** 62 + 7, 2).type.shape == (4,)
    for args in [(0, 1, 0.1), (1.0, 0.0, -0.25), (0.5, 3, 1), (3, 0.5, -1)]:
        assert T.arange(*args).type.shape == np.arange(*args).shape, args


def test_arange_python_numbers_adapt_to_symbolic_arguments():
    n = T.fscalar("n")
    assert T.arange(n).dtype == "float32"
    assert T.arange(0.5, n, 0.5).dtype == "float32"
    assert T.arange(T.iscalar()).dtype == "int64"
    assert T.arange(T.bscalar(), 10).dtype == "int64"
    assert T.arange(3, dtype="float32").dtype == "float32"
    np.testing.assert_allclose(T.arange(0.5, n, 0.5).eval({n: np.float32(2.2)}),
                               np.arange(0.5, 2.2, 0.5, dtype="float32"))


@pytest.mark.parametrize("start,stop,step", [(0, 10, 1), (10, 0, -3), (5, 5, 1), (7, 2, 1), (-3, 8, 4), (1, 2, 5)])
def test_arange_symbolic_lengths(start, stop, step):
    a, b, c = T.lscalars("a", "b", "c")
    out = T.arange(a, b, c)
    np.testing.assert_array_equal(both(out, [a, b, c], [start, stop, step]), np.arange(start, stop, step))
    check_infer_shape(out, [a, b, c], [np.int64(start), np.int64(stop), np.int64(step)])
    x, y, z = T.dscalars("x", "y", "z")
    out = T.arange(x, y, z)
    values = [start + 0.3, stop + 0.1, step * 0.7]
    np.testing.assert_allclose(both(out, [x, y, z], values), np.arange(*values))
    check_infer_shape(out, [x, y, z], values)


def test_arange_grad():
    verify_grad(lambda a, s: T.arange(a, 5.0, s), [np.array(0.25), np.array(0.7)], rng=np.random.default_rng(0))
    start, stop, step = T.dscalars("start", "stop", "step")
    gstop = T.grad(T.sum(T.arange(start, stop, step)), stop, disconnected_inputs="ignore")
    assert float(gstop.eval({stop: 3.0})) == 0.0
    n = T.lscalar("n")
    g = T.grad(T.sum(T.cast(T.arange(n), "float64") ** 2), n, disconnected_inputs="ignore")
    assert float(g.eval({n: 4})) == 0.0


def test_arange_errors():
    with pytest.raises(ValueError, match="step is 0"):
        T.arange(0, 5, 0)
    step = T.lscalar("step")
    f = theano.function([step], T.arange(0, 5, step))
    with pytest.raises(ValueError, match="step is 0"):
        f(0)
    with pytest.raises(TypeError, match="stop must be a scalar"):
        T.arange(T.dvector("v"))
    with pytest.raises(TypeError, match="must be real"):
        T.arange(T.zscalar("z"))
    assert ARange("int64") == ARange("int64") and ARange("int64") != ARange("int32")


# --- eye, identity_like, tri ----------------------------------------------------------------------------


@pytest.mark.parametrize("n,m,k", [(3, None, 0), (3, 5, 1), (4, 2, -1), (3, 3, 5), (0, 2, 0), (2, 3, -3)])
@pytest.mark.parametrize("dtype", [None, "float32", "int32", "bool"])
def test_eye_and_tri(n, m, k, dtype):
    for fn, ref in ((T.eye, np.eye), (T.tri, np.tri)):
        out = fn(n, m, k, dtype=dtype)
        expected = ref(n, m, k, dtype=dtype or config.floatX)
        assert out.dtype == expected.dtype.name
        assert out.type.shape == expected.shape
        np.testing.assert_array_equal(both(out, [], []), expected)


def test_eye_tri_symbolic_sizes():
    n, m, k = T.lscalars("n", "m", "k")
    for fn, ref in ((T.eye, np.eye), (T.tri, np.tri)):
        out = fn(n, m, k)
        assert out.type.shape == (None, None)
        np.testing.assert_array_equal(both(out, [n, m, k], [3, 4, -1]), ref(3, 4, -1))
        check_infer_shape(out, [n, m, k], [np.int64(3), np.int64(4), np.int64(-1)])
        f = theano.function([n, m, k], out)
        with pytest.raises(ValueError, match="negative size"):
            f(-1, 2, 0)
    with pytest.raises(ValueError, match="size -2 is negative"):
        T.eye(-2)
    with pytest.raises(TypeError, match="number of rows must be an integer scalar"):
        T.eye(2.5)
    assert Eye("float64") == Eye("float64") and Eye("float64") != Tri("float64")


@pytest.mark.parametrize("shape", [(3, 3), (2, 5), (4, 1)])
@pytest.mark.parametrize("dtype", ["float32", "int64"])
def test_identity_like(shape, dtype):
    value = rand(shape, dtype)
    x = sym(value, "x")
    out = T.identity_like(x)
    assert out.dtype == dtype
    np.testing.assert_array_equal(both(out, [x], [value]), np.eye(*shape, dtype=dtype))
    static = T.TensorType(dtype, shape=shape)("s")
    assert T.identity_like(static).type.shape == shape
    with pytest.raises(TypeError, match="must be a matrix"):
        T.identity_like(T.dvector("v"))


# --- tril / triu ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(4, 4), (3, 5), (5, 2), (2, 3, 4)])
@pytest.mark.parametrize("k", [0, 1, -2])
@pytest.mark.parametrize("dtype", ["float64", "int32", "bool"])
def test_tril_triu(shape, k, dtype):
    value = rand(shape, dtype)
    x = sym(value, "x")
    for fn, ref in ((T.tril, np.tril), (T.triu, np.triu)):
        out = fn(x, k)
        assert out.dtype == dtype
        np.testing.assert_array_equal(both(out, [x], [value]), ref(value, k))


def test_tril_triu_keep_nonfinite_values_and_grad():
    value = np.array([[np.inf, 1.0], [np.nan, -np.inf]])
    x = T.dmatrix("x")
    np.testing.assert_array_equal(T.tril(x).eval({x: value}), np.tril(value))
    np.testing.assert_array_equal(T.triu(x).eval({x: value}), np.triu(value))
    k = T.lscalar("k")
    np.testing.assert_array_equal(T.triu(x, k).eval({x: value, k: 1}), np.triu(value, 1))
    verify_grad(lambda m: T.tril(m, -1), [rand((3, 4))], rng=np.random.default_rng(0))
    verify_grad(lambda m: T.triu(m, 1), [rand((2, 3, 3))], rng=np.random.default_rng(0))
    with pytest.raises(TypeError, match="at least 2 dimensions"):
        T.tril(T.dvector("v"))


# --- diag / AllocDiag / diagonal ------------------------------------------------------------------------


@pytest.mark.parametrize("n,k", [(3, 0), (4, 2), (2, -1), (0, 1)])
@pytest.mark.parametrize("dtype", ["float64", "float32", "int16", "bool"])
def test_diag_of_vector(n, k, dtype):
    value = rand((n,), dtype)
    v = sym(value, "v")
    out = T.diag(v, k)
    assert out.dtype == dtype
    np.testing.assert_array_equal(both(out, [v], [value]), np.diag(value, k))
    check_infer_shape(out, [v], [value])


@pytest.mark.parametrize("shape,k", [((3, 3), 0), ((3, 5), 1), ((4, 2), -1), ((3, 3), 4), ((2, 3), -5)])
def test_diag_of_matrix(shape, k):
    value = rand(shape)
    m = sym(value, "m")
    np.testing.assert_array_equal(both(T.diag(m, k), [m], [value]), np.diag(value, k))


def test_diag_static_shapes_and_errors():
    assert T.diag(T.TensorType("float64", shape=(3,))()).type.shape == (3, 3)
    assert T.diag(T.TensorType("float64", shape=(3,))(), -2).type.shape == (5, 5)
    assert T.diag(T.TensorType("float64", shape=(3, 5))(), 1).type.shape == (3,)
    with pytest.raises(ValueError, match="vector or a matrix.*3 dimensions"):
        T.diag(T.dtensor3("t"))
    with pytest.raises(TypeError, match="k must be an int"):
        T.diag(T.dvector(), T.lscalar())


@pytest.mark.parametrize("offset,axis1,axis2", [(0, 0, 1), (1, 0, 2), (-1, 2, 0), (0, 1, 2), (2, -1, -3)])
def test_alloc_diag_nd_inverts_extract_diag(offset, axis1, axis2):
    value = rand((2, 3))
    v = sym(value, "v")
    out = AllocDiag(offset, axis1, axis2)(v)
    result = both(out, [v], [value])
    assert result.ndim == 3
    np.testing.assert_array_equal(np.diagonal(result, offset, axis1, axis2), value)
    assert np.count_nonzero(result) == np.count_nonzero(value)
    check_infer_shape(out, [v], [value])
    verify_grad(lambda w: AllocDiag(offset, axis1, axis2)(w), [value], rng=np.random.default_rng(0))


@pytest.mark.parametrize("shape,offset,axis1,axis2", [
    ((3, 4), 0, 0, 1), ((3, 4), 2, 0, 1), ((4, 3), -1, 0, 1), ((3, 4), 1, 1, 0), ((2, 3, 4), 0, 0, 2),
    ((2, 3, 4), -1, 2, 1), ((2, 3, 4), 1, -1, -2), ((3, 4), 9, 0, 1),
])
@pytest.mark.parametrize("dtype", ["float64", "float32", "int8", "bool"])
def test_diagonal_matches_numpy(shape, offset, axis1, axis2, dtype):
    value = rand(shape, dtype)
    x = sym(value, "x")
    out = T.diagonal(x, offset, axis1, axis2)
    expected = np.diagonal(value, offset, axis1, axis2)
    assert out.dtype == dtype and out.ndim == expected.ndim
    result = both(out, [x], [value])
    np.testing.assert_array_equal(result, expected)
    assert result.flags.writeable  # a copy, not numpy's read-only view
    check_infer_shape(out, [x], [value])
    static = T.TensorType(dtype, shape=shape)("s")
    assert T.diagonal(static, offset, axis1, axis2).type.shape == expected.shape


@pytest.mark.parametrize("shape,offset,axis1,axis2", [((3, 4), 1, 0, 1), ((4, 3), -2, 0, 1), ((2, 3, 3), 0, 1, 2),
                                                      ((2, 3, 4), 1, 2, 0)])
def test_diagonal_grad(shape, offset, axis1, axis2):
    verify_grad(lambda m: T.diagonal(m, offset, axis1, axis2), [rand(shape)], rng=np.random.default_rng(0))
    # second order: the gradient op differentiates back to ExtractDiag
    x = T.dmatrix("x")
    g = T.grad(T.sum(T.diagonal(x) ** 3), x)
    h = T.grad(T.sum(g), x)
    value = rand((3, 3))
    np.testing.assert_allclose(h.eval({x: value}), np.diag(6 * np.diagonal(value)))


def test_diagonal_errors():
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        T.diagonal(T.dvector("v"))
    with pytest.raises(ValueError, match="axis1 and axis2 are both 1"):
        T.diagonal(T.dmatrix(), 0, 1, -1)
    with pytest.raises(ValueError, match="axis 3 is out of range"):
        T.diagonal(T.dtensor3(), 0, 0, 3)
    assert ExtractDiag(1) == ExtractDiag(1) and ExtractDiag(1) != ExtractDiag(0)


def test_trace_and_method_forms():
    value = rand((4, 4))
    x = T.dmatrix("x")
    np.testing.assert_allclose(T.diagonal(x).sum().eval({x: value}), np.trace(value))


# --- fill_diagonal ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(3, 3), (2, 5), (5, 2), (3, 3, 3)])
@pytest.mark.parametrize("dtype", ["float64", "float32", "int32"])
def test_fill_diagonal_matches_numpy(shape, dtype):
    value = rand(shape, dtype)
    original = value.copy()
    a = sym(value, "a")
    out = T.fill_diagonal(a, 7)
    expected = value.copy()
    np.fill_diagonal(expected, 7)
    assert out.dtype == dtype
    np.testing.assert_array_equal(both(out, [a], [value]), expected)
    np.testing.assert_array_equal(value, original)  # the input is not modified in place
    check_infer_shape(out, [a], [value])


def test_fill_diagonal_symbolic_value_and_grad():
    value = rand((3, 4))
    a, v = T.dmatrix("a"), T.dscalar("v")
    expected = value.copy()
    np.fill_diagonal(expected, -2.5)
    result = both(T.fill_diagonal(a, v), [a, v], [value, -2.5])
    np.testing.assert_array_equal(result, expected)
    assert not np.shares_memory(result, value)
    verify_grad(T.fill_diagonal, [rand((3, 4)), np.array(1.5)], rng=np.random.default_rng(0))
    verify_grad(T.fill_diagonal, [rand((3, 3, 3)), np.array(1.5)], rng=np.random.default_rng(0))
    f = T.fscalar("f")
    assert T.fill_diagonal(T.dmatrix(), f).dtype == "float64"


def test_fill_diagonal_errors():
    with pytest.raises(TypeError, match="at least 2 dimensions"):
        T.fill_diagonal(T.dvector("v"), 1.0)
    with pytest.raises(TypeError, match="val must be a scalar"):
        T.fill_diagonal(T.dmatrix(), T.dvector("w"))
    with pytest.raises(TypeError, match="cannot put float64 value 'd' into 'm' of int32"):
        T.fill_diagonal(T.imatrix("m"), T.dscalar("d"))
    with pytest.raises(ValueError, match="must be equal"):
        T.fill_diagonal(T.TensorType("float64", shape=(2, 3, 3))("t"), 0.0)
    t = T.dtensor3("t")
    f = theano.function([t], T.fill_diagonal(t, 0.0))
    with pytest.raises(ValueError, match="fill_diagonal: 't' of shape \\(2, 3, 3\\)"):
        f(rand((2, 3, 3)))
    assert FillDiagonal() == FillDiagonal()


@pytest.mark.parametrize("shape", [(3, 3), (2, 5), (5, 2)])
@pytest.mark.parametrize("offset", [0, 1, -1, 3, -4, 7])
def test_fill_diagonal_offset(shape, offset):
    value = rand(shape)
    a, off = T.dmatrix("a"), T.lscalar("off")
    out = T.fill_diagonal_offset(a, 9.0, off)
    expected = value.copy()
    n = max(0, min(shape[0] + min(0, offset), shape[1] - max(0, offset)))
    i = np.arange(n)
    expected[i + max(0, -offset), i + max(0, offset)] = 9.0
    assert (np.diagonal(expected, offset) == 9.0).all()
    np.testing.assert_array_equal(both(out, [a, off], [value, offset]), expected)
    verify_grad(lambda m, v: T.fill_diagonal_offset(m, v, offset), [value, np.array(0.5)],
                rng=np.random.default_rng(0))
    with pytest.raises(TypeError, match="must be a matrix"):
        T.fill_diagonal_offset(T.dtensor3("t"), 1.0, 0)
