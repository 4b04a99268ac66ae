"""Scan: the whole loop runs natively, its body written inline in the loop.

The reference (`Scan.perform`, scan/op.py) calls the inner function once per
step from Python. Here the inner graph's nodes are lowered once, into the
body of a native `for` loop in the segment that holds the Scan node, so a
step costs what its arithmetic costs. The body is written inline rather than
called as a separate compiled function: a call between two Numba functions
costs ~20 ns (argument structs, reference counts, the returned tuple), which
is four times the step of a small recurrence such as `prior * A`.

Memory follows the reference. A recurrent output keeps its whole history in
one array allocated before the loop (rows 0..L-1: the initial values, row
L+t: step t), or, under the save-memory rule (`keep`), a ring of
max(keep, L+1) rows: one more than the taps read, so the row a step writes is
never one it reads. Per-step outputs are allocated once the first step has
given their shape. A while-loop (`until`) only knows an upper bound of its
length: its full histories start at min(n_steps, 4096) rows and double.

Where the node computing a recurrent or per-step output allocates its result
(`out = np.empty(shape, ...)`), the allocation is redirected to the row the
step stores into, when the shapes agree: no allocation per step. Whatever
the inner code ends up returning, a step stores it unless it already is that
row, after checking its shape.
"""
from __future__ import annotations

import re
import weakref
from contextlib import ExitStack

import numpy as np

from ....graph.basic import Constant
from ....scan.op import Scan
from .. import kernels
from ..context import SourceWriter, dtype_expr, scalar_literal
from ..program import lower_node, native_value
from ..registry import NotLowerable, lowers

#: rows a while-loop's full history starts with (the reference's capacity; it doubles from there)
WHILE_START_ROWS = 4096
#: inner constants up to this many elements are frozen into the native code (bigger: the node runs its perform)
_INNER_CONSTANT_SIZE = 1 << 16

_INNER_GRAPHS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def inner_graph(op: Scan):
    """The rewritten inner FunctionGraph of `op`.

    When the reference has already compiled its inner function, its graph is
    reused; otherwise the graph is rewritten without being linked: linking it
    with a native mode would compile a program the native loop never calls.
    """
    if op._fn is not None:
        return op._fn.maker.fgraph
    fgraph = _INNER_GRAPHS.get(op)
    if fgraph is None:
        from ....compile.function import FunctionMaker

        maker = FunctionMaker(dict(inputs=op.inner_inputs, outputs=op.inner_outputs, mode=op.mode, updates=None,
                                   givens=None, no_default_updates=False, name=None, allow_input_downcast=None,
                                   profile=None, on_unused_input="ignore"))
        fgraph = maker.fgraph
        _INNER_GRAPHS[op] = fgraph
    return fgraph


@lowers(Scan)
def lower_scan(ctx):
    try:
        _ScanWriter(ctx).write()
    except NotLowerable:
        # the loop runs Scan.perform: its inner function should then be native
        op = ctx.node.op
        if not op._inner_runs_native:
            op._inner_runs_native = True
            op._fn = None  # rebuilt natively at the next perform
        raise


