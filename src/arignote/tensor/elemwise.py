"""Elementwise application of a scalar function, and DimShuffle.

`Elemwise(fn)` lifts a row of the scalar table to tensors with Theano's
broadcasting: inputs of lower rank are padded on the left, and a dimension
broadcasts only if its static length is 1. Everything about the function
itself (dtype rule, NumPy kernel, gradient) comes from the table row.
"""
from __future__ import annotations

import functools
import numbers

import numpy as np

from ..graph.basic import Apply, Op, Variable
from ..graph.sourceline import here
from ..scalar import table as S
from ..scalar.dtypes import is_discrete
from .type import TensorType
from .variable import as_tensor_variable, constant


def _describe(var, position: int) -> str:
    return f"'{var.name}'" if var.name else f"input {position} ({var})"


def _is_python_scalar(x) -> bool:
    return isinstance(x, (bool, numbers.Number)) and not isinstance(x, (np.generic, np.ndarray))


def _weak_constants(values) -> list:
    """Turn Python scalars among `values` into constants, NumPy-2 style.

    A Python scalar next to tensors is 'weak' (NEP 50): it takes the dtype the
    tensors give it, unless its value does not fit, where the smallest dtype
    that holds it takes part in promotion instead (`int8_vector + 1000` is int16).
    """
    strong = [v.dtype if isinstance(v, Variable) and isinstance(v.type, TensorType)
              else np.asarray(v).dtype.name for v in values if not _is_python_scalar(v)]
    out = []
    for v in values:
        if not _is_python_scalar(v):
            out.append(v)
            continue
        if not strong:
            out.append(constant(v))
            continue
        dt = np.result_type(*strong, v)
        try:
            with np.errstate(all="raise"):
                arr = np.asarray(v, dtype=dt)
            if arr.dtype.kind in "iub" and arr.item() != v:
                raise OverflowError
        except (OverflowError, FloatingPointError, ValueError):
            arr = np.asarray(v, dtype=_smallest_dtype_holding(v))
        out.append(constant(arr))
    return out


def _smallest_dtype_holding(v) -> np.dtype:
    """Theano's dtype for a literal that does not fit the tensors' dtype: the smallest
    *signed* integer holding it (as Theano's constants: int8 + 1000 is int16, not the
    int32 that unsigned uint16 would promote to), else uint64, else float64."""
    if isinstance(v, float) or not -(2 ** 63) <= v < 2 ** 64:
        return np.dtype(np.float64)
    if v >= 2 ** 63:
        return np.dtype(np.uint64)
    return np.min_scalar_type(-abs(v)) if v != -(2 ** 63) else np.dtype(np.int64)


