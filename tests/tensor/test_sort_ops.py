"""sort, argsort, topk, nonzero, flatnonzero, nonzero_values, searchsorted and unique against NumPy."""
import numpy as np
import pytest

import theano
import theano.tensor as T
from arignote.config import config
from arignote.gradient import NullTypeGradError, verify_grad
from arignote.tensor.sort_ops import ArgSortOp, Nonzero, SearchsortedOp, SortOp, TopKOp, Unique

RNG = np.random.default_rng(5)


def rand(shape, dtype="float64"):
    kind = np.dtype(dtype).kind
    if kind == "b":
        return RNG.integers(0, 2, size=shape).astype(bool)
    if kind in "iu":
        return RNG.integers(0 if kind == "u" else -5, 6, size=shape).astype(dtype)
    return RNG.standard_normal(shape).astype(dtype)


def distinct(shape):
    """Floats without ties (so sorting permutations, and their gradients, are unique)."""
    return RNG.permutation(int(np.prod(shape))).reshape(shape) * 0.37 + RNG.uniform(0, 0.1)


def sym(value, name):
    return T.TensorType(value.dtype, shape=(None,) * value.ndim)(name)


def both(out, inputs, values):
    r1 = theano.function(inputs, out)(*values)
    given = dict(zip(inputs, values))
    many = isinstance(out, (list, tuple))
    r2 = [o.eval(given) for o in out] if many else out.eval(given)
    for a, b, v in zip(*((r1, r2, out) if many else ([r1], [r2], [out]))):
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


# --- sort / argsort -----------------------------------------------------------------------------------


@pytest.mark.parametrize("shape,axis", [((7,), -1), ((7,), 0), ((3, 5), -1), ((3, 5), 0), ((3, 5), None),
                                        ((2, 3, 4), 1), ((2, 3, 4), -3), ((0, 3), 0), ((4,), None)])
@pytest.mark.parametrize("dtype", ["float64", "float32", "int8", "uint16", "bool"])
@pytest.mark.parametrize("kind", ["quicksort", "mergesort", "stable"])
def test_sort_and_argsort_match_numpy(shape, axis, dtype, kind):
    value = rand(shape, dtype)
    x = sym(value, "x")
    out = T.sort(x, axis, kind)
    expected = np.sort(value, axis=axis, kind=kind)
    assert out.dtype == dtype and out.ndim == expected.ndim
    np.testing.assert_array_equal(both(out, [x], [value]), expected)
    idx = T.argsort(x, axis, kind)
    assert idx.dtype == "int64"
    got_idx = both(idx, [x], [value])
    if kind != "quicksort":  # stable sorts give NumPy's exact permutation, ties included
        np.testing.assert_array_equal(got_idx, np.argsort(value, axis=axis, kind=kind))
    flat = value.reshape(-1) if axis is None else value
    np.testing.assert_array_equal(np.take_along_axis(flat, got_idx, 0 if axis is None else axis), expected)
    check_infer_shape(out, [x], [value])
    check_infer_shape(idx, [x], [value])


def test_sort_nan_last_methods_and_symbolic_axis():
    value = np.array([[3.0, np.nan, -1.0], [np.inf, 0.0, -np.inf]])
    x = T.dmatrix("x")
    np.testing.assert_array_equal(x.sort().eval({x: value}), np.sort(value))
    np.testing.assert_array_equal(x.argsort(0).eval({x: value}), np.argsort(value, 0))
    ax = T.lscalar("ax")
    f = theano.function([x, ax], [T.sort(x, ax), T.argsort(x, ax)])
    data = distinct((3, 4))
    for axis in (0, 1, -1, -2):
        s, i = f(data, axis)
        np.testing.assert_array_equal(s, np.sort(data, axis))
        np.testing.assert_array_equal(i, np.argsort(data, axis))
    static = T.TensorType("float32", shape=(3, 4))("s")
    assert T.sort(static).type.shape == (3, 4) and T.sort(static, None).type.shape == (12,)


