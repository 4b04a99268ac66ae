"""Reductions of elementwise products computed in one pass ('specialize' phase).

`local_sum_mul_to_dot`: `sum(x * y)` and `sum(sqr(x))` over every axis of
equal-shape float tensors become `dot(x, y)` (`dot(x, x)`), flattening
matrices and higher ranks first (a view for contiguous arrays). The BLAS dot
reads both operands once and allocates no temporary for the product. Readers
of the product's shape only (the divisor of `mean(x * y)`, the `second(x, g)`
of the sum's gradient) read the first operand's instead.
"""
from __future__ import annotations

from ...graph.fg import OUTPUT
from ...tensor.reduce import Reduce
from ...tensor.shape_ops import Shape
from ..db import register
from ..engine import node_rewriter


def _reads_shape_only(client, position) -> bool:
    from ...tensor.elemwise import Elemwise

    if client is OUTPUT:
        return False
    if isinstance(client.op, Shape):
        return True
    return (isinstance(client.op, Elemwise) and client.op.out_dtype is None and client.op.scalar_fn.name == "second"
            and position == 0 and client.inputs[1] is not client.inputs[0])


@register("specialize")
@node_rewriter([Reduce])
def local_sum_mul_to_dot(fgraph, node):
    """`sum(x * y)` / `sum(sqr(x))` over all axes, no broadcasting, float dtype -> `dot`."""
    from ... import tensor as t
    from ...tensor.blas import Dot
    from ...tensor.elemwise import Elemwise

    op = node.op
    if op.kind != "sum":
        return None
    (inp,) = node.inputs
    out = node.outputs[0]
    if inp.ndim == 0 or tuple(op.axis) != tuple(range(inp.ndim)) or out.dtype != inp.dtype:
        return None
    if out.dtype not in ("float32", "float64"):
        return None
    prod = inp.owner
    if prod is None or not isinstance(prod.op, Elemwise) or prod.op.out_dtype is not None:
        return None
    # readers of the product's shape only (mean's divisor, the `second(x, g)` of sum's gradient)
    # read an operand's instead; a reader of its values means the product is computed anyway
    shape_readers = [(c, i) for c, i in fgraph.clients.get(inp, ()) if c is not node]
    if not all(_reads_shape_only(c, i) for c, i in shape_readers):
        return None
    name = prod.op.scalar_fn.name
    if name == "mul" and len(prod.inputs) == 2:
        a, b = prod.inputs
    elif name == "sqr":
        a = b = prod.inputs[0]
    else:
        return None
    if any(v.broadcastable != inp.broadcastable for v in (a, b)):
        return None  # a broadcast operand: the product has more elements than the operands
    replacements = {c.outputs[0]: t.shape(a) if isinstance(c.op, Shape) else t.second(a, c.inputs[1])
                    for c, _ in shape_readers}
    a, b = t.cast(a, out.dtype), t.cast(b, out.dtype)
    if inp.ndim > 1:
        fa = t.flatten(a)
        a, b = fa, (fa if b is a else t.flatten(b))
    replacements[out] = Dot()(a, b)
    return replacements
