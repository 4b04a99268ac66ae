"""Reductions: sum, prod, max, min, any, all, argmax, argmin, and those built on them.

A `Reduce` node never keeps the reduced dimensions; `keepdims=True` is a
DimShuffle afterwards that re-inserts them as broadcastable, which is exactly
what gradients and broadcasting need.
"""
from __future__ import annotations

import builtins
from typing import Sequence

import numpy as np

from ..graph.basic import Apply, Op
from ..graph.sourceline import here
from ..scalar.dtypes import is_discrete
from .elemwise import dimshuffle
from .type import TensorType, normalize_dtype
from .variable import as_tensor_variable

_NUMPY = {"sum": np.sum, "prod": np.prod, "max": np.max, "min": np.min, "any": np.any, "all": np.all}


def normalize_axis(x, axis) -> tuple[int, ...]:
    """`axis` (None, an int, a sequence, or a constant tensor) as sorted positive ints."""
    if axis is None:
        return tuple(range(x.ndim))
    if hasattr(axis, "data") and not isinstance(axis, np.ndarray):  # a TensorConstant
        axis = axis.data.tolist()
    if isinstance(axis, (int, np.integer)):
        axis = [axis]
    axes = []
    for a in axis:
        if hasattr(a, "data"):
            a = a.data
        a = int(a)
        if not (-x.ndim <= a < x.ndim or (x.ndim == 0 and a in (0, -1))):  # NumPy allows 0, -1 on 0-d
            raise ValueError(f"axis {a} is out of range for {x}, which has {x.ndim} dimensions. At {here()}")
        axes.append(a % x.ndim if x.ndim else 0)
    if len(set(axes)) != len(axes):
        raise ValueError(f"axis {tuple(axis)} repeats a dimension. At {here()}")
    return tuple(sorted(axes)) if x.ndim else ()


def _acc_dtype(kind: str, dtype: str) -> str:
    if kind in ("any", "all"):
        return "bool"
    if kind in ("sum", "prod"):
        if dtype == "bool" or dtype.startswith("int"):
            return "int64"
        if dtype.startswith("uint"):
            return "uint64"
    return dtype