@pytest.mark.parametrize("shape,axis", [((6,), -1), ((3, 4), 0), ((3, 4), 1), ((3, 4), None), ((2, 3, 4), -2)])
def test_sort_grad(shape, axis):
    verify_grad(lambda v: T.sort(v, axis), [distinct(shape)], rng=np.random.default_rng(0))
    weights = np.arange(np.prod(shape), dtype=float).reshape((-1,) if axis is None else shape)
    verify_grad(lambda v: T.sort(v, axis, "mergesort") * weights, [distinct(shape)], rng=np.random.default_rng(1))


def test_sort_grad_routes_through_permutation_and_second_order():
    x = T.dvector("x")
    w = np.array([1.0, 10.0, 100.0])
    g = T.grad(T.sum(T.sort(x) * w), x)
    np.testing.assert_array_equal(g.eval({x: np.array([2.0, -1.0, 0.5])}), [100.0, 1.0, 10.0])
    # ties: the gradient still sums to the total weight
    assert float(T.sum(g).eval({x: np.array([1.0, 1.0, 1.0])})) == 111.0
    h = T.grad(T.sum(T.sort(x) ** 3 * w), x)
    hh = T.grad(T.sum(h), x)
    value = np.array([2.0, -1.0, 0.5])
    np.testing.assert_allclose(hh.eval({x: value}), 6 * value * np.array([100.0, 1.0, 10.0]))
    ax = T.lscalar("ax")
    m = T.dmatrix("m")
    gm = T.grad(T.sum(T.sort(m, ax) * T.arange(3).dimshuffle(0, "x")), m)
    data = distinct((3, 3))
    np.testing.assert_array_equal(gm.eval({m: data, ax: 0}), np.argsort(np.argsort(data, 0), 0))


def test_argsort_grad_is_zero_and_int_sort_grad():
    x = T.dvector("x")
    g = T.grad(T.sum(T.cast(T.argsort(x), "float64") * x), x)
    value = distinct((4,))
    np.testing.assert_allclose(g.eval({x: value}), np.argsort(value).astype(float))
    i = T.ivector("i")
    gi = T.grad(T.sum(T.sort(i) * 2.0), i)
    assert gi.dtype == config.floatX


def test_sort_errors():
    with pytest.raises(ValueError, match="kind must be one of"):
        T.sort(T.dvector(), kind="bogus")
    with pytest.raises(ValueError, match="order= sorts structured arrays"):
        T.argsort(T.dvector(), order="f")
    with pytest.raises(ValueError, match="axis 2 is out of range.*'m'"):
        T.sort(T.dmatrix("m"), 2)
    with pytest.raises(ValueError, match="scalar"):
        T.sort(T.dscalar("s"))
    with pytest.raises(TypeError, match="axis must be an integer scalar"):
        T.sort(T.dvector(), 0.5)
    assert SortOp("mergesort") == SortOp("mergesort") and SortOp() != ArgSortOp()


# --- topk ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape,k,axis", [((8,), 3, -1), ((8,), -2, 0), ((4, 6), 2, 1), ((4, 6), -4, 0),
                                          ((4, 6), 6, -1), ((2, 3, 5), 1, -1), ((2, 3, 5), 3, None)])
@pytest.mark.parametrize("dtype", ["float64", "float32", "int32"])
def test_topk_matches_sorting(shape, k, axis, dtype):
    value = distinct(shape).astype(dtype) if dtype != "int32" else RNG.permutation(np.prod(shape)).reshape(
        shape).astype(dtype)
    x = sym(value, "x")
    vals, idx = T.topk_and_argtopk(x, k, axis)
    flat = value.reshape(-1) if axis is None else value
    ax = 0 if axis is None else axis
    order = np.argsort(flat, axis=ax)
    n = flat.shape[ax]
    expected_idx = np.flip(np.take(order, np.arange(n - k, n), ax), ax) if k > 0 else np.take(order, np.arange(-k), ax)
    got_vals, got_idx = both([vals, idx], [x], [value])
    assert vals.dtype == dtype and idx.dtype == "int64"
    np.testing.assert_array_equal(got_idx, expected_idx)
    np.testing.assert_array_equal(got_vals, np.take_along_axis(flat, expected_idx, ax))
    np.testing.assert_array_equal(both(T.topk(x, k, axis), [x], [value]), got_vals)
    np.testing.assert_array_equal(both(T.argtopk(x, k, axis, idx_dtype="int32"), [x], [value]), got_idx)
    check_infer_shape([vals, idx], [x], [value])


