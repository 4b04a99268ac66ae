"""Stabilize softmax, cross-entropies and log-sum-exp.

`log(softmax(x))` underflows to `log(0) = -inf` for logits ~1e3, and its
gradient (`g / softmax(x)` fed to the softmax gradient) divides by that 0.
These rewrites compute the log-probabilities with `LogSoftmax` instead, also
when the log is taken of selected entries (`log(p)[arange(n), y]`,
`log(p[arange(n), y])`), rewrite the gradient that `grad` built from the
naive form (`SoftmaxGrad(dy / sm, sm)` -> `dy - sm * sum(dy)`), turn the
cross-entropy ops of a softmax or sigmoid into their stable forms, and
compute `log(sum(exp(x)))` after subtracting the maximum.
"""
from __future__ import annotations

from ...gradient import _GradientShaper
from ...tensor.advanced_subtensor import (AdvancedIncSubtensor, AdvancedIncSubtensor1, AdvancedSubtensor,
                                          AdvancedSubtensor1)
from ...tensor.elemwise import DimShuffle
from ...tensor.nnet.crossentropy import CrossentropyCategorical1Hot, PickColumns, PutColumns
from ...tensor.nnet.softmax_ops import LogSoftmax, Softmax, SoftmaxGrad
from ...tensor.reduce import Reduce
from ...tensor.subtensor import IncSubtensor, Subtensor
from ..db import rewrites
from ..engine import node_rewriter
from .stabilize_common import (as_dtype, elem_arg, ew_name, finish, is_const, is_float, negate, plus_const,
                               strip_neg)

__all__ = []

#: ops that pick or rearrange entries of their first input, leaving the values as they are
_SELECTIONS = (Subtensor, AdvancedSubtensor, AdvancedSubtensor1, DimShuffle, PickColumns)

#: each increment op, and the selection op that reads the same entries
_INC_TO_SELECT = {IncSubtensor: Subtensor, AdvancedIncSubtensor: AdvancedSubtensor,
                  AdvancedIncSubtensor1: AdvancedSubtensor1}


def _softmax_node(var):
    node = var.owner
    return node if node is not None and type(node.op) is Softmax else None


@node_rewriter(["log"])
def local_log_softmax(fgraph, node):
    """`log(softmax(x))` -> `log_softmax(x)`, also through indexing: `log(sm[i, y])` -> `log_softmax(x)[i, y]`."""
    out = node.outputs[0]
    chain = []
    v = node.inputs[0]
    while v.owner is not None and isinstance(v.owner.op, _SELECTIONS):
        chain.append(v.owner)
        v = v.owner.inputs[0]
    sm = _softmax_node(v)
    if sm is None or v.type.dtype != out.type.dtype:
        return None
    new = LogSoftmax(sm.op.axis)(sm.inputs[0])
    for sel in reversed(chain):
        new = sel.op(new, *sel.inputs[1:])
    return finish(out, new)


def _divided_by(var, sm):
    """`dy` with `var == dy / sm` for the softmax output `sm`, or None.

    Besides `dy / sm` itself this finds what `grad` makes of a log taken of
    selected entries: `inc(zeros, g / sm[idx], idx)` is `inc(zeros, g, idx) / sm`
    (zero elsewhere; repeated entries sum `g / s` over the same `s`), and
    `PutColumns(g / PickColumns(sm, t), t)` is `PutColumns(g, t) / sm`.
    """
    if ew_name(var) == "true_div":
        num, den = var.owner.inputs
        return num if den is sm else None
    node = var.owner
    if node is None:
        return None
    op = node.op
    if isinstance(op, DimShuffle):  # log(sm.T): the gradient is (g / sm.T).T
        inner = node.inputs[0]
        if ew_name(inner) != "true_div" or "x" in op.new_order:
            return None
        num, den = inner.owner.inputs
        dn = den.owner
        if dn is None or not isinstance(dn.op, DimShuffle) or dn.inputs[0] is not sm or "x" in dn.op.new_order:
            return None
        if any(dn.op.new_order[d] != i for i, d in enumerate(op.new_order)):
            return None  # the two shuffles do not undo each other
        return op(num)
    if type(op) is PutColumns:
        v, t, like = node.inputs
        if ew_name(v) != "true_div":
            return None
        g, den = v.owner.inputs
        if den.owner is None or type(den.owner.op) is not PickColumns or den.owner.inputs != [sm, t]:
            return None
        return PutColumns()(g, t, like)
    select = _INC_TO_SELECT.get(type(op))
    if select is None or op.set_instead_of_inc or getattr(op, "inplace", False):
        return None
    zeros, y, *idx = node.inputs
    if not is_const(zeros, 0) or ew_name(y) != "true_div":
        return None
    g, den = y.owner.inputs
    dnode = den.owner
    if dnode is None or type(dnode.op) is not select or dnode.inputs[0] is not sm or dnode.inputs[1:] != idx:
        return None
    if getattr(dnode.op, "idx_list", None) != getattr(op, "idx_list", None):
        return None
    return op(zeros, g, *idx)


