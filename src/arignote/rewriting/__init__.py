"""Graph rewriting: the engine, the database of rewrites, and the entry point for compiling.

`rewrite_graph(fgraph, mode)` applies the rewrites the mode's optimizer
selects (see `db.RewriteDatabase.select`) and records what fired in
`fgraph.rewrite_trace` and how long each phase took in `fgraph.rewrite_timings`.
"""
from __future__ import annotations

from .db import PHASES, RewriteDatabase, register, rewrites  # noqa: F401
from .engine import (EquilibriumRewriter, GraphRewriter, NodeRewriter, RewriteError, RewriteTrace,  # noqa: F401
                     SequenceRewriter, WalkingRewriter, graph_rewriter, node_rewriter, trace_of)


def _split_tags(text: str) -> list[str]:
    return [t for t in (text or "").split(":") if t]


def _tags(mode) -> tuple[list[str], list[str]]:
    """The tags `mode` and the config flags include and exclude."""
    from ..config import config

    including = [*_split_tags(config.optimizer_including), *getattr(mode, "include_tags", ())]
    excluding = [*_split_tags(config.optimizer_excluding), *getattr(mode, "exclude_tags", ())]
    return including, excluding


def selected_rewrites(mode) -> list[str]:
    """The names of the rewrites `mode` runs, in registration order (what a rewritten graph depends on)."""
    from . import rules  # noqa: F401  (registers every rewrite)

    return [e.name for e in rewrites.select(mode.optimizer, *_tags(mode))]


def rewrite_graph(fgraph, mode) -> None:
    """Rewrite `fgraph` in place with the rewrites `mode` selects."""
    from ..config import config
    from . import rules  # noqa: F401  (registers every rewrite)

    pipeline = rewrites.query(mode.optimizer, *_tags(mode))
    trace_of(fgraph)
    pipeline.apply(fgraph, on_error=config.on_opt_error)
    fgraph.rewrite_timings = pipeline.timings
