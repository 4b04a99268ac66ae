"""Composite: one scalar function made of several rows of the scalar table.

A `Composite` is an expression DAG over `nin` inputs, e.g.
`exp(-(i0**2))*sin(i1)+tanh(i0*i1)`. It looks like a `ScalarFn` row (name,
nin, dtype_rule, numpy, grad, ...), so `Elemwise(composite)` works unchanged:
the fusion rewrite turns a chain of Elemwise nodes into one such node.

Its steps are `(fn, out_dtype, args)`: `fn` a table row, `out_dtype` the
target of a cast (else None), and each argument a reference: `('i', k)` input
k, `('s', j)` step j, or `('c', dtype, raw_bytes)` an embedded scalar constant.
Each step's dtype follows its own row's rule, exactly as the unfused nodes'
did, so the results are the unfused graph's (bit for bit where NumPy allows).

Evaluation is blocked: when every input either has the output's shape and is
C-contiguous or holds a single element, a generated kernel walks the flat
arrays in blocks of `BLOCK` elements, calling the NumPy ufuncs with `out=`
into a few reused block-sized temporaries that stay in cache, and computes
the single-element sub-expressions once. Other layouts (broadcasting inputs,
transposed views) evaluate step by step on row blocks of the output.
"""
from __future__ import annotations

import functools
import math

import os

import numpy as np

from . import table as S
from .dtypes import is_discrete

#: elements per block of the blocked kernels (16k float32 = 64 KiB per temporary)
BLOCK = 16384

#: rows whose `numpy` is not a ufunc but whose work one ufunc does identically
_UFUNC_OF = {"sqr": (np.multiply, True), "inv": (np.reciprocal, False), "int_div": (np.floor_divide, False)}

# infix precedence for printing; function calls and atoms bind tightest (100)
_PREC = {"|": 1, "^": 2, "&": 3, "==": 4, "!=": 4, "<": 4, ">": 4, "<=": 4, ">=": 4,
         "+": 10, "-": 10, "*": 20, "/": 20, "//": 20, "%": 20, "**": 40}
_UNARY_PREC = 30
_MAX_TEXT = 2000


def _const_ref(value) -> tuple:
    arr = np.asarray(value)
    if arr.size != 1:
        raise ValueError(f"only single-element constants can be embedded in a Composite, got shape {arr.shape}")
    arr = np.ascontiguousarray(arr.reshape(()), dtype=arr.dtype.newbyteorder("="))  # the name keeps no order
    return ("c", arr.dtype.name, arr.tobytes())


def _const_value(ref) -> np.ndarray:
    return np.frombuffer(ref[2], dtype=ref[1]).reshape(()).copy()


def _apply_natural(fn, out_dtype, dtype, args):
    """One step exactly as `Elemwise.perform` computes it (same casts, same reduction order)."""
    if out_dtype is not None:
        return np.asarray(args[0]).astype(dtype)
    variadic = fn.nin == -1
    if fn.cast_inputs or (len(args) > 2 and variadic):
        args = [a if a.dtype == dtype else a.astype(dtype) for a in args]
    if len(args) > 2 and variadic:
        result = functools.reduce(fn.numpy, args)
    elif len(args) == 1 and variadic:
        result = np.array(args[0], copy=True)
    else:
        result = fn.numpy(*args)
    if type(result) is not np.ndarray or result.dtype != dtype:
        result = np.asarray(result, dtype=dtype)
    return result


