"""Elementwise fusion: a chain of Elemwise nodes becomes one Elemwise(Composite) node.

One pass over the graph, outputs first, puts each Elemwise node into a group:
a node joins the group of its consumers when every use of its result is
inside that one group (so no intermediate result is needed elsewhere, and
no cycle can form) and the group stays within `MAX_INPUTS` inputs and
`MAX_STEPS` scalar steps. A result that is a graph output, or is read by any
other op, ends its chain: it stays a node of its own and feeds the next
group as an input.

Chains continue through DimShuffles that only insert broadcastable
dimensions (`v.dimshuffle('x', 0)`, `c.dimshuffle(0, 'x')`): the DimShuffle
is moved onto the inputs of the nodes below it, which is exact because
elementwise functions commute with adding broadcastable dimensions. Casts,
`second` (fill) and existing Composites fuse as well; single-element
constants are embedded in the Composite.
"""
from __future__ import annotations

import numpy as np

from ...graph.basic import Constant, Tag
from ...graph.fg import OUTPUT
from ...scalar import table as S
from ...scalar.composite import Composite, CompositeBuilder
from ...tensor.elemwise import DimShuffle, Elemwise, dimshuffle
from ..db import rewrites
from ..engine import GraphRewriter, _compatible, trace_of

#: the most inputs one fused node may have
MAX_INPUTS = 32
#: the most scalar steps one fused node may compute (keeps generated kernels and graph edits small)
MAX_STEPS = 256


def _fusible(node) -> bool:
    op = node.op
    if type(op) is not Elemwise or op.destroy_map or len(node.outputs) != 1:
        return False
    fn = op.scalar_fn
    if not isinstance(fn, Composite) and S.TABLE.get(fn.name) is not fn:
        return False  # a row outside the table could not be pickled by name
    ndim = node.outputs[0].ndim
    return all(i.ndim == ndim for i in node.inputs)


def _inserts_dims_only(op) -> bool:
    """A DimShuffle that keeps every dimension in order and only adds broadcastable ones."""
    return tuple(d for d in op.new_order if d != "x") == tuple(range(op.input_ndim))


def _embedded_constant(var):
    """The single value of `var` when it is a one-element constant (through DimShuffles), else None."""
    if not all(var.broadcastable):
        return None
    while var.owner is not None and isinstance(var.owner.op, DimShuffle):
        var = var.owner.inputs[0]
    if isinstance(var, Constant) and np.size(var.data) == 1:
        return var.data
    return None


def _compose(inner, outer):
    """The DimShuffle order doing `inner` then `outer` (None: the identity)."""
    if outer is None:
        return tuple(inner)
    return tuple("x" if d == "x" else inner[d] for d in outer)


class _Group:
    __slots__ = ("root", "members", "inputs", "n_nodes", "n_steps")

    def __init__(self, root):
        self.root = root
        self.members = {root}
        self.inputs = {i for i in root.inputs if _embedded_constant(i) is None}
        self.n_nodes = 1  # Elemwise nodes (a lone node, even a Composite, is left as it is)
        self.n_steps = _weight(root)  # scalar steps they make


def _weight(node) -> int:
    fn = node.op.scalar_fn
    return len(fn.steps) if isinstance(fn, Composite) else 1


