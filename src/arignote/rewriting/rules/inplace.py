"""In place: let ops overwrite an input when the destroy handler proves it safe.

Elementwise ops may write their result into an input of the same type; any
op with an `inplace` prop (the inc_subtensor family, Gemm/Gemv/Ger) has a
destructive twin `type(op)(..., inplace=True)`; `destroy_map` says which input
each overwrites. Nodes are considered in execution order; each swap is
kept only if no other reader of that memory would run after it, and the
memory is neither a constant nor a function input the caller did not allow
us to overwrite.
"""
from __future__ import annotations

from ...graph.destroy_handler import DestroyHandler
from ..db import rewrites
from ..engine import GraphRewriter, trace_of


def destructive_twins(node) -> list:
    """In-place versions of `node`'s op, in order of preference.

    An op either offers `inplace_twins(node)` (Elemwise: one per input it could
    write into) or has an `inplace` prop with a destructive twin.
    """
    op = node.op
    offer = getattr(op, "inplace_twins", None)
    if offer is not None:
        return offer(node)
    props = getattr(op, "__props__", ())
    if "inplace" not in props or getattr(op, "inplace", True):
        return []
    kwargs = {p: getattr(op, p) for p in props}
    kwargs["inplace"] = True
    try:
        return [type(op)(**kwargs)]
    except TypeError:
        return []


class InplaceRewriter(GraphRewriter):
    name = "inplace"

    def apply(self, fgraph, on_error="warn"):
        handler = getattr(fgraph, "destroy_handler", None)
        if handler is None:
            handler = DestroyHandler()
            fgraph.attach_feature(handler)
        trace = trace_of(fgraph)
        changes = 0
        for node in fgraph.toposort():
            if node not in fgraph.apply_nodes:
                continue
            twin = next((t for t in destructive_twins(node)
                         if all(handler.can_destroy(fgraph, node, i)
                                for srcs in t.destroy_map.values() for i in srcs)), None)
            if twin is None:
                continue
            new_outputs = twin.make_node(*node.inputs).outputs
            for old, new in zip(node.outputs, new_outputs):
                new.tag = old.tag
                fgraph.replace(old, new, reason=self.name)
                trace.record(self.name, old, new)
            changes += 1
        return changes


rewrites.register(InplaceRewriter(), "inplace")