class _ScanWriter:
    """Writes one Scan node's loop into its NodeContext."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.node = ctx.node
        self.op: Scan = ctx.node.op
        self.spec = self.op.spec
        spec = self.spec
        if spec.n_shared:
            raise NotLowerable("the loop updates shared variables (random generators), which Numba cannot hold")
        if any(k is not None and k < 1 for k in spec.keep):
            raise NotLowerable(f"keep={spec.keep}: only positive counts are handled natively")
        self.fg = inner_graph(self.op)
        self._check_layout()
        self.label = f"{self.op} (built at {ctx.where()})"

    # -- what the inner graph must look like ----------------------------------------------------------
    def _check_layout(self) -> None:
        spec, fg, node = self.spec, self.fg, self.node
        n_in = spec.n_seqs + sum(len(t) for t in spec.taps) + spec.n_non_seqs
        n_out = spec.n_rec + spec.n_nitsot + (1 if spec.as_while else 0)
        if len(fg.inputs) != n_in or len(fg.outputs) != n_out:
            raise NotLowerable(f"the inner graph has {len(fg.inputs)} inputs and {len(fg.outputs)} outputs; the "
                               f"loop's layout implies {n_in} and {n_out} (implicit shared variables?)")
        for v in list(fg.inputs) + list(fg.outputs) + list(node.inputs[1:]):
            if not native_value(v):
                raise NotLowerable(f"{v} has type {v.type}, which Numba cannot hold")
        outer_seqs = node.inputs[1: 1 + spec.n_seqs]
        for k, (outer, inner) in enumerate(zip(outer_seqs, fg.inputs)):
            _same(inner, outer.type.dtype, outer.type.ndim - 1, f"sequence {k}")
        pos = spec.n_seqs
        for i, taps in enumerate(spec.taps):
            out = node.outputs[i]
            init = node.inputs[1 + spec.n_seqs + i]
            _same(init, out.type.dtype, out.type.ndim, f"the initial value of recurrent output {i}")
            _same(fg.outputs[i], out.type.dtype, out.type.ndim - 1, f"recurrent output {i}")
            for _ in taps:
                _same(fg.inputs[pos], out.type.dtype, out.type.ndim - 1, f"a tap of recurrent output {i}")
                pos += 1
        outer_non_seqs = node.inputs[1 + spec.n_seqs + spec.n_rec:]
        for k, (outer, inner) in enumerate(zip(outer_non_seqs, fg.inputs[pos:])):
            _same(inner, outer.type.dtype, outer.type.ndim, f"non-sequence {k}")
        for j in range(spec.n_nitsot):
            out = node.outputs[spec.n_rec + j]
            _same(fg.outputs[spec.n_rec + j], out.type.dtype, out.type.ndim - 1, f"per-step output {j}")
        if spec.as_while and fg.outputs[-1].type.ndim != 0:
            raise NotLowerable("the until condition is not a scalar")

    # -- writing ------------------------------------------------------------------------------------------
    def write(self) -> None:
        ctx, spec = self.ctx, self.spec
        fresh = ctx.fresh
        n = self.n = fresh("n_steps")
        ctx.emit(f"{n} = np.int64({ctx.inputs[0]})")
        ctx.check(f"{n} < 0", f"{self.label}: the number of steps is negative")
        seqs = ctx.inputs[1: 1 + spec.n_seqs]
        for k, s in enumerate(seqs):
            ctx.check(f"{s}.shape[0] < {n}", f"{self.label}: sequence {k} has fewer entries than the loop has steps")
        inits = ctx.inputs[1 + spec.n_seqs: 1 + spec.n_seqs + spec.n_rec]
        non_seqs = ctx.inputs[1 + spec.n_seqs + spec.n_rec:]
        self.recs = [self._recurrent(i, init) for i, init in enumerate(inits)]
        self.nits = [self._per_step(j) for j in range(spec.n_nitsot)]
        # inner operands: non-sequences are bound once, outside the loop
        inner_names: dict = {}
        pos = spec.n_seqs
        tap_inputs = []
        for i, taps in enumerate(spec.taps):
            for tap in taps:
                tap_inputs.append((self.recs[i], tap, self.fg.inputs[pos]))
                pos += 1
        for k, v in enumerate(self.fg.inputs[pos:]):
            name = fresh("nonseq")
            ctx.emit(f"{name} = {non_seqs[k]}")
            inner_names[v] = name
        t = self.t = fresh("t")
        self.count = n  # steps run; a while-loop counts them
        if spec.as_while:
            self.count = fresh("count")
            ctx.emit(f"{self.count} = 0")
        self.slots: dict = {}  # (length, size) -> the name of the ring slot step t writes
        with ctx.block(f"for {t} in range({n}):"):
            rows: dict = {}  # one view per sequence, however many inner inputs read it
            for k, v in enumerate(self.fg.inputs[: spec.n_seqs]):
                if seqs[k] not in rows:
                    rows[seqs[k]] = fresh("seq_t")
                    ctx.emit(f"{rows[seqs[k]]} = {seqs[k]}[{t}]")
                inner_names[v] = rows[seqs[k]]
            for rec in self.recs:
                rec.begin_step()
            for rec, tap, v in tap_inputs:
                inner_names[v] = fresh("tap")
                ctx.emit(f"{inner_names[v]} = {rec.history}[{rec.row(tap)}]")
            for nit in self.nits:
                nit.begin_step()
            results = self._inner_body(inner_names)
            for rec, expr in zip(self.recs, results):
                rec.store(expr)
            for nit, expr in zip(self.nits, results[spec.n_rec:]):
                nit.store(expr)
            if spec.as_while:
                ctx.emit(f"{self.count} = {t} + 1")
                with ctx.block(f"if {results[-1]}:"):
                    ctx.emit("break")
        for k, rec in enumerate(self.recs):
            rec.result(ctx.outputs[k])
        for j, nit in enumerate(self.nits):
            nit.result(ctx.outputs[spec.n_rec + j])

    def _recurrent(self, i: int, init: str):
        keep = self.spec.keep[i]
        cls = _FullHistory if keep is None else _RecentHistory
        return cls(self, i, init, keep)

    def _per_step(self, j: int):
        keep = self.spec.keep[self.spec.n_rec + j]
        return _Collected(self, j, keep)

    def _inner_body(self, names: dict) -> list[str]:
        """Write the inner graph's nodes; return the expressions of its outputs."""
        ctx = self.ctx
        # the row each output is stored into, where the node computing it can write there directly
        dests: dict = {}
        for k, out in enumerate(self.fg.outputs[: self.spec.n_rec + self.spec.n_nitsot]):
            holder = self.recs[k] if k < self.spec.n_rec else self.nits[k - self.spec.n_rec]
            if holder.dest is None:
                continue
            # an output computed in place into an intermediate: that intermediate can live in the row too
            # (the destroy handler guarantees its other readers have read it before it is overwritten)
            var = out
            while var.owner is not None and var not in dests and var not in self.fg.inputs:
                dests[var] = (holder.dest, holder.dtype)
                destroyed = _destroyed_input(var)
                if destroyed is None:
                    break
                var = destroyed

        def operand(v) -> str:
            if isinstance(v, Constant):
                data = np.asarray(v.data)
                if data.ndim == 0:
                    return scalar_literal(data) or ctx.glob(data[()], "k")
                if data.size > _INNER_CONSTANT_SIZE:
                    raise NotLowerable(f"the loop body holds a constant of {data.size} elements")
                return ctx.glob(np.ascontiguousarray(data), "k")
            name = names.get(v)
            if name is None:
                name = names[v] = ctx.fresh("inner")
            return name

        for inner in self.fg.toposort():
            writer = SourceWriter(ctx.writer.indent)
            writer.emit(f"# {inner.op}")
            outs = [operand(v) for v in inner.outputs]
            try:
                lower_node(inner, [operand(v) for v in inner.inputs], outs, writer, ctx.namespace, ctx.names)
            except NotLowerable as e:
                raise NotLowerable(f"the loop body's {inner.op} does not lower ({e})") from None
            lines = writer.lines
            for v, name in zip(inner.outputs, outs):
                if v in dests:
                    lines = _redirect(lines, name, *dests[v])
            ctx.writer.lines.extend(lines)
        return [operand(v) for v in self.fg.outputs]


