"""Elementwise nodes (table rows and fused Composites) and DimShuffle.

An elementwise node becomes a loop nest over the output whose body is the
scalar code of `scalar_code.py`; a dimension declared broadcastable reads
index 0. Big arrays of transcendental math take another road: Numba's
exp/sin/tanh are scalar libm calls (no SVML here: measured 240 ms for W2's
1e7 elements), while the reference kernel runs NumPy's SIMD ufuncs over
cache-sized blocks on every core (21 ms), so past `BIG` elements the loop
hands the arrays to that kernel through an object-mode boundary.
"""
from __future__ import annotations

import numpy as np

from ....scalar import table as S
from ....tensor.elemwise import DimShuffle, Elemwise
from .. import kernels
from ..context import dtype_expr, scalar_literal
from ..registry import NotLowerable, lowers
from ..scalar_code import GLOBALS as SCALAR_GLOBALS
from ..scalar_code import scalar_code

#: elements from which transcendental elementwise math runs on the blocked SIMD kernel
BIG = 1 << 15
_CHEAP = {"add", "sub", "mul", "neg", "abs", "sqr", "maximum", "minimum", "clip", "switch", "identity", "second",
          "cast", "eq", "neq", "lt", "gt", "le", "ge", "and_", "or_", "xor", "invert", "sgn", "true_div", "inv",
          "int_div", "mod", "floor", "ceil", "trunc", "isnan", "isinf"}


def _row_names(fn) -> set:
    steps = getattr(fn, "steps", None)
    return {s[0].name for s in steps} if steps is not None else {fn.name}


def _numba_type_text(dtype: str, ndim: int) -> str:
    name = "boolean" if dtype == "bool" else dtype
    return f"{name}[{', '.join([':'] * ndim)}]"


@lowers(Elemwise)
def lower_elemwise(ctx):
    node, op = ctx.node, ctx.node.op
    fn = S.CAST if op.out_dtype is not None else op.scalar_fn
    out_dtype = ctx.out_dtype()
    in_dtypes = [v.type.dtype for v in node.inputs]
    nd = ctx.out_ndim()
    for name, value in SCALAR_GLOBALS.items():
        ctx.namespace.values.setdefault(name, value)
    out = ctx.outputs[0]
    if nd == 0:
        lines, expr = scalar_code(fn, list(ctx.inputs), in_dtypes, out_dtype, ctx.fresh)
        for line in lines:
            ctx.emit(line)
        ctx.emit(f"{out} = {expr}")
        return
    # single-element constants become scalars read once, outside the loop
    element = []
    arrays = []
    for k, v in enumerate(node.inputs):
        data = ctx.constant(k)
        if data is not None and np.size(data) == 1:
            lit = scalar_literal(np.asarray(data).reshape(()))
            if lit is None:
                raise NotLowerable("complex constants are not embedded")
            element.append(lit)
        else:
            element.append(None)
            arrays.append(k)
    if not arrays:
        raise NotLowerable("an elementwise node over constants only is folded, not compiled")
    dims = []
    checks = []  # written after the lengths, so that they join into one check call
    for d in range(nd):
        owners = [k for k in arrays if not node.inputs[k].type.broadcastable[d]]
        if not owners:
            dims.append("1")
            continue
        dim = ctx.fresh("n")
        ctx.emit(f"{dim} = {ctx.inputs[owners[0]]}.shape[{d}]")
        for k in owners[1:]:
            checks.append((f"{ctx.inputs[k]}.shape[{d}] != {dim}",
                           f"{fn.name}: input {k} differs from input {owners[0]} in dimension {d}, which is not "
                           f"broadcastable (built at {ctx.where()})"))
        dims.append(dim)
    for condition, message in checks:
        ctx.check(condition, message)
    shape = f"({', '.join(dims)},)"
    inplace = op.inplace_input
    if nd in kernels.FILL and (_constant_fill(ctx, fn, element, in_dtypes, out_dtype, shape, nd)
                               or _identity_copy(ctx, fn, element, arrays, in_dtypes, out_dtype, shape, nd)):
        return
    names = _row_names(fn)
    heavy = not names <= _CHEAP and out_dtype in ("float32", "float64")
    if heavy:
        size = ctx.fresh("size")
        ctx.emit(f"{size} = {' * '.join(dims)}")
        args = ", ".join(ctx.inputs[k] if element[k] is None else element[k] for k in range(len(node.inputs)))
        big = _big_array_helper(ctx, node, out_dtype, nd)
        with ctx.block(f"if {size} >= {BIG}:"):
            ctx.emit(f"{out} = {big}{args})")
        ctx.writer.emit("else:")
        ctx.writer.indent += 1
    if inplace is not None:
        ctx.emit(f"{out} = {ctx.inputs[inplace]}")
    else:
        ctx.emit(f"{out} = np.empty({shape}, dtype={dtype_expr(out_dtype)})")
    idx = [ctx.fresh("i") for _ in range(nd)]
    loops = []
    for d in range(nd):
        loops.append(ctx.block(f"for {idx[d]} in range({dims[d]}):"))
        loops[-1].__enter__()
    args = []
    for k, v in enumerate(node.inputs):
        if element[k] is not None:
            args.append(element[k])
            continue
        sub = ", ".join("0" if v.type.broadcastable[d] else idx[d] for d in range(nd))
        args.append(f"{ctx.inputs[k]}[{sub}]")
    lines, expr = scalar_code(fn, args, in_dtypes, out_dtype, ctx.fresh)
    for line in lines:
        ctx.emit(line)
    ctx.emit(f"{out}[{', '.join(idx)}] = {expr}")
    for block in reversed(loops):
        block.__exit__(None, None, None)
    if heavy:
        ctx.writer.indent -= 1


