"""FunctionGraph: a graph with fixed inputs and outputs that rewrites can edit.

It tracks, for each variable, its clients (who uses it), so a rewrite can
replace one variable by another everywhere at once. Features (a destroy
handler, a rewrite trace, ...) are told of every change.
"""
from __future__ import annotations

from typing import Sequence

from .basic import Apply, Constant, Variable, clone_get_equiv, io_toposort

OUTPUT = "output"  # the client marker for "used as graph output number i"


class InconsistencyError(Exception):
    """A change would break an invariant a feature guards (e.g. in-place safety)."""


class FunctionGraph:
    def __init__(self, inputs: Sequence[Variable], outputs: Sequence[Variable],
                 features: Sequence = (), clone: bool = True, update_mapping: dict | None = None):
        if clone:
            equiv = clone_get_equiv(inputs, outputs, copy_inputs=True)
            inputs = [equiv[i] for i in inputs]
            outputs = [equiv[o] for o in outputs]
            self.equiv = equiv
        else:
            self.equiv = None
        self.inputs: list[Variable] = []
        self.outputs: list[Variable] = list(outputs)
        self.apply_nodes: set[Apply] = set()
        self.variables: set[Variable] = set()
        self.clients: dict[Variable, list] = {}
        self.features: list = []
        self.update_mapping = update_mapping or {}
        for i in inputs:
            if i.owner is not None:
                raise ValueError(f"graph input {i} is computed by {i.owner.op}; inputs must be free")
            self._add_input(i)
        for idx, out in enumerate(self.outputs):
            self._import_var(out)
            self.clients[out].append((OUTPUT, idx))
        for f in features:
            self.attach_feature(f)

    # -- construction ---------------------------------------------------------
    def _add_input(self, var: Variable):
        self.inputs.append(var)
        self.variables.add(var)
        self.clients.setdefault(var, [])

    def add_input(self, var: Variable):
        if var not in self.variables:
            self._add_input(var)

    def _import_var(self, var: Variable):
        if var in self.variables:
            return
        if var.owner is None:
            if not isinstance(var, Constant) and var not in self.inputs and not getattr(var.tag, "implicit_ok", False):
                from ..graph.sourceline import format_line

                raise MissingInputError(
                    f"the graph needs the value of {var} ({var.type}), created at "
                    f"{format_line(getattr(var.tag, 'trace', None))}, but it is not among the "
                    "function's inputs and is not shared")
            self.variables.add(var)
            self.clients.setdefault(var, [])
            return
        self._import_node(var.owner)

    def _import_node(self, node: Apply):
        """Add `node` and whatever it needs that the graph does not have yet, inputs first."""
        for new in self._missing_nodes(node):
            for i in new.inputs:
                if i not in self.variables and i.owner is None:
                    self._import_var(i)
            for pos, i in enumerate(new.inputs):
                self.clients.setdefault(i, []).append((new, pos))
            self.apply_nodes.add(new)
            for o in new.outputs:
                self.variables.add(o)
                self.clients.setdefault(o, [])
            for f in self.features:
                if hasattr(f, "on_import"):
                    f.on_import(self, new)

    def _missing_nodes(self, node: Apply) -> list[Apply]:
        """Nodes not yet in the graph that `node` depends on (and itself), in dependency order.

        The walk stops at variables the graph already has, so importing costs what
        is new, not the size of the graph.
        """
        order: list[Apply] = []
        done: set = set()
        stack = [(node, False)]
        while stack:
            n, expanded = stack.pop()
            if n in done or n in self.apply_nodes:
                continue
            if expanded:
                done.add(n)
                order.append(n)
                continue
            stack.append((n, True))
            for i in n.inputs:
                if i.owner is not None and i not in self.variables and i.owner not in done:
                    stack.append((i.owner, False))
        return order

    # -- editing ---------------------------------------------------------------
    def change_input(self, node, i: int, new_var: Variable, reason: str | None = None):
        if node == OUTPUT:
            old = self.outputs[i]
            if old is new_var:
                return
            self._import_var(new_var)
            self.outputs[i] = new_var
            self.clients[old].remove((OUTPUT, i))
            self.clients[new_var].append((OUTPUT, i))
        else:
            old = node.inputs[i]
            if old is new_var:
                return
            if old.type != new_var.type and not _compatible(old.type, new_var.type):
                raise TypeError(f"cannot replace {old} ({old.type}) by {new_var} ({new_var.type})")
            self._import_var(new_var)
            node.inputs[i] = new_var
            for key in [k for k in node.__dict__ if k.startswith("_cache_")]:
                del node.__dict__[key]  # facts an op derived from the old inputs
            self.clients[old].remove((node, i))
            self.clients[new_var].append((node, i))
        for f in self.features:
            if hasattr(f, "on_change_input"):
                f.on_change_input(self, node, i, old, new_var, reason)
        self._prune_if_unused(old)

    def replace(self, var: Variable, new_var: Variable, reason: str | None = None):
        """Make every client of `var` use `new_var` instead."""
        if var is new_var:
            return
        if var not in self.variables:
            return
        for node, i in list(self.clients.get(var, [])):
            self.change_input(node, i, new_var, reason)

    def replace_all(self, pairs, reason: str | None = None):
        for var, new_var in pairs:
            self.replace(var, new_var, reason)

    def _prune_if_unused(self, var: Variable):
        """Drop `var`'s node (and, transitively, its inputs' nodes) once nothing uses them."""
        worklist = [var]
        while worklist:
            var = worklist.pop()
            if self.clients.get(var) or var in self.inputs:
                continue
            node = var.owner
            if node is None:
                if var in self.variables and isinstance(var, Constant):
                    self.variables.discard(var)
                    self.clients.pop(var, None)
                continue
            if node not in self.apply_nodes or any(self.clients.get(o) for o in node.outputs):
                continue
            self.apply_nodes.discard(node)
            for o in node.outputs:
                self.variables.discard(o)
                self.clients.pop(o, None)
            for f in self.features:
                if hasattr(f, "on_prune"):
                    f.on_prune(self, node)
            for pos, i in enumerate(node.inputs):
                if (node, pos) in self.clients.get(i, []):
                    self.clients[i].remove((node, pos))
                worklist.append(i)

    # -- features ----------------------------------------------------------------
    def attach_feature(self, feature):
        self.features.append(feature)
        if hasattr(feature, "on_attach"):
            feature.on_attach(self)

    def remove_feature(self, feature):
        self.features.remove(feature)
        if hasattr(feature, "on_detach"):
            feature.on_detach(self)

    # -- queries -----------------------------------------------------------------
    def toposort(self) -> list[Apply]:
        """Nodes in an order that computes inputs first and respects in-place orderings."""
        order = io_toposort(self.inputs, self.outputs)
        handler = getattr(self, "destroy_handler", None)
        if handler is None:
            return order
        extra = handler.orderings(self)
        if not extra:
            return order
        return _order_with_constraints(order, extra)

    def get_clients(self, var: Variable) -> list:
        return self.clients.get(var, [])

    def __str__(self):
        return f"FunctionGraph({', '.join(map(str, self.outputs))})"

    def clone(self) -> "FunctionGraph":
        return FunctionGraph(self.inputs, self.outputs, clone=True)


