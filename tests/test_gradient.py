"""arignote.gradient: grad, its options, jacobian, hessian, Rop, Lop, gradient-shaping ops, verify_grad."""
import warnings

import numpy as np
import pytest

import theano
import theano.tensor as T
from arignote.gradient import (DisconnectedInputError, DisconnectedType, GradientError, NullTypeGradError,
                               grad_not_implemented, grad_scale, verify_grad)
from arignote.graph.basic import Apply, Op


def run(outs, ins, vals):
    return theano.function(list(ins), outs, on_unused_input="ignore")(*vals)


# --- the tutorial examples ------------------------------------------------------------------

def test_grad_of_square_at_3_is_6():
    x = T.dscalar("x")
    gy = T.grad(x ** 2, x)
    assert float(run(gy, [x], [3.0])) == 6.0
    assert float(gy.eval({x: 3.0})) == 6.0


def test_logistic_tutorial():
    x = T.dmatrix("x")
    s = 1 / (1 + T.exp(-x))
    gs = T.grad(T.sum(s), x)
    val = np.array([[0.0, 1.0], [-1.0, -2.0]])
    got = run(gs, [x], [val])
    sv = 1 / (1 + np.exp(-val))
    np.testing.assert_allclose(got, sv * (1 - sv), rtol=1e-12)
    np.testing.assert_allclose(got, [[0.25, 0.19661193], [0.19661193, 0.10499359]], rtol=1e-7)


# --- grad ------------------------------------------------------------------------------------

def test_grad_with_a_list_returns_a_list():
    x, y = T.dscalars("x", "y")
    cost = x * y ** 2 + T.sin(x)
    gx, gy = T.grad(cost, [x, y])
    rx, ry = run([gx, gy], [x, y], [0.5, 3.0])
    np.testing.assert_allclose(rx, 9.0 + np.cos(0.5))
    np.testing.assert_allclose(ry, 2 * 0.5 * 3.0)
    out = T.grad(cost, (x,))  # Theano's format_as: a tuple for a tuple
    assert isinstance(out, tuple) and len(out) == 1
    assert isinstance(T.grad(cost, [y]), list)
    g = T.grad(cost, x)
    assert not isinstance(g, list)


def test_grad_wrt_a_variable_and_what_it_depends_on():
    x = T.dscalar("x")
    y = x ** 2
    c = 3 * y + x
    gy, gx = T.grad(c, [y, x])
    ry, rx = run([gy, gx], [x], [2.0])
    assert ry == 3.0
    assert rx == 3 * 2 * 2.0 + 1  # total derivative, through y too
    assert run(T.grad(c, y), [x], [2.0]) == 3.0


def test_grad_names():
    x = T.dscalar("x")
    cost = (x ** 2)
    cost.name = "c"
    assert T.grad(cost, x).name == "(dc/dx)"
    assert T.grad(cost, x, add_names=False).name is None or T.grad(cost, x, add_names=False).name != "(dc/dx)"


def test_grad_dtype_and_broadcast_pattern_match_wrt():
    f = T.fmatrix("f")
    r = T.frow("r")
    g_f, g_r = T.grad(T.sum(T.exp(f + r) * 0.5), [f, r])
    assert g_f.dtype == "float32" and g_r.dtype == "float32"
    assert g_r.broadcastable == (True, False)
    vf, vr = np.ones((2, 3), "float32"), np.zeros((1, 3), "float32")
    rf, rr = run([g_f, g_r], [f, r], [vf, vr])
    assert rf.dtype == rr.dtype == np.float32
    np.testing.assert_allclose(rr, 2 * 0.5 * np.exp(vf[:1]), rtol=1e-6)


def test_consider_constant_argument():
    x = T.dscalar("x")
    y = x ** 2
    c = y * x
    g = T.grad(c, x, consider_constant=[y])
    assert run(g, [x], [3.0]) == 9.0  # only the outer x: y counts as a constant
    assert run(T.grad(c, x), [x], [3.0]) == 27.0
    # the constant itself still has a gradient (Theano), nothing flows past it
    gy, gx = T.grad(c, [y, x], consider_constant=[y])
    assert run([gy, gx], [x], [3.0]) == [3.0, 9.0]
    assert run(T.grad(c, x, consider_constant=[x]), [x], [3.0]) == 27.0


