"""Shapes without values: `x.shape` computed from the inputs' shapes (Theano's ShapeFeature).

`ShapeInference` (a FunctionGraph feature) gives each variable a symbolic
shape built from constants and the shapes of graph inputs, through every op's
`infer_shape` (memoised per graph; an op without one, or one raising
NotImplementedError, gives `v.shape[i]` of its own output). Its rules:

  shape_constant  `x.shape` and `x.shape[i]` with static lengths become constants;
  shape_infer     `x.shape` / `x.shape[i]` become that symbolic shape where this
                  saves computing x (everything else x feeds needs only its shape);
  fill_to_alloc   `second(x, v)` (`zeros_like(x)`, `ones_like(x)`) becomes
                  `alloc(v, *shape)` under the same condition;
  subtensor_make_vector  `make_vector(a, b, c)[1] -> b`.

So `T.zeros_like(T.dot(a, b))` allocates zeros of shape (a.shape[0], b.shape[1])
and the dot product is never computed. As in Theano, what is not computed is
not checked either: with a.shape[1] != b.shape[0] that function returns zeros
where the unrewritten one raises.
"""
from __future__ import annotations

import numpy as np

from ...graph.basic import Constant, Variable
from ...graph.fg import OUTPUT
from ...tensor.shape_ops import Alloc, MakeVector, Shape, shape as shape_of_var
from ...tensor.subtensor import Subtensor
from ...tensor.type import TensorType
from ..db import register
from ..engine import node_rewriter
from .canonicalize import cast_to, elemwise_name, fits, int64_constant, stand_in