def _constant_fill(ctx, fn, element, in_dtypes, out_dtype, shape: str, nd: int) -> bool:
    """Write the node as a fill when its value does not depend on the element (`second(x, 0)`, the
    zeros of a gradient): the value computed once, the loops a compiled helper's. False otherwise."""
    marks = [f"_element{k}_" if e is None else e for k, e in enumerate(element)]
    lines, expr = scalar_code(fn, marks, in_dtypes, out_dtype, lambda hint: f"_{hint}_")
    if lines or "_sc_int_pow" in expr or any(m in expr for m in marks if m.startswith("_element")):
        return False  # (a value that may raise is computed per element: an empty array never raises)
    out = ctx.outputs[0]
    inplace = ctx.node.op.inplace_input
    if inplace is not None:
        ctx.emit(f"{out} = {ctx.inputs[inplace]}")
    else:
        ctx.emit(f"{out} = np.empty({shape}, dtype={dtype_expr(out_dtype)})")
    ctx.emit(f"{kernels.register(ctx, kernels.FILL[nd])}({out}, {expr})")
    return True


def _identity_copy(ctx, fn, element, arrays, in_dtypes, out_dtype, shape: str, nd: int) -> bool:
    """Write the node as a copy when it is the identity of its one array input (`mul` of one input,
    a cast to the same dtype) and that input stretches along no dimension. False otherwise."""
    if len(arrays) != 1:
        return False
    k = arrays[0]
    inplace = ctx.node.op.inplace_input
    if in_dtypes[k] != out_dtype or any(ctx.node.inputs[k].type.broadcastable) or inplace not in (None, k):
        return False
    mark = f"_element{k}_"
    marks = [mark if e is None else e for e in element]
    lines, expr = scalar_code(fn, marks, in_dtypes, out_dtype, lambda hint: f"_{hint}_")
    if lines or expr not in (mark, f"{dtype_expr(out_dtype)}({mark})"):
        return False
    out, x = ctx.outputs[0], ctx.inputs[k]
    if inplace == k:  # x's elements already are the result
        ctx.emit(f"{out} = {x}")
        return True
    ctx.emit(f"{out} = np.empty({shape}, dtype={dtype_expr(out_dtype)})")
    ctx.emit(f"{kernels.register(ctx, kernels.COPY[nd])}({out}, {x})")
    return True


