"""The blocked, threaded evaluation of a Composite over flat arrays.

A `_FlatKernel` is Python source generated for one Composite and one set of
input dtypes: it walks the flat arrays in blocks of `BLOCK` elements, calling
NumPy's ufuncs with `out=` into a few reused block-sized temporaries (they
stay in cache). Large arrays are split into one contiguous part per core and
run in threads, since the ufuncs release the GIL.
"""
from __future__ import annotations

import functools
import os

import numpy as np


#: elements per block of the blocked kernels (16k float32 = 64 KiB per temporary)
BLOCK = 16384

#: rows whose `numpy` is not a ufunc but whose work one ufunc does identically
_UFUNC_OF = {"sqr": (np.multiply, True), "inv": (np.reciprocal, False), "int_div": (np.floor_divide, False)}

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


class _FlatKernel:
    """Generated code evaluating a Composite over flat arrays, block by block.

    Inputs are flat (the output's size) or 0-d (one element). Steps that depend
    only on 0-d values are computed once per call, before the loop; the others
    become ufunc calls writing into block-sized temporaries, each reused once
    its value is dead, and the last step writes straight into the output.
    """

    def __init__(self, comp, in_dtypes, dtypes, scalar, in_place=False):  # comp: a Composite
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
