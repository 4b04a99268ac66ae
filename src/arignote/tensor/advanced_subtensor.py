"""Advanced indexing: integer and boolean arrays as indices, NumPy semantics.

`AdvancedSubtensor1` is the common special case `x[int_vector]` (an
embedding lookup); its gradient, an `AdvancedIncSubtensor1` into zeros,
touches only the rows that were used. `AdvancedSubtensor` is the general
case (several arrays broadcast together, mixed with slices, ints, new axes
and boolean masks). The results are copies, never views.

`set_subtensor`/`inc_subtensor` also live here: they find the indexing op
(basic or advanced) that made their first argument and build the matching
inc op, whose value `y` all inc ops prepare with the same helpers.
"""
from __future__ import annotations

import numpy as np

from ..graph.basic import Apply, Op, Variable
from ..graph.sourceline import here
from .subtensor import (IncSubtensor, Subtensor, _IncSubtensorGrads, _IndexOp, _shape_str, check_index_inputs,
                        checked_result_shape, describe, fill_index, grad_like, result_shape,
                        runtime_index_error, runtime_infos, symbolic_result_shape)
from .type import TensorType
from .variable import as_tensor_variable, constant

# ---------------------------------------------------------------------------
# the value written by set/inc_subtensor (shared by all the inc ops)

def prepare_y(op_name, x, sub_shape, y, set_instead_of_inc):
    """`y` as a tensor of x's dtype that broadcasts (statically) to `sub_shape`."""
    verb = "set" if set_instead_of_inc else "increment"
    if not isinstance(y, Variable):
        try:
            arr = np.asarray(y)
        except (TypeError, ValueError) as e:
            raise TypeError(f"{op_name}: cannot use {y!r} as the value to {verb} with: {e}. At {here()}") from None
        if arr.dtype.kind not in "biufc":
            raise TypeError(f"{op_name}: cannot use {y!r} (dtype {arr.dtype}) as a value. At {here()}")
        try:
            arr = TensorType(x.dtype, shape=arr.shape).filter(y if isinstance(y, np.ndarray) else arr.tolist()
                                                              if arr.ndim else arr.item())
        except TypeError as e:
            raise TypeError(f"{op_name}: the value to {verb} {describe(x)} with cannot be converted to "
                            f"{x.dtype}: {e}. At {here()}") from None
        y = constant(arr)
    y = as_tensor_variable(y)
    if y.dtype != x.dtype:
        if not np.can_cast(y.dtype, x.dtype, "safe"):
            raise TypeError(
                f"{op_name}: cannot {verb} {describe(x)} ({x.dtype}) with {describe(y)} of dtype {y.dtype}: "
                f"casting {y.dtype} to {x.dtype} could lose information. Cast it yourself "
                f"(T.cast(y, '{x.dtype}')) if that is intended. At {here()}")
        from .math import cast

        y = cast(y, x.dtype)
    if y.ndim > len(sub_shape):
        extra = y.ndim - len(sub_shape)
        if not all(s == 1 for s in y.type.shape[:extra]):
            raise ValueError(f"{op_name}: cannot {verb} a {len(sub_shape)}-dimensional part of {describe(x)} "
                             f"with the {y.ndim}-dimensional {describe(y)} (static shape "
                             f"{_shape_str(y.type.shape)}). At {here()}")
        from .elemwise import dimshuffle

        y = dimshuffle(y, tuple(range(extra, y.ndim)))
    for ys, xs in zip(y.type.shape[::-1], sub_shape[::-1]):
        if ys not in (None, 1) and xs is not None and ys != xs:
            raise ValueError(f"{op_name}: {describe(y)} of static shape {_shape_str(y.type.shape)} cannot "
                             f"broadcast to the indexed part of {describe(x)}, of static shape "
                             f"{_shape_str(sub_shape)}. At {here()}")
    return y


def check_y_runtime(node, y_var, y, target_shape):
    """Only dims that are statically 1 may stretch (so the gradient w.r.t. y is well defined)."""
    if y.shape == tuple(target_shape)[len(target_shape) - y.ndim:]:
        return
    lead = len(target_shape) - y.ndim
    for d in range(y.ndim):
        got, want = y.shape[d], target_shape[lead + d]
        if got != want and not (y_var.type.shape[d] == 1):
            raise ValueError(
                f"{node.op}: the value {describe(y_var)} has shape {y.shape} but the indexed part of "
                f"{describe(node.inputs[0])} has shape {tuple(target_shape)}; only dimensions of static "
                f"length 1 broadcast (the expression was built at {node.outputs[0].creation_line})")


