"""Per-node timing of compiled functions (`profile=True` or the `profile` flag)."""
from __future__ import annotations

import atexit
from collections import defaultdict


class ProfileStats:
    """Time spent in each node and each op class, over all calls of a function."""

    _all: list = []

    def __init__(self, name: str | None = None):
        self.name = name or "<unnamed function>"
        self.node_time: dict = defaultdict(float)
        self.node_calls: dict = defaultdict(int)
        ProfileStats._all.append(self)

    def record(self, node, seconds: float) -> None:
        self.node_time[node] += seconds
        self.node_calls[node] += 1

    def op_time(self) -> dict:
        by_op: dict = defaultdict(float)
        for node, t in self.node_time.items():
            by_op[type(node.op).__name__] += t
        return dict(by_op)

    def summary(self, n_ops_to_print: int = 20) -> str:
        total = sum(self.node_time.values()) or 1e-12
        lines = [f"Function profiling: {self.name}", f"  time in nodes: {total:.6f}s",
                 "  <% time> <seconds> <op class>"]
        for op, t in sorted(self.op_time().items(), key=lambda kv: -kv[1])[:n_ops_to_print]:
            lines.append(f"  {100 * t / total:6.1f}%  {t:.6f}s  {op}")
        lines.append("  <% time> <seconds> <calls> <node>")
        for node, t in sorted(self.node_time.items(), key=lambda kv: -kv[1])[:n_ops_to_print]:
            lines.append(f"  {100 * t / total:6.1f}%  {t:.6f}s  {self.node_calls[node]:6d}  {node}")
        return "\n".join(lines)


@atexit.register
def _print_profiles_at_exit():
    from ..config import config

    if config.profile:
        for stats in ProfileStats._all:
            if stats.node_calls:
                print(stats.summary())
