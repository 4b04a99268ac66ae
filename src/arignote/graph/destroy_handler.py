"""In-place safety: when may an op overwrite its input, and in what order must nodes run?

An op that destroys an input (its `destroy_map`) overwrites the input's
memory — and the memory of every view of it (`view_map`). That is safe only if
  * the memory is not a constant, nor a function input the caller did not
    declare mutable (shared variables are mutable only when the function
    updates them with a new value),
  * nothing else destroys the same memory,
  * every other reader of that memory (through any view) can run before the
    destroyer — none of them depends on the destroyer's result, and the
    memory is not itself a function output.
`DestroyHandler.orderings()` gives the "reader before destroyer" edges the
backend must respect when it orders nodes.
"""
from __future__ import annotations

from .basic import Apply, Constant, Variable
from .fg import OUTPUT, FunctionGraph


def view_root(var: Variable) -> Variable:
    """The variable whose memory `var` may share, following views and destroyers."""
    while var.owner is not None:
        op = var.owner.op
        src = (getattr(op, "view_map", None) or {}).get(var.index) or \
              (getattr(op, "destroy_map", None) or {}).get(var.index)
        if not src:
            break
        var = var.owner.inputs[src[0]]
    return var


class DestroyHandler:
    """A FunctionGraph feature answering in-place questions (computed on demand)."""

    def __init__(self, mutable_inputs=()):
        self.mutable_inputs = set(mutable_inputs)

    def on_attach(self, fgraph: FunctionGraph):
        fgraph.destroy_handler = self

    # -- queries ----------------------------------------------------------------------------------
    def _views_of(self, fgraph, root: Variable) -> list[Variable]:
        """root and every variable that is a view of it (not through destroyers)."""
        found, stack = [root], [root]
        while stack:
            v = stack.pop()
            for node, i in fgraph.clients.get(v, []):
                if node == OUTPUT:
                    continue
                for out_idx, srcs in (getattr(node.op, "view_map", None) or {}).items():
                    if i in srcs:
                        out = node.outputs[out_idx]
                        found.append(out)
                        stack.append(out)
        return found

    def destroyers(self, fgraph) -> dict[Variable, Apply]:
        """{memory root: the node destroying it}."""
        result = {}
        for node in fgraph.apply_nodes:
            for srcs in (getattr(node.op, "destroy_map", None) or {}).values():
                for i in srcs:
                    result.setdefault(view_root(node.inputs[i]), node)
        return result

    def can_destroy(self, fgraph, node: Apply, input_index: int, ignore: Apply | None = None) -> bool:
        """Whether `node` may overwrite its input `input_index` (ignoring destroyer `ignore`)."""
        root = view_root(node.inputs[input_index])
        if isinstance(root, Constant):
            return False
        if root.owner is None and root not in self.mutable_inputs:
            return False
        for other in fgraph.apply_nodes:
            if other is node or other is ignore:
                continue
            for srcs in (getattr(other.op, "destroy_map", None) or {}).values():
                if any(view_root(other.inputs[i]) is root for i in srcs):
                    return False
        views = self._views_of(fgraph, root)
        readers = set()
        for v in views:
            for client, _ in fgraph.clients.get(v, []):
                if client == OUTPUT:
                    if v is root or v in views:
                        return False  # the caller would receive overwritten memory
                    continue
                if client is not node:
                    readers.add(client)
        # the view chain from root to node's input is read by node itself: those are fine
        if not readers:
            return True
        # node would run after every reader: none may need node's result, directly or through
        # the orderings earlier destroyers already impose
        runs_after: dict = {}
        for destroyer, before in self.orderings(fgraph).items():
            for reader in before:
                runs_after.setdefault(reader, []).append(destroyer)
        downstream = _descendants(fgraph, node, runs_after)
        return not (readers & downstream)

    def orderings(self, fgraph) -> dict[Apply, set[Apply]]:
        """{destroyer: nodes that must run before it} (the other readers of its memory)."""
        order: dict[Apply, set[Apply]] = {}
        for root, destroyer in self.destroyers(fgraph).items():
            before = set()
            for v in self._views_of(fgraph, root):
                for client, _ in fgraph.clients.get(v, []):
                    if client != OUTPUT and client is not destroyer and not _is_view_towards(client, destroyer):
                        before.add(client)
            if before:
                order[destroyer] = before
        return order


def _is_view_towards(client: Apply, destroyer: Apply) -> bool:
    """A view node whose output the destroyer consumes (part of the chain it writes through)."""
    if not getattr(client.op, "view_map", None):
        return False
    return any(o in destroyer.inputs for o in client.outputs)


def _descendants(fgraph, node: Apply, runs_after: dict | None = None) -> set[Apply]:
    """Nodes that must run after `node`: its data clients, and the destroyers they precede."""
    runs_after = runs_after or {}
    seen: set[Apply] = set()
    stack = [node]
    while stack:
        n = stack.pop()
        nexts = [client for out in n.outputs for client, _ in fgraph.clients.get(out, []) if client != OUTPUT]
        nexts.extend(runs_after.get(n, ()))
        for m in nexts:
            if m not in seen:
                seen.add(m)
                stack.append(m)
    return seen
