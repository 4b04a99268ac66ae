"""dot, tensordot, outer, inner, batched_dot, batched_tensordot and matmul against NumPy."""
import numpy as np
import pytest

import theano
import theano.tensor as T
from arignote.gradient import verify_grad
from arignote.tensor.blas import BatchedTensorDot, Dot, MatMul, TensorDot

RNG = np.random.default_rng(1234)


def rand(shape, dtype="float64"):
    if np.dtype(dtype).kind in "iu":
        return RNG.integers(-5, 6, size=shape).astype(dtype)
    if np.dtype(dtype).kind == "b":
        return RNG.integers(0, 2, size=shape).astype(bool)
    return RNG.standard_normal(shape).astype(dtype)


def sym(value, name):
    """A free variable of the value's rank and dtype (static shape unknown)."""
    return T.TensorType(value.dtype, shape=(None,) * value.ndim)(name)


def both(out, inputs, values):
    """Compute `out` through theano.function and through .eval(); check they agree."""
    f = theano.function(inputs, out)
    r1 = np.asarray(f(*values))
    r2 = np.asarray(out.eval(dict(zip(inputs, values))))
    np.testing.assert_array_equal(r1, r2)
    assert r1.dtype == np.dtype(out.dtype)
    return r1


def tol(dtype):
    return dict(rtol=1e-4, atol=1e-4) if np.dtype(dtype) == np.float32 else dict(rtol=1e-10, atol=1e-10)


# --- dot ------------------------------------------------------------------------------------

RANK_SHAPES = {
    (0, 0): ((), ()), (0, 1): ((), (4,)), (1, 0): ((4,), ()), (0, 2): ((), (3, 4)), (2, 0): ((3, 4), ()),
    (1, 1): ((5,), (5,)), (2, 1): ((3, 5), (5,)), (1, 2): ((5,), (5, 2)), (2, 2): ((3, 5), (5, 2)),
    (3, 1): ((2, 3, 5), (5,)), (1, 3): ((5,), (2, 5, 4)), (3, 2): ((2, 3, 5), (5, 4)),
    (2, 3): ((3, 5), (2, 5, 4)), (3, 3): ((2, 3, 5), (4, 5, 2)), (4, 2): ((2, 1, 3, 5), (5, 2)),
    (0, 3): ((), (2, 3, 4)),
}


@pytest.mark.parametrize("ranks", sorted(RANK_SHAPES))
@pytest.mark.parametrize("dtypes", [("float64", "float64"), ("float32", "float32"), ("float32", "float64"),
                                    ("int32", "float32")])
def test_dot_every_rank_matches_numpy(ranks, dtypes):
    sa, sb = RANK_SHAPES[ranks]
    a, b = rand(sa, dtypes[0]), rand(sb, dtypes[1])
    x, y = sym(a, "x"), sym(b, "y")
    out = T.dot(x, y)
    expected = np.dot(a, b)
    assert out.ndim == np.ndim(expected)
    assert out.dtype == np.result_type(a.dtype, b.dtype).name
    got = both(out, [x, y], [a, b])
    np.testing.assert_allclose(got, expected, **tol(out.dtype))


@pytest.mark.parametrize("dtypes,expected", [(("int32", "int32"), "int32"), (("int8", "int64"), "int64"),
                                             (("bool", "bool"), "bool"), (("int16", "float32"), "float32"),
                                             (("float64", "complex128"), "complex128")])
def test_dot_dtype_is_numpy_result_type(dtypes, expected):
    a, b = rand((3, 4), dtypes[0]), rand((4, 2), dtypes[1])
    x, y = sym(a, "x"), sym(b, "y")
    out = T.dot(x, y)
    assert out.dtype == expected
    got = both(out, [x, y], [a, b])
    np.testing.assert_array_equal(got, np.dot(a, b))


def test_dot_uses_dot_op_for_low_ranks_and_tensordot_above():
    m, v, t3 = T.dmatrix("m"), T.dvector("v"), T.dtensor3("t")
    for a, b in [(m, m), (m, v), (v, m), (v, v)]:
        assert isinstance(T.dot(a, b).owner.op, Dot)
    assert isinstance(T.dot(t3, m).owner.op, TensorDot)
    assert T.dot(v, v).ndim == 0