class ElemwiseFusion(GraphRewriter):
    """Replace each maximal single-output chain of Elemwise nodes by one Elemwise(Composite)."""

    name = "elemwise_fusion"

    def __init__(self, max_inputs: int = MAX_INPUTS):
        self.max_inputs = max_inputs

    def apply(self, fgraph, on_error="warn"):
        nodes = fgraph.toposort()
        if sum(1 for n in nodes if type(n.op) is Elemwise) < 2:
            return 0
        groups = self._find_groups(fgraph, nodes)
        position = {node: k for k, node in enumerate(nodes)}
        groups.sort(key=lambda g: position[g.root])
        trace = trace_of(fgraph)
        replaced: dict = {}
        changes = 0
        for group in groups:  # inputs first: a group reads the fused outputs of the groups below it
            if group.n_nodes < 2:
                continue
            old = group.root.outputs[0]
            new = self._fuse(group, replaced)
            fitted = None if new is None else _compatible(old, new)
            if fitted is None or old not in fgraph.variables:
                continue
            fgraph.replace(old, fitted, reason=self.name)
            trace.record(self.name, old, fitted)
            replaced[old] = fitted
            changes += 1
        return changes

    def _find_groups(self, fgraph, nodes):
        """Assign nodes to groups, outputs first: a node joins when all its uses are in one group."""
        group_of: dict = {}
        groups = []
        for node in reversed(nodes):
            is_elemwise = _fusible(node)
            if not is_elemwise:
                if not (isinstance(node.op, DimShuffle) and _inserts_dims_only(node.op)
                        and node.inputs[0].owner is not None and _fusible(node.inputs[0].owner)):
                    continue
            out = node.outputs[0]
            group = self._consumer_group(fgraph, out, group_of)
            if group is not None:
                if is_elemwise:
                    new_inputs = {i for i in node.inputs if _embedded_constant(i) is None}
                else:
                    new_inputs = {node.inputs[0]}
                inputs = (group.inputs - {out}) | new_inputs
                if len(inputs) <= self.max_inputs and group.n_steps < MAX_STEPS:
                    group.inputs = inputs
                    group.members.add(node)
                    if is_elemwise:
                        group.n_nodes += 1
                        group.n_steps += _weight(node)
                    group_of[node] = group
                    continue
            if is_elemwise:
                group = _Group(node)
                groups.append(group)
                group_of[node] = group
        return groups

    @staticmethod
    def _consumer_group(fgraph, var, group_of):
        """The one group every use of `var` belongs to, or None."""
        clients = fgraph.clients.get(var)
        if not clients:
            return None
        group = None
        for client, _ in clients:
            if client == OUTPUT:
                return None
            g = group_of.get(client)
            if g is None or (group is not None and g is not group):
                return None
            group = g
        return group

    def _fuse(self, group, replaced):
        """The output of one Elemwise(Composite) node computing the group's root, or None."""
        members = group.members

        def real(node):  # a DimShuffle fuses only when the node below it does
            return node in members and (not isinstance(node.op, DimShuffle)
                                        or node.inputs[0].owner in members)

        builder = CompositeBuilder()
        inputs: list = []
        memo: dict = {}
        root = (group.root.outputs[0], None)
        stack = [(root, False)]
        while stack:
            key, expanded = stack.pop()
            if key in memo:
                continue
            var, order = key
            node = var.owner
            if node is None or not real(node):
                value = _embedded_constant(var)
                if value is not None:
                    memo[key] = builder.constant(value)
                else:
                    memo[key] = builder.input()
                    source = replaced.get(var, var)
                    inputs.append(source if order is None else dimshuffle(source, order))
                continue
            if isinstance(node.op, DimShuffle):
                children = [(node.inputs[0], _compose(node.op.new_order, order))]
            else:
                children = [(i, order) for i in node.inputs]
            if expanded:
                if isinstance(node.op, DimShuffle):
                    memo[key] = memo[children[0]]
                else:
                    memo[key] = builder.apply(node.op.scalar_fn, [memo[c] for c in children], node.op.out_dtype)
                continue
            stack.append((key, True))
            stack.extend((c, False) for c in reversed(children) if c not in memo)
        if not inputs or len(inputs) > self.max_inputs:
            return None
        composite = builder.build(memo[root])
        new = Elemwise(composite)(*inputs)
        old = group.root.outputs[0]
        if new.dtype != old.dtype or new.ndim != old.ndim:
            return None  # never expected: the rows' own dtype rules give the chain's dtype
        new.name = old.name
        new.tag = Tag(**old.tag.__dict__)
        return new


rewrites.register(ElemwiseFusion(), "fusion", name="elemwise_fusion")