@node_rewriter([SoftmaxGrad])
def local_log_softmax_grad(fgraph, node):
    """`SoftmaxGrad(dy / sm, sm)` -> `dy - sm * sum(dy, axis)`: the gradient of log(softmax), with no division."""
    from ... import tensor as T

    out = node.outputs[0]
    dy_in, sm = node.inputs
    sm_node = _softmax_node(sm)
    if sm_node is None or sm_node.op.axis % sm.ndim != node.op.axis % sm.ndim:
        return None
    dy = _divided_by(dy_in, sm)
    if dy is None or dy.ndim != sm.ndim or not is_float(dy):
        return None
    if any(d and not s for d, s in zip(dy.broadcastable, sm.broadcastable)):
        dy = T.second(sm, dy)  # the sum below must see every entry, not one broadcast value
    axis = node.op.axis % sm.ndim
    new = dy - sm * T.sum(dy, axis=axis, keepdims=True)
    return finish(out, as_dtype(new, out.type.dtype))


@node_rewriter([CrossentropyCategorical1Hot])
def local_crossentropy_softmax(fgraph, node):
    """`crossentropy_categorical_1hot(softmax(x), y)` -> `-log_softmax(x)[i, y[i]]`."""
    from ... import tensor as T

    out = node.outputs[0]
    c, t = node.inputs
    sm = _softmax_node(c)
    if sm is None or sm.op.axis % 2 != 1:
        return None
    return finish(out, T.neg(PickColumns()(LogSoftmax(1)(sm.inputs[0]), t)))


def _log_sigmoid_of(var):
    """(z, negated) with `var == log(sigmoid(-z if negated else z))`, or None.

    Knows the naive forms and what the log-sigmoid rewrites make of them:
    `log(sigmoid(z))`, `log(1 - sigmoid(z))`, `log1p(-sigmoid(z))`, `-softplus(w)`.
    """
    name = ew_name(var)
    if name == "log":
        arg = var.owner.inputs[0]
        z = elem_arg(arg, "sigmoid")
        if z is not None:
            return strip_neg(z)
        rest = plus_const(arg, 1)
        if rest is not None:
            base, negated = strip_neg(rest)
            z = elem_arg(base, "sigmoid") if negated else None
            if z is not None:
                zb, zn = strip_neg(z)
                return zb, not zn
        return None
    if name == "log1p":
        base, negated = strip_neg(var.owner.inputs[0])
        z = elem_arg(base, "sigmoid") if negated else None
        if z is None:
            return None
        zb, zn = strip_neg(z)
        return zb, not zn
    base, negated = strip_neg(var)
    w = elem_arg(base, "softplus") if negated else None
    if w is None:
        return None
    wb, wn = strip_neg(w)  # -softplus(w) == log(sigmoid(-w))
    return wb, not wn


def _weighted(var):
    """(weight, (z, negated)) if `var` is `weight * log(sigmoid(+-z))` (two factors, either order)."""
    if ew_name(var) != "mul" or len(var.owner.inputs) != 2:
        return None
    a, b = var.owner.inputs
    for w, l in ((a, b), (b, a)):
        ls = _log_sigmoid_of(l)
        if ls is not None:
            return w, ls
    return None


