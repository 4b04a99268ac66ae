"""Indexing: `x[...]`, and writing into an indexed part with set/inc_subtensor.

Basic indexing (ints, slices, newaxis, Ellipsis) is the `Subtensor` op, whose
output is a view of its input. Integer and boolean arrays as indices make an
advanced-indexing op (`advanced_subtensor.py`), with NumPy's semantics.

An index is described by `idx_list`, one entry per indexed dimension (the
op's parameter, so two identical indexings compare equal):
  - a Python int: a constant index;
  - a `slice` whose start/stop/step are None, ints or scalar TensorTypes;
  - a TensorType: a symbolic input (an integer scalar, or in advanced ops an
    integer or boolean array); the matching variables follow `x` (and `y`)
    among the node's inputs, in order;
  - None (advanced ops only): a new axis.
"""
from __future__ import annotations

import numbers

import numpy as np

from ..graph.basic import Apply, Constant, Op, Variable
from ..graph.sourceline import here
from .type import TensorType
from .variable import as_tensor_variable, constant

__all__ = ["set_subtensor", "inc_subtensor", "advanced_inc_subtensor1", "advanced_set_subtensor1", "take",
           "Subtensor", "IncSubtensor", "AdvancedSubtensor1", "AdvancedIncSubtensor1", "AdvancedSubtensor",
           "AdvancedIncSubtensor"]


class _Unknown:
    """A statically unknown scalar (distinct from None, which means a slice default)."""

    def __repr__(self):
        return "?"


UNKNOWN = _Unknown()


class ArrayInfo:
    """What is known of an array index: its shape, and for constants its values' extent."""

    def __init__(self, shape, is_bool, count=None, lo=None, hi=None):
        self.shape, self.is_bool, self.count, self.lo, self.hi = tuple(shape), is_bool, count, lo, hi

    @classmethod
    def of_value(cls, a: np.ndarray) -> "ArrayInfo":
        if a.dtype == bool:
            return cls(a.shape, True, int(np.count_nonzero(a)))
        return cls(a.shape, False)

    @classmethod
    def of_variable(cls, v: Variable) -> "ArrayInfo":
        if isinstance(v, Constant):
            info = cls.of_value(v.data)
            if not info.is_bool and v.data.size:
                info.lo, info.hi = int(v.data.min()), int(v.data.max())
            return info
        return cls(v.type.shape, v.dtype == "bool")


def is_array_entry(e) -> bool:
    return isinstance(e, TensorType) and (e.ndim > 0 or e.dtype == "bool")


def is_scalar_entry(e) -> bool:
    return isinstance(e, TensorType) and not is_array_entry(e)


def entry_key(e):
    """A hashable stand-in for an idx_list entry (slices are unhashable before Python 3.12)."""
    if isinstance(e, slice):
        return ("slice", e.start, e.stop, e.step)
    return e


def entry_str(e) -> str:
    if e is None:
        return "newaxis"
    if isinstance(e, slice):
        parts = ["" if c is None else (c.dtype if isinstance(c, TensorType) else str(c))
                 for c in (e.start, e.stop, e.step)]
        return ":".join(parts[:2]) + (f":{parts[2]}" if parts[2] else "")
    if isinstance(e, TensorType):
        return f"{e.dtype}{'[' + ','.join('?' if s is None else str(s) for s in e.shape) + ']' if e.ndim else ''}"
    return str(e)


def fill_index(idx_list, values) -> tuple:
    """The NumPy index tuple: `idx_list` with its symbolic entries replaced by `values`."""
    it = iter(values)
    out = []
    for e in idx_list:
        if isinstance(e, slice):
            out.append(slice(*[int(next(it)) if isinstance(c, TensorType) else c
                               for c in (e.start, e.stop, e.step)]))
        elif is_scalar_entry(e):
            out.append(int(next(it)))
        elif isinstance(e, TensorType):
            out.append(next(it))
        else:
            out.append(e)
    return tuple(out)


