"""Merge: one node for each distinct computation, one constant for each value.

Two constants with the same type and data become one; two nodes applying
equal ops to the same inputs become one (common subexpressions). Nodes that
destroy an input are never merged.
"""
from __future__ import annotations

from ...graph.basic import Constant
from ..db import rewrites
from ..engine import GraphRewriter, trace_of


class MergeRewriter(GraphRewriter):
    def __init__(self, name: str = "merge"):
        self.name = name

    def apply(self, fgraph, on_error="warn"):
        trace = trace_of(fgraph)
        changes = 0
        constants = {}
        for var in list(fgraph.variables):
            if isinstance(var, Constant) and var in fgraph.variables:
                key = var.signature()
                try:
                    hash(key)
                except TypeError:
                    continue
                keep = constants.setdefault(key, var)
                if keep is not var and fgraph.clients.get(var):
                    fgraph.replace(var, keep, reason=self.name)
                    trace.record(self.name, var, keep)
                    changes += 1
        handler = getattr(fgraph, "destroy_handler", None)
        # memory some node overwrites must stay private to it: never share it by merging
        destroyed = set(handler.destroyers(fgraph)) if handler is not None else set()
        seen = {}
        for node in fgraph.toposort():
            if node not in fgraph.apply_nodes or getattr(node.op, "destroy_map", None):
                continue
            if destroyed and any(o in destroyed for o in node.outputs):
                continue
            try:
                key = (node.op, tuple(id(i) for i in node.inputs))
                hash(key)
            except TypeError:
                continue
            other = seen.get(key)
            if other is None:
                seen[key] = node
                continue
            for old, new in zip(node.outputs, other.outputs):
                if old.type != new.type or not fgraph.clients.get(old):
                    continue
                fgraph.replace(old, new, reason=self.name)
                trace.record(self.name, old, new)
                changes += 1
        return changes


rewrites.register(MergeRewriter("merge"), "merge", "fast_compile", "merge")
rewrites.register(MergeRewriter("final_merge"), "final_merge", "fast_compile", "merge")
