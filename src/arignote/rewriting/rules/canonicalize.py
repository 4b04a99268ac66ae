"""Canonical forms of sums and products, and the helpers every canonicalisation shares.

Nested sums and products become one n-ary node (`(a + b) + c -> add(a, b, c)`),
their constant operands are combined (`(x + 1) + 2 -> x + 3`,
`2 * (x * 3) -> 6 * x`) and neutral ones dropped (`x * 1 -> x`, `x + 0 -> x`).
An integer product with a zero factor is zeros of its shape; float ones are
left alone (`x * 0` is nan where x is nan or inf).

Every replacement keeps the dtype and broadcasting of what it replaces: an
operand whose dtype differs from the result is cast (`int * 1.0` is float),
and a replacement that would broadcast where the original did not is refused.

Importing this module also registers the rules of `algebra` (powers,
exp/log, division, negation, dimshuffle/reshape chains) and `useless`
(casts, dimshuffles, indexings, allocations that change nothing).
"""
from __future__ import annotations

import functools

import numpy as np

from ...graph.basic import Constant, Variable
from ...tensor.type import TensorType
from ..db import register
from ..engine import node_rewriter
from .constant_fold import constant_data

# --------------------------------------------------------------------------------------------------
# helpers shared by the canonicalisation modules


def elemwise_name(node) -> str | None:
    """The scalar function's name of a plain Elemwise node (not a cast), else None."""
    from ...tensor.elemwise import Elemwise

    if node is None or not isinstance(node.op, Elemwise) or node.op.out_dtype is not None:
        return None
    return node.op.scalar_fn.name


def owner_name(var) -> str | None:
    """elemwise_name of the node computing `var`."""
    return elemwise_name(var.owner)


def fits(old: Variable, new: Variable) -> bool:
    """`new` has old's dtype and rank and broadcasts nowhere `old` does not."""
    if not isinstance(new.type, TensorType) or not isinstance(old.type, TensorType):
        return False
    if new.type.dtype != old.type.dtype or new.type.ndim != old.type.ndim:
        return False
    return all(not (n == 1 and o != 1) for n, o in zip(new.type.shape, old.type.shape))


def stand_in(old: Variable, new: Variable) -> Variable | None:
    """`new` (whose value equals old's) typed exactly as `old` may be used; None if impossible.

    Where new knows less of its static shape, or would broadcast where old
    does not (a length that is 1 only by chance), it is wrapped in a
    SpecifyShape giving it old's static shape (which also keeps old's
    run-time length check).
    """
    from ...tensor.shape_ops import specify_shape

    if new.type == old.type:
        return new
    if not isinstance(new.type, TensorType) or new.type.dtype != old.type.dtype or new.type.ndim != old.type.ndim:
        return None
    if old.type.is_super(new.type) and fits(old, new):
        return new
    try:
        return specify_shape(new, old.type.shape)
    except (TypeError, ValueError):
        return None


def cast_to(var: Variable, dtype: str) -> Variable:
    from ...tensor.math import cast

    return var if var.dtype == dtype else cast(var, dtype)


def uniform_value(var):
    """The single value every element of `var` holds, if that is known at compile time (else None).

    Looks through what keeps a constant uniform: dimshuffles, `alloc(c, ...)` and
    `second(x, c)` (a constant filled to some shape).
    """
    from ..patterns import constant_value

    return constant_value(var)


def is_discrete(dtype: str) -> bool:
    return np.dtype(dtype).kind in "biu"


def int64_constant(value: int) -> Variable:
    from ...tensor.variable import constant

    return constant(np.asarray(value, dtype=np.int64))


# --------------------------------------------------------------------------------------------------
# sums and products

_NEUTRAL = {"add": 0, "mul": 1}


def _rebuild(node, inputs) -> Variable:
    """The same n-ary add/mul over `inputs` (one input: that input)."""
    return node.op(*inputs) if len(inputs) > 1 else inputs[0]