class Composite:
    """A scalar function made of table rows; duck-types `scalar.table.ScalarFn`.

    Build one with `Composite.from_graph([x, y], T.exp(-x ** 2) * T.sin(y))`
    (an Elemwise graph over `x`, `y`), or with a `CompositeBuilder`.
    """

    symbol = None
    commutative = False
    associative = False
    cast_inputs = False
    supports_out = True  # numpy(*arrays, out=target) writes the result into target (in-place Elemwise)

    def __init__(self, nin: int, steps):
        self.nin = int(nin)
        self.steps = tuple((S.get(fn) if isinstance(fn, str) else fn, out_dtype, tuple(tuple(r) for r in args))
                           for fn, out_dtype, args in steps)
        if self.nin < 1 or not self.steps:
            raise ValueError("a Composite needs at least one input and one step")
        for j, (fn, _, args) in enumerate(self.steps):
            if fn.nin != -1 and len(args) != fn.nin:
                raise ValueError(f"step {j}: {fn.name} takes {fn.nin} arguments, got {len(args)}")
            for r in args:
                if r[0] == "i" and not 0 <= r[1] < self.nin or r[0] == "s" and not 0 <= r[1] < j:
                    raise ValueError(f"step {j}: bad argument reference {r!r}")
        self._key = (self.nin, tuple((fn.name, od, args) for fn, od, args in self.steps))
        self._hash = hash(self._key)
        self.backend_code = {}
        self._dtype_cache: dict = {}
        self._np_dtype_cache: dict = {}
        self._kernel_cache: dict = {}
        self._constants = {r: _const_value(r) for _, _, args in self.steps for r in args if r[0] == "c"}
        self.name = f"Composite{{{self._text()}}}"

    # -- identity -------------------------------------------------------------------
    def __eq__(self, other):
        return isinstance(other, Composite) and self._key == other._key

    def __hash__(self):
        return self._hash

    def __reduce__(self):
        return (Composite, (self.nin, self.steps))

    def __str__(self):
        return self.name

    __repr__ = __str__

    def _text(self) -> str:
        texts: list[tuple[str, int]] = []

        def arg(r):
            if r[0] == "i":
                return f"i{r[1]}", 100
            if r[0] == "s":
                return texts[r[1]]
            v = self._constants[r][()]  # a NumPy scalar: prints float32 0.1 as 0.1
            return str(v), (0 if v.dtype.kind in "iuf" and v < 0 else 100)  # (-1.5) in parentheses

        def wrap(t, p, need):
            return f"({t})" if p < need else t

        for fn, out_dtype, args in self.steps:
            parts = [arg(r) for r in args]
            sym = fn.symbol
            if out_dtype is not None:
                text, prec = f"{out_dtype}({parts[0][0]})", 100
            elif sym and len(parts) == 1:
                text, prec = sym + wrap(*parts[0], 100), _UNARY_PREC
            elif sym and sym == "**":
                text, prec = wrap(*parts[0], 41) + sym + wrap(*parts[1], 40), 40
            elif sym:
                prec = _PREC.get(sym, 5)
                text = wrap(*parts[0], prec) + "".join(sym + wrap(*p, prec + 1) for p in parts[1:])
            else:
                text, prec = f"{fn.name}({', '.join(t for t, _ in parts)})", 100
            if len(text) > _MAX_TEXT:  # shared sub-expressions repeat: keep the name bounded
                text = text[:_MAX_TEXT] + "..."
            texts.append((text, prec))
        return texts[-1][0]

    # -- construction -------------------------------------------------------------------
    @classmethod
    def from_graph(cls, inputs, output) -> "Composite":
        """The Composite computing `output` from the tensor variables `inputs`.

        `output` must be built from `inputs` by Elemwise nodes (casts included),
        the left-padding DimShuffles they insert, and single-element constants.
        """
        from ..graph.basic import Constant
        from ..tensor.elemwise import DimShuffle, Elemwise

        b = CompositeBuilder()
        memo = {id(v): b.input() for v in inputs}
        stack = [(output, False)]
        while stack:  # depth first, without recursion: chains may be thousands of nodes long
            v, expanded = stack.pop()
            if id(v) in memo:
                continue
            node = v.owner
            if node is None:
                if not (isinstance(v, Constant) and np.size(v.data) == 1):
                    raise ValueError(f"Composite.from_graph: {v} is neither among the inputs nor a "
                                     f"single-element constant")
                memo[id(v)] = b.constant(v.data)
                continue
            op = node.op
            if isinstance(op, DimShuffle) and is_left_padding(op):
                children = [node.inputs[0]]
            elif isinstance(op, Elemwise) and not op.destroy_map:
                children = node.inputs
            else:
                raise ValueError(f"Composite.from_graph: cannot fold {op} into a scalar expression")
            if not expanded:
                stack.append((v, True))
                stack.extend((c, False) for c in reversed(children))
            elif isinstance(op, DimShuffle):
                memo[id(v)] = memo[id(children[0])]
            else:
                memo[id(v)] = b.apply(op.scalar_fn, [memo[id(c)] for c in children], op.out_dtype)
        return b.build(memo[id(output)])

    # -- dtypes -------------------------------------------------------------------------
    def step_dtypes(self, *input_dtypes: str) -> tuple:
        """The dtype of every step, for inputs of `input_dtypes` (each row's own rule)."""
        key = tuple(np.dtype(d).name for d in input_dtypes)
        got = self._dtype_cache.get(key)
        if got is None:
            if len(key) != self.nin:
                raise TypeError(f"{self.name} takes {self.nin} arguments, got {len(key)}")
            out: list[str] = []

            def dt(r):
                return key[r[1]] if r[0] == "i" else out[r[1]] if r[0] == "s" else r[1]

            for fn, out_dtype, args in self.steps:
                out.append(out_dtype or fn.dtype_rule(*[dt(r) for r in args]))
            got = self._dtype_cache[key] = tuple(out)
        return got

    def dtype_rule(self, *input_dtypes: str) -> str:
        return self.step_dtypes(*input_dtypes)[-1]

    # -- evaluation ---------------------------------------------------------------------
    def numpy(self, *arrays, out=None) -> np.ndarray:
        """Evaluate on NumPy arrays (broadcast together): a fresh array of the output dtype, or `out`.

        `out` (optional) receives the result; it may be one of the inputs (in-place evaluation).
        """
        arrays = [a if type(a) is np.ndarray else np.asarray(a) for a in arrays]
        key = tuple(a.dtype for a in arrays)
        dtypes = self._np_dtype_cache.get(key)
        if dtypes is None:  # per step, as dtype objects (names are slow to compare at run time)
            dtypes = tuple(np.dtype(d) for d in self.step_dtypes(*[d.name for d in key]))
            self._np_dtype_cache[key] = dtypes
        shape = arrays[0].shape
        if any(a.shape != shape for a in arrays):
            shape = np.broadcast_shapes(*[a.shape for a in arrays])
            ndim = len(shape)
            arrays = [a if a.ndim == ndim else a.reshape((1,) * (ndim - a.ndim) + a.shape) for a in arrays]
        if out is not None:
            if out.shape != shape or out.dtype != dtypes[-1]:
                raise ValueError(f"{self.name}: out has shape {out.shape} and dtype {out.dtype}, expected "
                                 f"{shape} and {dtypes[-1]}")
            if not _only_exact_overlaps(out, arrays):  # blocks would read what they already wrote
                np.copyto(out, self.numpy(*arrays))
                return out
        size = math.prod(shape)
        if size == 0:
            return np.empty(shape, dtype=dtypes[-1]) if out is None else out
        if size > 1 and all(a.size == 1 or (a.shape == shape and a.flags.c_contiguous) for a in arrays) \
                and (out is None or out.flags.c_contiguous):
            return self._run_flat(arrays, key, dtypes, shape, size, out)
        if size <= BLOCK:
            result = self._natural(arrays, dtypes)
            if out is not None:
                np.copyto(out, result)
                return out
            if result.shape != shape:  # an unused input can still shape the output
                result = np.array(np.broadcast_to(result, shape))
            return result
        if out is None:
            out = np.empty(shape, dtype=dtypes[-1])
        self._fill_rows(arrays, dtypes, out)
        return out

    def _natural(self, arrays, dtypes):
        vals: list = []
        for (fn, out_dtype, args), dtype in zip(self.steps, dtypes):
            ins = [arrays[r[1]] if r[0] == "i" else vals[r[1]] if r[0] == "s" else self._constants[r]
                   for r in args]
            vals.append(_apply_natural(fn, out_dtype, dtype, ins))
        result = vals[-1]
        if any(np.may_share_memory(result, a) for a in arrays):
            result = result.copy()  # the result must be fresh
        return result

    def _fill_rows(self, arrays, dtypes, out):
        """Step-by-step evaluation over row blocks of `out` (broadcasting or strided inputs)."""
        if out.size <= BLOCK or out.ndim == 0:
            np.copyto(out, self._natural(arrays, dtypes))
            return
        inner = out.size // out.shape[0]
        if inner > BLOCK and out.ndim > 1:
            for i in range(out.shape[0]):
                self._fill_rows([a[0] if a.shape[0] == 1 else a[i] for a in arrays], dtypes, out[i])
            return
        rows = max(1, BLOCK // inner)
        for s in range(0, out.shape[0], rows):
            sub = [a if a.shape[0] == 1 else a[s:s + rows] for a in arrays]
            np.copyto(out[s:s + rows], self._natural(sub, dtypes))

    def _run_flat(self, arrays, in_dtypes, dtypes, shape, size, out):
        scalar = tuple(a.size == 1 for a in arrays)
        in_place = out is not None and any(a is out or np.may_share_memory(a, out) for a in arrays)
        key = (in_dtypes, scalar, in_place)
        kernel = self._kernel_cache.get(key)
        if kernel is None:
            kernel = self._kernel_cache[key] = _FlatKernel(self, in_dtypes, dtypes, scalar, in_place)
        if kernel.kernel is None:  # the result does not depend on a full input
            result = np.broadcast_to(self._natural(arrays, dtypes), shape)
            if out is None:
                return np.array(result)
            np.copyto(out, result)
            return out
        if out is None:
            out = np.empty(shape, dtype=dtypes[-1])
        kernel.run(arrays, out, size)
        return out

    # -- gradient -------------------------------------------------------------------------
    def grad(self, t, xs, z, g):
        """Expand back into the rows' tensor ops and differentiate with the rows' own gradients."""
        from ..gradient import NullType
        from ..tensor.elemwise import Elemwise

        vals: list = []
        for fn, out_dtype, args in self.steps:
            ins = [xs[r[1]] if r[0] == "i" else vals[r[1]] if r[0] == "s" else t.constant(self._constants[r])
                   for r in args]
            vals.append(Elemwise(fn, out_dtype)(*ins))
        step_terms: dict[int, list] = {len(self.steps) - 1: [g]}
        input_terms: dict[int, list] = {}
        last = len(self.steps) - 1
        for j in range(last, -1, -1):
            terms = step_terms.pop(j, None)
            if not terms or is_discrete(vals[j].dtype):
                continue
            null = next((v for v in terms if isinstance(v.type, NullType)), None)
            node = vals[j].owner
            if null is not None:
                in_grads = [null] * len(node.inputs)
            else:
                gj = terms[0] if len(terms) == 1 else t.add(*terms)
                in_grads = node.op.L_op(node.inputs, [z] if j == last else node.outputs, [gj])
            for r, gi in zip(self.steps[j][2], in_grads):
                if r[0] == "c" or gi is None:
                    continue
                if r[0] == "i":
                    if not is_discrete(xs[r[1]].dtype):
                        input_terms.setdefault(r[1], []).append(gi)
                else:
                    step_terms.setdefault(r[1], []).append(gi)
        result = []
        for k in range(self.nin):
            terms = input_terms.get(k)
            if not terms:
                result.append(None)
            elif any(isinstance(v.type, NullType) for v in terms):
                result.append(S.UNDEFINED)
            else:
                result.append(terms[0] if len(terms) == 1 else t.add(*terms))
        return result


def is_left_padding(op) -> bool:
    """Whether a DimShuffle only prepends broadcastable dimensions (as Elemwise pads inputs)."""
    order = op.new_order
    k = len(order) - op.input_ndim
    return k >= 0 and all(d == "x" for d in order[:k]) and tuple(order[k:]) == tuple(range(op.input_ndim))


class CompositeBuilder:
    """Accumulate steps (identical steps are shared) and build a `Composite`."""

    def __init__(self):
        self.steps: list = []
        self.nin = 0
        self._memo: dict = {}

    def input(self) -> tuple:
        self.nin += 1
        return ("i", self.nin - 1)

    def constant(self, value) -> tuple:
        return _const_ref(value)

    def apply(self, fn, args, out_dtype=None) -> tuple:
        """A step applying `fn` (a table row, or a Composite to inline) to `args` (references)."""
        args = [tuple(a) for a in args]
        if isinstance(fn, Composite):
            local: list = []
            for sub_fn, sub_dtype, sub_args in fn.steps:
                mapped = [args[r[1]] if r[0] == "i" else local[r[1]] if r[0] == "s" else r for r in sub_args]
                local.append(self.apply(sub_fn, mapped, sub_dtype))
            return local[-1]
        key = (fn.name, out_dtype, tuple(args))
        ref = self._memo.get(key)
        if ref is None:
            self.steps.append((fn, out_dtype, tuple(args)))
            ref = self._memo[key] = ("s", len(self.steps) - 1)
        return ref

    def build(self, root) -> Composite:
        """The Composite whose result is step `root` (steps it does not need are dropped)."""
        if root[0] != "s":
            raise ValueError("a Composite's result must be computed by a step, not be an input or a constant")
        needed = set()
        stack = [root[1]]
        while stack:
            j = stack.pop()
            if j not in needed:
                needed.add(j)
                stack.extend(r[1] for r in self.steps[j][2] if r[0] == "s")
        renumber: dict = {}
        steps = []
        for j in sorted(needed):
            fn, out_dtype, args = self.steps[j]
            steps.append((fn, out_dtype, tuple(("s", renumber[r[1]]) if r[0] == "s" else r for r in args)))
            renumber[j] = len(steps) - 1
        return Composite(self.nin, steps)


class _FlatKernel:
    """Generated code evaluating a Composite over flat arrays, block by block.

    Inputs are flat (the output's size) or 0-d (one element). Steps that depend
    only on 0-d values are computed once per call, before the loop; the others
    become ufunc calls writing into block-sized temporaries, each reused once
    its value is dead, and the last step writes straight into the output.
    """

    def __init__(self, comp: Composite, in_dtypes, dtypes, scalar, in_place=False):
        self.comp, self.dtypes, self.scalar = comp, dtypes, scalar
        steps = comp.steps
        last = len(steps) - 1
        full: list[bool] = []
        for _, _, args in steps:
            full.append(any((r[0] == "i" and not scalar[r[1]]) or (r[0] == "s" and full[r[1]]) for r in args))
        self.hoisted = [j for j in range(len(steps)) if not full[j]]
        self.flat_inputs = [k for k in range(comp.nin) if not scalar[k]]
        self.kernel = None
        if not full[last]:
            return
        last_use = {}
        for j, (_, _, args) in enumerate(steps):
            for r in args:
                if r[0] == "s":
                    last_use[r[1]] = j
        ns: dict = {"copyto": np.copyto, "_where_of": _where_of}
        loc: dict = {("i", k): (f"a{k}" if scalar[k] else f"x{k}") for k in range(comp.nin)}
        loc.update({("s", j): f"h{j}" for j in self.hoisted})
        self.buffers: list[str] = []  # the dtype of each block temporary b0, b1, ...
        self.casts: list = []  # (reference, dtype): 0-d values cast once per call, as k0, k1, ...
        free: dict[str, list[str]] = {}
        body: list[str] = []

        def flat(r):
            return (r[0] == "i" and not scalar[r[1]]) or (r[0] == "s" and full[r[1]])

        def dtype_of(r):
            return in_dtypes[r[1]] if r[0] == "i" else dtypes[r[1]] if r[0] == "s" else np.dtype(r[1])

        def name(r):
            if r not in loc:  # a constant
                loc[r] = f"c{len(ns)}"
                ns[loc[r]] = comp._constants[r]
            return loc[r]

        def alloc(dtype):
            if free.get(dtype):
                return free[dtype].pop()
            self.buffers.append(dtype)
            return f"b{len(self.buffers) - 1}"

        def release(var, dtype):
            if var.startswith("b"):
                free.setdefault(dtype, []).append(var)

        for j, (fn, out_dtype, args) in enumerate(steps):
            if not full[j]:
                continue
            dtype = dtypes[j]
            names = [name(r) for r in args]
            arg_dtypes = [dtype_of(r) for r in args]
            temps = []
            if out_dtype is None and (fn.cast_inputs or (len(args) > 2 and fn.nin == -1)):
                for i, r in enumerate(args):  # compute in the output dtype, as Elemwise.perform does
                    if arg_dtypes[i] == dtype:
                        continue
                    if flat(r):
                        tmp = alloc(dtype)
                        body.append(f"copyto({tmp}, {names[i]}, casting='unsafe')")
                        temps.append(tmp)
                        names[i] = tmp
                    else:
                        names[i] = f"k{len(self.casts)}"
                        self.casts.append((r, dtype))
                arg_dtypes = [dtype] * len(args)
            lines, single = _ufunc_call(fn, out_dtype, dtype, names, arg_dtypes)
            dying = [r for r in dict.fromkeys(args) if r[0] == "s" and full[r[1]] and last_use[r[1]] == j]
            if j == last and not (in_place and lines is not None and len(lines) > 1):
                out = "o"  # (in place, a step of several calls must not overwrite what it reads)
            elif lines is None:
                out = f"n{j}"
            else:
                if single and not temps:  # one call reads its arguments before writing: reuse one
                    for r in dying:
                        release(loc[r], dtypes[r[1]])
                    dying = []
                out = alloc(dtype)
            loc[("s", j)] = out
            if lines is None:
                ns[f"f{j}"] = _natural_step(fn, out_dtype, dtype)
                call = f"f{j}({', '.join(names)})"
                body.append(f"copyto(o, {call})" if out == "o" else f"{out} = {call}")
            else:
                for k, (uf, line) in enumerate(lines):
                    if uf is not None:
                        ns[f"u{j}_{k}"] = uf
                    body.append(line.format(out=out, u=f"u{j}_{k}"))
            if j == last and out != "o":
                body.append(f"copyto(o, {out})")
            for tmp in temps:
                release(tmp, dtype)
            for r in dying:
                release(loc[r], dtypes[r[1]])
        params = [f"a{k}" if scalar[k] else f"x{k}_" for k in range(comp.nin)] + ["o_"]
        params += [f"b{i}" for i in range(len(self.buffers))] + [f"h{j}" for j in self.hoisted]
        params += [f"k{i}" for i in range(len(self.casts))] + ["n", "B"]
        src = [f"def kernel({', '.join(params)}):",
               *[f"    a{k} = a{k}.reshape(())" for k in range(comp.nin) if scalar[k]],
               *[f"    x{k}_ = x{k}_.reshape(-1)" for k in self.flat_inputs],
               "    o_ = o_.reshape(-1)",
               "    for s in range(0, n, B):",
               "        e = s + B",
               "        if e > n:",
               "            e = n",
               *[f"            b{i} = b{i}[:n - s]" for i in range(len(self.buffers))],
               *[f"        x{k} = x{k}_[s:e]" for k in self.flat_inputs],
               "        o = o_[s:e]",
               *[f"        {line}" for line in body]]
        self.source = "\n".join(src)
        exec(compile(self.source, "<Composite kernel>", "exec"), ns)
        self.kernel = ns["kernel"]

    def run(self, arrays, out, n):
        """Evaluate into `out` from `arrays` (each the output's shape or a single element).

        Large arrays are split into one contiguous part per core: NumPy's ufuncs
        release the GIL, so the parts run in parallel threads.
        """
        extra = self._prologue(arrays) if self.hoisted or self.casts else ()
        parts = _parts(n)
        if len(parts) == 1:
            block = BLOCK if n > BLOCK else n
            self.kernel(*arrays, out, *[np.empty(block, dtype=d) for d in self.buffers], *extra, n, BLOCK)
            return

        def part(bounds):
            lo, hi = bounds
            pieces = [a if a.size == 1 else a[lo:hi] for a in arrays]
            self.kernel(*pieces, out[lo:hi], *[np.empty(BLOCK, dtype=d) for d in self.buffers], *extra,
                        hi - lo, BLOCK)

        for future in [_pool().submit(part, b) for b in parts]:
            future.result()

    def _prologue(self, arrays):
        """The single-element sub-expressions (and casts of them), computed once per call."""
        comp = self.comp
        vals: dict = {}
        for j in self.hoisted:
            fn, out_dtype, args = comp.steps[j]
            ins = [arrays[r[1]].reshape(()) if r[0] == "i" else vals[r[1]] if r[0] == "s" else comp._constants[r]
                   for r in args]
            vals[j] = _apply_natural(fn, out_dtype, self.dtypes[j], ins)
        casts = [(arrays[r[1]].reshape(()) if r[0] == "i" else vals[r[1]] if r[0] == "s" else comp._constants[r])
                 .astype(d) for r, d in self.casts]
        return [vals[j] for j in self.hoisted] + casts


#: below this many elements one thread is faster than handing work to others
PARALLEL_MIN = 1 << 18
_executor = None


def _pool():
    global _executor
    if _executor is None:
        from concurrent.futures import ThreadPoolExecutor

        _executor = ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="arignote-kernel")
    return _executor


