"""Content hashing of computation graphs: the key of the on-disk compile cache.

`graph_key(inputs, outputs, updates, extra)` is a SHA-256 hex digest of what a
graph *computes*, not of how its Python objects happen to be laid out. Two
graphs built separately from the same expression hash equal; so do graphs
whose variables carry other names, or whose nodes were created in another
order. Anything semantic changes the key: an op or one of its props, a
constant's value, a dtype or static shape, the wiring, the order of the
inputs, the update pairs, or anything in `extra` (backend, versions, mode).

The encoding walks the graph from the outputs, depth first, inputs in order,
numbering variables as it meets them; a node is recorded as (op, numbers of
its inputs, types of its outputs). The rest is the leaves:

* explicit inputs are numbered by position, before anything else;
* constants are encoded by type, dtype, shape and bytes (large ones by the
  SHA-256 of their bytes), so equal constants are one leaf wherever they sit;
* shared variables by type and by the order in which the walk first meets
  them — never by value, so a cached compilation serves any parameter values;
* ops by their class (module and qualified name) and their `_props()`; ops
  that compare by identity (Scan, MapOverIndex) by their public attributes,
  with an inner graph hashed recursively (in the same numbering of shared
  variables, so a weight used inside and outside a loop stays one weight).

A value the encoder cannot describe stably across processes (a lambda, an
object whose only description is its address) raises `GraphNotHashable`: a
caller should then compile without the cache rather than risk a wrong hit.
`register_encoder` teaches the encoder a new kind of value.
"""
from __future__ import annotations

import dataclasses
import enum
import functools
import hashlib
import marshal
import types
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from .basic import Constant, Op, Type, Variable

__all__ = ["GraphNotHashable", "graph_key", "graph_key_and_shared", "register_encoder"]

#: bumped whenever the encoding changes, so keys made by older code never match
_FORMAT = "arignote-graph-key-1"

#: bytes beyond which a constant's data (or any bytes value) is hashed rather than embedded
_EMBED_LIMIT = 256

_PRIMITIVES = frozenset({type(None), bool, int, float, str})

# Attributes of an identity-compared op that describe its inner graph; the rest are semantic.
_INNER_GRAPH_ATTRS = frozenset({"index", "inner_inputs", "inner_outputs", "inner_output"})
# Attributes of an identity-compared op that never change what it computes.
_COSMETIC_ATTRS = frozenset({"name"})


class GraphNotHashable(TypeError):
    """The graph holds a value with no stable description (compile it without the cache)."""


_encoders: dict[type, Callable[[Any, "_Context"], Any]] = {}
_builtins_registered = False

#: op -> description, for ops compared by props (equal ops describe the same; bounded)
_props_op_codes: dict = {}
_PROPS_OP_CODES_MAX = 50_000
_tensor_type: type | None = None


def register_encoder(cls: type, encode: Callable[[Any, Any], Any]) -> None:
    """Teach `graph_key` to encode values of exactly `cls`.

    `encode(value, context)` returns a stable description made of None, bool,
    int, float, str and tuples of these; it must differ whenever two values
    of `cls` would make a graph compute something different. `context` is
    passed back to nested encodings (rarely needed; pass it through).
    """
    _encoders[cls] = encode


def _qualname(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _bytes_code(data: bytes) -> tuple:
    if len(data) <= _EMBED_LIMIT:
        return ("b", data)
    return ("B", len(data), hashlib.sha256(data).hexdigest())


def _dtype_code(dtype: np.dtype) -> tuple:
    # `.str` keeps the byte order; structured dtypes need their field layout as well
    return ("dt", dtype.str if dtype.fields is None else repr(dtype.descr))


def _array_code(arr: np.ndarray) -> tuple:
    if arr.dtype.hasobject:  # bytes would be pointers: describe the elements instead
        return ("ao", arr.shape, tuple(_value(x, None) for x in arr.ravel().tolist()))
    return ("a", _dtype_code(arr.dtype), arr.shape, _bytes_code(arr.tobytes()))


def _function_code(fn) -> tuple:
    qual = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None)
    module = getattr(fn, "__module__", None) or ""
    if not qual or "<lambda>" in qual or "<locals>" in qual:
        # a lambda or closure cannot be named from another process, and two of them can share a name
        raise GraphNotHashable(f"cannot hash the function {fn!r}: only module-level functions have a stable "
                               "name; define it at module level")
    return ("fn", module, qual)


