"""The rewrite engine: node rewriters, graph walkers, equilibrium, and a trace.

A node rewriter looks at one Apply node and returns what should replace its
outputs (a list, or a {old: new} dict), or None when it does not apply.
Walkers visit nodes in-to-out or out-to-in; an equilibrium walker repeats
until nothing changes. Each replacement is checked (same type, or one that
can stand in) and recorded in the FunctionGraph's `RewriteTrace`, and a
rewriter that raises is reported by name and skipped (or re-raised, per
`config.on_opt_error`).
"""
from __future__ import annotations

import time
import traceback
import warnings
from typing import Callable, Iterable, Sequence

from ..graph.basic import Apply, Op, Variable
from ..graph.fg import FunctionGraph


class RewriteTrace:
    """A FunctionGraph feature listing every replacement: (rewriter name, old, new)."""

    def __init__(self):
        self.events: list[tuple[str, Variable, Variable]] = []

    def on_attach(self, fgraph):
        fgraph.rewrite_trace = self

    def record(self, name: str, old: Variable, new: Variable):
        self.events.append((name, old, new))

    def fired(self) -> list[str]:
        """Names of the rewriters that changed the graph, in order (with repeats)."""
        return [name for name, _, _ in self.events]

    def count(self, name: str) -> int:
        return sum(1 for n, _, _ in self.events if n == name)


def trace_of(fgraph: FunctionGraph) -> RewriteTrace:
    trace = getattr(fgraph, "rewrite_trace", None)
    if trace is None:
        trace = RewriteTrace()
        fgraph.attach_feature(trace)
    return trace


class RewriteError(RuntimeError):
    """A rewriter failed (raised under on_opt_error='raise')."""


class NodeRewriter:
    """Rewrite one node: `transform(fgraph, node)` -> replacements or None.

    `tracks` lists the op classes, op instances or scalar-table names it cares
    about (None: every node), so walkers only offer it matching nodes.
    """

    def __init__(self, fn: Callable, tracks: Sequence | None = None, name: str | None = None):
        self.fn = fn
        self.tracks = None if tracks is None else tuple(tracks)
        self.name = name or getattr(fn, "__name__", type(self).__name__)

    def __repr__(self):
        return f"NodeRewriter({self.name})"

    def matches(self, node: Apply) -> bool:
        if self.tracks is None:
            return True
        op = node.op
        for t in self.tracks:
            if isinstance(t, type):
                if isinstance(op, t):
                    return True
            elif isinstance(t, str):
                fn = getattr(op, "scalar_fn", None)
                if fn is not None and fn.name == t and getattr(op, "out_dtype", None) is None:
                    return True
            elif isinstance(t, Op) and op == t:
                return True
        return False

    def transform(self, fgraph: FunctionGraph, node: Apply):
        return self.fn(fgraph, node)


def node_rewriter(tracks: Sequence | None, name: str | None = None):
    """Decorator: `@node_rewriter([Elemwise])` turns a function into a NodeRewriter."""

    def wrap(fn):
        return NodeRewriter(fn, tracks, name or fn.__name__)

    return wrap


def _as_replacements(node: Apply, result) -> list[tuple[Variable, Variable]]:
    if result is None or result is False:
        return []
    if isinstance(result, dict):
        return list(result.items())
    if isinstance(result, Variable):
        result = [result]
    result = list(result)
    if len(result) != len(node.outputs):
        raise ValueError(f"a rewrite of {node.op} returned {len(result)} replacements for "
                         f"{len(node.outputs)} outputs")
    return [(o, n) for o, n in zip(node.outputs, result) if n is not None and n is not o]


def _compatible(old: Variable, new: Variable) -> Variable | None:
    """`new` made to stand in for `old` (same dtype and rank), or None."""
    if old.type == new.type:
        return new
    ot, nt = old.type, new.type
    if getattr(ot, "dtype", None) != getattr(nt, "dtype", None) or getattr(ot, "ndim", None) != getattr(nt, "ndim", None):
        return None
    from ..tensor.shape_ops import specify_shape

    # a length-1 dimension where old's length was unknown would broadcast where old raised
    if ot.is_super(nt) and not any(n == 1 and o is None for n, o in zip(nt.shape, ot.shape)):
        return new  # new knows more about its shape: it may stand in as it is
    return specify_shape(new, ot.shape)  # assert exactly what old promised, no more


