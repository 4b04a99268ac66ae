"""A Function's call, specialised to its inputs and outputs.

Calling a compiled function should cost little more than running it: for a
10-element vector the native program runs in well under a microsecond, so
the generic argument loop, output list and update loops of
`Function._call_general` would be most of the call. This module writes, per
Function, a `__call__` with its arity, input types, output copies and
updates unrolled; anything unusual (keywords, missing or extra arguments,
trust_input, an argument that is not an ndarray of the exact type) takes the
general path, which converts and checks with full error messages.
"""
from __future__ import annotations

import numpy as np


def specialised_call(function):
    """Source-generated `__call__(self, *args, **kwargs)` for `function` (a Function)."""
    n = function._n_explicit
    ns = {"_ndarray": np.ndarray, "_asarray": np.asarray, "_general": type(function)._call_general}
    lines = ["def __call__(self, *args, **kwargs):",
             f"    if kwargs or len(args) != {n} or self.trust_input:",
             "        return _general(self, args, kwargs)"]
    if n:
        lines.append(f"    {', '.join(f'a{k}' for k in range(n))}{',' if n == 1 else ''} = args")
    for k in range(n):
        t = function._types[k]
        cell = f"_c{k}"
        ns[cell] = function._input_cells[k]
        ns[f"_dt{k}"] = getattr(t, "numpy_dtype", None)
        checks = []
        if function._fast_ok[k]:
            checks.append(f"if type(a{k}) is _ndarray and a{k}.dtype is _dt{k} and a{k}.ndim == {t.ndim}:\n"
                          f"        {cell}[0] = a{k}")
        bounds = function._int_bounds[k]
        if bounds:
            checks.append(f"if type(a{k}) is int and {bounds[0]} <= a{k} <= {bounds[1]}:\n"
                          f"        {cell}[0] = _asarray(a{k}, _dt{k})")
        if not checks:
            lines.append(f"    {cell}[0] = self._filter({k}, a{k})")
            continue
        for j, check in enumerate(checks):
            lines.append(f"    {'el' if j else ''}{check}")
        lines.append(f"    else:\n        {cell}[0] = self._filter({k}, a{k})")
    lines.append("    self._run()")
    outs = function._output_cells
    for k, cell in enumerate(outs):
        ns[f"_o{k}"] = cell
        lines.append(f"    o{k} = _o{k}[0]")
    if function._copy_outputs:
        from .function import _copy

        ns["_copy"] = _copy
        for k in function._copy_outputs:
            lines.append(f"    o{k} = _copy(o{k})")
    for j, (cell, k) in enumerate(function._update_cells):
        ns[f"_u{j}"] = cell
        lines.append(f"    _u{j}[0] = o{k}")
    for pos, k in function.maker.input_update_positions:
        lines.append(f"    self._defaults[{pos}] = o{k}")
    for k in range(n):  # do not keep the caller's arrays alive
        lines.append(f"    _c{k}[0] = None")
    n_out = function._n_out
    if function.output_kind == "single":
        lines.append("    return o0")
    elif function.output_kind == "dict":
        for k, key in enumerate(function.output_keys):
            ns[f"_key{k}"] = key
        pairs = ", ".join(f"_key{k}: o{k}" for k in range(len(function.output_keys)))
        lines.append(f"    return {{{pairs}}}")
    else:
        lines.append(f"    return [{', '.join(f'o{k}' for k in range(n_out))}]")
    exec(compile("\n".join(lines) + "\n", "<arignote call>", "exec"), ns)
    return ns["__call__"]

