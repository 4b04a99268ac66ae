"""scan(): Theano's loop construct, with every argument form Theano accepted.

`fn` is called once, on symbolic placeholders, in the order: sequence slices
(each sequence's taps in order), the previous values of the recurrent
outputs (each one's taps), then the non-sequences. What it returns becomes
the loop body. Outer variables it uses without passing them (weights in a
closure, shared variables) become non-sequences automatically.
"""
from __future__ import annotations

from collections import OrderedDict

from ..compile.sharedvalue import SharedVariable
from ..graph.basic import Constant, Variable, clone_replace, graph_inputs
from ..graph.sourceline import here
from .op import Scan, ScanSpec, _loose
from .utils import until


def _as_list(x):
    if x is None:
        return []
    if isinstance(x, (list, tuple)):
        return list(x)
    return [x]


def _normalize_sequences(sequences):
    from .. import tensor as T

    out = []
    for k, s in enumerate(_as_list(sequences)):
        if isinstance(s, dict):
            if "input" not in s:
                raise ValueError(f"scan: sequence {k} is a dict without 'input'. At {here()}")
            var, taps = s["input"], s.get("taps", [0])
            taps = [0] if taps is None else _as_list(taps)
        else:
            var, taps = s, [0]
        var = T.as_tensor_variable(var)
        if var.ndim == 0:
            raise TypeError(f"scan: sequence {k} ({var}) is a scalar; a sequence needs a leading "
                            f"dimension to iterate over. At {here()}")
        out.append((var, [int(t) for t in taps]))
    return out


def _normalize_outputs_info(outputs_info):
    """Per entry: (initial or None, taps) — None initial means a per-step output."""
    from .. import tensor as T

    out = []
    for k, o in enumerate(_as_list(outputs_info)):
        if o is None:
            out.append((None, []))
        elif isinstance(o, dict):
            init = o.get("initial")
            if init is None:
                out.append((None, []))
                continue
            taps = o.get("taps", [-1])
            taps = sorted(int(t) for t in _as_list(taps))
            if any(t >= 0 for t in taps):
                raise ValueError(f"scan: outputs_info[{k}] has tap {max(taps)}; recurrent taps must be "
                                 f"negative (previous steps). At {here()}")
            out.append((T.as_tensor_variable(init), taps))
        else:
            out.append((T.as_tensor_variable(o), [-1]))
    return out


def _parse_fn_result(result):
    """Split what `fn` returned into (outputs, updates, until-condition)."""
    outputs, updates, condition = [], OrderedDict(), None

    def absorb(item):
        nonlocal condition
        if isinstance(item, until):
            condition = item.condition
        elif isinstance(item, dict):
            updates.update(item)
        elif _is_update_pairs(item):
            updates.update(item)
        elif isinstance(item, (list, tuple)):
            outputs.extend(item)
        else:
            outputs.append(item)

    if isinstance(result, (list, tuple)) and any(
            isinstance(r, (dict, until)) or _is_update_pairs(r) for r in result):
        for r in result:
            absorb(r)
    else:
        absorb(result)
    return outputs, updates, condition


def _is_update_pairs(item) -> bool:
    return (isinstance(item, (list, tuple)) and len(item) > 0
            and all(isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], SharedVariable) for p in item))