def sum_to_y(gy, y):
    """Sum a gradient of the indexed part down to y's (broadcast) shape and dtype."""
    from .. import tensor as t

    if gy.ndim > y.ndim:
        gy = t.sum(gy, axis=tuple(range(gy.ndim - y.ndim)))
    axes = tuple(d for d in range(y.ndim) if y.type.shape[d] == 1 and gy.type.shape[d] != 1)
    if axes:
        gy = t.sum(gy, axis=axes, keepdims=True)
    if gy.type.shape != y.type.shape and any(s == 1 for s in y.type.shape):
        gy = t.patternbroadcast(gy, y.broadcastable)
    return t.cast(gy, y.dtype) if gy.dtype != y.dtype else gy


_ILIST = (TensorType("int64", shape=(None,)),)


def _check_ilist(op, ilist):
    ilist = as_tensor_variable(ilist)
    if ilist.ndim != 1 or ilist.dtype[0] not in "iu":
        raise TypeError(f"{op}: the index {describe(ilist)} must be a vector of integers, got {ilist.type}. "
                        f"At {here()}")
    return ilist


def _check_x(op, x):
    x = as_tensor_variable(x)
    if x.ndim == 0:
        raise IndexError(f"{op}: cannot index the scalar {describe(x)} with an array. At {here()}")
    return x


class AdvancedSubtensor1(Op):
    """`x[ilist]` for an integer vector `ilist`: rows of x (repeats allowed)."""

    __props__ = ()

    def make_node(self, x, ilist):
        x = _check_x(self, x)
        ilist = _check_ilist(self, ilist)
        shape = checked_result_shape("indexing", x, _ILIST, [ilist])
        return Apply(self, [x, ilist], [TensorType(x.dtype, shape=shape)()])

    def perform(self, node, inputs, output_storage):
        x, ilist = inputs
        try:
            output_storage[0][0] = x.take(ilist, axis=0)
        except IndexError as e:
            raise runtime_index_error(e, node, x) from None

    def infer_shape(self, fgraph, node, input_shapes):
        return [(input_shapes[1][0],) + tuple(input_shapes[0][1:])]

    def connection_pattern(self, node):
        return [[True], [False]]

    def L_op(self, inputs, outputs, output_grads):
        from .. import tensor as t
        from ..gradient import DisconnectedType

        x, ilist = inputs
        if x.dtype[0] in "biu":
            return [t.zeros_like(x, dtype="floatX"), DisconnectedType()()]
        # the sparse gradient: only the rows in ilist receive anything
        g = grad_like(output_grads[0], x)
        return [AdvancedIncSubtensor1()(t.zeros_like(x), g, ilist), DisconnectedType()()]

    def R_op(self, inputs, eval_points):
        return [None if eval_points[0] is None else self(eval_points[0], inputs[1])]


class AdvancedIncSubtensor1(Op):
    """x with the rows `ilist` incremented by (or set to) y. Repeated rows accumulate
    (increment) or the last one wins (set). x itself is untouched unless `inplace`."""

    __props__ = ("inplace", "set_instead_of_inc")

    def __init__(self, inplace=False, set_instead_of_inc=False, destroyhandler_tolerate_aliased=None):
        self.inplace = bool(inplace)
        self.set_instead_of_inc = bool(set_instead_of_inc)
        self.destroy_map = {0: [0]} if self.inplace else {}
        self.destroyhandler_tolerate_aliased = list(destroyhandler_tolerate_aliased or [])

    def __str__(self):
        kind = "Set" if self.set_instead_of_inc else "Inc"
        return f"Advanced{kind}Subtensor1{'{inplace}' if self.inplace else ''}"

    def __repr__(self):
        return str(self)

    def make_node(self, x, y, ilist):
        x = _check_x(self, x)
        ilist = _check_ilist(self, ilist)
        sub_shape = checked_result_shape(str(self), x, _ILIST, [ilist])
        y = prepare_y(str(self), x, sub_shape, y, self.set_instead_of_inc)
        return Apply(self, [x, y, ilist], [x.type()])

    def perform(self, node, inputs, output_storage):
        x, y, ilist = inputs
        out = x if self.inplace else x.copy()
        n = x.shape[0]
        hi, lo = (int(ilist.max()), int(ilist.min())) if ilist.size else (0, 0)
        if hi >= n or lo < -n:
            bad = hi if hi >= n else lo
            raise runtime_index_error(f"index {bad} is out of bounds for axis 0 with size {n}", node, x)
        check_y_runtime(node, node.inputs[1], y, (len(ilist),) + x.shape[1:])
        if self.set_instead_of_inc:
            out[ilist] = y
        else:
            np.add.at(out, ilist, y)
        output_storage[0][0] = out

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[0]]

    def connection_pattern(self, node):
        return [[True], [True], [False]]

    def L_op(self, inputs, outputs, output_grads):
        from .. import tensor as t
        from ..gradient import DisconnectedType

        x, y, ilist = inputs
        g = grad_like(output_grads[0], x)
        if x.dtype[0] in "biu":
            return [t.zeros_like(x, dtype="floatX"), t.zeros_like(y, dtype="floatX"), DisconnectedType()()]
        gx = AdvancedIncSubtensor1(set_instead_of_inc=True)(g, t.zeros_like(y), ilist) \
            if self.set_instead_of_inc else g
        gy = sum_to_y(AdvancedSubtensor1()(g, ilist), y)
        return [gx, gy, DisconnectedType()()]