def _destroyed_input(var):
    """The input `var`'s node overwrites to produce it, if any."""
    node = var.owner
    destroyed = getattr(node.op, "destroy_map", None) or {}
    k = node.outputs.index(var)
    if len(destroyed.get(k, ())) != 1:
        return None
    return node.inputs[destroyed[k][0]]


def _copy(ctx, dst: str, src: str, ndim: int, after_loop: bool = False) -> None:
    """dst[...] = src, element by element: an explicit loop nest compiles in a fraction of the time
    Numba takes for an array assignment (seconds for the first one in a process). After the loop
    the loops are kernels.COPY's (a call compiles faster still); not before it or in it: an array
    passed to a call there (the history, the ring) escapes, and LLVM then keeps reference counts
    and reloads in the step that it removes otherwise (+8% on W7's step)."""
    if ndim == 0:
        ctx.emit(f"{dst} = {src}")
        return
    if after_loop and ndim in kernels.COPY:
        ctx.emit(f"{kernels.register(ctx, kernels.COPY[ndim])}({dst}, {src})")
        return
    if not dst.isidentifier():
        view = ctx.fresh("to")
        ctx.emit(f"{view} = {dst}")
        dst = view
    if not src.isidentifier():
        view = ctx.fresh("frm")
        ctx.emit(f"{view} = {src}")
        src = view
    idx = [ctx.fresh("c") for _ in range(ndim)]
    with ExitStack() as loops:
        for d in range(ndim):
            loops.enter_context(ctx.block(f"for {idx[d]} in range({src}.shape[{d}]):"))
        at = ", ".join(idx)
        ctx.emit(f"{dst}[{at}] = {src}[{at}]")


