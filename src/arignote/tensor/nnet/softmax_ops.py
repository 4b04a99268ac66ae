"""Softmax and log-softmax as ops, each with a stable value and its own gradient.

Both subtract the maximum along the axis before exponentiating, so large
inputs never overflow. Softmax's gradient is the `SoftmaxGrad` op
(`(dy - sum(dy * sm)) * sm`), which involves no logarithm; log-softmax's is
`dy - exp(out) * sum(dy)`, which is finite for any finite input.

As in Theano 1.0, a vector given to softmax or log_softmax is treated as a
single row: the result is a 1xN matrix.
"""
from __future__ import annotations

import warnings

import numpy as np

from ...graph.basic import Apply, Op, Variable
from ...graph.sourceline import here
from ..elemwise import dimshuffle
from ..type import FLOAT_DTYPES, TensorType
from ..variable import as_tensor_variable

__all__ = ["softmax", "log_softmax", "logsoftmax", "softmax_graph", "softmax_grad", "softmax_with_bias",
           "softmax_op", "logsoftmax_op", "Softmax", "LogSoftmax", "SoftmaxGrad"]


def _as_matrix_like(c, opname: str):
    """The argument as a float tensor; a list of vectors (`softmax([v])`) becomes their rows."""
    if isinstance(c, (list, tuple)) and any(isinstance(v, Variable) for v in c):
        rows = [as_tensor_variable(v) for v in c]
        if len(rows) == 1:
            c = dimshuffle(rows[0], ("x",) + tuple(range(rows[0].ndim)))
        else:
            c = as_tensor_variable(list(rows))
    c = as_tensor_variable(c)
    if c.dtype not in FLOAT_DTYPES:
        if c.dtype.startswith("complex"):
            raise TypeError(f"{opname}: {c} has the complex dtype {c.dtype}; expected floats. At {here()}")
        from ...scalar.dtypes import float_out
        from ..math import cast

        c = cast(c, float_out(c.dtype))
    return c


def _check_input(opname: str, x, axis: int):
    if x.dtype not in FLOAT_DTYPES:
        raise TypeError(f"{opname}: {x} has dtype {x.dtype}; expected a float tensor. At {here()}")
    if x.ndim == 0:
        raise TypeError(f"{opname}: {x} is a scalar; expected at least a vector. At {here()}")
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(f"{opname}: axis {axis} is out of range for {x}, which has {x.ndim} "
                         f"dimension{'s' if x.ndim != 1 else ''}. At {here()}")


def _row(x):
    return dimshuffle(x, ("x", 0))


class _AxisOp(Op):
    """Shared machinery of ops that normalise along one axis."""

    __props__ = ("axis",)
    opname = ""

    def __init__(self, axis: int = -1):
        self.axis = int(axis)

    def _axis(self, ndim: int) -> int:
        return self.axis % ndim

    def _make(self, x):
        x = as_tensor_variable(x)
        _check_input(self.opname, x, self.axis)
        if x.ndim == 1:
            # Theano 1.0 pads a vector to one row; its only axis becomes the row's last
            return type(self)(-1).make_node(_row(x)) if self.axis == 0 else self.make_node(_row(x))
        return Apply(self, [x], [TensorType(x.dtype, shape=x.type.shape)()])

    def make_node(self, x):
        return self._make(x)

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[0]]


class Softmax(_AxisOp):
    """`exp(x) / sum(exp(x))` along `axis`, computed after subtracting the maximum."""

    opname = "softmax"

    def perform(self, node, inputs, output_storage):
        (x,) = inputs
        axis = self._axis(x.ndim)
        dtype = node.outputs[0].type.numpy_dtype
        if x.shape[axis] == 0:
            output_storage[0][0] = np.empty(x.shape, dtype=dtype)
            return
        e = np.exp(x - np.max(x, axis=axis, keepdims=True))
        e /= np.sum(e, axis=axis, keepdims=True)
        output_storage[0][0] = np.asarray(e, dtype=dtype)

    def L_op(self, inputs, outputs, output_grads):
        from ... import tensor as t

        (x,), (sm,), (g,) = inputs, outputs, output_grads
        gx = SoftmaxGrad(self._axis(x.ndim))(g, sm)
        return [t.cast(gx, x.dtype)]

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None:
            return [None]
        sm = self(inputs[0])
        return [SoftmaxGrad(self._axis(sm.ndim))(eval_points[0], sm)]


class LogSoftmax(_AxisOp):
    """`x - log(sum(exp(x)))` along `axis`, computed after subtracting the maximum."""

    opname = "log_softmax"

    def perform(self, node, inputs, output_storage):
        (x,) = inputs
        axis = self._axis(x.ndim)
        dtype = node.outputs[0].type.numpy_dtype
        if x.shape[axis] == 0:
            output_storage[0][0] = np.empty(x.shape, dtype=dtype)
            return
        shifted = x - np.max(x, axis=axis, keepdims=True)
        out = shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
        output_storage[0][0] = np.asarray(out, dtype=dtype)

    def L_op(self, inputs, outputs, output_grads):
        from ... import tensor as t

        (x,), (out,), (g,) = inputs, outputs, output_grads
        axis = self._axis(x.ndim)
        gx = g - t.exp(out) * t.sum(g, axis=axis, keepdims=True)
        return [t.cast(gx, x.dtype)]

    def R_op(self, inputs, eval_points):
        from ... import tensor as t

        if eval_points[0] is None:
            return [None]
        out = self(inputs[0])
        v = eval_points[0]
        return [v - t.sum(t.exp(out) * v, axis=self._axis(out.ndim), keepdims=True)]