@node_rewriter(["neg", "mul"])
def local_sigmoid_binary_crossentropy(fgraph, node):
    """`binary_crossentropy(sigmoid(x), t)` -> `sigmoid_binary_crossentropy(x, t)`.

    Matches `-(t * log(sigmoid(x)) + (1 - t) * log(1 - sigmoid(x)))`, also after
    the log-sigmoid rewrites have turned the logs into softplus.
    """
    from ... import tensor as T

    out = node.outputs[0]
    if not is_float(out):
        return None
    total, negated = strip_neg(out)
    if not negated or total is out or ew_name(total) != "add" or len(total.owner.inputs) != 2:
        return None
    parts = [_weighted(v) for v in total.owner.inputs]
    if None in parts:
        return None
    for (t, (z1, n1)), (u, (z2, n2)) in (parts, parts[::-1]):
        if z1 is not z2 or n1 == n2:
            continue
        rest = plus_const(u, 1)
        if rest is None:
            continue
        tb, tn = strip_neg(rest)
        if not tn or tb is not t:
            continue
        x = as_dtype(negate(z1) if n1 else z1, out.type.dtype)
        return finish(out, T.nnet.sigmoid_binary_crossentropy(x, t))
    return None


def _strip_shift(var):
    """The variable under DimShuffles, gradient shapers and `switch(isinf(m), 0, m)`."""
    while var.owner is not None:
        op = var.owner.op
        if isinstance(op, (DimShuffle, _GradientShaper)):
            var = var.owner.inputs[0]
        elif ew_name(var) == "switch":
            cond, a, b = var.owner.inputs
            if elem_arg(cond, "isinf") is b and is_const(a, 0):
                var = b
            else:
                break
        else:
            break
    return var


def _is_max_shifted(x, axes) -> bool:
    """`x` is `y - max(y, axes)` (the argument of an already stable log-sum-exp)."""
    name = ew_name(x)
    if name == "sub":
        y, m = x.owner.inputs
    elif name == "add" and len(x.owner.inputs) == 2:
        a, b = x.owner.inputs
        mb, neg_b = strip_neg(b)
        ma, neg_a = strip_neg(a)
        if neg_b:
            y, m = a, mb
        elif neg_a:
            y, m = b, ma
        else:
            return False
    else:
        return False
    m = _strip_shift(m)
    node = m.owner
    return (node is not None and isinstance(node.op, Reduce) and node.op.kind == "max"
            and node.inputs[0] is y and set(node.op.axis) == set(axes))


def _stable_lse(x, axes):
    """`log(sum(exp(x), axes))` (reduced dims dropped) computed after subtracting the maximum."""
    from ... import tensor as T
    from ...tensor.reduce import _restore_dims

    m = T.max(x, axis=axes)
    m = T.switch(T.isinf(m), 0, m)  # all -inf (or an inf): shift by 0, the naive result is right
    return T.log(T.sum(T.exp(x - _restore_dims(m, x.ndim, axes)), axis=axes)) + m


def _sum_of_exp(var):
    """(x, axes) if `var` is `sum(exp(x), axes)` (no dtype change), else None."""
    red = var.owner
    if red is None or not isinstance(red.op, Reduce) or red.op.kind != "sum" or not red.op.axis:
        return None
    e = red.inputs[0]
    x = elem_arg(e, "exp")
    if x is None or not is_float(e) or var.type.dtype != e.type.dtype:
        return None
    return x, red.op.axis


@node_rewriter(["log"])
def local_log_sum_exp(fgraph, node):
    """`log(sum(exp(x), axis))` -> `log(sum(exp(x - m), axis)) + m` with `m = max(x, axis)` (keepdims too).

    Like T.logsumexp, the result raises on an empty reduction (max of nothing)
    where the naive form gives -inf; a reduced axis known to be empty is left alone.
    """
    out = node.outputs[0]
    arg = node.inputs[0]
    outer = None
    if arg.owner is not None and isinstance(arg.owner.op, DimShuffle):
        outer, arg = arg.owner, arg.owner.inputs[0]
    found = _sum_of_exp(arg)
    if found is None or out.type.dtype != arg.type.dtype:
        return None
    x, axes = found
    if _is_max_shifted(x, axes) or any(x.type.shape[a] == 0 for a in axes):
        return None
    new = _stable_lse(as_dtype(x, arg.type.dtype), axes)
    if outer is not None:
        new = outer.op(new)
    return finish(out, new)