def scan(fn, sequences=None, outputs_info=None, non_sequences=None, n_steps=None, truncate_gradient=-1,
         go_backwards=False, mode=None, name=None, profile=False, allow_gc=None, strict=False,
         return_list=False):
    """Loop `fn` over `sequences`, feeding back `outputs_info`; return (outputs, updates).

    >>> import numpy as np, arignote as th, arignote.tensor as T
    >>> k = T.iscalar('k'); A = T.dvector('A')
    >>> result, updates = th.scan(lambda prior, A: prior * A, outputs_info=T.ones_like(A),
    ...                           non_sequences=A, n_steps=k)
    >>> th.function([A, k], result[-1])(np.arange(4.0), 2).tolist()
    [0.0, 1.0, 4.0, 9.0]
    """
    from .. import tensor as T

    seqs = _normalize_sequences(sequences)
    outs_info = _normalize_outputs_info(outputs_info)
    non_seqs = [v if isinstance(v, Variable) else T.as_tensor_variable(v) for v in _as_list(non_sequences)]

    # -- the number of steps, and each sequence tap as its own aligned sequence --------------------
    aligned, seq_placeholders = [], []
    lengths = []
    for var, taps in seqs:
        if go_backwards:
            var = var[::-1]
        lo, hi = min(taps), max(taps)
        span = hi - lo
        lengths.append(var.shape[0] - span)
        for tap in taps:
            aligned.append((var, tap - lo, span))
            placeholder = T.TensorType(var.dtype, shape=var.type.shape[1:])(
                f"{var.name}[t{'+' if tap >= 0 else ''}{tap}]" if var.name else None)
            seq_placeholders.append(placeholder)
    if n_steps is None and not lengths:
        raise ValueError(f"scan needs sequences or n_steps to know how many steps to run. At {here()}")
    steps = None
    for length in lengths:
        steps = length if steps is None else T.minimum(steps, length)
    if n_steps is not None:
        n_steps_var = T.as_tensor_variable(n_steps)
        if n_steps_var.ndim != 0 or n_steps_var.dtype[0] not in "iu":
            raise TypeError(f"scan: n_steps must be an integer scalar, got {n_steps_var.type}. At {here()}")
        steps = n_steps_var if steps is None else T.minimum(steps, n_steps_var)
    steps = T.cast(steps, "int64")
    outer_seqs = []
    for var, offset, span in aligned:
        end = var.shape[0] - (span - offset)
        outer_seqs.append(var[offset:end][:steps])

    # -- placeholders for recurrent taps ---------------------------------------------------------------
    rec_placeholders = []
    for k, (init, taps) in enumerate(outs_info):
        if init is None:
            continue
        state_shape = init.type.shape if taps == [-1] else init.type.shape[1:]
        if taps != [-1]:
            if init.ndim == 0:
                raise TypeError(f"scan: outputs_info[{k}] with taps {taps} needs an initial value with a leading "
                                f"dimension of at least {-min(taps)} entries. At {here()}")
        for tap in taps:
            rec_placeholders.append(T.TensorType(init.dtype, shape=_loose(state_shape))(
                f"{init.name or 'state'}[t{tap}]"))

    # -- trace the body --------------------------------------------------------------------------------------
    args = list(seq_placeholders) + list(rec_placeholders) + list(non_seqs)
    result = fn(*args)
    outputs, updates, condition = _parse_fn_result(result)
    outputs = [T.as_tensor_variable(o) for o in outputs]
    if outs_info and len(outputs) != len(outs_info):
        raise ValueError(f"scan: fn returned {len(outputs)} outputs but outputs_info has {len(outs_info)} "
                         f"entries (use None for outputs that are not fed back). At {here()}")
    if not outs_info:
        outs_info = [(None, [])] * len(outputs)

    rec_pos = [k for k, (init, _) in enumerate(outs_info) if init is not None]
    nit_pos = [k for k, (init, _) in enumerate(outs_info) if init is None]
    rec_out, rec_inits, rec_taps = [], [], []
    for k in rec_pos:
        init, taps = outs_info[k]
        out = outputs[k]
        state_ndim = init.ndim if taps == [-1] else init.ndim - 1
        if out.ndim != state_ndim:
            raise TypeError(f"scan: output {k} of fn has {out.ndim} dimensions but its initial value in "
                            f"outputs_info implies {state_ndim}. At {here()}")
        if out.dtype != init.dtype:
            raise TypeError(
                f"scan: output {k} of fn has type {out.type} but its initial value (outputs_info[{k}]) has "
                f"type {init.type}: the loop would silently change the state's dtype. Make them agree, "
                f"e.g. outputs_info=T.as_tensor_variable(np.asarray(0, dtype='{out.dtype}')) or cast fn's "
                f"result with .astype('{init.dtype}'). At {here()}")
        if any(s == 1 and o != 1 for s, o in zip(_loose(init.type.shape if taps == [-1] else init.type.shape[1:]),
                                                  out.type.shape)):
            out = T.patternbroadcast(out, tuple(s == 1 for s in _loose(
                init.type.shape if taps == [-1] else init.type.shape[1:])))
        rec_out.append(out)
        rec_inits.append(T.shape_padleft(init) if taps == [-1] else init)
        rec_taps.append(tuple(taps))
    nit_out = [outputs[k] for k in nit_pos]

    # -- shared variables the body updates (its own updates and default updates) --------------------
    if condition is not None:
        condition = T.as_tensor_variable(condition)
        if condition.ndim != 0:
            raise TypeError(f"scan: until() needs a scalar condition, got {condition.type}. At {here()}")
    body_vars = rec_out + nit_out + list(updates.values()) + ([condition] if condition is not None else [])
    for v in graph_inputs(body_vars):
        if isinstance(v, SharedVariable) and v.default_update is not None and v not in updates:
            updates[v] = v.default_update
    for var, upd in list(updates.items()):
        if not isinstance(var, SharedVariable):
            raise TypeError(f"scan: fn's updates can only change shared variables; {var} is not one. At {here()}")
        upd = T.as_tensor_variable(upd) if not isinstance(upd, Variable) else upd
        if upd.type != var.type:
            if getattr(upd, "dtype", None) != getattr(var, "dtype", None):
                raise TypeError(f"scan: the update of {var} inside the loop has type {upd.type}, not {var.type}. "
                                f"At {here()}")
            upd = T.specify_shape(upd, var.type.shape)
        updates[var] = upd
    shared_vars = list(updates)
    shared_placeholders = [v.type() for v in shared_vars]

    # -- everything else the body reads becomes a non-sequence ------------------------------------------------
    placeholders = set(seq_placeholders) | set(rec_placeholders)
    body_vars = rec_out + nit_out + [updates[v] for v in shared_vars] + ([condition] if condition is not None else [])
    free = [v for v in graph_inputs(body_vars)
            if v not in placeholders and not isinstance(v, Constant) and v not in shared_vars]
    non_seq_outer = list(dict.fromkeys(free))
    non_seq_placeholders = [v.type() for v in non_seq_outer]
    replace = dict(zip(shared_vars, shared_placeholders))
    replace.update(zip(non_seq_outer, non_seq_placeholders))
    inner_outputs = clone_replace(body_vars, replace) if replace else list(body_vars)
    inner_inputs = list(seq_placeholders) + list(rec_placeholders) + shared_placeholders + non_seq_placeholders

    spec = ScanSpec(n_seqs=len(outer_seqs), taps=tuple(rec_taps), n_nitsot=len(nit_out),
                    n_shared=len(shared_vars), n_non_seqs=len(non_seq_outer), as_while=condition is not None,
                    keep=(None,) * (len(rec_out) + len(nit_out)))
    op = Scan(inner_inputs, inner_outputs, spec, name=name, mode=mode, truncate_gradient=truncate_gradient)
    results = op(steps, *outer_seqs, *rec_inits, *shared_vars, *non_seq_outer)
    results = results if isinstance(results, list) else [results]

    ordered = [None] * len(outs_info)
    for idx, k in enumerate(rec_pos):
        ordered[k] = results[idx]
    for idx, k in enumerate(nit_pos):
        ordered[k] = results[len(rec_pos) + idx]
    scan_updates = OrderedDict(
        (var, results[len(rec_pos) + len(nit_pos) + i]) for i, var in enumerate(shared_vars))
    if return_list or len(ordered) != 1:
        return ordered, scan_updates
    return ordered[0], scan_updates