class Elemwise(Op):
    """Apply the scalar function `scalar_fn` elementwise, with broadcasting."""

    __props__ = ("scalar_fn", "out_dtype", "inplace_input")

    def __init__(self, scalar_fn: S.ScalarFn, out_dtype: str | None = None, inplace_input: int | None = None):
        self.scalar_fn = scalar_fn
        self.out_dtype = out_dtype
        # the input whose memory receives the result (None: a new array)
        self.inplace_input = inplace_input
        self.destroy_map = {} if inplace_input is None else {0: [inplace_input]}

    def __str__(self):
        suffix = "" if self.inplace_input is None else ",inplace"
        if self.out_dtype is not None:
            return f"Elemwise{{Cast{{{self.out_dtype}}}{suffix}}}"
        return f"Elemwise{{{self.scalar_fn.name}{suffix}}}"

    def inplace_twins(self, node):
        """Destructive versions of this node: one per input that has the output's exact type."""
        if self.inplace_input is not None:
            return []
        out = node.outputs[0]
        return [Elemwise(self.scalar_fn, self.out_dtype, k) for k, x in enumerate(node.inputs)
                if x.dtype == out.dtype and x.broadcastable == out.broadcastable]

    def make_node(self, *inputs):
        fn = self.scalar_fn
        if fn.nin != -1 and len(inputs) != fn.nin:
            raise TypeError(f"{fn.name} takes {fn.nin} argument{'s' if fn.nin != 1 else ''}, "
                            f"got {len(inputs)}. At {here()}")
        if not inputs:
            raise TypeError(f"{fn.name} needs at least one argument. At {here()}")
        inputs = [as_tensor_variable(v) for v in _weak_constants(inputs)]
        given = inputs
        ndim = max(v.ndim for v in inputs)
        inputs = [v if v.ndim == ndim else dimshuffle(v, ("x",) * (ndim - v.ndim) + tuple(range(v.ndim)))
                  for v in inputs]
        shape = _broadcast_static_shapes(fn.name, inputs)
        try:
            dtype = self.out_dtype or fn.dtype_rule(*[v.dtype for v in inputs])
        except TypeError as e:
            args = ", ".join(f"{_describe(v, i)} of dtype {v.dtype}" for i, v in enumerate(given))
            raise TypeError(f"{fn.name} of {args}: {e}. At {here()}") from None
        out = TensorType(dtype, shape=shape)()
        return Apply(self, inputs, [out])

    def perform(self, node, inputs, output_storage):
        dtype = node.outputs[0].type.numpy_dtype
        if len(inputs) > 1 and _dims_to_check(node):  # before computing: NumPy would stretch length 1
            _check_runtime_broadcast(node, inputs)
        if self.inplace_input is not None:
            output_storage[0][0] = self._perform_inplace(inputs, dtype)
            return
        result = self._compute(inputs, dtype)
        # no view_map: the output must not alias an input (a fresh ufunc result has no base)
        if result.base is not None:
            if any(np.may_share_memory(result, x) for x in inputs):
                result = result.copy()
        else:
            for x in inputs:
                if result is x:
                    result = result.copy()
                    break
        output_storage[0][0] = result

    def _compute(self, inputs, dtype) -> np.ndarray:
        """The result as an ndarray of `dtype` (it may be one of the inputs)."""
        fn = self.scalar_fn
        if self.out_dtype is not None:
            return np.asarray(inputs[0]).astype(dtype)
        if fn.cast_inputs or (len(inputs) > 2 and fn.nin == -1):
            # n-ary add/mul compute in the output dtype, not pairwise (int8 + int8 + int32
            # must not wrap around in int8 first)
            inputs = [x if x.dtype == dtype else x.astype(dtype) for x in inputs]
        if len(inputs) > 2 and fn.nin == -1:
            result = functools.reduce(fn.numpy, inputs)
        elif len(inputs) == 1 and fn.nin == -1:
            result = inputs[0]
        else:
            result = fn.numpy(*inputs)
        if type(result) is not np.ndarray or result.dtype != dtype:
            result = np.asarray(result, dtype=dtype)
        return result

    def _perform_inplace(self, inputs, dtype):
        target = inputs[self.inplace_input]
        fn = self.scalar_fn
        if self.out_dtype is None and isinstance(fn.numpy, np.ufunc) and fn.numpy.nin == len(inputs) \
                and all(x.dtype == dtype for x in inputs):
            fn.numpy(*inputs, out=target)  # the ufunc writes straight into the input's memory
            return target
        if self.out_dtype is None and getattr(fn, "supports_out", False):  # a fused kernel
            fn.numpy(*inputs, out=target)
            return target
        result = self._compute(inputs, dtype)
        if result is not target:
            np.copyto(target, result, casting="unsafe")
        return target

    def infer_shape(self, fgraph, node, input_shapes):
        out = []
        for d in range(node.outputs[0].ndim):
            static = node.outputs[0].type.shape[d]
            if static is not None:
                out.append(static)
                continue
            candidates = [s[d] for v, s in zip(node.inputs, input_shapes) if not v.broadcastable[d]]
            out.append(candidates[0] if candidates else 1)
        return [tuple(out)]

    def L_op(self, inputs, outputs, output_grads):
        from .. import tensor as t
        from ..config import config

        fn = self.scalar_fn
        g = output_grads[0]
        z = outputs[0]
        if fn.grad is None:
            grads = [None] * len(inputs)
        else:
            grads = list(fn.grad(t, list(inputs), z, g))
        result = []
        for i, (x, gx) in enumerate(zip(inputs, grads)):
            if isinstance(gx, str) and gx == S.UNDEFINED:
                if is_discrete(x.dtype):  # nothing to differentiate anyway
                    result.append(t.zeros_like(x, dtype=config.floatX))
                    continue
                from ..gradient import grad_undefined

                result.append(grad_undefined(self, i, x, f"{fn.name} is not differentiable w.r.t. its "
                                                         f"argument {i} ({x})."))
                continue
            if is_discrete(x.dtype) or gx is None:
                dtype = config.floatX if is_discrete(x.dtype) else x.dtype
                result.append(t.zeros_like(x, dtype=dtype))
                continue
            gx = as_tensor_variable(gx)
            result.append(_sum_to_input(gx, x))
        return result