def _restores(ds_node, ndim, axes) -> bool:
    """`ds_node` puts back the reduced `axes` (as broadcastable dims), keeping the others in order."""
    order = ds_node.op.new_order
    kept = [d for d in order if d != "x"]
    return (len(order) == ndim and kept == list(range(len(kept)))
            and tuple(i for i, d in enumerate(order) if d == "x") == tuple(axes))


def _grad_over_sum_of(a, e, ndim):
    """(g', axes, restore) if `a` is `restore(g / sum(e, axes))`, the gradient `grad`
    gives `sum(e)` from a log of it (also a keepdims one); `g'` is `a` with `g` for the quotient.

    keepdims: the log's input is `S_k = restore(sum(e))`, so the quotient is
    `g / S_k` and its gradient reaches `sum(e)` summed over the kept dims of length 1.
    """
    if a.owner is None or not isinstance(a.owner.op, DimShuffle):
        return None
    outer = a.owner
    v = outer.inputs[0]
    inner_sum = None
    if v.owner is not None and isinstance(v.owner.op, Reduce) and v.owner.op.kind == "sum":
        inner_sum, v = v.owner, v.owner.inputs[0]
    if ew_name(v) != "true_div":
        return None
    g, den = v.owner.inputs
    if inner_sum is not None:
        if den.owner is None or not isinstance(den.owner.op, DimShuffle):
            return None
        if any(not v.broadcastable[d] for d in inner_sum.op.axis) or inner_sum.op.dtype not in (None, v.dtype):
            return None
        den_ds, den = den.owner, den.owner.inputs[0]
    found = _sum_of_exp(den)
    if found is None or den.owner.inputs[0] is not e:
        return None
    axes = found[1]
    if not _restores(outer, ndim, axes):
        return None
    if inner_sum is not None:
        if not _restores(den_ds, ndim, axes) or tuple(inner_sum.op.axis) != tuple(axes):
            return None
        g = inner_sum.op(g)
    return outer.op(g), axes, outer.op


@node_rewriter(["mul"])
def local_log_sum_exp_grad(fgraph, node):
    """`exp(x) * (g / sum(exp(x), axis))` -> `g * exp(x - logsumexp(x, axis))`.

    What `grad` builds for `log(sum(exp(x)))`: exp(x) overflows for x ~1e3 and
    the quotient is inf / inf; the rewritten form is a softmax times g.
    """
    from ... import tensor as T

    out = node.outputs[0]
    ins = node.inputs
    if not is_float(out):
        return None
    for i, e in enumerate(ins):
        x = elem_arg(e, "exp")
        if x is None:
            continue
        for j, a in enumerate(ins):
            if j == i:
                continue
            if ew_name(a) == "second" and a.owner.inputs[0] is e:
                a = a.owner.inputs[1]  # the fill only broadcasts to exp(x)'s shape, which the product has
            matched = _grad_over_sum_of(a, e, x.ndim)
            if matched is None:
                continue
            g, axes, restore = matched
            if _is_max_shifted(x, axes):
                return None
            lse = _stable_lse(as_dtype(x, e.type.dtype), axes)
            new = g * T.exp(x - restore(lse))
            rest = [v for k, v in enumerate(ins) if k not in (i, j)]
            if rest:
                new = T.mul(new, *rest)
            return finish(out, new)
    return None


for _rw in (local_log_softmax, local_log_softmax_grad, local_crossentropy_softmax,
            local_sigmoid_binary_crossentropy, local_log_sum_exp, local_log_sum_exp_grad):
    rewrites.register(_rw, "stabilize")
