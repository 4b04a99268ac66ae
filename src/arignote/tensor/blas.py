"""Products of tensors: dot, tensordot, outer, inner, batched products and matmul.

`dot` follows Theano (and `numpy.dot`): a 0-d operand multiplies
elementwise, 1-d and 2-d operands use the `Dot` op, higher ranks sum over
the last axis of the first operand and the second-to-last of the second
(`TensorDot`). `matmul` (and `a @ b`) follows NumPy's `@`, broadcasting the
batch dimensions that are statically of length 1. Products never broadcast
the summed dimensions: their lengths must agree, and they are checked when
the graph is built wherever both are known.
"""
from __future__ import annotations

import numbers

import numpy as np

from ..graph.basic import Apply, Op
from ..graph.sourceline import here
from ..scalar.dtypes import is_discrete
from .elemwise import dimshuffle
from .type import TensorType
from .variable import as_tensor_variable

__all__ = ["dot", "tensordot", "outer", "inner", "batched_dot", "batched_tensordot", "matmul",
           "Dot", "TensorDot", "BatchedTensorDot", "MatMul"]


# --- helpers ---------------------------------------------------------------------------------

def _describe(var) -> str:
    return f"'{var.name}'" if var.name else str(var)


def _fmt(shape) -> str:
    inner = ", ".join("?" if s is None else str(s) for s in shape)
    return f"({inner}{',' if len(shape) == 1 else ''})"


def _operand(var) -> str:
    return f"{_describe(var)} of shape {_fmt(var.type.shape)}"


def _out_dtype(opname: str, a, b) -> str:
    try:
        return np.result_type(a.dtype, b.dtype).name
    except TypeError as e:  # pragma: no cover - every tensor dtype is numeric
        raise TypeError(f"{opname}: cannot combine dtypes {a.dtype} and {b.dtype}: {e}. At {here()}") from None


def _check_pairs(opname: str, a, axes_a, b, axes_b) -> None:
    """Build-time check that the summed lengths agree wherever both are known."""
    for i, j in zip(axes_a, axes_b):
        la, lb = a.type.shape[i], b.type.shape[j]
        if la is not None and lb is not None and la != lb:
            raise ValueError(
                f"{opname}: the summed dimensions do not match: {_operand(a)} has length {la} in axis {i}, "
                f"{_operand(b)} has length {lb} in axis {j}. At {here()}")


def _runtime_pairs(node, a, axes_a, b, axes_b) -> None:
    for i, j in zip(axes_a, axes_b):
        if a.shape[i] != b.shape[j]:
            x, y = node.inputs[0], node.inputs[1]
            raise ValueError(
                f"{node.op}: the summed dimensions do not match: {_describe(x)} has shape {a.shape} "
                f"(axis {i} of length {a.shape[i]}) and {_describe(y)} has shape {b.shape} (axis {j} of "
                f"length {b.shape[j]}). The expression was built at {node.outputs[0].creation_line}")


def _as_array(value, dtype) -> np.ndarray:
    if type(value) is np.ndarray and value.dtype == dtype:
        return value
    return np.asarray(value, dtype=dtype)


def _like(g, var):
    """A gradient term shaped as `var`'s gradient must be: dtype and broadcast pattern."""
    from .. import tensor as t

    if is_discrete(var.dtype):
        return t.zeros_like(var, dtype="floatX")
    if g.dtype != var.dtype:
        g = t.cast(g, var.dtype)
    if any(vb and not gb for vb, gb in zip(var.broadcastable, g.broadcastable)):
        g = t.patternbroadcast(g, var.broadcastable)
    return g


def _is_python_number(x) -> bool:
    return isinstance(x, (bool, numbers.Number)) and not isinstance(x, (np.generic, np.ndarray))


# --- Dot: 1-d and 2-d operands ----------------------------------------------------------------