def test_disconnected_inputs_raise_warn_ignore():
    x, z = T.dscalar("x"), T.dscalar("zed")
    cost = x ** 2
    with pytest.raises(DisconnectedInputError, match="zed") as info:
        T.grad(cost, [x, z])
    assert "test_gradient.py" in str(info.value)  # where zed was made and where grad was called
    with pytest.raises(ValueError, match="does not depend on zed"):  # it is a ValueError too
        T.grad(cost, z)
    with pytest.warns(UserWarning, match="zed"):
        gx, gz = T.grad(cost, [x, z], disconnected_inputs="warn")
    rx, rz = run([gx, gz], [x, z], [2.0, 5.0])
    assert rx == 4.0 and rz == 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gz = T.grad(cost, z, disconnected_inputs="ignore")
    assert run(gz, [z], [1.0]) == 0.0
    with pytest.raises(ValueError, match="disconnected_inputs"):
        T.grad(cost, x, disconnected_inputs="maybe")


def test_return_disconnected():
    x, z = T.dscalar("x"), T.dvector("z")
    cost = x ** 2
    gz = T.grad(cost, z, disconnected_inputs="ignore", return_disconnected="zero")
    np.testing.assert_array_equal(run(gz, [z], [np.ones(3)]), np.zeros(3))
    assert gz.dtype == "float64" and gz.ndim == 1
    assert T.grad(cost, z, disconnected_inputs="ignore", return_disconnected="None") is None
    d = T.grad(cost, z, disconnected_inputs="ignore", return_disconnected="Disconnected")
    assert isinstance(d.type, DisconnectedType)
    gx, gz = T.grad(cost, [x, z], disconnected_inputs="ignore", return_disconnected="None")
    assert gz is None and run(gx, [x], [1.5]) == 3.0
    with pytest.raises(ValueError, match="return_disconnected"):
        T.grad(cost, z, return_disconnected="nothing")


def test_known_grads():
    x = T.dvector("x")
    y = T.exp(x)
    gy = T.dvector("gy")
    gx = T.grad(None, x, known_grads={y: gy})
    vx, vg = np.array([0.0, 1.0]), np.array([2.0, 3.0])
    np.testing.assert_allclose(run(gx, [x, gy], [vx, vg]), vg * np.exp(vx))
    # together with a cost: the contributions add up
    cost = T.sum(x ** 2)
    gx2 = T.grad(cost, x, known_grads={y: gy})
    np.testing.assert_allclose(run(gx2, [x, gy], [vx, vg]), 2 * vx + vg * np.exp(vx))
    # a NumPy value as the known gradient
    gx3 = T.grad(None, x, known_grads={y: np.array([1.0, 1.0])})
    np.testing.assert_allclose(run(gx3, [x], [vx]), np.exp(vx))
    with pytest.raises(ValueError, match="cost or known_grads"):
        T.grad(None, x)


def test_cost_must_be_a_float_scalar():
    v = T.dvector("v")
    with pytest.raises(TypeError, match="scalar.*1 dimensions"):
        T.grad(v * 2, v)
    with pytest.raises(TypeError, match="discrete"):
        T.grad(T.sum(T.ivector("i")), v)
    with pytest.raises(TypeError, match="not a symbolic variable"):
        T.grad(T.sum(v), [v, 3.0])
    with pytest.raises(TypeError, match="cost must be a symbolic variable"):
        T.grad(1.0, v)


def test_integer_wrt_gives_float_zeros():
    i = T.ivector("i")
    x = T.dscalar("x")
    cost = T.sum(i * x) + T.sum(i ** 2) * 1.0
    gi, gx = T.grad(cost, [i, x])
    assert gi.dtype == theano.config.floatX and gi.ndim == 1
    ri, rx = run([gi, gx], [i, x], [np.array([1, 2, 3], "int32"), 2.0])
    np.testing.assert_array_equal(ri, [0.0, 0.0, 0.0])
    assert rx == 6.0


def test_grad_wrt_shared_variable():
    w = theano.shared(np.array([1.0, 2.0]), name="w")
    x = T.dvector("x")
    g = T.grad(T.sum(w * x) ** 2, w)
    vx = np.array([3.0, 4.0])
    np.testing.assert_allclose(run(g, [x], [vx]), 2 * (1 * 3 + 2 * 4) * vx)