class Reduce(Op):
    """Reduce `x` over `axis` with one of sum/prod/max/min/any/all."""

    __props__ = ("kind", "axis", "dtype")

    def __init__(self, kind: str, axis: tuple, dtype: str | None = None):
        if kind not in _NUMPY:
            raise ValueError(f"unknown reduction {kind!r}")
        self.kind, self.axis, self.dtype = kind, tuple(axis), dtype

    def __str__(self):
        return f"{self.kind.capitalize()}{{axis={list(self.axis)}}}" if self.axis else self.kind.capitalize()

    def make_node(self, x):
        x = as_tensor_variable(x)
        dtype = self.dtype or _acc_dtype(self.kind, x.dtype)
        shape = tuple(s for d, s in enumerate(x.type.shape) if d not in self.axis)
        return Apply(self, [x], [TensorType(dtype, shape=shape)()])

    def perform(self, node, inputs, output_storage):
        x = inputs[0]
        dtype = node.outputs[0].type.numpy_dtype
        fn = _NUMPY[self.kind]
        if self.kind in ("max", "min") and builtins.any(x.shape[a] == 0 for a in self.axis):
            raise ValueError(f"{self.kind} of an empty dimension of {node.inputs[0]} (shape {x.shape}), "
                             f"built at {node.outputs[0].creation_line}")
        if self.kind in ("sum", "prod"):
            r = fn(x, axis=self.axis, dtype=dtype)
        else:
            r = fn(x, axis=self.axis)
        output_storage[0][0] = r if type(r) is np.ndarray and r.dtype == dtype else np.asarray(r, dtype=dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        return [tuple(s for d, s in enumerate(input_shapes[0]) if d not in self.axis)]

    def L_op(self, inputs, outputs, output_grads):
        from .. import tensor as t

        (x,), (z,), (g,) = inputs, outputs, output_grads
        if is_discrete(x.dtype) or self.kind in ("any", "all"):
            return [t.zeros_like(x, dtype="floatX" if is_discrete(x.dtype) else x.dtype)]
        g_full = _restore_dims(g, x.ndim, self.axis)
        if self.kind == "sum":
            gx = t.second(x, g_full)
        elif self.kind in ("max", "min"):
            gx = g_full * t.eq(x, _restore_dims(z, x.ndim, self.axis))
        else:  # prod: the product of the others, exact when x holds zeros
            is_zero = t.eq(x, 0)
            n_zeros = t.sum(is_zero, axis=self.axis, keepdims=True)
            prod_nonzero = t.prod(t.switch(is_zero, 1, x), axis=self.axis, keepdims=True)
            # divide by x only where it is not zero (both switch branches are computed)
            gx = g_full * t.switch(t.eq(n_zeros, 0), prod_nonzero / t.switch(is_zero, 1, x),
                                   t.switch(t.and_(t.eq(n_zeros, 1), is_zero), prod_nonzero, 0))
        return [t.cast(gx, x.dtype)]


def _restore_dims(v, ndim: int, axes: Sequence[int]):
    """Put back the reduced axes of a reduction's output, as broadcastable dims."""
    order, it = [], iter(range(v.ndim))
    for d in range(ndim):
        order.append("x" if d in axes else next(it))
    return dimshuffle(v, tuple(order))


def _reduce(kind: str, x, axis=None, keepdims: bool = False, dtype=None):
    x = as_tensor_variable(x)
    axes = normalize_axis(x, axis)
    dtype = None if dtype is None else normalize_dtype(dtype)
    out = Reduce(kind, axes, dtype)(x) if axes or dtype else x
    if out is x and kind in ("any", "all") and x.dtype != "bool":  # nothing reduced: still truth values
        from .math import neq

        out = neq(x, 0)
    if out is x and dtype is None and kind in ("sum", "prod") and x.dtype != _acc_dtype(kind, x.dtype):
        from .math import cast

        out = cast(x, _acc_dtype(kind, x.dtype))
    if keepdims:
        out = _restore_dims(out, x.ndim, axes)
    return out


def sum(x, axis=None, dtype=None, keepdims=False, acc_dtype=None):
    """Sum over `axis` (None: all). Integers and bools sum in int64, as NumPy."""
    return _reduce("sum", x, axis, keepdims, dtype)


def prod(x, axis=None, dtype=None, keepdims=False, acc_dtype=None, no_zeros_in_input=False):
    """Product over `axis`; its gradient is exact where `x` holds zeros."""
    return _reduce("prod", x, axis, keepdims, dtype)


def max(x, axis=None, keepdims=False):
    """Maximum over `axis`; the gradient flows to every element equal to it."""
    return _reduce("max", x, axis, keepdims)


def min(x, axis=None, keepdims=False):
    """Minimum over `axis`."""
    return _reduce("min", x, axis, keepdims)


def any(x, axis=None, keepdims=False):
    return _reduce("any", x, axis, keepdims)


def all(x, axis=None, keepdims=False):
    return _reduce("all", x, axis, keepdims)


class Argmax(Op):
    """Index of the max (`kind='max'`) or min along one axis, or over the flattened array."""

    __props__ = ("kind", "axis")

    def __init__(self, kind: str, axis: int | None):
        self.kind, self.axis = kind, axis

    def __str__(self):
        return f"Arg{self.kind}{{axis={self.axis}}}"

    def make_node(self, x):
        x = as_tensor_variable(x)
        shape = () if self.axis is None else tuple(s for d, s in enumerate(x.type.shape) if d != self.axis)
        return Apply(self, [x], [TensorType("int64", shape=shape)()])

    def perform(self, node, inputs, output_storage):
        fn = np.argmax if self.kind == "max" else np.argmin
        output_storage[0][0] = np.asarray(fn(inputs[0], axis=self.axis), dtype=np.int64)

    def infer_shape(self, fgraph, node, input_shapes):
        if self.axis is None:
            return [()]
        return [tuple(s for d, s in enumerate(input_shapes[0]) if d != self.axis)]

    def L_op(self, inputs, outputs, output_grads):
        from .. import tensor as t

        return [t.zeros_like(inputs[0], dtype="floatX" if is_discrete(inputs[0].dtype) else inputs[0].dtype)]


def _arg(kind, x, axis, keepdims):
    x = as_tensor_variable(x)
    axes = normalize_axis(x, axis)
    if len(axes) == x.ndim:
        out = Argmax(kind, None)(x)
    elif len(axes) == 1:
        out = Argmax(kind, axes[0])(x)
    else:  # several (not all) axes: move them last, merge them, reduce that one
        from .shape_ops import reshape

        keep = [d for d in range(x.ndim) if d not in axes]
        moved = dimshuffle(x, tuple(keep + list(axes)))
        merged = reshape(moved, [moved.shape[i] for i in range(len(keep))] + [-1], ndim=len(keep) + 1)
        out = Argmax(kind, len(keep))(merged)
    if keepdims:
        out = _restore_dims(out, x.ndim, axes)
    return out


def argmax(x, axis=None, keepdims=False):
    """Index of the maximum along `axis` (None: of the flattened tensor)."""
    return _arg("max", x, axis, keepdims)


def argmin(x, axis=None, keepdims=False):
    """Index of the minimum along `axis` (None: of the flattened tensor)."""
    return _arg("min", x, axis, keepdims)


def max_and_argmax(x, axis=None, keepdims=False):
    return max(x, axis, keepdims), argmax(x, axis, keepdims)


def _count(x, axes):
    from .shape_ops import shape

    n = 1
    for a in axes:
        n = n * shape(x)[a] if x.type.shape[a] is None else n * x.type.shape[a]
    return n


def mean(x, axis=None, dtype=None, keepdims=False, acc_dtype=None):
    """Arithmetic mean over `axis`; integers give float64, floats keep their dtype."""
    from .math import cast, true_div

    x = as_tensor_variable(x)
    axes = normalize_axis(x, axis)
    s = sum(x, axes, dtype=dtype, keepdims=keepdims)
    n = _count(x, axes)
    out_dtype = s.dtype if s.dtype.startswith("float") else "float64"
    if isinstance(n, int):
        return cast(true_div(s, np.asarray(n, dtype=out_dtype)), out_dtype)
    return true_div(s, cast(n, out_dtype))


def var(x, axis=None, ddof=0, keepdims=False, corrected=False):
    """Variance over `axis` (`ddof=1` or `corrected=True` for the unbiased estimate)."""
    from .math import cast, sqr, true_div

    x = as_tensor_variable(x)
    axes = normalize_axis(x, axis)
    if corrected:
        ddof = 1
    centred = x - mean(x, axes, keepdims=True)
    ss = sum(sqr(centred), axes, keepdims=keepdims)
    n = _count(x, axes)
    out_dtype = ss.dtype if ss.dtype.startswith("float") else "float64"
    if isinstance(n, int):
        return cast(true_div(ss, np.asarray(n - ddof, dtype=out_dtype)), out_dtype)
    return true_div(ss, cast(n - ddof, out_dtype))


def std(x, axis=None, ddof=0, keepdims=False, corrected=False):
    """Standard deviation over `axis`."""
    from .math import sqrt

    return sqrt(var(x, axis, ddof, keepdims, corrected))


def logsumexp(x, axis=None, keepdims=False):
    """`log(sum(exp(x)))` over `axis`, computed without overflow."""
    from .math import exp, isinf, log, switch

    x = as_tensor_variable(x)
    axes = normalize_axis(x, axis)
    m = max(x, axes, keepdims=True)
    m = switch(isinf(m), 0, m)
    from ..gradient import disconnected_grad

    m = disconnected_grad(m)
    out = log(sum(exp(x - m), axes, keepdims=True)) + m
    return out if keepdims else _drop_dims(out, axes)


def _drop_dims(v, axes):
    return dimshuffle(v, tuple(d for d in range(v.ndim) if d not in axes))