def test_topk_unsorted_symbolic_k_grad_and_errors():
    value = distinct((3, 7))
    x, k = T.dmatrix("x"), T.lscalar("k")
    out = T.topk(x, k, sorted=False)
    got = theano.function([x, k], out)(value, 3)
    np.testing.assert_array_equal(np.sort(got, -1), np.sort(value, -1)[:, -3:])
    verify_grad(lambda v: T.topk(v, 3), [value], rng=np.random.default_rng(0))
    verify_grad(lambda v: T.topk(v, -2, axis=0) * 3, [value], rng=np.random.default_rng(0))
    verify_grad(lambda v: T.topk_and_argtopk(v, 2)[0], [value], rng=np.random.default_rng(0))
    f = theano.function([x, k], out)
    with pytest.raises(ValueError, match="kth=8 must be nonzero and at most the length 7"):
        f(value, 8)
    with pytest.raises(ValueError, match="kth=0"):
        T.topk(x, 0)
    with pytest.raises(ValueError, match="at most the length 3"):
        T.topk(T.TensorType("float64", shape=(3,))("v"), 4)
    with pytest.raises(TypeError, match="idx_dtype must be an integer"):
        T.argtopk(x, 2, idx_dtype="float32")
    assert TopKOp(0) == TopKOp(0) and TopKOp(0) != TopKOp(1)


# --- nonzero ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(7,), (3, 4), (2, 3, 2), (0, 3)])
@pytest.mark.parametrize("dtype", ["float64", "int32", "bool"])
def test_nonzero_family_matches_numpy(shape, dtype):
    value = rand(shape, dtype) * (RNG.integers(0, 2, size=shape).astype(dtype))
    x = sym(value, "x")
    coords = T.nonzero(x)
    assert isinstance(coords, tuple) and len(coords) == len(shape)
    for got, want in zip(both(list(coords), [x], [value]), np.nonzero(value)):
        np.testing.assert_array_equal(got, want)
        assert got.dtype == np.int64
    check_infer_shape(list(coords), [x], [value])
    mat = T.nonzero(x, return_matrix=True)
    assert mat.dtype == "int64" and mat.type.shape == (len(shape), None)
    np.testing.assert_array_equal(both(mat, [x], [value]), np.array(np.nonzero(value)).reshape(len(shape), -1))
    check_infer_shape(mat, [x], [value])
    np.testing.assert_array_equal(both(T.flatnonzero(x), [x], [value]), np.flatnonzero(value))
    vals = T.nonzero_values(x)
    assert vals.dtype == dtype
    np.testing.assert_array_equal(both(vals, [x], [value]), value[value != 0])
    check_infer_shape(vals, [x], [value])
    for got, want in zip(theano.function([x], list(x.nonzero()))(value), np.nonzero(value)):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(x.nonzero_values().eval({x: value}), value[value != 0])


def test_nonzero_values_grad_and_errors():
    value = np.array([[0.0, 1.5, -2.0], [0.0, 0.0, 3.0]])
    # finite differences would turn zeros nonzero (changing the output's length): check away from zeros
    verify_grad(lambda v: T.nonzero_values(v) ** 2, [np.abs(rand((2, 3))) + 0.5], rng=np.random.default_rng(0))
    x = T.dmatrix("x")
    g = T.grad(T.sum(T.nonzero_values(x) * np.array([1.0, 2.0, 3.0])), x)
    np.testing.assert_array_equal(g.eval({x: value}), [[0.0, 1.0, 2.0], [0.0, 0.0, 3.0]])
    h = T.grad(T.sum(T.grad(T.sum(T.nonzero_values(x) ** 3), x)), x)
    np.testing.assert_allclose(h.eval({x: value}), 6 * value)
    s = T.dscalar("s")
    np.testing.assert_array_equal(T.flatnonzero(s).eval({s: 2.0}), np.flatnonzero(2.0))
    np.testing.assert_array_equal(T.flatnonzero(s).eval({s: 0.0}), np.flatnonzero(0.0))
    with pytest.raises(TypeError, match="is a scalar; nonzero needs at least one dimension"):
        T.nonzero(T.dscalar("s"))
    assert Nonzero() == Nonzero(True) and Nonzero(True) != Nonzero(False)