class ShapeInference:
    """FunctionGraph feature: `shape_of(var)` -> tuple of ints / int64 scalar variables, memoised."""

    def __init__(self):
        self.memo: dict = {}
        self.own_shape: dict = {}  # var -> the Shape(var) node standing for lengths nothing else gives
        self.entry_of: dict = {}  # each `Shape(v)[i]` fallback entry -> v
        self.entries_by_var: dict = {}  # v -> its fallback entries

    def on_attach(self, fgraph):
        fgraph.shape_inference = self

    def on_change_input(self, fgraph, node, i, old, new, reason=None):
        # new computes what old did: it has the same shape, and fallbacks of old may read new instead
        if old in self.memo and new not in self.memo:
            self.memo[new] = self.memo[old]
        shape_node = self.own_shape.get(old)
        if shape_node is not None and shape_node not in fgraph.apply_nodes and new not in self.own_shape \
                and isinstance(new.type, TensorType) and new.ndim == old.ndim:
            shape_node.inputs[0] = new  # not in the graph: safe to re-point
            self.own_shape[new] = self.own_shape.pop(old)
            entries = self.entries_by_var.pop(old, [])
            self.entries_by_var[new] = entries
            for entry in entries:
                self.entry_of[entry] = new

    # -- inference ---------------------------------------------------------------------------------
    def _own_entries(self, fgraph, var) -> tuple:
        """var's lengths: static ones, else `Shape(var)[i]` (reusing those already in the graph)."""
        if isinstance(var, Constant):
            return tuple(int(s) for s in np.shape(var.data))
        entries = []
        for d, s in enumerate(var.type.shape):
            if s is not None:
                entries.append(s)
                continue
            node = self.own_shape.get(var)
            if node is None:
                node = _existing_shape_node(fgraph, var)
                if node is None:
                    node = shape_of_var(var).owner
                self.own_shape[var] = node
            entry = _existing_index(fgraph, node.outputs[0], d)
            if entry is None:
                entry = node.outputs[0][d]
            if entry not in self.entry_of:
                self.entry_of[entry] = var
                self.entries_by_var.setdefault(var, []).append(entry)
            entries.append(entry)
        return tuple(entries)

    def _normalise(self, entry, static):
        if static is not None:
            return static
        if isinstance(entry, (int, np.integer)) and not isinstance(entry, bool):
            return int(entry)
        if isinstance(entry, Variable) and isinstance(entry.type, TensorType) and entry.ndim == 0 \
                and entry.dtype[0] in "iu":
            if isinstance(entry, Constant):
                return int(entry.data)
            return cast_to(entry, "int64")
        return None

    def _infer(self, fgraph, node):
        shapes = [self.memo.get(i) if isinstance(i.type, TensorType) else None for i in node.inputs]
        try:
            inferred = node.op.infer_shape(fgraph, node, shapes)
        except Exception:  # NotImplementedError, or an infer_shape that cannot handle this case
            inferred = None
        for k, out in enumerate(node.outputs):
            if isinstance(out.type, TensorType):
                try:
                    self.memo[out] = self._checked(fgraph, out, inferred[k])
                except Exception:  # no answer, or not one shape per output: read it from the output
                    self.memo[out] = self._own_entries(fgraph, out)

    def _checked(self, fgraph, out, entries) -> tuple:
        """`entries` (infer_shape's answer for out) as ints and int64 scalars; out's own lengths where unusable."""
        if len(entries) != out.ndim:
            raise ValueError("wrong number of lengths")
        own = None
        result = []
        for d, (entry, static) in enumerate(zip(entries, out.type.shape)):
            value = self._normalise(entry, static)
            if value is None:
                own = own or self._own_entries(fgraph, out)
                value = own[d]
            result.append(value)
        return tuple(result)

    def shape_of(self, fgraph, var) -> tuple:
        """The symbolic shape of tensor `var` (ints and int64 scalars)."""
        found = self.memo.get(var)
        if found is not None:
            return found
        stack = [var]
        while stack:  # post-order without recursion: graphs can be thousands of nodes deep
            v = stack[-1]
            if v in self.memo:
                stack.pop()
                continue
            node = v.owner
            if node is None or all(s is not None for s in v.type.shape):
                self.memo[v] = self._own_entries(fgraph, v)
                stack.pop()
                continue
            missing = [i for i in node.inputs if isinstance(i.type, TensorType) and i not in self.memo]
            if missing:
                stack.extend(missing)
                continue
            self._infer(fgraph, node)
            stack.pop()
        return self.memo[var]

    def depends_on(self, fgraph, entries, forbidden) -> bool:
        """Whether any of `entries` reads a variable in `forbidden` (through nodes not yet in the graph)."""
        seen = set()
        stack = [e for e in entries if isinstance(e, Variable)]
        while stack:
            v = stack.pop()
            if v in seen:
                continue
            seen.add(v)
            if v in forbidden or self.entry_of.get(v) in forbidden:
                return True
            node = v.owner
            if node is None or node in fgraph.apply_nodes:
                continue  # already computed in the graph: it cannot depend on what it feeds
            stack.extend(node.inputs)
        return False


def _existing_shape_node(fgraph, var):
    for client, _ in fgraph.clients.get(var, ()):
        if client != OUTPUT and isinstance(client.op, Shape):
            return client
    return None


def _existing_index(fgraph, vec, d):
    for client, pos in fgraph.clients.get(vec, ()):
        if client != OUTPUT and pos == 0 and isinstance(client.op, Subtensor) and client.op.idx_list == (d,):
            return client.outputs[0]
    return None


def inference(fgraph) -> ShapeInference:
    """The graph's ShapeInference feature (attached on first use)."""
    feature = getattr(fgraph, "shape_inference", None)
    if feature is None:
        feature = ShapeInference()
        fgraph.attach_feature(feature)
    return feature


def _as_variable(entry) -> Variable:
    return int64_constant(entry) if isinstance(entry, int) else entry


def _shape_only_client(client, pos) -> bool:
    if client == OUTPUT:
        return False
    if isinstance(client.op, Shape):
        return True
    return pos == 0 and elemwise_name(client) == "second"


def only_shape_needed(fgraph, x) -> bool:
    """Whether x is computed by a node all of whose outputs are used only for their shapes."""
    node = x.owner
    if node is None:
        return False
    return all(_shape_only_client(c, p) for o in node.outputs for c, p in fgraph.clients.get(o, ()))


