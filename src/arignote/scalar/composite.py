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

Evaluation (composite_kernel.py) is blocked: when every input either has the output's shape and is
C-contiguous or holds a single element, a generated kernel walks the flat
arrays in blocks of `BLOCK` elements, calling the NumPy ufuncs with `out=`
into a few reused block-sized temporaries that stay in cache, and computes
the single-element sub-expressions once. Other layouts (broadcasting inputs,
transposed views) evaluate step by step on row blocks of the output.
"""
from __future__ import annotations

import math

import numpy as np

from . import table as S
from .composite_kernel import BLOCK, _FlatKernel, _apply_natural, _only_exact_overlaps
from .dtypes import is_discrete

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
