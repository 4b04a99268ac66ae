"""permute_row_elements: reorder the last axis of a tensor by integer permutations.

`shuffle_row_elements` draws permutations and applies them with this op.
"""
from __future__ import annotations

import numpy as np

from ...graph.basic import Apply, Op
from ...graph.sourceline import here
from ..type import TensorType
from ..variable import as_tensor_variable


class PermuteRowElements(Op):
    """out[..., i] = x[..., y[..., i]] (or the inverse permutation), leading axes broadcast.

    Inputs: x, y (integer permutations of range(x.shape[-1]) on the last axis),
    inverse (a scalar: nonzero applies the inverse permutations).
    """

    __props__ = ()

    def make_node(self, x, y, inverse):
        x, y, inverse = as_tensor_variable(x), as_tensor_variable(y), as_tensor_variable(inverse)
        if y.dtype[0] not in "iu":
            raise TypeError(f"permute_row_elements: the permutation {y} must be integers, got {y.type}. At {here()}")
        if x.ndim < 1 or y.ndim < 1:
            raise TypeError(f"permute_row_elements: {x} and {y} need at least one dimension. At {here()}")
        if inverse.ndim != 0:
            raise TypeError(f"permute_row_elements: inverse must be a scalar, got {inverse.type}. At {here()}")
        ndim = max(x.ndim, y.ndim)
        xs = (1,) * (ndim - x.ndim) + x.type.shape
        ys = (1,) * (ndim - y.ndim) + y.type.shape
        lead = []
        for a, b in zip(xs[:-1], ys[:-1]):
            if a is not None and a != 1:
                lead.append(a)
            elif b is not None and b != 1:
                lead.append(b)
            elif a == 1 and b == 1:
                lead.append(1)
            else:
                lead.append(None)
        last = xs[-1] if xs[-1] is not None else ys[-1]
        out = TensorType(x.dtype, shape=tuple(lead) + (last,))()
        return Apply(self, [x, y, inverse], [out])

    def perform(self, node, inputs, output_storage):
        x, y, inverse = inputs
        out_ndim = node.outputs[0].ndim
        x = x.reshape((1,) * (out_ndim - x.ndim) + x.shape)
        y = y.reshape((1,) * (out_ndim - y.ndim) + y.shape)
        where = node.outputs[0].creation_line
        if x.shape[-1] != y.shape[-1]:
            raise ValueError(f"permute_row_elements: rows of length {x.shape[-1]} cannot be permuted by "
                             f"permutations of length {y.shape[-1]}; built at {where}")
        try:
            lead = np.broadcast_shapes(x.shape[:-1], y.shape[:-1])
        except ValueError:
            raise ValueError(f"permute_row_elements: leading shapes {x.shape[:-1]} and {y.shape[:-1]} do not "
                             f"broadcast; built at {where}") from None
        xstatic = (1,) * (out_ndim - node.inputs[0].ndim) + node.inputs[0].type.shape
        for i, (got, want) in enumerate(zip(x.shape[:-1], lead)):
            if got != want and xstatic[i] != 1:
                # only dimensions known to be 1 broadcast (so the gradient knows where to sum)
                raise ValueError(f"permute_row_elements: dimension {i} of {node.inputs[0]} has length {got} but "
                                 f"the permutations need {want}; built at {where}")
        n = x.shape[-1]
        yb = np.broadcast_to(y, lead + (n,)).astype(np.int64)
        if n and not np.array_equal(np.sort(yb, axis=-1), np.broadcast_to(np.arange(n), yb.shape)):
            raise ValueError(f"permute_row_elements: the last axis of {node.inputs[1]} is not a permutation of "
                             f"range({n}); built at {where}")
        xb = np.broadcast_to(x, lead + (n,))
        if inverse:
            out = np.empty(lead + (n,), dtype=x.dtype)
            np.put_along_axis(out, yb, xb, axis=-1)
        else:
            out = np.take_along_axis(xb, yb, axis=-1)
        output_storage[0][0] = np.ascontiguousarray(out, dtype=node.outputs[0].dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        raise NotImplementedError

    def connection_pattern(self, node):
        return [[True], [False], [False]]

    def L_op(self, inputs, outputs, output_grads):
        from ... import tensor as t
        from ...gradient import DisconnectedType

        x, y, inverse = inputs
        (gz,) = output_grads
        # permuting back sends each gradient entry to the element it came from
        gx = permute_row_elements(gz, y, t.eq(inverse, 0))
        out_ndim = outputs[0].ndim
        extra = out_ndim - x.ndim
        bcast = [extra + i for i, s in enumerate(x.type.shape) if s == 1 and outputs[0].type.shape[extra + i] != 1]
        if bcast:
            gx = gx.sum(axis=bcast, keepdims=True)
        if extra:
            gx = gx.sum(axis=list(range(extra)))
        if gx.dtype != x.dtype and x.dtype[0] not in "biu":
            gx = t.cast(gx, x.dtype)
        return [gx, DisconnectedType()(), DisconnectedType()()]


_permute_row_elements = PermuteRowElements()


def permute_row_elements(x, y, inverse=0):
    """Permute the last axis of `x` by the integer permutations `y` (broadcast over leading axes).

    `inverse=True` applies the inverse permutations, so
    `permute_row_elements(permute_row_elements(x, y), y, inverse=True)` is `x`.
    """
    return _permute_row_elements(x, y, as_tensor_variable(np.int8(bool(inverse)) if isinstance(inverse, (bool, int))
                                                        else inverse))


__all__ = ["PermuteRowElements", "permute_row_elements"]