def slice_length(n, start, stop, step):
    """len(range(n)[start:stop:step]), or None if it cannot be known yet."""
    if step == 0:
        raise ValueError("slice step cannot be zero")
    if start is None and stop is None and step in (None, 1):
        return n
    if n is None or UNKNOWN in (start, stop, step):
        return None
    return len(range(*slice(start, stop, step).indices(n)))


def broadcast_static(shapes, what="indexing arrays"):
    ndim = max((len(s) for s in shapes), default=0)
    padded = [(1,) * (ndim - len(s)) + tuple(s) for s in shapes]
    out = []
    for d in range(ndim):
        col = [s[d] for s in padded]
        known = set(col) - {None, 1}
        if len(known) > 1:
            raise IndexError(f"shape mismatch: {what} could not be broadcast together with shapes "
                             f"{' '.join(str(tuple(s)) for s in shapes)}")
        if known:
            out.append(known.pop())
        elif all(c == 1 for c in col):
            out.append(1)
        else:
            out.append(None)
    return tuple(out)


def _check_int(v, n, dim):
    if v is UNKNOWN or n is None:
        return
    if not -n <= v < n:
        raise IndexError(f"index {v} is out of bounds for axis {dim} with size {n}")


def result_shape(idx_list, xshape, infos) -> tuple:
    """NumPy's result shape of indexing an array of shape `xshape` (ints or None).

    `infos` lists the symbolic entries' values in order: a scalar's int value
    (or UNKNOWN), an array's `ArrayInfo`. Works statically and at run time.
    """
    infos = iter(infos)
    has_array = any(is_array_entry(e) for e in idx_list)
    dim = 0
    parts: list = []  # output lengths, with "ADV" where the advanced dims go
    adv_shapes, adv_pos = [], []
    for pos, e in enumerate(idx_list):
        if e is None:
            parts.append(1)
        elif isinstance(e, slice):
            comps = [next(infos) if isinstance(c, TensorType) else c for c in (e.start, e.stop, e.step)]
            parts.append(slice_length(xshape[dim], *comps))
            dim += 1
        elif isinstance(e, (int, np.integer)) or is_scalar_entry(e):
            v = next(infos) if isinstance(e, TensorType) else int(e)
            _check_int(v, xshape[dim], dim)
            if has_array:
                adv_shapes.append(())
                adv_pos.append(pos)
                if len(adv_pos) == 1:
                    parts.append("ADV")
            dim += 1
        else:
            info = next(infos)
            if info.is_bool:
                k = len(info.shape)
                for j in range(k):
                    have, want = info.shape[j], xshape[dim + j]
                    if have is not None and want is not None and have != want:
                        raise IndexError(f"boolean index did not match indexed array along axis {dim + j}; "
                                         f"size of axis is {want} but size of corresponding boolean axis "
                                         f"is {have}")
                adv_shapes.append((info.count,))
                dim += k
            else:
                n = xshape[dim]
                if info.lo is not None and n is not None:
                    for v in (info.lo, info.hi):
                        _check_int(v, n, dim)
                adv_shapes.append(info.shape)
                dim += 1
            adv_pos.append(pos)
            if len(adv_pos) == 1:
                parts.append("ADV")
    parts.extend(xshape[dim:])
    if not adv_pos:
        return tuple(parts)
    bshape = broadcast_static(adv_shapes)
    if adv_pos == list(range(adv_pos[0], adv_pos[-1] + 1)):
        i = parts.index("ADV")
        return tuple(parts[:i]) + bshape + tuple(parts[i + 1:])
    return bshape + tuple(p for p in parts if p != "ADV")


def static_infos(idx_list, inputs) -> list:
    """`result_shape`'s infos for symbolic entries bound to `inputs` at build time."""
    out = []
    it = iter(inputs)
    for e in idx_list:
        comps = (e.start, e.stop, e.step) if isinstance(e, slice) else (e,)
        for c in comps:
            if not isinstance(c, TensorType):
                continue
            v = next(it)
            if is_array_entry(c):
                out.append(ArrayInfo.of_variable(v))
            else:
                out.append(int(v.data) if isinstance(v, Constant) else UNKNOWN)
    return out


