"""NumPy's array utilities as ops: cumsum/cumprod, diff, repeat, one-hot,
bincount and index (un)raveling; Theano's `extra_ops` namespace also gives
tile (join_ops), the diagonal ops (construct), searchsorted and unique
(sort_ops) from here.

Values follow NumPy (cumsum of integers accumulates in int64, as `sum` does).
Where a gradient needs the op's own kind of scatter (repeat, tile, diff,
diagonal), a private "...Grad" op computes it and differentiates back to the
forward op, so second derivatives work too.
"""
from __future__ import annotations

import numpy as np

from ..graph.basic import Apply, Op, Variable
from ..graph.sourceline import here
from ..scalar.dtypes import is_discrete
from .construct import (ExtractDiag, FillDiagonal, FillDiagonalOffset, diagonal, fill_diagonal,  # noqa: F401
                        fill_diagonal_offset)
from .join_ops import Tile, tile
from .op_helpers import built_at, describe, disconnected, float_zeros_like, grad_as, int_scalar, normalize_axis, static_int
from .shape_ops import squeeze  # noqa: F401  (theano.tensor.extra_ops.squeeze)
from .sort_ops import SearchsortedOp, Unique, searchsorted, unique  # noqa: F401
from .type import TensorType, normalize_dtype
from .variable import as_tensor_variable

__all__ = ["CumOp", "DiffOp", "RepeatOp", "Tile", "ExtractDiag", "FillDiagonal", "FillDiagonalOffset", "OneHot",
           "Bincount", "SearchsortedOp", "Unique", "UnravelIndex", "RavelMultiIndex", "cumsum", "cumprod", "diff",
           "repeat", "tile", "diagonal", "fill_diagonal", "fill_diagonal_offset", "to_one_hot", "bincount",
           "searchsorted", "unique", "unravel_index", "ravel_multi_index", "compress"]


def _flip(v, axis: int):
    return v[(slice(None),) * axis + (slice(None, None, -1),)]


def _rev_cumsum(v, axis: int):
    """sum over j >= i along `axis`."""
    return _flip(cumsum(_flip(v, axis), axis), axis)


# --- cumulative sums and products ---------------------------------------------------------------------


def _cum_dtype(dtype: str) -> str:
    kind = np.dtype(dtype).kind
    return {"b": "int64", "i": "int64", "u": "uint64"}.get(kind, dtype)