def _arrays_idx_list(inputs):
    """Theano's `AdvancedSubtensor()(x, i, j)`: one array (or int) entry per index input."""
    inputs = [as_tensor_variable(i) for i in inputs]
    return [TensorType(i.dtype, shape=(None,) * i.ndim) for i in inputs]


class AdvancedSubtensor(_IndexOp):
    """General NumPy advanced indexing: `x[[0, 1], :, idx]`, `x[mask]`, `x[i, None, j]`.

    Without `idx_list`, each index input indexes one dimension (Theano's form).
    """

    __props__ = ("idx_list",)

    def __init__(self, idx_list=None):
        self.idx_list = None if idx_list is None else tuple(idx_list)

    def __str__(self):
        return f"AdvancedSubtensor{{{self._idx_str()}}}"

    def make_node(self, x, *inputs):
        if self.idx_list is None:
            return AdvancedSubtensor(_arrays_idx_list(inputs)).make_node(x, *inputs)
        x = as_tensor_variable(x)
        inputs = check_index_inputs(self, self.idx_list, inputs)
        _check_consumed(x, self.idx_list)
        shape = checked_result_shape("indexing", x, self.idx_list, inputs)
        return Apply(self, [x, *inputs], [TensorType(x.dtype, shape=shape)()])

    def perform(self, node, inputs, output_storage):
        x, *rest = inputs
        try:
            out = x[fill_index(self.idx_list, rest)]
        except IndexError as e:
            raise runtime_index_error(e, node, x) from None
        output_storage[0][0] = np.asarray(out)

    def infer_shape(self, fgraph, node, input_shapes):
        return [symbolic_result_shape(node, self.idx_list, input_shapes[0], node.inputs[1:], node.outputs[0])]

    def connection_pattern(self, node):
        return [[True]] + [[False]] * (len(node.inputs) - 1)

    def L_op(self, inputs, outputs, output_grads):
        from .. import tensor as t
        from ..gradient import DisconnectedType

        x, *rest = inputs
        if x.dtype[0] in "biu":
            gx = t.zeros_like(x, dtype="floatX")
        else:
            gx = AdvancedIncSubtensor(self.idx_list)(t.zeros_like(x), grad_like(output_grads[0], x), *rest)
        return [gx] + [DisconnectedType()() for _ in rest]

    def R_op(self, inputs, eval_points):
        return [None if eval_points[0] is None else self(eval_points[0], *inputs[1:])]


