"""Native Dot, Gemm, Gemv and Ger (the direct BLAS calls of blas_calls.py) against the reference backend.

Each graph holds the op under test several times over: plain operands,
operands seen through a transpose (read by BLAS with its 'T' flag), strided
and reversed views (copied first), and a destination the in-place pass lets
the op overwrite. One compiled function per (graph, dtype) serves every shape
and every pair of scalars.
"""
import numpy as np
import pytest

import arignote.tensor as T
from arignote.tensor.blas import Dot
from arignote.tensor.blas_ops import Gemm, Gemv, Ger, gemm_no_inplace, gemv_no_inplace, ger
from arignote.link.numba.testing import native_pair, native_raises, run_both

DTYPES = ["float32", "float64"]
# (a, b): the plain case, general values, and the zeros where BLAS would skip a NaN or an inf
SCALARS = [(1.0, 1.0), (-0.3, 2.5), (0.7, 0.0), (0.0, -1.0), (-1.0, 0.5)]
# (m, k, n): square-ish, a single row / inner / column, empty outputs and an empty inner dimension
SHAPES = [(3, 4, 5), (1, 4, 5), (3, 1, 5), (3, 4, 1), (1, 1, 1), (0, 3, 2), (3, 0, 2), (2, 3, 0), (33, 17, 40)]
pytestmark = pytest.mark.filterwarnings("ignore:invalid value encountered")  # the reference's 0 * inf


def rand(rng, shape, dtype):
    return rng.standard_normal(shape).astype(dtype)


def scalars(dtype):
    return T.scalar("a", dtype=dtype), T.scalar("b", dtype=dtype)


def _destroyers(pair, op_class) -> list:
    """The destructive `op_class` nodes of the native function's graph."""
    native, _ = pair
    return [n for n in native.maker.fgraph.apply_nodes if isinstance(n.op, op_class) and n.op.inplace]


def _assert_no_alias(fn, args, outputs=None):
    """Outputs of ops without a view map own their memory: none shares an input's."""
    results = fn(*args)
    for k in outputs if outputs is not None else range(len(results)):
        for arg in args:
            assert not np.shares_memory(results[k], arg), (k, arg.shape)


# --- Gemm ------------------------------------------------------------------------------------

def _gemms(dtype):
    z, x, y, xt, yt, ys, zt = (T.matrix(name, dtype=dtype) for name in ["z", "x", "y", "xt", "yt", "ys", "zt"])
    a, b = scalars(dtype)
    outs = [gemm_no_inplace(z, a, x, y, b),
            gemm_no_inplace(z, a, xt.T, yt.T, b),             # both operands transposed views
            gemm_no_inplace(z, a, x[::-1, :], ys[:, ::2], b),  # a reversed and a strided operand: copied
            gemm_no_inplace(z * 2, a, x, yt.T, b),            # z computed here: overwritten in place
            gemm_no_inplace((zt * 2).T, a, x, y, b)]          # in place into a column-major destination
    return [z, a, b, x, y, xt, yt, ys, zt], outs


def _gemm_args(rng, dtype, m, k, n, a, b):
    z, x, y = rand(rng, (m, n), dtype), rand(rng, (m, k), dtype), rand(rng, (k, n), dtype)
    return [z, np.asarray(a, dtype), np.asarray(b, dtype), x, y, np.ascontiguousarray(x.T),
            np.ascontiguousarray(y.T), np.repeat(y, 2, axis=1), np.ascontiguousarray(z.T)]


@pytest.mark.parametrize("dtype", DTYPES)
def test_gemm(dtype):
    pair = native_pair(("gemm", dtype), lambda: _gemms(dtype), Gemm)
    assert _destroyers(pair, Gemm)
    rng = np.random.default_rng(0)
    for m, k, n in SHAPES:
        for a, b in SCALARS:
            run_both(pair, *_gemm_args(rng, dtype, m, k, n, a, b))
    _assert_no_alias(pair[0], _gemm_args(rng, dtype, 3, 4, 5, 0.5, 2.0), outputs=[0, 1, 2])


