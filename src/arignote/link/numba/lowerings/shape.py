"""Shapes: Shape, MakeVector, SpecifyShape, Reshape, Alloc, Join and ARange.

These are the small nodes that sit between the big ones of a training step
(`x.shape[0]`, `zeros((n,))`, a reshape); lowering them keeps the step in
one native segment. Reshape returns a view of a contiguous input (as
NumPy's) and reshapes a copy of a strided one, since Numba reshapes only
contiguous arrays.
"""
from __future__ import annotations

import numpy as np

from ....tensor.construct import ARange
from ....tensor.join_ops import Join
from ....tensor.shape_ops import Alloc, MakeVector, Reshape, Shape, SpecifyShape
from .. import kernels
from ..context import dtype_expr
from ..registry import NotLowerable, lowers
from .loops import convert, loop_nest, shape_tuple


@lowers(Shape)
def lower_shape(ctx):
    x, out = ctx.inputs[0], ctx.outputs[0]
    nd = ctx.in_ndim(0)
    ctx.emit(f"{out} = np.empty({nd}, dtype=np.int64)")
    for d in range(nd):
        ctx.emit(f"{out}[{d}] = {x}.shape[{d}]")


@lowers(MakeVector)
def lower_make_vector(ctx):
    out, dt = ctx.outputs[0], ctx.out_dtype()
    ctx.emit(f"{out} = np.empty({len(ctx.inputs)}, dtype={dtype_expr(dt)})")
    for k, v in enumerate(ctx.inputs):
        ctx.emit(f"{out}[{k}] = {convert(v, ctx.in_dtype(k), dt)}")


@lowers(SpecifyShape)
def lower_specify_shape(ctx):
    x, out = ctx.inputs[0], ctx.outputs[0]
    for d, want in enumerate(ctx.node.op.shape):
        if want is not None and ctx.node.inputs[0].type.shape[d] != want:
            ctx.check(f"{x}.shape[{d}] != {want}",
                      f"dimension {d} was declared to have length {want} (specify_shape at {ctx.where()})")
    ctx.emit(f"{out} = {x}")


@lowers(Reshape)
def lower_reshape(ctx):
    x, shp = ctx.inputs
    out = ctx.outputs[0]
    in_nd, nd = ctx.in_ndim(0), ctx.out_ndim()
    if ctx.in_dtype(1) != "int64":
        raise NotLowerable("the new shape is an int64 vector (as_shape_vector makes it one)")
    where = f"(reshape at {ctx.where()})"
    size = ctx.fresh("size")
    ctx.emit(f"{size} = {'1' if in_nd == 0 else f'{x}.size'}")
    dims = _requested_dims(ctx, shp, nd, size, where)
    if nd == 0:  # _requested_dims checked that there is one element
        ctx.emit(f"{out} = {x}" if in_nd == 0 else f"{out} = {x}[{', '.join(['0'] * in_nd)}]")
    elif in_nd == 0:
        ctx.emit(f"{out} = np.full({shape_tuple(dims)}, {x})")
    else:
        ctx.emit(f"{out} = np.ascontiguousarray({x}).reshape({shape_tuple(dims)})")


def _requested_dims(ctx, shp: str, nd: int, size: str, where: str) -> list[str]:
    """The new shape's entries as names, with -1 resolved; raises as NumPy does on a bad shape."""
    known = ctx.constant(1)
    dims = [ctx.fresh("d") for _ in range(nd)]
    if known is not None:
        values = [int(v) for v in np.asarray(known).reshape(-1)]
        if all(v >= 0 for v in values):  # a fixed shape: only the size can be wrong
            for d, v in zip(dims, values):
                ctx.emit(f"{d} = {v}")
            ctx.check(f"{' * '.join(dims) if dims else '1'} != {size}",
                      f"cannot reshape to {tuple(values)}: the element counts differ {where}")
            return dims
    else:
        ctx.check(f"{shp}.shape[0] != {nd}", f"the new shape must have {nd} entries {where}")
    for k, d in enumerate(dims):
        ctx.emit(f"{d} = {shp}[{k}]")
    unknown, rest = ctx.fresh("unknown"), ctx.fresh("rest")
    ctx.emit(f"{unknown} = 0")
    ctx.emit(f"{rest} = 1")
    for d in dims:
        ctx.check(f"{d} < -1", f"reshape: negative dimensions are not allowed {where}")
        with ctx.block(f"if {d} == -1:"):
            ctx.emit(f"{unknown} += 1")
        ctx.writer.emit("else:")
        ctx.writer.indent += 1
        ctx.emit(f"{rest} *= {d}")
        ctx.writer.indent -= 1
    ctx.check(f"{unknown} > 1", f"reshape: can only specify one unknown dimension {where}")
    with ctx.block(f"if {unknown} == 1:"):
        ctx.check(f"{rest} == 0 or {size} % {rest} != 0",
                  f"reshape: the element count does not fit the new shape {where}")
        for d in dims:
            with ctx.block(f"if {d} == -1:"):
                ctx.emit(f"{d} = {size} // {rest}")
    ctx.writer.emit("else:")
    ctx.writer.indent += 1
    ctx.check(f"{rest} != {size}", f"reshape: the element counts differ {where}")
    ctx.writer.indent -= 1
    return dims


