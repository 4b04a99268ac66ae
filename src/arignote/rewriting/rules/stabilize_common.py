"""Matching helpers shared by the stabilize rewrites.

The stabilize phase runs after canonicalize, whose exact output forms are
not fixed here, so every matcher accepts the usual spellings of the same
expression: `-y` as `neg(y)` or `mul(-1, y)`, `c + y` as `add(c, y)` (in any
argument position, with any number of other terms) or `sub(c, -y)`.
"""
from __future__ import annotations

from ...graph.basic import Variable
from ..patterns import constant_value


def ew_name(var: Variable) -> str | None:
    """The scalar function's name if `var` is the output of a plain Elemwise (not a cast)."""
    from ...tensor.elemwise import Elemwise

    node = var.owner
    if node is None or not isinstance(node.op, Elemwise) or node.op.out_dtype is not None:
        return None
    return node.op.scalar_fn.name


def is_const(var: Variable, value) -> bool:
    """Every element of `var` is the constant `value`."""
    v = constant_value(var)
    return v is not None and not isinstance(v, (bool, str)) and v == value


def is_float(var: Variable) -> bool:
    return getattr(var.type, "dtype", "").startswith("float")


def same_kind(a: Variable, b: Variable) -> bool:
    """`b` can stand wherever `a` stands: same dtype and same broadcast pattern."""
    return a.type.dtype == b.type.dtype and a.type.broadcastable == b.type.broadcastable


def fits(old: Variable, new: Variable) -> bool:
    """`new` may replace `old`: same dtype and rank, and no broadcasting `old` does not do."""
    if getattr(new.type, "dtype", None) != getattr(old.type, "dtype", None):
        return False
    if getattr(new.type, "ndim", None) != getattr(old.type, "ndim", None):
        return False
    return all(not (n == 1 and o != 1) for n, o in zip(new.type.shape, old.type.shape))


def finish(old: Variable, new: Variable | None):
    """`[new]` for a node rewriter's return, or None when `new` cannot replace `old`."""
    if new is None or not fits(old, new):
        return None
    return [new]


def as_dtype(var: Variable, dtype: str) -> Variable:
    """`var` cast to `dtype` (itself when it has it already)."""
    from ... import tensor as T

    return var if var.type.dtype == dtype else T.cast(var, dtype)


def strip_neg(var: Variable) -> tuple[Variable, bool]:
    """(base, negated): `var == -base` when negated, else `var == base`.

    Looks through `neg` and `mul(-1, y)` (any number of them); a step that
    would change the dtype or the broadcast pattern is not taken.
    """
    negated = False
    while True:
        name = ew_name(var)
        inner = None
        if name == "neg":
            inner = var.owner.inputs[0]
        elif name == "mul" and len(var.owner.inputs) == 2:
            a, b = var.owner.inputs
            inner = b if is_const(a, -1) else a if is_const(b, -1) else None
        if inner is None or not same_kind(var, inner):
            return var, negated
        var, negated = inner, not negated


def negate(var: Variable) -> Variable:
    """`-var`, without stacking negations: `negate(-y)` is `y` itself."""
    from ... import tensor as T

    base, negated = strip_neg(var)
    return base if negated else T.neg(var)


def plus_const(var: Variable, c) -> Variable | None:
    """`rest` with `var == c + rest`, or None; `rest` has `var`'s dtype.

    Matches `add(..., c, ...)` (the other terms summed), `sub(c, y)` (rest
    `-y`) and `sub(y, -c)`. Only for float results: with integers the naive
    form is exact already, and wrapping around would differ.
    """
    from ... import tensor as T

    name = ew_name(var)
    if name not in ("add", "sub") or not is_float(var):
        return None
    ins = var.owner.inputs
    rest = None
    if name == "add" and len(ins) >= 2:
        for i, v in enumerate(ins):
            if is_const(v, c):
                others = ins[:i] + ins[i + 1:]
                rest = others[0] if len(others) == 1 else T.add(*others)
                break
    elif name == "sub":
        a, b = ins
        if is_const(a, c):
            rest = negate(b)
        elif is_const(b, -c):
            rest = a
    if rest is None:
        return None
    if not (is_float(rest) or rest.type.dtype.startswith(("int", "uint", "bool"))):
        return None  # complex: leave alone
    return as_dtype(rest, var.type.dtype)


def elem_arg(var: Variable, name: str) -> Variable | None:
    """`x` if `var` is `name(x)` for a unary elementwise function `name`, else None."""
    if ew_name(var) == name:
        return var.owner.inputs[0]
    return None