def _order_with_constraints(order: list, extra: dict) -> list:
    """Kahn's algorithm over data edges plus `extra` {node: must-run-before nodes}, stable."""
    import heapq

    position = {node: k for k, node in enumerate(order)}
    deps = {node: {i.owner for i in node.inputs if i.owner in position} | (extra.get(node, set()) & position.keys())
            for node in order}
    users: dict = {node: [] for node in order}
    for node, ds in deps.items():
        for d in ds:
            users[d].append(node)
    waiting = {node: len(ds) for node, ds in deps.items()}
    ready = [position[n] for n, c in waiting.items() if c == 0]
    heapq.heapify(ready)
    result = []
    while ready:
        node = order[heapq.heappop(ready)]
        result.append(node)
        for u in users[node]:
            waiting[u] -= 1
            if waiting[u] == 0:
                heapq.heappush(ready, position[u])
    if len(result) != len(order):
        stuck = [n for n in order if waiting[n] > 0]
        conflicts = [f"{d.op} (built at {d.outputs[0].creation_line}) overwrites memory that "
                     f"{', '.join(str(r.op) for r in extra[d] if r in stuck)} must read first"
                     for d in extra if d in stuck]
        raise InconsistencyError("in-place operations cannot be ordered: " + "; ".join(conflicts or map(str, stuck)))
    return result


class MissingInputError(ValueError):
    """The outputs depend on a free variable the function was not given."""


def _compatible(old_type, new_type) -> bool:
    conv = getattr(old_type, "is_super", None)
    return bool(conv and conv(new_type))
