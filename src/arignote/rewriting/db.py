"""The rewrite database: every rewrite, registered once with its phase and tags.

A Mode's optimizer name picks the tags (`fast_run`: everything; `fast_compile`:
the rewrites tagged fast_compile; `merge`: merging only; None: nothing), and
`optimizer_including` / `optimizer_excluding` add or remove tags or names.
Phases run in order; the node rewriters of a phase run to equilibrium.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .engine import EquilibriumRewriter, GraphRewriter, NodeRewriter, SequenceRewriter

#: phases in the order they run: (name, kind) — node phases run their rewriters to equilibrium
PHASES = ("merge", "canonicalize", "stabilize", "specialize", "scan", "fusion", "inplace", "final_merge")


@dataclass
class Entry:
    name: str
    rewriter: object  # NodeRewriter or GraphRewriter
    phase: str
    tags: frozenset = field(default_factory=frozenset)


class RewriteDatabase:
    def __init__(self):
        self.entries: list[Entry] = []

    def register(self, rewriter, phase: str, *tags: str, name: str | None = None):
        """Add a node or graph rewriter to `phase`; the phase name is a tag too."""
        if phase not in PHASES:
            raise ValueError(f"unknown phase {phase!r}; phases are {', '.join(PHASES)}")
        name = name or rewriter.name
        if any(e.name == name for e in self.entries):
            raise ValueError(f"a rewrite named {name!r} is already registered")
        self.entries.append(Entry(name, rewriter, phase, frozenset((phase, "fast_run", *tags))))
        return rewriter

    def names(self) -> list[str]:
        return [e.name for e in self.entries]

    def select(self, optimizer: str | None, including=(), excluding=()) -> list[Entry]:
        if optimizer in (None, "None"):
            wanted = set(including)
        elif optimizer == "merge":
            wanted = {"merge"} | set(including)
        elif optimizer == "fast_compile":
            wanted = {"fast_compile"} | set(including)
        else:
            wanted = {"fast_run"} | set(including)
        excluded = set(excluding)
        return [e for e in self.entries
                if (e.tags & wanted or e.name in wanted) and not (e.tags & excluded or e.name in excluded)]

    def query(self, optimizer: str | None, including=(), excluding=()) -> SequenceRewriter:
        """The rewriters `optimizer` selects, grouped into phases, in order."""
        chosen = self.select(optimizer, including, excluding)
        steps = []
        for phase in PHASES:
            in_phase = [e for e in chosen if e.phase == phase]
            node_rewriters = [e.rewriter for e in in_phase if isinstance(e.rewriter, NodeRewriter)]
            graph_rewriters = [e.rewriter for e in in_phase if isinstance(e.rewriter, GraphRewriter)]
            if node_rewriters:
                steps.append(EquilibriumRewriter(node_rewriters, name=phase))
            steps.extend(graph_rewriters)
        return SequenceRewriter(steps, name=f"optimizer={optimizer}")


#: the one database every rewrite module registers into
rewrites = RewriteDatabase()


def register(phase: str, *tags: str, name: str | None = None):
    """Decorator form: `@register('canonicalize', 'fast_compile')` above a NodeRewriter."""

    def wrap(rewriter):
        return rewrites.register(rewriter, phase, *tags, name=name)

    return wrap
