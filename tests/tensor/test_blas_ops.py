"""Gemm, Gemv and Ger (copying and destructive versions) against NumPy, with their gradients."""
import numpy as np
import pytest

import theano
import theano.tensor as T
from arignote.compile import Mode
from arignote.compile.io import In
from arignote.gradient import verify_grad
from arignote.tensor.blas_ops import (Gemm, Gemv, Ger, gemm_inplace, gemm_no_inplace, gemv_inplace,
                                      gemv_no_inplace, ger, ger_destructive)

RNG = np.random.default_rng(20240611)
NO_REWRITES = Mode("py", None)
DTYPES = ["float32", "float64", "complex64", "complex128"]


def rand(shape, dtype="float64"):
    out = RNG.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        out = out + 1j * RNG.standard_normal(shape)
    return np.asarray(out, dtype=dtype)


def scalar(value, dtype):
    return np.asarray(value, dtype=dtype)


def sym(ndim, dtype, name):
    return T.TensorType(dtype, shape=(None,) * ndim)(name)


def tol(dtype):
    single = np.dtype(dtype) in (np.float32, np.complex64)
    return dict(rtol=1e-4, atol=1e-4) if single else dict(rtol=1e-11, atol=1e-11)


def both(out, inputs, values):
    """`out` through function() and through .eval(); they agree; the dtype is the output's."""
    r1 = np.asarray(theano.function(inputs, out)(*[v.copy() for v in values]))
    r2 = np.asarray(out.eval(dict(zip(inputs, [v.copy() for v in values]))))
    np.testing.assert_array_equal(r1, r2)
    assert r1.dtype == np.dtype(out.dtype)
    return r1


def layouts(m):
    """The same matrix as C-ordered, F-ordered, transposed-view and strided arrays."""
    big = np.zeros((m.shape[0], 2 * m.shape[1]), dtype=m.dtype)
    big[:, ::2] = m
    return [np.ascontiguousarray(m), np.asfortranarray(m), np.ascontiguousarray(m.T).T, big[:, ::2]]


# --- Gemm ------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(3, 4, 5), (1, 4, 5), (3, 1, 5), (3, 4, 1), (1, 1, 1), (7, 13, 2)])
def test_gemm_matches_numpy(dtype, shape):
    m, k, n = shape
    z, x, y = sym(2, dtype, "z"), sym(2, dtype, "x"), sym(2, dtype, "y")
    a, b = sym(0, dtype, "a"), sym(0, dtype, "b")
    Z, X, Y = rand((m, n), dtype), rand((m, k), dtype), rand((k, n), dtype)
    for alpha, beta in [(1.0, 1.0), (-0.3, 2.5), (0.7, 0.0), (0.0, -1.0)]:
        A, B = scalar(alpha, dtype), scalar(beta, dtype)
        got = both(gemm_no_inplace(z, a, x, y, b), [z, a, x, y, b], [Z, A, X, Y, B])
        np.testing.assert_allclose(got, beta * Z + alpha * (X @ Y), **tol(dtype))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gemm_every_memory_layout(dtype):
    z, x, y = sym(2, dtype, "z"), sym(2, dtype, "x"), sym(2, dtype, "y")
    f = theano.function([z, x, y], gemm_no_inplace(z, 0.5, x, y, -1.5), mode=NO_REWRITES)
    Z, X, Y = rand((4, 6), dtype), rand((4, 3), dtype), rand((3, 6), dtype)
    expected = -1.5 * Z + 0.5 * (X @ Y)
    for Zl in layouts(Z):
        for Xl in layouts(X):
            for Yl in layouts(Y):
                before = Zl.copy()
                np.testing.assert_allclose(f(Zl, Xl, Yl), expected, **tol(dtype))
                np.testing.assert_array_equal(Zl, before)  # the copying version leaves z alone


def test_gemm_python_scalars_take_z_dtype():
    z, x, y = T.fmatrix("z"), T.fmatrix("x"), T.fmatrix("y")
    out = gemm_no_inplace(z, 2, x, y, 0.25)
    assert out.dtype == "float32" and out.owner.inputs[1].dtype == "float32"
    Z, X, Y = rand((2, 3), "float32"), rand((2, 2), "float32"), rand((2, 3), "float32")
    np.testing.assert_allclose(both(out, [z, x, y], [Z, X, Y]), 0.25 * Z + 2 * X @ Y, rtol=1e-5, atol=1e-5)


