"""Indexing: basic (Subtensor, IncSubtensor) and integer-array (AdvancedSubtensor1,
AdvancedIncSubtensor1, and AdvancedSubtensor/AdvancedIncSubtensor with leading
integer vectors, such as `logp[arange(n), y]`).

Numba checks no bounds, so every integer index is checked (and a negative
one wrapped, as NumPy's) before it is used; slices clamp as Python's do.
Basic indexing gives views, as NumPy's. The increments accumulate over
repeated indices (`np.add.at`), element by element in index order, so a
`set` keeps the last value, as NumPy's assignment does. An op that destroys
its input writes into it; every index is checked before the first write, so
an error leaves the input untouched.
"""
from __future__ import annotations

from ....tensor.advanced_subtensor import (AdvancedIncSubtensor, AdvancedIncSubtensor1, AdvancedSubtensor,
                                           AdvancedSubtensor1)
from ....tensor.subtensor import IncSubtensor, Subtensor
from ....tensor.type import TensorType
from .. import kernels
from ..context import dtype_expr
from ..registry import NotLowerable, lowers
from .loops import loop_nest, shape_tuple


def _index_value(ctx, expr: str, dtype: str) -> str:
    """A scalar index as an int64 name (uint64 indices do not mix with Numba's int64 arithmetic)."""
    if dtype == "uint64":
        raise NotLowerable("uint64 indices do not mix with Numba's int64 arithmetic")
    name = ctx.fresh("ix")
    ctx.emit(f"{name} = np.int64({expr})")
    return name


def _checked_index(ctx, expr: str, dtype: str, length: str, dim: int) -> str:
    """The scalar index `expr` as an int64 name, made non-negative; IndexError unless -length <= index <
    length (kernels.wrapped_index: written as Python, the check and the wrap cost Numba 4x the time)."""
    if dtype == "uint64":
        raise NotLowerable("uint64 indices do not mix with Numba's int64 arithmetic")
    name = ctx.fresh("ix")
    message = f"an index is out of bounds for axis {dim} (indexing at {ctx.where()})"
    ctx.emit(f"{name} = {kernels.register(ctx, kernels.wrapped_index)}({expr}, {length}, "
             f"{ctx.message_code(message)})  # {message}")
    return name


def _basic_index(ctx, x: str, idx_list, scalars: list[str], scalar_dtypes: list[str]) -> tuple[str, int]:
    """(the Numba index text of `idx_list`, how many dimensions it keeps), checking int indices."""
    it = iter(zip(scalars, scalar_dtypes))
    parts, kept = [], 0
    for d, e in enumerate(idx_list):
        if isinstance(e, slice):
            comps = []
            for c in (e.start, e.stop, e.step):
                if c is None:
                    comps.append("")
                elif isinstance(c, TensorType):
                    comps.append(_index_value(ctx, *next(it)))
                else:
                    comps.append(str(int(c)))
            if comps[2] and not comps[2].lstrip("-").isdigit():
                ctx.check(f"{comps[2]} == 0", f"slice step cannot be zero (indexing at {ctx.where()})")
            parts.append(":".join(comps) if comps[2] else f"{comps[0]}:{comps[1]}")
            kept += 1
        else:
            expr, dtype = next(it) if isinstance(e, TensorType) else (str(e), "int64")
            index = _checked_index(ctx, expr, dtype, f"{x}.shape[{d}]", d)
            parts.append(index)
    return ", ".join(parts), kept


@lowers(Subtensor)
def lower_subtensor(ctx):
    x, out = ctx.inputs[0], ctx.outputs[0]
    op = ctx.node.op
    if not op.idx_list:
        ctx.emit(f"{out} = {x}")
        return
    index, _ = _basic_index(ctx, x, op.idx_list, ctx.inputs[1:], [v.type.dtype for v in ctx.node.inputs[1:]])
    ctx.emit(f"{out} = {x}[{index}]")


def _y_reader(ctx, y: str, target: list[str], what: str) -> list[str]:
    """Check that y broadcasts to `target` (only dims of static length 1 stretch, as the
    reference says); returns, per y dim, the code reading it from the target's index names."""
    y_var = ctx.node.inputs[1]
    lead = len(target) - y_var.type.ndim
    if lead < 0:
        raise NotLowerable("y has more dimensions than the indexed part")
    readers = []
    for d in range(y_var.type.ndim):
        if y_var.type.shape[d] == 1:
            readers.append("0")
            continue
        ctx.check(f"{y}.shape[{d}] != {target[lead + d]}",
                  f"{what}: the value's shape does not match the indexed part (built at {ctx.where()})")
        readers.append(None)
    return readers