def _same(var, dtype: str, ndim: int, what: str) -> None:
    if var.type.dtype != dtype or var.type.ndim != ndim:
        raise NotLowerable(f"{what} has type {var.type}; the loop holds {ndim}-d {dtype} values there")


def _redirect(lines: list[str], name: str, dest: str, dtype: str) -> list[str]:
    """`lines` with the allocation of `name` (of `dtype`, dest's) replaced by `dest` where the shapes agree.

    Written inline, not as a call of a compiled helper: an array passed to a call and returned costs
    reference counts, ~3 ns a step (a third of a small loop's step: W7)."""
    pattern = re.compile(r"^(\s*)" + re.escape(name) + r" = np\.empty\((.+), dtype=(np\.\w+)\)$")
    out = []
    for line in lines:
        m = pattern.match(line)
        if m and m.group(3) == dtype:
            indent, shape, _ = m.groups()
            line = f"{indent}{name} = {dest} if {dest}.shape == {shape} else np.empty({shape}, dtype={dtype})"
        out.append(line)
    return out


class _Holder:
    """Where one recurrent or per-step output lives during the loop."""

    dest: str | None = None  # the row this step stores into (when the output has dimensions)

    def __init__(self, writer: _ScanWriter, out_var):
        self.w = writer
        self.ctx = writer.ctx
        self.ndim = out_var.type.ndim - 1  # of one step's value
        self.dtype = dtype_expr(out_var.type.dtype)

    def _store_checked(self, expr: str, shape: str, row_expr: str, what: str) -> None:
        """Store one step's value `expr` into its row: `row_expr` for a scalar, else the row `self.dest`
        names, unless the step already wrote it there (shape checked first: Numba checks no bounds)."""
        ctx = self.ctx
        if self.ndim == 0:
            ctx.emit(f"{row_expr} = {expr}")
            return
        ctx.check(f"{expr}.shape != {shape}", f"{self.w.label}: step returned a value of another shape for {what}")
        with ctx.block(f"if {expr}.ctypes.data != {self.dest}.ctypes.data:"):
            _copy(ctx, self.dest, expr, self.ndim)

    def _grow(self, array: str, used: str, limit: str) -> None:
        """Double `array`'s rows (to at most `limit`) when `used` rows fill it."""
        ctx = self.ctx
        with ctx.block(f"if {used} == {array}.shape[0]:"):
            bigger = ctx.fresh("bigger")
            ctx.emit(f"{bigger} = np.empty((min({limit}, 2 * {array}.shape[0]),) + {array}.shape[1:], "
                     f"dtype={self.dtype})")
            _copy(ctx, bigger, array, self.ndim + 1)
            ctx.emit(f"{array} = {bigger}")