def runtime_infos(idx_list, values) -> list:
    out = []
    it = iter(values)
    for e in idx_list:
        comps = (e.start, e.stop, e.step) if isinstance(e, slice) else (e,)
        for c in comps:
            if isinstance(c, TensorType):
                v = next(it)
                out.append(ArrayInfo.of_value(np.asarray(v)) if is_array_entry(c) else int(v))
    return out


def describe(var) -> str:
    return f"'{var.name}'" if var.name else str(var)


def checked_result_shape(op_name, x, idx_list, inputs):
    """`result_shape` at build time, with errors that name `x` and the user's line."""
    try:
        return result_shape(idx_list, x.type.shape, static_infos(idx_list, inputs))
    except (IndexError, ValueError) as e:
        raise type(e)(f"{op_name}: {e}, indexing {describe(x)} of static shape "
                      f"{_shape_str(x.type.shape)}. At {here()}") from None


def _shape_str(shape) -> str:
    return "(" + ", ".join("?" if s is None else str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def runtime_index_error(e: Exception, node, x_value) -> IndexError:
    return IndexError(f"{e}: indexing {describe(node.inputs[0])} of shape {x_value.shape} "
                      f"(the indexing was built at {node.outputs[0].creation_line})")


def check_index_inputs(op, idx_list, inputs):
    """Inputs bound to the symbolic entries of `idx_list`: right count, integer types."""
    inputs = [as_tensor_variable(i) for i in inputs]
    wanted = [c for e in idx_list
              for c in ((e.start, e.stop, e.step) if isinstance(e, slice) else (e,)) if isinstance(c, TensorType)]
    if len(wanted) != len(inputs):
        raise TypeError(f"{op}: expected {len(wanted)} index inputs, got {len(inputs)}. At {here()}")
    for w, v in zip(wanted, inputs):
        if v.ndim != w.ndim or (v.dtype == "bool") != (w.dtype == "bool") or v.dtype[0] not in "biu":
            raise TypeError(f"{op}: index input {v} has type {v.type}, expected one like {w}. At {here()}")
    return inputs


class _IndexOp(Op):
    """Shared parts of the ops parameterised by an idx_list."""

    def _props(self):
        return tuple(tuple(entry_key(e) for e in v) if p == "idx_list" and v is not None else v
                     for p, v in zip(self.__props__, (getattr(self, p) for p in self.__props__)))

    def __repr__(self):
        return str(self)

    def _idx_str(self):
        if self.idx_list is None:
            return "arrays"
        return ", ".join(entry_str(e) for e in self.idx_list)


class IndexedShape(Op):
    """The shape `x[idx]` will have, from x's shape and the index inputs (for infer_shape)."""

    __props__ = ("idx_list",)

    def __init__(self, idx_list):
        self.idx_list = tuple(idx_list)

    _props = _IndexOp._props

    def make_node(self, xshape, *inputs):
        xshape = as_tensor_variable(xshape)
        inputs = [as_tensor_variable(i) for i in inputs]
        infos = static_infos(self.idx_list, inputs)
        n = len(result_shape(self.idx_list, (None,) * xshape.type.shape[0], infos))
        return Apply(self, [xshape, *inputs], [TensorType("int64", shape=(n,))()])

    def perform(self, node, inputs, output_storage):
        xshape, *rest = inputs
        shp = result_shape(self.idx_list, tuple(int(s) for s in xshape), runtime_infos(self.idx_list, rest))
        output_storage[0][0] = np.asarray(shp, dtype=np.int64).reshape(len(shp))

    def infer_shape(self, fgraph, node, input_shapes):
        return [(node.outputs[0].type.shape[0],)]


def symbolic_result_shape(node, idx_list, x_shape, index_inputs, out):
    """infer_shape's answer for an indexing node: static lengths, else computed ones."""
    if all(s is not None for s in out.type.shape):
        return tuple(out.type.shape)
    from .shape_ops import make_vector

    vec = IndexedShape(idx_list)(make_vector([as_tensor_variable(s) for s in x_shape], dtype="int64")
                                 if x_shape else constant(np.zeros(0, dtype=np.int64)), *index_inputs)
    return tuple(s if s is not None else vec[i] for i, s in enumerate(out.type.shape))


def grad_like(g, x):
    """An output gradient in x's dtype (the inc ops refuse lossy casts of their value)."""
    if g.dtype == x.dtype or x.dtype[0] in "biu":
        return g
    from .math import cast

    return cast(g, x.dtype)


class Subtensor(_IndexOp):
    """Basic indexing (ints and slices): `x[1:, 0]`. The output is a view of `x`."""

    __props__ = ("idx_list",)
    view_map = {0: [0]}

    def __init__(self, idx_list):
        self.idx_list = tuple(int(e) if isinstance(e, np.integer) else e for e in idx_list)
        for e in self.idx_list:
            if e is None or is_array_entry(e):
                raise TypeError(f"Subtensor takes ints, slices and scalar types, got {e!r}")

    def __str__(self):
        return f"Subtensor{{{self._idx_str()}}}"

    def static_index(self):
        """The constant int of a single-int index (`x.shape[0]`), else None."""
        if len(self.idx_list) == 1 and isinstance(self.idx_list[0], int):
            return self.idx_list[0]
        return None

    def make_node(self, x, *inputs):
        x = as_tensor_variable(x)
        inputs = check_index_inputs(self, self.idx_list, inputs)
        if len(self.idx_list) > x.ndim:
            raise IndexError(f"too many indices for {describe(x)}: it has {x.ndim} dimensions, "
                             f"{len(self.idx_list)} were indexed. At {here()}")
        shape = checked_result_shape("indexing", x, self.idx_list, inputs)
        return Apply(self, [x, *inputs], [TensorType(x.dtype, shape=shape)()])

    def perform(self, node, inputs, output_storage):
        x, *rest = inputs
        try:
            # the trailing Ellipsis makes an all-int index give a 0-d view, not a NumPy scalar
            output_storage[0][0] = x[fill_index(self.idx_list, rest) + (Ellipsis,)]
        except IndexError as e:
            raise runtime_index_error(e, node, x) from None

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
            gx = IncSubtensor(self.idx_list)(t.zeros_like(x), grad_like(output_grads[0], x), *rest)
        return [gx] + [DisconnectedType()() for _ in rest]

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None:
            return [None]
        return [self(eval_points[0], *inputs[1:])]


class _IncSubtensorGrads:
    """Shape and gradients shared by the ops that write `y` into `x[idx]` (basic or advanced).

    A subclass says how to read the same index back (`read_op`); writing zeros
    there with the set-variant of itself removes what `y` overwrote.
    """

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[0]]

    def connection_pattern(self, node):
        return [[True], [True]] + [[False]] * (len(node.inputs) - 2)

    def L_op(self, inputs, outputs, output_grads):
        from .. import tensor as t
        from ..gradient import DisconnectedType
        from .advanced_subtensor import sum_to_y

        x, y, *rest = inputs
        g = grad_like(output_grads[0], x)
        if x.dtype[0] in "biu":
            gx, gy = t.zeros_like(x, dtype="floatX"), t.zeros_like(y, dtype="floatX")
        else:
            gx = type(self)(self.idx_list, set_instead_of_inc=True)(g, t.zeros_like(y), *rest) \
                if self.set_instead_of_inc else g
            gy = sum_to_y(self.read_op()(g, *rest), y)
        return [gx, gy] + [DisconnectedType()() for _ in rest]


