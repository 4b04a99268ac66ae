"""Graph rewriting: the hook through which a Mode's rewrites edit a FunctionGraph.

Only scan's memory rule is registered so far (a loop whose users read only
its last steps keeps only those); the rewrite engine comes with its own issue.
"""
from __future__ import annotations


def rewrite_graph(fgraph, mode) -> None:
    """Rewrite `fgraph` in place with the rewrites `mode` selects."""
    from ..scan.save_mem import save_memory

    save_memory(fgraph)
