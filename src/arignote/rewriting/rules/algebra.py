"""Algebraic canonicalisations: powers, exp/log, division, negation, chained reshapes.

  `--x -> x`, `x - 0 -> x`, `x - x -> zeros` (integers only: `inf - inf` is nan),
  `x / c -> x * (1/c)` for float results (as Theano did, for every constant c:
  `x * (1/c)` may differ from `x / c` in the last bit when 1/c is inexact),
  `x**2 -> sqr(x)`, `x**0.5 -> sqrt(x)`, `x**1 -> x`, `x**-1 -> inv(x)` (the same values but
  at x = -inf, where pow gives inf and sqrt nan — as in Theano),
  `log(exp(x)) -> x`, `exp(log(x)) -> x` (where x >= 0; nan elsewhere, as before),
  `dimshuffle(dimshuffle(x)) -> dimshuffle(x)` (or x), `reshape(reshape(x, a), b) -> reshape(x, b)`.

Registered in the canonicalize phase by importing `canonicalize`.
"""
from __future__ import annotations

import numpy as np

from ...tensor.elemwise import DimShuffle
from ...tensor.shape_ops import Reshape
from ...tensor.variable import TensorConstant
from ...tensor.type import TensorType
from ..db import register
from ..engine import node_rewriter
from .canonicalize import cast_to, fits, is_discrete, owner_name, stand_in, uniform_value
from .constant_fold import constant_data


@register("canonicalize", "fast_compile")
@node_rewriter(["neg"], name="neg_neg")
def neg_neg(fgraph, node):
    """`-(-x) -> x` (exact, integers included: two's complement wraps back)."""
    inner = node.inputs[0]
    if owner_name(inner) != "neg":
        return None
    x = inner.owner.inputs[0]
    out = node.outputs[0]
    return [stand_in(out, x)] if fits(out, x) else None


@register("canonicalize", "fast_compile")
@node_rewriter(["sub"], name="sub_zero")
def sub_zero(fgraph, node):
    """`x - 0 -> x` (cast to the result's dtype), unless the 0 sets the result's shape."""
    x, y = node.inputs
    out = node.outputs[0]
    if uniform_value(y) != 0:
        return None
    new = cast_to(x, out.dtype)
    return [stand_in(out, new)] if fits(out, new) else None


@register("canonicalize")
@node_rewriter(["sub"], name="sub_self")
def sub_self(fgraph, node):
    """`x - x -> zeros_like(x)` for integers (for floats, inf - inf and nan - nan are nan)."""
    from ... import tensor as T

    x, y = node.inputs
    out = node.outputs[0]
    if x is not y or not is_discrete(out.dtype):
        return None
    new = T.second(x, T.constant(np.zeros((), dtype=out.dtype)))
    return [stand_in(out, new)] if fits(out, new) else None


@register("canonicalize")
@node_rewriter(["true_div"], name="div_by_constant")
def div_by_constant(fgraph, node):
    """`x / c -> x * (1/c)` for a constant c and a float result (the reciprocal in the result's dtype)."""
    from ... import tensor as T

    x, y = node.inputs
    out = node.outputs[0]
    if np.dtype(out.dtype).kind != "f" or constant_data(x) is not None:
        return None
    data = constant_data(y)
    if data is None:
        return None
    with np.errstate(all="ignore"):
        recip = np.reciprocal(np.asarray(data).astype(out.dtype))
    new = T.mul(x, TensorConstant(TensorType(out.dtype, shape=recip.shape), recip))
    if new.dtype != out.dtype or not fits(out, new):
        return None
    return [stand_in(out, new)]


def _pow_replacement(x, exponent, out):
    from ... import tensor as T

    kind = np.dtype(out.dtype).kind
    if exponent == 1:
        return cast_to(x, out.dtype)
    if exponent == 2:
        return T.sqr(cast_to(x, out.dtype))
    if kind not in "fc":
        return None  # integer ** -1 raises and integer ** 0.5 is float: left as they are
    if exponent == 0.5:
        return T.sqrt(cast_to(x, out.dtype))
    if exponent == -1:
        return T.inv(cast_to(x, out.dtype))
    return None


@register("canonicalize")
@node_rewriter(["pow"], name="pow_special")
def pow_special(fgraph, node):
    """`x**2 -> sqr(x)`, `x**0.5 -> sqrt(x)`, `x**1 -> x`, `x**-1 -> inv(x)` (constant exponents)."""
    x, y = node.inputs
    out = node.outputs[0]
    exponent = uniform_value(y)
    if exponent is None or isinstance(exponent, complex) or constant_data(x) is not None:
        return None
    new = _pow_replacement(x, exponent, out)
    if new is None or new.dtype != out.dtype or not fits(out, new):
        return None
    return [stand_in(out, new)]


@register("canonicalize")
@node_rewriter(["log"], name="log_exp")
def log_exp(fgraph, node):
    """`log(exp(x)) -> x` (exact where exp does not overflow; more accurate everywhere)."""
    inner = node.inputs[0]
    out = node.outputs[0]
    if owner_name(inner) != "exp":
        return None
    x = inner.owner.inputs[0]
    if np.dtype(x.dtype).kind not in "biuf":
        return None  # complex log is multivalued
    new = cast_to(x, out.dtype)
    return [stand_in(out, new)] if fits(out, new) else None


@register("canonicalize")
@node_rewriter(["exp"], name="exp_log")
def exp_log(fgraph, node):
    """`exp(log(x)) -> x` where x >= 0, and nan where x < 0 (what exp(log(x)) gives there)."""
    from ... import tensor as T

    inner = node.inputs[0]
    out = node.outputs[0]
    if owner_name(inner) != "log":
        return None
    x = inner.owner.inputs[0]
    kind = np.dtype(x.dtype).kind
    if kind not in "biuf":
        return None
    new = cast_to(x, out.dtype)
    if kind in "if":  # may be negative
        new = T.switch(T.ge(new, 0), new, T.constant(np.asarray(np.nan, dtype=out.dtype)))
    if new.dtype != out.dtype or not fits(out, new):
        return None
    return [stand_in(out, new)]


def _is_identity(order, x) -> bool:
    """Whether dimshuffling x by `order` gives x: each dim in place, or a length-1 one dropped and put back."""
    if len(order) != x.ndim:
        return False
    return all(d == k or (d == "x" and x.type.shape[k] == 1 and k not in order) for k, d in enumerate(order))


@register("canonicalize", "fast_compile")
@node_rewriter([DimShuffle], name="dimshuffle_merge")
def dimshuffle_merge(fgraph, node):
    """`x.dimshuffle(a).dimshuffle(b)` -> one dimshuffle of x (or x, when the two cancel)."""
    inner = node.inputs[0].owner
    if inner is None or not isinstance(inner.op, DimShuffle):
        return None
    x = inner.inputs[0]
    composed = tuple("x" if d == "x" else inner.op.new_order[d] for d in node.op.new_order)
    new = x if _is_identity(composed, x) else DimShuffle(x.ndim, composed)(x)
    out = node.outputs[0]
    return [stand_in(out, new)] if fits(out, new) else None


@register("canonicalize")
@node_rewriter([Reshape], name="reshape_merge")
def reshape_merge(fgraph, node):
    """`reshape(reshape(x, a), b) -> reshape(x, b)` (same elements, same C order)."""
    inner = node.inputs[0].owner
    if inner is None or not isinstance(inner.op, Reshape):
        return None
    new = node.op(inner.inputs[0], node.inputs[1])
    out = node.outputs[0]
    return [stand_in(out, new)] if fits(out, new) else None
