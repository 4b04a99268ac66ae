"""Sorting, searching and counting: sort/argsort, topk, nonzero, searchsorted, unique.

Sorting permutes values, so gradients travel back through the permutation:
`_TakeAlongAxis` and its transpose `_ScatterAlongAxis` (numpy's
take_along_axis / an additive put_along_axis) carry them, and are each
other's gradient.
"""
from __future__ import annotations

import numpy as np

from ..graph.basic import Apply, Op, Variable
from ..graph.sourceline import here
from ..scalar.dtypes import is_discrete
from .op_helpers import built_at, describe, disconnected, float_zeros_like, int_scalar, normalize_axis, static_int
from .type import TensorType, normalize_dtype
from .variable import as_tensor_variable

__all__ = ["SortOp", "ArgSortOp", "TopKOp", "Nonzero", "SearchsortedOp", "Unique", "sort", "argsort", "topk",
           "argtopk", "topk_and_argtopk", "nonzero", "flatnonzero", "nonzero_values", "searchsorted", "unique"]

_KINDS = ("quicksort", "mergesort", "heapsort", "stable")


def _axis_input(x, axis, fn):
    """`axis` as an int scalar input, range-checked when constant."""
    axis = int_scalar(axis, "the axis", fn)
    ax = static_int(axis)
    if ax is not None:
        if x.ndim == 0:
            raise ValueError(f"{fn}: {describe(x)} is a scalar; it has no axis {ax}. At {here()}")
        normalize_axis(ax, x.ndim, fn, x)
    return axis


# --- moving values along an axis by index ---------------------------------------------------------------


class _TakeAlongAxis(Op):
    """`numpy.take_along_axis(v, idx, axis)`."""

    __props__ = ()

    def make_node(self, v, idx, axis):
        v, idx = as_tensor_variable(v), as_tensor_variable(idx)
        return Apply(self, [v, idx, as_tensor_variable(axis)], [TensorType(v.dtype, shape=idx.type.shape)()])

    def perform(self, node, inputs, output_storage):
        v, idx, axis = inputs
        output_storage[0][0] = np.take_along_axis(v, idx.astype(np.intp, copy=False), int(axis))

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[1]]

    def L_op(self, inputs, outputs, output_grads):
        from .shape_ops import shape

        v, idx, axis = inputs
        if is_discrete(v.dtype):
            return [float_zeros_like(v), disconnected(), disconnected()]
        return [_ScatterAlongAxis()(output_grads[0], idx, axis, shape(v)), disconnected(), disconnected()]

    def connection_pattern(self, node):
        return [[True], [False], [False]]


class _ScatterAlongAxis(Op):
    """Zeros of shape `vshape`, plus `g` added at `idx` along `axis` (take_along_axis transposed)."""

    __props__ = ()

    def make_node(self, g, idx, axis, vshape):
        from .shape_ops import static_values

        g = as_tensor_variable(g)
        inputs = [g, as_tensor_variable(idx), as_tensor_variable(axis), vshape]
        return Apply(self, inputs, [TensorType(g.dtype, shape=static_values(vshape))()])

    def perform(self, node, inputs, output_storage):
        g, idx, axis, vshape = inputs
        out = np.zeros(tuple(int(s) for s in vshape), dtype=g.dtype)
        where = list(np.ogrid[tuple(slice(s) for s in idx.shape)])
        where[int(axis)] = idx
        np.add.at(out, tuple(where), g)
        output_storage[0][0] = out

    def infer_shape(self, fgraph, node, input_shapes):
        return [tuple(node.inputs[3][i] for i in range(node.outputs[0].ndim))]

    def L_op(self, inputs, outputs, output_grads):
        g, idx, axis, vshape = inputs
        return [_TakeAlongAxis()(output_grads[0], idx, axis), disconnected(), disconnected(), disconnected()]

    def connection_pattern(self, node):
        return [[True], [False], [False], [False]]


# --- sort and argsort -----------------------------------------------------------------------------------