def test_gemm_empty_operands():
    z, x, y = T.dmatrix("z"), T.dmatrix("x"), T.dmatrix("y")
    f = theano.function([z, x, y], gemm_no_inplace(z, 2.0, x, y, 3.0), mode=NO_REWRITES)
    Z = rand((3, 2))
    np.testing.assert_array_equal(f(Z, np.zeros((3, 0)), np.zeros((0, 2))), 3.0 * Z)
    assert f(np.zeros((0, 2)), np.zeros((0, 4)), rand((4, 2))).shape == (0, 2)


def test_gemm_propagates_nan_like_numpy_where_blas_would_skip():
    z, x, y = T.dmatrix("z"), T.dmatrix("x"), T.dmatrix("y")
    a, b = T.dscalar("a"), T.dscalar("b")
    f = theano.function([z, a, x, y, b], gemm_no_inplace(z, a, x, y, b), mode=NO_REWRITES)
    Z, X, Y = rand((2, 2)), rand((2, 3)), rand((3, 2))
    Zn = Z.copy()
    Zn[0, 1] = np.nan
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(f(Zn, 1.0, X, Y, 0.0), 0.0 * Zn + X @ Y)
        Xn = X.copy()
        Xn[1, 2] = np.inf
        np.testing.assert_array_equal(f(Z, 0.0, Xn, Y, 1.0), Z + 0.0 * (Xn @ Y))
    assert np.isnan(f(Zn, 1.0, X, Y, 0.0)[0, 1])


