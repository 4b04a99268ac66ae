"""cumsum, cumprod, diff, repeat, to_one_hot, bincount, (un)ravel indices and compress against NumPy."""
import numpy as np
import pytest

import theano
import theano.tensor as T
from arignote.config import config
from arignote.gradient import verify_grad
from theano.tensor import extra_ops
from arignote.tensor.extra_ops import Bincount, CumOp, DiffOp, OneHot, RepeatOp

RNG = np.random.default_rng(99)


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
    given = dict(zip(inputs, values))
    r2 = [o.eval(given) for o in out] if isinstance(out, (list, tuple)) else out.eval(given)
    for a, b, v in zip(*(([r1], [r2], [out]) if not isinstance(out, (list, tuple)) else (r1, r2, out))):
        np.testing.assert_array_equal(a, b)
        assert isinstance(a, np.ndarray) and a.dtype == np.dtype(v.dtype), (type(a), v.dtype)
    return r1


def check_infer_shape(outputs, inputs, values):
    """The op's infer_shape, evaluated on the inputs' real shapes, gives the outputs' real shapes."""
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    node = outputs[0].owner
    dims = [[T.lscalar() for _ in range(i.ndim)] for i in node.inputs]
    inferred = node.op.infer_shape(None, node, [tuple(d) for d in dims])
    computed = theano.function(inputs, node.inputs + node.outputs, on_unused_input="ignore")(*values)
    dim_vars = [d for ds in dims for d in ds]
    dim_vals = [np.int64(s) for v in computed[: len(node.inputs)] for s in np.shape(v)]
    entries = [e for shp in inferred for e in shp]
    symbolic = [T.as_tensor_variable(e) for e in entries if not isinstance(e, (int, np.integer))]
    vals = iter(theano.function(list(inputs) + dim_vars, symbolic, on_unused_input="ignore")(*values, *dim_vals))
    got = [int(e) if isinstance(e, (int, np.integer)) else int(next(vals)) for e in entries]
    assert got == [s for v in computed[len(node.inputs):] for s in np.shape(v)]


# --- cumsum / cumprod ---------------------------------------------------------------------------------


@pytest.mark.parametrize("shape,axis", [((5,), None), ((5,), 0), ((5,), -1), ((3, 4), None), ((3, 4), 0),
                                        ((3, 4), -1), ((2, 3, 4), 1), ((2, 0, 3), 2), ((), None)])
@pytest.mark.parametrize("dtype", ["float64", "float32", "int8", "uint16", "bool"])
def test_cumsum_cumprod_match_numpy(shape, axis, dtype):
    value = rand(shape, dtype)
    x = sym(value, "x")
    for fn, ref in ((T.cumsum, np.cumsum), (T.cumprod, np.cumprod)):
        out = fn(x, axis)
        expected = ref(value, axis=axis)
        assert out.dtype == expected.dtype.name, (fn, out.dtype, expected.dtype)
        assert out.ndim == expected.ndim
        np.testing.assert_allclose(both(out, [x], [value]), expected, rtol=1e-5)
        check_infer_shape(out, [x], [value])


def test_cumsum_methods_and_static_shape():
    value = rand((3, 4))
    x = T.dmatrix("x")
    np.testing.assert_allclose(x.cumsum(1).eval({x: value}), np.cumsum(value, 1))
    np.testing.assert_allclose(x.cumprod().eval({x: value}), np.cumprod(value))
    s = T.TensorType("float32", shape=(3, 4))("s")
    assert T.cumsum(s).type.shape == (12,)
    assert T.cumprod(s, 0).type.shape == (3, 4)
    assert extra_ops.cumsum is T.cumsum


@pytest.mark.parametrize("shape,axis", [((5,), None), ((3, 4), 0), ((3, 4), -1), ((2, 3, 4), None), ((2, 3, 4), 1)])
def test_cumsum_grad(shape, axis):
    verify_grad(lambda v: T.cumsum(v, axis), [rand(shape)], rng=np.random.default_rng(0))