def _write(ctx, target: str, value: str, set_instead_of_inc: bool) -> None:
    if set_instead_of_inc:
        ctx.emit(f"{target} = {value}")
    else:  # cut back to the dtype: Numba widens small integers, NumPy's add wraps around
        ctx.emit(f"{target} = {dtype_expr(ctx.out_dtype())}({target} + {value})")


def _start_output(ctx, x: str, y: str) -> str:
    """The output array (x itself when the op destroys it, else a copy) and a y safe to read."""
    op, out = ctx.node.op, ctx.outputs[0]
    ctx.emit(f"{out} = {x}" if op.inplace else f"{out} = {x}.copy()")
    if op.inplace and op.destroyhandler_tolerate_aliased and ctx.in_ndim(1) > 0:
        safe = ctx.fresh("y")  # y may overlap the part being written: read it from a copy
        ctx.emit(f"{safe} = {y}.copy()")
        return safe
    return y


def _scatter(ctx, dst_array: str, dst_lead: list[str], src_shape: list[str], y: str, readers: list[str],
             set_instead_of_inc: bool, y_lead_index=None) -> None:
    """For every index of `src_shape`: dst_array[dst_lead..., i...] (op)= y[...]."""
    with loop_nest(ctx, src_shape) as idx:
        full = (y_lead_index or []) + idx
        lead = len(full) - len(readers)
        y_at = ", ".join(full[lead + d] if r is None else r for d, r in enumerate(readers))
        value = f"{y}[{y_at}]" if readers else y
        _write(ctx, f"{dst_array}[{', '.join(dst_lead + idx)}]", value, set_instead_of_inc)


@lowers(IncSubtensor)
def lower_inc_subtensor(ctx):
    op = ctx.node.op
    x, y = ctx.inputs[:2]
    out = ctx.outputs[0]
    if ctx.in_ndim(0) == 0:
        ctx.emit(f"{out} = {y}" if op.set_instead_of_inc else f"{out} = {dtype_expr(ctx.out_dtype())}({x} + {y})")
        return
    index, kept = _basic_index(ctx, x, op.idx_list, ctx.inputs[2:], [v.type.dtype for v in ctx.node.inputs[2:]])
    y = _start_output(ctx, x, y)
    if kept == 0 and len(op.idx_list) == ctx.in_ndim(0):  # one element
        _write(ctx, f"{out}[{index}]", y, op.set_instead_of_inc)
        return
    view = ctx.fresh("view")
    ctx.emit(f"{view} = {out}[{index}]" if index else f"{view} = {out}")
    nd = ctx.in_ndim(0) - (len(op.idx_list) - kept)
    target = [f"{view}.shape[{d}]" for d in range(nd)]
    readers = _y_reader(ctx, y, target, str(op))
    if len(readers) == nd and nd in kernels.COPY and all(r is None for r in readers) \
            and ctx.in_dtype(1) == ctx.out_dtype():  # y has the view's shape: a compiled helper's loops
        helper = (kernels.COPY if op.set_instead_of_inc else kernels.ADD_INTO)[nd]
        ctx.emit(f"{kernels.register(ctx, helper)}({view}, {y})")
        return
    _scatter(ctx, view, [], target, y, readers, op.set_instead_of_inc)


@lowers(AdvancedSubtensor1)
def lower_advanced_subtensor1(ctx):
    x, ilist = ctx.inputs
    out = ctx.outputs[0]
    nd = ctx.in_ndim(0)
    rest = [f"{x}.shape[{d}]" for d in range(1, nd)]
    ctx.emit(f"{out} = np.empty({shape_tuple([f'{ilist}.shape[0]'] + rest)}, dtype={dtype_expr(ctx.out_dtype())})")
    k = ctx.fresh("k")
    with ctx.block(f"for {k} in range({ilist}.shape[0]):"):
        row = _checked_index(ctx, f"{ilist}[{k}]", ctx.in_dtype(1), f"{x}.shape[0]", 0)
        with loop_nest(ctx, rest) as idx:
            ctx.emit(f"{out}[{', '.join([k] + idx)}] = {x}[{', '.join([row] + idx)}]")


@lowers(AdvancedIncSubtensor1)
def lower_advanced_inc_subtensor1(ctx):
    op = ctx.node.op
    x, y, ilist = ctx.inputs
    out = ctx.outputs[0]
    nd = ctx.in_ndim(0)
    rows = ctx.fresh("rows")
    ctx.emit(f"{rows} = np.empty({ilist}.shape[0], dtype=np.int64)")
    k = ctx.fresh("k")
    with ctx.block(f"for {k} in range({ilist}.shape[0]):"):  # every index checked before any write
        row = _checked_index(ctx, f"{ilist}[{k}]", ctx.in_dtype(2), f"{x}.shape[0]", 0)
        ctx.emit(f"{rows}[{k}] = {row}")
    rest = [f"{x}.shape[{d}]" for d in range(1, nd)]
    readers = _y_reader(ctx, y, [f"{ilist}.shape[0]"] + rest, str(op))
    y = _start_output(ctx, x, y)
    with ctx.block(f"for {k} in range({ilist}.shape[0]):"):
        _scatter(ctx, out, [f"{rows}[{k}]"], rest, y, readers, op.set_instead_of_inc, y_lead_index=[k])


