"""The reference backend: run each node's NumPy `perform` in topological order.

Every value lives in a one-element list (a storage cell). Inputs' cells are
given by the caller (shared variables' cells are their own storage), so
nothing is copied on the way in. An intermediate's cell is cleared as soon
as its last user has run, so peak memory is what the graph needs, not the
sum of all intermediates.
"""
from __future__ import annotations

from typing import Callable, Sequence

from ..graph.basic import Constant, Variable
from ..graph.fg import OUTPUT, FunctionGraph
from .lazy_schedule import Branch, lazy_schedule


def _describe_value(v) -> str:
    shape = getattr(v, "shape", None)
    dtype = getattr(v, "dtype", None)
    if shape is not None:
        return f"{dtype}{list(shape)}"
    return type(v).__name__


class VMLinker:
    """Build a zero-argument callable that evaluates a FunctionGraph."""

    name = "vm"

    def __init__(self, allow_gc: bool = True, profile=None):
        self.allow_gc = allow_gc
        self.profile = profile

    def make_runner(self, fgraph: FunctionGraph, input_cells: Sequence[list]) -> tuple[Callable, list[list]]:
        """Return (run, output_cells): run() fills output_cells from input_cells."""
        storage: dict[Variable, list] = {}
        for var, cell in zip(fgraph.inputs, input_cells):
            storage[var] = cell
        order = fgraph.toposort()
        for node in order:
            for v in node.inputs:
                if v not in storage:
                    storage[v] = [v.data] if isinstance(v, Constant) else [None]
            for v in node.outputs:
                storage[v] = [None]
        for v in fgraph.outputs:
            if v not in storage:
                storage[v] = [v.data] if isinstance(v, Constant) else [None]
        keep = set(fgraph.inputs) | set(fgraph.outputs)
        last_use = {}
        for pos, node in enumerate(order):
            for v in node.inputs:
                last_use[v] = pos
        steps = []
        for pos, node in enumerate(order):
            dead = []
            if self.allow_gc:
                dead = [storage[v] for v in dict.fromkeys(node.inputs)
                        if last_use.get(v) == pos and v not in keep and not isinstance(v, Constant)]
            steps.append((node.op.perform, node, [storage[v] for v in node.inputs],
                          [storage[v] for v in node.outputs], dead))
        output_cells = [storage[v] for v in fgraph.outputs]
        if any(getattr(node.op, "lazy", False) for node in order):
            return _lazy_runner(fgraph, order, storage, set(fgraph.inputs)), output_cells
        profile = self.profile

        if profile is not None:
            return self._profiled_runner(steps, profile), output_cells

        def run():
            for perform, node, in_cells, out_cells, dead in steps:
                try:
                    perform(node, [c[0] for c in in_cells], out_cells)
                except Exception as e:
                    _annotate(e, node, in_cells)
                    raise
                for cell in dead:
                    cell[0] = None

        return run, output_cells

    @staticmethod
    def _profiled_runner(steps, profile):
        import time

        def run():
            for perform, node, in_cells, out_cells, dead in steps:
                t0 = time.perf_counter()
                try:
                    perform(node, [c[0] for c in in_cells], out_cells)
                except Exception as e:
                    _annotate(e, node, in_cells)
                    raise
                profile.record(node, time.perf_counter() - t0)
                for cell in dead:
                    cell[0] = None

        return run


def _lazy_runner(fgraph, order, storage, given):
    """Run the lazy schedule (link/lazy_schedule.py), so a lazy op's untaken branch never runs.

    A lazy op (ifelse) evaluates its input 0, then the steps of the branch
    `op.chosen_inputs(value)` names; its outputs are those inputs' values.
    """
    schedule = lazy_schedule(fgraph, order)
    intermediates = [v for node in order for v in node.outputs if v not in given]

    def run_steps(steps):
        for step in steps:
            if isinstance(step, Branch):
                node = step.node
                truth = bool(storage[node.inputs[0]][0])
                run_steps(step.steps[truth])
                for out, value in zip(node.outputs, step.chosen(truth)):
                    v = storage[value][0]
                    storage[out][0] = v if node.op.as_view else v.copy()
                continue
            in_cells = [storage[i] for i in step.inputs]
            try:
                step.op.perform(step, [c[0] for c in in_cells], [storage[o] for o in step.outputs])
            except Exception as e:
                _annotate(e, step, in_cells)
                raise

    def run():
        for v in intermediates:  # nothing of an earlier call's branches survives
            storage[v][0] = None
        run_steps(schedule)

    return run


def _annotate(exc: Exception, node, in_cells) -> None:
    """Say which node failed, on what, and where the user built it."""
    if getattr(exc, "_arignote_annotated", False):
        return
    exc._arignote_annotated = True
    inputs = ", ".join(f"{v}: {_describe_value(c[0])}" for v, c in zip(node.inputs, in_cells))
    exc.add_note(f"While computing {node.op} on ({inputs}).\n"
                 f"That expression was built at {node.outputs[0].creation_line}")


__all__ = ["VMLinker", "OUTPUT"]