# --- searchsorted -------------------------------------------------------------------------------------


@pytest.mark.parametrize("side", ["left", "right"])
@pytest.mark.parametrize("v_shape", [(), (5,), (2, 3)])
@pytest.mark.parametrize("dtype", ["float64", "int32"])
def test_searchsorted_matches_numpy(side, v_shape, dtype):
    base = np.sort(rand((8,), dtype))
    v = rand(v_shape, dtype)
    xs, vs = sym(base, "x"), sym(v, "v")
    out = T.searchsorted(xs, vs, side=side)
    assert out.dtype == "int64" and out.ndim == len(v_shape)
    np.testing.assert_array_equal(both(out, [xs, vs], [base, v]), np.searchsorted(base, v, side=side))
    check_infer_shape(out, [xs, vs], [base, v])


def test_searchsorted_sorter_grad_and_errors():
    base = rand((6,))
    sorter = np.argsort(base)
    v = rand((4,))
    x, s, w = T.dvector("x"), T.lvector("s"), T.dvector("w")
    out = T.searchsorted(x, w, sorter=s)
    np.testing.assert_array_equal(both(out, [x, w, s], [base, v, sorter]), np.searchsorted(base, v, sorter=sorter))
    g = T.grad(T.sum(T.cast(out, "float64") * w), w)
    np.testing.assert_array_equal(theano.function([x, w, s], g)(base, v, sorter),
                                  np.searchsorted(base, v, sorter=sorter).astype(float))
    with pytest.raises(ValueError, match="side must be 'left' or 'right'"):
        T.searchsorted(x, w, side="middle")
    with pytest.raises(TypeError, match="must be a \\(sorted\\) vector"):
        T.searchsorted(T.dmatrix("m"), w)
    with pytest.raises(TypeError, match="sorter must be an integer vector"):
        T.searchsorted(x, w, sorter=T.dvector())
    assert SearchsortedOp("left") == SearchsortedOp("left")


# --- unique -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(10,), (3, 4), (0,)])
@pytest.mark.parametrize("dtype", ["float64", "int16", "bool"])
@pytest.mark.parametrize("flags", [(False, False, False), (True, False, False), (True, True, True),
                                   (False, True, False), (False, False, True)])
def test_unique_matches_numpy(shape, dtype, flags):
    value = RNG.integers(0, 4, size=shape).astype(dtype)
    x = sym(value, "x")
    out = T.unique(x, *flags)
    expected = np.unique(value, *flags)
    expected = list(expected) if isinstance(expected, tuple) else [expected]
    outs = out if isinstance(out, list) else [out]
    assert len(outs) == len(expected) == 1 + sum(flags)
    got = both(outs, [x], [value])
    for g, e, o in zip(got, expected, outs):
        np.testing.assert_array_equal(g, np.asarray(e).reshape(-1))  # the inverse is always a vector
        assert o.ndim == 1
    assert outs[0].dtype == dtype and all(o.dtype == "int64" for o in outs[1:])
    check_infer_shape(outs, [x], [value])
    if flags[1]:
        inv = got[1 + flags[0]]
        np.testing.assert_array_equal(got[0][inv], value.reshape(-1))


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_unique_axis(axis):
    value = RNG.integers(0, 2, size=(4, 3))
    value[2] = value[0]
    value[:, 2] = value[:, 1]
    x = T.lmatrix("x")
    outs = T.unique(x, True, True, True, axis=axis)
    expected = np.unique(value, True, True, True, axis=axis)
    for g, e in zip(both(outs, [x], [value]), expected):
        np.testing.assert_array_equal(g, np.asarray(e).reshape(g.shape))
    assert outs[0].ndim == 2
    check_infer_shape(outs, [x], [value])


def test_unique_not_differentiable_and_errors():
    x = T.dvector("x")
    with pytest.raises(NullTypeGradError, match="unique is not differentiable"):
        T.grad(T.sum(T.unique(x)), x)
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        T.unique(T.dmatrix(), axis=2)
    assert Unique(True) == Unique(True) and Unique(True) != Unique(False)