def _parts(n: int) -> list[tuple[int, int]]:
    """Contiguous [lo, hi) ranges, one per core, each a multiple of BLOCK long (but the last)."""
    workers = os.cpu_count() or 1
    if n < PARALLEL_MIN or workers < 2:
        return [(0, n)]
    per = -(-n // workers)
    per = -(-per // BLOCK) * BLOCK
    return [(lo, min(n, lo + per)) for lo in range(0, n, per)]


def _only_exact_overlaps(out, arrays) -> bool:
    """Whether every input sharing memory with `out` is `out` itself (same memory, same layout)."""
    for a in arrays:
        if a is not out and np.may_share_memory(a, out) and not (
                a.shape == out.shape and a.strides == out.strides
                and a.__array_interface__["data"][0] == out.__array_interface__["data"][0]):
            return False
    return True


def _natural_step(fn, out_dtype, dtype):
    def step(*args):
        result = _apply_natural(fn, out_dtype, dtype, args)
        if any(np.may_share_memory(result, a) for a in args):  # a temporary is reused once dead
            result = result.copy()
        return result

    return step


def _where_of(c):
    return c if c.dtype == np.bool_ else c.astype(bool)


def _ufunc_call(fn, out_dtype, dtype, names, arg_dtypes):
    """Lines computing one step into `{out}` (`{u}`: the ufunc): ([(ufunc or None, line)], single).

    `single`: one ufunc call reads every argument before writing, so `{out}` may
    be the temporary of an argument that dies here. ([], False) -> None: no ufunc
    does this step exactly; it is evaluated as Elemwise.perform would.
    """
    if out_dtype is not None:
        return [(None, f"copyto({{out}}, {names[0]}, casting='unsafe')")], False
    if fn.name == "second":
        return [(None, f"copyto({{out}}, {names[1]})")], False
    if fn.name == "identity" or (fn.nin == -1 and len(names) == 1):
        return [(None, f"copyto({{out}}, {names[0]})")], False
    if fn.name == "switch":
        return [(None, f"copyto({{out}}, {names[2]}, casting='unsafe')"),
                (None, f"copyto({{out}}, {names[1]}, casting='unsafe', where=_where_of({names[0]}))")], False
    uf, dup = _UFUNC_OF.get(fn.name, (fn.numpy, False))
    if not isinstance(uf, np.ufunc) or uf.nout != 1:
        return None, False
    if dup:
        names, arg_dtypes = [names[0], names[0]], [arg_dtypes[0]] * 2
    if fn.nin == -1 and len(names) > 2:  # ((a0 + a1) + a2) + ..., all in the output dtype
        if uf.nin != 2 or not _resolves_to(uf, [dtype, dtype], dtype):
            return None, False
        lines = [(uf, f"{{u}}({names[0]}, {names[1]}, out={{out}})")]
        lines += [(uf, f"{{u}}({{out}}, {n}, out={{out}})") for n in names[2:]]
        return lines, False
    if uf.nin != len(names) or not _resolves_to(uf, arg_dtypes, dtype):
        return None, False
    return [(uf, f"{{u}}({', '.join(names)}, out={{out}})")], True


def _resolves_to(uf, arg_dtypes, dtype) -> bool:
    """Whether NumPy's loop for `arg_dtypes` produces exactly `dtype` (no cast of the result)."""
    try:
        resolved = uf.resolve_dtypes(tuple(np.dtype(d) for d in arg_dtypes) + (None,))
    except Exception:  # no loop for these dtypes (or an old ufunc): evaluate as Elemwise would
        return False
    return resolved[-1] == np.dtype(dtype)
