"""Keep only the steps a loop's users read: `result[-1]` needs one state, not n_steps.

When every client of a recurrent or per-step output indexes it with a constant
negative integer (`result[-1]`, `result[-2]`), the loop is rebuilt to keep
only that many of its newest values, so memory stays flat in the number of
steps.
"""
from __future__ import annotations

from .op import Scan


def _steps_needed(fgraph, var) -> int | None:
    """The newest values `var`'s clients read, if all of them index it from the end."""
    from ..tensor.subtensor import Subtensor

    needed = 0
    clients = fgraph.clients.get(var, [])
    if not clients:
        return None
    for node, _ in clients:
        if node == "output" or not isinstance(node.op, Subtensor) or node.inputs[0] is not var:
            return None
        first = node.op.idx_list[0] if node.op.idx_list else None
        if not isinstance(first, int) or first >= 0:
            return None
        needed = max(needed, -first)
    return needed


def save_memory(fgraph) -> int:
    """Rewrite the Scan nodes of `fgraph` to keep only what is read; return how many changed."""
    changed = 0
    for node in list(fgraph.toposort()):
        if not isinstance(node.op, Scan) or node not in fgraph.apply_nodes:
            continue
        spec = node.op.spec
        keep = list(spec.keep)
        for k in range(spec.n_rec + spec.n_nitsot):
            if keep[k] is not None:
                continue
            needed = _steps_needed(fgraph, node.outputs[k])
            if needed:
                keep[k] = needed
        if tuple(keep) == spec.keep:
            continue
        new_outputs = node.op.with_spec(keep=tuple(keep))(*node.inputs)
        new_outputs = new_outputs if isinstance(new_outputs, list) else [new_outputs]
        for old, new in zip(node.outputs, new_outputs):
            if fgraph.clients.get(old):
                fgraph.replace(old, new, reason="scan_save_memory")
        changed += 1
    return changed
