"""Which op classes the Numba backend lowers, and how.

A lowering is a function `lower(ctx)` registered for one or more op classes;
it writes the node's Numba code through the `NodeContext` it is handed (see
context.py) or raises `NotLowerable`, and the node then runs its NumPy
`perform` between native segments. Lookup follows the op's class hierarchy,
so a subclass inherits its parent's lowering unless it registers its own.
"""
from __future__ import annotations

from typing import Callable


class NotLowerable(Exception):
    """This node has no native lowering (or none for these types): it runs its NumPy perform."""


_LOWERINGS: dict[type, Callable] = {}


def lowers(*op_classes: type) -> Callable:
    """Register the decorated function as the lowering of `op_classes`."""

    def register(fn: Callable) -> Callable:
        for cls in op_classes:
            _LOWERINGS[cls] = fn
        return fn

    return register


def find_lowering(op) -> Callable | None:
    for cls in type(op).__mro__:
        fn = _LOWERINGS.get(cls)
        if fn is not None:
            return fn
    return None