def _sum_to_input(gx, x):
    """Reduce a gradient over the dims along which `x` was broadcast; match its dtype."""
    from .. import tensor as t

    if gx.ndim > x.ndim:  # never expected: inputs were padded in make_node
        gx = t.sum(gx, axis=tuple(range(gx.ndim - x.ndim)))
    axes = tuple(d for d in range(x.ndim) if x.broadcastable[d] and not gx.broadcastable[d])
    if axes:
        gx = t.sum(gx, axis=axes, keepdims=True)
    if gx.dtype != x.dtype:
        gx = t.cast(gx, x.dtype)
    if gx.ndim == x.ndim and any(xb and not gb for xb, gb in zip(x.broadcastable, gx.broadcastable)):
        gx = t.patternbroadcast(gx, x.broadcastable)
    return gx


def _broadcast_static_shapes(name, inputs):
    shape = []
    for d in range(inputs[0].ndim):
        known = {v.type.shape[d] for v in inputs} - {None, 1}
        if len(known) > 1:
            parts = ", ".join(f"{_describe(v, i)} has length {v.type.shape[d]}"
                              for i, v in enumerate(inputs) if v.type.shape[d] not in (None, 1))
            raise ValueError(f"{name}: shapes cannot broadcast in dimension {d}: {parts}. At {here()}")
        if known:
            shape.append(known.pop())
        elif all(v.type.shape[d] == 1 for v in inputs):
            shape.append(1)
        else:
            shape.append(None)
    return tuple(shape)


def _dims_to_check(node) -> tuple:
    """(dim, input positions) where two or more inputs must agree at run time; cached per node.

    A dimension where at most one input is not declared broadcastable can never
    mismatch, so most nodes (x + constant, x * row) need no check per call.
    """
    checks = node.__dict__.get("_cache_broadcast_checks")  # on the node itself: clones share tags
    if checks is None:
        candidates = ((d, tuple(pos for pos, v in enumerate(node.inputs) if not v.broadcastable[d]))
                      for d in range(node.outputs[0].ndim))
        checks = node._cache_broadcast_checks = tuple(c for c in candidates if len(c[1]) > 1)
    return checks


def _check_runtime_broadcast(node, inputs):
    """Theano's rule: only dimensions declared broadcastable (static length 1) may stretch."""
    for d, positions in _dims_to_check(node):
        want, owner = None, None
        for pos in positions:
            value = inputs[pos]
            if want is None:
                want, owner = value.shape[d], pos
                continue
            if value.shape[d] != want:
                bad, other = (pos, owner) if value.shape[d] == 1 or want != 1 else (owner, pos)
                raise ValueError(
                    f"{node.op.scalar_fn.name}: {_describe(node.inputs[bad], bad)} has shape "
                    f"{inputs[bad].shape} but {_describe(node.inputs[other], other)} has shape "
                    f"{inputs[other].shape}: they differ in dimension {d}, and only dimensions declared "
                    f"broadcastable (static length 1) may stretch. Use T.addbroadcast or "
                    f"dimshuffle('x', ...) if one should broadcast. The expression was built at "
                    f"{node.outputs[0].creation_line}")


