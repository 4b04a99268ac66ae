"""join/concatenate, stack, split, horizontal/vertical_stack, roll and tile against NumPy."""
import numpy as np
import pytest

import theano
import theano.tensor as T
from arignote.gradient import verify_grad
from arignote.tensor.join_ops import Join, Roll, Split, Tile

RNG = np.random.default_rng(2024)
DTYPES = ["float64", "float32", "int32", "int8", "uint8", "bool"]


def rand(shape, dtype="float64"):
    kind = np.dtype(dtype).kind
    if kind == "b":
        return RNG.integers(0, 2, size=shape).astype(bool)
    if kind == "u":
        return RNG.integers(0, 10, size=shape).astype(dtype)
    if kind == "i":
        return RNG.integers(-5, 6, size=shape).astype(dtype)
    return RNG.standard_normal(shape).astype(dtype)


def sym(value, name, static=False):
    shape = value.shape if static else (None,) * value.ndim
    return T.TensorType(value.dtype, shape=shape)(name)


def both(out, inputs, values):
    """Compute `out` with theano.function and .eval(); check they agree and the dtype is the declared one."""
    r1 = theano.function(inputs, out)(*values)
    given = dict(zip(inputs, values))
    r2 = [o.eval(given) for o in out] if isinstance(out, list) else out.eval(given)
    outs1 = r1 if isinstance(r1, list) else [r1]
    outs2 = r2 if isinstance(r2, list) else [r2]
    variables = out if isinstance(out, list) else [out]
    for a, b, v in zip(outs1, outs2, variables):
        np.testing.assert_array_equal(a, b)
        assert a.dtype == np.dtype(v.dtype), (a.dtype, v.dtype)
        assert isinstance(a, np.ndarray)
    return r1


def check_infer_shape(outputs, inputs, values):
    """The op's infer_shape, evaluated on the inputs' real shapes, gives the outputs' real shapes."""
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    node = outputs[0].owner
    dims = [[T.lscalar() for _ in range(i.ndim)] for i in node.inputs]
    inferred = node.op.infer_shape(None, node, [tuple(d) for d in dims])
    computed = theano.function(inputs, node.inputs + node.outputs, on_unused_input="ignore")(*values)
    in_vals, out_vals = computed[: len(node.inputs)], computed[len(node.inputs):]
    dim_vars = [d for ds in dims for d in ds]
    dim_vals = [np.int64(s) for v in in_vals for s in np.shape(v)]
    entries = [e for shp in inferred for e in shp]
    symbolic = [T.as_tensor_variable(e) for e in entries if not isinstance(e, (int, np.integer))]
    f = theano.function(list(inputs) + dim_vars, symbolic, on_unused_input="ignore")
    sym_vals = iter(f(*values, *dim_vals))
    got = [int(e) if isinstance(e, (int, np.integer)) else int(next(sym_vals)) for e in entries]
    want = [s for v in out_vals for s in np.shape(v)]
    assert got == want, (got, want)


# --- join / concatenate ---------------------------------------------------------------------------------


@pytest.mark.parametrize("shapes,axis", [
    ([(2, 3), (4, 3)], 0), ([(2, 3), (2, 1), (2, 5)], 1), ([(2, 3), (2, 4)], -1), ([(3,), (0,), (2,)], 0),
    ([(2, 3, 4), (2, 1, 4)], 1), ([(2, 3, 4), (2, 3, 2)], -1), ([(1, 2, 3), (3, 2, 3)], -3),
])
@pytest.mark.parametrize("dtypes", [("float64", "float64"), ("float32", "float64"), ("int8", "float32"),
                                    ("int32", "uint8"), ("bool", "int16"), ("bool", "bool")])
def test_join_matches_numpy(shapes, axis, dtypes):
    values = [rand(s, dtypes[i % 2]) for i, s in enumerate(shapes)]
    xs = [sym(v, f"x{i}") for i, v in enumerate(values)]
    out = T.join(axis, *xs)
    expected = np.concatenate(values, axis=axis)
    assert out.dtype == expected.dtype.name
    np.testing.assert_array_equal(both(out, xs, values), expected)
    np.testing.assert_array_equal(both(T.concatenate(xs, axis=axis), xs, values), expected)
    check_infer_shape(out, xs, values)


