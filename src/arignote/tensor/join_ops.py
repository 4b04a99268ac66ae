"""Joining, splitting and repeating tensors: join/concatenate, stack, split, roll, tile.

`Join` takes its axis as an input (Theano's signature `join(axis, *tensors)`),
so the axis may be symbolic; a constant axis lets the output's static shape be
known. `Split` is Join's inverse and its gradient, and vice versa.
"""
from __future__ import annotations

import numbers

import numpy as np

from ..graph.basic import Apply, Op, Variable
from ..graph.sourceline import here
from ..scalar.dtypes import is_discrete, upcast
from .op_helpers import (describe, dim, disconnected, float_zeros_like, grad_as, int_scalar, int_vector,
                         normalize_axis, static_int)
from .type import TensorType
from .variable import as_tensor_variable, constant

__all__ = ["Join", "Split", "Roll", "join", "concatenate", "stack", "split", "horizontal_stack",
           "vertical_stack", "roll", "Tile", "tile"]


# --- Join ---------------------------------------------------------------------------------------------


class Join(Op):
    """Concatenate tensors along an axis: `Join()(axis, *tensors)`.

    All tensors have the same number of dimensions and agree in every
    dimension except `axis`; the output dtype is NumPy's result_type of theirs.
    """

    __props__ = ()

    def make_node(self, axis, *tensors):
        if not tensors:
            raise TypeError(f"join needs at least one tensor to join. At {here()}")
        axis_var = int_scalar(axis, "the axis", "join")
        tensors = [as_tensor_variable(t) for t in tensors]
        ndim = tensors[0].ndim
        for i, t in enumerate(tensors):
            if t.ndim == 0:
                raise TypeError(f"join: {describe(t, i)} is a scalar; scalars cannot be joined (use stack). "
                                f"At {here()}")
            if t.ndim != ndim:
                raise TypeError(f"join: all tensors must have the same number of dimensions, but "
                                f"{describe(tensors[0], 0)} has {ndim} and {describe(t, i)} has {t.ndim}. "
                                f"At {here()}")
        dtype = upcast(*[t.dtype for t in tensors])
        ax = static_int(axis_var)
        if ax is None:
            shape = (None,) * ndim
        else:
            ax = normalize_axis(ax, ndim, "join", tensors[0])
            shape = _joined_shape(tensors, ax)
        return Apply(self, [axis_var, *tensors], [TensorType(dtype, shape=shape)()])

    def perform(self, node, inputs, output_storage):
        axis, *arrays = inputs
        out_type = node.outputs[0].type
        try:
            out = np.concatenate(arrays, axis=int(axis), dtype=out_type.numpy_dtype)
        except ValueError as e:
            shapes = ", ".join(f"{describe(v, i)}: {a.shape}" for i, (v, a) in enumerate(zip(node.inputs[1:], arrays)))
            raise ValueError(f"join along axis {int(axis)}: the tensors' shapes do not agree outside that axis "
                             f"({shapes}): {e} (built at {node.outputs[0].creation_line})") from None
        output_storage[0][0] = out

    def infer_shape(self, fgraph, node, input_shapes):
        from .. import tensor as t

        axis = node.inputs[0]
        shapes = input_shapes[1:]
        ndim = node.outputs[0].ndim
        ax = static_int(axis)
        out = []
        for d in range(ndim):
            total = sum([s[d] for s in shapes])
            if ax is not None:
                out.append(total if d == ax % ndim else shapes[0][d])
            else:
                out.append(t.switch(t.eq(t.mod(axis, ndim), d), total, shapes[0][d]))
        return [tuple(out)]

    def L_op(self, inputs, outputs, output_grads):
        axis, *tensors = inputs
        (g,) = output_grads
        sizes = [_length_along(t, axis) for t in tensors]
        if len(tensors) == 1:
            parts = [g]
        else:
            parts = split(g, sizes, len(tensors), axis)
        return [disconnected()] + [grad_as(p, t) for p, t in zip(parts, tensors)]

    def connection_pattern(self, node):
        return [[False]] + [[True]] * (len(node.inputs) - 1)


_join = Join()


