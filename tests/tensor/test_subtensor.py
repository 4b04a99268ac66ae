"""Indexing (basic and advanced), set/inc_subtensor and take, against NumPy."""
import numpy as np
import pytest

import arignote
import arignote.tensor as T
from arignote.gradient import verify_grad
from arignote.tensor import subtensor as st

RNG = np.random.default_rng(1234)


def both(outputs, inputs, values):
    """Compute `outputs` with theano.function and with .eval(); check they agree; return them."""
    single = not isinstance(outputs, (list, tuple))
    outs = [outputs] if single else list(outputs)
    f = arignote.function(list(inputs), outs)
    got = f(*values)
    given = dict(zip(inputs, values))
    for o, g in zip(outs, got):
        e = o.eval(given) if inputs else o.eval()
        np.testing.assert_array_equal(e, g)
        assert g.dtype == np.dtype(o.dtype)
        assert g.ndim == o.ndim
        for s, n in zip(o.type.shape, g.shape):
            assert s is None or s == n, (o.type.shape, g.shape)
    return got[0] if single else got


def tensor_of(ndim, dtype="float64", name="x"):
    return T.TensorType(dtype, shape=(None,) * ndim)(name)


def random_basic_index(shape, rng):
    idx = []
    used = 0
    while used < len(shape):
        n = shape[used]
        kind = rng.integers(0, 5)
        if kind == 0:
            idx.append(int(rng.integers(-n, n)))
            used += 1
        elif kind == 1:
            idx.append(None)
        else:
            start = None if rng.random() < 0.3 else int(rng.integers(-n - 2, n + 2))
            stop = None if rng.random() < 0.3 else int(rng.integers(-n - 2, n + 2))
            step = None if rng.random() < 0.4 else int(rng.choice([-3, -2, -1, 1, 2, 3]))
            idx.append(slice(start, stop, step))
            used += 1
        if rng.random() < 0.2:
            break
    if rng.random() < 0.3:
        idx.insert(int(rng.integers(0, len(idx) + 1)), Ellipsis)
    return tuple(idx)


# ---------------------------------------------------------------------------
# basic indexing


@pytest.mark.parametrize("ndim", [1, 2, 3, 4])
@pytest.mark.parametrize("dtype", ["float64", "float32", "int32"])
def test_basic_indexing_matches_numpy(ndim, dtype):
    rng = np.random.default_rng(ndim)
    x = tensor_of(ndim, dtype)
    for _ in range(15):
        shape = tuple(int(s) for s in rng.integers(1, 6, size=ndim))
        value = (rng.standard_normal(shape) * 10).astype(dtype)
        index = random_basic_index(shape, rng)
        out = x[index]
        assert isinstance(out.owner.op, (st.Subtensor, T.DimShuffle)), index
        got = both(out, [x], [value])
        np.testing.assert_array_equal(got, value[index], err_msg=str(index))


def test_static_shape_of_constant_slices():
    x = T.TensorType("float64", shape=(7, None, 3))("x")
    assert x[2:5].type.shape == (3, None, 3)
    assert x[::-2, 0].type.shape == (4, 3)
    assert x[-1].type.shape == (None, 3)
    assert x[:, :, 1:].type.shape == (7, None, 2)
    assert x[None, ..., 0].type.shape == (1, 7, None)
    assert x[:, 1:3].type.shape == (7, None, 3)  # unknown length stays unknown
    value = np.zeros((7, 4, 3))
    assert both(x[:, 1:3], [x], [value]).shape == (7, 2, 3)


def test_symbolic_slice_bounds_and_scalar_index():
    x = T.dmatrix("x")
    a, b, c = T.lscalar("a"), T.iscalar("b"), T.lscalar("c")
    value = RNG.standard_normal((6, 5))
    outs = [x[a:b], x[a:b:c], x[::c, a], x[b - 1], x[-a:, 1:b]]
    f = arignote.function([x, a, b, c], outs)
    for av, bv, cv in [(1, 4, 1), (0, 6, 2), (4, 1, -1), (2, 5, -2), (1, 3, 3)]:
        got = f(value, av, bv, cv)
        want = [value[av:bv], value[av:bv:cv], value[::cv, av], value[bv - 1], value[-av:, 1:bv]]
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g, w)
        np.testing.assert_array_equal(x[a:b:c].eval({x: value, a: av, b: bv, c: cv}), value[av:bv:cv])


