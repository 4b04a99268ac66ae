"""Graph rewriting: the hook through which a Mode's rewrites edit a FunctionGraph.

No rewrite is registered yet: compiled graphs run as the user wrote them.
"""
from __future__ import annotations


def rewrite_graph(fgraph, mode) -> None:
    """Rewrite `fgraph` in place with the rewrites `mode` selects (none registered yet)."""
    return None
