"""Softmax, LogSoftmax and SoftmaxGrad along one axis; the one-hot cross-entropy ops.

Each lane along the axis is walked three times (max, exp and sum, write),
with the reference's formulas: `x - max` before exponentiating (a NaN or
+inf in a lane makes the lane NaN, as NumPy's), exp in the input's dtype,
the lane's sum in float64 and the last step rounded once to the output
dtype (within an ulp or two of NumPy's float32 result, which rounds at
every step). Numba's exp is a scalar libm call, so on large arrays this is
several times slower than NumPy's SIMD exp (128x10000 float32: ~10 ms
against ~3 ms); the small softmaxes of classifiers gain from staying native.
"""
from __future__ import annotations

from contextlib import contextmanager

from ....tensor.nnet.crossentropy import CrossentropyCategorical1Hot, PickColumns, PutColumns
from ....tensor.nnet.softmax_ops import LogSoftmax, Softmax, SoftmaxGrad
from ..context import dtype_expr
from ..registry import NotLowerable, lowers
from .loops import loop_nest, shape_tuple

_FLOATS = ("float32", "float64")


@contextmanager
def _lanes(ctx, ref: str, nd: int, axis: int):
    """Loops over every index but `axis`; yields at(j, zeros=()) -> the index text with j on
    the axis (and 0 on the dims in `zeros`, for an operand that broadcasts along them)."""
    with loop_nest(ctx, [f"{ref}.shape[{d}]" for d in range(nd) if d != axis]) as outer:

        def at(j: str, zeros=()) -> str:
            idx = list(outer)
            idx.insert(axis, j)
            return ", ".join("0" if d in zeros else i for d, i in enumerate(idx))

        yield at


def _lane_max(ctx, x: str, at, n: str) -> str:
    """The lane's maximum, NaN if the lane holds one (np.max's rule)."""
    m, j, v = ctx.fresh("m"), ctx.fresh("j"), ctx.fresh("v")
    ctx.emit(f"{m} = -np.inf")
    with ctx.block(f"for {j} in range({n}):"):
        ctx.emit(f"{v} = {x}[{at(j)}]")
        with ctx.block(f"if {v} > {m} or {v} != {v}:"):
            ctx.emit(f"{m} = {v}")
    return m


def _lower_normalised(ctx, log: bool):
    x, out = ctx.inputs[0], ctx.outputs[0]
    dt = ctx.out_dtype()
    if dt not in _FLOATS or ctx.in_dtype(0) != dt:
        raise NotLowerable("softmax is lowered for float32 and float64")
    nd = ctx.in_ndim(0)
    axis = ctx.node.op.axis % nd
    T = dtype_expr(dt)
    n = f"{x}.shape[{axis}]"
    ctx.emit(f"{out} = np.empty({shape_tuple([f'{x}.shape[{d}]' for d in range(nd)])}, dtype={T})")
    with _lanes(ctx, x, nd, axis) as at:
        m = _lane_max(ctx, x, at, n)
        mt = ctx.fresh("mt")
        ctx.emit(f"{mt} = {T}({m})")  # the shift in the input's dtype, as the reference subtracts it
        total, j, e = ctx.fresh("total"), ctx.fresh("j"), ctx.fresh("e")
        ctx.emit(f"{total} = 0.0")
        with ctx.block(f"for {j} in range({n}):"):
            ctx.emit(f"{e} = np.exp({x}[{at(j)}] - {mt})")  # in the dtype, as NumPy's (expf: 2x exp's speed)
            if not log:
                ctx.emit(f"{out}[{at(j)}] = {e}")
            ctx.emit(f"{total} += np.float64({e})")
        if log:
            ctx.emit(f"{total} = math.log({total})")
        with ctx.block(f"for {j} in range({n}):"):
            if log:
                ctx.emit(f"{out}[{at(j)}] = {T}(np.float64({x}[{at(j)}] - {mt}) - {total})")
            else:
                ctx.emit(f"{out}[{at(j)}] = {T}(np.float64({out}[{at(j)}]) / {total})")


@lowers(Softmax)
def lower_softmax(ctx):
    _lower_normalised(ctx, log=False)


@lowers(LogSoftmax)
def lower_log_softmax(ctx):
    _lower_normalised(ctx, log=True)