class _FullHistory(_Holder):
    """Every state: rows 0..L-1 the initial values, row L+t step t's; the output is rows L.."""

    def __init__(self, writer, i, init, keep):
        out_var = writer.node.outputs[i]
        super().__init__(writer, out_var)
        ctx, spec = self.ctx, writer.spec
        self.i = i
        self.length = spec.buffer_len(i)
        self.history = ctx.fresh("history")
        self.shape = ctx.fresh("state_shape")
        L, n = self.length, writer.n
        ctx.check(f"{init}.shape[0] < {L}", f"{writer.label}: the initial value of recurrent output {i} needs "
                                            f"{L} entries (taps {list(spec.taps[i])})")
        ctx.emit(f"{self.shape} = {init}.shape[1:]")
        rows = f"{L} + {n}" if not spec.as_while else f"{L} + min({n}, {WHILE_START_ROWS})"
        ctx.emit(f"{self.history} = np.empty(({rows},) + {self.shape}, dtype={self.dtype})")
        _copy(ctx, f"{self.history}[:{L}]", f"{init}[{init}.shape[0] - {L}:]", self.ndim + 1)
        if self.ndim:
            self.dest = ctx.fresh("dest")

    def row(self, tap: int) -> str:
        return f"{self.length} + {self.w.t} - {-tap}"

    def begin_step(self) -> None:
        if self.w.spec.as_while:
            self._grow(self.history, f"{self.length} + {self.w.t}", f"{self.length} + {self.w.n}")
        if self.dest is not None:
            self.ctx.emit(f"{self.dest} = {self.history}[{self.length} + {self.w.t}]")

    def store(self, expr: str) -> None:
        self._store_checked(expr, self.shape, f"{self.history}[{self.length} + {self.w.t}]",
                            f"recurrent output {self.i}")

    def result(self, out: str) -> None:
        self.ctx.emit(f"{out} = {self.history}[{self.length}:{self.length} + {self.w.count}]")


class _RecentHistory(_Holder):
    """The newest max(keep, L+1) states in a ring; position p (initial values first) is slot p % size."""

    def __init__(self, writer, i, init, keep):
        out_var = writer.node.outputs[i]
        super().__init__(writer, out_var)
        ctx, spec = self.ctx, writer.spec
        self.i = i
        self.keep = keep
        self.length = L = spec.buffer_len(i)
        self.size = max(keep, L + 1)
        self.history = ctx.fresh("ring")
        self.shape = ctx.fresh("state_shape")
        ctx.check(f"{init}.shape[0] < {L}", f"{writer.label}: the initial value of recurrent output {i} needs "
                                            f"{L} entries (taps {list(spec.taps[i])})")
        ctx.emit(f"{self.shape} = {init}.shape[1:]")
        ctx.emit(f"{self.history} = np.empty(({self.size},) + {self.shape}, dtype={self.dtype})")
        _copy(ctx, f"{self.history}[:{L}]", f"{init}[{init}.shape[0] - {L}:]", self.ndim + 1)
        if self.ndim:
            self.dest = ctx.fresh("dest")

    def row(self, tap: int) -> str:
        return f"({self.slot} + {self.size - -tap}) % {self.size}"  # (p + tap) mod size, kept non-negative

    def begin_step(self) -> None:
        slots = self.w.slots  # rings of one length and size share the slot
        self.slot = slots.get((self.length, self.size))
        if self.slot is None:
            self.slot = slots[(self.length, self.size)] = self.ctx.fresh("slot")
            self.ctx.emit(f"{self.slot} = ({self.length} + {self.w.t}) % {self.size}")
        if self.dest is not None:
            self.ctx.emit(f"{self.dest} = {self.history}[{self.slot}]")

    def store(self, expr: str) -> None:
        self._store_checked(expr, self.shape, f"{self.history}[{self.slot}]", f"recurrent output {self.i}")

    def result(self, out: str) -> None:
        """The newest min(L + steps, keep) states, oldest first (initial ones when the loop was short)."""
        ctx = self.ctx
        m, j = ctx.fresh("m"), ctx.fresh("j")
        total = f"{self.length} + {self.w.count}"
        ctx.emit(f"{m} = min({total}, {self.keep})")
        ctx.emit(f"{out} = np.empty(({m},) + {self.shape}, dtype={self.dtype})")
        with ctx.block(f"for {j} in range({m}):"):
            _copy(ctx, f"{out}[{j}]", f"{self.history}[({total} - {m} + {j}) % {self.size}]", self.ndim, True)