def test_join_static_shape():
    a = T.TensorType("float64", shape=(2, 3))("a")
    b = T.TensorType("float64", shape=(None, 3))("b")
    c = T.TensorType("float64", shape=(4, None))("c")
    assert T.join(0, a, a).type.shape == (4, 3)
    assert T.join(0, a, b).type.shape == (None, 3)
    assert T.join(0, b, c).type.shape == (None, 3)
    assert T.join(1, a, a, a).type.shape == (2, 9)
    assert T.join(-1, a, a).type.shape == (2, 6)


def test_join_symbolic_axis():
    a, b = rand((2, 3)), rand((2, 3))
    x, y = T.dmatrices("x", "y")
    ax = T.lscalar("ax")
    out = T.join(ax, x, y)
    assert out.type.shape == (None, None)
    f = theano.function([ax, x, y], out)
    for axis in (0, 1, -1):
        np.testing.assert_array_equal(f(axis, a, b), np.concatenate([a, b], axis=axis))
    check_infer_shape(out, [ax, x, y], [np.int64(1), a, b])
    check_infer_shape(out, [ax, x, y], [np.int64(-2), a, b])


def test_join_one_tensor_is_identity_and_list_form():
    x = T.dmatrix("x")
    assert T.join(0, x) is x
    assert T.concatenate([x]) is x
    a, b = rand((2, 2)), rand((3, 2))
    y = T.dmatrix("y")
    np.testing.assert_array_equal(T.join(0, [x, y]).eval({x: a, y: b}), np.concatenate([a, b]))


def test_join_build_errors():
    a = T.TensorType("float64", shape=(2, 3))("a")
    b = T.TensorType("float64", shape=(2, 4))("b")
    with pytest.raises(ValueError, match=r"disagree in dimension 1 \('a' has length 3, 'b' has length 4\)"):
        T.join(0, a, b)
    with pytest.raises(TypeError, match="same number of dimensions.*'v' has 1"):
        T.join(0, T.dmatrix("m"), T.dvector("v"))
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        T.join(2, T.dmatrix(), T.dmatrix())
    with pytest.raises(ValueError, match="axis -3 is out of range"):
        T.join(-3, T.dmatrix(), T.dmatrix())
    with pytest.raises(TypeError, match="scalar"):
        T.join(0, T.dscalar("s"), T.dscalar("t"))
    with pytest.raises(TypeError, match="axis must be an integer scalar"):
        T.join(T.dscalar(), T.dvector(), T.dvector())
    with pytest.raises(TypeError, match="list or tuple"):
        T.concatenate(T.dmatrix("m"))
    with pytest.raises(TypeError, match="at least one"):
        Join()(0)


def test_join_runtime_error_names_inputs():
    x, y = T.dmatrix("x"), T.dmatrix("y")
    f = theano.function([x, y], T.join(0, x, y))
    with pytest.raises(ValueError, match=r"'x': \(2, 3\), 'y': \(2, 4\)"):
        f(rand((2, 3)), rand((2, 4)))


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_join_grad(axis):
    a, b, c = rand((2, 3)), rand((2, 3)), rand((2, 3))
    verify_grad(lambda x, y, z: T.join(axis, x, y, z), [a, b, c], rng=np.random.default_rng(0))
    verify_grad(lambda x, y: T.concatenate([x, y * 2], axis=axis), [a, b], rng=np.random.default_rng(1))


def test_join_grad_mixed_dtypes_and_int_input():
    x = T.fmatrix("x")
    y = T.dmatrix("y")
    i = T.imatrix("i")
    cost = T.sum(T.join(0, x, y, i) ** 2)
    gx, gy, gi = T.grad(cost, [x, y, i])
    assert gx.dtype == "float32" and gy.dtype == "float64"
    a, b, c = rand((1, 2), "float32"), rand((2, 2)), rand((1, 2), "int32")
    rx, ry, ri = theano.function([x, y, i], [gx, gy, gi])(a, b, c)
    np.testing.assert_allclose(rx, 2 * a, rtol=1e-6)
    np.testing.assert_allclose(ry, 2 * b)
    np.testing.assert_array_equal(ri, np.zeros((1, 2)))


def test_join_grad_symbolic_axis():
    x, y = T.dmatrices("x", "y")
    ax = T.lscalar("ax")
    out = T.join(ax, x, y)
    gx, gy = T.grad(T.sum(out * out * 3), [x, y])
    a, b = rand((3, 2)), rand((3, 2))
    f = theano.function([ax, x, y], [gx, gy])
    for axis in (0, 1, -1):
        rx, ry = f(axis, a, b)
        np.testing.assert_allclose(rx, 6 * a)
        np.testing.assert_allclose(ry, 6 * b)