def test_newaxis_and_ellipsis():
    x = T.dtensor3("x")
    value = RNG.standard_normal((2, 3, 4))
    for index in [(None,), (..., None), (0, None, ..., 1), (None, 1, None), (..., 2), (1, ...),
                  (slice(None), None, slice(1, None)), (np.newaxis, np.newaxis)]:
        np.testing.assert_array_equal(both(x[index], [x], [value]), value[index])


def test_numpy_and_constant_int_indices():
    x = T.dvector("x")
    value = np.arange(5.0)
    for index in [np.int64(3), np.int32(-2), np.uint8(1), np.array(2), T.constant(4)]:
        position = int(np.asarray(getattr(index, "data", index)))
        np.testing.assert_array_equal(both(x[index], [x], [value]), value[position])


def test_shape_entry_is_int64_and_static_index():
    x = T.dmatrix("x")
    value = np.zeros((5, 3))
    s0 = x.shape[0]
    assert s0.dtype == "int64" and s0.ndim == 0
    assert type(s0.owner.op).__name__ == "Subtensor"
    assert s0.owner.op.static_index() == 0
    assert x.shape[-1].owner.op.static_index() == 1  # stored non-negative
    assert x[1:].owner.op.static_index() is None
    assert int(both(s0, [x], [value])) == 5
    assert int(x.shape[-1].eval({x: value})) == 3
    # the static length of x.shape[i] reaches ops that build shapes from it
    y = T.TensorType("float64", shape=(None, 4))("y")
    assert T.zeros((y.shape[1], 2)).type.shape == (4, 2)


def test_subtensor_is_a_view_but_function_output_is_safe():
    x = T.dmatrix("x")
    assert x[1:].owner.op.view_map == {0: [0]}
    value = np.arange(6.0).reshape(2, 3)
    out = arignote.function([x], x[0])(value)
    out[...] = -1
    np.testing.assert_array_equal(value, np.arange(6.0).reshape(2, 3))


def test_equal_indexings_compare_equal():
    x = T.dmatrix("x")
    assert x[1:3, 0].owner.op == x[1:3, 0].owner.op
    assert hash(x[1:3, 0].owner.op) == hash(x[1:3, 0].owner.op)
    assert x[1:3].owner.op != x[1:4].owner.op
    assert "Subtensor{1:3, 0}" == str(x[1:3, 0].owner.op)


def _infer(out, inputs, values):
    node = out.owner
    shapes = [tuple(v.shape[i] for i in range(v.ndim)) for v in node.inputs]
    inferred = node.op.infer_shape(None, node, shapes)[0]
    vec = [T.as_tensor_variable(s) for s in inferred]
    f = arignote.function(list(inputs), vec, on_unused_input="ignore") if vec else None
    return tuple(int(v) for v in f(*values)) if f else ()


def test_infer_shape():
    x = T.dtensor3("x")
    a = T.lscalar("a")
    m = T.bmatrix("m")
    value = RNG.standard_normal((5, 4, 3))
    mask = (RNG.random((5, 4)) > 0.5).astype("int8")
    for out, extra in [(x[1:a, 0], 2), (x[::a], 2), (x[-1], 0), (x[:, a::-1], 3)]:
        f = arignote.function([x, a], out, on_unused_input="ignore")
        assert _infer(out, [x, a], [value, extra]) == f(value, extra).shape
    cases = [x[[0, 2, 2]], x[:, [1, 0]], x[[0, 1], :, [2, 0]], x[T.cast(m, "bool")], x[0, [1, 1], None]]
    for out in cases:
        f = arignote.function([x, m], out, on_unused_input="ignore")
        assert _infer(out, [x, m], [value, mask]) == f(value, mask).shape
    inc = T.inc_subtensor(x[1:a], 1.0)
    assert _infer(inc, [x, a], [value, 3]) == (5, 4, 3)