@register("canonicalize")
@node_rewriter(["add", "mul"], name="flatten_add_mul")
def flatten_add_mul(fgraph, node):
    """`add(add(a, b), c) -> add(a, b, c)` (and mul), where the inner result has no other use.

    Only inner nodes of the outer result's dtype are flattened: an int8 sum
    inside a float sum wraps around in int8, which the flat node would not.
    """
    out = node.outputs[0]
    name = elemwise_name(node)
    new_inputs, changed = [], False
    for inp in node.inputs:
        inner = inp.owner
        if (elemwise_name(inner) == name and inp.dtype == out.dtype and len(fgraph.clients.get(inp, ())) == 1
                and inner.outputs[0].ndim == out.ndim):
            new_inputs.extend(inner.inputs)
            changed = True
        else:
            new_inputs.append(inp)
    if not changed:
        return None
    new = node.op(*new_inputs)
    return [new] if fits(out, new) and new.type.shape == out.type.shape else None


@register("canonicalize")
@node_rewriter(["add", "mul"], name="collect_constants")
def collect_constants(fgraph, node):
    """`add(x, 1, 2) -> add(x, 3)`, `mul(2, x, 3) -> mul(6, x)`: constants combined at compile time."""
    from ...tensor.variable import TensorConstant

    out = node.outputs[0]
    positions = [k for k, inp in enumerate(node.inputs) if constant_data(inp) is not None]
    if len(positions) < 2 or len(positions) == len(node.inputs):
        return None  # nothing to combine, or all constant (constant folding's job)
    fn = node.op.scalar_fn
    dtype = np.dtype(out.dtype)
    try:
        with np.errstate(all="ignore"):
            values = [np.asarray(constant_data(node.inputs[k])).astype(dtype) for k in positions]
            combined = np.asarray(functools.reduce(fn.numpy, values), dtype=dtype)
    except ValueError:  # constants that cannot broadcast: the run-time error stays
        return None
    ctype = TensorType(out.dtype, shape=combined.shape)
    const = TensorConstant(ctype, combined)
    new_inputs = [const if k == positions[0] else inp for k, inp in enumerate(node.inputs) if k not in positions[1:]]
    new = node.op(*new_inputs)
    return [stand_in(out, new)] if fits(out, new) else None


@register("canonicalize", "fast_compile")
@node_rewriter(["add", "mul"], name="remove_neutral")
def remove_neutral(fgraph, node):
    """`x * 1 -> x`, `x + 0 -> x`: drop constant operands that change nothing.

    One operand left of another dtype is cast (`int_x * 1.0 -> cast(x, float)`);
    several are kept only if they give the same dtype on their own. A constant
    that sets the result's shape (`x + zeros((3, 4))` with x a row) is kept.
    """
    out = node.outputs[0]
    neutral = _NEUTRAL[elemwise_name(node)]
    keep = [inp for inp in node.inputs if uniform_value(inp) != neutral]
    if len(keep) == len(node.inputs):
        return None
    if not keep:  # all neutral (zero fills of some shape): one that has the result's shape will do
        keep = [next((inp for inp in node.inputs if fits(out, cast_to(inp, out.dtype))), None)]
        if keep[0] is None or all(isinstance(inp, Constant) for inp in node.inputs):
            return None  # (all constants: constant folding's job)
    if len(keep) == 1:
        new = cast_to(keep[0], out.dtype)
    else:
        new = _rebuild(node, keep)
        if new.dtype != out.dtype:
            return None
    if not fits(out, new):
        return None
    return [stand_in(out, new)]


@register("canonicalize")
@node_rewriter(["mul"], name="mul_by_zero")
def mul_by_zero(fgraph, node):
    """An integer or boolean product with a factor of 0 is zeros of the product's shape.

    (Not for floats: `x * 0` is nan where x is nan or inf.)
    """
    from ... import tensor as T

    out = node.outputs[0]
    if not is_discrete(out.dtype):
        return None
    zero = next((inp for inp in node.inputs if uniform_value(inp) == 0), None)
    if zero is None or all(constant_data(inp) is not None for inp in node.inputs):
        return None
    data = np.zeros(np.shape(constant_data(zero)), dtype=out.dtype)
    result = T.constant(data)
    for inp in node.inputs:
        if constant_data(inp) is None:
            result = T.second(inp, result)
    if result.dtype != out.dtype or not fits(out, result):
        return None
    return [stand_in(out, result)]


from . import algebra, useless  # noqa: E402,F401  (register their rules in the canonicalize phase)