@pytest.mark.parametrize("value,axis", [
    (RNG.uniform(0.5, 1.5, (6,)), None),
    (RNG.uniform(0.5, 1.5, (3, 4)), 1),
    (np.array([1.5, 0.0, 2.0, -1.2, 0.7]), 0),                 # one zero
    (np.array([1.5, 0.0, 2.0, 0.0, 0.7, 1.1]), 0),             # two zeros
    (np.array([0.0, 0.0, 2.0]), 0),                            # zero first
    (np.array([[1.2, 0.0, 2.0], [0.0, 3.0, 0.5], [0.5, 0.9, 1.1]]), 0),
    (np.array([[1.2, 0.0, 2.0], [0.0, 3.0, 0.5], [0.5, 0.9, 1.1]]), -1),
    (np.array([[1.2, 0.0], [0.5, 0.0]]), None),
])
def test_cumprod_grad_exact_with_zeros(value, axis):
    verify_grad(lambda v: T.cumprod(v, axis), [value], rng=np.random.default_rng(0))
    # against the analytic Jacobian: d out_j / d x_i = prod_{k<=j, k!=i} x_k for i <= j
    x = T.dvector("x")
    flat = value.reshape(-1) if axis is None else np.moveaxis(value, axis, -1).reshape(-1, value.shape[axis])[0]
    w = RNG.standard_normal(flat.shape)
    g = T.grad(T.sum(T.cumprod(x) * w), x).eval({x: flat})
    n = flat.size
    expected = [sum(w[j] * np.prod([flat[k] for k in range(j + 1) if k != i]) for j in range(i, n)) for i in range(n)]
    np.testing.assert_allclose(g, expected, rtol=1e-10, atol=1e-12)


def test_cum_int_input_grad_is_zero_and_errors():
    x = T.ivector("x")
    w = T.dscalar("w")
    g = T.grad(T.sum(T.cumsum(x) * w), x)
    assert g.dtype == config.floatX
    np.testing.assert_array_equal(g.eval({x: np.array([1, 2], "int32"), w: 2.0}), [0.0, 0.0])
    with pytest.raises(ValueError, match="axis 2 is out of range.*'m'"):
        T.cumsum(T.dmatrix("m"), 2)
    with pytest.raises(ValueError, match="scalar"):
        T.cumprod(T.dscalar("s"), 0)
    with pytest.raises(ValueError, match="mode must be"):
        CumOp(0, "max")
    assert CumOp(0, "add") == CumOp(0, "add") and CumOp(0, "add") != CumOp(0, "mul")


# --- diff -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape,n,axis", [((6,), 1, -1), ((6,), 3, 0), ((3, 5), 1, 0), ((3, 5), 2, -1),
                                          ((2, 3, 4), 1, 1), ((4,), 5, 0), ((4,), 0, 0), ((3, 2), 2, 1)])
@pytest.mark.parametrize("dtype", ["float64", "float32", "int32", "uint8", "bool"])
def test_diff_matches_numpy(shape, n, axis, dtype):
    value = rand(shape, dtype)
    x = sym(value, "x")
    out = T.diff(x, n, axis)
    expected = np.diff(value, n, axis)
    assert out.dtype == expected.dtype.name and out.ndim == expected.ndim
    np.testing.assert_array_equal(both(out, [x], [value]), expected)
    if n:
        check_infer_shape(out, [x], [value])
        static = T.TensorType(dtype, shape=shape)("s")
        assert T.diff(static, n, axis).type.shape == expected.shape


@pytest.mark.parametrize("shape,n,axis", [((6,), 1, -1), ((6,), 3, 0), ((3, 5), 2, 0), ((2, 3, 4), 1, 1),
                                          ((3,), 4, 0), ((4, 3), 3, -1)])
def test_diff_grad(shape, n, axis):
    verify_grad(lambda v: T.diff(v, n, axis), [rand(shape)], rng=np.random.default_rng(0))
    x = T.dvector("x")
    g = T.grad(T.sum(T.diff(x) ** 2), x)
    h = T.grad(T.sum(g * g), x)  # second order goes through the gradient op
    verify_grad(lambda v: T.grad(T.sum(T.diff(v, 2) ** 2), v), [rand((5,))], rng=np.random.default_rng(1))
    assert h.ndim == 1