def test_dot_static_shape_propagates():
    x = T.TensorType("float64", shape=(3, None))("x")
    y = T.TensorType("float64", shape=(None, 7))("y")
    assert T.dot(x, y).type.shape == (3, 7)
    z = T.TensorType("float64", shape=(2, 3, 4))("z")
    assert T.dot(z, y).type.shape == (2, 3, 7)


def test_dot_with_python_scalar_keeps_dtype():
    x = T.fmatrix("x")
    out = T.dot(2, x)
    assert out.dtype == "float32"
    a = rand((2, 3), "float32")
    np.testing.assert_allclose(both(out, [x], [a]), 2 * a)


def test_tutorial_values():
    a = theano.shared(np.array([[1.0, 2.0], [3.0, 4.0]]))
    np.testing.assert_array_equal(T.dot(a, a).eval(), [[7.0, 10.0], [15.0, 22.0]])
    assert theano.dot(a, a).eval().tolist() == [[7.0, 10.0], [15.0, 22.0]]
    assert a.dot(a).eval().tolist() == [[7.0, 10.0], [15.0, 22.0]]


def test_dot_mismatched_static_shapes_fail_at_build_time():
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(4, 2\)") as info:
        T.dot(T.constant(np.ones((2, 3))), T.constant(np.ones((4, 2))))
    assert "test_blas.py" in str(info.value)  # the user's line
    v = T.TensorType("float64", shape=(3,))("v")
    w = T.TensorType("float64", shape=(4,))("w")
    with pytest.raises(ValueError, match=r"'v' of shape \(3,\).*'w' of shape \(4,\)"):
        T.dot(v, w)
    t3 = T.TensorType("float64", shape=(2, 3, 5))("t3")
    m = T.TensorType("float64", shape=(4, 6))("m")
    with pytest.raises(ValueError, match=r"\(2, 3, 5\).*\(4, 6\)"):
        T.dot(t3, m)


def test_dot_mismatched_lengths_fail_at_run_time_with_build_line():
    x, y = T.dmatrices("x", "y")
    f = theano.function([x, y], T.dot(x, y))
    with pytest.raises(ValueError, match=r"'x' has shape \(2, 3\).*'y' has shape \(4, 2\).*test_blas.py"):
        f(np.ones((2, 3)), np.ones((4, 2)))


def test_dot_op_rejects_other_ranks():
    with pytest.raises(TypeError, match="1-d or 2-d"):
        Dot()(T.dtensor3("t"), T.dmatrix("m"))
    with pytest.raises(TypeError, match="1-d or 2-d"):
        Dot()(T.dscalar("s"), T.dmatrix("m"))


@pytest.mark.parametrize("ranks", [r for r in sorted(RANK_SHAPES) if r != (0, 0)])
def test_dot_grad_every_rank(ranks):
    sa, sb = RANK_SHAPES[ranks]
    verify_grad(T.dot, [rand(sa), rand(sb)], rng=np.random.default_rng(0))


def test_dot_grad_int_operand_is_zero_and_dtypes_match():
    x, i = T.fmatrix("x"), T.imatrix("i")
    gx, gi = T.grad(T.dot(x, i).sum(), [x, i])
    assert gx.dtype == "float32"
    a, b = rand((2, 3), "float32"), rand((3, 4), "int32")
    np.testing.assert_allclose(gx.eval({x: a, i: b}), np.ones((2, 4)) @ b.T, rtol=1e-5)
    np.testing.assert_array_equal(gi.eval({x: a, i: b}), np.zeros((3, 4)))


def test_dot_grad_keeps_broadcastable_pattern():
    row = T.drow("r")
    m = T.dmatrix("m")
    g = T.grad(T.dot(row, m).sum(), row)
    assert g.broadcastable == row.broadcastable
    np.testing.assert_allclose(g.eval({row: np.ones((1, 3)), m: np.arange(6.0).reshape(3, 2)}),
                               [[1.0, 5.0, 9.0]])


def test_dot_rop_matches_numpy():
    x, y, v = T.dmatrix("x"), T.dmatrix("y"), T.dmatrix("v")
    a, b, e = rand((3, 4)), rand((4, 2)), rand((3, 4))
    jv = T.Rop(T.dot(x, y), x, v)
    np.testing.assert_allclose(jv.eval({x: a, y: b, v: e}), e @ b, rtol=1e-10)
    node = T.dot(x, y).owner
    (direct,) = node.op.R_op(node.inputs, [v, None])
    np.testing.assert_allclose(direct.eval({x: a, y: b, v: e}), e @ b, rtol=1e-10)