def _leading_vectors(ctx, idx_list, first_index_input: int):
    """The index when it is k leading integer entries (vectors or scalars, at least one
    vector) and nothing else but full slices: [(dim, name, is_vector)], else NotLowerable."""
    entries, k = [], first_index_input
    body = list(idx_list)
    while body and isinstance(body[-1], slice) and body[-1] == slice(None):
        body.pop()
    for d, e in enumerate(body):
        if isinstance(e, TensorType) and e.dtype[0] in "iu" and e.ndim <= 1:
            entries.append((d, ctx.inputs[k], e.ndim == 1, ctx.in_dtype(k)))
            k += 1
        elif isinstance(e, int) and not isinstance(e, bool):
            entries.append((d, str(e), False, "int64"))
        else:
            raise NotLowerable("only leading integer vectors (and integers) are lowered as advanced indices")
    if not any(vec for _, _, vec, _ in entries):
        raise NotLowerable("an advanced index without a vector")
    return entries


def _advanced_positions(ctx, x: str, entries):
    """Emit the broadcast length of the index vectors and per-entry readers.

    Returns (length name, fn(t) -> list of checked int64 index names for position t).
    Integers are checked at once; vector entries where they are read (as NumPy does).
    """
    where = f"(indexing at {ctx.where()})"
    n = ctx.fresh("nidx")
    ctx.emit(f"{n} = 1")
    steps, scalars = {}, {}
    for d, name, is_vector, dtype in entries:
        if is_vector:
            length = f"{name}.shape[0]"
            with ctx.block(f"if {length} != 1:"):
                ctx.check(f"{n} != 1 and {n} != {length}", error="IndexError", message=
                         f"shape mismatch: the index arrays could not be broadcast together {where}")
                ctx.emit(f"{n} = {length}")
            step = ctx.fresh("s")
            ctx.emit(f"{step} = 0 if {length} == 1 else 1")
            steps[d] = step
        else:
            scalars[d] = _checked_index(ctx, name, dtype, f"{x}.shape[{d}]", d)

    def positions(t: str) -> list[str]:
        out = []
        for d, name, is_vector, dtype in entries:
            if not is_vector:
                out.append(scalars[d])
                continue
            out.append(_checked_index(ctx, f"{name}[{t} * {steps[d]}]", dtype, f"{x}.shape[{d}]", d))
        return out

    return n, positions


@lowers(AdvancedSubtensor)
def lower_advanced_subtensor(ctx):
    x, out = ctx.inputs[0], ctx.outputs[0]
    entries = _leading_vectors(ctx, ctx.node.op.idx_list, 1)
    nd = ctx.in_ndim(0)
    n, positions = _advanced_positions(ctx, x, entries)
    rest = [f"{x}.shape[{d}]" for d in range(len(entries), nd)]
    ctx.emit(f"{out} = np.empty({shape_tuple([n] + rest)}, dtype={dtype_expr(ctx.out_dtype())})")
    t = ctx.fresh("t")
    with ctx.block(f"for {t} in range({n}):"):
        at = positions(t)
        with loop_nest(ctx, rest) as idx:
            ctx.emit(f"{out}[{', '.join([t] + idx)}] = {x}[{', '.join(at + idx)}]")


@lowers(AdvancedIncSubtensor)
def lower_advanced_inc_subtensor(ctx):
    op = ctx.node.op
    x, y = ctx.inputs[:2]
    out = ctx.outputs[0]
    entries = _leading_vectors(ctx, op.idx_list, 2)
    nd = ctx.in_ndim(0)
    n, positions = _advanced_positions(ctx, x, entries)
    rest = [f"{x}.shape[{d}]" for d in range(len(entries), nd)]
    readers = _y_reader(ctx, y, [n] + rest, str(op))
    t = ctx.fresh("t")
    with ctx.block(f"for {t} in range({n}):"):  # every index checked before any write
        positions(t)
    y = _start_output(ctx, x, y)
    with ctx.block(f"for {t} in range({n}):"):
        _scatter(ctx, out, positions(t), rest, y, readers, op.set_instead_of_inc, y_lead_index=[t])