def apply_node_rewriter(fgraph: FunctionGraph, rewriter: NodeRewriter, node: Apply, on_error: str) -> bool:
    """Try one rewriter on one node; apply its replacements. True if the graph changed."""
    try:
        result = rewriter.transform(fgraph, node)
        pairs = _as_replacements(node, result)
    except Exception as e:  # isolation: a broken rewrite must not break compilation
        _report(rewriter, node, e, on_error)
        return False
    if not pairs:
        return False
    trace = trace_of(fgraph)
    checked = []
    for old, new in pairs:
        fitted = _compatible(old, new)
        if fitted is None:
            _report(rewriter, node, TypeError(f"replacement of type {new.type} for {old.type}"), on_error)
            return False
        checked.append((old, fitted))
    for old, new in checked:
        if old in fgraph.variables:
            fgraph.replace(old, new, reason=rewriter.name)
            trace.record(rewriter.name, old, new)
    return True


def _report(rewriter, node, error, on_error: str):
    message = f"rewrite {rewriter.name} failed on {node.op} and was skipped: {type(error).__name__}: {error}"
    if on_error == "raise":
        raise RewriteError(message) from error
    if on_error in ("warn", "pdb"):
        warnings.warn(message + "\n" + "".join(traceback.format_exception(error)[-3:]), stacklevel=3)


class GraphRewriter:
    """Rewrite a whole FunctionGraph (`apply(fgraph)`); returns the number of changes."""

    name = "graph_rewriter"

    def apply(self, fgraph: FunctionGraph, on_error: str = "warn") -> int:
        raise NotImplementedError


class FunctionGraphRewriter(GraphRewriter):
    """A graph rewriter given as a function `fn(fgraph) -> int`."""

    def __init__(self, fn: Callable, name: str | None = None):
        self.fn = fn
        self.name = name or fn.__name__

    def apply(self, fgraph, on_error="warn"):
        try:
            return self.fn(fgraph) or 0
        except Exception as e:
            _report(self, next(iter(fgraph.apply_nodes), None) or _NoNode(), e, on_error)
            return 0


class _NoNode:
    op = "<graph>"


def graph_rewriter(fn: Callable) -> FunctionGraphRewriter:
    """Decorator: a function of the FunctionGraph becomes a graph rewriter."""
    return FunctionGraphRewriter(fn)


class WalkingRewriter(GraphRewriter):
    """Offer every node (in-to-out or out-to-in) to each node rewriter, once."""

    def __init__(self, rewriters: Iterable[NodeRewriter], order: str = "in_to_out", name: str | None = None):
        if order not in ("in_to_out", "out_to_in"):
            raise ValueError("order must be 'in_to_out' or 'out_to_in'")
        self.rewriters = list(rewriters)
        self.order = order
        self.name = name or f"walk({', '.join(r.name for r in self.rewriters)})"

    def apply(self, fgraph, on_error="warn"):
        nodes = fgraph.toposort()
        if self.order == "out_to_in":
            nodes = nodes[::-1]
        changes = 0
        for node in nodes:
            for rewriter in self.rewriters:
                if node not in fgraph.apply_nodes:
                    break
                if rewriter.matches(node) and apply_node_rewriter(fgraph, rewriter, node, on_error):
                    changes += 1
                    break
        return changes


class EquilibriumRewriter(GraphRewriter):
    """Walk repeatedly until no node rewriter changes anything (or a budget runs out)."""

    def __init__(self, rewriters: Iterable[NodeRewriter], max_passes: int = 50, name: str | None = None,
                 order: str = "in_to_out"):
        self.walker = WalkingRewriter(rewriters, order=order)
        self.max_passes = max_passes
        self.name = name or "equilibrium"

    @property
    def rewriters(self):
        return self.walker.rewriters

    def apply(self, fgraph, on_error="warn"):
        total = 0
        for _ in range(self.max_passes):
            changed = self.walker.apply(fgraph, on_error)
            total += changed
            if not changed:
                break
        return total


class SequenceRewriter(GraphRewriter):
    """Run graph rewriters one after another, timing each."""

    def __init__(self, rewriters: Iterable[GraphRewriter], name: str = "sequence"):
        self.rewriters = list(rewriters)
        self.name = name
        self.timings: list[tuple[str, float]] = []

    def apply(self, fgraph, on_error="warn"):
        total = 0
        self.timings = []
        for r in self.rewriters:
            t0 = time.perf_counter()
            total += r.apply(fgraph, on_error)
            self.timings.append((r.name, time.perf_counter() - t0))
        return total