def test_dot_infer_shape():
    x, y = T.dmatrix("x"), T.dvector("y")
    node = T.dot(x, y).owner
    assert [tuple(s) for s in node.op.infer_shape(None, node, [(3, 4), (4,)])] == [(3,)]
    node = T.dot(y, T.dmatrix("m")).owner
    assert [tuple(s) for s in node.op.infer_shape(None, node, [(4,), (4, 6)])] == [(6,)]


# --- tensordot -----------------------------------------------------------------------------

TENSORDOT_CASES = [
    ((2, 3, 4), (3, 4, 5), 2), ((2, 3, 4), (4, 5), 1), ((2, 3), (4, 5), 0), ((3, 4), (3, 4), 2),
    ((2, 3, 4), (4, 5, 2), [[0, 2], [2, 0]]), ((2, 3, 4), (5, 3), [1, 1]), ((2, 3, 4), (4, 3), [[-1, -2], [0, 1]]),
    ((3, 4), (4, 5), [[1], [0]]), ((4,), (4,), 1),
]


@pytest.mark.parametrize("sa,sb,axes", TENSORDOT_CASES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_tensordot_matches_numpy(sa, sb, axes, dtype):
    a, b = rand(sa, dtype), rand(sb, dtype)
    x, y = sym(a, "x"), sym(b, "y")
    out = T.tensordot(x, y, axes)
    assert out.dtype == dtype
    got = both(out, [x, y], [a, b])
    np.testing.assert_allclose(got, np.tensordot(a, b, axes), **tol(dtype))


@pytest.mark.parametrize("sa,sb,axes", TENSORDOT_CASES)
def test_tensordot_grad(sa, sb, axes):
    verify_grad(lambda x, y: T.tensordot(x, y, axes), [rand(sa), rand(sb)], rng=np.random.default_rng(0))


def test_tensordot_second_derivative():
    def fn(x, y):
        return T.grad((T.tensordot(x, y, [[0, 2], [2, 0]]) ** 2).sum(), x)

    verify_grad(fn, [rand((2, 3, 4)), rand((4, 5, 2))], rng=np.random.default_rng(0))


def test_tensordot_errors():
    x, y = T.dtensor3("x"), T.dmatrix("y")
    with pytest.raises(ValueError, match="different lengths"):
        T.tensordot(x, y, [[0, 1], [0]])
    with pytest.raises(ValueError, match="out of range"):
        T.tensordot(x, y, [[3], [0]])
    with pytest.raises(ValueError, match="cannot sum over 3 axes"):
        T.tensordot(x, y, 3)
    a = T.TensorType("float64", shape=(2, 3, 4))("a")
    b = T.TensorType("float64", shape=(5, 4))("b")
    with pytest.raises(ValueError, match=r"'a' of shape \(2, 3, 4\).*'b' of shape \(5, 4\)"):
        T.tensordot(a, b, [[2], [0]])


def test_tensordot_runtime_mismatch():
    x, y = T.dtensor3("x"), T.dtensor3("y")
    f = theano.function([x, y], T.tensordot(x, y, 1))
    with pytest.raises(ValueError, match="summed dimensions do not match"):
        f(np.ones((2, 3, 4)), np.ones((5, 3, 4)))


# --- outer / inner -----------------------------------------------------------------------------

@pytest.mark.parametrize("sa,sb", [((3,), (4,)), ((2, 3), (4,)), ((3,), (2, 2))])
def test_outer_matches_numpy(sa, sb):
    a, b = rand(sa), rand(sb)
    x, y = sym(a, "x"), sym(b, "y")
    got = both(T.outer(x, y), [x, y], [a, b])
    np.testing.assert_allclose(got, np.outer(a, b))
    verify_grad(T.outer, [a, b], rng=np.random.default_rng(0))


@pytest.mark.parametrize("sa,sb", [((4,), (4,)), ((3, 4), (4,)), ((3, 4), (5, 4)), ((2, 3, 4), (5, 4)), ((), (3,))])
def test_inner_matches_numpy(sa, sb):
    a, b = rand(sa), rand(sb)
    x, y = sym(a, "x"), sym(b, "y")
    got = both(T.inner(x, y), [x, y], [a, b])
    np.testing.assert_allclose(got, np.inner(a, b), rtol=1e-10)
    verify_grad(T.inner, [a, b], rng=np.random.default_rng(0))


# --- batched_dot / batched_tensordot -------------------------------------------------------------

def reference_batched_dot(a, b):
    if a.ndim == 1:
        return a.reshape((-1,) + (1,) * (b.ndim - 1)) * b
    if b.ndim == 1:
        return a * b.reshape((-1,) + (1,) * (a.ndim - 1))
    return np.stack([np.dot(a[i], b[i]) for i in range(a.shape[0])])


BATCHED_CASES = [((4, 3), (4, 3)), ((4, 2, 3), (4, 3)), ((4, 3), (4, 3, 5)), ((4, 2, 3), (4, 3, 5)),
                 ((4,), (4, 2, 3)), ((4, 2, 3), (4,)), ((3, 2, 4, 5), (3, 5, 2)), ((2, 3, 4), (2, 5, 4, 6))]


@pytest.mark.parametrize("sa,sb", BATCHED_CASES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_batched_dot_matches_reference(sa, sb, dtype):
    a, b = rand(sa, dtype), rand(sb, dtype)
    x, y = sym(a, "x"), sym(b, "y")
    out = T.batched_dot(x, y)
    assert out.dtype == dtype
    got = both(out, [x, y], [a, b])
    expected = reference_batched_dot(a, b)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, **tol(dtype))


@pytest.mark.parametrize("sa,sb", BATCHED_CASES)
def test_batched_dot_grad(sa, sb):
    verify_grad(T.batched_dot, [rand(sa), rand(sb)], rng=np.random.default_rng(0))


def test_batched_dot_shapes_and_errors():
    assert T.batched_dot(T.dmatrix(), T.dmatrix()).ndim == 1
    assert T.batched_dot(T.dtensor3(), T.dtensor3()).ndim == 3
    assert T.batched_dot(T.dtensor3(), T.dmatrix()).ndim == 2
    with pytest.raises(TypeError, match="batch"):
        T.batched_dot(T.dscalar("s"), T.dmatrix("m"))
    a = T.TensorType("float64", shape=(4, 2, 3))("a")
    b = T.TensorType("float64", shape=(5, 3, 2))("b")
    with pytest.raises(ValueError, match=r"\(4, 2, 3\).*\(5, 3, 2\)"):
        T.batched_dot(a, b)
    x, y = T.dtensor3("x"), T.dtensor3("y")
    f = theano.function([x, y], T.batched_dot(x, y))
    with pytest.raises(ValueError, match="summed dimensions"):
        f(np.ones((4, 2, 3)), np.ones((3, 3, 2)))


@pytest.mark.parametrize("sa,sb,axes", [((3, 4, 5), (3, 5, 2), 1), ((3, 4, 5), (3, 4, 5), 2),
                                        ((3, 4, 5, 2), (3, 2, 5, 6), [[2, 3], [2, 1]]),
                                        ((3, 4, 5), (3, 6, 4), [[1], [2]])])
def test_batched_tensordot(sa, sb, axes):
    a, b = rand(sa), rand(sb)
    x, y = sym(a, "x"), sym(b, "y")
    out = T.batched_tensordot(x, y, axes)
    assert isinstance(out.owner.op, BatchedTensorDot)
    if isinstance(axes, int):
        pair = (list(range(a.ndim - 1 - axes, a.ndim - 1)), list(range(axes)))
    else:
        pair = ([d - 1 for d in axes[0]], [d - 1 for d in axes[1]])
    expected = np.stack([np.tensordot(a[i], b[i], pair) for i in range(a.shape[0])])
    np.testing.assert_allclose(both(out, [x, y], [a, b]), expected, rtol=1e-10)
    verify_grad(lambda p, q: T.batched_tensordot(p, q, axes), [a, b], rng=np.random.default_rng(0))


def test_batched_tensordot_rejects_batch_axis():
    with pytest.raises(ValueError, match="batch axis"):
        T.batched_tensordot(T.dtensor3("x"), T.dtensor3("y"), [[0], [1]])


# --- matmul ----------------------------------------------------------------------------------

MATMUL_CASES = [((3, 4), (4, 2)), ((4,), (4, 2)), ((3, 4), (4,)), ((4,), (4,)), ((2, 3, 4), (2, 4, 5)),
                ((2, 3, 4), (4, 5)), ((4,), (2, 4, 5)), ((2, 3, 4), (4,)), ((3, 4), (2, 4, 5))]


@pytest.mark.parametrize("sa,sb", MATMUL_CASES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_matmul_matches_numpy(sa, sb, dtype):
    a, b = rand(sa, dtype), rand(sb, dtype)
    x, y = sym(a, "x"), sym(b, "y")
    for out in (T.matmul(x, y), x @ y):
        assert out.dtype == dtype
        expected = np.matmul(a, b)
        got = both(out, [x, y], [a, b])
        assert got.shape == expected.shape
        np.testing.assert_allclose(got, expected, **tol(dtype))


@pytest.mark.parametrize("sa,sb", MATMUL_CASES)
def test_matmul_grad(sa, sb):
    verify_grad(T.matmul, [rand(sa), rand(sb)], rng=np.random.default_rng(0))


def test_matmul_broadcasts_static_length_one_batch_axes():
    x = T.TensorType("float64", shape=(1, None, None, None))("x")
    y = T.TensorType("float64", shape=(None, 1, None, None))("y")
    a, b = rand((1, 3, 2, 4)), rand((5, 1, 4, 2))
    out = x @ y
    assert isinstance(out.owner.op, MatMul)
    np.testing.assert_allclose(both(out, [x, y], [a, b]), a @ b, rtol=1e-10)
    verify_grad(T.matmul, [a, b], rng=np.random.default_rng(0))  # verify_grad makes length-1 axes static


def test_matmul_numpy_array_on_the_left():
    y = T.dmatrix("y")
    a, b = rand((3, 4)), rand((4, 2))
    out = a @ y
    np.testing.assert_allclose(out.eval({y: b}), a @ b, rtol=1e-10)


def test_matmul_errors():
    with pytest.raises(TypeError, match="scalar"):
        T.matmul(T.dscalar("s"), T.dmatrix("m"))
    a = T.TensorType("float64", shape=(2, 3, 4))("a")
    b = T.TensorType("float64", shape=(2, 5, 6))("b")
    with pytest.raises(ValueError, match=r"\(2, 3, 4\).*\(2, 5, 6\)"):
        T.matmul(a, b)
    c = T.TensorType("float64", shape=(3, 4, 5))("c")
    with pytest.raises(ValueError, match="batch dimensions cannot broadcast"):
        T.matmul(a, c)
    x, y = T.dtensor3("x"), T.dtensor3("y")
    f = theano.function([x, y], x @ y)
    with pytest.raises(ValueError, match="only axes of static length 1 broadcast"):
        f(np.ones((1, 3, 4)), np.ones((2, 4, 5)))


def test_all_is_exported_to_T():
    import arignote.tensor.blas as blas

    for name in blas.__all__:
        assert getattr(T, name) is getattr(blas, name)
    assert not any("gemm" in name.lower() for name in blas.__all__)


@pytest.mark.parametrize("build,sa,sb", [
    (lambda x, y: T.tensordot(x, y, [[0, 2], [2, 0]]), (2, 3, 4), (4, 5, 2)),
    (lambda x, y: T.batched_dot(x, y), (4, 2, 3), (4, 3, 5)),
    (lambda x, y: T.batched_tensordot(x, y, [[2, 3], [2, 1]]), (3, 4, 5, 2), (3, 2, 5, 6)),
    (lambda x, y: T.matmul(x, y), (2, 3, 4), (2, 4, 5)),
    (lambda x, y: T.dot(x, y), (3, 4), (4, 5)),
])
def test_infer_shape_matches_computed_shape(build, sa, sb):
    a, b = rand(sa), rand(sb)
    x, y = sym(a, "x"), sym(b, "y")
    out = build(x, y)
    node = out.owner
    (inferred,) = node.op.infer_shape(None, node, [sa, sb])
    assert tuple(int(s) for s in inferred) == out.eval({x: a, y: b}).shape