def _joined_shape(tensors, ax: int) -> tuple:
    shape = []
    for d in range(tensors[0].ndim):
        lengths = [t.type.shape[d] for t in tensors]
        if d == ax:
            shape.append(None if None in lengths else int(sum(lengths)))
            continue
        known = {s for s in lengths if s is not None}
        if len(known) > 1:
            parts = ", ".join(f"{describe(t, i)} has length {t.type.shape[d]}"
                              for i, t in enumerate(tensors) if t.type.shape[d] is not None)
            raise ValueError(f"join along axis {ax}: the tensors disagree in dimension {d} ({parts}); every "
                             f"dimension except the join axis must match. At {here()}")
        shape.append(known.pop() if known else None)
    return tuple(shape)


def _length_along(x, axis):
    ax = static_int(axis)
    if ax is not None:
        return dim(x, ax % x.ndim)
    from .shape_ops import shape

    return shape(x)[axis]


def join(axis, *tensors_list) -> Variable:
    """Concatenate `tensors_list` along `axis` (Theano's order: axis first).

    >>> import numpy as np, arignote.tensor as T
    >>> a, b = T.dmatrices('a', 'b')
    >>> T.join(0, a, b).eval({a: np.ones((1, 2)), b: np.zeros((2, 2))}).shape
    (3, 2)
    """
    if len(tensors_list) == 1 and isinstance(tensors_list[0], (list, tuple)):
        tensors_list = tuple(tensors_list[0])
    if len(tensors_list) == 1:
        x = as_tensor_variable(tensors_list[0])
        ax = static_int(axis)
        if ax is not None:
            if x.ndim == 0:
                raise TypeError(f"join: {describe(x)} is a scalar; scalars cannot be joined. At {here()}")
            normalize_axis(ax, x.ndim, "join", x)
        return x
    return _join(axis, *tensors_list)


def concatenate(tensor_list, axis=0) -> Variable:
    """NumPy-style `concatenate([a, b, ...], axis=0)`."""
    if isinstance(tensor_list, Variable) or not isinstance(tensor_list, (list, tuple)):
        raise TypeError(f"concatenate takes a list or tuple of tensors as its first argument, got "
                        f"{type(tensor_list).__name__}; did you mean join(axis, *tensors)? At {here()}")
    return join(axis, *tensor_list)


def _is_scalar_like(v) -> bool:
    if isinstance(v, Variable):
        return isinstance(v.type, TensorType) and v.ndim == 0
    return isinstance(v, (numbers.Number, np.generic)) or (isinstance(v, np.ndarray) and v.ndim == 0)


def stack(*tensors, **kwargs) -> Variable:
    """Join tensors of equal shape along a new axis: `stack([a, b], axis=0)`.

    Theano's older forms `stack(a, b, c)` and `stack(tensors, axis)` work too.
    Scalars are stacked into a vector (with `make_vector`).
    """
    unknown = set(kwargs) - {"axis", "tensors"}
    if unknown:
        raise TypeError(f"stack got unexpected keyword arguments {sorted(unknown)}. At {here()}")
    axis = kwargs.get("axis", 0)
    if "tensors" in kwargs:
        if tensors:
            raise TypeError(f"stack: tensors given both positionally and as tensors=. At {here()}")
        tensors = tuple(kwargs["tensors"])
    elif tensors and isinstance(tensors[0], (list, tuple)):
        if len(tensors) == 2 and "axis" not in kwargs:
            axis = tensors[1]
        elif len(tensors) > 1:
            raise TypeError(f"stack(tensors, axis=0) takes one list of tensors, got {len(tensors)} arguments. "
                            f"At {here()}")
        tensors = tuple(tensors[0])
    if not tensors:
        raise ValueError(f"stack needs at least one tensor. At {here()}")
    if all(_is_scalar_like(t) for t in tensors):
        from .elemwise import _weak_constants
        from .shape_ops import make_vector

        ax = static_int(axis)
        if ax is None or ax not in (0, -1):
            raise ValueError(f"stack: stacking scalars gives a vector, so axis must be 0 or -1, got {axis!r}. "
                             f"At {here()}")
        return make_vector(_weak_constants(list(tensors)))
    from .shape_ops import shape_padaxis

    tensors = [as_tensor_variable(t) for t in tensors]
    ndim = tensors[0].ndim
    for i, t in enumerate(tensors):
        if t.ndim != ndim:
            raise ValueError(f"stack: all tensors must have the same shape, but {describe(tensors[0], 0)} has "
                             f"{ndim} dimensions and {describe(t, i)} has {t.ndim}. At {here()}")
    ax = static_int(axis)
    if ax is None:
        raise TypeError(f"stack: axis must be an int, got {axis!r}. At {here()}")
    ax = normalize_axis(ax, ndim + 1, "stack")
    padded = [shape_padaxis(t, ax) for t in tensors]
    if len(padded) == 1:
        return padded[0]
    return _join(ax, *padded)


