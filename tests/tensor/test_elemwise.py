"""The Elemwise and DimShuffle ops themselves: nodes, static shapes, perform, infer_shape, gradients."""
import numpy as np
import pytest

import theano
import theano.tensor as T
from arignote.gradient import verify_grad
from arignote.scalar import table as S
from arignote.tensor.elemwise import DimShuffle, Elemwise


def run(out, ins, vals):
    f = theano.function(list(ins), out, on_unused_input="ignore")
    r = f(*vals)
    assert isinstance(r, np.ndarray) and r.dtype == out.dtype
    np.testing.assert_array_equal(r, out.eval(dict(zip(ins, vals))))
    return r


def tt(dtype, shape, name=None):
    return T.TensorType(dtype, shape=shape)(name)


# --- Elemwise: nodes -------------------------------------------------------------------------

def test_elemwise_props_and_str():
    a = Elemwise(S.get("exp"))
    b = Elemwise(S.get("exp"))
    assert a == b and hash(a) == hash(b)
    assert a != Elemwise(S.get("exp"), "float32")
    assert str(a) == "Elemwise{exp}"
    x = T.dvector()
    assert a(x).owner.op == T.exp(x).owner.op


def test_lower_rank_inputs_are_padded_on_the_left():
    v, m = T.dvector("v"), T.dmatrix("m")
    out = v + m
    pads = [i for i in out.owner.inputs if i.owner is not None and isinstance(i.owner.op, DimShuffle)]
    assert len(pads) == 1 and pads[0].owner.op.new_order == ("x", 0)
    assert out.broadcastable == (False, False)
    s = T.dscalar("s")
    assert (s * m).type.shape == (None, None)
    assert (s * s).type.shape == ()


@pytest.mark.parametrize("a, b, want", [
    ((3, 4), (3, 4), (3, 4)),
    ((3, None), (None, 4), (3, 4)),
    ((1, None), (None, 1), (None, None)),
    ((1, 4), (3, 1), (3, 4)),
    ((1, 1), (1, 1), (1, 1)),
    ((None,), (1, 5), (1, 5)),
    ((5,), (None, None), (None, 5)),
    ((), (2, 1), (2, 1)),
])
def test_static_shape_propagation(a, b, want):
    out = tt("float64", a) * tt("float64", b)
    assert out.type.shape == want
    out = T.add(tt("float64", b), tt("float64", a), tt("float64", ()))
    assert out.type.shape == want


def test_static_shape_mismatch_is_a_build_time_error():
    a, b = tt("float64", (3, 4), "a"), tt("float64", (3, 5), "b")
    with pytest.raises(ValueError, match=r"dimension 1.*'a' has length 4.*'b' has length 5"):
        T.maximum(a, b)
    with pytest.raises(ValueError, match="At .*test_elemwise.py"):
        a * b


def test_runtime_broadcast_needs_a_declared_broadcastable_dim():
    x, y = T.dmatrix("x"), T.dmatrix("y")
    f = theano.function([x, y], x * y)
    with pytest.raises(ValueError, match=r"'y' has shape \(1, 3\) but 'x' has shape \(2, 3\).*dimension 0"):
        f(np.ones((2, 3)), np.ones((1, 3)))
    with pytest.raises(ValueError, match=r"dimension 1"):
        f(np.ones((2, 3)), np.ones((2, 4)))
    # declared broadcastable: fine
    r = T.drow("r")
    np.testing.assert_array_equal(run(x * r, [x, r], [np.full((2, 3), 2.0), np.arange(3.0)[None]]),
                                  2 * np.arange(3.0)[None].repeat(2, 0))
    with pytest.raises(ValueError, match="was built at"):
        f(np.ones((2, 3)), np.ones((1, 3)))


def test_dtype_errors_name_the_variables():
    x, y = T.fvector("x"), T.ivector("y")
    with pytest.raises(TypeError, match=r"and_ of 'x' of dtype float32, 'y' of dtype int32.*integer or boolean"):
        T.and_(x, y)
    with pytest.raises(TypeError, match="At .*test_elemwise.py"):
        x | y


# --- Elemwise: perform ---------------------------------------------------------------------