class AdvancedIncSubtensor(_IncSubtensorGrads, _IndexOp):
    """x with `x[idx]` (advanced) incremented by (or set to) y; repeated positions
    accumulate (increment) or the last one wins (set)."""

    __props__ = ("idx_list", "inplace", "set_instead_of_inc")

    def __init__(self, idx_list=None, inplace=False, set_instead_of_inc=False,
                 destroyhandler_tolerate_aliased=None):
        self.idx_list = None if idx_list is None else tuple(idx_list)
        self.inplace = bool(inplace)
        self.set_instead_of_inc = bool(set_instead_of_inc)
        self.destroy_map = {0: [0]} if self.inplace else {}
        self.destroyhandler_tolerate_aliased = list(destroyhandler_tolerate_aliased or [])

    def __str__(self):
        kind = "Set" if self.set_instead_of_inc else "Inc"
        return f"Advanced{kind}Subtensor{'{inplace}' if self.inplace else ''}{{{self._idx_str()}}}"

    def make_node(self, x, y, *inputs):
        if self.idx_list is None:
            return AdvancedIncSubtensor(_arrays_idx_list(inputs), self.inplace, self.set_instead_of_inc,
                                        self.destroyhandler_tolerate_aliased).make_node(x, y, *inputs)
        x = as_tensor_variable(x)
        inputs = check_index_inputs(self, self.idx_list, inputs)
        _check_consumed(x, self.idx_list)
        sub_shape = checked_result_shape(str(self), x, self.idx_list, inputs)
        y = prepare_y(str(self), x, sub_shape, y, self.set_instead_of_inc)
        return Apply(self, [x, y, *inputs], [x.type()])

    def perform(self, node, inputs, output_storage):
        x, y, *rest = inputs
        out = x if self.inplace else x.copy()
        idx = fill_index(self.idx_list, rest)
        try:
            target = result_shape(self.idx_list, x.shape, runtime_infos(self.idx_list, rest))
            if self.set_instead_of_inc:
                check_y_runtime(node, node.inputs[1], y, target)
                out[idx] = y
            else:
                check_y_runtime(node, node.inputs[1], y, target)
                np.add.at(out, idx, y)
        except IndexError as e:
            raise runtime_index_error(e, node, x) from None
        output_storage[0][0] = out

    def read_op(self):
        """The indexing op that reads what this op writes."""
        return AdvancedSubtensor(self.idx_list)


def _check_consumed(x, idx_list):
    n = sum(0 if e is None else (e.ndim if isinstance(e, TensorType) and e.dtype == "bool" else 1)
            for e in idx_list)
    if n > x.ndim:
        raise IndexError(f"too many indices for {describe(x)}: it has {x.ndim} dimensions but {n} were "
                         f"indexed. At {here()}")


def advanced_getitem(x, entries):
    """`x[...]` when some entry is an array (entries as parsed by subtensor.getitem)."""
    body = list(entries)
    while body and body[-1][0] == "slice" and body[-1][1] == slice(None):
        body.pop()
    if (len(body) == 1 and body[0][0] == "arr" and body[0][1].ndim == 1 and body[0][1].dtype != "bool"):
        return AdvancedSubtensor1()(x, body[0][1])
    idx_list, inputs = [], []
    for kind, v in body:
        if kind == "new":
            idx_list.append(None)
        elif kind == "int":
            idx_list.append(TensorType(v.dtype, shape=()) if isinstance(v, Variable) else v)
            inputs += [v] if isinstance(v, Variable) else []
        elif kind == "slice":
            idx_list.append(slice(*[c.type if isinstance(c, Variable) else c for c in (v.start, v.stop, v.step)]))
            inputs += [c for c in (v.start, v.stop, v.step) if isinstance(c, Variable)]
        else:
            idx_list.append(TensorType(v.dtype, shape=(None,) * v.ndim))
            inputs.append(v)
    return AdvancedSubtensor(idx_list)(x, *inputs)


advanced_subtensor1 = AdvancedSubtensor1()
advanced_inc_subtensor1 = AdvancedIncSubtensor1()
advanced_set_subtensor1 = AdvancedIncSubtensor1(set_instead_of_inc=True)


def take(a, indices, axis=None, mode="raise"):
    """Elements of `a` at `indices` along `axis` (of the flattened `a` if None), like numpy.take.

    `mode`: 'raise' (out-of-range indices are an error), 'wrap' or 'clip'.
    """
    from .. import tensor as t
    from .subtensor import getitem

    a = as_tensor_variable(a)
    if not isinstance(indices, Variable):
        arr = np.asarray(indices)
        if arr.size == 0 and arr.dtype.kind == "f":
            arr = arr.astype(np.int64)
        indices = constant(arr)
    indices = as_tensor_variable(indices)
    if indices.dtype[0] not in "iu":
        raise TypeError(f"take: indices {describe(indices)} must be integers, got {indices.dtype}. At {here()}")
    if mode not in ("raise", "wrap", "clip"):
        raise ValueError(f"take: mode must be 'raise', 'wrap' or 'clip', got {mode!r}. At {here()}")
    if axis is None:
        a, axis = a.flatten(), 0
    if not -a.ndim <= axis < a.ndim:
        raise ValueError(f"take: axis {axis} is out of range for {describe(a)} with {a.ndim} dimensions. "
                         f"At {here()}")
    axis %= a.ndim
    if mode != "raise":
        n = a.shape[axis]
        indices = t.mod(indices, n) if mode == "wrap" else t.clip(indices, 0, n - 1)
        indices = t.cast(indices, "int64")
    if axis == 0 and indices.ndim == 1:
        return AdvancedSubtensor1()(a, indices)
    return getitem(a, (slice(None),) * axis + (indices,))


