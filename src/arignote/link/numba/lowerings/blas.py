"""Dot, Gemm, Gemv and Ger: Numba's np.dot calls the BLAS SciPy ships.

Numba's dot takes float and complex operands of one dtype; integer dots and
mixed operands in other dtypes than the result run their NumPy perform.
"""
from __future__ import annotations

from ....tensor.blas import Dot
from ....tensor.blas_ops import Gemm, Gemv, Ger
from ..context import dtype_expr
from ..registry import NotLowerable, lowers

_BLAS_DTYPES = ("float32", "float64", "complex64", "complex128")


def _operand(ctx, k: int) -> str:
    """Input k in the result's dtype (Numba's dot needs both operands of one dtype)."""
    want = ctx.out_dtype()
    if want not in _BLAS_DTYPES:
        raise NotLowerable(f"Numba's dot has no {want} version")
    if ctx.in_dtype(k) == want:
        return ctx.inputs[k]
    return f"{ctx.inputs[k]}.astype({dtype_expr(want)})"


def _scalar(ctx, k: int) -> str:
    return f"{dtype_expr(ctx.out_dtype())}({ctx.inputs[k]})"


@lowers(Dot)
def lower_dot(ctx):
    x, y = _operand(ctx, 0), _operand(ctx, 1)
    xin, yin = ctx.inputs
    ctx.check(f"{xin}.shape[{ctx.in_ndim(0) - 1}] != {yin}.shape[0]",
              f"dot: the operands' inner dimensions differ (built at {ctx.where()})")
    if ctx.out_ndim() == 0:
        ctx.emit(f"{ctx.outputs[0]} = {dtype_expr(ctx.out_dtype())}(np.dot({x}, {y}))")
    else:
        ctx.emit(f"{ctx.outputs[0]} = np.dot({x}, {y})")


def _accumulate_loops(ctx, out: str, product: str, z: str, a: str, b: str, ndim: int, inplace: bool) -> None:
    """out = b * z + a * product, element by element (out is z itself when in place)."""
    idx = [ctx.fresh("i") for _ in range(ndim)]
    blocks = []
    for d in range(ndim):
        blocks.append(ctx.block(f"for {idx[d]} in range({product}.shape[{d}]):"))
        blocks[-1].__enter__()
    at = ", ".join(idx)
    ctx.emit(f"{out}[{at}] = {b} * {z}[{at}] + {a} * {product}[{at}]")
    for blk in reversed(blocks):
        blk.__exit__(None, None, None)


def _lower_scaled_dot(ctx, label: str, z_shape_check: str):
    """Gemm and Gemv: `b * z + a * dot(x, y)` with inputs (z, a, x, y, b)."""
    op = ctx.node.op
    z, a, x, y, b = ctx.inputs
    ctx.check(f"{x}.shape[{ctx.in_ndim(2) - 1}] != {y}.shape[0] or {z_shape_check}",
              f"{label}: z cannot hold dot(x, y) (built at {ctx.where()})")
    product = ctx.fresh("prod")
    ctx.emit(f"{product} = np.dot({_operand(ctx, 2)}, {_operand(ctx, 3)})")
    out = ctx.outputs[0]
    zz = z if ctx.in_dtype(0) == ctx.out_dtype() else _operand(ctx, 0)
    if op.inplace and zz == z:
        ctx.emit(f"{out} = {z}")
        _accumulate_loops(ctx, out, product, z, _scalar(ctx, 1), _scalar(ctx, 4), ctx.out_ndim(), True)
    else:
        ctx.emit(f"{out} = {product}")
        _accumulate_loops(ctx, out, product, zz, _scalar(ctx, 1), _scalar(ctx, 4), ctx.out_ndim(), False)


@lowers(Gemm)
def lower_gemm(ctx):
    z, _, x, y, _ = ctx.inputs
    _lower_scaled_dot(ctx, "Gemm", f"{z}.shape[0] != {x}.shape[0] or {z}.shape[1] != {y}.shape[1]")


@lowers(Gemv)
def lower_gemv(ctx):
    z, _, A, _, _ = ctx.inputs
    _lower_scaled_dot(ctx, "Gemv", f"{z}.shape[0] != {A}.shape[0]")


@lowers(Ger)
def lower_ger(ctx):
    """A + a * outer(x, y)."""
    A, a, x, y = ctx.inputs
    if ctx.out_dtype() not in _BLAS_DTYPES:
        raise NotLowerable("integer Ger runs its NumPy perform")
    ctx.check(f"{A}.shape[0] != {x}.shape[0] or {A}.shape[1] != {y}.shape[0]",
              f"Ger: A cannot hold outer(x, y) (built at {ctx.where()})")
    out = ctx.outputs[0]
    dt = dtype_expr(ctx.out_dtype())
    if ctx.node.op.inplace and ctx.in_dtype(0) == ctx.out_dtype():
        ctx.emit(f"{out} = {A}")
    else:
        ctx.emit(f"{out} = np.empty(({A}.shape[0], {A}.shape[1]), dtype={dt})")
    i, j, s = ctx.fresh("i"), ctx.fresh("j"), ctx.fresh("ax")
    scale = f"{dt}({a})"
    with ctx.block(f"for {i} in range({A}.shape[0]):"):
        ctx.emit(f"{s} = {dt}({x}[{i}])")
        with ctx.block(f"for {j} in range({A}.shape[1]):"):
            ctx.emit(f"{out}[{i}, {j}] = {dt}({A}[{i}, {j}]) + {scale} * ({s} * {dt}({y}[{j}]))")