@pytest.mark.parametrize("fn", [T.exp, T.neg, T.abs_, T.sqr, T.tensor_copy, lambda x: T.add(x),
                                lambda x: T.mul(x), lambda x: T.second(x, x), lambda x: T.cast(x, "float32"),
                                lambda x: T.switch(T.constant(True), x, x), lambda x: T.clip(x, -10, 10),
                                lambda x: T.maximum(x, x)])
@pytest.mark.parametrize("shape", [(), (3,), (2, 3)])
def test_perform_gives_fresh_arrays_of_the_exact_dtype(fn, shape):
    x = tt("float64", (None,) * len(shape), "x")
    out = fn(x)
    node = out.owner
    val = np.arange(float(np.prod(shape))).reshape(shape) - 1
    before = val.copy()
    in_vals = [np.asarray(v) for v in theano.function([x], list(node.inputs), on_unused_input="ignore")(val)]
    in_vals = [val if i is x else v for i, v in zip(node.inputs, in_vals)]
    storage = [[None]]
    node.op.perform(node, in_vals, storage)
    res = storage[0][0]
    assert type(res) is np.ndarray and res.dtype == out.dtype and res.shape == shape
    assert not np.may_share_memory(res, val)  # no view_map declared
    np.testing.assert_array_equal(val, before)


def test_nary_add_and_mul_compute_in_the_output_dtype():
    a, b, c = T.bvector("a"), T.bvector("b"), T.ivector("c")
    va = np.array([100, -100], "int8")
    vc = np.array([0, 1], "int32")
    s = T.add(a, b, c)
    assert s.dtype == "int32"
    np.testing.assert_array_equal(run(s, [a, b, c], [va, va, vc]), va.astype("int32") * 2 + vc)
    m = T.mul(a, b, c)
    np.testing.assert_array_equal(run(m, [a, b, c], [va, va, vc + 1]), va.astype("int32") ** 2 * (vc + 1))
    f, g, d = T.fscalar("f"), T.fscalar("g"), T.dscalar("d")
    # float32 + float32 + float64 sums in float64: 2**24 + 1 is not rounded away in float32 first
    got = run(T.add(f, g, d), [f, g, d], [np.float32(2 ** 24), np.float32(1), 0.0])
    assert got == 2 ** 24 + 1


def test_zero_size_and_high_rank():
    x = T.dtensor4("x")
    y = T.TensorType("float64", shape=(1, None, 1, None))("y")
    vx = np.random.default_rng(0).normal(size=(2, 3, 4, 5))
    vy = np.random.default_rng(1).normal(size=(1, 3, 1, 5))
    np.testing.assert_allclose(run(T.exp(x) * y - x, [x, y], [vx, vy]), np.exp(vx) * vy - vx)
    v = T.dvector("v")
    r = run(T.exp(v) + 1, [v], [np.zeros(0)])
    assert r.shape == (0,)


def test_infer_shape():
    m, r, s = T.dmatrix("m"), T.drow("r"), T.dscalar("s")
    out = T.add(m, r, s)
    shp = out.owner.op.infer_shape(None, out.owner, [(3, 4), (1, 4), (1, 1)])
    assert tuple(shp[0]) == (3, 4)
    c = T.dcol("c")
    out2 = c * r
    assert tuple(out2.owner.op.infer_shape(None, out2.owner, [(5, 1), (1, 7)])[0]) == (5, 7)
    fixed = tt("float64", (2, None)) + tt("float64", (None, 6))
    assert tuple(fixed.owner.op.infer_shape(None, fixed.owner, [(2, 6), (2, 6)])[0]) == (2, 6)


# --- DimShuffle -----------------------------------------------------------------------------