class Dot(Op):
    """`numpy.dot` of two 1-d or 2-d tensors (vector·vector gives a scalar)."""

    __props__ = ()

    def make_node(self, x, y):
        x, y = as_tensor_variable(x), as_tensor_variable(y)
        for v in (x, y):
            if v.ndim not in (1, 2):
                raise TypeError(f"Dot takes 1-d or 2-d tensors, got {_operand(v)} ({v.ndim}-d); "
                                f"use T.dot, which handles every rank. At {here()}")
        _check_pairs("dot", x, [x.ndim - 1], y, [0])
        shape = x.type.shape[:-1] + y.type.shape[1:]
        return Apply(self, [x, y], [TensorType(_out_dtype("dot", x, y), shape=shape)()])

    def perform(self, node, inputs, output_storage):
        x, y = inputs
        _runtime_pairs(node, x, [x.ndim - 1], y, [0])
        output_storage[0][0] = _as_array(np.dot(x, y), node.outputs[0].type.numpy_dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        xs, ys = input_shapes
        return [tuple(xs[:-1]) + tuple(ys[1:])]

    def L_op(self, inputs, outputs, output_grads):
        x, y = inputs
        (gz,) = output_grads
        if x.ndim == 1 and y.ndim == 1:
            gx, gy = gz * y, gz * x
        elif x.ndim == 2 and y.ndim == 1:
            gx, gy = outer(gz, y), _dot(x.T, gz)
        elif x.ndim == 1 and y.ndim == 2:
            gx, gy = _dot(gz, y.T), outer(x, gz)
        else:
            gx, gy = _dot(gz, y.T), _dot(x.T, gz)
        return [_like(gx, x), _like(gy, y)]

    def R_op(self, inputs, eval_points):
        x, y = inputs
        ex, ey = eval_points
        terms = []
        if ex is not None:
            terms.append(_dot(ex, y))
        if ey is not None:
            terms.append(_dot(x, ey))
        if not terms:
            return [None]
        return [terms[0] if len(terms) == 1 else terms[0] + terms[1]]


_dot = Dot()


def dot(l, r):
    """The dot product of `l` and `r`, with `numpy.dot`'s semantics for every rank.

    - a scalar (0-d) operand multiplies elementwise;
    - vector·vector gives a scalar, matrix·vector and vector·matrix a vector,
      matrix·matrix a matrix (the `Dot` op);
    - higher ranks sum over the last axis of `l` and the second-to-last axis
      of `r` (the last when `r` is a vector), like `numpy.dot`.

    The output dtype is NumPy's result type of the two dtypes. Summed lengths
    that are known and differ raise ValueError when the graph is built.
    """
    if _is_python_number(l) or _is_python_number(r):
        from .math import mul

        return mul(l, r)
    l, r = as_tensor_variable(l), as_tensor_variable(r)
    if l.ndim == 0 or r.ndim == 0:
        from .math import mul

        return mul(l, r)
    if l.ndim > 2 or r.ndim > 2:
        return _tensordot("dot", l, r, [l.ndim - 1], [max(0, r.ndim - 2)])
    _check_pairs("dot", l, [l.ndim - 1], r, [0])
    return _dot(l, r)


# --- tensordot --------------------------------------------------------------------------------

def _free(ndim: int, summed, start: int = 0) -> list[int]:
    return [d for d in range(start, ndim) if d not in summed]


def _labels_to_order(labels, ndim: int) -> tuple:
    return tuple(labels.index(d) for d in range(ndim))


def _argsort(seq) -> list[int]:
    return sorted(range(len(seq)), key=lambda i: seq[i])


class TensorDot(Op):
    """`numpy.tensordot(a, b, axes)`: sum over `axes[0]` of `a` paired with `axes[1]` of `b`.

    The output holds the remaining axes of `a`, then those of `b`, in order.
    `axes` holds two tuples of non-negative axis numbers.
    """

    __props__ = ("axes",)

    def __init__(self, axes):
        self.axes = (tuple(int(a) for a in axes[0]), tuple(int(b) for b in axes[1]))

    def make_node(self, a, b):
        a, b = as_tensor_variable(a), as_tensor_variable(b)
        ax_a, ax_b = self.axes
        _check_axes("tensordot", a, ax_a, b, ax_b, batch=False)
        _check_pairs("tensordot", a, ax_a, b, ax_b)
        shape = tuple(a.type.shape[d] for d in _free(a.ndim, ax_a)) + tuple(
            b.type.shape[d] for d in _free(b.ndim, ax_b))
        return Apply(self, [a, b], [TensorType(_out_dtype("tensordot", a, b), shape=shape)()])

    def perform(self, node, inputs, output_storage):
        a, b = inputs
        _runtime_pairs(node, a, self.axes[0], b, self.axes[1])
        out = np.tensordot(a, b, axes=(list(self.axes[0]), list(self.axes[1])))
        output_storage[0][0] = _as_array(out, node.outputs[0].type.numpy_dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        sa, sb = input_shapes
        ax_a, ax_b = self.axes
        return [tuple(sa[d] for d in _free(len(sa), ax_a)) + tuple(sb[d] for d in _free(len(sb), ax_b))]

    def L_op(self, inputs, outputs, output_grads):
        a, b = inputs
        (gz,) = output_grads
        ax_a, ax_b = self.axes
        free_a, free_b = _free(a.ndim, ax_a), _free(b.ndim, ax_b)
        nfa, nfb = len(free_a), len(free_b)
        # gz's b-part summed against b leaves a's free axes, then a's summed axes ordered as b's
        ga = TensorDot((range(nfa, nfa + nfb), free_b))(gz, b)
        ga = dimshuffle(ga, _labels_to_order(free_a + [ax_a[i] for i in _argsort(ax_b)], a.ndim))
        gb = TensorDot((free_a, range(nfa)))(a, gz)
        gb = dimshuffle(gb, _labels_to_order([ax_b[i] for i in _argsort(ax_a)] + free_b, b.ndim))
        return [_like(ga, a), _like(gb, b)]

    def R_op(self, inputs, eval_points):
        a, b = inputs
        ea, eb = eval_points
        terms = [self(ea, b)] if ea is not None else []
        if eb is not None:
            terms.append(self(a, eb))
        if not terms:
            return [None]
        return [terms[0] if len(terms) == 1 else terms[0] + terms[1]]


def _check_axes(opname: str, a, ax_a, b, ax_b, batch: bool) -> None:
    if len(ax_a) != len(ax_b):
        raise ValueError(f"{opname}: the axes lists have different lengths ({list(ax_a)} for {_describe(a)}, "
                         f"{list(ax_b)} for {_describe(b)}). At {here()}")
    for var, axes in ((a, ax_a), (b, ax_b)):
        for d in axes:
            if not 0 <= d < var.ndim:
                raise ValueError(f"{opname}: axis {d} is out of range for {_operand(var)}, which has "
                                 f"{var.ndim} dimension{'s' if var.ndim != 1 else ''}. At {here()}")
            if batch and d == 0:
                raise ValueError(f"{opname}: axis 0 of {_operand(var)} is the batch axis; it cannot be "
                                 f"summed over. At {here()}")
        if len(set(axes)) != len(axes):
            raise ValueError(f"{opname}: the axes {list(axes)} of {_describe(var)} repeat a dimension. "
                             f"At {here()}")


def _parse_axes(opname: str, a, b, axes, batch: bool):
    """Theano's/NumPy's `axes` (an int, or a pair of ints or int lists) as two lists."""
    offset = 1 if batch else 0
    if isinstance(axes, (int, np.integer)):
        n = int(axes)
        if n < 0 or n > a.ndim - offset or n > b.ndim - offset:
            raise ValueError(f"{opname}: cannot sum over {n} axes of {_operand(a)} and {_operand(b)}"
                             f"{' (excluding the batch axis)' if batch else ''}. At {here()}")
        return list(range(a.ndim - n, a.ndim)), list(range(offset, offset + n))
    try:
        pair = list(np.asarray(axes, dtype=object)) if isinstance(axes, np.ndarray) else list(axes)
    except TypeError:
        pair = None
    if pair is None or len(pair) != 2:
        raise ValueError(f"{opname}: axes must be an int or a pair of axis lists, got {axes!r}. At {here()}")
    lists = []
    for var, entry in zip((a, b), pair):
        entry = [entry] if isinstance(entry, (int, np.integer)) else list(np.asarray(entry).reshape(-1))
        out = []
        for d in entry:
            if not isinstance(d, (int, np.integer)):
                raise ValueError(f"{opname}: axes must be integers, got {axes!r}. At {here()}")
            d = int(d)
            out.append(d + var.ndim if -var.ndim <= d < 0 else d)
        lists.append(out)
    return lists[0], lists[1]


def _tensordot(opname: str, a, b, ax_a, ax_b):
    _check_axes(opname, a, ax_a, b, ax_b, batch=False)
    _check_pairs(opname, a, ax_a, b, ax_b)
    if a.ndim <= 2 and b.ndim <= 2 and list(ax_a) == [a.ndim - 1] and list(ax_b) == [0]:
        return _dot(a, b)  # the plain product: keep it a Dot node, which rewrites recognise
    return TensorDot((ax_a, ax_b))(a, b)


def tensordot(a, b, axes=2):
    """Sum products over the given axes of `a` and `b`, like `numpy.tensordot`.

    axes: an int n (the last n axes of `a` with the first n of `b`), or a
    pair `[axes_of_a, axes_of_b]` of equal-length lists (or ints). The output
    holds the axes of `a` not summed, then those of `b`.
    """
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    ax_a, ax_b = _parse_axes("tensordot", a, b, axes, batch=False)
    return _tensordot("tensordot", a, b, ax_a, ax_b)


def outer(x, y):
    """The outer product of two vectors (other ranks are flattened first), as a matrix."""
    x, y = as_tensor_variable(x), as_tensor_variable(y)
    if x.ndim != 1:
        x = x.flatten()
    if y.ndim != 1:
        y = y.flatten()
    return _dot(dimshuffle(x, (0, "x")), dimshuffle(y, ("x", 0)))


def inner(a, b):
    """`numpy.inner`: sum over the last axis of both (a scalar operand multiplies)."""
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    if a.ndim == 0 or b.ndim == 0:
        from .math import mul

        return mul(a, b)
    if a.ndim <= 2 and b.ndim <= 2:
        _check_pairs("inner", a, [a.ndim - 1], b, [b.ndim - 1])
        return _dot(a, b.T if b.ndim == 2 else b)
    return _tensordot("inner", a, b, [a.ndim - 1], [b.ndim - 1])


# --- batched products --------------------------------------------------------------------------

class BatchedTensorDot(Op):
    """Per batch entry (axis 0 of both), `tensordot` over `axes` (which exclude axis 0).

    The output is (batch, remaining axes of `a`, remaining axes of `b`). The
    batch lengths must be equal (they do not broadcast).
    """

    __props__ = ("axes",)

    def __init__(self, axes):
        self.axes = (tuple(int(a) for a in axes[0]), tuple(int(b) for b in axes[1]))

    def make_node(self, a, b):
        a, b = as_tensor_variable(a), as_tensor_variable(b)
        for v in (a, b):
            if v.ndim < 1:
                raise TypeError(f"batched_tensordot: {_operand(v)} has no batch axis. At {here()}")
        ax_a, ax_b = self.axes
        _check_axes("batched_tensordot", a, ax_a, b, ax_b, batch=True)
        _check_pairs("batched_tensordot", a, (0,) + ax_a, b, (0,) + ax_b)
        batch = a.type.shape[0] if a.type.shape[0] is not None else b.type.shape[0]
        shape = (batch,) + tuple(a.type.shape[d] for d in _free(a.ndim, ax_a, 1)) + tuple(
            b.type.shape[d] for d in _free(b.ndim, ax_b, 1))
        return Apply(self, [a, b], [TensorType(_out_dtype("batched_tensordot", a, b), shape=shape)()])

    def perform(self, node, inputs, output_storage):
        a, b = inputs
        ax_a, ax_b = list(self.axes[0]), list(self.axes[1])
        _runtime_pairs(node, a, [0] + ax_a, b, [0] + ax_b)
        free_a, free_b = _free(a.ndim, ax_a, 1), _free(b.ndim, ax_b, 1)
        n = a.shape[0]
        fa = [a.shape[d] for d in free_a]
        fb = [b.shape[d] for d in free_b]
        k = int(np.prod([a.shape[d] for d in ax_a], dtype=np.int64))
        at = a.transpose([0] + free_a + ax_a).reshape(n, int(np.prod(fa, dtype=np.int64)), k)
        bt = b.transpose([0] + ax_b + free_b).reshape(n, k, int(np.prod(fb, dtype=np.int64)))
        out = np.matmul(at, bt).reshape([n] + fa + fb)
        output_storage[0][0] = _as_array(out, node.outputs[0].type.numpy_dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        sa, sb = input_shapes
        ax_a, ax_b = self.axes
        return [(sa[0],) + tuple(sa[d] for d in _free(len(sa), ax_a, 1))
                + tuple(sb[d] for d in _free(len(sb), ax_b, 1))]

    def L_op(self, inputs, outputs, output_grads):
        a, b = inputs
        (gz,) = output_grads
        ax_a, ax_b = self.axes
        free_a, free_b = _free(a.ndim, ax_a, 1), _free(b.ndim, ax_b, 1)
        nfa, nfb = len(free_a), len(free_b)
        ga = BatchedTensorDot((range(1 + nfa, 1 + nfa + nfb), free_b))(gz, b)
        ga = dimshuffle(ga, _labels_to_order([0] + free_a + [ax_a[i] for i in _argsort(ax_b)], a.ndim))
        gb = BatchedTensorDot((free_a, range(1, 1 + nfa)))(a, gz)
        gb = dimshuffle(gb, _labels_to_order([0] + [ax_b[i] for i in _argsort(ax_a)] + free_b, b.ndim))
        return [_like(ga, a), _like(gb, b)]


def batched_tensordot(x, y, axes=2):
    """`tensordot` applied to each pair `x[i]`, `y[i]` along the first (batch) axis.

    axes: an int n (the last n axes of `x` with axes 1..n of `y`), or a pair
    of axis lists, counted in the full tensors (axis 0 is the batch axis and
    may not appear). The result has shape (batch, remaining axes of `x`,
    remaining axes of `y`).
    """
    x, y = as_tensor_variable(x), as_tensor_variable(y)
    for v in (x, y):
        if v.ndim < 1:
            raise TypeError(f"batched_tensordot: {_operand(v)} has no batch axis. At {here()}")
    ax_x, ax_y = _parse_axes("batched_tensordot", x, y, axes, batch=True)
    return BatchedTensorDot((ax_x, ax_y))(x, y)


def batched_dot(a, b):
    """`dot(a[i], b[i])` for each i along the first (batch) axis (Theano's semantics).

    matrix·matrix gives a vector (row-wise dot products), tensor3·matrix a
    matrix, tensor3·tensor3 the batched matrix product. A vector operand
    scales the other per batch entry. Higher ranks sum over the last axis of
    `a` and the second-to-last of `b`.
    """
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    for v, which in ((a, "a"), (b, "b")):
        if v.ndim == 0:
            raise TypeError(f"batched_dot: {which} ({_operand(v)}) must have at least one (batch) axis. "
                            f"At {here()}")
    if a.ndim == 1:
        return dimshuffle(a, (0,) + ("x",) * (b.ndim - 1)) * b
    if b.ndim == 1:
        return a * dimshuffle(b, (0,) + ("x",) * (a.ndim - 1))
    axes = ([a.ndim - 1], [max(1, b.ndim - 2)])
    _check_pairs("batched_dot", a, [0] + axes[0], b, [0] + axes[1])
    return BatchedTensorDot(axes)(a, b)


# --- matmul ----------------------------------------------------------------------------------

class MatMul(Op):
    """`numpy.matmul` of two tensors of equal rank >= 2 (batch axes broadcast if of static length 1)."""

    __props__ = ()

    def make_node(self, a, b):
        a, b = as_tensor_variable(a), as_tensor_variable(b)
        if a.ndim < 2 or a.ndim != b.ndim:
            raise TypeError(f"MatMul takes two tensors of equal rank >= 2, got {_operand(a)} and "
                            f"{_operand(b)}; use T.matmul for other ranks. At {here()}")
        _check_pairs("matmul", a, [a.ndim - 1], b, [b.ndim - 2])
        batch = []
        for d in range(a.ndim - 2):
            la, lb = a.type.shape[d], b.type.shape[d]
            if la is not None and lb is not None and la != lb and 1 not in (la, lb):
                raise ValueError(f"matmul: the batch dimensions cannot broadcast: {_operand(a)} has length "
                                 f"{la} in axis {d}, {_operand(b)} has length {lb}. At {here()}")
            if la == 1:
                batch.append(lb)
            elif lb == 1:
                batch.append(la)
            else:
                batch.append(la if la is not None else lb)
        shape = tuple(batch) + (a.type.shape[-2], b.type.shape[-1])
        return Apply(self, [a, b], [TensorType(_out_dtype("matmul", a, b), shape=shape)()])

    def perform(self, node, inputs, output_storage):
        a, b = inputs
        va, vb = node.inputs
        _runtime_pairs(node, a, [a.ndim - 1], b, [b.ndim - 2])
        for d in range(a.ndim - 2):
            if a.shape[d] != b.shape[d] and not (va.broadcastable[d] or vb.broadcastable[d]):
                raise ValueError(
                    f"matmul: batch axis {d} differs: {_describe(va)} has shape {a.shape}, {_describe(vb)} "
                    f"has shape {b.shape}; only axes of static length 1 broadcast (use T.addbroadcast). "
                    f"The expression was built at {node.outputs[0].creation_line}")
        output_storage[0][0] = _as_array(np.matmul(a, b), node.outputs[0].type.numpy_dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        sa, sb = input_shapes
        a, b = node.inputs
        batch = [sb[d] if a.broadcastable[d] else sa[d] for d in range(a.ndim - 2)]
        return [tuple(batch) + (sa[-2], sb[-1])]

    def L_op(self, inputs, outputs, output_grads):
        a, b = inputs
        (gz,) = output_grads
        return [_sum_batch(self(gz, _swap(b)), a), _sum_batch(self(_swap(a), gz), b)]


def _swap(x):
    order = tuple(range(x.ndim - 2)) + (x.ndim - 1, x.ndim - 2)
    return dimshuffle(x, order)


def _sum_batch(g, var):
    """Sum a gradient over the batch axes along which `var` was broadcast."""
    from .. import tensor as t

    axes = tuple(d for d in range(var.ndim - 2) if var.broadcastable[d] and not g.broadcastable[d])
    if axes:
        g = t.sum(g, axis=axes, keepdims=True)
    return _like(g, var)


def matmul(a, b):
    """The matrix product with NumPy's `@` semantics (also `a @ b` on variables).

    1-d operands are promoted to a row (first) or a column (second) and the
    added axis removed from the result; axes before the last two are batch
    axes and broadcast when of static length 1. Scalars are rejected, as by NumPy.
    """
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    for v, pos in ((a, 0), (b, 1)):
        if v.ndim == 0:
            raise TypeError(f"matmul: operand {pos} ({_operand(v)}) is a scalar; matmul needs at least one "
                            f"dimension (use * to scale). At {here()}")
    _check_pairs("matmul", a, [a.ndim - 1], b, [max(b.ndim - 2, 0)])
    if a.ndim <= 2 and b.ndim <= 2:
        return _dot(a, b)
    a_vec, b_vec = a.ndim == 1, b.ndim == 1
    if a_vec:
        a = dimshuffle(a, ("x", 0))
    if b_vec:
        b = dimshuffle(b, (0, "x"))
    nd = max(a.ndim, b.ndim)
    a = dimshuffle(a, ("x",) * (nd - a.ndim) + tuple(range(a.ndim)))
    b = dimshuffle(b, ("x",) * (nd - b.ndim) + tuple(range(b.ndim)))
    out = MatMul()(a, b)
    keep = [d for d in range(nd) if not ((a_vec and d == nd - 2) or (b_vec and d == nd - 1))]
    return dimshuffle(out, tuple(keep)) if len(keep) != nd else out


# Theano exposed the BLAS ops the optimiser introduces under theano.tensor.blas
from .blas_ops import (Gemm, Gemv, Ger, gemm_inplace, gemm_no_inplace, gemv_inplace,  # noqa: E402,F401
                       gemv_no_inplace, ger, ger_destructive)