def test_gradient_through_several_paths_is_summed():
    x = T.dvector("x")
    y = T.exp(x)
    cost = T.sum(y * y + y + T.log(y))
    val = np.array([0.1, -0.3])
    np.testing.assert_allclose(run(T.grad(cost, x), [x], [val]), 2 * np.exp(2 * val) + np.exp(val) + 1)


def test_second_derivative():
    x = T.dscalar("x")
    y = x ** 3 + T.sin(x)
    g = T.grad(y, x)
    gg = T.grad(g, x)
    assert np.isclose(run(gg, [x], [0.7]), 6 * 0.7 - np.sin(0.7))


# --- jacobian / hessian ---------------------------------------------------------------------

def test_jacobian_vector_to_vector():
    x = T.dvector("x")
    y = T.exp(x) * T.sum(x ** 2)  # a full (non-diagonal) Jacobian
    J = T.jacobian(y, x)
    val = np.array([0.5, 1.0, -1.5])
    got = run(J, [x], [val])
    eps = 1e-6
    f = theano.function([x], y)
    num = np.stack([(f(val + eps * e) - f(val - eps * e)) / (2 * eps) for e in np.eye(3)], axis=1)
    np.testing.assert_allclose(got, num, rtol=1e-6, atol=1e-8)


def test_jacobian_vector_wrt_matrix_and_list():
    W = T.dmatrix("W")
    x = T.dvector("x")
    y = T.tanh(T.sum(W * x, axis=1))  # tanh(W @ x)
    Jw, Jx = T.jacobian(y, [W, x])
    vW = np.arange(6.0).reshape(2, 3) / 10
    vx = np.array([1.0, -1.0, 0.5])
    rw, rx = run([Jw, Jx], [W, x], [vW, vx])
    d = 1 - np.tanh(vW @ vx) ** 2
    want_w = np.zeros((2, 2, 3))
    for i in range(2):
        want_w[i, i] = d[i] * vx
    assert rw.shape == (2, 2, 3)
    np.testing.assert_allclose(rw, want_w, rtol=1e-12)
    np.testing.assert_allclose(rx, d[:, None] * vW, rtol=1e-12)
    with pytest.raises(TypeError, match="vector"):
        T.jacobian(x.dimshuffle(0, "x") * x, x)
    # a scalar expression: its gradient (as Theano)
    gs = T.jacobian(T.sum(x ** 2), x)
    np.testing.assert_allclose(run(gs, [x], [vx]), 2 * vx)
    assert isinstance(T.jacobian(y, (W, x)), tuple)


def test_hessian():
    x = T.dvector("x")
    A = np.array([[2.0, 1.0, 0.0], [1.0, 3.0, 0.5], [0.0, 0.5, 1.0]])
    cost = 0.5 * T.sum(x * T.sum(T.constant(A) * x, axis=1)) + T.sum(x ** 3)
    H = T.hessian(cost, x)
    val = np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(run(H, [x], [val]), A + np.diag(6 * val), rtol=1e-12)
    y = T.dvector("y")
    Hx, Hy = T.hessian(T.sum(x * x * y), [x, y])
    rx, ry = run([Hx, Hy], [x, y], [val, np.array([1.0, 2.0, 3.0])])
    np.testing.assert_allclose(rx, np.diag([2.0, 4.0, 6.0]))
    np.testing.assert_allclose(ry, np.zeros((3, 3)))
    with pytest.raises(TypeError, match="vector"):
        T.hessian(T.sum(x), T.dmatrix())


# --- Rop / Lop -----------------------------------------------------------------------------

def _numeric_jacobian(f, val, eps=1e-6):
    cols = []
    for k in range(val.size):
        e = np.zeros(val.size)
        e[k] = eps
        cols.append(((f(val + e.reshape(val.shape)) - f(val - e.reshape(val.shape))) / (2 * eps)).ravel())
    return np.stack(cols, axis=1)