@lowers(SoftmaxGrad)
def lower_softmax_grad(ctx):
    """(dy - sum(dy * sm, axis)) * sm; a dim of dy with static length 1 stretches."""
    dy, sm = ctx.inputs
    out, dt = ctx.outputs[0], ctx.out_dtype()
    if dt not in _FLOATS:
        raise NotLowerable("softmax_grad is lowered for float32 and float64")
    nd = ctx.in_ndim(1)
    axis = ctx.node.op.axis % nd
    stretched = [d for d, s in enumerate(ctx.node.inputs[0].type.shape) if s == 1]
    for d in range(nd):
        if d not in stretched:
            ctx.check(f"{dy}.shape[{d}] != {sm}.shape[{d}]",
                      f"softmax_grad: dy and the softmax differ in shape (built at {ctx.where()})")
    T = dtype_expr(dt)
    n = f"{sm}.shape[{axis}]"
    ctx.emit(f"{out} = np.empty({shape_tuple([f'{sm}.shape[{d}]' for d in range(nd)])}, dtype={T})")
    with _lanes(ctx, sm, nd, axis) as at:
        total, j = ctx.fresh("total"), ctx.fresh("j")
        ctx.emit(f"{total} = 0.0")
        with ctx.block(f"for {j} in range({n}):"):
            ctx.emit(f"{total} += np.float64({T}({dy}[{at(j, stretched)}])) * np.float64({T}({sm}[{at(j)}]))")
        with ctx.block(f"for {j} in range({n}):"):
            ctx.emit(f"{out}[{at(j)}] = {T}((np.float64({T}({dy}[{at(j, stretched)}])) - {total}) "
                     f"* np.float64({T}({sm}[{at(j)}])))")


def _checked_class(ctx, t: str, c: str, i: str) -> str:
    """t[i] as an int64, after checking that it is a column of c (negative ones are errors here)."""
    if ctx.in_dtype(1) == "uint64":
        raise NotLowerable("uint64 class indices do not mix with Numba's int64 arithmetic")
    k = ctx.fresh("cls")
    ctx.emit(f"{k} = np.int64({t}[{i}])")
    ctx.check(f"{k} < 0 or {k} >= {c}.shape[1]", f"{ctx.node.op}: a class index is out of range "
                                                   f"(built at {ctx.where()})")
    return k


def _check_rows(ctx, c: str, t: str) -> None:
    ctx.check(f"{t}.shape[0] != {c}.shape[0]", f"{ctx.node.op}: the distribution and the class indices "
                                               f"have different lengths (built at {ctx.where()})")


def _lower_pick(ctx, transform):
    c, t = ctx.inputs
    out, dt = ctx.outputs[0], ctx.out_dtype()
    _check_rows(ctx, c, t)
    checked = ctx.fresh("cols")  # all indices checked first: the reference reports the first bad one
    i = ctx.fresh("i")
    ctx.emit(f"{checked} = np.empty({c}.shape[0], dtype=np.int64)")
    with ctx.block(f"for {i} in range({c}.shape[0]):"):
        ctx.emit(f"{checked}[{i}] = {_checked_class(ctx, t, c, i)}")
    ctx.emit(f"{out} = np.empty({c}.shape[0], dtype={dtype_expr(dt)})")
    with ctx.block(f"for {i} in range({c}.shape[0]):"):
        ctx.emit(f"{out}[{i}] = {transform(f'{c}[{i}, {checked}[{i}]]')}")


@lowers(PickColumns)
def lower_pick_columns(ctx):
    _lower_pick(ctx, lambda v: v)


@lowers(CrossentropyCategorical1Hot)
def lower_crossentropy_1hot(ctx):
    dt = ctx.out_dtype()
    if dt not in _FLOATS:
        raise NotLowerable("the cross-entropy is lowered for float32 and float64")
    # -log(0) is inf, as NumPy's (the reference silences the warning)
    _lower_pick(ctx, lambda v: f"-{dtype_expr(dt)}(np.log({v}))")


@lowers(PutColumns)
def lower_put_columns(ctx):
    v, t, like = ctx.inputs
    out, dt = ctx.outputs[0], ctx.out_dtype()
    if dt not in _FLOATS or ctx.in_dtype(0) not in _FLOATS:
        raise NotLowerable("put_columns is lowered for float values")
    _check_rows(ctx, like, t)
    ctx.check(f"{v}.shape[0] != {like}.shape[0] and {v}.shape[0] != 1",
              f"put_columns: the values cannot be broadcast to the rows (built at {ctx.where()})")
    i, step = ctx.fresh("i"), ctx.fresh("s")
    with ctx.block(f"for {i} in range({like}.shape[0]):"):
        _checked_class(ctx, t, like, i)
    ctx.emit(f"{step} = 0 if {v}.shape[0] == 1 else 1")
    ctx.emit(f"{out} = np.zeros(({like}.shape[0], {like}.shape[1]), dtype={dtype_expr(dt)})")
    with ctx.block(f"for {i} in range({like}.shape[0]):"):
        ctx.emit(f"{out}[{i}, np.int64({t}[{i}])] = {dtype_expr(dt)}({v}[{i} * {step}])")