# --- Split --------------------------------------------------------------------------------------------


class Split(Op):
    """Split `x` along `axis` into `len_splits` pieces of the given lengths.

    `Split(n)(x, axis, splits)`: `splits` is an int vector of n lengths that
    sum to `x.shape[axis]`. The outputs are views of `x`.
    """

    __props__ = ("len_splits",)

    def __init__(self, len_splits: int):
        self.len_splits = int(len_splits)
        self.view_map = {i: [0] for i in range(self.len_splits)}

    def __str__(self):
        return f"Split{{{self.len_splits}}}"

    def make_node(self, x, axis, splits):
        from .shape_ops import static_values

        x = as_tensor_variable(x)
        if x.ndim == 0:
            raise TypeError(f"split: cannot split the scalar {describe(x)}. At {here()}")
        axis = int_scalar(axis, "the axis", "split")
        splits = int_vector(splits, "splits_size", "split")
        n = splits.type.shape[0]
        if n is not None and n != self.len_splits:
            raise ValueError(f"split: {self.len_splits} pieces asked (n_splits) but splits_size has {n} entries. "
                             f"At {here()}")
        known = static_values(splits) or (None,) * self.len_splits
        for i, k in enumerate(known):
            if k is not None and k < 0:
                raise ValueError(f"split: splits_size[{i}] is {k}; lengths must be non-negative. At {here()}")
        ax = static_int(axis)
        if ax is None:
            shapes = [(None,) * x.ndim] * self.len_splits
        else:
            ax = normalize_axis(ax, x.ndim, "split", x)
            total = x.type.shape[ax]
            if total is not None and None not in known and sum(known) != total:
                raise ValueError(f"split: splits_size {list(known)} sums to {sum(known)}, but dimension {ax} of "
                                 f"{describe(x)} has length {total}. At {here()}")
            shapes = [tuple(k if d == ax else s for d, s in enumerate(x.type.shape)) for k in known]
        return Apply(self, [x, axis, splits], [TensorType(x.dtype, shape=s)() for s in shapes])

    def perform(self, node, inputs, output_storage):
        x, axis, splits = inputs
        axis = int(axis)
        where = f"(built at {node.outputs[0].creation_line})"
        if len(splits) != self.len_splits:
            raise ValueError(f"split: splits_size has {len(splits)} entries at run time, but {self.len_splits} "
                             f"pieces were asked for {where}")
        if np.any(splits < 0):
            raise ValueError(f"split: splits_size {splits.tolist()} holds a negative length {where}")
        if not -x.ndim <= axis < x.ndim:
            raise ValueError(f"split: axis {axis} is out of range for {x.ndim} dimensions {where}")
        if int(np.sum(splits)) != x.shape[axis]:
            raise ValueError(f"split: splits_size {splits.tolist()} sums to {int(np.sum(splits))}, but "
                             f"{describe(node.inputs[0])} has length {x.shape[axis]} along axis {axis} {where}")
        pieces = np.split(x, np.cumsum(splits)[:-1], axis=axis)
        for cell, piece in zip(output_storage, pieces):
            cell[0] = piece

    def infer_shape(self, fgraph, node, input_shapes):
        from .. import tensor as t
        from .shape_ops import static_values

        x, axis, splits = node.inputs
        xshape = input_shapes[0]
        known = static_values(splits) or (None,) * self.len_splits
        lengths = [k if k is not None else splits[i] for i, k in enumerate(known)]
        ax = static_int(axis)
        out = []
        for length in lengths:
            if ax is not None:
                out.append(tuple(length if d == ax % x.ndim else s for d, s in enumerate(xshape)))
            else:
                out.append(tuple(t.switch(t.eq(t.mod(axis, x.ndim), d), length, s) for d, s in enumerate(xshape)))
        return out

    def L_op(self, inputs, outputs, output_grads):
        from ..gradient import DisconnectedType
        from .. import tensor as t

        x, axis, splits = inputs
        if is_discrete(x.dtype):
            return [t.zeros_like(x, dtype="floatX"), disconnected(), disconnected()]
        parts = [t.zeros_like(o) if isinstance(g.type, DisconnectedType) else g
                 for o, g in zip(outputs, output_grads)]
        g = parts[0] if len(parts) == 1 else _join(axis, *parts)
        return [grad_as(g, x), disconnected(), disconnected()]

    def connection_pattern(self, node):
        return [[True] * self.len_splits, [False] * self.len_splits, [False] * self.len_splits]