def test_gemm_inplace_overwrites_z_in_perform():
    z, x, y = T.dmatrix("z"), T.dmatrix("x"), T.dmatrix("y")
    node = gemm_inplace(z, -0.5, x, y, 2.0).owner
    assert node.op.destroy_map == {0: [0]} and gemm_no_inplace.destroy_map == {}
    Z, X, Y = rand((3, 4)), rand((3, 5)), rand((5, 4))
    expected = 2.0 * Z + -0.5 * (X @ Y)
    for Zl in layouts(Z):
        out = [[None]]
        node.op.perform(node, [Zl, np.asarray(-0.5), X, Y, np.asarray(2.0)], out)
        assert out[0][0] is Zl  # the output is z itself, overwritten
        np.testing.assert_allclose(Zl, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
def test_gemm_inplace_through_function_overwrites_mutable_input(dtype):
    z, x, y = sym(2, dtype, "z"), sym(2, dtype, "x"), sym(2, dtype, "y")
    f = theano.function([In(z, mutable=True), x, y], gemm_inplace(z, 0.5, x, y, 1.0), mode=NO_REWRITES)
    Z, X, Y = rand((4, 3), dtype), rand((4, 2), dtype), rand((2, 3), dtype)
    Zw = Z.copy()
    result = f(Zw, X, Y)
    np.testing.assert_allclose(Zw, Z + 0.5 * (X @ Y), **tol(dtype))
    np.testing.assert_array_equal(result, Zw)


def test_gemm_inplace_with_z_aliasing_an_operand():
    z, y = T.dmatrix("z"), T.dmatrix("y")
    node = gemm_inplace(z, 1.0, z, y, 1.0).owner
    Z, Y = rand((3, 3)), rand((3, 3))
    expected = Z + Z @ Y
    Zw = Z.copy()
    out = [[None]]
    node.op.perform(node, [Zw, np.asarray(1.0), Zw, Y, np.asarray(1.0)], out)
    assert out[0][0] is Zw
    np.testing.assert_allclose(Zw, expected, rtol=1e-12, atol=1e-12)
    # and through a view of z (the transpose) as the second operand
    Zw = Z.copy()
    node.op.perform(node, [Zw, np.asarray(1.0), Y, Zw.T, np.asarray(1.0)], out)
    np.testing.assert_allclose(Zw, Z + Y @ Z.T, rtol=1e-12, atol=1e-12)


def test_gemm_static_shape_and_infer_shape():
    z = T.TensorType("float64", shape=(None, 4))("z")
    x = T.TensorType("float64", shape=(3, None))("x")
    y = T.dmatrix("y")
    out = gemm_no_inplace(z, 1.0, x, y, 1.0)
    assert out.type.shape == (3, 4)
    node = out.owner
    assert node.op.infer_shape(None, node, [("m", "n"), (), (3, "k"), ("k", "n"), ()]) == [("m", "n")]
    f = theano.function([z, x, y], out.shape)
    np.testing.assert_array_equal(f(rand((3, 4)), rand((3, 2)), rand((2, 4))), [3, 4])


def test_gemm_build_errors():
    z, x, y = T.dmatrix("z"), T.dmatrix("x"), T.dmatrix("y")
    with pytest.raises(TypeError, match="gemm: z 'z' must be a matrix"):
        gemm_no_inplace(T.dvector("z"), 1.0, x, y, 1.0)
    with pytest.raises(TypeError, match="scalar a .* must be 0-d"):
        gemm_no_inplace(z, T.dvector("a"), x, y, 1.0)
    with pytest.raises(TypeError, match="dtype of 'z' \\(float64\\), but x 'xf' has dtype float32"):
        gemm_no_inplace(z, 1.0, T.fmatrix("xf"), y, 1.0)
    with pytest.raises(TypeError, match="'zi' has dtype int32; BLAS products need"):
        gemm_no_inplace(T.imatrix("zi"), 1, T.imatrix("xi"), T.imatrix("yi"), 1)
    with pytest.raises(TypeError, match="but a 'af' has dtype float32"):
        gemm_no_inplace(z, T.fscalar("af"), x, y, 1.0)
    xs = T.TensorType("float64", shape=(2, 3))("xs")
    ys = T.TensorType("float64", shape=(4, 5))("ys")
    with pytest.raises(ValueError, match="x 'xs' has length 3 in axis 1, y 'ys' has length 4 in axis 0"):
        gemm_no_inplace(z, 1.0, xs, ys, 1.0)
    zs = T.TensorType("float64", shape=(7, None))("zs")
    with pytest.raises(ValueError, match="z 'zs' has length 7 in axis 0, x 'xs' has length 2"):
        gemm_no_inplace(zs, 1.0, xs, y, 1.0)


def test_gemm_runtime_shape_error_names_the_problem():
    z, x, y = T.dmatrix("z"), T.dmatrix("x"), T.dmatrix("y")
    f = theano.function([z, x, y], gemm_no_inplace(z, 1.0, x, y, 1.0), mode=NO_REWRITES)
    with pytest.raises(ValueError, match=r"z of shape \(2, 2\) cannot hold dot\(x, y\).*built at"):
        f(rand((2, 2)), rand((3, 4)), rand((4, 2)))
    with pytest.raises(ValueError, match="cannot hold"):
        f(rand((3, 2)), rand((3, 4)), rand((5, 2)))


def test_gemm_gradient():
    def fn(z, a, x, y, b):
        return gemm_no_inplace(z, a, x, y, b)

    pt = [rand((3, 4)), np.asarray(0.7), rand((3, 2)), rand((2, 4)), np.asarray(-1.3)]
    verify_grad(fn, pt, rng=np.random.default_rng(0))


def test_gemm_rop():
    z, x, y = T.dmatrix("z"), T.dmatrix("x"), T.dmatrix("y")
    a, b = T.dscalar("a"), T.dscalar("b")
    ez, ex, ey = T.dmatrix("ez"), T.dmatrix("ex"), T.dmatrix("ey")
    ea, eb = T.dscalar("ea"), T.dscalar("eb")
    out = gemm_no_inplace(z, a, x, y, b)
    r = T.Rop(out, [z, a, x, y, b], [ez, ea, ex, ey, eb])
    vals = [rand((2, 3)), np.asarray(0.5), rand((2, 4)), rand((4, 3)), np.asarray(2.0)]
    evals = [rand((2, 3)), np.asarray(-1.5), rand((2, 4)), rand((4, 3)), np.asarray(0.25)]
    got = theano.function([z, a, x, y, b, ez, ea, ex, ey, eb], r)(*vals, *evals)
    Z, A, X, Y, B = vals
    EZ, EA, EX, EY, EB = evals
    expected = B * EZ + EB * Z + EA * X @ Y + A * (EX @ Y + X @ EY)
    np.testing.assert_allclose(got, expected, rtol=1e-10)


# --- Gemv ------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(3, 4), (1, 4), (5, 1), (1, 1), (17, 9)])
def test_gemv_matches_numpy(dtype, shape):
    m, n = shape
    z, A, x = sym(1, dtype, "z"), sym(2, dtype, "A"), sym(1, dtype, "x")
    a, b = sym(0, dtype, "a"), sym(0, dtype, "b")
    Z, AA, X = rand((m,), dtype), rand((m, n), dtype), rand((n,), dtype)
    for alpha, beta in [(1.0, 1.0), (-0.3, 2.5), (0.7, 0.0)]:
        got = both(gemv_no_inplace(z, a, A, x, b), [z, a, A, x, b],
                   [Z, scalar(alpha, dtype), AA, X, scalar(beta, dtype)])
        np.testing.assert_allclose(got, beta * Z + alpha * (AA @ X), **tol(dtype))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gemv_every_memory_layout(dtype):
    z, A, x = sym(1, dtype, "z"), sym(2, dtype, "A"), sym(1, dtype, "x")
    f = theano.function([z, A, x], gemv_no_inplace(z, 2.0, A, x, 0.5), mode=NO_REWRITES)
    Z, AA, X = rand((4,), dtype), rand((4, 6), dtype), rand((6,), dtype)
    expected = 0.5 * Z + 2.0 * (AA @ X)
    Xs = np.zeros(12, dtype)
    Xs[::2] = X
    Zs = np.zeros(8, dtype)
    Zs[::2] = Z
    for Al in layouts(AA):
        for Xl in (X, Xs[::2]):
            for Zl in (Z, Zs[::2]):
                before = Zl.copy()
                np.testing.assert_allclose(f(Zl, Al, Xl), expected, **tol(dtype))
                np.testing.assert_array_equal(Zl, before)


def test_gemv_inplace_overwrites_z():
    z, A, x = T.dvector("z"), T.dmatrix("A"), T.dvector("x")
    node = gemv_inplace(z, 1.5, A, x, -1.0).owner
    assert node.op.destroy_map == {0: [0]}
    Z, AA, X = rand((5,)), rand((5, 3)), rand((3,))
    Zs = np.zeros(10)
    Zs[::2] = Z
    for Zl in (Z.copy(), Zs[::2]):
        out = [[None]]
        node.op.perform(node, [Zl, np.asarray(1.5), AA, X, np.asarray(-1.0)], out)
        assert out[0][0] is Zl
        np.testing.assert_allclose(Zl, -Z + 1.5 * AA @ X, rtol=1e-12, atol=1e-12)
    f = theano.function([In(z, mutable=True), A, x], gemv_inplace(z, 1.5, A, x, -1.0), mode=NO_REWRITES)
    Zw = Z.copy()
    f(Zw, AA, X)
    np.testing.assert_allclose(Zw, -Z + 1.5 * AA @ X, rtol=1e-12)


def test_gemv_errors():
    z, A, x = T.dvector("z"), T.dmatrix("A"), T.dvector("x")
    with pytest.raises(TypeError, match="gemv: x 'X' must be a vector"):
        gemv_no_inplace(z, 1.0, A, T.dmatrix("X"), 1.0)
    with pytest.raises(TypeError, match="gemv: A 'v' must be a matrix"):
        gemv_no_inplace(z, 1.0, T.dvector("v"), x, 1.0)
    with pytest.raises(TypeError, match="dtype"):
        gemv_no_inplace(z, 1.0, T.fmatrix("Af"), x, 1.0)
    f = theano.function([z, A, x], gemv_no_inplace(z, 1.0, A, x, 1.0), mode=NO_REWRITES)
    with pytest.raises(ValueError, match=r"z of shape \(2,\) cannot hold dot\(A, x\)"):
        f(rand((2,)), rand((3, 4)), rand((4,)))


def test_gemv_gradient_and_shape():
    pt = [rand((3,)), np.asarray(0.7), rand((3, 4)), rand((4,)), np.asarray(-1.3)]
    verify_grad(lambda z, a, A, x, b: gemv_no_inplace(z, a, A, x, b), pt, rng=np.random.default_rng(0))
    z, A, x = T.dvector("z"), T.dmatrix("A"), T.dvector("x")
    out = gemv_no_inplace(z, 1.0, A, x, 1.0)
    np.testing.assert_array_equal(theano.function([z, A, x], out.shape)(rand((3,)), rand((3, 2)), rand((2,))),
                                  [3])


# --- Ger -------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(3, 4), (1, 4), (5, 1), (1, 1)])
def test_ger_matches_numpy(dtype, shape):
    m, n = shape
    A, x, y, a = sym(2, dtype, "A"), sym(1, dtype, "x"), sym(1, dtype, "y"), sym(0, dtype, "a")
    AA, X, Y = rand((m, n), dtype), rand((m,), dtype), rand((n,), dtype)
    for alpha in (1.0, -0.25, 0.0):
        got = both(ger(A, a, x, y), [A, a, x, y], [AA, scalar(alpha, dtype), X, Y])
        # no conjugation of y for complex dtypes (xGERU), as A + a * outer(x, y)
        np.testing.assert_allclose(got, AA + alpha * np.outer(X, Y), **tol(dtype))


def test_ger_layouts_and_destructive_version():
    A, x, y = T.dmatrix("A"), T.dvector("x"), T.dvector("y")
    f = theano.function([A, x, y], ger(A, 0.5, x, y), mode=NO_REWRITES)
    AA, X, Y = rand((4, 3)), rand((4,)), rand((3,))
    expected = AA + 0.5 * np.outer(X, Y)
    node = ger_destructive(A, 0.5, x, y).owner
    assert node.op.destroy_map == {0: [0]}
    for Al in layouts(AA):
        before = Al.copy()
        np.testing.assert_allclose(f(Al, X, Y), expected, rtol=1e-12)
        np.testing.assert_array_equal(Al, before)
        out = [[None]]
        node.op.perform(node, [Al, np.asarray(0.5), X, Y], out)
        assert out[0][0] is Al
        np.testing.assert_allclose(Al, expected, rtol=1e-12)


def test_ger_errors_and_gradient():
    A, x, y = T.dmatrix("A"), T.dvector("x"), T.dvector("y")
    with pytest.raises(TypeError, match="ger: y 'Y' must be a vector"):
        ger(A, 1.0, x, T.dmatrix("Y"))
    As = T.TensorType("float64", shape=(2, 3))("As")
    xs = T.TensorType("float64", shape=(4,))("xs")
    with pytest.raises(ValueError, match="A 'As' has length 2 in axis 0, x 'xs' has length 4"):
        ger(As, 1.0, xs, y)
    f = theano.function([A, x, y], ger(A, 1.0, x, y), mode=NO_REWRITES)
    with pytest.raises(ValueError, match=r"A of shape \(2, 3\) cannot hold outer\(x, y\)"):
        f(rand((2, 3)), rand((2,)), rand((4,)))
    pt = [rand((3, 2)), np.asarray(0.7), rand((3,)), rand((2,))]
    verify_grad(lambda A, a, x, y: ger(A, a, x, y), pt, rng=np.random.default_rng(0))


def test_gemv_and_ger_rop():
    z, A, x, y = T.dvector("z"), T.dmatrix("A"), T.dvector("x"), T.dvector("y")
    a, b = T.dscalar("a"), T.dscalar("b")
    ez, eA, ex, ey = T.dvector("ez"), T.dmatrix("eA"), T.dvector("ex"), T.dvector("ey")
    ea, eb = T.dscalar("ea"), T.dscalar("eb")
    Z, AA, X, Y = rand((3,)), rand((3, 2)), rand((2,)), rand((2,))
    EZ, EA, EX, EY = rand((3,)), rand((3, 2)), rand((2,)), rand((2,))
    r = T.Rop(gemv_no_inplace(z, a, A, x, b), [z, a, A, x, b], [ez, ea, eA, ex, eb])
    got = theano.function([z, a, A, x, b, ez, ea, eA, ex, eb], r)(Z, 0.5, AA, X, 2.0, EZ, -1.0, EA, EX, 0.3)
    expected = 2.0 * EZ + 0.3 * Z - 1.0 * AA @ X + 0.5 * (EA @ X + AA @ EX)
    np.testing.assert_allclose(got, expected, rtol=1e-10)
    u = T.dvector("u")
    eu = T.dvector("eu")
    U, EU = rand((3,)), rand((3,))
    r = T.Rop(ger(A, a, u, y), [A, a, u, y], [eA, ea, eu, ey])
    got = theano.function([A, a, u, y, eA, ea, eu, ey], r)(AA, 0.5, U, Y, EA, -1.0, EU, EY)
    expected = EA - np.outer(U, Y) + 0.5 * (np.outer(EU, Y) + np.outer(U, EY))
    np.testing.assert_allclose(got, expected, rtol=1e-10)


# --- the ops as values -----------------------------------------------------------------------

def test_props_equality_and_names():
    assert Gemm() == gemm_no_inplace and Gemm(inplace=True) == gemm_inplace != gemm_no_inplace
    assert hash(Gemm()) == hash(gemm_no_inplace)
    assert Gemv(inplace=True) == gemv_inplace and Gemv() == gemv_no_inplace
    assert Ger(destructive=True) == Ger(inplace=True) == ger_destructive and Ger() == ger
    assert ger_destructive.destructive and not ger.destructive
    assert gemm_no_inplace.as_inplace() == gemm_inplace and gemm_inplace.as_no_inplace() == gemm_no_inplace
    assert ger.as_inplace() == ger_destructive and gemv_no_inplace.as_inplace() == gemv_inplace
    assert str(gemm_inplace) == "Gemm{inplace}" and str(gemv_no_inplace) == "Gemv{no_inplace}"
    assert str(ger) == "Ger{non-destructive}" and str(ger_destructive) == "Ger{destructive}"
    assert gemm_no_inplace.destroy_map == {} and ger.destroy_map == {}