def test_rop_and_lop_against_numpy_jacobian():
    W = T.dmatrix("W")
    x = T.dvector("x")
    y = T.sin(T.sum(W * x, axis=1)) * T.sum(x)  # a vector of length 2
    vW = np.array([[0.1, 0.2, -0.3], [0.4, -0.5, 0.6]])
    vx = np.array([1.0, 2.0, -0.5])
    V, v, u = T.dmatrix("V"), T.dvector("v"), T.dvector("u")
    vV = np.array([[1.0, 0.0, 2.0], [-1.0, 0.5, 0.0]])
    vv, vu = np.array([0.3, -0.2, 0.1]), np.array([1.5, -2.0])
    fW = theano.function([W, x], y)
    JW = _numeric_jacobian(lambda w: fW(w, vx), vW)  # (2, 6)
    Jx = _numeric_jacobian(lambda z: fW(vW, z), vx)  # (2, 3)
    rop = T.Rop(y, [W, x], [V, v])
    np.testing.assert_allclose(run(rop, [W, x, V, v], [vW, vx, vV, vv]), JW @ vV.ravel() + Jx @ vv, rtol=1e-6)
    rop_x = T.Rop(y, x, v)
    np.testing.assert_allclose(run(rop_x, [W, x, v], [vW, vx, vv]), Jx @ vv, rtol=1e-6)
    lw, lx = T.Lop(y, [W, x], u)
    rw, rx = run([lw, lx], [W, x, u], [vW, vx, vu])
    np.testing.assert_allclose(rw, (vu @ JW).reshape(2, 3), rtol=1e-6)
    np.testing.assert_allclose(rx, vu @ Jx, rtol=1e-6)


def test_rop_lists_of_outputs_and_errors():
    x = T.dvector("x")
    v = T.dvector("v")
    y1, y2 = x ** 2, T.sum(T.exp(x))
    r1, r2 = T.Rop([y1, y2], x, v)
    vx, vv = np.array([1.0, 2.0]), np.array([0.5, -1.0])
    g1, g2 = run([r1, r2], [x, v], [vx, vv])
    np.testing.assert_allclose(g1, 2 * vx * vv)
    np.testing.assert_allclose(g2, np.exp(vx) @ vv)
    with pytest.raises(ValueError, match="dimensions"):
        T.Rop(y1, x, T.dmatrix())
    z = T.dvector("z")
    with pytest.raises(DisconnectedInputError, match="does not depend"):
        T.Rop([y1, z * 2], x, v)
    with pytest.warns(UserWarning, match="does not depend"):
        r1, r3 = T.Rop([y1, z * 2], x, v, disconnected_outputs="warn")
    g1, g3 = run([r1, r3], [x, v, z], [vx, vv, np.ones(4)])
    np.testing.assert_allclose(g1, 2 * vx * vv)
    np.testing.assert_array_equal(g3, np.zeros(4))
    assert T.Rop(z * 2, x, v, disconnected_outputs="ignore", return_disconnected="None") is None
    d = T.Rop(z * 2, x, v, disconnected_outputs="ignore", return_disconnected="Disconnected")
    assert isinstance(d.type, DisconnectedType)
    with pytest.raises(ValueError, match="eval_points"):
        T.Rop(y1, [x], [v, v])


# --- gradient-shaping ops ---------------------------------------------------------------------

def test_zero_grad():
    x = T.dscalar("x")
    y = T.zero_grad(x ** 2) * x
    assert run(y, [x], [3.0]) == 27.0
    assert run(T.grad(y, x), [x], [3.0]) == 9.0
    # the gradient through zero_grad is zero, but still connected
    g = T.grad(T.zero_grad(x) * 1.0, x)
    assert run(g, [x], [3.0]) == 0.0


def test_disconnected_grad():
    x = T.dscalar("x")
    y = T.disconnected_grad(x ** 2) * x
    assert run(y, [x], [3.0]) == 27.0
    assert run(T.grad(y, x), [x], [3.0]) == 9.0
    with pytest.raises(DisconnectedInputError):
        T.grad(T.disconnected_grad(x) * 2, x)


def test_consider_constant_op():
    x = T.dscalar("x")
    y = T.consider_constant(x ** 2) * x
    assert run(y, [x], [3.0]) == 27.0
    assert run(T.grad(y, x), [x], [3.0]) == 9.0
    from theano.gradient import consider_constant

    assert consider_constant is T.consider_constant


def test_grad_clip():
    x = T.dscalar("x")
    y = T.grad_clip(x, -1.0, 1.0) ** 2
    g = T.grad(y, x)
    assert run(y, [x], [3.0]) == 9.0
    assert run(g, [x], [3.0]) == 1.0  # 6, clipped
    assert run(g, [x], [-3.0]) == -1.0
    assert run(g, [x], [0.25]) == 0.5  # within the bounds: untouched
    with pytest.raises(ValueError, match="upper bound"):
        T.grad_clip(x, 1.0, -1.0)


