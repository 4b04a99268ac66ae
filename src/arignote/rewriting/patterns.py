"""Declarative rewrites: `(mul, 'x', 1) -> 'x'` written as data.

A pattern is a tuple `(op, *arguments)`; `op` is a `T` function (`T.mul`), a
scalar-table name (`'mul'`), an Op instance or an Op class. An argument is a
name (binds any variable; a name used twice must bind the same variable), a
number (matches a constant whose every element equals it, looking through
the broadcasting DimShuffles `make_node` adds), or a nested pattern.
Commutative binary ops also match with their arguments swapped.
"""
from __future__ import annotations

import numbers
from typing import Callable

import numpy as np

from ..graph.basic import Constant, Op, Variable
from .engine import NodeRewriter


def constant_value(var: Variable):
    """The single value every element of `var` holds, if it is a constant (else None)."""
    from ..tensor.elemwise import DimShuffle, Elemwise
    from ..tensor.shape_ops import Alloc

    while var.owner is not None:  # rearranging or broadcasting a uniform constant keeps it uniform
        op = var.owner.op
        if isinstance(op, (DimShuffle, Alloc)):
            var = var.owner.inputs[0]
        elif isinstance(op, Elemwise) and op.scalar_fn.name == "second":
            var = var.owner.inputs[1]
        else:
            return None
    if not isinstance(var, Constant):
        return None
    data = np.asarray(var.data)
    if data.size == 0:
        return None
    first = data.reshape(-1)[0]
    if data.size > 1 and not np.all(data == first):
        return None
    return first.item() if hasattr(first, "item") else first


def _op_matches(spec, op) -> bool:
    fn = getattr(op, "scalar_fn", None)
    if isinstance(spec, str):
        return fn is not None and fn.name == spec and getattr(op, "out_dtype", None) is None
    if hasattr(spec, "op") and isinstance(spec.op, Op):  # a T function such as T.mul
        return op == spec.op
    if isinstance(spec, type):
        return isinstance(op, spec)
    return op == spec


def _is_commutative(op) -> bool:
    fn = getattr(op, "scalar_fn", None)
    return bool(fn and fn.commutative)


def match(pattern, var: Variable, bindings: dict) -> dict | None:
    """Bindings that make `pattern` match `var`, extending `bindings` (or None)."""
    if isinstance(pattern, str):
        bound = bindings.get(pattern)
        if bound is None:
            return {**bindings, pattern: var}
        return bindings if bound is var else None
    if isinstance(pattern, (numbers.Number, np.number)) and not isinstance(pattern, bool):
        value = constant_value(var)
        return bindings if value is not None and value == pattern else None
    if not isinstance(pattern, tuple) or not pattern:
        raise TypeError(f"bad pattern element {pattern!r}")
    node = var.owner
    if node is None or not _op_matches(pattern[0], node.op):
        return None
    args = pattern[1:]
    if len(args) != len(node.inputs):
        return None
    orders = [node.inputs]
    if len(args) == 2 and _is_commutative(node.op):
        orders.append(node.inputs[::-1])
    for inputs in orders:
        found = bindings
        for sub, inp in zip(args, inputs):
            found = match(sub, inp, found)
            if found is None:
                break
        if found is not None:
            return found
    return None


def build(template, bindings: dict) -> Variable:
    """Build the replacement described by `template` from the bound variables."""
    from .. import tensor as T

    if isinstance(template, str):
        return bindings[template]
    if isinstance(template, (numbers.Number, np.number)):
        return T.constant(template)
    if isinstance(template, tuple):
        fn = template[0]
        args = [build(t, bindings) for t in template[1:]]
        if isinstance(fn, str):
            return getattr(T, fn)(*args)
        return fn(*args)
    raise TypeError(f"bad template element {template!r}")


def _fits(old: Variable, new: Variable) -> bool:
    """`new` can replace `old`: same dtype and rank, and it broadcasts nowhere `old` doesn't."""
    if getattr(new.type, "dtype", None) != getattr(old.type, "dtype", None):
        return False
    if getattr(new.type, "ndim", None) != getattr(old.type, "ndim", None):
        return False
    return all(not (n == 1 and o != 1) for n, o in zip(new.type.shape, old.type.shape))


class PatternRewriter(NodeRewriter):
    """Replace what matches `in_pattern` by `out` (a template, or a function of the bindings)."""

    def __init__(self, in_pattern: tuple, out, name: str | None = None,
                 constraint: Callable[[dict], bool] | None = None):
        self.in_pattern = in_pattern
        self.out = out
        self.constraint = constraint
        head = in_pattern[0]
        tracks = [head] if isinstance(head, str) else [getattr(head, "op", head)]
        super().__init__(self._transform, tracks, name or f"pattern{in_pattern}")

    def _transform(self, fgraph, node):
        if len(node.outputs) != 1:
            return None
        bindings = match(self.in_pattern, node.outputs[0], {})
        if bindings is None or (self.constraint is not None and not self.constraint(bindings)):
            return None
        new = self.out(**bindings) if callable(self.out) and not isinstance(self.out, tuple) else build(self.out, bindings)
        if new is None or not _fits(node.outputs[0], new):
            return None
        return [new]
