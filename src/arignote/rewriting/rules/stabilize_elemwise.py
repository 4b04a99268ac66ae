"""Stabilize elementwise expressions: log1p, expm1, log1mexp and the log-sigmoid family.

Each rewrite replaces a form that loses precision or overflows by the
function made for it: `log(1 + x)` by `log1p(x)` (exact for tiny x),
`exp(x) - 1` by `expm1(x)`, `log(sigmoid(x))` by `-softplus(-x)` (finite
for x = -1000, where sigmoid underflows to 0), and so on. Integer inputs
are computed as the floats the naive form would give, never wrapped around.
"""
from __future__ import annotations

import math

from ..db import rewrites
from ..engine import node_rewriter
from .stabilize_common import (as_dtype, elem_arg, ew_name, finish, is_const, is_float, negate, plus_const,
                               strip_neg)

__all__ = []

_LOG2 = math.log(2.0)


def _sigmoid_input(var, dtype):
    """`z` (as `dtype`) if `var` is `sigmoid(z)`, else None."""
    z = elem_arg(var, "sigmoid")
    return None if z is None else as_dtype(z, dtype)


def _one_minus_sigmoid_input(var):
    """`z` (in `var`'s dtype) if `var` is `1 - sigmoid(z)` in any spelling, else None."""
    rest = plus_const(var, 1)
    if rest is None:
        return None
    base, negated = strip_neg(rest)
    if not negated:
        return None
    return _sigmoid_input(base, var.type.dtype)


@node_rewriter(["true_div", "inv"])
def local_exp_to_sigmoid(fgraph, node):
    """`1 / (1 + exp(-x))` and `inv(1 + exp(-x))` -> `sigmoid(x)`; `1 / (1 + exp(x))` -> `sigmoid(-x)`."""
    from ... import tensor as T

    out = node.outputs[0]
    if not is_float(out):
        return None
    if ew_name(out) == "true_div":
        num, den = node.inputs
        if not is_const(num, 1):
            return None
    else:
        (den,) = node.inputs
    rest = plus_const(den, 1)
    if rest is None:
        return None
    y = elem_arg(rest, "exp")
    if y is None:
        return None
    return finish(out, T.sigmoid(negate(as_dtype(y, out.type.dtype))))


@node_rewriter(["sub", "add"])
def local_1msigmoid(fgraph, node):
    """`1 - sigmoid(x)` -> `sigmoid(-x)` (no cancellation when sigmoid(x) is near 1)."""
    from ... import tensor as T

    out = node.outputs[0]
    z = _one_minus_sigmoid_input(out)
    if z is None:
        return None
    return finish(out, T.sigmoid(negate(z)))


@node_rewriter(["log"])
def local_log_sigmoid(fgraph, node):
    """`log(sigmoid(x))` -> `-softplus(-x)`: finite where sigmoid underflows to 0."""
    from ... import tensor as T

    out = node.outputs[0]
    z = _sigmoid_input(node.inputs[0], out.type.dtype)
    if z is None or not is_float(out):
        return None
    return finish(out, T.neg(T.softplus(negate(z))))


@node_rewriter(["log", "log1p"])
def local_log1m_sigmoid(fgraph, node):
    """`log(1 - sigmoid(x))` and `log1p(-sigmoid(x))` -> `-softplus(x)`."""
    from ... import tensor as T

    out = node.outputs[0]
    if not is_float(out):
        return None
    arg = node.inputs[0]
    if ew_name(out) == "log":
        z = _one_minus_sigmoid_input(arg)
    else:
        base, negated = strip_neg(arg)
        z = _sigmoid_input(base, out.type.dtype) if negated else None
    if z is None:
        return None
    return finish(out, T.neg(T.softplus(as_dtype(z, out.type.dtype))))


@node_rewriter(["log"])
def local_log1mexp(fgraph, node):
    """`log(1 - exp(x))` -> the stable log1mexp.

    `log1p(-exp(x))` where x < -log 2 (exp(x) small: log1p is exact), else
    `log(-expm1(x))` (exp(x) near 1: expm1 keeps the digits 1 - exp(x) loses).
    """
    from ... import tensor as T

    out = node.outputs[0]
    rest = plus_const(node.inputs[0], 1)
    if rest is None or not is_float(out):
        return None
    base, negated = strip_neg(rest)
    x = elem_arg(base, "exp") if negated else None
    if x is None:
        return None
    x = as_dtype(x, out.type.dtype)
    new = T.switch(T.lt(x, -_LOG2), T.log1p(T.neg(T.exp(x))), T.log(T.neg(T.expm1(x))))
    return finish(out, new)


@node_rewriter(["log"])
def local_log1p(fgraph, node):
    """`log(1 + x)`, `log(x + 1)` -> `log1p(x)`; `log(1 - x)` -> `log1p(-x)` (float x only)."""
    from ... import tensor as T

    out = node.outputs[0]
    rest = plus_const(node.inputs[0], 1)
    if rest is None or not is_float(out):
        return None
    base, negated = strip_neg(rest)
    if negated and ew_name(base) in ("exp", "sigmoid"):
        return None  # local_log1mexp / local_log1m_sigmoid do better
    return finish(out, T.log1p(as_dtype(rest, out.type.dtype)))