class DimShuffle(Op):
    """Reorder dimensions, drop broadcastable ones and insert new ones ('x').

    `x.dimshuffle(1, 0)` transposes a matrix; `v.dimshuffle('x', 0)` makes a
    vector a row. Its output is a view of its input.
    """

    __props__ = ("input_ndim", "new_order")
    view_map = {0: [0]}

    def __init__(self, input_ndim: int, new_order):
        self.input_ndim = input_ndim
        self.new_order = tuple(new_order)
        kept = [d for d in self.new_order if d != "x"]
        self.drop = tuple(d for d in range(input_ndim) if d not in kept)
        self.transposition = tuple(kept) + self.drop
        self.shuffle = tuple(kept)
        self.augment = tuple(i for i, d in enumerate(self.new_order) if d == "x")

    def __str__(self):
        return f"DimShuffle{{{','.join(map(str, self.new_order))}}}"

    def make_node(self, x):
        x = as_tensor_variable(x)
        if x.ndim != self.input_ndim:
            raise TypeError(f"dimshuffle{self.new_order}: expected {self.input_ndim} dimensions, "
                            f"{x} has {x.ndim}. At {here()}")
        for d in self.drop:
            if x.type.shape[d] != 1:
                raise ValueError(
                    f"dimshuffle{self.new_order} drops dimension {d} of {x}, which is not broadcastable "
                    f"(its static length is {x.type.shape[d] or 'unknown'}). Only length-1 dimensions can be "
                    f"dropped; use T.addbroadcast(x, {d}) first if it is always 1. At {here()}")
        shape = tuple(1 if d == "x" else x.type.shape[d] for d in self.new_order)
        return Apply(self, [x], [TensorType(x.dtype, shape=shape)()])

    def perform(self, node, inputs, output_storage):
        x = inputs[0]
        if self.transposition != tuple(range(x.ndim)):
            x = x.transpose(self.transposition)
        out_shape = list(x.shape[: len(self.shuffle)])
        for i in self.augment:
            out_shape.insert(i, 1)
        output_storage[0][0] = x.reshape(out_shape)

    def infer_shape(self, fgraph, node, input_shapes):
        (ishape,) = input_shapes
        return [tuple(1 if d == "x" else ishape[d] for d in self.new_order)]

    def L_op(self, inputs, outputs, output_grads):
        (x,), (g,) = inputs, output_grads
        if is_discrete(x.dtype):
            from .. import tensor as t

            return [t.zeros_like(x, dtype="floatX")]
        # sum away the inserted dims, then put the kept ones back in order
        kept_positions = [i for i, d in enumerate(self.new_order) if d != "x"]
        if self.augment:
            from .. import tensor as t

            g = t.sum(g, axis=self.augment, keepdims=True)
            g = dimshuffle(g, tuple(kept_positions))
        order = ["x"] * x.ndim
        for pos, d in enumerate(self.shuffle):
            order[d] = pos
        return [dimshuffle(g, tuple(order))]

    def R_op(self, inputs, eval_points):
        return [None if eval_points[0] is None else self(eval_points[0])]


def dimshuffle(x, new_order) -> Variable:
    """`x.dimshuffle(new_order)` as a function; identity patterns return `x`."""
    x = as_tensor_variable(x)
    new_order = tuple(new_order)
    for d in new_order:
        if d != "x" and not (isinstance(d, (int, np.integer)) and 0 <= d < x.ndim):
            raise ValueError(f"dimshuffle{new_order}: {d!r} is not a dimension of {x} "
                             f"(which has {x.ndim}) nor 'x'. At {here()}")
    if len(set(d for d in new_order if d != "x")) != len([d for d in new_order if d != "x"]):
        raise ValueError(f"dimshuffle{new_order} repeats a dimension. At {here()}")
    new_order = tuple(d if d == "x" else int(d) for d in new_order)
    if new_order == tuple(range(x.ndim)):
        return x
    return DimShuffle(x.ndim, new_order)(x)


def transpose(x, axes=None) -> Variable:
    """Permute the dimensions of `x` (reverse them when `axes` is None)."""
    x = as_tensor_variable(x)
    if axes is None:
        axes = tuple(range(x.ndim - 1, -1, -1))
    return dimshuffle(x, tuple(a % x.ndim if isinstance(a, int) else a for a in axes))