@lowers(Alloc)
def lower_alloc(ctx):
    value, *dims = ctx.inputs
    out, dt = ctx.outputs[0], ctx.out_dtype()
    nd, vnd = ctx.out_ndim(), ctx.in_ndim(0)
    if nd == 0:
        ctx.emit(f"{out} = {value}")
        return
    where = f"(alloc at {ctx.where()})"
    names = []
    for k, d in enumerate(dims):
        if ctx.in_dtype(k + 1) == "uint64":
            raise NotLowerable("uint64 lengths do not mix with Numba's int64 arithmetic")
        n = ctx.fresh("n")
        ctx.emit(f"{n} = np.int64({d})")
        ctx.check(f"{n} < 0", f"alloc: negative dimensions are not allowed {where}")
        names.append(n)
    ctx.emit(f"{out} = np.empty({shape_tuple(names)}, dtype={dtype_expr(dt)})")
    if vnd == 0:
        ctx.emit(f"{out}.fill({value})")
        return
    lead = nd - vnd
    steps = []  # 0 where the value's dimension has length 1 and is stretched, else 1
    for d in range(vnd):
        s = ctx.fresh("s")
        ctx.check(f"{value}.shape[{d}] != {names[lead + d]} and {value}.shape[{d}] != 1",
                  f"alloc: the value cannot be broadcast to the shape {where}")
        ctx.emit(f"{s} = 0 if {value}.shape[{d}] == 1 else 1")
        steps.append(s)
    with loop_nest(ctx, names) as idx:
        src = ", ".join(f"{idx[lead + d]} * {steps[d]}" for d in range(vnd))
        ctx.emit(f"{out}[{', '.join(idx)}] = {value}[{src}]")


@lowers(Join)
def lower_join(ctx):
    axis_value = ctx.constant(0)
    if axis_value is None:
        raise NotLowerable("join along a symbolic axis")
    arrays = ctx.inputs[1:]
    out, dt = ctx.outputs[0], ctx.out_dtype()
    nd = ctx.out_ndim()
    axis = int(axis_value)
    if not -nd <= axis < nd:
        raise NotLowerable("the axis is out of range: the reference backend says so")
    axis %= nd
    where = f"(join at {ctx.where()})"
    first = arrays[0]
    total = ctx.fresh("total")
    ctx.emit(f"{total} = 0")
    for k, a in enumerate(arrays):
        for d in range(nd):
            if d != axis and k > 0:
                ctx.check(f"{a}.shape[{d}] != {first}.shape[{d}]",
                          f"join: the tensors' shapes differ in dimension {d} {where}")
        ctx.emit(f"{total} += {a}.shape[{axis}]")
    shape = [total if d == axis else f"{first}.shape[{d}]" for d in range(nd)]
    ctx.emit(f"{out} = np.empty({shape_tuple(shape)}, dtype={dtype_expr(dt)})")
    offset = ctx.fresh("offset")
    ctx.emit(f"{offset} = 0")
    for k, a in enumerate(arrays):
        if nd in kernels.COPY and ctx.in_dtype(k + 1) == dt:  # into its slice, by a compiled helper's loops
            part = ", ".join(f"{offset}:{offset} + {a}.shape[{axis}]" if d == axis else ":" for d in range(nd))
            ctx.emit(f"{kernels.register(ctx, kernels.COPY[nd])}({out}[{part}], {a})")
            ctx.emit(f"{offset} += {a}.shape[{axis}]")
            continue
        with loop_nest(ctx, [f"{a}.shape[{d}]" for d in range(nd)]) as idx:
            dst = ", ".join(f"{offset} + {i}" if d == axis else i for d, i in enumerate(idx))
            value = convert(f"{a}[{', '.join(idx)}]", ctx.in_dtype(k + 1), dt)
            ctx.emit(f"{out}[{dst}] = {value}")
        ctx.emit(f"{offset} += {a}.shape[{axis}]")


@lowers(ARange)
def lower_arange(ctx):
    dt = ctx.out_dtype()
    if dt[0] not in "iu" or any(ctx.in_dtype(k)[0] not in "iu" or ctx.in_dtype(k) == "uint64" for k in range(3)):
        raise NotLowerable("only integer aranges are lowered (NumPy's float arange rounds its own way)")
    start, stop, step = (ctx.fresh(h) for h in ("start", "stop", "step"))
    for name, v in zip((start, stop, step), ctx.inputs):
        ctx.emit(f"{name} = np.int64({v})")
    ctx.check(f"{step} == 0", f"arange: step is 0 (built at {ctx.where()})")
    n, i = ctx.fresh("n"), ctx.fresh("i")
    ctx.emit(f"{n} = max(-(({start} - {stop}) // {step}), 0)")
    out = ctx.outputs[0]
    ctx.emit(f"{out} = np.empty({n}, dtype={dtype_expr(dt)})")
    with ctx.block(f"for {i} in range({n}):"):
        ctx.emit(f"{out}[{i}] = {convert(f'{start} + {i} * {step}', 'int64', dt)}")
