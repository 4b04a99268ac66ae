"""Constant folding: a node whose inputs are all constants is computed once, at compile time.

It runs in the canonicalize phase and again in specialize (`constant_folding_late`),
for the constants later rewrites create. The node's `perform` runs on the constants' values and its outputs become
constants of exactly the outputs' types (so nothing downstream changes its
broadcasting). Folding is skipped where computing early would change what the
function does or costs:
  * ops with side effects or hidden state: random draws, printing, anything
    with a `destroy_map`, Scan and IfElse (lazy: they decide what to compute);
  * results over `MAX_FOLDED_SIZE` elements (a huge constant in the graph);
  * allocations feeding an output or an op that could work in place (a
    constant can never be overwritten, so folding would cost a copy per call);
  * any op saying `do_constant_folding(fgraph, node) -> False` (Theano's hook);
  * a `perform` that raises: the error is left for run time, where it names
    the user's line.
"""
from __future__ import annotations

import warnings

import numpy as np

from ...graph.basic import Constant
from ...graph.fg import OUTPUT
from ...tensor.type import TensorType
from ..db import register, rewrites
from ..engine import NodeRewriter, node_rewriter

#: results with more elements than this stay computed at run time
MAX_FOLDED_SIZE = 1_000_000

#: ops that must run at run time whatever their inputs (by class name: some live in optional modules)
_NEVER_FOLD = frozenset({"Scan", "IfElse", "Print", "MapOverIndex", "RandomFunction", "mrg_uniform",
                         "MultinomialFromUniform", "PermuteRowElements"})


def constant_data(var):
    """The value of `var` if it is a constant, or a DimShuffle of one (else None)."""
    from ...tensor.elemwise import DimShuffle

    if isinstance(var, Constant):
        return var.data
    node = var.owner
    if node is not None and isinstance(node.op, DimShuffle) and isinstance(node.inputs[0], Constant):
        storage = [[None]]
        node.op.perform(node, [node.inputs[0].data], storage)
        return storage[0][0]
    return None


def _static_size(var):
    shape = getattr(var.type, "shape", None)
    if shape is None or any(s is None for s in shape):
        return None
    return int(np.prod(shape, dtype=np.int64)) if shape else 1


def _is_allocation(node) -> bool:
    from ...tensor.elemwise import Elemwise
    from ...tensor.shape_ops import Alloc

    op = node.op
    return isinstance(op, Alloc) or (isinstance(op, Elemwise) and op.scalar_fn.name == "second"
                                     and op.out_dtype is None)


def _feeds_output_or_inplace(fgraph, var) -> bool:
    for client, _ in fgraph.clients.get(var, []):
        if client == OUTPUT:
            return True
        op = client.op
        if getattr(op, "destroy_map", None) or "inplace" in getattr(op, "__props__", ()):
            return True
    return False


def foldable(fgraph, node) -> bool:
    """Whether `node` (all of whose inputs are constants) may be computed now."""
    op = node.op
    if type(op).__name__ in _NEVER_FOLD or getattr(op, "destroy_map", None):
        return False
    if any(part.startswith("random") or part.startswith("rng") for part in (type(op).__module__ or "").split(".")):
        return False  # draws from a generator: new numbers each call
    if not all(isinstance(v.type, TensorType) for v in (*node.inputs, *node.outputs)):
        return False
    hook = getattr(op, "do_constant_folding", None)
    if hook is not None and not hook(fgraph, node):
        return False
    for out in node.outputs:
        size = _static_size(out)
        if size is not None and size > MAX_FOLDED_SIZE:
            return False
        if _is_allocation(node) and (size is None or size > 1) and _feeds_output_or_inplace(fgraph, out):
            return False
    return True


def fold(node) -> list | None:
    """The node's outputs as constants (computed with its perform), or None if that fails."""
    from ...tensor.variable import TensorConstant

    storage = [[None] for _ in node.outputs]
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            node.op.perform(node, [i.data for i in node.inputs], storage)
    except Exception:  # the same error will be raised at run time, with the user's line
        return None
    result = []
    for out, (value,) in zip(node.outputs, storage):
        if value is None:
            return None
        value = np.asarray(value)
        if value.size > MAX_FOLDED_SIZE:
            return None
        if value.base is not None or any(np.may_share_memory(value, i.data) for i in node.inputs):
            value = value.copy()  # a view of another constant: constants own their memory
        try:
            const = TensorConstant(out.type, out.type.filter(value, strict=True))
        except (TypeError, ValueError):
            return None  # the op computed something of another type: leave it to run time
        result.append(const)
    return result


@register("canonicalize", "fast_compile", "constant_folding")
@node_rewriter(None, name="constant_folding")
def constant_folding(fgraph, node):
    """Replace a node whose inputs are all constants by the constants it computes."""
    if not node.inputs or not all(isinstance(i, Constant) for i in node.inputs):
        return None
    if not foldable(fgraph, node):
        return None
    return fold(node)


# Later phases build constant subexpressions too (a scale factor reshaped to a scalar, ...): fold
# them before fusion. Excluding "constant_folding" (a tag of both) turns off both.
rewrites.register(NodeRewriter(constant_folding.fn, None, "constant_folding_late"), "specialize", "constant_folding")