# ---------------------------------------------------------------------------
# advanced indexing


def test_tutorial_examples():
    a = arignote.shared(np.asarray([[1.0, 2.0], [3.0, 4.0]]), "a")
    picked = a[[1, 1, 0]]
    assert isinstance(picked.owner.op, T.AdvancedSubtensor1)
    np.testing.assert_array_equal(picked.eval(), [[3.0, 4.0], [3.0, 4.0], [1.0, 2.0]])
    np.testing.assert_array_equal(T.set_subtensor(a[0], [0.0, 0.0]).eval(), [[0.0, 0.0], [3.0, 4.0]])
    np.testing.assert_array_equal(a.get_value(), [[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(TypeError, match="set_subtensor"):
        a[0] = [0, 0]


@pytest.mark.parametrize("dtype", ["float64", "float32", "int64"])
def test_advanced_subtensor1_matches_numpy(dtype):
    x = T.TensorType(dtype, shape=(None, None))("x")
    ids = T.lvector("ids")
    value = (RNG.standard_normal((6, 3)) * 10).astype(dtype)
    for idv in [np.array([0, 5, 5, 2]), np.array([-1, 0]), np.array([], dtype=np.int64)]:
        out = x[ids]
        assert isinstance(out.owner.op, T.AdvancedSubtensor1)
        np.testing.assert_array_equal(both(out, [x, ids], [value, idv]), value[idv])
    iv = T.ivector("iv")
    np.testing.assert_array_equal(both(x[iv], [x, iv], [value, np.array([3, 1], "int32")]), value[[3, 1]])
    np.testing.assert_array_equal(both(x[[]], [x], [value]), value[[]])


ADVANCED_CASES = [
    lambda v: ([0, 2], [1, 0]),
    lambda v: (slice(None), [2, 0, 2]),
    lambda v: ([[0], [1]], [0, 1, 2]),
    lambda v: (0, slice(None), [0, 1]),          # int and array not adjacent: array dims go first
    lambda v: ([0], None, [0]),
    lambda v: (slice(None), [1], None, [2]),
    lambda v: (Ellipsis, [1, 0]),
    lambda v: (slice(1, None), [[0, 1], [1, 1]], slice(None, None, -1)),
    lambda v: (v > 0,),
    lambda v: ((v > 0)[:, :, 0],),
    lambda v: (slice(None), (v > 0)[0, :, 1]),
    lambda v: (np.array([True, False, True, True]),),
    lambda v: ([1, 0], slice(None), -1),
    lambda v: (np.array([[0, 1], [2, 3]]),),
]


@pytest.mark.parametrize("case", range(len(ADVANCED_CASES)))
def test_advanced_indexing_matches_numpy(case):
    value = RNG.standard_normal((4, 3, 5))
    index = ADVANCED_CASES[case](value)
    x = T.dtensor3("x")
    got = both(x[index], [x], [value])
    np.testing.assert_array_equal(got, value[index])
    # the same with the arrays given at run time
    sym_index, inputs, values = [], [x], [value]
    for k, e in enumerate(index):
        if isinstance(e, (list, np.ndarray)):
            arr = np.asarray(e)
            v = T.TensorType(arr.dtype.name, shape=(None,) * arr.ndim)(f"i{k}")
            sym_index.append(v)
            inputs.append(v)
            values.append(arr)
        else:
            sym_index.append(e)
    np.testing.assert_array_equal(both(x[tuple(sym_index)], inputs, values), value[index])


def test_symbolic_boolean_mask():
    x = T.dmatrix("x")
    value = RNG.standard_normal((5, 4))
    out = x[x > 0]
    assert out.type.shape == (None,)
    np.testing.assert_array_equal(both(out, [x], [value]), value[value > 0])
    m = T.TensorType("bool", shape=(None,))("m")
    mv = np.array([True, False, False, True, True])
    np.testing.assert_array_equal(both(x[m, 1:], [x, m], [value, mv]), value[mv, 1:])
    # a constant mask's count is known statically
    assert x[np.array([True, False, True, False, False])].type.shape == (2, None)


# ---------------------------------------------------------------------------
# set_subtensor / inc_subtensor


def _np_inc(value, index, y, set_):
    out = value.copy()
    target_ndim = out[index].ndim
    if y.ndim > target_ndim:  # leading length-1 dims of y are dropped
        y = y.reshape(y.shape[y.ndim - target_ndim:])
    if set_:
        out[index] = y
    else:
        np.add.at(out, index, y)
    return out


SET_INC_CASES = [
    (lambda v: (1,), (1, 5)),                         # a leading length-1 dim of y is dropped
    (lambda v: (slice(1, 3), 2), (2,)),
    (lambda v: (slice(None, None, -2),), ()),
    (lambda v: (Ellipsis, 0), (1,)),
    (lambda v: ([0, 2, 0],), (3, 5)),                 # AdvancedIncSubtensor1 with a duplicate
    (lambda v: ([3, 3, 3],), (1, 5)),
    (lambda v: ([0, 1, 1], [4, 2, 2]), (3,)),          # AdvancedIncSubtensor with a duplicate
    (lambda v: (slice(None), [1, 1, 0]), (4, 3)),
    (lambda v: (v > 0,), ()),
    (lambda v: (np.array([True, False, True, True]), slice(1, 3)), (1, 2)),
]


@pytest.mark.parametrize("set_", [False, True])
@pytest.mark.parametrize("case", range(len(SET_INC_CASES)))
def test_set_and_inc_match_numpy(case, set_):
    make_index, y_shape = SET_INC_CASES[case]
    value = RNG.standard_normal((4, 5))
    original = value.copy()
    index = make_index(value)
    y_value = RNG.standard_normal(y_shape)
    x, y = T.dmatrix("x"), T.TensorType("float64", shape=tuple(1 if s == 1 else None for s in y_shape))("y")
    fn = T.set_subtensor if set_ else T.inc_subtensor
    out = fn(x[index], y)
    assert out.type == x.type
    got = both(out, [x, y], [value, y_value])
    want = _np_inc(value, index, y_value, set_)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    np.testing.assert_array_equal(value, original)  # the input is never modified


def test_duplicates_accumulate_for_inc_and_last_wins_for_set():
    x = T.dvector("x")
    value = np.zeros(4)
    inc = T.inc_subtensor(x[[1, 1, 1, 3]], 1.0)
    np.testing.assert_array_equal(both(inc, [x], [value]), [0.0, 3.0, 0.0, 1.0])
    setv = T.set_subtensor(x[[2, 2]], np.array([5.0, 7.0]))
    np.testing.assert_array_equal(both(setv, [x], [value]), [0.0, 0.0, 7.0, 0.0])
    inc2 = T.inc_subtensor(x[[1, 1], ], [1.0, 2.0])
    np.testing.assert_array_equal(both(inc2, [x], [value]), [0.0, 3.0, 0.0, 0.0])
    m = T.dmatrix("m")
    inc3 = T.inc_subtensor(m[[0, 0], [1, 1]], 1.0)
    np.testing.assert_array_equal(both(inc3, [m], [np.zeros((2, 2))]), [[0.0, 2.0], [0.0, 0.0]])
    np.testing.assert_array_equal(value, np.zeros(4))


def test_shared_variable_is_untouched_and_y_conversions():
    a = arignote.shared(np.arange(6.0).reshape(2, 3), "a")
    out = T.inc_subtensor(a[:, 1], 10)  # Python int into float64
    np.testing.assert_array_equal(out.eval(), [[0.0, 11.0, 2.0], [3.0, 14.0, 5.0]])
    np.testing.assert_array_equal(a.get_value(), np.arange(6.0).reshape(2, 3))
    i = T.ivector("i")
    np.testing.assert_array_equal(T.set_subtensor(a[0], i).eval({i: np.array([7, 8, 9], "int32")})[0], [7, 8, 9])
    np.testing.assert_array_equal(T.set_subtensor(a[1:], [[1.5]]).eval()[1], [1.5, 1.5, 1.5])
    iv = T.ivector("iv")
    out = T.inc_subtensor(iv[1:], 2)
    assert out.dtype == "int32"
    np.testing.assert_array_equal(out.eval({iv: np.array([1, 2, 3], "int32")}), [1, 4, 5])


def test_set_subtensor_through_newaxis():
    x = T.dmatrix("x")
    value = np.zeros((2, 3))
    out = T.set_subtensor(x[None, 0], [[1.0, 2.0, 3.0]])
    np.testing.assert_array_equal(both(out, [x], [value]), [[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    out = T.inc_subtensor(x[:, None, 1:], 5.0)
    np.testing.assert_array_equal(both(out, [x], [value]), [[0.0, 5.0, 5.0], [0.0, 5.0, 5.0]])


def test_set_inc_errors():
    x = T.fmatrix("x")
    with pytest.raises(TypeError, match="result of indexing"):
        T.set_subtensor(x, 1.0)
    with pytest.raises(TypeError, match="result of indexing"):
        T.inc_subtensor(x + 1, 1.0)
    with pytest.raises(TypeError, match="could lose information"):
        T.set_subtensor(x[0], T.dvector("d"))
    with pytest.raises(TypeError, match="cannot be converted"):
        T.set_subtensor(T.ivector("iv")[0], 1.5)
    xs = T.TensorType("float64", shape=(4, 3))("xs")
    with pytest.raises(ValueError, match="cannot broadcast"):
        T.set_subtensor(xs[1:3], np.ones((3, 3)))
    with pytest.raises(ValueError, match="2-dimensional part"):
        T.inc_subtensor(xs[0:2], np.ones((2, 2, 3)))
    d, y = T.dmatrix("d"), T.dvector("y")
    f = arignote.function([d, y], T.inc_subtensor(d[0], y))
    with pytest.raises(ValueError, match="only dimensions of static length 1"):
        f(np.zeros((2, 3)), np.ones(1))
    with pytest.raises(ValueError):
        f(np.zeros((2, 3)), np.ones(4))


def test_inplace_variants_declare_destroy_map():
    x = T.dvector("x")
    op = T.inc_subtensor(x[1:], 1.0, inplace=True).owner.op
    assert op.destroy_map == {0: [0]} and op.inplace
    op = T.set_subtensor(x[[0]], [1.0], inplace=True, tolerate_inplace_aliasing=True).owner.op
    assert isinstance(op, T.AdvancedIncSubtensor1) and op.destroy_map == {0: [0]}
    assert op.destroyhandler_tolerate_aliased == [[0, 1]]
    assert T.inc_subtensor(x[1:], 1.0).owner.op.destroy_map == {}
    # perform on the inplace op writes into its input, as declared
    node = T.inc_subtensor(x[1:], 1.0, inplace=True).owner
    value = np.zeros(3)
    storage = [[None]]
    node.op.perform(node, [value, np.asarray(1.0)], storage)
    assert storage[0][0] is value and value.tolist() == [0.0, 1.0, 1.0]


def test_advanced_inc_helpers():
    x, y, i = T.dmatrix("x"), T.dmatrix("y"), T.lvector("i")
    value, yv, iv = RNG.standard_normal((4, 2)), RNG.standard_normal((3, 2)), np.array([3, 0, 3])
    got = both(T.advanced_inc_subtensor1(x, y, i), [x, y, i], [value, yv, iv])
    np.testing.assert_allclose(got, _np_inc(value, iv, yv, False))
    iv = np.array([2, 0, 1])
    got = both(T.advanced_set_subtensor1(x, y, i), [x, y, i], [value, yv, iv])
    np.testing.assert_allclose(got, _np_inc(value, iv, yv, True))


# ---------------------------------------------------------------------------
# gradients


def _vg(fn, *pt):
    verify_grad(fn, [np.asarray(p, dtype="float64") for p in pt], rng=np.random.default_rng(0))


@pytest.mark.parametrize("index", [(1,), (slice(1, None),), (slice(None, None, -1), 0), (Ellipsis, slice(0, 2)),
                                   (None, 2, slice(None))])
def test_grad_subtensor(index):
    _vg(lambda x: x[index], RNG.standard_normal((3, 4)))


def test_grad_subtensor_symbolic_bounds_is_disconnected_from_index():
    x, a = T.dvector("x"), T.lscalar("a")
    cost = T.sum(x[a:] ** 2)
    g = T.grad(cost, x)
    value = np.arange(5.0)
    np.testing.assert_allclose(g.eval({x: value, a: 2}), [0, 0, 4, 6, 8])
    node = x[a:].owner
    assert node.op.connection_pattern(node) == [[True], [False]]


def test_grad_advanced_subtensor1():
    _vg(lambda x: x[[2, 0, 2, 1]], RNG.standard_normal((3, 2)))
    _vg(lambda x: x[np.array([1, 1])], RNG.standard_normal(4))


@pytest.mark.parametrize("case", [0, 1, 2, 3, 4, 5, 7, 8, 12, 13])
def test_grad_advanced_subtensor(case):
    value = RNG.standard_normal((4, 3, 5))
    index = ADVANCED_CASES[case](value)
    _vg(lambda x: x[index], value)


@pytest.mark.parametrize("set_", [False, True])
@pytest.mark.parametrize("case", range(len(SET_INC_CASES)))
def test_grad_set_and_inc_wrt_x_and_y(case, set_):
    make_index, y_shape = SET_INC_CASES[case]
    value = RNG.standard_normal((4, 5))
    index = make_index(value)
    if set_ and case in (4, 5, 6, 7):
        return _vg(lambda x: T.set_subtensor(x[index], 1.0), value)  # duplicates: y's grad is ill-defined
    fn = T.set_subtensor if set_ else T.inc_subtensor
    _vg(lambda x, y: fn(x[index], y), value, RNG.standard_normal(y_shape))


def test_grad_inc_broadcast_y():
    _vg(lambda x, y: T.inc_subtensor(x[1:3], y), RNG.standard_normal((4, 3)), RNG.standard_normal((1, 3)))
    _vg(lambda x, y: T.set_subtensor(x[:, [0, 2]], y), RNG.standard_normal((4, 3)), RNG.standard_normal((1, 2)))


def test_grad_advanced_inc_subtensor1():
    ids = np.array([0, 2, 0])
    _vg(lambda x, y: T.advanced_inc_subtensor1(x, y, ids), RNG.standard_normal((3, 2)), RNG.standard_normal((3, 2)))
    _vg(lambda x, y: T.advanced_set_subtensor1(x, y, np.array([2, 1])), RNG.standard_normal((3, 2)),
        RNG.standard_normal((2, 2)))


def test_embedding_gradient_is_sparse_row_update():
    W = arignote.shared(RNG.standard_normal((6, 3)), "W")
    ids = T.lvector("ids")
    out = W[ids]
    weights = RNG.standard_normal((4, 3))
    cost = T.sum(out * weights)
    g = T.grad(cost, W)
    node = g.owner
    # the gradient is an AdvancedIncSubtensor1 of the output gradient into zeros (only used rows)
    assert isinstance(node.op, T.AdvancedIncSubtensor1) and not node.op.set_instead_of_inc
    assert node.inputs[2] is ids
    idv = np.array([1, 4, 1, 0])
    want = np.zeros((6, 3))
    np.add.at(want, idv, weights)
    np.testing.assert_allclose(arignote.function([ids], g)(idv), want)
    np.testing.assert_allclose(g.eval({ids: idv}), want)


def test_grad_of_integer_x_is_zero():
    x = T.lvector("x")
    c = T.dscalar("c")
    cost = T.sum(x[1:]) * c
    assert float(T.grad(cost, c).eval({x: np.array([1, 2, 3]), c: 2.0})) == 5.0


# ---------------------------------------------------------------------------
# take


@pytest.mark.parametrize("axis", [None, 0, 1, -1])
@pytest.mark.parametrize("mode", ["raise", "wrap", "clip"])
def test_take(axis, mode):
    x = T.dmatrix("x")
    value = RNG.standard_normal((4, 3))
    for idv in [np.array([0, 2, 2]), np.array([[1, 0], [2, 1]]), np.array(1)]:
        if mode != "raise":
            idv = idv * 3 - 2
        i = T.TensorType("int64", shape=(None,) * idv.ndim)("i")
        got = both(T.take(x, i, axis=axis, mode=mode), [x, i], [value, idv])
        np.testing.assert_array_equal(got, np.take(value, idv, axis=axis, mode=mode))
        np.testing.assert_array_equal(x.take(idv, axis=axis, mode=mode).eval({x: value}),
                                      np.take(value, idv, axis=axis, mode=mode))


def test_take_errors():
    x = T.dmatrix("x")
    with pytest.raises(TypeError, match="integers"):
        T.take(x, T.dvector("f"))
    with pytest.raises(ValueError, match="mode"):
        T.take(x, [0], mode="bogus")
    with pytest.raises(ValueError, match="axis 2"):
        T.take(x, [0], axis=2)


# ---------------------------------------------------------------------------
# errors


def test_out_of_range_constant_index_raises_at_build_time():
    x = T.TensorType("float64", shape=(3, None))("x")
    with pytest.raises(IndexError, match=r"index 3 is out of bounds.*'x'.*test_subtensor.py"):
        x[3]
    with pytest.raises(IndexError, match="index -4"):
        x[-4, 1]
    with pytest.raises(IndexError, match="out of bounds"):
        x[[0, 5]]
    with pytest.raises(IndexError, match="out of bounds"):
        T.set_subtensor(x[[0, 3]], 1.0)
    with pytest.raises(IndexError, match="boolean index did not match"):
        x[np.array([True, False])]
    with pytest.raises(IndexError, match="too many indices"):
        x[0, 0, 0]
    with pytest.raises(IndexError, match="single ellipsis"):
        x[..., 0, ...]
    assert x[0:10].type.shape == (3, None)  # slices clip, never raise


def test_out_of_range_runtime_index_names_variable_and_shape():
    x, i = T.dmatrix("x"), T.lscalar("i")
    f = arignote.function([x, i], x[i])
    with pytest.raises(IndexError, match=r"out of bounds.*'x' of shape \(2, 3\).*test_subtensor.py"):
        f(np.zeros((2, 3)), 2)
    ids = T.lvector("ids")
    g = arignote.function([x, ids], x[ids])
    with pytest.raises(IndexError, match=r"'x' of shape \(2, 3\)"):
        g(np.zeros((2, 3)), np.array([0, 7]))
    h = arignote.function([x, ids], T.inc_subtensor(x[ids], 1.0))
    with pytest.raises(IndexError, match=r"index 7 .*'x' of shape \(2, 3\)"):
        h(np.zeros((2, 3)), np.array([0, 7]))
    k = arignote.function([x, ids], x[ids, ids])
    with pytest.raises(IndexError, match=r"'x' of shape \(2, 3\)"):
        k(np.zeros((2, 3)), np.array([0, 4]))


def test_float_index_is_a_type_error_naming_the_index():
    x = T.dvector("x")
    with pytest.raises(TypeError, match=r"1\.5"):
        x[1.5]
    with pytest.raises(TypeError, match="'f'.*float64"):
        x[T.dscalar("f")]
    with pytest.raises(TypeError, match="float"):
        x[np.array([0.0, 1.0])]
    with pytest.raises(TypeError, match="slice bounds"):
        x[0.5:2]
    with pytest.raises(TypeError, match="slice bounds"):
        x[: T.dscalar("s")]
    with pytest.raises(TypeError, match="indices must be integers"):
        x["a"]


def test_all_exports():
    for name in ["set_subtensor", "inc_subtensor", "advanced_inc_subtensor1", "advanced_set_subtensor1", "take",
                 "Subtensor", "IncSubtensor", "AdvancedSubtensor1", "AdvancedIncSubtensor1", "AdvancedSubtensor",
                 "AdvancedIncSubtensor"]:
        assert name in st.__all__
        assert getattr(T, name) is getattr(st, name)
    assert "getitem" not in st.__all__


def test_inc_with_newaxis_in_advanced_index_accumulates():
    x = T.dmatrix("x")
    out = T.inc_subtensor(x[[0, 0], None, 1:3], 1.0)
    assert isinstance(out.owner.op, T.AdvancedIncSubtensor)
    want = np.zeros((3, 4))
    want[0, 1:3] = 2.0  # row 0 is named twice
    np.testing.assert_array_equal(both(out, [x], [np.zeros((3, 4))]), want)
    y = RNG.standard_normal((2, 1, 2))
    out = T.set_subtensor(x[[2, 0], None, 1:3], y)
    want = np.zeros((3, 4))
    want[2, 1:3], want[0, 1:3] = y[0, 0], y[1, 0]
    np.testing.assert_array_equal(both(out, [x], [np.zeros((3, 4))]), want)


def test_set_subtensor_through_transpose_and_errors_for_non_indexing_dimshuffle():
    x = T.dmatrix("x")
    value = np.arange(12.0).reshape(3, 4)
    y = RNG.standard_normal((4, 2))
    want = value.copy()
    want[1:3] = y.T
    np.testing.assert_array_equal(both(T.set_subtensor(x[1:3].T, y), [x], [value]), want)
    with pytest.raises(TypeError, match="DimShuffle"):
        T.set_subtensor(x.T, 1.0)


def test_list_of_symbolic_scalars_is_an_array_index():
    x, i, j = T.dmatrix("x"), T.lscalar("i"), T.lscalar("j")
    value = np.arange(12.0).reshape(3, 4)
    out = x[[i, j]]
    assert isinstance(out.owner.op, T.AdvancedSubtensor1)
    np.testing.assert_array_equal(both(out, [x, i, j], [value, 2, 0]), value[[2, 0]])
    np.testing.assert_array_equal(both(x[True], [x], [value]), value[True])


def test_theano_style_advanced_ops_without_idx_list():
    x, i, j = T.dmatrix("x"), T.lvector("i"), T.lvector("j")
    value = np.arange(12.0).reshape(3, 4)
    iv, jv = np.array([0, 2, 2]), np.array([3, 1, 1])
    np.testing.assert_array_equal(both(T.AdvancedSubtensor()(x, i, j), [x, i, j], [value, iv, jv]), value[iv, jv])
    got = both(T.AdvancedIncSubtensor()(x, 1.0, i, j), [x, i, j], [value, iv, jv])
    np.testing.assert_array_equal(got, _np_inc(value, (iv, jv), np.ones(3), False))
    assert T.AdvancedSubtensor() == T.AdvancedSubtensor() and "arrays" in str(T.AdvancedSubtensor())


def test_float32_gradients_stay_float32():
    W, ids = T.fmatrix("W"), T.lvector("ids")
    x = T.fmatrix("x")
    for cost in [T.sum(W[ids] ** 2), T.sum(W[1:, 0]), T.sum(W[ids, 0]), T.sum(T.inc_subtensor(W[0], x[0]) ** 2)]:
        g = T.grad(cost, W)
        assert g.dtype == "float32"
        out = arignote.function([W, ids, x], g, on_unused_input="ignore")(
            np.ones((3, 2), "float32"), np.array([0, 2, 0]), np.ones((3, 2), "float32"))
        assert out.dtype == np.float32 and out.shape == (3, 2)
    verify_grad(lambda w: w[np.array([0, 2, 0])] * 2, [RNG.standard_normal((3, 2)).astype("float32")],
                rng=np.random.default_rng(0))