# --- stack ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(3,), (2, 3), (2, 1, 4)])
@pytest.mark.parametrize("axis", [0, 1, -1])
@pytest.mark.parametrize("dtype", ["float64", "float32", "int64", "bool"])
def test_stack_matches_numpy(shape, axis, dtype):
    values = [rand(shape, dtype) for _ in range(3)]
    xs = [sym(v, f"x{i}") for i, v in enumerate(values)]
    out = T.stack(xs, axis=axis)
    expected = np.stack(values, axis=axis)
    assert out.dtype == expected.dtype.name and out.ndim == expected.ndim
    np.testing.assert_array_equal(both(out, xs, values), expected)


def test_stack_theano_call_forms():
    a, b = rand((2, 3)), rand((2, 3))
    x, y = T.dmatrices("x", "y")
    vals = {x: a, y: b}
    np.testing.assert_array_equal(T.stack(x, y).eval(vals), np.stack([a, b]))
    np.testing.assert_array_equal(T.stack([x, y], 1).eval(vals), np.stack([a, b], 1))
    np.testing.assert_array_equal(T.stack(tensors=[x, y], axis=2).eval(vals), np.stack([a, b], 2))
    np.testing.assert_array_equal(T.stack((x, y)).eval(vals), np.stack([a, b]))
    assert T.stack([x, y], axis=1).type.shape == (None, 2, None)


def test_stack_scalars_gives_vector():
    s, t = T.dscalar("s"), T.fscalar("t")
    out = T.stack([s, t, 3])
    assert out.type.shape == (3,) and out.dtype == "float64"
    np.testing.assert_array_equal(both(out, [s, t], [2.5, np.float32(1.5)]), [2.5, 1.5, 3.0])
    # Python numbers adapt to the symbolic scalars' dtype
    assert T.stack([t, 1.0, 2]).dtype == "float32"
    assert T.stack([T.iscalar(), 1]).dtype == "int32"
    assert T.stack(1, 2).dtype == "int64"
    verify_grad(lambda a, b: T.stack([a, b * 3, a * b]), [np.array(1.5), np.array(-0.5)],
                rng=np.random.default_rng(0))


def test_stack_grad():
    verify_grad(lambda a, b: T.stack([a, b], axis=1), [rand((2, 3)), rand((2, 3))], rng=np.random.default_rng(0))
    verify_grad(lambda a, b: T.stack([a, b], axis=-1), [rand((3,)), rand((3,))], rng=np.random.default_rng(0))


def test_stack_errors():
    with pytest.raises(ValueError, match="at least one"):
        T.stack([])
    with pytest.raises(ValueError, match="same shape.*'v' has 1"):
        T.stack([T.dmatrix("m"), T.dvector("v")])
    with pytest.raises(ValueError, match="axis 3 is out of range"):
        T.stack([T.dmatrix(), T.dmatrix()], axis=3)
    with pytest.raises(ValueError, match="axis must be 0 or -1"):
        T.stack([T.dscalar(), T.dscalar()], axis=1)
    with pytest.raises(TypeError, match="unexpected keyword"):
        T.stack([T.dvector()], axes=0)


# --- split ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape,sizes,axis", [
    ((6,), [1, 2, 3], 0), ((3, 5), [2, 0, 3], 1), ((4, 3), [4], 0), ((2, 3, 4), [1, 3], -1), ((5, 2), [2, 3], -2),
])
@pytest.mark.parametrize("dtype", ["float64", "float32", "int16", "bool"])
def test_split_matches_numpy(shape, sizes, axis, dtype):
    value = rand(shape, dtype)
    x = sym(value, "x")
    outs = T.split(x, sizes, len(sizes), axis=axis)
    assert isinstance(outs, list) and len(outs) == len(sizes)
    expected = np.split(value, np.cumsum(sizes)[:-1], axis=axis)
    got = both(outs, [x], [value])
    for g, e, o in zip(got, expected, outs):
        np.testing.assert_array_equal(g, e)
        assert o.dtype == dtype
    check_infer_shape(outs, [x], [value])


