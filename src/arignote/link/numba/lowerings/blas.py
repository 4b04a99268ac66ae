"""Dot, Gemm, Gemv and Ger: calls of the BLAS helpers of blas_calls.py.

Each node is one call of a shared helper (compiled once per dtype, whatever
the segment), which calls xGEMM / xGEMV / xDOT with alpha, beta and transpose
flags: `b * z + a * dot(x, y)` is computed into z (in place, when the op's
destroy_map allows) or into one fresh array, with no product array and no
copy of a transposed operand. Arrays reach the helpers as 2-d views
(`as_matrix`, `as_column`, `as_row`): a vector is a one-column (or one-row)
matrix, so Gemv is the Gemm helper and a vector-matrix Dot reads the matrix
through its transpose.

A fresh output is allocated by its own `out = np.empty(shape, dtype=...)`
line, which the scan lowering redirects into the row a step stores into.

Float and complex results only: an integer Dot runs its NumPy perform, and
so does a node whose operands do not all have the result's dtype (Gemm, Gemv
and Ger never build one; Dot operands of another dtype are cast first).
"""
from __future__ import annotations

from ....tensor.blas import Dot
from ....tensor.blas_ops import Gemm, Gemv, Ger
from .. import blas_calls
from ..context import dtype_expr
from ..registry import NotLowerable, lowers

_BLAS_DTYPES = ("float32", "float64", "complex64", "complex128")


class _Calls:
    """The helpers' names in the generated code."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.dtype = ctx.out_dtype()
        if self.dtype not in _BLAS_DTYPES:
            raise NotLowerable(f"BLAS has no {self.dtype} products")
        self.dt = dtype_expr(self.dtype)

    def helper(self, name: str) -> str:
        return self.ctx.glob(getattr(blas_calls, name), f"blas_{name}")

    def matrix(self, expr: str) -> str:
        return f"{self.helper('as_matrix')}({expr})"

    def column(self, expr: str) -> str:
        return f"{self.helper('as_column')}({expr})"

    def row(self, expr: str) -> str:
        return f"{self.helper('as_row')}({expr})"

    def scalar(self, expr: str) -> str:
        return f"{self.dt}({expr})"

    def gemm(self, out: str, z: str, a: str, x: str, y: str, b: str, accumulate: bool) -> None:
        # np.bool_(...), not a literal: a literal flag would compile the helper once per value
        self.ctx.emit(f"{self.helper('gemm')}({out}, {z}, {a}, {x}, {y}, {b}, np.bool_({accumulate}))")

    def fresh(self, out: str, shape: str) -> None:
        """`out = np.empty(shape)`, alone on its line (the scan lowering may redirect it)."""
        self.ctx.emit(f"{out} = np.empty({shape}, dtype={self.dt})")


def _same_dtype_operands(ctx, calls: _Calls, ks) -> None:
    for k in ks:
        if ctx.in_dtype(k) != calls.dtype:
            raise NotLowerable(f"input {k} has dtype {ctx.in_dtype(k)}, the result {calls.dtype}")


def _destination(ctx, calls: _Calls, shape: str) -> str:
    """Where the result of a node that may overwrite its input 0 goes: that input when the op
    is destructive (and the input not a constant baked into the code), else a fresh array."""
    out = ctx.outputs[0]
    if ctx.node.op.inplace and ctx.constant(0) is None:
        ctx.emit(f"{out} = {ctx.inputs[0]}")
    else:
        calls.fresh(out, shape)
    return out


@lowers(Dot)
def lower_dot(ctx):
    calls = _Calls(ctx)
    # operands in the result's dtype (Dot allows mixed ones: NumPy casts them the same way)
    x, y = (name if ctx.in_dtype(k) == calls.dtype else f"{name}.astype({calls.dt})"
            for k, name in enumerate(ctx.inputs))
    xin, yin = ctx.inputs
    ctx.check(f"{xin}.shape[{ctx.in_ndim(0) - 1}] != {yin}.shape[0]",
              f"dot: the operands' inner dimensions differ (built at {ctx.where()})")
    out = ctx.outputs[0]
    one, zero = calls.scalar("1"), calls.scalar("0")
    shape_of = {(2, 1): f"({xin}.shape[0],)", (1, 2): f"({yin}.shape[1],)",
                (2, 2): f"({xin}.shape[0], {yin}.shape[1])"}
    ranks = (ctx.in_ndim(0), ctx.in_ndim(1))
    if ranks == (1, 1):
        ctx.emit(f"{out} = {calls.helper('vdot')}({calls.column(x)}, {calls.column(y)})")
        return
    calls.fresh(out, shape_of[ranks])
    if ranks == (2, 1):
        o = calls.column(out)
        calls.gemm(o, o, one, calls.matrix(x), calls.column(y), zero, False)
    elif ranks == (1, 2):  # as a row times the matrix: one xGEMV on the matrix's transpose
        o = calls.row(out)
        calls.gemm(o, o, one, calls.row(x), calls.matrix(y), zero, False)
    else:
        o = calls.matrix(out)
        calls.gemm(o, o, one, calls.matrix(x), calls.matrix(y), zero, False)


def _lower_scaled_product(ctx, label: str, as_z, as_y, shapes_differ: str, shape: str) -> None:
    """Gemm and Gemv: `b * z + a * dot(x, y)` with inputs (z, a, x, y, b), one call of the Gemm
    helper; `as_z`/`as_y` view z and y as matrices (Gemv's vectors as one-column ones)."""
    calls = _Calls(ctx)
    _same_dtype_operands(ctx, calls, (0, 2, 3))
    z, a, x, y, b = ctx.inputs
    ctx.check(f"{x}.shape[1] != {y}.shape[0] or {shapes_differ}",
              f"{label}: z cannot hold dot(x, y) (built at {ctx.where()})")
    out = _destination(ctx, calls, shape)
    calls.gemm(as_z(calls, out), as_z(calls, z), calls.scalar(a), calls.matrix(x), as_y(calls, y),
               calls.scalar(b), True)


@lowers(Gemm)
def lower_gemm(ctx):
    """b * z + a * dot(x, y) for matrices."""
    z, _, x, y, _ = ctx.inputs
    _lower_scaled_product(ctx, "Gemm", _Calls.matrix, _Calls.matrix,
                          f"{z}.shape[0] != {x}.shape[0] or {z}.shape[1] != {y}.shape[1]",
                          f"({z}.shape[0], {z}.shape[1])")


@lowers(Gemv)
def lower_gemv(ctx):
    """b * z + a * dot(A, x), with x and z seen as one-column matrices."""
    z, _, A, _, _ = ctx.inputs
    _lower_scaled_product(ctx, "Gemv", _Calls.column, _Calls.column, f"{z}.shape[0] != {A}.shape[0]",
                          f"({z}.shape[0],)")


@lowers(Ger)
def lower_ger(ctx):
    """A + a * outer(x, y)."""
    calls = _Calls(ctx)
    _same_dtype_operands(ctx, calls, (0, 2, 3))
    A, a, x, y = ctx.inputs
    ctx.check(f"{A}.shape[0] != {x}.shape[0] or {A}.shape[1] != {y}.shape[0]",
              f"Ger: A cannot hold outer(x, y) (built at {ctx.where()})")
    out = _destination(ctx, calls, f"({A}.shape[0], {A}.shape[1])")
    ctx.emit(f"{calls.helper('ger')}({calls.matrix(out)}, {calls.matrix(A)}, {calls.scalar(a)}, "
             f"{calls.column(x)}, {calls.row(y)})")
