"""The sparse update: `W - lr * grad` where grad is rows scattered into zeros.

The gradient of an embedding lookup `W[ids]` is `inc_subtensor(zeros_like(W)[ids], g)`.
Updating `W - lr * that` would build a dense |W|-sized temporary to change a
few rows; instead it becomes `inc_subtensor(W[ids], -lr * g)`, which the
in-place pass then turns into an update of the touched rows of W's own memory.
"""
from __future__ import annotations

from ...tensor.advanced_subtensor import AdvancedIncSubtensor1
from ..db import register
from ..engine import node_rewriter
from ..patterns import constant_value


def _zeros_like(z, x) -> bool:
    """z is zeros with x's shape, built from x itself (zeros_like(x) or alloc(0, *x.shape))."""
    from ...tensor.elemwise import Elemwise
    from ...tensor.shape_ops import Alloc

    node = z.owner
    if node is None or constant_value(z) != 0:
        return False
    if isinstance(node.op, Elemwise) and node.op.scalar_fn.name == "second":
        return node.inputs[0] is x
    if isinstance(node.op, Alloc):
        return z.type.shape == x.type.shape and all(s is not None for s in x.type.shape)
    return False


def _scattered_rows(var, x):
    """(scale, rows, ids) when var is scale * inc_subtensor(zeros_like(x)[ids], rows)."""
    from ...tensor.elemwise import Elemwise

    scale = None
    node = var.owner
    if node is not None and isinstance(node.op, Elemwise) and node.op.scalar_fn.name == "mul" \
            and len(node.inputs) == 2:
        for k in (0, 1):
            other = node.inputs[1 - k]
            if all(other.broadcastable):
                inner = node.inputs[k].owner
                if inner is not None and isinstance(inner.op, AdvancedIncSubtensor1):
                    scale, node = other, inner
                    break
    if node is None or not isinstance(node.op, AdvancedIncSubtensor1) or node.op.set_instead_of_inc:
        return None
    zeros, rows, ids = node.inputs
    if not _zeros_like(zeros, x):
        return None
    if scale is not None and scale.ndim:
        scale = _as_scalar(scale)
    return scale, rows, ids


def _as_scalar(v):
    from ... import tensor as T

    return T.reshape(v, (), ndim=0)


@register("specialize")
@node_rewriter(["sub", "add"], name="sparse_update")
def sparse_update(fgraph, node):
    from ... import tensor as T

    fn = node.op.scalar_fn.name
    if len(node.inputs) != 2:
        return None
    x, other = node.inputs
    found = _scattered_rows(other, x)
    if found is None and fn == "add":
        other, x = node.inputs
        found = _scattered_rows(other, x)
    if found is None:
        return None
    scale, rows, ids = found
    if x.type != node.outputs[0].type:
        return None
    delta = rows if scale is None else scale * rows
    if fn == "sub":
        delta = -delta
    if delta.dtype != x.dtype:
        delta = T.cast(delta, x.dtype)
    return [AdvancedIncSubtensor1()(x, delta, ids)]
