"""Turn an optimised FunctionGraph into one generated program.

The program is a Python function over the graph's storage cells. Runs of
nodes that have a native lowering become *segments*: functions that Numba
compiles (one call each, however many nodes they hold; a graph whose every
node lowers is one segment, so a call costs one native dispatch). A node
without a lowering (or whose values Numba cannot carry: generators, lists,
float16) runs its NumPy `perform` between segments: that boundary is the
fallback, and `config.numba__debug` lists the nodes that take it.

A lazy node (ifelse) is an `if` of the program: the condition first, then
only what the chosen branch needs, as the reference VM evaluates it.

Nothing here imports Numba: building the source is cheap and happens at
function() time; compiling it (compile.py) is what the background does.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ...graph.basic import Constant, Variable
from ...graph.fg import OUTPUT
from ...tensor.type import TensorType
from ..lazy_schedule import Branch, is_lazy, lazy_schedule
from .context import NATIVE_DTYPES, Names, Namespace, NodeContext, SourceWriter, scalar_literal
from .registry import NotLowerable, find_lowering

#: array constants up to this many elements are frozen into the native code; bigger ones are passed in
_FROZEN_CONSTANT_SIZE = 64


@dataclass
class Segment:
    name: str
    nodes: list
    params: list[Variable]
    results: list[Variable]
    source: str


@dataclass
class ProgramPlan:
    """The generated program: its source, its globals, its segments and the nodes left to perform."""

    source: str
    namespace: Namespace
    segments: list[Segment] = field(default_factory=list)
    fallbacks: list[tuple] = field(default_factory=list)  # (node, reason)



def native_value(var: Variable) -> bool:
    """Can Numba hold this variable's values?"""
    t = var.type
    return isinstance(t, TensorType) and t.dtype in NATIVE_DTYPES


def lower_node(node, inputs: list[str], outputs: list[str], writer: SourceWriter, namespace: Namespace,
               names: Names) -> None:
    """Write `node`'s native code, or raise NotLowerable."""
    if is_lazy(node):
        raise NotLowerable("lazy ops run in the program, not in a segment")
    for v in list(node.inputs) + list(node.outputs):
        if not native_value(v):
            raise NotLowerable(f"{v} has type {v.type}, which Numba cannot hold")
    lowering = find_lowering(node.op)
    if lowering is None:
        raise NotLowerable(f"no native lowering for {type(node.op).__name__}")
    lowering(NodeContext(node, inputs, outputs, writer, namespace, names))