def test_split_static_and_symbolic_sizes():
    x = T.TensorType("float64", shape=(None, 5))("x")
    a, b = T.split(x, [2, 3], 2, axis=1)
    assert a.type.shape == (None, 2) and b.type.shape == (None, 3)
    sizes = T.lvector("sizes")
    p, q = T.split(x, sizes, 2, axis=1)
    assert p.type.shape == (None, None)
    value = rand((3, 5))
    r = theano.function([x, sizes], [p, q])(value, np.array([1, 4]))
    np.testing.assert_array_equal(r[0], value[:, :1])
    np.testing.assert_array_equal(r[1], value[:, 1:])
    check_infer_shape([p, q], [x, sizes], [value, np.array([1, 4])])


def test_split_errors():
    x = T.TensorType("float64", shape=(4, None))("x")
    with pytest.raises(ValueError, match=r"sums to 5, but dimension 0 of 'x' has length 4"):
        T.split(x, [2, 3], 2)
    with pytest.raises(ValueError, match="3 pieces asked.*2 entries"):
        T.split(x, [2, 2], 3)
    with pytest.raises(ValueError, match="negative"):
        T.split(x, [-1, 5], 2)
    with pytest.raises(TypeError, match="splits_size must be integers"):
        T.split(x, [2.0, 2.0], 2)
    with pytest.raises(ValueError, match="n_splits must be a positive int"):
        T.split(x, [4], 0)
    with pytest.raises(TypeError, match="scalar"):
        T.split(T.dscalar("s"), [1], 1)
    y = T.dvector("y")
    sizes = T.lvector("sizes")
    f = theano.function([y, sizes], T.split(y, sizes, 2))
    with pytest.raises(ValueError, match=r"sums to 3, but 'y' has length 4"):
        f(rand((4,)), np.array([1, 2]))
    with pytest.raises(ValueError, match="3 entries at run time, but 2 pieces"):
        f(rand((4,)), np.array([1, 2, 1]))


def test_split_grad_and_disconnected_pieces():
    def pieces(x):
        a, b, c = T.split(x, [1, 2, 2], 3, axis=1)
        return T.join(1, c * 2, a)  # b unused: its gradient is zero
    verify_grad(pieces, [rand((3, 5))], rng=np.random.default_rng(0))
    x = T.dvector("x")
    a, b = T.split(x, [2, 1], 2)
    g = T.grad(T.sum(b * 3), x)
    np.testing.assert_array_equal(g.eval({x: rand((3,))}), [0.0, 0.0, 3.0])


# --- horizontal / vertical stack ------------------------------------------------------------------------


def test_horizontal_and_vertical_stack():
    a, b = rand((2, 3)), rand((2, 1))
    x, y = T.dmatrices("x", "y")
    np.testing.assert_array_equal(both(T.horizontal_stack(x, y), [x, y], [a, b]), np.hstack([a, b]))
    c = rand((4, 3), "float32")
    z = T.fmatrix("z")
    out = T.vertical_stack(x, z)
    assert out.dtype == "float64"
    np.testing.assert_array_equal(both(out, [x, z], [a, c]), np.vstack([a, c]))
    with pytest.raises(TypeError, match="'v' has 1 dimension"):
        T.horizontal_stack(x, T.dvector("v"))
    with pytest.raises(TypeError, match="at least one"):
        T.vertical_stack()


# --- roll -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape,shift,axis", [
    ((5,), 2, None), ((5,), -7, 0), ((3, 4), 1, None), ((3, 4), 5, 1), ((3, 4), -1, -2), ((2, 3, 4), 3, -1),
    ((0, 3), 2, 1), ((3, 4), 0, 0), ((2, 3, 4), (1, -2), (0, 2)),
])
@pytest.mark.parametrize("dtype", ["float64", "int32", "bool"])
def test_roll_matches_numpy(shape, shift, axis, dtype):
    value = rand(shape, dtype)
    x = sym(value, "x")
    out = T.roll(x, shift, axis)
    assert out.dtype == dtype
    np.testing.assert_array_equal(both(out, [x], [value]), np.roll(value, shift, axis))


def test_roll_symbolic_shift_and_grad():
    value = rand((3, 4))
    x = T.dmatrix("x")
    s = T.lscalar("s")
    out = T.roll(x, s, 1)
    f = theano.function([x, s], out)
    for shift in (-5, 0, 3):
        np.testing.assert_array_equal(f(value, shift), np.roll(value, shift, 1))
    check_infer_shape(out, [x, s], [value, np.int64(2)])
    verify_grad(lambda v: T.roll(v, 2, 0), [rand((3, 4))], rng=np.random.default_rng(0))
    verify_grad(lambda v: T.roll(v, -3), [rand((3, 4))], rng=np.random.default_rng(0))