# ---------------------------------------------------------------------------
# set_subtensor / inc_subtensor: find the indexing, build the matching inc op

def _is_indexing(v) -> bool:
    """Whether `v` is an indexing result, possibly dimshuffled (`x[None, 0]`, `x[1:].T`)."""
    from .elemwise import DimShuffle

    node = v.owner
    if node is None:
        return False
    if isinstance(node.op, (Subtensor, AdvancedSubtensor1, AdvancedSubtensor)):
        return True
    return isinstance(node.op, DimShuffle) and _is_indexing(node.inputs[0])


def _indexing_node(x_sub, fname):
    node = getattr(x_sub, "owner", None)
    if not isinstance(x_sub, Variable):
        raise TypeError(f"{fname}: the first argument must be the symbolic result of indexing, like x[2:5]; "
                        f"got {x_sub!r}. At {here()}")
    if _is_indexing(x_sub):
        return node
    what = "a graph input, shared variable or constant" if node is None else f"the output of {node.op}"
    raise TypeError(f"{fname}: the first argument must be the result of indexing a tensor (like "
                    f"{fname}(x[2:5], y)), so that it is known which part of which tensor to write; "
                    f"{describe(x_sub)} is {what}. At {here()}")


def inc_subtensor(x, y, inplace=False, set_instead_of_inc=False, tolerate_inplace_aliasing=False):
    """A copy of the tensor that `x` indexes, with the part `x` adds `y` (or set to `y`).

    `x` must be the result of indexing: `T.inc_subtensor(a[1:3], 1.0)`. `y`
    broadcasts to x's shape. Repeated integer indices accumulate.
    """
    fname = "set_subtensor" if set_instead_of_inc else "inc_subtensor"
    node = _indexing_node(x, fname)
    from .elemwise import DimShuffle

    op = node.op
    tol = [[0, 1]] if tolerate_inplace_aliasing else []
    if isinstance(op, DimShuffle):
        return inc_subtensor(node.inputs[0], _undo_dimshuffle(x, y, op, fname, set_instead_of_inc), inplace,
                             set_instead_of_inc, tolerate_inplace_aliasing)
    base, rest = node.inputs[0], node.inputs[1:]
    if isinstance(op, Subtensor):
        new = IncSubtensor(op.idx_list, inplace, set_instead_of_inc, tol)
    elif isinstance(op, AdvancedSubtensor1):
        new = AdvancedIncSubtensor1(inplace, set_instead_of_inc, tol)
    else:
        new = AdvancedIncSubtensor(op.idx_list, inplace, set_instead_of_inc, tol)
    return new(base, y, *rest)


def _undo_dimshuffle(x_sub, y, op, fname, set_instead_of_inc):
    """Map y (shaped like a dimshuffled indexing result) back to the indexing result's dims."""
    from .elemwise import dimshuffle
    from .shape_ops import addbroadcast

    y = prepare_y(fname, x_sub, x_sub.type.shape, y, set_instead_of_inc)
    if y.ndim < x_sub.ndim:
        y = dimshuffle(y, ("x",) * (x_sub.ndim - y.ndim) + tuple(range(y.ndim)))
    inserted = [i for i, d in enumerate(op.new_order) if d == "x"]
    need = [i for i in inserted if y.type.shape[i] != 1]
    if need:
        y = addbroadcast(y, *need)
    order = [op.new_order.index(d) if d in op.new_order else "x" for d in range(op.input_ndim)]
    return dimshuffle(y, order)


def set_subtensor(x, y, inplace=False, tolerate_inplace_aliasing=False):
    """A copy of the tensor that `x` indexes, with that part set to `y`.

    >>> import numpy as np, arignote as th, arignote.tensor as T
    >>> a = th.shared(np.array([[1., 2.], [3., 4.]]))
    >>> T.set_subtensor(a[0], [0.0, 0.0]).eval().tolist()
    [[0.0, 0.0], [3.0, 4.0]]
    """
    return inc_subtensor(x, y, inplace, set_instead_of_inc=True, tolerate_inplace_aliasing=tolerate_inplace_aliasing)