class _SortBase(Op):
    __props__ = ("kind", "order")
    fn = ""

    def __init__(self, kind="quicksort", order=None):
        if kind not in _KINDS:
            raise ValueError(f"{self.fn}: kind must be one of {', '.join(_KINDS)}, got {kind!r}. At {here()}")
        if order is not None:
            raise ValueError(f"{self.fn}: order= sorts structured arrays by field, and tensors have no fields; "
                             f"leave it None. At {here()}")
        self.kind, self.order = kind, order

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[0]]

    def connection_pattern(self, node):
        return [[True], [False]]


class SortOp(_SortBase):
    """`numpy.sort(x, axis, kind)`; its gradient routes back through the sorting permutation."""

    fn = "sort"

    def make_node(self, input, axis=-1):
        x = as_tensor_variable(input)
        return Apply(self, [x, _axis_input(x, axis, "sort")], [x.type()])

    def perform(self, node, inputs, output_storage):
        x, axis = inputs
        output_storage[0][0] = np.sort(x, axis=int(axis), kind=self.kind)

    def L_op(self, inputs, outputs, output_grads):
        from .shape_ops import shape

        x, axis = inputs
        if is_discrete(x.dtype):
            return [float_zeros_like(x), disconnected()]
        perm = ArgSortOp(self.kind)(x, axis)
        return [_ScatterAlongAxis()(output_grads[0], perm, axis, shape(x)), disconnected()]

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None:
            return [None]
        x, axis = inputs
        return [_TakeAlongAxis()(eval_points[0], ArgSortOp(self.kind)(x, axis), axis)]


class ArgSortOp(_SortBase):
    """`numpy.argsort(x, axis, kind)` as int64 indices."""

    fn = "argsort"

    def make_node(self, input, axis=-1):
        x = as_tensor_variable(input)
        return Apply(self, [x, _axis_input(x, axis, "argsort")], [TensorType("int64", shape=x.type.shape)()])

    def perform(self, node, inputs, output_storage):
        x, axis = inputs
        output_storage[0][0] = np.argsort(x, axis=int(axis), kind=self.kind).astype(np.int64, copy=False)

    def L_op(self, inputs, outputs, output_grads):
        return [float_zeros_like(inputs[0]), disconnected()]


def _flat_if_none(a, axis):
    a = as_tensor_variable(a)
    if axis is None:
        from .shape_ops import flatten

        return flatten(a), 0
    return a, axis


def sort(a, axis=-1, kind="quicksort", order=None) -> Variable:
    """A sorted copy of `a` along `axis` (None: of the flattened tensor), as numpy.sort."""
    op = SortOp(kind, order)
    a, axis = _flat_if_none(a, axis)
    return op(a, axis)


def argsort(a, axis=-1, kind="quicksort", order=None) -> Variable:
    """The int64 indices that sort `a` along `axis` (None: flattened), as numpy.argsort."""
    op = ArgSortOp(kind, order)
    a, axis = _flat_if_none(a, axis)
    return op(a, axis)


# --- top k ----------------------------------------------------------------------------------------------