def test_grad_scale():
    x = T.dvector("x")
    g = T.grad(T.sum(grad_scale(x, 0.5) ** 2), x)
    np.testing.assert_allclose(run(g, [x], [np.array([1.0, 2.0])]), [1.0, 2.0])


# --- verify_grad ------------------------------------------------------------------------------

class _Double(Op):
    """2 * x, with a gradient that can be made wrong on purpose."""

    __props__ = ("factor",)

    def __init__(self, factor):
        self.factor = factor

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = np.asarray(2 * inputs[0], dtype=node.outputs[0].dtype)

    def L_op(self, inputs, outputs, output_grads):
        return [output_grads[0] * self.factor]


def test_verify_grad_accepts_a_right_gradient_and_raises_for_a_wrong_one():
    val = np.array([1.0, 2.0, 3.0])
    verify_grad(_Double(2.0), [val], rng=np.random.default_rng(0))
    with pytest.raises(GradientError, match="disagrees with finite differences") as info:
        verify_grad(_Double(3.0), [val], rng=np.random.default_rng(0))
    assert info.value.arg == 0
    assert verify_grad.E_grad is GradientError
    # a small error is still caught (tolerance 1e-4 in float64)
    with pytest.raises(GradientError):
        verify_grad(_Double(2.001), [val], rng=np.random.default_rng(0))


def test_verify_grad_catches_nan_gradients():
    class _NanGrad(_Double):
        def L_op(self, inputs, outputs, output_grads):
            return [output_grads[0] * np.nan]

    with pytest.raises(GradientError):
        verify_grad(_NanGrad(2.0), [np.array([1.0, 2.0])], rng=np.random.default_rng(0))


def test_verify_grad_several_inputs_and_errors():
    verify_grad(lambda a, b: a * T.exp(b), [np.array([1.0, 2.0]), np.array([0.5, -0.5])],
                rng=np.random.default_rng(0))
    with pytest.raises(GradientError) as info:
        verify_grad(lambda a, b: a * _Double(3.0)(b), [np.array([1.0, 2.0]), np.array([0.5, -0.5])],
                    rng=np.random.default_rng(0))
    assert info.value.arg == 1
    with pytest.raises(TypeError, match="float"):
        verify_grad(T.exp, [np.array([1, 2])])


def test_verify_grad_float32():
    verify_grad(T.tanh, [np.array([0.1, 0.5], "float32")], rng=np.random.default_rng(0))
    with pytest.raises(GradientError):
        verify_grad(_Double(2.5), [np.array([0.1, 0.5], "float32")], rng=np.random.default_rng(0))


def test_null_gradients_raise_or_return():
    class _NoGrad(_Double):
        def L_op(self, inputs, outputs, output_grads):
            return [grad_not_implemented(self, 0, inputs[0], "on purpose")]

    x = T.dvector("x")
    cost = T.sum(_NoGrad(2.0)(x))
    with pytest.raises(NullTypeGradError, match="on purpose"):
        T.grad(cost, x)
    g = T.grad(cost, x, null_gradients="return")
    assert "on purpose" in g.type.why_null


# --- map_over_index (what jacobian is built on) -------------------------------------------------

def test_map_over_index():
    import pickle

    from arignote.scan.map_index import map_over_index

    x, n = T.dvector("x"), T.lscalar("n")
    out = map_over_index(lambda i: x * i + T.sum(x), n)
    assert out.ndim == 2 and out.dtype == "float64"
    f = theano.function([x, n], out)
    vx = np.array([1.0, 2.0])
    np.testing.assert_array_equal(f(vx, 3), [[3.0, 3.0], [4.0, 5.0], [5.0, 7.0]])
    assert f(vx, 0).shape[0] == 0
    again = pickle.loads(pickle.dumps(f))
    np.testing.assert_array_equal(again(vx, 2), f(vx, 2))
    w = theano.shared(np.array([1.0, -1.0]), name="w")
    np.testing.assert_array_equal(map_over_index(lambda i: w * i, 2).eval(), [[0.0, -0.0], [1.0, -1.0]])