def test_diff_errors():
    with pytest.raises(ValueError, match="non-negative int"):
        T.diff(T.dvector(), -1)
    with pytest.raises(ValueError, match="scalar"):
        T.diff(T.dscalar("s"))
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        T.diff(T.dmatrix(), 1, 2)
    assert DiffOp(1, 0) == DiffOp(1, 0) and DiffOp(1, 0) != DiffOp(2, 0)


# --- repeat -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape,repeats,axis", [
    ((4,), 3, None), ((4,), [1, 0, 2, 3], 0), ((2, 3), 2, None), ((2, 3), 2, 0), ((2, 3), [3, 0, 1], 1),
    ((2, 3), [2], -1), ((2, 3, 2), [1, 2], -3), ((2, 3), 0, 1), ((2, 2), [0, 1, 2, 0], None),
])
@pytest.mark.parametrize("dtype", ["float64", "float32", "int16", "bool"])
def test_repeat_matches_numpy(shape, repeats, axis, dtype):
    value = rand(shape, dtype)
    x = sym(value, "x")
    out = T.repeat(x, repeats, axis)
    expected = np.repeat(value, repeats, axis)
    assert out.dtype == dtype and out.ndim == expected.ndim
    np.testing.assert_array_equal(both(out, [x], [value]), expected)
    check_infer_shape(out, [x], [value])
    static = T.TensorType(dtype, shape=shape)("s")
    assert T.repeat(static, repeats, axis).type.shape == expected.shape


def test_repeat_symbolic_repeats():
    value = rand((3, 2))
    x = T.dmatrix("x")
    r = T.lscalar("r")
    rv = T.ivector("rv")
    out = T.repeat(x, r, 0)
    np.testing.assert_array_equal(both(out, [x, r], [value, 2]), np.repeat(value, 2, 0))
    check_infer_shape(out, [x, r], [value, np.int64(2)])
    out = T.repeat(x, rv, 0)
    counts = np.array([2, 0, 1], "int32")
    np.testing.assert_array_equal(both(out, [x, rv], [value, counts]), np.repeat(value, counts, 0))
    check_infer_shape(out, [x, rv], [value, counts])
    ru = T.TensorType("uint64", shape=())("ru")
    np.testing.assert_array_equal(both(T.repeat(x, ru, 1), [x, ru], [value, np.uint64(2)]), np.repeat(value, 2, 1))
    # a single count in a vector of unknown length broadcasts, as in NumPy
    np.testing.assert_array_equal(both(out, [x, rv], [value, np.array([3], "int32")]), np.repeat(value, [3], 0))
    check_infer_shape(out, [x, rv], [value, np.array([3], "int32")])


@pytest.mark.parametrize("repeats,axis", [(2, None), (3, 0), ([1, 0, 3], 1), ([2, 1], 0), ([0, 1, 2, 1, 0, 3], None),
                                          (0, 1)])
def test_repeat_grad(repeats, axis):
    verify_grad(lambda v: T.repeat(v, repeats, axis), [rand((2, 3))], rng=np.random.default_rng(0))
    x, r = T.dvector("x"), T.lvector("r")
    g = T.grad(T.sum(T.repeat(x, r) ** 2), x)
    h = T.grad(T.sum(g), x)  # second order through the gradient op
    value, counts = rand((3,)), np.array([2, 0, 3])
    np.testing.assert_allclose(g.eval({x: value, r: counts}), 2 * value * counts)
    np.testing.assert_allclose(h.eval({x: value, r: counts}), 2.0 * counts)