def test_gemm_propagates_nan_and_inf_like_numpy():
    """b == 0 does not hide a NaN in z, a == 0 not an inf in x (BLAS alone would skip both)."""
    pair = native_pair(("gemm", "float64"), lambda: _gemms("float64"), Gemm)
    rng = np.random.default_rng(1)
    for a, b in [(1.0, 0.0), (0.0, 1.0), (0.0, 0.0)]:
        args = _gemm_args(rng, "float64", 3, 4, 5, a, b)
        args[0][1, 2] = np.nan
        args[8][2, 1] = np.inf  # zt, the transposed destination
        args[3][0, 1] = np.inf
        run_both(pair, *args)


def test_gemm_shape_mismatch_raises():
    native, _ = native_pair(("gemm", "float64"), lambda: _gemms("float64"), Gemm)
    args = _gemm_args(np.random.default_rng(2), "float64", 3, 4, 5, 1.0, 1.0)
    native_raises(native, *args[:4], args[4][:3], *args[5:])  # y has 3 rows, x 4 columns
    native_raises(native, args[0][:, :4], *args[1:])  # z one column short


# --- Gemv ------------------------------------------------------------------------------------

def _gemvs(dtype):
    z, x, xs = (T.vector(name, dtype=dtype) for name in ["z", "x", "xs"])
    A, At = T.matrix("A", dtype=dtype), T.matrix("At", dtype=dtype)
    a, b = scalars(dtype)
    outs = [gemv_no_inplace(z, a, A, x, b),
            gemv_no_inplace(z, a, At.T, xs[::2], b),             # transposed matrix, strided vector
            gemv_no_inplace(z, a, A[::-1, ::-1], x[::-1], b),    # reversed views: copied
            gemv_no_inplace(z * 2, a, A, x, b),                  # in place
            gemv_no_inplace((z * 2)[::-1], a, At.T, x, b)]       # in place into a reversed view
    return [z, a, b, A, x, At, xs], outs


def _gemv_args(rng, dtype, m, k, a, b):
    A = rand(rng, (m, k), dtype)
    x = rand(rng, k, dtype)
    return [rand(rng, m, dtype), np.asarray(a, dtype), np.asarray(b, dtype), A, x, np.ascontiguousarray(A.T),
            np.repeat(x, 2)]


@pytest.mark.parametrize("dtype", DTYPES)
def test_gemv(dtype):
    pair = native_pair(("gemv", dtype), lambda: _gemvs(dtype), Gemv)
    assert _destroyers(pair, Gemv)
    rng = np.random.default_rng(3)
    for m, k, _ in SHAPES:
        for a, b in SCALARS:
            run_both(pair, *_gemv_args(rng, dtype, m, k, a, b))
    _assert_no_alias(pair[0], _gemv_args(rng, dtype, 4, 3, 0.5, 2.0), outputs=[0, 1, 2])


def test_gemv_propagates_nan_and_shape_mismatch_raises():
    pair = native_pair(("gemv", "float64"), lambda: _gemvs("float64"), Gemv)
    rng = np.random.default_rng(4)
    for a, b in [(1.0, 0.0), (0.0, 1.0)]:
        args = _gemv_args(rng, "float64", 4, 3, a, b)
        args[0][1] = np.nan
        args[3][2, 0] = np.inf
        run_both(pair, *args)
    args = _gemv_args(rng, "float64", 4, 3, 1.0, 1.0)
    native_raises(pair[0], *args[:4], args[4][:2], *args[5:])  # x one short
    native_raises(pair[0], args[0][:3], *args[1:])  # z one short


# --- Ger -------------------------------------------------------------------------------------

def _gers(dtype):
    A, At = T.matrix("A", dtype=dtype), T.matrix("At", dtype=dtype)
    x, y, ys = (T.vector(name, dtype=dtype) for name in ["x", "y", "ys"])
    a = T.scalar("a", dtype=dtype)
    outs = [ger(A, a, x, y),
            ger(At.T, a, x[::-1], ys[::2]),  # transposed matrix, reversed and strided vectors
            ger(A * 2, a, x, y),             # in place
            ger((At * 2).T, a, x, y)]        # in place into a column-major destination
    return [A, a, x, y, At, ys], outs


def _ger_args(rng, dtype, m, n, a):
    A, y = rand(rng, (m, n), dtype), rand(rng, n, dtype)
    return [A, np.asarray(a, dtype), rand(rng, m, dtype), y, np.ascontiguousarray(A.T), np.repeat(y, 2)]