class _Builder:
    def __init__(self, fgraph):
        self.fgraph = fgraph
        self.namespace = Namespace()
        self.names: dict[Variable, str] = {}
        self.local_names = Names()

    def name(self, var: Variable) -> str:
        n = self.names.get(var)
        if n is None:
            n = f"v{len(self.names)}"
            self.names[var] = n
        return n

    def native_operand(self, var: Variable) -> str:
        """How a segment refers to `var`: a literal, a frozen global or its local name."""
        if isinstance(var, Constant):
            data = np.asarray(var.data)
            if data.ndim == 0:
                lit = scalar_literal(data)
                if lit is not None:
                    return lit
                return self.namespace.glob(data[()], "k")
            if data.size <= _FROZEN_CONSTANT_SIZE:
                return self.namespace.glob(np.ascontiguousarray(data), "k")
        return self.name(var)

    def build(self) -> ProgramPlan:
        fg = self.fgraph
        order = fg.toposort()
        # 1. lower every node on its own, to learn which run natively
        self._lowered: dict = {}
        fallbacks = []
        for node in order:
            if is_lazy(node):
                continue  # the program itself branches on it (_emit_branch)
            writer = SourceWriter()
            try:
                lower_node(node, [self.native_operand(v) for v in node.inputs],
                           [self.name(v) for v in node.outputs], writer, self.namespace, self.local_names)
            except NotLowerable as e:
                fallbacks.append((node, str(e)))
                continue
            self._lowered[node] = writer.lines
        # 2. the program: runs of native nodes become segments; a lazy node computes one branch
        self._segments: list[Segment] = []
        body = SourceWriter()
        self._emit_steps(body, lazy_schedule(fg, order))
        for k, out in enumerate(fg.outputs):
            body.emit(f"_out{k}[0] = {self._python_value(out)}")
        source = "\n".join(["def _program():"] + (body.lines or ["    pass"])) + "\n"
        return ProgramPlan(source, self.namespace, self._segments, fallbacks)

    def _emit_steps(self, body: SourceWriter, steps: list) -> None:
        run: list = []  # consecutive native nodes: the next segment
        for step in steps:
            if not isinstance(step, Branch) and step in self._lowered:
                run.append(step)
                continue
            self._flush(body, run)
            if isinstance(step, Branch):
                self._emit_branch(body, step)
            else:
                self._emit_perform(body, step)
        self._flush(body, run)

    def _flush(self, body: SourceWriter, run: list) -> None:
        if run:
            seg = self._segment(f"_seg{len(self._segments)}", list(run))
            self._segments.append(seg)
            self._emit_segment_call(body, seg)
            run.clear()

    def _emit_branch(self, body: SourceWriter, branch: Branch) -> None:
        """if condition: the then-steps and values, else: the else-ones (IfElse's perform semantics)."""
        node = branch.node
        copy = "" if getattr(node.op, "as_view", False) else ".copy()"
        for header, truth in ((f"if {self._python_value(node.inputs[0])}:", True), ("else:", False)):
            with body.block(header):
                self._emit_steps(body, branch.steps[truth])
                for out, value in zip(node.outputs, branch.chosen(truth)):
                    body.emit(f"{self.name(out)} = {self._python_value(value)}{copy}")

    def _segment(self, name, nodes) -> Segment:
        members = set(nodes)
        produced = {v for n in nodes for v in n.outputs}
        params = []
        for n in nodes:
            for v in n.inputs:
                if v in produced or v in params:
                    continue
                if isinstance(v, Constant) and self.native_operand(v) != self.name(v):
                    continue
                params.append(v)
        clients = self.fgraph.clients
        results = [v for n in nodes for v in n.outputs
                   if any(c == OUTPUT or c not in members for c, _ in clients.get(v, ()))]
        lines = [f"def {name}({', '.join(self.name(v) for v in params)}):"]
        for n in nodes:
            lines.append(f"    # {n.op}")
            lines.extend(self._lowered[n])
        ret = ", ".join(self.name(v) for v in results)
        lines.append(f"    return ({ret}{',' if len(results) == 1 else ''})")
        return Segment(name, nodes, params, results, "\n".join(lines) + "\n")

    # -- the Python program between segments -----------------------------------------------------
    def _python_value(self, var: Variable) -> str:
        """The program's name for var's value as the reference backend holds it (an ndarray)."""
        if isinstance(var, Constant):
            return self.namespace.glob(var.data, "c")
        if var in self.fgraph.inputs:
            k = self.fgraph.inputs.index(var)
            return f"_in{k}[0]"
        return self.name(var)

    def _emit_segment_call(self, body: SourceWriter, seg: Segment) -> None:
        args = []
        for v in seg.params:
            value = self._python_value(v)
            # the segment was compiled for C-contiguous arrays and exact scalars (compile.py)
            args.append(f"{value}[()]" if v.type.ndim == 0 else f"_contiguous({value})")
        targets = [self.name(v) for v in seg.results]
        call = f"{seg.name}({', '.join(args)})"  # the compiled segment is bound to this name
        if targets:
            body.emit(f"{', '.join(targets)}{',' if len(targets) == 1 else ''} = {call}")
        else:
            body.emit(call)
        for v in seg.results:
            if v.type.ndim == 0:  # back to the reference form: a 0-d array of the exact dtype
                dt = self.namespace.glob(np.dtype(v.type.dtype), "dt")
                body.emit(f"{self.name(v)} = _scalar_array({self.name(v)}, {dt})")
        # np.array, not np.asarray: a new 0-d array from a scalar costs 114 ns against 186 ns
        self.namespace.values["_scalar_array"] = np.array

    def _emit_perform(self, body: SourceWriter, node) -> None:
        n = self.namespace.glob(node, "node")
        storage = [[None] for _ in node.outputs]
        st = self.namespace.glob(storage, "storage")
        perform = self.namespace.glob(node.op.perform, "perform")
        args = ", ".join(self._python_value(v) for v in node.inputs)
        body.emit(f"{perform}({n}, [{args}{',' if len(node.inputs) == 1 else ''}], {st})")
        for k, v in enumerate(node.outputs):
            body.emit(f"{self.name(v)} = {st}[{k}][0]; {st}[{k}][0] = None")


def build_program(fgraph) -> ProgramPlan:
    from . import lowerings  # noqa: F401 - registers the op lowerings (and imports Numba)

    return _Builder(fgraph).build()