def test_repeat_errors():
    with pytest.raises(TypeError, match="repeats must be an integer"):
        T.repeat(T.dvector(), 1.5)
    with pytest.raises(TypeError, match="repeats must be an integer"):
        T.repeat(T.dvector(), T.lmatrix())
    with pytest.raises(ValueError, match="negative count"):
        T.repeat(T.dvector(), -1)
    with pytest.raises(ValueError, match="3 repeat counts for 2 elements along axis 0 of 'v'"):
        T.repeat(T.TensorType("float64", shape=(2,))("v"), [1, 2, 3], 0)
    with pytest.raises(ValueError, match="axis 1 is out of range"):
        T.repeat(T.dvector(), 2, 1)
    x, r = T.dvector("x"), T.lvector("r")
    f = theano.function([x, r], T.repeat(x, r, 0))
    with pytest.raises(ValueError, match=r"cannot repeat 'x' of shape \(3,\) by \[1, 2\]"):
        f(rand((3,)), np.array([1, 2]))
    assert RepeatOp(0) == RepeatOp(0) and RepeatOp(0) != RepeatOp(None)


# --- to_one_hot ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [None, "float32", "int8", "bool"])
@pytest.mark.parametrize("label_dtype", ["int32", "int64", "uint8"])
def test_to_one_hot(dtype, label_dtype):
    labels = RNG.integers(0, 4, size=7).astype(label_dtype)
    y = sym(labels, "y")
    out = extra_ops.to_one_hot(y, 4, dtype=dtype)
    expected = np.eye(4, dtype=dtype or config.floatX)[labels]
    assert out.dtype == expected.dtype.name and out.type.shape == (None, 4)
    np.testing.assert_array_equal(both(out, [y], [labels]), expected)
    check_infer_shape(out, [y], [labels])


def test_to_one_hot_symbolic_classes_nd_labels_and_errors():
    labels = np.array([[0, 2], [1, 1]])
    y, n = T.lmatrix("y"), T.lscalar("n")
    out = extra_ops.to_one_hot(y, n)
    np.testing.assert_array_equal(both(out, [y, n], [labels, 3]), np.eye(3)[labels])
    f = theano.function([y, n], out)
    with pytest.raises(ValueError, match=r"label 3 of 'y' is outside \[0, 3\)"):
        f(np.array([[0, 3]]), 3)
    with pytest.raises(ValueError, match="outside"):
        f(np.array([[-1, 0]]), 3)
    with pytest.raises(TypeError, match="must be integers"):
        extra_ops.to_one_hot(T.dvector("d"), 3)
    with pytest.raises(TypeError, match="nb_class must be an integer scalar"):
        extra_ops.to_one_hot(T.lvector(), 2.5)
    assert OneHot("float32") == OneHot("float32")


# --- bincount -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("x_dtype", ["int64", "int32", "uint8", "int8"])
@pytest.mark.parametrize("minlength", [None, 0, 3, 12])
def test_bincount_counts(x_dtype, minlength):
    value = RNG.integers(0, 8, size=20).astype(x_dtype)
    x = sym(value, "x")
    out = T.bincount(x, minlength=minlength)
    expected = np.bincount(value, minlength=minlength or 0)
    assert out.dtype == "int64"
    np.testing.assert_array_equal(both(out, [x], [value]), expected)
    check_infer_shape(out, [x], [value])


@pytest.mark.parametrize("w_dtype,out_dtype", [("float64", "float64"), ("float32", "float32"), ("int32", "float64")])
def test_bincount_weights(w_dtype, out_dtype):
    value = RNG.integers(0, 5, size=9)
    weights = rand((9,), w_dtype)
    x, w = sym(value, "x"), sym(weights, "w")
    out = T.bincount(x, w, minlength=7)
    assert out.dtype == out_dtype
    np.testing.assert_allclose(both(out, [x, w], [value, weights]), np.bincount(value, weights, 7), rtol=1e-6)
    check_infer_shape(out, [x, w], [value, weights])


def test_bincount_empty_grad_and_errors():
    x = T.lvector("x")
    m = T.lscalar("m")
    out = T.bincount(x, minlength=m)
    np.testing.assert_array_equal(both(out, [x, m], [np.array([], "int64"), 4]), np.zeros(4, "int64"))
    check_infer_shape(out, [x, m], [np.array([], "int64"), np.int64(4)])
    check_infer_shape(out, [x, m], [np.array([5, 1]), np.int64(2)])
    idx = np.array([0, 3, 3, 1, 0])
    verify_grad(lambda w: T.bincount(T.constant(idx), w) ** 2, [rand((5,))], rng=np.random.default_rng(0))
    f = theano.function([x], T.bincount(x))
    with pytest.raises(ValueError, match="bincount of 'x'"):
        f(np.array([1, -1]))
    with pytest.raises(TypeError, match="vector of integers"):
        T.bincount(T.dvector("d"))
    with pytest.raises(TypeError, match="vector of integers"):
        T.bincount(T.lmatrix("d"))
    with pytest.raises(ValueError, match="weights have length 3"):
        T.bincount(T.TensorType("int64", shape=(2,))("x"), T.TensorType("float64", shape=(3,))("w"))
    assert Bincount() == Bincount()