class IncSubtensor(_IncSubtensorGrads, _IndexOp):
    """x with `x[idx]` incremented by (or set to) y; basic indices. x itself is not modified
    unless `inplace` (then it destroys x)."""

    __props__ = ("idx_list", "inplace", "set_instead_of_inc")

    def __init__(self, idx_list, inplace=False, set_instead_of_inc=False, destroyhandler_tolerate_aliased=None):
        self.idx_list = tuple(idx_list)
        self.inplace = bool(inplace)
        self.set_instead_of_inc = bool(set_instead_of_inc)
        self.destroy_map = {0: [0]} if self.inplace else {}
        self.destroyhandler_tolerate_aliased = list(destroyhandler_tolerate_aliased or [])

    def __str__(self):
        kind = "Set" if self.set_instead_of_inc else "Inc"
        return f"{kind}Subtensor{'{inplace}' if self.inplace else ''}{{{self._idx_str()}}}"

    def make_node(self, x, y, *inputs):
        x = as_tensor_variable(x)
        inputs = check_index_inputs(self, self.idx_list, inputs)
        if len(self.idx_list) > x.ndim:
            raise IndexError(f"too many indices for {describe(x)}: it has {x.ndim} dimensions. At {here()}")
        sub_shape = checked_result_shape(str(self), x, self.idx_list, inputs)
        y = prepare_y(str(self), x, sub_shape, y, self.set_instead_of_inc)
        return Apply(self, [x, y, *inputs], [x.type()])

    def perform(self, node, inputs, output_storage):
        x, y, *rest = inputs
        out = x if self.inplace else x.copy()
        try:
            view = out[fill_index(self.idx_list, rest) + (Ellipsis,)]
        except IndexError as e:
            raise runtime_index_error(e, node, x) from None
        check_y_runtime(node, node.inputs[1], y, view.shape)
        if self.set_instead_of_inc:
            view[...] = y
        else:
            np.add(view, y, out=view)
        output_storage[0][0] = out

    def read_op(self):
        """The indexing op that reads what this op writes."""
        return Subtensor(self.idx_list)