def _value(obj: Any, ctx: "_Context | None") -> Any:
    """A stable, unambiguous description of a prop value (tagged tuples of primitives)."""
    cls = type(obj)
    if cls in _PRIMITIVES:
        return obj
    if cls is tuple:
        return ("t",) + tuple(_value(x, ctx) for x in obj)
    encode = _encoders.get(cls)
    if encode is not None:
        return encode(obj, ctx)
    if cls is list:
        return ("l",) + tuple(_value(x, ctx) for x in obj)
    if isinstance(obj, np.generic):
        # np.int64(1) == 1 as far as an op's __eq__ goes, so they describe the same
        if isinstance(obj, np.bool_):
            return bool(obj)
        if isinstance(obj, np.integer):
            return int(obj)
        return ("ns", _dtype_code(obj.dtype), _bytes_code(obj.tobytes()))
    if isinstance(obj, np.ndarray):
        return _array_code(obj)
    if isinstance(obj, np.dtype):
        return _dtype_code(obj)
    if isinstance(obj, slice):
        return ("sl", _value(obj.start, ctx), _value(obj.stop, ctx), _value(obj.step, ctx))
    if isinstance(obj, (bytes, bytearray, memoryview)):
        return _bytes_code(bytes(obj))
    if isinstance(obj, Op):
        return ("op", _require(ctx).op_code(obj))
    if isinstance(obj, Type):
        return ("ty", _require(ctx).type_code(obj))
    if isinstance(obj, Variable):
        raise GraphNotHashable(f"cannot hash the variable {obj} held by an op outside any graph input list")
    if isinstance(obj, enum.Enum):
        return ("en", _qualname(cls), obj.name)
    if isinstance(obj, (int, float, str, tuple)):  # subclasses: keep the class, it may mean something
        return ("sub", _qualname(cls), _value(cls.__mro__[-2](obj), ctx))
    if isinstance(obj, dict):
        items = sorted(((_value(k, ctx), _value(v, ctx)) for k, v in obj.items()), key=repr)
        return ("d",) + tuple(items)
    if isinstance(obj, (set, frozenset)):
        return ("S",) + tuple(sorted((_value(x, ctx) for x in obj), key=repr))
    if isinstance(obj, type):
        return ("cls", _qualname(obj))
    if isinstance(obj, np.ufunc):
        return ("uf", obj.__name__)
    if isinstance(obj, functools.partial):
        return ("pa", _value(obj.func, ctx), _value(obj.args, ctx), _value(obj.keywords, ctx))
    if isinstance(obj, (types.FunctionType, types.BuiltinFunctionType, types.MethodType)):
        return _function_code(obj)
    if dataclasses.is_dataclass(obj):
        return ("dc", _qualname(cls)) + tuple((f.name, _value(getattr(obj, f.name), ctx))
                                              for f in dataclasses.fields(obj))
    key = getattr(obj, "_key", None)  # Mode, Composite: what their __eq__ compares
    if key is not None:
        return ("k", _qualname(cls), _value(key() if callable(key) else key, ctx))
    if getattr(cls, "__props__", None) is not None and hasattr(obj, "_props"):
        return ("pr", _qualname(cls), _value(tuple(obj._props()), ctx))
    raise GraphNotHashable(f"cannot hash {obj!r} (a {_qualname(cls)}): it has no stable description; "
                           "register one with arignote.graph.hashing.register_encoder")


def _require(ctx):
    if ctx is None:
        raise GraphNotHashable("an op or type nested inside a constant cannot be hashed")
    return ctx


def _register_builtins() -> None:
    """Encoders for arignote's own value kinds (imported late: graph/ sits below them)."""
    global _builtins_registered, _tensor_type
    from ..scalar.table import ScalarFn
    from ..tensor.type import TensorType

    # a table row is defined once, by name; its callables need no hashing
    _encoders.setdefault(ScalarFn, lambda fn, ctx: ("sf", fn.name))
    _encoders.setdefault(TensorType, lambda t, ctx: ("ty", _tensor_type_code(t)))
    _tensor_type = TensorType
    _builtins_registered = True


def _tensor_type_code(t) -> tuple:
    return ("T", t.dtype, t.shape)  # the name is cosmetic; dtype and static shape are the type