def _reference_kernel(node):
    """A Python function computing the node with its NumPy perform (for the object-mode road)."""
    op = node.op
    storage = [[None]]

    def kernel(*inputs):
        op.perform(node, [np.asarray(x) for x in inputs], storage)
        result = storage[0][0]
        storage[0][0] = None
        return result

    return kernel


#: the reference kernels the object-mode road calls, by a key stable across processes
_BIG_KERNELS: dict[int, object] = {}


def run_big_kernel(key: int, *inputs):
    """Compute a registered elementwise node with its reference (blocked, threaded SIMD) kernel."""
    return _BIG_KERNELS[key](*inputs)


def _big_array_helper(ctx, node, out_dtype: str, nd: int) -> str:
    """A call expression (less its arguments' parenthesis) computing `node` through object mode.

    The boundary sits in a helper function of its own: an object-mode block
    inside a branch of the main code trips LLVM ("instruction does not
    dominate all uses"). One helper serves every node of the same types (the
    node's kernel is named by a key argument, stable across processes), so
    each costly object-mode compilation happens once per type signature and
    the code that calls it stays cacheable on disk.
    """
    import hashlib

    import numba

    from ..context import NativeSource

    types = tuple((v.type.dtype, v.type.broadcastable) for v in node.inputs)
    consts = tuple(None if ctx.constant(k) is None else np.asarray(ctx.constant(k)).tobytes()
                   for k in range(len(node.inputs)))
    # an int64 key: a string argument costs each call site a string constant (~0.1 s of compile time each)
    digest = hashlib.sha256(repr((node.op, types, consts, node.outputs[0].type.dtype)).encode()).hexdigest()
    key = int(digest[:15], 16)
    _BIG_KERNELS.setdefault(key, _reference_kernel(node))
    ctx.namespace.values["_objmode"] = numba.objmode
    ctx.namespace.values["_run_big_kernel"] = run_big_kernel
    signature = (out_dtype, nd, tuple(v.type.dtype for v in node.inputs), tuple(v.type.ndim for v in node.inputs))
    name = "_big_" + hashlib.sha256(repr(signature).encode()).hexdigest()[:16]
    params = [f"a{k}" for k in range(len(node.inputs))]
    source = "\n".join([
        f"def {name}(key, {', '.join(params)}):",
        f"    with _objmode(r={_numba_type_text(out_dtype, nd)!r}):",
        f"        r = _run_big_kernel(key, {', '.join(params)})",
        "    return r",
    ]) + "\n"
    ctx.namespace.values[name] = NativeSource(name, source)
    return f"{name}(np.int64({key}), "


@lowers(DimShuffle)
def lower_dimshuffle(ctx):
    op = ctx.node.op
    x, out = ctx.inputs[0], ctx.outputs[0]
    out_nd = ctx.out_ndim()
    if op.input_ndim == 0:
        if out_nd == 0:
            ctx.emit(f"{out} = {x}")
        else:
            ctx.emit(f"{out} = np.full(({', '.join(['1'] * out_nd)},), {x})")
        return
    for d in op.drop:
        ctx.check(f"{x}.shape[{d}] != 1", f"DimShuffle: dimension {d} is dropped but its length is not 1 "
                                          f"(built at {ctx.where()})")
    view = x
    if op.drop:
        view = f"{x}[{', '.join('0' if d in op.drop else ':' for d in range(op.input_ndim))}]"
    kept_order = sorted(op.shuffle)
    if out_nd == 0:
        ctx.emit(f"{out} = {view}")
        return
    perm = [kept_order.index(d) for d in op.shuffle]
    if perm == list(range(len(perm)))[::-1] and len(perm) > 1:
        view = f"{view}.T"  # compiles ~10x faster than .transpose(perm), and gives NumPy's F-layout view
    elif perm != sorted(perm):
        view = f"{view}.transpose(({', '.join(map(str, perm))},))"
    if op.augment:
        sub = ", ".join("None" if d == "x" else ":" for d in op.new_order)
        view = f"{view}[{sub}]"
    ctx.emit(f"{out} = {view}")