# ---------------------------------------------------------------------------
# x[index]: turning a Python index into ops

def _is_int_scalar(v) -> bool:
    return isinstance(v, (numbers.Integral, np.integer)) and not isinstance(v, (bool, np.bool_))


def _slice_component(c, x, index):
    """A slice's start/stop/step as None, an int, or a symbolic integer scalar."""
    if c is None or _is_int_scalar(c):
        return None if c is None else int(c)
    if isinstance(c, np.ndarray) and c.ndim == 0 and c.dtype.kind in "iu":
        return int(c)
    if isinstance(c, Variable):
        v = as_tensor_variable(c)
        if v.ndim == 0 and v.dtype[0] in "iu":
            return int(v.data) if isinstance(v, Constant) else v
    raise TypeError(f"slice bounds of an index must be integers or None; {describe(x)}[{index!r}] has "
                    f"{c!r} ({getattr(c, 'type', type(c).__name__)}). At {here()}")


def _float_index_error(x, entry, index):
    what = describe(entry) if isinstance(entry, Variable) else repr(entry)
    kind = f"of dtype {entry.dtype}" if hasattr(entry, "dtype") else f"a {type(entry).__name__}"
    return TypeError(f"{x.name or x}[...]: the index {what} is {kind}; indices must be integers, slices, None, "
                     f"Ellipsis, or integer or boolean arrays (full index: {index!r}). At {here()}")