def split(x, splits_size, n_splits, axis=0) -> list:
    """Split `x` along `axis` into `n_splits` pieces of lengths `splits_size`.

    Returns a list of `n_splits` tensors (Theano's `Split` op).

    >>> import numpy as np, arignote.tensor as T
    >>> x = T.dvector('x')
    >>> a, b = T.split(x, [1, 2], 2)
    >>> b.eval({x: np.arange(3.0)}).tolist()
    [1.0, 2.0]
    """
    n = static_int(n_splits)
    if n is None or n < 1:
        raise ValueError(f"split: n_splits must be a positive int, got {n_splits!r}. At {here()}")
    node = Split(n).make_node(x, axis, splits_size)
    return list(node.outputs)


def horizontal_stack(*args) -> Variable:
    """Join matrices side by side (along axis 1). Unlike numpy.hstack, only for matrices."""
    return _stack_matrices(args, 1, "horizontal_stack")


def vertical_stack(*args) -> Variable:
    """Join matrices one above the other (along axis 0). Unlike numpy.vstack, only for matrices."""
    return _stack_matrices(args, 0, "vertical_stack")


def _stack_matrices(args, axis, fn):
    if len(args) == 1 and isinstance(args[0], (list, tuple)):
        args = tuple(args[0])
    if not args:
        raise TypeError(f"{fn} needs at least one matrix. At {here()}")
    args = [as_tensor_variable(a) for a in args]
    for i, a in enumerate(args):
        if a.ndim != 2:
            raise TypeError(f"{fn} joins matrices, but {describe(a, i)} has {a.ndim} dimension"
                            f"{'s' if a.ndim != 1 else ''}; use concatenate/join for other ranks. At {here()}")
    return join(axis, *args)


# --- Roll ---------------------------------------------------------------------------------------------


class Roll(Op):
    """`numpy.roll(x, shift, axis)` along one axis (None: the flattened array)."""

    __props__ = ("axis",)

    def __init__(self, axis: int | None):
        self.axis = axis

    def make_node(self, x, shift):
        x = as_tensor_variable(x)
        shift = int_scalar(shift, "the shift", "roll")
        if self.axis is not None and not 0 <= self.axis < x.ndim:
            raise ValueError(f"roll: axis {self.axis} is out of range for {describe(x)} ({x.ndim} dimensions). "
                             f"At {here()}")
        return Apply(self, [x, shift], [x.type()])

    def perform(self, node, inputs, output_storage):
        x, shift = inputs
        output_storage[0][0] = np.roll(x, int(shift), axis=self.axis)

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[0]]

    def L_op(self, inputs, outputs, output_grads):
        from .. import tensor as t

        x, shift = inputs
        if is_discrete(x.dtype):
            return [t.zeros_like(x, dtype="floatX"), disconnected()]
        return [self(output_grads[0], t.neg(shift)), disconnected()]

    def connection_pattern(self, node):
        return [[True], [False]]

    def R_op(self, inputs, eval_points):
        return [None if eval_points[0] is None else self(eval_points[0], inputs[1])]


def roll(x, shift, axis=None) -> Variable:
    """Shift the elements of `x` by `shift` places along `axis`, wrapping around (numpy.roll).

    `axis=None` rolls the flattened tensor and restores its shape; `shift` may
    be symbolic; a tuple of axes takes a tuple of shifts (or one for all).
    """
    x = as_tensor_variable(x)
    if isinstance(axis, (list, tuple)):
        shifts = list(shift) if isinstance(shift, (list, tuple)) else [shift] * len(axis)
        if len(shifts) != len(axis):
            raise ValueError(f"roll: {len(shifts)} shifts for {len(axis)} axes. At {here()}")
        for s, a in zip(shifts, axis):
            x = roll(x, s, a)
        return x
    if isinstance(shift, (list, tuple)):
        raise ValueError(f"roll: a sequence of shifts needs a sequence of axes. At {here()}")
    if axis is None:
        return Roll(None)(x, shift)
    if x.ndim == 0:
        raise ValueError(f"roll: {describe(x)} is a scalar; it has no axis {axis}. At {here()}")
    return Roll(normalize_axis(axis, x.ndim, "roll", x))(x, shift)


# --- Tile ---------------------------------------------------------------------------------------------