@node_rewriter(["log1p"])
def local_log1p_exp(fgraph, node):
    """`log1p(exp(x))` (= `log(1 + exp(x))`) -> `softplus(x)`, which does not overflow."""
    from ... import tensor as T

    out = node.outputs[0]
    x = elem_arg(node.inputs[0], "exp")
    if x is None or not is_float(out):
        return None
    return finish(out, T.softplus(as_dtype(x, out.type.dtype)))


@node_rewriter(["sub", "add"])
def local_expm1(fgraph, node):
    """`exp(x) - 1` (also `exp(x) + -1` among other terms) -> `expm1(x)`."""
    from ... import tensor as T

    out = node.outputs[0]
    if not is_float(out):
        return None
    ins = node.inputs
    if ew_name(out) == "sub":
        a, b = ins
        x = elem_arg(a, "exp") if is_const(b, 1) else None
        if x is None:
            return None
        return finish(out, as_dtype(T.expm1(as_dtype(x, a.type.dtype)), out.type.dtype))
    minus_one = next((i for i, v in enumerate(ins) if is_const(v, -1)), None)
    if minus_one is None:
        return None
    e = next((i for i, v in enumerate(ins) if i != minus_one and ew_name(v) == "exp"), None)
    if e is None:
        return None
    new = T.expm1(as_dtype(ins[e].owner.inputs[0], ins[e].type.dtype))
    others = [v for i, v in enumerate(ins) if i not in (minus_one, e)]
    if others:
        new = T.add(new, *others)
    return finish(out, as_dtype(new, out.type.dtype) if is_float(new) else None)


def _sigmoid_pair(a, b):
    """(z, negated) if `{a, b}` is `{sigmoid(y), sigmoid(-y)}` (or `1 - sigmoid(y)`), with `a == sigmoid(+-z)`."""
    za, zb = elem_arg(a, "sigmoid"), elem_arg(b, "sigmoid")
    if za is None:
        return None
    base_a, neg_a = strip_neg(za)
    if zb is None:
        y = _one_minus_sigmoid_input(b)
        if y is None or y.type.dtype != za.type.dtype:
            return None
        base_b, neg_b = strip_neg(y)
        neg_b = not neg_b
    else:
        base_b, neg_b = strip_neg(zb)
    if base_a is not base_b or neg_a == neg_b:
        return None
    return base_a, neg_a


def _mul_factors(var, depth: int = 3):
    """The factors of `var` as a product, looking into nested muls (`depth` levels: stays cheap)."""
    if depth == 0 or ew_name(var) != "mul":
        return [var]
    out = []
    for v in var.owner.inputs:
        out.extend(_mul_factors(v, depth - 1))
    return out


def _over_sigmoid(term, z, negated):
    """`c * sigmoid(-+z)` if `term` is `c / sigmoid(+-z)` (or minus that), else None.

    `negated` says which of the two sigmoids the caller also multiplies by;
    the quotient by one cancels it, leaving the other.
    """
    from ... import tensor as T

    base, minus = strip_neg(term)
    if ew_name(base) != "true_div":
        return None
    c, den = base.owner.inputs
    zd = elem_arg(den, "sigmoid")
    if zd is None:
        return None
    bd, nd = strip_neg(zd)
    if bd is not z:
        return None
    # c / sigmoid(s*z) * sigmoid(z) * sigmoid(-z) = c * sigmoid(-s*z)
    other = T.sigmoid(z if nd else negate(z))
    out = c * other
    return T.neg(out) if minus else out


@node_rewriter(["mul"])
def local_sigmoid_grad_cancel(fgraph, node):
    """`(c / sigmoid(x)) * sigmoid(x) * sigmoid(-x)` -> `c * sigmoid(-x)`, term by term of a sum.

    This is what `grad` builds for `log(sigmoid(x))` and the binary
    cross-entropy (the log's `g / p` times the sigmoid's `p * (1 - p)`); where
    sigmoid underflows to 0 the naive product is `inf * 0 = nan`.
    """
    from ... import tensor as T

    out = node.outputs[0]
    if not is_float(out):
        return None
    factors = _mul_factors(out)
    if len(factors) < 3 or len(factors) > 16:
        return None
    sig = [i for i, f in enumerate(factors) if ew_name(f) in ("sigmoid", "sub", "add")]
    for i in sig:
        for j in sig:
            pair = _sigmoid_pair(factors[i], factors[j]) if i != j else None
            if pair is None:
                continue
            z = pair[0]
            for k, g in enumerate(factors):
                if k in (i, j):
                    continue
                terms = g.owner.inputs if ew_name(g) == "add" else [g]
                new_terms, hit = [], False
                for term in terms:
                    cancelled = _over_sigmoid(term, z, pair[1])
                    hit = hit or cancelled is not None
                    new_terms.append(cancelled if cancelled is not None else term * factors[i] * factors[j])
                if not hit:
                    continue
                rest = [f for m, f in enumerate(factors) if m not in (i, j, k)]
                new = new_terms[0] if len(new_terms) == 1 else T.add(*new_terms)
                if rest:
                    new = T.mul(new, *rest)
                return finish(out, as_dtype(new, out.type.dtype) if new.type.dtype != out.type.dtype
                              and is_float(new) else new)
    return None


# order matters where two rewrites match the same node: the more specific first
for _rw in (local_exp_to_sigmoid, local_1msigmoid, local_log_sigmoid, local_log1m_sigmoid, local_log1mexp,
            local_log1p, local_log1p_exp, local_expm1, local_sigmoid_grad_cancel):
    rewrites.register(_rw, "stabilize")