class _Context:
    """Memos shared by a graph and its inner graphs during one `graph_key` call."""

    def __init__(self):
        from ..compile.sharedvalue import SharedVariable

        self.shared_class = SharedVariable
        self.shared_index: dict[int, int] = {}  # id(shared variable) -> order of first meeting
        self.shared_keep: list = []  # keep them alive so ids stay unique during the call
        self.ops: dict[int, Any] = {}
        self.types: dict[int, Any] = {}
        self.op_keep: list = []
        self.inner_graphs = 0  # how many inner graphs were encoded so far

    def type_code(self, t: Type) -> Any:
        code = self.types.get(id(t))
        if code is None:
            if type(t) is _tensor_type:
                code = _tensor_type_code(t)
            else:
                code = self._object_code(t, "type")
            self.types[id(t)] = code
            self.op_keep.append(t)
        return code

    def op_code(self, op: Op) -> Any:
        code = self.ops.get(id(op))
        if code is None:
            cls = type(op)
            if cls.__eq__ is object.__eq__:  # compared by identity: describe it by its attributes
                code = self._object_code(op, "op")
            else:
                code = self._props_op_code(op, cls)
            self.ops[id(op)] = code
            self.op_keep.append(op)
        return code

    def _props_op_code(self, op: Op, cls: type) -> Any:
        # Graphs hold many equal op instances (one Dot per node): describing an op once per
        # process and looking it up by equality keeps a 1000-node graph within a few ms.
        try:
            code = _props_op_codes.get(op)
        except (TypeError, ValueError):  # unhashable props (e.g. an array): describe it every time
            return (_qualname(cls), _value(tuple(op._props()), self))
        if code is None:
            inner_before = self.inner_graphs
            code = (_qualname(cls), _value(tuple(op._props()), self))
            if self.inner_graphs == inner_before:  # an inner graph's code depends on this call's numbering
                if len(_props_op_codes) >= _PROPS_OP_CODES_MAX:
                    _props_op_codes.clear()
                _props_op_codes[op] = code
        return code

    def _object_code(self, obj, what: str) -> tuple:
        """An identity-compared op or a non-tensor type: its class, inner graph and public attributes."""
        cls = type(obj)
        if what == "type" and getattr(cls, "__props__", None):
            return (_qualname(cls), _value(tuple(getattr(obj, p) for p in cls.__props__), self))
        attrs = {k: v for k, v in getattr(obj, "__dict__", {}).items()
                 if not k.startswith("_") and k not in _COSMETIC_ATTRS}
        parts: list = [_qualname(cls)]
        if what == "op" and ("inner_inputs" in attrs):
            index = attrs.get("index")
            inner_in = ([index] if index is not None else []) + list(attrs["inner_inputs"])
            outs = attrs.get("inner_outputs")
            inner_out = list(outs) if outs is not None else [attrs["inner_output"]]
            self.inner_graphs += 1
            parts.append(("inner", _digest(_encode_graph(self, inner_in, inner_out, (), inner=True))))
            attrs = {k: v for k, v in attrs.items() if k not in _INNER_GRAPH_ATTRS}
        for name in sorted(attrs):
            try:
                parts.append((name, _value(attrs[name], self)))
            except GraphNotHashable as e:
                raise GraphNotHashable(f"{what} {obj}: attribute {name!r}: {e}") from None
        return tuple(parts)


def _digest(records: list) -> str:
    # marshal's version 0 writes no back-references and no interning marks, so equal
    # structures give equal bytes; it is several times faster than repr()
    try:
        data = marshal.dumps(records, 0)
    except ValueError as e:  # pragma: no cover - every description is made of plain values
        raise GraphNotHashable(f"a graph description holds an unencodable value: {e}") from None
    return hashlib.sha256(data).hexdigest()


def _unwrap_input(i) -> tuple[Variable, tuple, Variable | None]:
    """(variable, flags that change the compiled code, update expression) of a Variable or In."""
    if isinstance(i, Variable):
        return i, (False, False), None  # what In(i) says
    variable = getattr(i, "variable", None)
    if not isinstance(variable, Variable):
        raise TypeError(f"graph_key: inputs must be variables or In objects, got {i!r}")
    # mutable allows in-place rewrites on the argument; borrow lets the function keep it
    return variable, (bool(getattr(i, "mutable", False)), bool(getattr(i, "borrow", False))), \
        getattr(i, "update", None)


def _unwrap_output(o) -> tuple[Variable, bool]:
    if isinstance(o, Variable):
        return o, False
    variable = getattr(o, "variable", None)
    if not isinstance(variable, Variable):
        raise TypeError(f"graph_key: outputs must be variables or Out objects, got {o!r}")
    return variable, bool(getattr(o, "borrow", False))