def _parse_entry(x, e, index):
    """One user index entry as (kind, payload); kinds: new, ellipsis, int, slice, arr."""
    if e is None:
        return "new", None
    if e is Ellipsis:
        return "ellipsis", None
    if isinstance(e, slice):
        return "slice", slice(*(_slice_component(c, x, index) for c in (e.start, e.stop, e.step)))
    if _is_int_scalar(e):
        return "int", int(e)
    if isinstance(e, Variable) or (isinstance(e, (list, tuple)) and any(isinstance(v, Variable) for v in e)):
        try:
            v = as_tensor_variable(e)
        except TypeError:
            raise _float_index_error(x, e, index) from None
        if v.dtype[0] not in "biu":
            raise _float_index_error(x, e, index)
        if v.ndim == 0 and v.dtype != "bool":
            return ("int", int(v.data)) if isinstance(v, Constant) else ("int", v)
        return "arr", v
    if isinstance(e, (bool, np.bool_, list, tuple, np.ndarray)):
        arr = np.asarray(e)
        if arr.size == 0 and arr.dtype.kind == "f":
            arr = arr.astype(np.int64)  # `x[[]]`: NumPy reads an empty list as an empty int index
        if arr.dtype.kind not in "biu":
            raise _float_index_error(x, e, index)
        if arr.ndim == 0 and arr.dtype != bool:
            return "int", int(arr)
        return "arr", constant(arr)
    raise _float_index_error(x, e, index)


def getitem(x, index):
    """`x[index]` with NumPy's semantics (called by `TensorVariable.__getitem__`)."""
    from .elemwise import dimshuffle

    x = as_tensor_variable(x)
    entries = [_parse_entry(x, e, index) for e in (index if isinstance(index, tuple) else (index,))]
    consumed = sum(1 if k in ("int", "slice") else (v.ndim if v.dtype == "bool" else 1) if k == "arr" else 0
                   for k, v in entries)
    n_ellipsis = sum(k == "ellipsis" for k, _ in entries)
    if n_ellipsis > 1:
        raise IndexError(f"{describe(x)}[{index!r}]: an index can only have a single ellipsis. At {here()}")
    if consumed > x.ndim:
        raise IndexError(f"too many indices for {describe(x)}: it has {x.ndim} dimension"
                         f"{'s' if x.ndim != 1 else ''} but {consumed} were indexed ({index!r}). At {here()}")
    if n_ellipsis:
        at = next(i for i, (k, _) in enumerate(entries) if k == "ellipsis")
        entries[at:at + 1] = [("slice", slice(None))] * (x.ndim - consumed)
    if any(k == "arr" for k, _ in entries):
        from .advanced_subtensor import advanced_getitem

        return advanced_getitem(x, entries)
    # basic indexing: a Subtensor (new axes are a DimShuffle of its output)
    body = [(k, v) for k, v in entries if k != "new"]
    while body and body[-1][0] == "slice" and body[-1][1] == slice(None):
        body.pop()
    idx_list, inputs = [], []
    for kind, v in body:
        if kind == "int":
            idx_list.append(v.type if isinstance(v, Variable) else v)
            inputs += [v] if isinstance(v, Variable) else []
        else:
            comps = [c.type if isinstance(c, Variable) else c for c in (v.start, v.stop, v.step)]
            inputs += [c for c in (v.start, v.stop, v.step) if isinstance(c, Variable)]
            idx_list.append(slice(*comps))
    # a constant index into a dim of known length is stored non-negative (so equal indexings merge)
    for d, e in enumerate(idx_list):
        n = x.type.shape[d]
        if isinstance(e, int) and e < 0 and n is not None and e >= -n:
            idx_list[d] = e + n
    has_new = any(k == "new" for k, _ in entries)
    # `x[:]` and `x[...]` are still an indexing (set_subtensor(x[:], y) must work)
    out = Subtensor(idx_list)(x, *inputs) if idx_list or not has_new else x
    if has_new:
        order, pos = [], 0
        for kind, _ in entries:
            if kind == "new":
                order.append("x")
            elif kind == "slice":
                order.append(pos)
                pos += 1
        order += list(range(pos, out.ndim))
        out = dimshuffle(out, order)
    return out


# the advanced ops and set/inc_subtensor build on the above (and IncSubtensor uses their y helpers)
from .advanced_subtensor import (AdvancedIncSubtensor, AdvancedIncSubtensor1, AdvancedSubtensor,  # noqa: E402
                                 AdvancedSubtensor1, advanced_inc_subtensor1, advanced_set_subtensor1,
                                 check_y_runtime, inc_subtensor, prepare_y, set_subtensor, sum_to_y, take)