class Tile(Op):
    """`numpy.tile(x, reps)` where `reps` has one count per dimension of `x`."""

    __props__ = ()

    def make_node(self, x, reps):
        from .shape_ops import static_values

        x = as_tensor_variable(x)
        reps = int_vector(reps, "reps", "tile")
        n = reps.type.shape[0]
        if n is not None and n != x.ndim:
            raise ValueError(f"Tile: reps has {n} entries for the {x.ndim} dimensions of {describe(x)}. At {here()}")
        known = static_values(reps) or (None,) * x.ndim
        for r in known:
            if r is not None and r < 0:
                raise ValueError(f"tile: reps {list(known)} holds a negative count. At {here()}")
        shape = tuple(0 if 0 in (s, r) else (s * r if s is not None and r is not None else None)
                      for s, r in zip(x.type.shape, known))
        return Apply(self, [x, reps], [TensorType(x.dtype, shape=shape)()])

    def perform(self, node, inputs, output_storage):
        x, reps = inputs
        if len(reps) != x.ndim or np.any(reps < 0):
            raise ValueError(f"tile: reps {reps.tolist()} must hold {x.ndim} non-negative counts "
                             f"(built at {node.outputs[0].creation_line})")
        output_storage[0][0] = np.tile(x, tuple(int(r) for r in reps))

    def infer_shape(self, fgraph, node, input_shapes):
        from .shape_ops import static_values

        reps = node.inputs[1]
        known = static_values(reps) or (None,) * len(input_shapes[0])
        return [tuple(s * (k if k is not None else reps[i]) for i, (s, k) in enumerate(zip(input_shapes[0], known)))]

    def L_op(self, inputs, outputs, output_grads):
        from .shape_ops import shape

        x, reps = inputs
        if is_discrete(x.dtype):
            return [float_zeros_like(x), disconnected()]
        return [_TileGrad()(output_grads[0], shape(x), reps), disconnected()]

    def connection_pattern(self, node):
        return [[True], [False]]


class _TileGrad(Op):
    """Sum the tiles of `g` into one tile of shape `xshape` (Tile's transpose)."""

    __props__ = ()

    def make_node(self, g, xshape, reps):
        from .shape_ops import static_values

        g = as_tensor_variable(g)
        return Apply(self, [g, xshape, reps], [TensorType(g.dtype, shape=static_values(xshape))()])

    def perform(self, node, inputs, output_storage):
        g, xshape, reps = inputs
        interleaved = [int(v) for pair in zip(reps, xshape) for v in pair]
        summed = g.reshape(interleaved).sum(axis=tuple(range(0, 2 * g.ndim, 2)), dtype=g.dtype)
        output_storage[0][0] = np.asarray(summed, dtype=g.dtype).reshape(tuple(int(s) for s in xshape))

    def infer_shape(self, fgraph, node, input_shapes):
        return [tuple(node.inputs[1][i] for i in range(node.outputs[0].ndim))]

    def L_op(self, inputs, outputs, output_grads):
        return [Tile()(output_grads[0], inputs[2]), disconnected(), disconnected()]

    def connection_pattern(self, node):
        return [[True], [False], [False]]


def tile(x, reps, ndim=None) -> Variable:
    """Repeat `x` `reps` times along each dimension (numpy.tile).

    `reps` is an int, a list of ints / int scalars, or an int vector (then
    give `ndim` unless its length is known). The output has `ndim`
    dimensions (default: max(x.ndim, len(reps))); `x` and `reps` are padded
    on the left with length-1 dimensions / ones as needed.
    """
    from .shape_ops import shape_padleft

    x = as_tensor_variable(x)
    if isinstance(reps, Variable) and reps.ndim == 0:
        reps = [reps]
    reps_vec = int_vector(reps, "reps", "tile")
    n_reps = reps_vec.type.shape[0]
    if n_reps is None:
        if ndim is None:
            raise ValueError(f"tile: the length of reps {reps} is not known; pass ndim=. At {here()}")
        n_reps = int(ndim)
    ndim = max(x.ndim, n_reps) if ndim is None else int(ndim)
    if ndim < x.ndim or ndim < n_reps:
        raise ValueError(f"tile: ndim={ndim} is smaller than the {x.ndim} dimensions of {describe(x)} or the "
                         f"{n_reps} entries of reps. At {here()}")
    if x.ndim < ndim:
        x = shape_padleft(x, ndim - x.ndim)
    if n_reps < ndim:
        reps_vec = join(0, constant(np.ones(ndim - n_reps, dtype=np.int64)), reps_vec)
    return Tile()(x, reps_vec)