@pytest.mark.parametrize("pattern, in_shape, static", [
    ((1, 0), (2, 3), (None, None)),
    (("x", 0), (3,), (1, None)),
    ((0, "x"), (3,), (None, 1)),
    (("x", 1, "x", 0, "x"), (2, 3), (1, None, 1, None, 1)),
    ((0,), (3, 1), (None,)),
    ((1,), (1, 3), (None,)),
    ((), (1, 1), ()),
    (("x",), (), (1,)),
    ((2, 0, 1), (2, 3, 4), (None, None, None)),
])
def test_dimshuffle_values_and_types(pattern, in_shape, static):
    x = tt("float64", tuple(1 if s == 1 else None for s in in_shape), "x")
    out = x.dimshuffle(*pattern)
    assert out.type.shape == static
    val = np.arange(float(np.prod(in_shape))).reshape(in_shape)
    kept = [d for d in pattern if d != "x"]
    dropped = [d for d in range(len(in_shape)) if d not in kept]
    want = val.transpose(kept + dropped).reshape([in_shape[d] for d in kept])
    want = want.reshape([1 if d == "x" else in_shape[d] for d in pattern])
    np.testing.assert_array_equal(run(out, [x], [val]), want)
    if pattern and len(in_shape):
        verify_grad(lambda v: v.dimshuffle(*pattern), [val + 0.5], rng=np.random.default_rng(0))


def test_dimshuffle_is_a_view_and_identity_returns_the_input():
    x = T.dmatrix("x")
    assert x.dimshuffle(0, 1) is x
    out = x.dimshuffle(1, 0)
    assert out.owner.op.view_map == {0: [0]}
    node = out.owner
    val = np.arange(6.0).reshape(2, 3)
    storage = [[None]]
    node.op.perform(node, [val], storage)
    assert np.shares_memory(storage[0][0], val)
    assert str(node.op) == "DimShuffle{1,0}"
    assert node.op == DimShuffle(2, (1, 0)) and hash(node.op) == hash(DimShuffle(2, [1, 0]))


def test_dimshuffle_errors():
    x = T.dmatrix("x")
    with pytest.raises(ValueError, match="drops dimension 1.*not broadcastable"):
        x.dimshuffle(0)
    with pytest.raises(ValueError, match="repeats"):
        x.dimshuffle(0, 0)
    with pytest.raises(ValueError, match="not a dimension"):
        x.dimshuffle(0, 2)
    with pytest.raises(ValueError, match="not a dimension"):
        x.dimshuffle(0, "y")
    with pytest.raises(TypeError, match="expected 3 dimensions"):
        DimShuffle(3, (0, 1, 2))(x)


def test_dimshuffle_list_pattern_transpose_and_T():
    x = T.dtensor3("x")
    val = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(run(x.dimshuffle([2, 0, 1]), [x], [val]), val.transpose(2, 0, 1))
    np.testing.assert_array_equal(run(x.T, [x], [val]), val.T)
    np.testing.assert_array_equal(run(T.transpose(x, (1, 0, 2)), [x], [val]), val.transpose(1, 0, 2))
    np.testing.assert_array_equal(run(x.transpose(-1, 0, 1), [x], [val]), val.transpose(2, 0, 1))


def test_dimshuffle_infer_shape():
    x = T.TensorType("float64", shape=(None, 1, None))("x")
    out = x.dimshuffle(2, "x", 0)
    assert tuple(out.owner.op.infer_shape(None, out.owner, [(5, 1, 7)])[0]) == (7, 1, 5)


def test_dimshuffle_gradient_sums_inserted_dims_that_were_broadcast():
    v, m = T.dvector("v"), T.dmatrix("m")
    out = (v.dimshuffle(0, "x") * m).sum() + (v.dimshuffle("x", 0) * m.T).sum()
    g = T.grad(out, v)
    vv, vm = np.array([1.0, 2.0]), np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(run(g, [v, m], [vv, vm]), 2 * vm.sum(axis=1))
    verify_grad(lambda a, b: a.dimshuffle(0, "x") * b, [vv, vm], rng=np.random.default_rng(0))


def test_dimshuffle_R_op():
    x = T.dmatrix("x")
    ev = T.dmatrix("ev")
    y = x.dimshuffle(1, "x", 0)
    assert y.owner.op.R_op([x], [ev])[0].type.shape == (None, 1, None)
    assert y.owner.op.R_op([x], [None]) == [None]


def test_discrete_inputs_get_float_zero_gradients():
    i = T.imatrix("i")
    x = T.dmatrix("x")
    cost = (i.dimshuffle(1, 0).T * x).sum()
    gi = T.grad(cost, i)
    assert gi.dtype == theano.config.floatX
    np.testing.assert_array_equal(run(gi, [i, x], [np.ones((2, 2), "int32"), np.ones((2, 2))]), np.zeros((2, 2)))
