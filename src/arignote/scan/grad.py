"""Backpropagation through time: the gradient of a Scan is another Scan, run backwards.

At forward step t the body maps (sequence slices, recurrent taps, parameters)
to (new states, per-step outputs). Walking t from the last step to the first,
the backward body takes the cotangent of the new states — what the outside
says about H[t], plus what later steps said about it through their taps — and
the cotangent of the per-step outputs, and returns the body's vector-Jacobian
product: cotangents for the taps (carried back to earlier steps), for the
sequence slices (one per step), and for the parameters (accumulated).
With `truncate_gradient=k` only the last k steps are walked.

Limitation: shared state updated inside the loop (a random generator) is not
replayed: the backward body sees its value from before the loop.
"""
from __future__ import annotations

from ..graph.basic import clone_replace


def _is_float(v) -> bool:
    return getattr(v, "dtype", "")[:5] in ("float", "compl")


def scan_gradient(op, inputs, outputs, output_grads):
    from .. import tensor as T
    from ..gradient import DisconnectedType, grad
    from .basic import scan

    spec = op.spec
    n = inputs[0]
    pos = 1
    seqs = inputs[pos: pos + spec.n_seqs]
    pos += spec.n_seqs
    inits = inputs[pos: pos + spec.n_rec]
    pos += spec.n_rec
    shared_inits = inputs[pos: pos + spec.n_shared]
    pos += spec.n_shared
    non_seqs = inputs[pos:]
    recs = outputs[: spec.n_rec]
    nits = outputs[spec.n_rec: spec.n_rec + spec.n_nitsot]

    def cotangent(out, g):
        return T.zeros_like(out) if g is None or isinstance(g.type, DisconnectedType) else g

    g_recs = [cotangent(o, g) for o, g in zip(recs, output_grads[: spec.n_rec])]
    g_nits = [cotangent(o, g) for o, g in zip(nits, output_grads[spec.n_rec: spec.n_rec + spec.n_nitsot])]
    if any(k is not None for k in spec.keep):
        raise NotImplementedError(f"{op}: cannot differentiate a loop that keeps only its last steps")

    # the forward body's placeholders, by role
    fin = op.inner_inputs
    p = 0
    f_seq = fin[p: p + spec.n_seqs]
    p += spec.n_seqs
    f_rec = []  # per recurrent output: [(tap, placeholder)]
    for taps in spec.taps:
        f_rec.append(list(zip(taps, fin[p: p + len(taps)])))
        p += len(taps)
    f_shared = fin[p: p + spec.n_shared]
    p += spec.n_shared
    f_non_seq = fin[p:]
    f_rec_new = op.inner_outputs[: spec.n_rec]
    f_nit = op.inner_outputs[spec.n_rec: spec.n_rec + spec.n_nitsot]

    float_rec = [i for i in range(spec.n_rec) if _is_float(recs[i])]
    float_seq = [s for s in range(spec.n_seqs) if _is_float(seqs[s])]
    float_params = [k for k in range(spec.n_non_seqs) if _is_float(non_seqs[k])]

    n_back = n if op.truncate_gradient is None or op.truncate_gradient < 0 else T.minimum(n, op.truncate_gradient)

    # backward sequences, in forward order first (reversed below)
    back_seqs = [s[:n] for s in seqs]
    tap_values = []
    for i in range(spec.n_rec):
        length = spec.buffer_len(i)
        full = T.concatenate([inits[i][inits[i].shape[0] - length:], recs[i]])
        for tap, _ in f_rec[i]:
            tap_values.append(full[length + tap: length + tap + n])
    back_seqs += tap_values + g_recs + g_nits
    back_seqs = [{"input": s[::-1]} for s in back_seqs]

    carry_slots = [(i, tap) for i in float_rec for tap, _ in f_rec[i]]
    outputs_info = []
    for i, tap in carry_slots:
        if tap == -1:  # a single previous value: scan takes the state itself, not a buffer
            outputs_info.append(T.zeros_like(inits[i][-1]))
        else:
            outputs_info.append({"initial": T.zeros_like(inits[i][inits[i].shape[0] + tap:]), "taps": [tap]})
    outputs_info += [None] * len(float_seq)
    outputs_info += [T.zeros_like(non_seqs[k]) for k in float_params]

    def backward_step(*args):
        it = iter(args)
        b_seq = [next(it) for _ in range(spec.n_seqs)]
        b_rec = [[next(it) for _ in f_rec[i]] for i in range(spec.n_rec)]
        b_grec = [next(it) for _ in range(spec.n_rec)]
        b_gnit = [next(it) for _ in range(spec.n_nitsot)]
        carries = {slot: next(it) for slot in carry_slots}
        accs = [next(it) for _ in float_params]
        replace = dict(zip(f_seq, b_seq))
        for i in range(spec.n_rec):
            replace.update((ph, b) for (_, ph), b in zip(f_rec[i], b_rec[i]))
        replace.update(zip(f_shared, shared_inits))
        replace.update(zip(f_non_seq, non_seqs))
        body = clone_replace(list(f_rec_new) + list(f_nit), replace)
        known = {}
        for i in float_rec:
            total = b_grec[i]
            for tap, _ in f_rec[i]:
                total = total + carries[(i, tap)]
            known[body[i]] = total
        for j in range(spec.n_nitsot):
            if _is_float(body[spec.n_rec + j]):
                known[body[spec.n_rec + j]] = b_gnit[j]
        wrt = ([b_rec[i][t] for i in float_rec for t in range(len(f_rec[i]))]
               + [b_seq[s] for s in float_seq] + [non_seqs[k] for k in float_params])
        if not known or not wrt:
            grads = [T.zeros_like(w) for w in wrt]
        else:
            grads = grad(None, wrt, known_grads=known, disconnected_inputs="ignore")
        grads = [T.cast(g, w.dtype) if g.dtype != w.dtype else g for g, w in zip(grads, wrt)]
        n_carry = len(carry_slots)
        new_carries = grads[:n_carry]
        g_seq = grads[n_carry: n_carry + len(float_seq)]
        g_params = grads[n_carry + len(float_seq):]
        return new_carries + g_seq + [acc + g for acc, g in zip(accs, g_params)]

    results, _ = scan(backward_step, sequences=back_seqs, outputs_info=outputs_info, n_steps=n_back,
                      name=f"grad_of_{op.name or 'scan'}", mode=op.mode, return_list=True)
    n_carry = len(carry_slots)
    if float_params:  # the accumulators: only their final value is needed
        node = results[0].owner
        back_op = node.op
        n_rec_back = back_op.spec.n_rec
        keep = list(back_op.spec.keep)
        for k in range(n_rec_back - len(float_params), n_rec_back):
            keep[k] = 1
        rebuilt = back_op.with_spec(keep=tuple(keep))(*node.inputs)
        rebuilt = rebuilt if isinstance(rebuilt, list) else [rebuilt]
        results = [rebuilt[node.outputs.index(r)] for r in results]
    carry_out = results[:n_carry]
    seq_out = results[n_carry: n_carry + len(float_seq)]
    acc_out = results[n_carry + len(float_seq):]

    input_grads = [DisconnectedType()()]  # n_steps
    # sequences: the backward per-step cotangents, back in forward order, at the steps walked
    seq_grads = {}
    for s, g in zip(float_seq, seq_out):
        zeros = T.zeros_like(seqs[s])
        seq_grads[s] = T.set_subtensor(zeros[n - n_back: n], g[::-1])
    for s in range(spec.n_seqs):
        input_grads.append(seq_grads.get(s, T.zeros_like(seqs[s], dtype="floatX")))
    # initial buffers: tap `tap` at forward steps 0..|tap|-1 read the initial entries
    carries = dict(zip(carry_slots, carry_out))
    for i in range(spec.n_rec):
        init = inits[i]
        if i not in float_rec:
            input_grads.append(T.zeros_like(init, dtype="floatX"))
            continue
        g_init = T.zeros_like(init)
        end = init.shape[0]
        for tap, _ in f_rec[i]:
            g_tap = carries[(i, tap)][::-1]  # forward order over the steps walked
            skipped = T.alloc(T.constant(0, dtype=g_tap.dtype), n - n_back,
                              *[g_tap.shape[d] for d in range(1, g_tap.ndim)])
            full = T.concatenate([skipped, g_tap])
            m = T.minimum(n, -tap)
            g_init = T.inc_subtensor(g_init[end + tap: end + tap + m], full[:m])
        input_grads.append(g_init)
    input_grads.extend(DisconnectedType()() for _ in range(spec.n_shared))
    acc = dict(zip(float_params, acc_out))
    for k in range(spec.n_non_seqs):
        if k in acc:
            input_grads.append(acc[k][-1])
        else:
            input_grads.append(T.zeros_like(non_seqs[k], dtype="floatX") if non_seqs[k].dtype[0] in "biu"
                               else T.zeros_like(non_seqs[k]))
    return input_grads