class SoftmaxGrad(Op):
    """The gradient of softmax: `(dy - sum(dy * sm, axis)) * sm`, from `dy` and the softmax `sm`."""

    __props__ = ("axis",)

    def __init__(self, axis: int = -1):
        self.axis = int(axis)

    def make_node(self, dy, sm):
        from ...scalar.dtypes import upcast

        dy, sm = as_tensor_variable(dy), as_tensor_variable(sm)
        if dy.ndim != sm.ndim or sm.ndim == 0:
            raise TypeError(f"softmax_grad: dy ({dy.type}) and sm ({sm.type}) must have the same rank >= 1. "
                            f"At {here()}")
        for d, (a, b) in enumerate(zip(dy.type.shape, sm.type.shape)):
            if a is not None and b is not None and a != b and a != 1:
                raise ValueError(f"softmax_grad: dy has shape {dy.type.shape} and sm {sm.type.shape}; they "
                                 f"differ in axis {d}. At {here()}")
        _check_input("softmax_grad", sm, self.axis)
        # a broadcastable dy (static length 1) stretches to the softmax's shape
        shape = tuple(b if (a is None or a == 1) else a for a, b in zip(dy.type.shape, sm.type.shape))
        return Apply(self, [dy, sm], [TensorType(upcast(dy.dtype, sm.dtype), shape=shape)()])

    def perform(self, node, inputs, output_storage):
        dy, sm = inputs
        bcast = node.inputs[0].broadcastable
        if dy.shape != sm.shape and any(a != b and not k for a, b, k in zip(dy.shape, sm.shape, bcast)):
            raise ValueError(f"softmax_grad: dy has shape {dy.shape} but the softmax has shape {sm.shape} "
                             f"(built at {node.outputs[0].creation_line})")
        axis = self.axis % sm.ndim
        dx = (dy - np.sum(dy * sm, axis=axis, keepdims=True)) * sm
        output_storage[0][0] = np.asarray(dx, dtype=node.outputs[0].type.numpy_dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[1]]

    def L_op(self, inputs, outputs, output_grads):
        from ... import tensor as t

        (dy, sm), (h,) = inputs, output_grads
        axis = self.axis % sm.ndim
        # dx is linear in dy with the symmetric Jacobian diag(sm) - sm smᵀ: the same op maps h back
        g_dy = SoftmaxGrad(axis)(h, sm)
        stretched = tuple(d for d in range(dy.ndim) if dy.broadcastable[d] and not sm.broadcastable[d])
        if stretched:
            g_dy = t.sum(g_dy, axis=stretched, keepdims=True)
        s = t.sum(dy * sm, axis=axis, keepdims=True)
        g_sm = h * (dy - s) - dy * t.sum(h * sm, axis=axis, keepdims=True)
        return [t.cast(g_dy, dy.dtype), t.cast(g_sm, sm.dtype)]


def _normalize_axis(x, axis, opname):
    if axis is None:
        axis = -1
    axis = int(axis)
    if x.ndim == 1:
        if axis not in (0, -1):
            raise ValueError(f"{opname}: axis {axis} is out of range for the vector {x}. At {here()}")
        return _row(x), 1
    _check_input(opname, x, axis)
    return x, axis % x.ndim


def softmax(c, axis=-1):
    """The softmax of `c` along `axis` (default: the last), computed stably.

    As in Theano 1.0, a vector is treated as a single row and gives a 1xN
    matrix, and `softmax([v])` (a list holding one vector) gives the same
    row. Integers are computed as floats.
    """
    c = _as_matrix_like(c, "softmax")
    c, ax = _normalize_axis(c, axis, "softmax")
    if c.type.shape[ax] == 1:
        warnings.warn("softmax is applied on a dimension of length 1, where it is always 1", stacklevel=2)
    return Softmax(ax)(c)


def log_softmax(c, axis=-1):
    """`log(softmax(c))` along `axis`, computed stably (no log of an underflowed 0).

    A vector is treated as a single row (a 1xN result), as `softmax` does.
    """
    c = _as_matrix_like(c, "log_softmax")
    c, ax = _normalize_axis(c, axis, "log_softmax")
    return LogSoftmax(ax)(c)


logsoftmax = log_softmax


def softmax_graph(c):
    """Softmax written as elementwise ops: `exp(c) / exp(c).sum(axis=-1, keepdims=True)` (Theano's)."""
    from ..math import exp

    c = as_tensor_variable(c)
    e = exp(c)
    return e / e.sum(axis=-1, keepdims=True)


def softmax_grad(dy, sm, axis=-1):
    """The gradient of a softmax `sm` given the gradient `dy` of its output."""
    return SoftmaxGrad(axis)(dy, sm)


def softmax_with_bias(x, b):
    """`softmax(x + b)` for a matrix `x` and a bias vector `b` (added to every row)."""
    x, b = as_tensor_variable(x), as_tensor_variable(b)
    if x.ndim != 2 or b.ndim != 1:
        raise TypeError(f"softmax_with_bias: expected a matrix and a vector, got {x.type} and {b.type}. "
                        f"At {here()}")
    return softmax(x + b)


softmax_op = Softmax()
logsoftmax_op = LogSoftmax()