def _encode_graph(ctx: _Context, inputs: Sequence, outputs: Sequence, updates: Iterable,
                  inner: bool = False) -> list:
    """The record list of one graph (see the module docstring)."""
    unwrapped = [_unwrap_input(i) for i in inputs]
    num: dict[int, int] = {}  # id(variable) -> its number
    const_num: dict = {}  # constant description -> number (equal constants are one leaf)
    records: list = [("inputs", tuple((ctx.type_code(v.type), flags) for v, flags, _ in unwrapped))]
    counter = len(unwrapped)
    for pos, (v, _, _) in enumerate(unwrapped):
        num.setdefault(id(v), pos)  # a repeated input refers to its first position
    op_index: dict = {}  # op description -> index in the records' op table
    type_code = ctx.type_code
    tensor_type = _tensor_type
    shared_class = ctx.shared_class
    append = records.append

    def leaf(v) -> int:
        nonlocal counter
        if isinstance(v, Constant):
            code = (type_code(v.type), _array_code(v.data) if isinstance(v.data, np.ndarray) else _value(v.data, ctx))
            n = const_num.get(code)
            if n is None:
                n = const_num[code] = counter
                counter += 1
                append(("C",) + code)
            return n
        if isinstance(v, shared_class):
            k = ctx.shared_index.get(id(v))
            if k is None:
                k = ctx.shared_index[id(v)] = len(ctx.shared_index)
                ctx.shared_keep.append(v)
            append(("S", k, type_code(v.type)))
        else:  # a free variable that is not among the inputs (an error for function(); fine here)
            append(("F", type_code(v.type)))
        n = counter
        counter += 1
        return n

    op_code = ctx.op_code

    def visit(root) -> int:
        nonlocal counter
        n = num.get(id(root))
        if n is not None:
            return n
        stack = [root]
        pop, push = stack.pop, stack.append
        while stack:
            v = stack[-1]
            vid = id(v)
            if vid in num:
                pop()
                continue
            node = v.owner
            if node is None:
                num[vid] = leaf(v)
                pop()
                continue
            node_inputs = node.inputs
            refs = []
            for i in node_inputs:
                r = num.get(id(i))
                if r is None:
                    break
                refs.append(r)
            else:  # every input numbered: record the node
                pop()
                code = op_code(node.op)
                k = op_index.get(code)
                if k is None:
                    k = op_index[code] = len(op_index)
                    append(("O", code))
                outs = node.outputs
                append((k, tuple(refs), tuple([("T", t.dtype, t.shape) if type(t) is tensor_type
                                               else type_code(t) for t in [o.type for o in outs]])))
                for o in outs:
                    num[id(o)] = counter
                    counter += 1
                continue
            for i in reversed(node_inputs):  # inputs first, the first input first
                if id(i) not in num:
                    push(i)
        return num[id(root)]

    out_refs = []
    for o in outputs:
        var, borrow = _unwrap_output(o)
        out_refs.append((visit(var), borrow) if borrow else visit(var))
    records.append(("outputs", tuple(out_refs)))
    update_refs = []
    for pair in updates:
        var, expr = pair
        update_refs.append((visit(var), visit(expr)))
    if update_refs:
        records.append(("updates", tuple(update_refs)))
    input_updates = [(pos, visit(u)) for pos, (_, _, u) in enumerate(unwrapped) if u is not None]
    if input_updates:
        records.append(("input_updates", tuple(input_updates)))
    if inner:
        records.append("inner")
    return records


def graph_key(inputs: Sequence, outputs: Sequence | Variable, updates: Iterable = (),
              extra: Any = ()) -> str:
    """The SHA-256 hex digest of the computation `inputs -> outputs (+ updates)`.

    inputs: the explicit inputs in call order (Variables or `In` objects; an
    `In`'s mutable/borrow flags and update expression count). outputs: a
    variable or a sequence (Variables or `Out` objects). updates: (shared
    variable, expression) pairs, in order — pass every update the function
    will make, default updates included. extra: anything else the compiled
    result depends on (backend name, library versions, mode), made of
    strings, numbers, tuples, lists and dicts.

    Raises GraphNotHashable when some op or constant has no stable
    description (then compile without the cache).

    A FunctionGraph about to be rewritten hashes as
    `graph_key(fgraph.inputs, fgraph.outputs, extra=...)`: its implicit
    shared inputs then count by position.

    >>> import arignote.tensor as T
    >>> x, y = T.dvector('x'), T.dvector('renamed')
    >>> graph_key([x], [x * 2]) == graph_key([y], [y * 2])
    True
    >>> graph_key([x], [x * 2]) == graph_key([x], [x * 3])
    False
    """
    return graph_key_and_shared(inputs, outputs, updates, extra)[0]


def graph_key_and_shared(inputs: Sequence, outputs: Sequence | Variable, updates: Iterable = (),
                         extra: Any = ()) -> tuple[str, list]:
    """`graph_key`, and the shared variables that are not inputs in the order the key numbers them.

    Two graphs with one key use their shared variables alike, position for
    position in these lists: what a cache stores for one graph can be rewired
    to the other's shared variables (compile/graph_cache.py does).
    """
    if not _builtins_registered:
        _register_builtins()
    if isinstance(outputs, Variable) or not isinstance(outputs, (list, tuple)):
        outputs = [outputs]
    if isinstance(updates, dict):
        updates = list(updates.items())
    ctx = _Context()
    records = _encode_graph(ctx, list(inputs), list(outputs), updates)
    records.append(("extra", _value(extra, ctx)))
    records.append(_FORMAT)
    return _digest(records), ctx.shared_keep