@pytest.mark.parametrize("dtype", DTYPES)
def test_ger(dtype):
    pair = native_pair(("ger", dtype), lambda: _gers(dtype), Ger)
    assert _destroyers(pair, Ger)
    rng = np.random.default_rng(5)
    for m, _, n in SHAPES:
        for a, _ in SCALARS:
            run_both(pair, *_ger_args(rng, dtype, m, n, a))
    _assert_no_alias(pair[0], _ger_args(rng, dtype, 4, 3, 0.5), outputs=[0, 1])


def test_ger_propagates_nan_and_shape_mismatch_raises():
    pair = native_pair(("ger", "float64"), lambda: _gers("float64"), Ger)
    rng = np.random.default_rng(6)
    args = _ger_args(rng, "float64", 4, 3, 0.0)
    args[2][1] = np.inf  # a == 0: 0 * inf is NaN in that row
    run_both(pair, *args)
    native_raises(pair[0], *args[:3], args[3][:2], *args[4:])


# --- a destination that is also an operand -------------------------------------------------------

def _self_aliased():
    """The in-place pass lets each op overwrite a matrix it also reads as an operand (the
    reference computes the product first): BLAS must not read memory it is writing."""
    s = T.dmatrix("s")
    a, b = scalars("float64")
    s2, s3, s4 = s * 2, s * 3, s * 4
    outs = [gemm_no_inplace(s2, a, s2, s2.T, b), ger(s3, a, s3[0], s3[:, 1]), gemv_no_inplace(s4[0], a, s4, s4[1], b)]
    return [s, a, b], outs


def test_destination_that_is_also_an_operand():
    pair = native_pair("self-aliased", _self_aliased, (Gemm, Gemv, Ger))
    for op_class in (Gemm, Gemv, Ger):
        assert _destroyers(pair, op_class), op_class
    rng = np.random.default_rng(9)
    for n in (2, 3, 17):
        for a, b in SCALARS[:3]:
            run_both(pair, rand(rng, (n, n), "float64"), np.asarray(a), np.asarray(b))


# --- Dot -------------------------------------------------------------------------------------

def _dots(dtype):
    v, w, u = (T.vector(name, dtype=dtype) for name in ["v", "w", "u"])
    M, N, Mt = (T.matrix(name, dtype=dtype) for name in ["M", "N", "Mt"])
    v64 = T.vector("v64", dtype="float64")
    c, r = T.col("c", dtype=dtype), T.row("r", dtype=dtype)  # broadcastable dimensions
    outs = [T.dot(v, w), T.dot(M, v), T.dot(u, M), T.dot(M, N),
            T.dot(Mt.T, N), T.dot(u, Mt.T), T.dot(Mt.T, v),   # transposed matrices
            T.dot(M[:, ::-1], w[::-1]), T.dot(v[::2], N[::2]),  # reversed and strided views
            T.dot(M, v64),                                      # mixed dtypes: float64
            T.dot(c, r), T.dot(r, N), T.dot(M, r.T)]
    return [v, w, u, M, N, Mt, v64, c, r], outs


def _dot_args(rng, dtype, m, k, n):
    M = rand(rng, (m, k), dtype)
    return [rand(rng, k, dtype), rand(rng, k, dtype), rand(rng, m, dtype), M, rand(rng, (k, n), dtype),
            np.ascontiguousarray(M.T), rand(rng, k, "float64"), rand(rng, (m, 1), dtype), rand(rng, (1, k), dtype)]


@pytest.mark.parametrize("dtype", DTYPES)
def test_dot(dtype):
    pair = native_pair(("dot", dtype), lambda: _dots(dtype), Dot)
    rng = np.random.default_rng(7)
    for m, k, n in SHAPES:
        run_both(pair, *_dot_args(rng, dtype, m, k, n))
    _assert_no_alias(pair[0], _dot_args(rng, dtype, 3, 4, 5))


def test_dot_shape_mismatch_raises():
    native, _ = native_pair(("dot", "float64"), lambda: _dots("float64"), Dot)
    args = _dot_args(np.random.default_rng(8), "float64", 3, 4, 5)
    native_raises(native, args[0], args[1][:3], *args[2:])