def test_roll_errors():
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        T.roll(T.dmatrix("m"), 1, 2)
    with pytest.raises(TypeError, match="shift must be an integer scalar"):
        T.roll(T.dvector(), 1.5, 0)
    with pytest.raises(ValueError, match="2 shifts for 3 axes"):
        T.roll(T.dtensor3(), (1, 2), (0, 1, 2))
    assert Roll(0) == Roll(0) and Roll(0) != Roll(1)


# --- tile -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape,reps", [
    ((3,), 2), ((3,), (2, 3)), ((2, 3), (2, 1)), ((2, 3), 3), ((2, 3), (1, 2, 2)), ((2, 1, 3), (2, 0, 1)),
    ((), (2, 3)), ((0, 2), (2, 2)),
])
@pytest.mark.parametrize("dtype", ["float64", "float32", "int8", "bool"])
def test_tile_matches_numpy(shape, reps, dtype):
    value = rand(shape, dtype)
    x = sym(value, "x")
    out = T.tile(x, reps)
    expected = np.tile(value, reps)
    assert out.dtype == dtype and out.ndim == expected.ndim
    np.testing.assert_array_equal(both(out, [x], [value]), expected)
    check_infer_shape(out, [x], [value])


def test_tile_static_shape_symbolic_reps_and_ndim():
    x = T.TensorType("float64", shape=(2, None))("x")
    assert T.tile(x, (3, 2)).type.shape == (6, None)
    assert T.tile(x, (3, 0)).type.shape == (6, 0)
    r = T.lscalar("r")
    out = T.tile(x, [r, 2])
    value = rand((2, 3))
    np.testing.assert_array_equal(theano.function([x, r], out)(value, 3), np.tile(value, (3, 2)))
    check_infer_shape(out, [x, r], [value, np.int64(3)])
    reps = T.lvector("reps")
    out = T.tile(x, reps, ndim=3)
    assert out.ndim == 3
    np.testing.assert_array_equal(theano.function([x, reps], out)(value, np.array([2, 1, 3])),
                                  np.tile(value, (2, 1, 3)))
    assert T.tile(T.dvector(), 2, ndim=3).ndim == 3


def test_tile_grad():
    verify_grad(lambda v: T.tile(v, (2, 3)), [rand((2, 3))], rng=np.random.default_rng(0))
    verify_grad(lambda v: T.tile(v, (3, 1, 2)), [rand((2, 3))], rng=np.random.default_rng(0))
    verify_grad(lambda v: T.tile(v, (2, 0)), [rand((2, 3))], rng=np.random.default_rng(0))
    # second derivative goes through the gradient op back to Tile
    x = T.dvector("x")
    g = T.grad(T.sum(T.tile(x, 3) ** 3), x)
    h = T.grad(T.sum(g), x)
    value = rand((4,))
    np.testing.assert_allclose(h.eval({x: value}), 3 * 6 * value)


def test_tile_errors():
    with pytest.raises(ValueError, match="ndim=1 is smaller"):
        T.tile(T.dmatrix("m"), 2, ndim=1)
    with pytest.raises(ValueError, match="negative count"):
        T.tile(T.dvector(), -1)
    with pytest.raises(ValueError, match="pass ndim="):
        T.tile(T.dvector(), T.lvector())
    with pytest.raises(TypeError, match="reps must be integers, but entry 0 is 1.5"):
        T.tile(T.dvector(), [1.5])
    with pytest.raises(TypeError, match="reps must be integers, but entry 1"):
        T.tile(T.dvector(), [2, T.dscalar("d")])
    with pytest.raises(TypeError, match="vector of integers"):
        T.tile(T.dvector(), T.dvector("reps"), ndim=1)
    with pytest.raises(ValueError, match="reps has 1 entries for the 2 dimensions"):
        Tile()(T.dmatrix(), [2])
    x, reps = T.dvector("x"), T.lvector("reps")
    f = theano.function([x, reps], T.tile(x, reps, ndim=1))
    with pytest.raises(ValueError, match="non-negative counts"):
        f(rand((2,)), np.array([-2]))


def test_ops_compare_by_props():
    assert Join() == Join() and Split(2) == Split(2) and Split(2) != Split(3)
    assert hash(Split(2)) == hash(Split(2))
