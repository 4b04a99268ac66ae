"""Shapes: reading them, asserting them, reshaping, and allocating by shape.

`x.shape` is a symbolic int64 vector; `reshape`, `alloc`, `zeros` accept
shapes given as tuples of ints and scalar variables, or as int vectors.
"""
from __future__ import annotations

import numpy as np

from ..graph.basic import Apply, Constant, Op, Variable
from ..graph.sourceline import here
from .elemwise import dimshuffle
from .type import TensorType, normalize_dtype
from .variable import as_tensor_variable, constant


class Shape(Op):
    """The shape of a tensor, as an int64 vector."""

    view_map: dict = {}

    def make_node(self, x):
        x = as_tensor_variable(x)
        return Apply(self, [x], [TensorType("int64", shape=(x.ndim,))()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = np.asarray(inputs[0].shape, dtype=np.int64)

    def infer_shape(self, fgraph, node, input_shapes):
        return [(node.inputs[0].ndim,)]

    def L_op(self, inputs, outputs, output_grads):
        from .. import tensor as t

        return [t.zeros_like(inputs[0], dtype="floatX" if inputs[0].dtype[0] in "biu" else inputs[0].dtype)]


_shape = Shape()


def shape(x) -> Variable:
    """`x.shape`: a symbolic int64 vector (index it: `x.shape[0]`)."""
    return _shape(as_tensor_variable(x))


class MakeVector(Op):
    """A vector from scalars: `[a, b, c]` in a shape argument."""

    __props__ = ("dtype",)

    def __init__(self, dtype: str = "int64"):
        self.dtype = dtype

    def make_node(self, *scalars):
        scalars = [as_tensor_variable(s) for s in scalars]
        for i, s in enumerate(scalars):
            if s.ndim != 0:
                raise TypeError(f"MakeVector: element {i} ({s}) is not a scalar. At {here()}")
        return Apply(self, scalars, [TensorType(self.dtype, shape=(len(scalars),))()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = np.asarray(inputs, dtype=self.dtype).reshape(len(inputs))

    def infer_shape(self, fgraph, node, input_shapes):
        return [(len(node.inputs),)]

    def L_op(self, inputs, outputs, output_grads):
        (g,) = output_grads
        from .. import tensor as t

        if self.dtype[0] in "biu":
            return [t.zeros_like(i, dtype="floatX") for i in inputs]
        return [t.cast(g[i], inputs[i].dtype) for i in range(len(inputs))]


def make_vector(scalars, dtype=None) -> Variable:
    from ..scalar.dtypes import upcast

    scalars = [as_tensor_variable(s) for s in scalars]
    dtype = dtype or (upcast(*[s.dtype for s in scalars]) if scalars else "int64")
    return MakeVector(dtype)(*scalars)


def as_shape_vector(shp, name: str = "shape") -> Variable:
    """A shape given as ints, scalar variables or an int vector, as an int64 vector."""
    if isinstance(shp, Variable):
        v = as_tensor_variable(shp)
        if v.ndim == 0:
            v = make_vector([v])
    else:
        if isinstance(shp, (int, np.integer)):
            shp = (shp,)
        items = list(shp)
        for k, s in enumerate(items):
            if not isinstance(s, (int, np.integer, Variable)) or isinstance(s, bool) or (
                    isinstance(s, Variable) and (s.ndim != 0 or s.dtype[0] not in "iu")):
                raise TypeError(f"{name}: entry {k} ({s!r}) is not an integer or an integer scalar variable. "
                                f"At {here()}")
        if all(isinstance(s, (int, np.integer)) for s in items):
            v = constant(np.asarray(items, dtype=np.int64).reshape(len(items)))
        else:
            v = make_vector([as_tensor_variable(s) for s in items], dtype="int64")
    if v.ndim != 1 or v.dtype[0] not in "iu":
        raise TypeError(f"{name} must be a vector of integers, got {v} ({v.type}). At {here()}")
    if v.dtype != "int64":
        from .math import cast

        v = cast(v, "int64")
    return v


def static_values(vec: Variable) -> tuple:
    """What is known statically of an int vector: a tuple of int-or-None per entry."""
    if isinstance(vec, Constant):
        return tuple(int(v) for v in vec.data)
    if vec.owner is not None and isinstance(vec.owner.op, MakeVector):
        return tuple(int(i.data) if isinstance(i, Constant) else _static_shape_entry(i)
                     for i in vec.owner.inputs)
    if vec.owner is not None and isinstance(vec.owner.op, Shape):
        return vec.owner.inputs[0].type.shape
    n = vec.type.shape[0]
    return (None,) * n if n is not None else None


def _static_shape_entry(scalar: Variable):
    """`x.shape[i]` with a known static length gives that length."""
    node = scalar.owner
    if node is None or not node.inputs or type(node.op).__name__ != "Subtensor":
        return None
    src = node.inputs[0]
    if src.owner is not None and isinstance(src.owner.op, Shape):
        idx = getattr(node.op, "static_index", lambda: None)()
        if isinstance(idx, int):
            return src.owner.inputs[0].type.shape[idx]
    return None


class SpecifyShape(Op):
    """Assert (at run time) and record (in the type) a static shape.

    Entries are ints or None (unknown). It is also how dimensions become, or
    stop being, broadcastable: `addbroadcast`, `unbroadcast`, `patternbroadcast`.
    """

    __props__ = ("shape",)
    view_map = {0: [0]}

    def __init__(self, shape):
        self.shape = tuple(None if s is None else int(s) for s in shape)

    def __str__(self):
        return f"SpecifyShape{{{','.join('?' if s is None else str(s) for s in self.shape)}}}"

    def make_node(self, x):
        x = as_tensor_variable(x)
        if x.ndim != len(self.shape):
            raise TypeError(f"specify_shape: {x} has {x.ndim} dimensions, the shape given has "
                            f"{len(self.shape)}. At {here()}")
        for d, (have, want) in enumerate(zip(x.type.shape, self.shape)):
            if have is not None and want is not None and have != want:
                raise ValueError(f"specify_shape: dimension {d} of {x} has static length {have}, not {want}. "
                                 f"At {here()}")
        return Apply(self, [x], [TensorType(x.dtype, shape=self.shape)()])

    def perform(self, node, inputs, output_storage):
        x = inputs[0]
        for d, want in enumerate(self.shape):
            if want is not None and x.shape[d] != want:
                raise ValueError(
                    f"{node.inputs[0]} has shape {x.shape}, but dimension {d} was declared to have length "
                    f"{want} (at {node.outputs[0].creation_line})")
        output_storage[0][0] = x

    def infer_shape(self, fgraph, node, input_shapes):
        return [tuple(s if s is not None else i for s, i in zip(self.shape, input_shapes[0]))]

    def L_op(self, inputs, outputs, output_grads):
        return [specify_shape(output_grads[0], inputs[0].type.shape)]

    def R_op(self, inputs, eval_points):
        return [None if eval_points[0] is None else self(eval_points[0])]


def specify_shape(x, shape) -> Variable:
    x = as_tensor_variable(x)
    shape = tuple(shape)
    if shape == x.type.shape:
        return x
    return SpecifyShape(shape)(x)


def patternbroadcast(x, broadcastable) -> Variable:
    """`x` with exactly the given broadcastable pattern (checked at run time)."""
    x = as_tensor_variable(x)
    shape = tuple(1 if b else (s if s != 1 else None) for b, s in zip(broadcastable, x.type.shape))
    return specify_shape(x, shape)


def addbroadcast(x, *axes) -> Variable:
    """Declare dimensions `axes` of `x` broadcastable (length 1; checked at run time)."""
    x = as_tensor_variable(x)
    shape = list(x.type.shape)
    for a in axes:
        shape[a] = 1
    return specify_shape(x, shape)


def unbroadcast(x, *axes) -> Variable:
    """Forget that dimensions `axes` of `x` have length 1."""
    x = as_tensor_variable(x)
    shape = list(x.type.shape)
    for a in axes:
        if shape[a] == 1:
            shape[a] = None
    return specify_shape(x, shape)


class Reshape(Op):
    """`x` with a new shape (given as an int vector; one entry may be -1)."""

    __props__ = ("ndim",)
    view_map = {0: [0]}

    def __init__(self, ndim: int):
        self.ndim = ndim

    def make_node(self, x, shp):
        x = as_tensor_variable(x)
        shp = as_shape_vector(shp)
        if shp.type.shape[0] is not None and shp.type.shape[0] != self.ndim:
            raise ValueError(f"reshape: the shape has {shp.type.shape[0]} entries but ndim={self.ndim}. "
                             f"At {here()}")
        known = static_values(shp) or (None,) * self.ndim
        out_shape = tuple(None if (s is None or s < 0) else s for s in known)
        if all(s is not None for s in x.type.shape) and sum(1 for s in known if s == -1) == 1:
            rest = int(np.prod([s for s in known if s != -1])) if all(s is not None for s in known) else None
            if rest:
                total = int(np.prod(x.type.shape))
                out_shape = tuple(total // rest if s == -1 else s for s in known)
        if all(s is not None for s in out_shape) and all(s is not None for s in x.type.shape):
            if int(np.prod(out_shape)) != int(np.prod(x.type.shape)):
                raise ValueError(f"reshape: cannot reshape {x} of shape {x.type.shape} to {out_shape}. "
                                 f"At {here()}")
        return Apply(self, [x, shp], [TensorType(x.dtype, shape=out_shape)()])

    def perform(self, node, inputs, output_storage):
        x, shp = inputs
        try:
            output_storage[0][0] = np.reshape(x, shp)
        except ValueError:
            raise ValueError(f"cannot reshape {node.inputs[0]} of shape {x.shape} to {tuple(shp)} "
                             f"(at {node.outputs[0].creation_line})") from None

    def infer_shape(self, fgraph, node, input_shapes):
        from .. import tensor as t

        x_shape = input_shapes[0]
        shp = node.inputs[1]
        known = static_values(shp) or (None,) * self.ndim
        entries = [known[i] if known[i] is not None and known[i] >= 0 else shp[i] for i in range(self.ndim)]
        if -1 in known or any(k is None for k in known):
            total = t.prod(t.stack([t.as_tensor_variable(s) for s in x_shape])) if x_shape else 1
            requested = t.prod(shp)
            entries = [e if known[i] is not None and known[i] >= 0
                       else t.switch(t.eq(shp[i], -1), -(total // requested), shp[i])
                       for i, e in enumerate(entries)]
        return [tuple(entries)]

    def L_op(self, inputs, outputs, output_grads):
        from .. import tensor as t

        x = inputs[0]
        g = reshape(output_grads[0], shape(x), ndim=x.ndim)
        return [specify_shape(g, x.type.shape) if g.type.shape != x.type.shape else g,
                t.zeros_like(inputs[1], dtype="floatX")]

    def connection_pattern(self, node):
        return [[True], [False]]

    def R_op(self, inputs, eval_points):
        return [None if eval_points[0] is None else self(eval_points[0], inputs[1])]


def reshape(x, newshape, ndim: int | None = None) -> Variable:
    """`x` reshaped to `newshape` (a tuple of ints / scalar variables, or an int vector)."""
    x = as_tensor_variable(x)
    shp = as_shape_vector(newshape, "reshape's new shape")
    if ndim is None:
        ndim = shp.type.shape[0]
        if ndim is None:
            raise ValueError(f"reshape: the number of dimensions of {newshape} is not known; pass ndim=. "
                             f"At {here()}")
    return Reshape(ndim)(x, shp)


def flatten(x, ndim: int = 1) -> Variable:
    """Collapse the trailing dimensions of `x` so that it has `ndim` dimensions."""
    x = as_tensor_variable(x)
    if not 1 <= ndim <= max(x.ndim, 1):
        raise ValueError(f"flatten: ndim must be between 1 and {x.ndim}, got {ndim}. At {here()}")
    if x.ndim == ndim:
        return x
    sh = shape(x)
    lead = [x.type.shape[i] if x.type.shape[i] is not None else sh[i] for i in range(ndim - 1)]
    return reshape(x, lead + [-1], ndim=ndim)


class Alloc(Op):
    """A new array of the given shape, filled with `value` (broadcast)."""

    view_map: dict = {}

    def make_node(self, value, *shp):
        value = as_tensor_variable(value)
        if len(shp) == 1 and isinstance(shp[0], Variable) and shp[0].ndim == 1:
            raise TypeError("Alloc takes scalar shape entries")
        dims = [as_tensor_variable(s) for s in shp]
        for i, d in enumerate(dims):
            if d.ndim != 0 or d.dtype[0] not in "iu":
                raise TypeError(f"alloc: shape entry {i} ({d}) must be an integer scalar. At {here()}")
        if value.ndim > len(dims):
            raise ValueError(f"alloc: value {value} has more dimensions ({value.ndim}) than the shape "
                             f"({len(dims)}). At {here()}")
        static = tuple(int(d.data) if isinstance(d, Constant) else _static_shape_entry(d) for d in dims)
        for vs, s in zip(value.type.shape[::-1], static[::-1]):
            if vs not in (None, 1) and s is not None and vs != s:
                raise ValueError(f"alloc: value of shape {value.type.shape} cannot fill shape {static}. "
                                 f"At {here()}")
        return Apply(self, [value, *dims], [TensorType(value.dtype, shape=static)()])

    def perform(self, node, inputs, output_storage):
        value, *dims = inputs
        out = np.empty(tuple(int(d) for d in dims), dtype=node.outputs[0].type.numpy_dtype)
        out[...] = value
        output_storage[0][0] = out

    def infer_shape(self, fgraph, node, input_shapes):
        return [tuple(node.inputs[1:])]

    def L_op(self, inputs, outputs, output_grads):
        from .. import tensor as t

        value, *dims = inputs
        g = output_grads[0]
        lead = g.ndim - value.ndim
        axes = tuple(range(lead)) + tuple(
            lead + d for d in range(value.ndim) if value.broadcastable[d] and not outputs[0].broadcastable[lead + d])
        gv = t.sum(g, axis=axes, keepdims=True) if axes else g
        if lead:
            gv = dimshuffle(gv, tuple(range(lead, g.ndim)))
        gv = patternbroadcast(gv, value.broadcastable) if gv.broadcastable != value.broadcastable else gv
        if value.dtype[0] in "biu":
            gv = t.zeros_like(value, dtype="floatX")
        return [t.cast(gv, value.dtype) if gv.dtype != value.dtype and value.dtype[0] not in "biu" else gv,
                *[t.zeros_like(d, dtype="floatX") for d in dims]]

    def connection_pattern(self, node):
        return [[True]] + [[False]] * (len(node.inputs) - 1)


_alloc = Alloc()


def _shape_entries(shp):
    if isinstance(shp, Variable):
        v = as_tensor_variable(shp)
        if v.ndim == 0:
            return [v]
        n = v.type.shape[0]
        if n is None:
            raise ValueError(f"the length of the shape vector {v} must be known. At {here()}")
        return [v[i] for i in range(n)]
    if isinstance(shp, (int, np.integer)):
        return [shp]
    return list(shp)


def alloc(value, *shape) -> Variable:
    """An array of shape `shape` filled with `value`: `T.alloc(0., n, m)`."""
    if len(shape) == 1 and not isinstance(shape[0], (int, np.integer)) and not (
            isinstance(shape[0], Variable) and shape[0].ndim == 0):
        shape = tuple(_shape_entries(shape[0]))
    return _alloc(value, *shape)


def zeros(shape, dtype=None) -> Variable:
    """A tensor of zeros of the given shape (dtype defaults to floatX)."""
    return alloc(constant(0, dtype=normalize_dtype(dtype)), *_shape_entries(shape))


def ones(shape, dtype=None) -> Variable:
    """A tensor of ones of the given shape (dtype defaults to floatX)."""
    return alloc(constant(1, dtype=normalize_dtype(dtype)), *_shape_entries(shape))


def full(shape, fill_value, dtype=None) -> Variable:
    fill_value = as_tensor_variable(fill_value)
    if dtype is not None:
        from .math import cast

        fill_value = cast(fill_value, dtype)
    return alloc(fill_value, *_shape_entries(shape))


def zeros_like(x, dtype=None) -> Variable:
    """Zeros with the shape of `x` (and its dtype unless `dtype` is given)."""
    from .math import second

    x = as_tensor_variable(x)
    return second(x, constant(0, dtype=normalize_dtype(dtype) if dtype else x.dtype))


def ones_like(x, dtype=None) -> Variable:
    """Ones with the shape of `x` (and its dtype unless `dtype` is given)."""
    from .math import second

    x = as_tensor_variable(x)
    return second(x, constant(1, dtype=normalize_dtype(dtype) if dtype else x.dtype))


def shape_padleft(x, n_ones: int = 1) -> Variable:
    """`x` with `n_ones` broadcastable dimensions added on the left."""
    x = as_tensor_variable(x)
    return dimshuffle(x, ("x",) * n_ones + tuple(range(x.ndim)))


def shape_padright(x, n_ones: int = 1) -> Variable:
    """`x` with `n_ones` broadcastable dimensions added on the right."""
    x = as_tensor_variable(x)
    return dimshuffle(x, tuple(range(x.ndim)) + ("x",) * n_ones)


def shape_padaxis(x, axis: int) -> Variable:
    """`x` with a broadcastable dimension inserted at `axis` (negative counts from the end)."""
    x = as_tensor_variable(x)
    if not -x.ndim - 1 <= axis <= x.ndim:
        raise IndexError(f"shape_padaxis: axis {axis} out of range for {x.ndim} dimensions. At {here()}")
    if axis < 0:
        axis += x.ndim + 1
    order = list(range(x.ndim))
    order.insert(axis, "x")
    return dimshuffle(x, tuple(order))


def squeeze(x, axis=None) -> Variable:
    """Remove broadcastable dimensions (or the given ones, which must have length 1)."""
    x = as_tensor_variable(x)
    if axis is None:
        axes = [d for d in range(x.ndim) if x.broadcastable[d]]
    else:
        axes = [a % x.ndim for a in ((axis,) if isinstance(axis, int) else axis)]
        x = addbroadcast(x, *axes)
    return dimshuffle(x, tuple(d for d in range(x.ndim) if d not in axes))