def _inferred_entries(fgraph, x):
    """x's shape from its inputs' shapes, if that spares computing x (else None)."""
    if not only_shape_needed(fgraph, x):
        return None
    feature = inference(fgraph)
    entries = feature.shape_of(fgraph, x)
    if feature.depends_on(fgraph, entries, set(x.owner.outputs)):
        return None
    return entries


def _shape_of_subtensor(node):
    """(x, i) when node is `Shape(x)[i]` with a constant i, else None."""
    if not isinstance(node.op, Subtensor) or len(node.op.idx_list) != 1 or not isinstance(node.op.idx_list[0], int):
        return None
    src = node.inputs[0].owner
    if src is None or not isinstance(src.op, Shape):
        return None
    return src.inputs[0], node.op.idx_list[0]


@register("canonicalize")
@node_rewriter([Shape, Subtensor], name="shape_constant")
def shape_constant(fgraph, node):
    """`x.shape` (all lengths static) and `x.shape[i]` (length i static) are constants."""
    from ...tensor.variable import constant

    if isinstance(node.op, Shape):
        static = node.inputs[0].type.shape
        if any(s is None for s in static):
            return None
        return [constant(np.asarray(static, dtype=np.int64).reshape(len(static)))]
    found = _shape_of_subtensor(node)
    if found is None:
        return None
    x, i = found
    static = x.type.shape[i] if -x.ndim <= i < x.ndim else None
    return None if static is None else [int64_constant(static)]


@register("canonicalize")
@node_rewriter([Shape, Subtensor], name="shape_infer")
def shape_infer(fgraph, node):
    """`x.shape` or `x.shape[i]` from x's inputs' shapes, where only x's shape is needed."""
    from ...tensor.shape_ops import make_vector

    if isinstance(node.op, Shape):
        x = node.inputs[0]
        entries = _inferred_entries(fgraph, x)
        if entries is None:
            return None
        if all(isinstance(e, int) for e in entries):
            from ...tensor.variable import constant

            return [constant(np.asarray(entries, dtype=np.int64).reshape(len(entries)))]
        new = make_vector([_as_variable(e) for e in entries], dtype="int64")
        return [stand_in(node.outputs[0], new)]
    found = _shape_of_subtensor(node)
    if found is None:
        return None
    x, i = found
    entries = _inferred_entries(fgraph, x)
    if entries is None or not -x.ndim <= i < x.ndim:
        return None
    return [_as_variable(entries[i])]


@register("canonicalize")
@node_rewriter(["second"], name="fill_to_alloc")
def fill_to_alloc(fgraph, node):
    """`second(x, v) -> alloc(v, *shape)` where x is computed only for its shape here."""
    x, v = node.inputs
    out = node.outputs[0]
    if _inferred_entries(fgraph, x) is None:
        return None
    feature = inference(fgraph)
    entries = feature.shape_of(fgraph, out)
    if feature.depends_on(fgraph, entries, set(x.owner.outputs)):
        return None
    new = Alloc()(v, *[_as_variable(e) for e in entries])
    return [stand_in(out, new)] if fits(out, new) else None


@register("canonicalize")
@node_rewriter([Subtensor], name="subtensor_make_vector")
def subtensor_make_vector(fgraph, node):
    """`make_vector(a, b, c)[1] -> b` (cast to the vector's dtype)."""
    if len(node.op.idx_list) != 1 or not isinstance(node.op.idx_list[0], int):
        return None
    src = node.inputs[0].owner
    if src is None or not isinstance(src.op, MakeVector):
        return None
    i = node.op.idx_list[0]
    if not -len(src.inputs) <= i < len(src.inputs):
        return None
    new = cast_to(src.inputs[i], src.op.dtype)
    return [stand_in(node.outputs[0], new)] if fits(node.outputs[0], new) else None
