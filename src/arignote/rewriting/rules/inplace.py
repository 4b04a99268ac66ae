"""In place: let ops overwrite an input when the destroy handler proves it safe.

Any op with an `inplace` prop (the inc_subtensor family, Gemm/Gemv/Ger) has a
destructive twin `type(op)(..., inplace=True)` whose `destroy_map` says which
input it overwrites. Nodes are considered in execution order; each swap is
kept only if no other reader of that memory would run after it, and the
memory is neither a constant nor a function input the caller did not allow
us to overwrite.
"""
from __future__ import annotations

from ...graph.destroy_handler import DestroyHandler
from ..db import rewrites
from ..engine import GraphRewriter, trace_of


def destructive_twin(op):
    """The in-place version of `op`, or None."""
    props = getattr(op, "__props__", ())
    if "inplace" not in props or getattr(op, "inplace", True):
        return None
    kwargs = {p: getattr(op, p) for p in props}
    kwargs["inplace"] = True
    try:
        return type(op)(**kwargs)
    except TypeError:
        return None


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
            twin = destructive_twin(node.op)
            if twin is None:
                continue
            destroyed = [i for srcs in twin.destroy_map.values() for i in srcs]
            if not all(handler.can_destroy(fgraph, node, i) for i in destroyed):
                continue
            new_outputs = twin.make_node(*node.inputs).outputs
            for old, new in zip(node.outputs, new_outputs):
                new.tag = old.tag
                fgraph.replace(old, new, reason=self.name)
                trace.record(self.name, old, new)
            changes += 1
        return changes


rewrites.register(InplaceRewriter(), "inplace")