class TopKOp(Op):
    """The `kth` largest (kth > 0) or `-kth` smallest (kth < 0) values along `axis`, and/or their indices.

    With `sorted=True` they come in order, the most extreme first.
    """

    __props__ = ("axis", "sorted", "idx_dtype", "return_values", "return_indices")

    def __init__(self, axis=-1, sorted=True, idx_dtype="int64", return_values=True, return_indices=True):
        idx_dtype = normalize_dtype(idx_dtype)
        if idx_dtype[0] not in "iu":
            raise TypeError(f"topk: idx_dtype must be an integer dtype, got {idx_dtype}. At {here()}")
        if not (return_values or return_indices):
            raise ValueError(f"topk: return_values and return_indices cannot both be False. At {here()}")
        self.axis, self.sorted, self.idx_dtype = int(axis), bool(sorted), idx_dtype
        self.return_values, self.return_indices = bool(return_values), bool(return_indices)

    def make_node(self, inp, kth):
        x = as_tensor_variable(inp)
        if x.ndim == 0:
            raise ValueError(f"topk: {describe(x)} is a scalar. At {here()}")
        ax = normalize_axis(self.axis, x.ndim, "topk", x)
        kth = int_scalar(kth, "kth", "topk")
        k = static_int(kth)
        if k is not None:
            n = x.type.shape[ax]
            if k == 0 or (n is not None and abs(k) > n):
                raise ValueError(f"topk: kth={k} must be nonzero and at most the length {n} of axis {ax} of "
                                 f"{describe(x)}. At {here()}")
        shape = tuple((abs(k) if k is not None else None) if d == ax else s for d, s in enumerate(x.type.shape))
        outputs = []
        if self.return_values:
            outputs.append(TensorType(x.dtype, shape=shape)())
        if self.return_indices:
            outputs.append(TensorType(self.idx_dtype, shape=shape)())
        return Apply(self, [x, kth], outputs)

    def perform(self, node, inputs, output_storage):
        x, kth = inputs
        ax, k = self.axis % x.ndim, int(kth)
        n, m = x.shape[ax], abs(int(kth))
        if k == 0 or m > n:
            raise ValueError(f"topk: kth={k} must be nonzero and at most the length {n} of axis {ax} of "
                             f"{describe(node.inputs[0])} {built_at(node)}")
        if k > 0:
            idx = np.take(np.argpartition(x, n - m, axis=ax), np.arange(n - m, n), axis=ax)
        else:
            idx = np.take(np.argpartition(x, m - 1, axis=ax), np.arange(m), axis=ax)
        values = np.take_along_axis(x, idx, ax)
        if self.sorted:
            order = np.argsort(values, axis=ax, kind="stable")
            if k > 0:
                order = np.flip(order, axis=ax)
            idx = np.take_along_axis(idx, order, ax)
            values = np.take_along_axis(values, order, ax)
        results = ([values] if self.return_values else []) + (
            [idx.astype(self.idx_dtype)] if self.return_indices else [])
        for cell, r in zip(output_storage, results):
            cell[0] = r

    def infer_shape(self, fgraph, node, input_shapes):
        from .. import tensor as t

        xs = input_shapes[0]
        ax = self.axis % len(xs)
        shape = tuple(t.abs_(node.inputs[1]) if d == ax else s for d, s in enumerate(xs))
        return [shape] * len(node.outputs)

    def L_op(self, inputs, outputs, output_grads):
        from ..gradient import DisconnectedType
        from .shape_ops import shape

        x, kth = inputs
        g = output_grads[0]
        if is_discrete(x.dtype) or not self.return_values or isinstance(g.type, DisconnectedType):
            return [float_zeros_like(x), disconnected()]
        idx = outputs[1] if self.return_indices else TopKOp(
            self.axis, self.sorted, self.idx_dtype, False, True)(x, kth)
        return [_ScatterAlongAxis()(g, idx, self.axis % x.ndim, shape(x)), disconnected()]

    def connection_pattern(self, node):
        return [[True] * len(node.outputs), [False] * len(node.outputs)]


def _topk(x, kth, axis, sorted, idx_dtype, values, indices):
    x = as_tensor_variable(x)
    if axis is None:
        from .shape_ops import flatten

        x, axis = flatten(x), 0
    return TopKOp(axis, sorted, idx_dtype, values, indices)(x, kth)


def topk(x, kth, axis=-1, sorted=True, idx_dtype="int64") -> Variable:
    """The `kth` largest values of `x` along `axis` (kth < 0: the -kth smallest)."""
    return _topk(x, kth, axis, sorted, idx_dtype, True, False)


def argtopk(x, kth, axis=-1, sorted=True, idx_dtype="int64") -> Variable:
    """The indices of `topk(x, kth, axis)` along `axis`."""
    return _topk(x, kth, axis, sorted, idx_dtype, False, True)


def topk_and_argtopk(x, kth, axis=-1, sorted=True, idx_dtype="int64") -> tuple:
    """(topk(...), argtopk(...)) computed together."""
    return tuple(_topk(x, kth, axis, sorted, idx_dtype, True, True))


# --- nonzero --------------------------------------------------------------------------------------------