# --- unravel_index / ravel_multi_index / compress -----------------------------------------------------


@pytest.mark.parametrize("dims,order", [((3, 4), "C"), ((2, 3, 4), "F"), ((5,), "C")])
def test_unravel_and_ravel_roundtrip(dims, order):
    size = int(np.prod(dims))
    flat = RNG.integers(0, size, size=(2, 3)).astype("int32")
    idx = sym(flat, "idx")
    coords = T.unravel_index(idx, dims, order)
    assert isinstance(coords, tuple) and len(coords) == len(dims)
    expected = np.unravel_index(flat, dims, order=order)
    for got, want in zip(both(list(coords), [idx], [flat]), expected):
        np.testing.assert_array_equal(got, want)
    check_infer_shape(list(coords), [idx], [flat])
    back = T.ravel_multi_index(coords, dims, order=order)
    assert back.dtype == "int64"
    np.testing.assert_array_equal(both(back, [idx], [flat]), flat)


def test_ravel_multi_index_modes_and_errors():
    i, j = T.lvectors("i", "j")
    vals = [np.array([0, 5, -1]), np.array([1, 2, 7])]
    for mode in ("clip", "wrap", ("clip", "wrap")):
        out = T.ravel_multi_index((i, j), (3, 4), mode=mode)
        np.testing.assert_array_equal(both(out, [i, j], vals), np.ravel_multi_index(vals, (3, 4), mode=mode))
    f = theano.function([i, j], T.ravel_multi_index((i, j), (3, 4)))
    with pytest.raises(ValueError, match="ravel_multi_index"):
        f(*vals)
    with pytest.raises(ValueError, match="2 index arrays for 3 dims"):
        T.ravel_multi_index((i, j), (3, 4, 5))
    with pytest.raises(TypeError, match="tuple of index arrays"):
        T.ravel_multi_index(i, (3,))
    with pytest.raises(TypeError, match="must be integers"):
        T.unravel_index(T.dvector("d"), (3, 4))
    with pytest.raises(ValueError, match="pass ndim="):
        T.unravel_index(i, T.lvector("dims"))
    dims = T.lvector("dims")
    coords = T.unravel_index(i, dims, ndim=2)
    np.testing.assert_array_equal(coords[1].eval({i: np.array([5, 7]), dims: np.array([3, 4])}), [1, 3])
    g = theano.function([i], T.unravel_index(i, (2, 2)))
    with pytest.raises(ValueError, match="unravel_index of 'i'"):
        g(np.array([4]))


@pytest.mark.parametrize("axis", [None, 0, 1])
def test_compress(axis):
    value = rand((3, 4))
    n = value.size if axis is None else value.shape[axis]
    cond = RNG.integers(0, 2, size=n).astype(bool)
    x, c = T.dmatrix("x"), T.TensorType("bool", shape=(None,))("c")
    np.testing.assert_array_equal(both(T.compress(c, x, axis), [c, x], [cond, value]),
                                  np.compress(cond, value, axis))


def test_extra_ops_namespace_reexports():
    for name in ("tile", "squeeze", "fill_diagonal", "fill_diagonal_offset", "diagonal", "searchsorted", "unique",
                 "repeat", "bincount", "to_one_hot", "diff", "cumsum", "cumprod", "unravel_index",
                 "ravel_multi_index", "compress", "Unique", "DiffOp", "RepeatOp", "CumOp"):
        assert hasattr(extra_ops, name), name
    assert extra_ops.repeat is T.repeat and extra_ops.tile is T.tile