class _Collected(_Holder):
    """A per-step output: every step's value (allocated after step 0 shows its shape), or the newest `keep`."""

    def __init__(self, writer, j, keep):
        out_var = writer.node.outputs[writer.spec.n_rec + j]
        super().__init__(writer, out_var)
        ctx = self.ctx
        self.j = j
        self.keep = keep
        self.array = ctx.fresh("per_step")
        # an empty result has the static trailing shape, 0 where unknown (the reference's _stack)
        self.empty_shape = tuple(0 if s is None else s for s in out_var.type.shape[1:])
        n = writer.n
        if self.ndim == 0:
            rows = n if keep is None else str(keep)
            if writer.spec.as_while and keep is None:
                rows = f"max(1, min({n}, {WHILE_START_ROWS}))"
            ctx.emit(f"{self.array} = np.empty(({rows},), dtype={self.dtype})")
        else:
            # a one-row placeholder until step 0 gives the shape (its row is a valid place to write to)
            ctx.emit(f"{self.array} = np.empty((1,{' 0,' * self.ndim}), dtype={self.dtype})")
            self.dest = ctx.fresh("dest")

    def _row(self) -> str:
        t = self.w.t
        return t if self.keep is None else f"{t} % {self.keep}"

    def begin_step(self) -> None:
        if self.w.spec.as_while and self.keep is None:  # (the one-row placeholder never grows: t == 0 there)
            self._grow(self.array, self.w.t, self.w.n)
        if self.dest is not None:
            self.ctx.emit(f"{self.dest} = {self.array}[{self._row()}]")

    def store(self, expr: str) -> None:
        ctx, w = self.ctx, self.w
        what = f"per-step output {self.j}"
        if self.ndim == 0:
            ctx.emit(f"{self.array}[{self._row()}] = {expr}")
            return
        with ctx.block(f"if {w.t} == 0:"):
            if self.keep is not None:
                rows = str(self.keep)
            elif w.spec.as_while:
                rows = f"min({w.n}, {WHILE_START_ROWS})"
            else:
                rows = w.n
            ctx.emit(f"{self.array} = np.empty(({rows},) + {expr}.shape, dtype={self.dtype})")
            _copy(ctx, f"{self.array}[0]", expr, self.ndim)
        ctx.writer.emit("else:")
        ctx.writer.indent += 1
        self._store_checked(expr, f"{self.array}.shape[1:]", f"{self.array}[{self._row()}]", what)
        ctx.writer.indent -= 1

    def result(self, out: str) -> None:
        ctx, count = self.ctx, self.w.count
        empty = f"np.empty((0,{''.join(f' {s},' for s in self.empty_shape)}), dtype={self.dtype})"
        if self.keep is None:
            if self.ndim == 0:
                ctx.emit(f"{out} = {self.array}[:{count}]")
                return
            with ctx.block(f"if {count} == 0:"):
                ctx.emit(f"{out} = {empty}")
            with ctx.block("else:"):
                ctx.emit(f"{out} = {self.array}[:{count}]")
            return
        m, j = ctx.fresh("m"), ctx.fresh("j")
        ctx.emit(f"{m} = min({count}, {self.keep})")
        with ctx.block(f"if {count} == 0:"):
            ctx.emit(f"{out} = {empty}")
        with ctx.block("else:"):
            shape = f"({m},)" if self.ndim == 0 else f"({m},) + {self.array}.shape[1:]"
            ctx.emit(f"{out} = np.empty({shape}, dtype={self.dtype})")
            with ctx.block(f"for {j} in range({m}):"):
                _copy(ctx, f"{out}[{j}]", f"{self.array}[({count} - {m} + {j}) % {self.keep}]", self.ndim, True)