class Nonzero(Op):
    """The int64 coordinates of the nonzero elements of `a`: a (ndim, nnz) matrix, or one vector per dimension."""

    __props__ = ("return_matrix",)

    def __init__(self, return_matrix: bool = True):
        self.return_matrix = bool(return_matrix)

    def make_node(self, a):
        a = as_tensor_variable(a)
        if a.ndim == 0:
            raise TypeError(f"nonzero: {describe(a)} is a scalar; nonzero needs at least one dimension "
                            f"(use flatnonzero). At {here()}")
        if self.return_matrix:
            outputs = [TensorType("int64", shape=(a.ndim, None))()]
        else:
            outputs = [TensorType("int64", shape=(None,))() for _ in range(a.ndim)]
        return Apply(self, [a], outputs)

    def perform(self, node, inputs, output_storage):
        coords = np.nonzero(inputs[0])
        if self.return_matrix:
            output_storage[0][0] = np.array(coords, dtype=np.int64).reshape(len(coords), -1)
        else:
            for cell, c in zip(output_storage, coords):
                cell[0] = c.astype(np.int64, copy=False)

    def infer_shape(self, fgraph, node, input_shapes):
        from .. import tensor as t

        nnz = t.sum(t.neq(node.inputs[0], 0))
        if self.return_matrix:
            return [(node.inputs[0].ndim, nnz)]
        return [(nnz,)] * len(node.outputs)

    def L_op(self, inputs, outputs, output_grads):
        return [float_zeros_like(inputs[0])]


def nonzero(a, return_matrix=False):
    """The coordinates of the nonzero elements of `a`: a tuple of int64 vectors (numpy.nonzero),
    or with `return_matrix=True` one (a.ndim, nnz) matrix."""
    if return_matrix:
        return Nonzero(True)(a)
    return tuple(Nonzero(False).make_node(a).outputs)


def flatnonzero(a) -> Variable:
    """Indices of the nonzero elements of the flattened `a` (int64 vector)."""
    from .shape_ops import flatten

    a = as_tensor_variable(a)
    return Nonzero(False)(flatten(a) if a.ndim != 1 else a)


class _NonzeroValues(Op):
    """`v.flatten()[flatnonzero(key)]`: the elements of `v` where `key` is nonzero."""

    __props__ = ()

    def make_node(self, key, v):
        key, v = as_tensor_variable(key), as_tensor_variable(v)
        return Apply(self, [key, v], [TensorType(v.dtype, shape=(None,))()])

    def perform(self, node, inputs, output_storage):
        key, v = inputs
        output_storage[0][0] = v[key != 0].reshape(-1)

    def infer_shape(self, fgraph, node, input_shapes):
        from .. import tensor as t

        return [(t.sum(t.neq(node.inputs[0], 0)),)]

    def L_op(self, inputs, outputs, output_grads):
        key, v = inputs
        if is_discrete(v.dtype):
            return [disconnected(), float_zeros_like(v)]
        return [disconnected(), _NonzeroScatter()(key, output_grads[0])]

    def connection_pattern(self, node):
        return [[False], [True]]


class _NonzeroScatter(Op):
    """Zeros shaped like `key`, with `g` placed where `key` is nonzero (_NonzeroValues transposed)."""

    __props__ = ()

    def make_node(self, key, g):
        key, g = as_tensor_variable(key), as_tensor_variable(g)
        return Apply(self, [key, g], [TensorType(g.dtype, shape=key.type.shape)()])

    def perform(self, node, inputs, output_storage):
        key, g = inputs
        out = np.zeros(key.shape, dtype=g.dtype)
        out[key != 0] = g
        output_storage[0][0] = out

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[0]]

    def L_op(self, inputs, outputs, output_grads):
        return [disconnected(), _NonzeroValues()(inputs[0], output_grads[0])]

    def connection_pattern(self, node):
        return [[False], [True]]


def nonzero_values(a) -> Variable:
    """The nonzero elements of `a`, in the order of `flatnonzero(a)`; differentiable w.r.t. `a`."""
    a = as_tensor_variable(a)
    return _NonzeroValues()(a, a)


# --- searchsorted and unique ------------------------------------------------------------------------------


