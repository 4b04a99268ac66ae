"""Removal of ops that change nothing.

  a cast to the dtype the value already has;
  a dimshuffle that keeps every dimension in place;
  an indexing that takes everything (`x[:]`, `x[0:]`, `x[:n]` with n the length);
  `alloc(x, *x.shape)` and a reshape to x's own shape;
  `second(x, y)` (fill) where y already has the result's broadcasting: the result is y;
  a SpecifyShape of a value whose type already says it;
  `switch(c, a, b)` with a constant condition (or a is b): the branch taken;
  the identities that only shape gradients (zero_grad, disconnected_grad,
  grad_clip, grad_scale, consider_constant, MRG's undefined_grad): T.grad has
  run by the time a function compiles, so they are the value itself.

The replacement keeps the type of what it replaces (a SpecifyShape stands in
where the removed op had recorded more of the static shape).
Registered in the canonicalize phase by importing `canonicalize`.
"""
from __future__ import annotations

import sys

from ...gradient import _GradientShaper
from ...graph.basic import Constant
from ...sandbox.rng_mrg import UndefinedGrad
from ...tensor.elemwise import DimShuffle, Elemwise
from ...tensor.shape_ops import Alloc, MakeVector, Reshape, Shape, SpecifyShape
from ...tensor.subtensor import Subtensor
from ...tensor.type import TensorType
from ..db import register
from ..engine import node_rewriter
from .canonicalize import cast_to, fits, stand_in, uniform_value


def _replace_by(node, x):
    out = node.outputs[0]
    return [stand_in(out, x)] if fits(out, x) else None


@register("canonicalize", "fast_compile")
@node_rewriter([Elemwise], name="useless_cast")
def useless_cast(fgraph, node):
    """`cast(x, x.dtype) -> x`."""
    op = node.op
    if op.out_dtype is None or op.out_dtype != node.inputs[0].dtype:
        return None
    return _replace_by(node, node.inputs[0])


@register("canonicalize", "fast_compile")
@node_rewriter([DimShuffle], name="useless_dimshuffle")
def useless_dimshuffle(fgraph, node):
    """A dimshuffle whose order is (0, 1, ..., n-1) is x itself."""
    if node.op.new_order != tuple(range(node.op.input_ndim)):
        return None
    return _replace_by(node, node.inputs[0])


def _shape_entry_of(var, x, dim: int) -> bool:
    """Whether scalar `var` is provably the length of dimension `dim` of `x`."""
    if isinstance(var, Constant):
        return x.type.shape[dim] is not None and int(var.data) == x.type.shape[dim]
    node = var.owner
    if node is None or not isinstance(node.op, Subtensor) or node.op.idx_list != (dim,):
        return False
    src = node.inputs[0].owner
    return src is not None and isinstance(src.op, Shape) and src.inputs[0] is x


def _full_slice(entry, components, x, dim: int) -> bool:
    """Whether the slice `entry` (symbolic parts bound to `components`) takes all of dimension `dim`."""
    if not isinstance(entry, slice):
        return False
    it = iter(components)
    start, stop, step = (next(it) if isinstance(c, TensorType) else c for c in (entry.start, entry.stop, entry.step))
    start, stop, step = (int(c.data) if isinstance(c, Constant) else c for c in (start, stop, step))
    if step not in (None, 1) or start not in (None, 0):
        return False
    if stop is None:
        return True
    if isinstance(stop, int):
        n = x.type.shape[dim]
        return stop >= sys.maxsize or (n is not None and stop >= n)
    return _shape_entry_of(stop, x, dim)


def _symbolic_parts(entry) -> int:
    parts = (entry.start, entry.stop, entry.step) if isinstance(entry, slice) else (entry,)
    return sum(isinstance(c, TensorType) for c in parts)


@register("canonicalize")
@node_rewriter([Subtensor], name="useless_subtensor")
def useless_subtensor(fgraph, node):
    """`x[:]`, `x[0:]`, `x[:, :n]` with n x's length, ... are x itself."""
    x, *rest = node.inputs
    pos = 0
    for dim, entry in enumerate(node.op.idx_list):
        k = _symbolic_parts(entry)
        if not _full_slice(entry, rest[pos:pos + k], x, dim):
            return None
        pos += k
    return _replace_by(node, x)


@register("canonicalize")
@node_rewriter([Alloc], name="useless_alloc")
def useless_alloc(fgraph, node):
    """`alloc(x, *x.shape) -> x` (the same values, in x's own shape)."""
    value, *dims = node.inputs
    if value.ndim != len(dims) or not all(_shape_entry_of(d, value, k) for k, d in enumerate(dims)):
        return None
    return _replace_by(node, value)


@register("canonicalize")
@node_rewriter(["second"], name="useless_fill")
def useless_fill(fgraph, node):
    """`second(x, y) -> y` where y already broadcasts as the result does (so it has the result's shape)."""
    x, y = node.inputs
    out = node.outputs[0]
    if y.type.broadcastable != out.type.broadcastable:
        return None
    return _replace_by(node, y)


@register("canonicalize", "fast_compile")
@node_rewriter([SpecifyShape], name="useless_specify_shape")
def useless_specify_shape(fgraph, node):
    """`specify_shape(x, s) -> x` where x's type already has every length s gives."""
    x = node.inputs[0]
    if any(want is not None and have != want for have, want in zip(x.type.shape, node.op.shape)):
        return None
    out = node.outputs[0]
    if not fits(out, x):
        return None  # x would broadcast where the SpecifyShape said it must not (unbroadcast)
    return [x]


@register("canonicalize")
@node_rewriter([Reshape], name="useless_reshape")
def useless_reshape(fgraph, node):
    """`reshape(x, x.shape) -> x`, also with one entry -1 or constant lengths x is known to have."""
    x, shp = node.inputs
    if node.op.ndim != x.ndim:
        return None
    if shp.owner is not None and isinstance(shp.owner.op, Shape) and shp.owner.inputs[0] is x:
        return _replace_by(node, x)
    if isinstance(shp, Constant):
        entries = [int(v) for v in shp.data]
        matched = [e == s for e, s in zip(entries, x.type.shape)]
    elif shp.owner is not None and isinstance(shp.owner.op, MakeVector):
        entries = shp.owner.inputs
        matched = [_shape_entry_of(e, x, k) for k, e in enumerate(entries)]
        entries = [int(e.data) if isinstance(e, Constant) else None for e in entries]
    else:
        return None
    unmatched = [k for k, m in enumerate(matched) if not m]
    if len(unmatched) > 1 or (unmatched and entries[unmatched[0]] != -1):
        return None  # one -1 among lengths all equal to x's is x's length too
    return _replace_by(node, x)


@register("canonicalize")
@node_rewriter(["switch"], name="useless_switch")
def useless_switch(fgraph, node):
    """`switch(True, a, b) -> a`, `switch(False, a, b) -> b`, `switch(c, a, a) -> a` (cast to the result's dtype).

    Not where the condition (or the other branch) gives the result its shape.
    """
    cond, a, b = node.inputs
    out = node.outputs[0]
    if a is b:
        taken = a
    else:
        value = uniform_value(cond)
        if value is None:
            return None
        taken = a if value else b
    new = cast_to(taken, out.dtype)
    return [stand_in(out, new)] if fits(out, new) else None


@register("canonicalize", "fast_compile")
@node_rewriter([_GradientShaper, UndefinedGrad], name="useless_gradient_identity")
def useless_gradient_identity(fgraph, node):
    """`zero_grad(x) -> x` and its kin: what they say matters to T.grad only."""
    return _replace_by(node, node.inputs[0])
