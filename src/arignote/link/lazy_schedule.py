"""The evaluation order of a graph with lazy nodes (ifelse): what runs always, what only in a branch.

`lazy_schedule(fgraph)` returns a list of steps in topological order: an
Apply node to run, or a `Branch` for a lazy node, which evaluates its
condition's value and then runs only the steps of the chosen branch (and
sets the lazy node's outputs). Both backends execute this one schedule (the
reference VM in link/vm.py, the native program in link/numba/program.py), so
they compute exactly the same nodes.

A node both branches need runs before the branch; a node one branch needs
runs inside it. In-place operations constrain this: a node that overwrites
memory must run at most once per call, and every other reader of that
memory must run before it (the destroy handler's orderings). A branch that
would break either rule gives up the node concerned: it runs
unconditionally, before the branch.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Branch:
    """A lazy node: run `steps[truth]` for the truth of its input 0, then set its outputs."""

    node: object
    steps: dict = field(default_factory=dict)  # {True: [...], False: [...]}

    def chosen(self, truth: bool) -> list:
        """The node's inputs that the branch `truth` returns."""
        return [self.node.inputs[k] for k in self.node.op.chosen_inputs(truth)]


def is_lazy(node) -> bool:
    return getattr(node.op, "lazy", False)


def lazy_schedule(fgraph, order=None) -> list:
    """The steps that evaluate `fgraph` (its toposort `order` when given), branches included."""
    order = fgraph.toposort() if order is None else order
    return _Scheduler(fgraph, order).schedule()


def _exclusive(region_a: tuple, region_b: tuple) -> bool:
    """Can no call run both regions? True when they part at one lazy node, on its two branches."""
    for (node_a, truth_a), (node_b, truth_b) in zip(region_a, region_b):
        if node_a is not node_b:
            return False
        if truth_a != truth_b:
            return True
    return False


class _Scheduler:
    def __init__(self, fgraph, order):
        self.fgraph = fgraph
        self.position = {node: pos for pos, node in enumerate(order)}

    def schedule(self) -> list:
        return self._walk(self._unconditional())[0]

    def _roots(self, forced) -> list:
        return list(self.fgraph.outputs) + [v for node in forced for v in node.outputs]

    def _needed(self, roots, available) -> list:
        """The nodes `roots` need that `available` lacks (a lazy node needs only its condition first), in order."""
        seen = set()
        stack = [v.owner for v in roots if v.owner is not None]
        while stack:
            node = stack.pop()
            if node in seen or node in available:
                continue
            seen.add(node)
            inputs = node.inputs[:1] if is_lazy(node) else node.inputs
            stack.extend(v.owner for v in inputs if v.owner is not None)
        return sorted(seen, key=self.position.__getitem__)

    def _walk(self, forced) -> tuple[list, dict]:
        """The steps computing the outputs (and the `forced` nodes unconditionally), and
        {node: the regions that compute it}.

        A region is the path of branches that leads to it: ((lazy node, branch taken), ...); () is
        the unconditional one.
        """
        placed: dict = {}

        def steps(roots, available, region) -> list:
            nodes = self._needed(roots, available)
            inner = available | set(nodes)
            out = []
            for node in nodes:
                placed.setdefault(node, []).append(region)
                if is_lazy(node):
                    branch = Branch(node)
                    for truth in True, False:
                        branch.steps[truth] = steps(branch.chosen(truth), inner, region + ((node, truth),))
                    out.append(branch)
                else:
                    out.append(node)
            return out

        return steps(self._roots(forced), frozenset(), ()), placed

    def _unconditional(self) -> set:
        """The nodes that in-place safety takes out of branches (see the module docstring).

        A reader that must run before an overwriting node may run in that
        node's region, in one enclosing it, or in a branch exclusive of it.
        """
        if not any(is_lazy(node) for node in self.position):
            return set()
        handler = getattr(self.fgraph, "destroy_handler", None)
        must_precede = handler.orderings(self.fgraph) if handler is not None else {}
        forced: set = set()
        while True:
            placed = self._walk(forced)[1]
            more = {node for node, regions in placed.items() if getattr(node.op, "destroy_map", None)
                    and any(not _exclusive(a, b) for k, a in enumerate(regions) for b in regions[k + 1:])}
            for destroyer, readers in must_precede.items():
                for reader in readers:
                    if any(not (r == d[:len(r)] or _exclusive(r, d))
                           for r in placed.get(reader, ()) for d in placed.get(destroyer, ())):
                        more.add(reader)
            if more <= forced:
                return forced
            forced |= more