class SearchsortedOp(Op):
    """`numpy.searchsorted(x, v, side, sorter)`: int64 insertion indices, shaped like `v`."""

    __props__ = ("side",)

    def __init__(self, side: str = "left"):
        if side not in ("left", "right"):
            raise ValueError(f"searchsorted: side must be 'left' or 'right', got {side!r}. At {here()}")
        self.side = side

    def make_node(self, x, v, sorter=None):
        x, v = as_tensor_variable(x), as_tensor_variable(v)
        if x.ndim != 1:
            raise TypeError(f"searchsorted: {describe(x)} must be a (sorted) vector, it has {x.ndim} dimensions. "
                            f"At {here()}")
        inputs = [x, v]
        if sorter is not None:
            sorter = as_tensor_variable(sorter)
            if sorter.ndim != 1 or sorter.dtype[0] not in "iu":
                raise TypeError(f"searchsorted: sorter must be an integer vector, got {sorter.type}. At {here()}")
            inputs.append(sorter)
        return Apply(self, inputs, [TensorType("int64", shape=v.type.shape)()])

    def perform(self, node, inputs, output_storage):
        x, v, *sorter = inputs
        out = np.searchsorted(x, v, side=self.side, sorter=sorter[0] if sorter else None)
        output_storage[0][0] = np.asarray(out, dtype=np.int64)

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[1]]

    def L_op(self, inputs, outputs, output_grads):
        return [float_zeros_like(v) for v in inputs]


def searchsorted(x, v, side="left", sorter=None) -> Variable:
    """Indices where `v`'s elements would be inserted into the sorted vector `x` to keep it sorted."""
    return SearchsortedOp(side)(x, v, *([] if sorter is None else [sorter]))



class Unique(Op):
    """`numpy.unique`: the sorted unique values, then (as asked) first indices, inverse and counts.

    The inverse is always a vector (Theano's convention): with `axis=None`
    it indexes the flattened input.
    """

    __props__ = ("return_index", "return_inverse", "return_counts", "axis")

    def __init__(self, return_index=False, return_inverse=False, return_counts=False, axis=None):
        self.return_index, self.return_inverse = bool(return_index), bool(return_inverse)
        self.return_counts, self.axis = bool(return_counts), axis

    def make_node(self, x):
        x = as_tensor_variable(x)
        if self.axis is None:
            values = TensorType(x.dtype, shape=(None,))()
            n = None if None in x.type.shape else int(np.prod(x.type.shape, dtype=np.int64))
        else:
            if not -max(x.ndim, 1) <= self.axis < x.ndim:
                raise ValueError(f"unique: axis {self.axis} out of range for {describe(x)}. At {here()}")
            ax = self.axis % x.ndim
            values = TensorType(x.dtype, shape=tuple(None if d == ax else s for d, s in enumerate(x.type.shape)))()
            n = x.type.shape[ax]
        outputs = [values]
        if self.return_index:
            outputs.append(TensorType("int64", shape=(None,))())
        if self.return_inverse:
            outputs.append(TensorType("int64", shape=(n,))())
        if self.return_counts:
            outputs.append(TensorType("int64", shape=(None,))())
        return Apply(self, [x], outputs)

    def perform(self, node, inputs, output_storage):
        res = np.unique(inputs[0], return_index=self.return_index, return_inverse=self.return_inverse,
                        return_counts=self.return_counts, axis=self.axis)
        res = res if isinstance(res, tuple) else (res,)
        for i, (cell, value) in enumerate(zip(output_storage, res)):
            cell[0] = np.asarray(value) if i == 0 else np.asarray(value, dtype=np.int64).reshape(-1)

    def infer_shape(self, fgraph, node, input_shapes):
        from .. import tensor as t

        (xs,) = input_shapes
        shapes = []
        for i, out in enumerate(node.outputs):
            shapes.append(tuple(t.shape(out)[d] for d in range(out.ndim)))
        if self.return_inverse:
            pos = 1 + self.return_index
            shapes[pos] = ((t.prod(t.stack(list(xs))) if xs else 1) if self.axis is None else xs[self.axis],)
        return shapes

    def L_op(self, inputs, outputs, output_grads):
        from ..gradient import grad_undefined

        return [grad_undefined(self, 0, inputs[0], "unique is not differentiable")]


def unique(ar, return_index=False, return_inverse=False, return_counts=False, axis=None):
    """The sorted unique elements of `ar` (numpy.unique); a list of outputs when any return_* is set."""
    ar = as_tensor_variable(ar)
    if axis is not None:
        axis = normalize_axis(axis, ar.ndim, "unique", ar)
    return Unique(return_index, return_inverse, return_counts, axis)(ar)