class CumOp(Op):
    """Cumulative sum (`mode='add'`) or product (`mode='mul'`) along `axis` (None: flattened)."""

    __props__ = ("axis", "mode")

    def __init__(self, axis: int | None = None, mode: str = "add"):
        if mode not in ("add", "mul"):
            raise ValueError(f"CumOp: mode must be 'add' or 'mul', got {mode!r}")
        self.axis, self.mode = axis, mode

    def __str__(self):
        return f"Cum{'sum' if self.mode == 'add' else 'prod'}{{axis={self.axis}}}"

    def make_node(self, x):
        x = as_tensor_variable(x)
        dtype = _cum_dtype(x.dtype)
        if self.axis is None:
            shape = (None if None in x.type.shape else int(np.prod(x.type.shape, dtype=np.int64)),)
        else:
            if not 0 <= self.axis < x.ndim:
                raise ValueError(f"{self}: axis out of range for {describe(x)} ({x.ndim} dimensions). At {here()}")
            shape = x.type.shape
        return Apply(self, [x], [TensorType(dtype, shape=shape)()])

    def perform(self, node, inputs, output_storage):
        fn = np.cumsum if self.mode == "add" else np.cumprod
        output_storage[0][0] = fn(inputs[0], axis=self.axis, dtype=node.outputs[0].type.numpy_dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        from .. import tensor as t

        if self.axis is None:
            return [(t.prod(t.stack(list(input_shapes[0]))) if input_shapes[0] else 1,)]
        return [input_shapes[0]]

    def L_op(self, inputs, outputs, output_grads):
        from .. import tensor as t
        from .shape_ops import reshape, shape

        (x,), (out,), (g,) = inputs, outputs, output_grads
        if is_discrete(x.dtype):
            return [float_zeros_like(x)]
        axis = 0 if self.axis is None else self.axis
        xa = t.flatten(x) if self.axis is None else x
        if self.mode == "add":
            gx = _rev_cumsum(g, axis)
        else:
            gx = _cumprod_grad(xa, out, g, axis)
        if self.axis is None:
            gx = reshape(gx, shape(x), ndim=x.ndim)
        return [grad_as(gx, x)]


def _cumprod_grad(x, out, g, axis):
    """d/dx of cumprod, exact where x holds zeros (no division by them).

    Before the first zero of a lane, x_i divides out_j without harm; at the
    first zero, the product of the others is the cumprod with that zero read
    as 1; after it, every product includes the zero.
    """
    from .. import tensor as t

    is_zero = t.eq(x, 0)
    zeros_so_far = cumsum(is_zero, axis)
    before = t.eq(zeros_so_far, 0)
    first = t.and_(is_zero, t.eq(zeros_so_far, 1))
    before_first = _rev_cumsum(g * out, axis) / t.switch(before, x, 1)
    at_first = _rev_cumsum(g * cumprod(t.switch(first, 1, x), axis), axis)
    return t.switch(before, before_first, t.switch(first, at_first, 0))


def _cum(x, axis, mode, fn):
    x = as_tensor_variable(x)
    if axis is not None:
        if x.ndim == 0:
            raise ValueError(f"{fn}: {describe(x)} is a scalar; it has no axis {axis}. At {here()}")
        axis = normalize_axis(axis, x.ndim, fn, x)
    return CumOp(axis, mode)(x)


def cumsum(x, axis=None) -> Variable:
    """Cumulative sum along `axis` (None: of the flattened tensor), as numpy.cumsum."""
    return _cum(x, axis, "add", "cumsum")


def cumprod(x, axis=None) -> Variable:
    """Cumulative product along `axis` (None: flattened); its gradient is exact at zeros."""
    return _cum(x, axis, "mul", "cumprod")


# --- diff ---------------------------------------------------------------------------------------------


class DiffOp(Op):
    """`numpy.diff(x, n, axis)`: the n-th discrete difference along `axis`."""

    __props__ = ("n", "axis")

    def __init__(self, n: int = 1, axis: int = -1):
        self.n, self.axis = int(n), int(axis)

    def make_node(self, x):
        x = as_tensor_variable(x)
        if x.ndim == 0:
            raise ValueError(f"diff: {describe(x)} is a scalar; diff needs at least one dimension. At {here()}")
        ax = normalize_axis(self.axis, x.ndim, "diff", x)
        shape = list(x.type.shape)
        if shape[ax] is not None:
            shape[ax] = max(0, shape[ax] - self.n)
        return Apply(self, [x], [TensorType(x.dtype, shape=shape)()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = np.asarray(np.diff(inputs[0], n=self.n, axis=self.axis))

    def infer_shape(self, fgraph, node, input_shapes):
        from .. import tensor as t

        xs = list(input_shapes[0])
        ax = self.axis % len(xs)
        xs[ax] = t.maximum(xs[ax] - self.n, 0)
        return [tuple(xs)]

    def L_op(self, inputs, outputs, output_grads):
        from .shape_ops import shape

        (x,) = inputs
        if is_discrete(x.dtype):
            return [float_zeros_like(x)]
        return [_DiffGrad(self.n, self.axis % x.ndim)(output_grads[0], shape(x))]


class _DiffGrad(Op):
    """The transpose of diff: (-1)^n diff(g padded with n zeros on both sides)."""

    __props__ = ("n", "axis")

    def __init__(self, n, axis):
        self.n, self.axis = n, axis

    def make_node(self, g, xshape):
        from .shape_ops import static_values

        g = as_tensor_variable(g)
        return Apply(self, [g, xshape], [TensorType(g.dtype, shape=static_values(xshape))()])

    def perform(self, node, inputs, output_storage):
        g, xshape = inputs
        if xshape[self.axis] < self.n:
            output_storage[0][0] = np.zeros(tuple(xshape), dtype=g.dtype)
            return
        pad = [(0, 0)] * g.ndim
        pad[self.axis] = (self.n, self.n)
        out = np.diff(np.pad(g, pad), n=self.n, axis=self.axis)
        output_storage[0][0] = -out if self.n % 2 else out

    def infer_shape(self, fgraph, node, input_shapes):
        return [tuple(node.inputs[1][i] for i in range(node.outputs[0].ndim))]

    def L_op(self, inputs, outputs, output_grads):
        return [DiffOp(self.n, self.axis)(output_grads[0]), disconnected()]

    def connection_pattern(self, node):
        return [[True], [False]]


def diff(x, n=1, axis=-1) -> Variable:
    """The n-th discrete difference of `x` along `axis` (numpy.diff)."""
    n_int = static_int(n)
    if n_int is None or n_int < 0:
        raise ValueError(f"diff: n must be a non-negative int, got {n!r}. At {here()}")
    x = as_tensor_variable(x)
    if n_int == 0:
        return x
    return DiffOp(n_int, axis)(x)


# --- repeat -------------------------------------------------------------------------------------------


class RepeatOp(Op):
    """`numpy.repeat(x, repeats, axis)`: repeats is an int scalar or one count per element."""

    __props__ = ("axis",)

    def __init__(self, axis: int | None = None):
        self.axis = axis

    def make_node(self, x, repeats):
        x = as_tensor_variable(x)
        repeats = as_tensor_variable(repeats)
        if repeats.ndim > 1 or repeats.dtype[0] not in "iu":
            raise TypeError(f"repeat: repeats must be an integer scalar or vector, got {describe(repeats)} "
                            f"({repeats.type}). At {here()}")
        if self.axis is not None and not 0 <= self.axis < x.ndim:
            raise ValueError(f"repeat: axis {self.axis} out of range for {describe(x)}. At {here()}")
        n = (None if None in x.type.shape else int(np.prod(x.type.shape, dtype=np.int64))) if self.axis is None \
            else x.type.shape[self.axis]
        length = None
        r = getattr(repeats, "data", None)
        if r is not None:
            if np.any(r < 0):
                raise ValueError(f"repeat: repeats {r.tolist()} holds a negative count. At {here()}")
            if r.ndim == 1 and r.shape[0] != 1:
                if n is not None and r.shape[0] != n:
                    raise ValueError(f"repeat: {r.shape[0]} repeat counts for {n} elements along axis {self.axis} "
                                     f"of {describe(x)}. At {here()}")
                length = int(r.sum())
            elif n is not None:
                length = n * int(r.reshape(()))
        shape = (length,) if self.axis is None else tuple(
            length if d == self.axis else s for d, s in enumerate(x.type.shape))
        return Apply(self, [x, repeats], [TensorType(x.dtype, shape=shape)()])

    def perform(self, node, inputs, output_storage):
        x, repeats = inputs
        try:
            output_storage[0][0] = np.repeat(x, repeats.astype(np.int64, copy=False), axis=self.axis)
        except ValueError as e:
            raise ValueError(f"repeat: cannot repeat {describe(node.inputs[0])} of shape {x.shape} by "
                             f"{repeats.tolist()} along axis {self.axis}: {e} {built_at(node)}") from None

    def infer_shape(self, fgraph, node, input_shapes):
        from .. import tensor as t

        x, repeats = node.inputs
        xs = input_shapes[0]
        n = (t.prod(t.stack(list(xs))) if xs else 1) if self.axis is None else xs[self.axis]
        if repeats.ndim == 0:
            length = n * repeats
        else:
            total = t.sum(repeats)
            length = t.switch(t.eq(t.prod(t.shape(repeats)), 1), n * total, total)
        if self.axis is None:
            return [(length,)]
        return [tuple(length if d == self.axis else s for d, s in enumerate(xs))]

    def L_op(self, inputs, outputs, output_grads):
        from .shape_ops import shape

        x, repeats = inputs
        if is_discrete(x.dtype):
            return [float_zeros_like(x), disconnected()]
        return [_RepeatGrad(self.axis)(output_grads[0], shape(x), repeats), disconnected()]

    def connection_pattern(self, node):
        return [[True], [False]]


class _RepeatGrad(Op):
    """Sum each run of repeated elements of `g` back into one (repeat's transpose)."""

    __props__ = ("axis",)

    def __init__(self, axis):
        self.axis = axis

    def make_node(self, g, xshape, repeats):
        from .shape_ops import static_values

        g = as_tensor_variable(g)
        return Apply(self, [g, xshape, repeats], [TensorType(g.dtype, shape=static_values(xshape))()])

    def perform(self, node, inputs, output_storage):
        g, xshape, repeats = inputs
        xshape = tuple(int(s) for s in xshape)
        axis = 0 if self.axis is None else self.axis
        n = int(np.prod(xshape, dtype=np.int64)) if self.axis is None else xshape[axis]
        counts = np.broadcast_to(repeats.reshape(-1), (n,)) if repeats.size == 1 else repeats
        gm = np.moveaxis(g, axis, 0)
        out = np.zeros((n,) + gm.shape[1:], dtype=g.dtype)
        nonempty = counts > 0
        if gm.shape[0]:
            starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
            out[nonempty] = np.add.reduceat(gm, starts[nonempty], axis=0)
        out = np.moveaxis(out, 0, axis)
        output_storage[0][0] = out.reshape(xshape) if self.axis is None else np.ascontiguousarray(out)

    def infer_shape(self, fgraph, node, input_shapes):
        return [tuple(node.inputs[1][i] for i in range(node.outputs[0].ndim))]

    def L_op(self, inputs, outputs, output_grads):
        return [RepeatOp(self.axis)(output_grads[0], inputs[2]), disconnected(), disconnected()]

    def connection_pattern(self, node):
        return [[True], [False], [False]]


def repeat(x, repeats, axis=None) -> Variable:
    """Repeat each element of `x` `repeats` times along `axis` (None: of the flattened tensor).

    `repeats` is an int, an int scalar variable, or one count per element
    (a list or an int vector), as numpy.repeat.
    """
    x = as_tensor_variable(x)
    repeats = as_tensor_variable(repeats)
    if repeats.ndim == 1 and repeats.type.shape[0] == 1:
        from .elemwise import dimshuffle
        from .variable import TensorConstant, constant

        if isinstance(repeats, TensorConstant):
            repeats = constant(repeats.data.reshape(()))
        else:
            repeats = dimshuffle(repeats, ())
    if axis is not None:
        if x.ndim == 0:
            raise ValueError(f"repeat: {describe(x)} is a scalar; it has no axis {axis}. At {here()}")
        axis = normalize_axis(axis, x.ndim, "repeat", x)
    return RepeatOp(axis)(x, repeats)


# --- one-hot, bincount ---------------------------------------------------------------------------------


class OneHot(Op):
    """`y` (integer class labels) as one-hot rows of length `nb_class`."""

    __props__ = ("dtype",)

    def __init__(self, dtype=None):
        self.dtype = normalize_dtype(dtype)

    def make_node(self, y, nb_class):
        y = as_tensor_variable(y)
        if y.dtype[0] not in "iu":
            raise TypeError(f"to_one_hot: the labels {describe(y)} must be integers, got {y.dtype}. At {here()}")
        nb_class = int_scalar(nb_class, "nb_class", "to_one_hot")
        return Apply(self, [y, nb_class], [TensorType(self.dtype, shape=y.type.shape + (static_int(nb_class),))()])

    def perform(self, node, inputs, output_storage):
        y, nb_class = inputs
        nb_class = int(nb_class)
        bad = (y < 0) | (y >= nb_class)
        if np.any(bad):
            raise ValueError(f"to_one_hot: label {y[bad].flat[0]} of {describe(node.inputs[0])} is outside "
                             f"[0, {nb_class}) {built_at(node)}")
        out = np.zeros(y.shape + (nb_class,), dtype=self.dtype)
        np.put_along_axis(out, y[..., None].astype(np.intp), 1, axis=-1)
        output_storage[0][0] = out

    def infer_shape(self, fgraph, node, input_shapes):
        return [tuple(input_shapes[0]) + (node.inputs[1],)]

    def L_op(self, inputs, outputs, output_grads):
        return [float_zeros_like(v) for v in inputs]


def to_one_hot(y, nb_class, dtype=None) -> Variable:
    """One-hot encoding of the integer labels `y` (shape y.shape + (nb_class,), dtype floatX by default)."""
    return OneHot(dtype)(y, nb_class)


class Bincount(Op):
    """`numpy.bincount(x, weights, minlength)`: int64 counts, or sums of weights."""

    __props__ = ()

    def make_node(self, x, minlength, weights=None):
        x = as_tensor_variable(x)
        if x.ndim != 1 or x.dtype[0] not in "iu":
            raise TypeError(f"bincount: {describe(x)} must be a vector of integers, got {x.type}. At {here()}")
        minlength = int_scalar(minlength, "minlength", "bincount")
        inputs, dtype = [x, minlength], "int64"
        if weights is not None:
            weights = as_tensor_variable(weights)
            if weights.ndim != 1:
                raise TypeError(f"bincount: weights {describe(weights)} must be a vector. At {here()}")
            xs, ws = x.type.shape[0], weights.type.shape[0]
            if xs is not None and ws is not None and xs != ws:
                raise ValueError(f"bincount: weights have length {ws}, {describe(x)} has {xs}. At {here()}")
            inputs.append(weights)
            dtype = weights.dtype if weights.dtype.startswith("float") else "float64"
        return Apply(self, inputs, [TensorType(dtype, shape=(None,))()])

    def perform(self, node, inputs, output_storage):
        x, minlength, *weights = inputs
        try:
            out = np.bincount(x, weights[0] if weights else None, minlength=int(minlength))
        except (ValueError, TypeError) as e:
            raise ValueError(f"bincount of {describe(node.inputs[0])}: {e} {built_at(node)}") from None
        output_storage[0][0] = out.astype(node.outputs[0].type.numpy_dtype, copy=False)

    def infer_shape(self, fgraph, node, input_shapes):
        from .. import tensor as t
        from .join_ops import join

        x, minlength = node.inputs[:2]
        largest = t.max(join(0, t.cast(x, "int64"), np.array([-1], dtype=np.int64)))
        return [(t.maximum(largest + 1, minlength),)]

    def L_op(self, inputs, outputs, output_grads):
        grads = [float_zeros_like(inputs[0]), disconnected()]
        if len(inputs) == 3:
            grads.append(grad_as(output_grads[0][inputs[0]], inputs[2]))
        return grads

    def connection_pattern(self, node):
        return [[False], [False]] + [[True]] * (len(node.inputs) - 2)


def bincount(x, weights=None, minlength=None, assert_nonneg=False) -> Variable:
    """Count occurrences of each value in the non-negative int vector `x` (or sum `weights` per value).

    Counts are int64; with float weights the sums keep their dtype (other
    weights sum in float64). Negative values are an error at run time
    whatever `assert_nonneg` says.
    """
    return Bincount()(x, 0 if minlength is None else minlength, *([] if weights is None else [weights]))


# --- index raveling ----------------------------------------------------------------------------------


class UnravelIndex(Op):
    """`numpy.unravel_index(indices, dims, order)`: one int64 array per dimension."""

    __props__ = ("order",)

    def __init__(self, order="C"):
        if order not in ("C", "F"):
            raise ValueError(f"unravel_index: order must be 'C' or 'F', got {order!r}")
        self.order = order

    def make_node(self, indices, dims):
        from .shape_ops import as_shape_vector

        indices = as_tensor_variable(indices)
        if indices.dtype[0] not in "iu":
            raise TypeError(f"unravel_index: indices must be integers, got {describe(indices)} ({indices.dtype}). "
                            f"At {here()}")
        dims = as_shape_vector(dims, "unravel_index's dims")
        n = dims.type.shape[0]
        if n is None:
            raise ValueError(f"unravel_index: the number of dims must be known; pass ndim=. At {here()}")
        return Apply(self, [indices, dims], [TensorType("int64", shape=indices.type.shape)() for _ in range(n)])

    def perform(self, node, inputs, output_storage):
        indices, dims = inputs
        try:
            res = np.unravel_index(indices, tuple(int(d) for d in dims), order=self.order)
        except ValueError as e:
            raise ValueError(f"unravel_index of {describe(node.inputs[0])}: {e} {built_at(node)}") from None
        for cell, v in zip(output_storage, res):
            cell[0] = np.asarray(v, dtype=np.int64)

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[0]] * len(node.outputs)

    def L_op(self, inputs, outputs, output_grads):
        return [float_zeros_like(inputs[0]), disconnected()]


def unravel_index(indices, dims, order="C", ndim=None) -> tuple:
    """Flat indices into `dims` as a tuple of coordinate arrays (numpy.unravel_index)."""
    from .shape_ops import as_shape_vector, specify_shape

    dims = as_shape_vector(dims, "unravel_index's dims")
    if dims.type.shape[0] is None and ndim is not None:
        dims = specify_shape(dims, (int(ndim),))
    out = UnravelIndex(order).make_node(indices, dims).outputs
    return tuple(out)


class RavelMultiIndex(Op):
    """`numpy.ravel_multi_index(multi_index, dims, mode, order)`: flat int64 indices."""

    __props__ = ("mode", "order")

    def __init__(self, mode="raise", order="C"):
        self.mode, self.order = mode, order

    def make_node(self, *inputs):
        from .shape_ops import as_shape_vector

        *multi, dims = inputs
        multi = [as_tensor_variable(m) for m in multi]
        if not multi:
            raise TypeError(f"ravel_multi_index needs at least one index array. At {here()}")
        for i, m in enumerate(multi):
            if m.dtype[0] not in "iu":
                raise TypeError(f"ravel_multi_index: index {describe(m, i)} must be integers, got {m.dtype}. "
                                f"At {here()}")
        dims = as_shape_vector(dims, "ravel_multi_index's dims")
        if dims.type.shape[0] is not None and dims.type.shape[0] != len(multi):
            raise ValueError(f"ravel_multi_index: {len(multi)} index arrays for {dims.type.shape[0]} dims. "
                             f"At {here()}")
        return Apply(self, [*multi, dims], [TensorType("int64", shape=multi[0].type.shape)()])

    def perform(self, node, inputs, output_storage):
        *multi, dims = inputs
        try:
            out = np.ravel_multi_index(tuple(multi), tuple(int(d) for d in dims), mode=self.mode, order=self.order)
        except ValueError as e:
            raise ValueError(f"ravel_multi_index: {e} {built_at(node)}") from None
        output_storage[0][0] = np.asarray(out, dtype=np.int64)

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[0]]

    def L_op(self, inputs, outputs, output_grads):
        return [float_zeros_like(v) for v in inputs[:-1]] + [disconnected()]


def ravel_multi_index(multi_index, dims, mode="raise", order="C") -> Variable:
    """A tuple of coordinate arrays into `dims` as flat indices (numpy.ravel_multi_index)."""
    if not isinstance(multi_index, (tuple, list)):
        raise TypeError(f"ravel_multi_index: multi_index must be a tuple of index arrays. At {here()}")
    return RavelMultiIndex(mode if isinstance(mode, str) else tuple(mode), order)(*multi_index, dims)


def compress(condition, x, axis=None) -> Variable:
    """The slices of `x` along `axis` where `condition` is true (numpy.compress)."""
    from .sort_ops import flatnonzero

    return as_tensor_variable(x).take(flatnonzero(condition), axis=axis)
