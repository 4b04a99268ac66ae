"""Tensors built from a few numbers (arange, eye, tri), and diagonals.

`arange`, `eye` and `tri` take their sizes as (possibly symbolic) integer
scalars; with constant sizes the output's static shape is known. `tril` and
`triu` build on `tri`. Diagonals: `diag`/`AllocDiag` put a vector on one,
`diagonal`/`ExtractDiag` read one, `fill_diagonal` overwrites one.
"""
from __future__ import annotations

import numpy as np

from ..graph.basic import Apply, Constant, Op, Variable
from ..graph.sourceline import here
from ..scalar.dtypes import is_discrete, upcast
from .op_helpers import built_at, describe, dim, disconnected, float_zeros_like, int_scalar, normalize_axis, static_int
from .type import TensorType, normalize_dtype
from .variable import as_tensor_variable

__all__ = ["ARange", "Eye", "Tri", "AllocDiag", "ExtractDiag", "FillDiagonal", "FillDiagonalOffset", "arange", "eye",
           "identity_like", "tri", "tril", "triu", "diag", "diagonal", "fill_diagonal", "fill_diagonal_offset"]


# --- arange -------------------------------------------------------------------------------------------


class ARange(Op):
    """`numpy.arange(start, stop, step)` of a fixed dtype, from three scalars."""

    __props__ = ("dtype",)

    def __init__(self, dtype):
        self.dtype = normalize_dtype(dtype)

    def __str__(self):
        return f"ARange{{dtype='{self.dtype}'}}"

    def make_node(self, start, stop, step):
        args = [as_tensor_variable(v) for v in (start, stop, step)]
        for what, v in zip(("start", "stop", "step"), args):
            if v.ndim != 0:
                raise TypeError(f"arange: {what} must be a scalar, got {describe(v)} ({v.type}). At {here()}")
            if v.dtype.startswith("complex"):
                raise TypeError(f"arange: {what} must be real, got {describe(v)} ({v.dtype}). At {here()}")
        length = None
        if all(isinstance(v, Constant) for v in args):
            s0, s1, s2 = (v.data.item() for v in args)
            if s2 == 0:
                raise ValueError(f"arange: step is 0. At {here()}")
            length = _static_arange_length(s0, s1, s2)
        return Apply(self, args, [TensorType(self.dtype, shape=(length,))()])

    def perform(self, node, inputs, output_storage):
        start, stop, step = (v.item() for v in inputs)
        if step == 0:
            raise ValueError(f"arange: step is 0 (built at {node.outputs[0].creation_line})")
        output_storage[0][0] = np.arange(start, stop, step, dtype=self.dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        static = node.outputs[0].type.shape[0]
        return [(static if static is not None else _arange_length(*node.inputs),)]

    def L_op(self, inputs, outputs, output_grads):
        from .. import tensor as t

        start, stop, step = inputs
        (gz,) = output_grads
        if is_discrete(self.dtype):
            return [float_zeros_like(start), disconnected(), float_zeros_like(step)]
        # out[i] = start + i * step: stop only decides how many there are
        positions = arange(_arange_length(start, stop, step), dtype=self.dtype)
        g_start, g_step = t.sum(gz), t.sum(gz * positions)
        return [_grad_for(g_start, start), disconnected(), _grad_for(g_step, step)]

    def connection_pattern(self, node):
        return [[True], [False], [True]]


def _grad_for(g, x):
    from .. import tensor as t

    return float_zeros_like(x) if is_discrete(x.dtype) else t.cast(g, x.dtype)


def _static_arange_length(start, stop, step) -> int:
    """len(numpy.arange(start, stop, step)) without building it."""
    import math

    if all(isinstance(v, int) for v in (start, stop, step)):
        return max(0, -((start - stop) // step))
    return max(0, math.ceil((stop - start) / step))


def _arange_length(start, stop, step):
    """max(0, ceil((stop - start) / step)) as an int64 scalar, exact for integers."""
    from .. import tensor as t

    if all(is_discrete(v.dtype) for v in (start, stop, step)):
        span = t.cast(stop, "int64") - t.cast(start, "int64")
        n = -t.int_div(-span, t.cast(step, "int64"))
    else:
        span = t.cast(stop, "float64") - t.cast(start, "float64")
        n = t.cast(t.ceil(span / t.cast(step, "float64")), "int64")
    return t.maximum(n, 0)


_arange_ops: dict = {}


def arange(start, stop=None, step=1, dtype=None) -> Variable:
    """Evenly spaced values in [start, stop): `T.arange(n)`, `T.arange(a, b, step)`.

    Without `dtype`, the dtype combines the arguments' (Python numbers adapt
    to the symbolic ones, as in arithmetic); integer results are int64 and
    unsigned ones uint64, as in Theano.

    >>> import arignote.tensor as T
    >>> T.arange(2, 8, 2).eval().tolist()
    [2, 4, 6]
    """
    from .elemwise import _weak_constants

    if stop is None:
        start, stop = 0, start
    start, stop, step = (as_tensor_variable(v) for v in _weak_constants([start, stop, step]))
    if dtype is None:
        dtype = upcast(start.dtype, stop.dtype, step.dtype)
        kind = np.dtype(dtype).kind
        if kind in "ib":
            dtype = "int64"
        elif kind == "u":
            dtype = "uint64"
    dtype = normalize_dtype(dtype)
    op = _arange_ops.get(dtype)
    if op is None:
        op = _arange_ops[dtype] = ARange(dtype)
    return op(start, stop, step)


# --- eye and tri --------------------------------------------------------------------------------------


class _SizedMatrix(Op):
    """A matrix of n rows and m columns made from the integer scalars (n, m, k)."""

    __props__ = ("dtype",)
    fn_name = ""

    def __init__(self, dtype=None):
        self.dtype = normalize_dtype(dtype)

    def make_node(self, n, m, k):
        n = int_scalar(n, "the number of rows", self.fn_name)
        m = int_scalar(m, "the number of columns", self.fn_name)
        k = int_scalar(k, "the diagonal offset k", self.fn_name)
        shape = []
        for v in (n, m):
            s = static_int(v)
            if s is not None and s < 0:
                raise ValueError(f"{self.fn_name}: the matrix size {s} is negative. At {here()}")
            shape.append(s)
        return Apply(self, [n, m, k], [TensorType(self.dtype, shape=tuple(shape))()])

    def infer_shape(self, fgraph, node, input_shapes):
        return [tuple(node.inputs[:2])]

    def L_op(self, inputs, outputs, output_grads):
        return [float_zeros_like(v) for v in inputs]

    def _check(self, node, n, m):
        if n < 0 or m < 0:
            raise ValueError(f"{self.fn_name}: negative size ({int(n)}, {int(m)}) "
                             f"(built at {node.outputs[0].creation_line})")


class Eye(_SizedMatrix):
    """`numpy.eye(n, m, k)`: ones on the k-th diagonal of an n x m matrix."""

    fn_name = "eye"

    def perform(self, node, inputs, output_storage):
        n, m, k = (int(v) for v in inputs)
        self._check(node, n, m)
        output_storage[0][0] = np.eye(n, m, k, dtype=self.dtype)


class Tri(_SizedMatrix):
    """`numpy.tri(N, M, k)`: ones at and below the k-th diagonal of an N x M matrix."""

    fn_name = "tri"

    def perform(self, node, inputs, output_storage):
        n, m, k = (int(v) for v in inputs)
        self._check(node, n, m)
        output_storage[0][0] = np.tri(n, m, k, dtype=self.dtype)


def eye(n, m=None, k=0, dtype=None) -> Variable:
    """An n x m matrix with ones on diagonal k, zeros elsewhere (dtype defaults to floatX)."""
    return Eye(dtype)(n, n if m is None else m, k)


def identity_like(x) -> Variable:
    """The identity matrix of the shape and dtype of the matrix `x`."""
    x = as_tensor_variable(x)
    if x.ndim != 2:
        raise TypeError(f"identity_like: {describe(x)} must be a matrix, it has {x.ndim} dimensions. At {here()}")
    return eye(dim(x, 0), dim(x, 1), 0, dtype=x.dtype)


def tri(N, M=None, k=0, dtype=None) -> Variable:
    """An N x M matrix with ones at and below diagonal k (dtype defaults to floatX)."""
    return Tri(dtype)(N, N if M is None else M, k)


def _triangle(m, k, lower: bool, fn: str) -> Variable:
    from .. import tensor as t

    m = as_tensor_variable(m)
    if m.ndim < 2:
        raise TypeError(f"{fn}: {describe(m)} must have at least 2 dimensions, it has {m.ndim}. At {here()}")
    k = int_scalar(k, "the diagonal offset k", fn)
    rows, cols = dim(m, m.ndim - 2), dim(m, m.ndim - 1)
    zero = np.zeros((), dtype=m.dtype)
    if lower:
        return t.switch(tri(rows, cols, k, dtype="bool"), m, zero)
    return t.switch(tri(rows, cols, k - 1, dtype="bool"), zero, m)


def tril(m, k=0) -> Variable:
    """`m` with the elements above diagonal k zeroed (on the last two dimensions, as numpy.tril)."""
    return _triangle(m, k, True, "tril")


def triu(m, k=0) -> Variable:
    """`m` with the elements below diagonal k zeroed (on the last two dimensions, as numpy.triu)."""
    return _triangle(m, k, False, "triu")


# --- diagonal matrices --------------------------------------------------------------------------------


class AllocDiag(Op):
    """A tensor whose diagonal (`offset`, between output axes `axis1`, `axis2`) holds `x`.

    The last dimension of `x` becomes the diagonal; the inverse of
    `ExtractDiag(offset, axis1, axis2)`. For a vector: `numpy.diag(v, offset)`.
    """

    __props__ = ("offset", "axis1", "axis2")

    def __init__(self, offset: int = 0, axis1: int = 0, axis2: int = 1):
        self.offset, self.axis1, self.axis2 = int(offset), int(axis1), int(axis2)

    def _axes(self, out_ndim):
        a1, a2 = self.axis1 % out_ndim, self.axis2 % out_ndim
        return a1, a2

    def make_node(self, x):
        x = as_tensor_variable(x)
        if x.ndim < 1:
            raise TypeError(f"AllocDiag: {describe(x)} must have at least one dimension. At {here()}")
        out_ndim = x.ndim + 1
        for a in (self.axis1, self.axis2):
            if not -out_ndim <= a < out_ndim:
                raise ValueError(f"AllocDiag: axis {a} out of range for a {out_ndim}-d output. At {here()}")
        a1, a2 = self._axes(out_ndim)
        if a1 == a2:
            raise ValueError(f"AllocDiag: axis1 and axis2 are both {a1}. At {here()}")
        n = x.type.shape[-1]
        size = None if n is None else n + abs(self.offset)
        batch = iter(x.type.shape[:-1])
        shape = tuple(size if d in (a1, a2) else next(batch) for d in range(out_ndim))
        return Apply(self, [x], [TensorType(x.dtype, shape=shape)()])

    def perform(self, node, inputs, output_storage):
        (x,) = inputs
        n = x.shape[-1]
        size = n + abs(self.offset)
        out = np.zeros(x.shape[:-1] + (size, size), dtype=x.dtype)
        i = np.arange(n)
        out[..., i + max(0, -self.offset), i + max(0, self.offset)] = x
        a1, a2 = self._axes(x.ndim + 1)
        output_storage[0][0] = np.moveaxis(out, (-2, -1), (a1, a2))

    def infer_shape(self, fgraph, node, input_shapes):
        (xs,) = input_shapes
        a1, a2 = self._axes(len(xs) + 1)
        size = xs[-1] + abs(self.offset)
        batch = iter(xs[:-1])
        return [tuple(size if d in (a1, a2) else next(batch) for d in range(len(xs) + 1))]

    def L_op(self, inputs, outputs, output_grads):
        (x,) = inputs
        if is_discrete(x.dtype):
            return [float_zeros_like(x)]
        return [ExtractDiag(self.offset, self.axis1, self.axis2)(output_grads[0])]

    def R_op(self, inputs, eval_points):
        return [None if eval_points[0] is None else self(eval_points[0])]


def diag(v, k=0) -> Variable:
    """numpy.diag: a vector gives a matrix with it on diagonal k; a matrix gives its k-th diagonal."""
    v = as_tensor_variable(v)
    k_int = static_int(k)
    if k_int is None:
        raise TypeError(f"diag: k must be an int, got {k!r}. At {here()}")
    if v.ndim == 1:
        return AllocDiag(k_int)(v)
    if v.ndim == 2:
        return diagonal(v, k_int)
    raise ValueError(f"diag: {describe(v)} must be a vector or a matrix, it has {v.ndim} dimensions. At {here()}")


# --- diagonals of any tensor ------------------------------------------------------------------------------------


def _diag_length(n1, n2, offset):
    """Length of diagonal `offset` of an n1 x n2 matrix (ints or symbolic)."""
    if isinstance(n1, int) and isinstance(n2, int):
        return max(0, min(n1 + min(0, offset), n2 - max(0, offset)))
    from .. import tensor as t

    return t.maximum(0, t.minimum(n1 + min(0, offset), n2 - max(0, offset)))


class ExtractDiag(Op):
    """`numpy.diagonal(x, offset, axis1, axis2)`: a copy unless `view=True`."""

    __props__ = ("offset", "axis1", "axis2", "view")

    def __init__(self, offset: int = 0, axis1: int = 0, axis2: int = 1, view: bool = False):
        self.offset, self.axis1, self.axis2, self.view = int(offset), int(axis1), int(axis2), bool(view)
        if view:
            self.view_map = {0: [0]}

    def make_node(self, x):
        x = as_tensor_variable(x)
        if x.ndim < 2:
            raise ValueError(f"diagonal: {describe(x)} needs at least 2 dimensions, it has {x.ndim}. At {here()}")
        a1 = normalize_axis(self.axis1, x.ndim, "diagonal", x)
        a2 = normalize_axis(self.axis2, x.ndim, "diagonal", x)
        if a1 == a2:
            raise ValueError(f"diagonal: axis1 and axis2 are both {a1}. At {here()}")
        n1, n2 = x.type.shape[a1], x.type.shape[a2]
        length = None if n1 is None or n2 is None else _diag_length(n1, n2, self.offset)
        shape = tuple(s for d, s in enumerate(x.type.shape) if d not in (a1, a2)) + (length,)
        return Apply(self, [x], [TensorType(x.dtype, shape=shape)()])

    def perform(self, node, inputs, output_storage):
        out = np.diagonal(inputs[0], self.offset, self.axis1, self.axis2)
        output_storage[0][0] = out if self.view else out.copy()

    def infer_shape(self, fgraph, node, input_shapes):
        (xs,) = input_shapes
        a1, a2 = self.axis1 % len(xs), self.axis2 % len(xs)
        rest = tuple(s for d, s in enumerate(xs) if d not in (a1, a2))
        return [rest + (_diag_length(xs[a1], xs[a2], self.offset),)]

    def L_op(self, inputs, outputs, output_grads):
        from .shape_ops import shape

        (x,) = inputs
        if is_discrete(x.dtype):
            return [float_zeros_like(x)]
        a1, a2 = self.axis1 % x.ndim, self.axis2 % x.ndim
        return [_DiagScatter(self.offset, a1, a2)(output_grads[0], shape(x))]

    def R_op(self, inputs, eval_points):
        return [None if eval_points[0] is None else self(eval_points[0])]


class _DiagScatter(Op):
    """Zeros of shape `xshape` with `g` on the diagonal (ExtractDiag's transpose)."""

    __props__ = ("offset", "axis1", "axis2")

    def __init__(self, offset, axis1, axis2):
        self.offset, self.axis1, self.axis2 = offset, axis1, axis2

    def make_node(self, g, xshape):
        from .shape_ops import static_values

        g = as_tensor_variable(g)
        return Apply(self, [g, xshape], [TensorType(g.dtype, shape=static_values(xshape))()])

    def perform(self, node, inputs, output_storage):
        g, xshape = inputs
        out = np.zeros(tuple(int(s) for s in xshape), dtype=g.dtype)
        moved = np.moveaxis(out, (self.axis1, self.axis2), (-2, -1))
        i = np.arange(g.shape[-1])
        moved[..., i + max(0, -self.offset), i + max(0, self.offset)] = g
        output_storage[0][0] = out

    def infer_shape(self, fgraph, node, input_shapes):
        return [tuple(node.inputs[1][i] for i in range(node.outputs[0].ndim))]

    def L_op(self, inputs, outputs, output_grads):
        return [ExtractDiag(self.offset, self.axis1, self.axis2)(output_grads[0]), disconnected()]

    def connection_pattern(self, node):
        return [[True], [False]]


def diagonal(a, offset=0, axis1=0, axis2=1) -> Variable:
    """The diagonal `offset` of `a` over (axis1, axis2), as the last dimension (numpy.diagonal)."""
    return ExtractDiag(offset, axis1, axis2)(a)


class FillDiagonal(Op):
    """A copy of `a` whose main diagonal is set to the scalar `val` (numpy.fill_diagonal)."""

    __props__ = ()
    fn = "fill_diagonal"

    def _inputs(self, a, val):
        from .elemwise import _weak_constants

        a = as_tensor_variable(a)
        if a.ndim < 2:
            raise TypeError(f"{self.fn}: {describe(a)} needs at least 2 dimensions, it has {a.ndim}. At {here()}")
        val = as_tensor_variable(_weak_constants([a, val])[1])
        if val.ndim != 0:
            raise TypeError(f"{self.fn}: val must be a scalar, got {describe(val)} ({val.type}). At {here()}")
        if val.dtype != a.dtype:
            if not np.can_cast(val.dtype, a.dtype, "same_kind"):
                raise TypeError(f"{self.fn}: cannot put {val.dtype} value {describe(val)} into {describe(a)} of "
                                f"{a.dtype}; cast it first. At {here()}")
            from .math import cast

            val = cast(val, a.dtype)
        return a, val

    def make_node(self, a, val):
        a, val = self._inputs(a, val)
        known = {s for s in a.type.shape if s is not None}
        if a.ndim > 2 and len(known) > 1:
            raise ValueError(f"fill_diagonal: all dimensions of {describe(a)} must be equal when it has more "
                             f"than 2, got static shape {a.type.shape}. At {here()}")
        return Apply(self, [a, val], [a.type()])

    def perform(self, node, inputs, output_storage):
        a, val = inputs
        out = a.copy()
        try:
            np.fill_diagonal(out, val)
        except ValueError as e:
            raise ValueError(f"fill_diagonal: {describe(node.inputs[0])} of shape {a.shape}: {e} {built_at(node)}") \
                from None
        output_storage[0][0] = out

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[0]]

    def _refill(self, inputs, x, value):
        return self(x, value, *inputs[2:])

    def L_op(self, inputs, outputs, output_grads):
        from .. import tensor as t

        a, val = inputs[:2]
        (g,) = output_grads
        extra = [disconnected()] * (len(inputs) - 2)
        if is_discrete(a.dtype):
            return [float_zeros_like(a), float_zeros_like(val)] + extra
        mask = self._refill(inputs, t.zeros_like(g), 1)
        return [self._refill(inputs, g, 0), t.sum(g * mask)] + extra

    def connection_pattern(self, node):
        return [[True], [True]] + [[False]] * (len(node.inputs) - 2)


class FillDiagonalOffset(FillDiagonal):
    """A copy of the matrix `a` whose diagonal `offset` is set to `val`."""

    fn = "fill_diagonal_offset"

    def make_node(self, a, val, offset):
        a, val = self._inputs(a, val)
        if a.ndim != 2:
            raise TypeError(f"fill_diagonal_offset: {describe(a)} must be a matrix. At {here()}")
        offset = int_scalar(offset, "the offset", "fill_diagonal_offset")
        return Apply(self, [a, val, offset], [a.type()])

    def perform(self, node, inputs, output_storage):
        a, val, offset = inputs
        offset = int(offset)
        out = a.copy()
        n = _diag_length(a.shape[0], a.shape[1], offset)
        i = np.arange(n)
        out[i + max(0, -offset), i + max(0, offset)] = val
        output_storage[0][0] = out


def fill_diagonal(a, val) -> Variable:
    """A copy of `a` with its main diagonal set to the scalar `val`."""
    return FillDiagonal()(a, val)


def fill_diagonal_offset(a, val, offset) -> Variable:
    """A copy of the matrix `a` with diagonal `offset` (>0: above) set to `val`."""
    return FillDiagonalOffset()(a, val, offset)
