"""Rewrites of loops: move work out of the body, drop what nobody reads, merge twin loops.

* push out invariants: body computations on non-sequences only are done once, before the loop;
* push out sequences: elementwise work and `dot(x_t, W)` on sequence slices become one
  operation over the whole sequence (a matrix product instead of n vector products);
* drop unused outputs: per-step outputs, and states nothing else reads, that no one uses;
* merge loops that run the same number of steps over the same sequences.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from ..graph.basic import Constant, clone_replace, io_toposort
from .op import Scan, ScanSpec


@dataclass
class ScanParts:
    """A Scan node taken apart by role, to be edited and rebuilt."""

    op: Scan
    n_steps: object
    seqs: list  # [(placeholder, outer sequence)]
    recs: list  # [(taps, placeholders, outer init buffer, inner new state, keep)]
    nits: list  # [(inner output, keep)]
    shared: list  # [(placeholder, outer value, inner new value)]
    non_seqs: list  # [(placeholder, outer value)]
    condition: object = None
    outer_of_output: list = field(default_factory=list)  # node output -> role key, for rebuilding

    @classmethod
    def of(cls, node) -> "ScanParts":
        op, spec = node.op, node.op.spec
        ins, outs = op.inner_inputs, op.inner_outputs
        outer = node.inputs
        p, q = 0, 1
        seqs = [(ins[p + k], outer[q + k]) for k in range(spec.n_seqs)]
        p += spec.n_seqs
        q += spec.n_seqs
        recs = []
        for i, taps in enumerate(spec.taps):
            recs.append((taps, ins[p: p + len(taps)], outer[q + i], outs[i], spec.keep[i]))
            p += len(taps)
        q += spec.n_rec
        nits = [(outs[spec.n_rec + j], spec.keep[spec.n_rec + j]) for j in range(spec.n_nitsot)]
        base = spec.n_rec + spec.n_nitsot
        shared = [(ins[p + k], outer[q + k], outs[base + k]) for k in range(spec.n_shared)]
        p += spec.n_shared
        q += spec.n_shared
        non_seqs = [(ins[p + k], outer[q + k]) for k in range(spec.n_non_seqs)]
        condition = outs[-1] if spec.as_while else None
        keys = [("rec", i) for i in range(spec.n_rec)] + [("nit", j) for j in range(spec.n_nitsot)] + \
               [("shared", k) for k in range(spec.n_shared)]
        return cls(op, outer[0], seqs, recs, nits, shared, non_seqs, condition, keys)

    def inner_outputs(self) -> list:
        outs = [r[3] for r in self.recs] + [n[0] for n in self.nits] + [s[2] for s in self.shared]
        return outs + ([self.condition] if self.condition is not None else [])

    def replace_inner(self, mapping: dict) -> None:
        """Substitute inner variables everywhere in the body."""
        new = clone_replace(self.inner_outputs(), mapping)
        k = 0
        self.recs = [(t, ph, init, new[k + i], keep) for i, (t, ph, init, _, keep) in enumerate(self.recs)]
        k += len(self.recs)
        self.nits = [(new[k + j], keep) for j, (_, keep) in enumerate(self.nits)]
        k += len(self.nits)
        self.shared = [(ph, o, new[k + s]) for s, (ph, o, _) in enumerate(self.shared)]
        k += len(self.shared)
        if self.condition is not None:
            self.condition = new[k]

    def prune_inputs(self) -> None:
        """Forget sequences and non-sequences the body no longer reads."""
        from ..graph.basic import ancestors

        used = {id(v) for v in ancestors(self.inner_outputs())}
        self.seqs = [(ph, o) for ph, o in self.seqs if id(ph) in used]
        self.non_seqs = [(ph, o) for ph, o in self.non_seqs if id(ph) in used]

    def build(self) -> list:
        """A new Scan applied to the outer inputs; returns its outputs."""
        inner_inputs = [ph for ph, _ in self.seqs] + [ph for r in self.recs for ph in r[1]] + \
                       [ph for ph, _, _ in self.shared] + [ph for ph, _ in self.non_seqs]
        spec = ScanSpec(n_seqs=len(self.seqs), taps=tuple(r[0] for r in self.recs), n_nitsot=len(self.nits),
                        n_shared=len(self.shared), n_non_seqs=len(self.non_seqs),
                        as_while=self.condition is not None,
                        keep=tuple(r[4] for r in self.recs) + tuple(n[1] for n in self.nits))
        op = Scan(inner_inputs, self.inner_outputs(), spec, self.op.name, self.op.mode, self.op.truncate_gradient)
        outer = [o for _, o in self.seqs] + [r[2] for r in self.recs] + [o for _, o, _ in self.shared] + \
                [o for _, o in self.non_seqs]
        outs = op(self.n_steps, *outer)
        return outs if isinstance(outs, list) else [outs]


def _replace_node(fgraph, node, parts: ScanParts, old_keys: list, name: str, trace) -> None:
    """Swap `node` for the rebuilt loop, mapping outputs by role."""
    new_outs = parts.build()
    new_keys = [("rec", i) for i in range(len(parts.recs))] + [("nit", j) for j in range(len(parts.nits))] + \
               [("shared", k) for k in range(len(parts.shared))]
    by_key = dict(zip(new_keys, new_outs))
    for old_out, key in zip(node.outputs, old_keys):
        new = by_key.get(key)
        if new is not None and fgraph.clients.get(old_out):
            fgraph.replace(old_out, new, reason=name)
            trace.record(name, old_out, new)


# --- push out of the loop ------------------------------------------------------------------------------


def push_out(fgraph) -> int:
    """Move loop-invariant and whole-sequence work out of every Scan body."""
    from ..rewriting.engine import trace_of
    from ..tensor.blas import Dot, dot
    from ..tensor.elemwise import DimShuffle, Elemwise

    trace = trace_of(fgraph)
    changed = 0
    for node in list(fgraph.toposort()):
        if not isinstance(node.op, Scan) or node not in fgraph.apply_nodes:
            continue
        parts = ScanParts.of(node)
        invariant = {ph: outer for ph, outer in parts.non_seqs}
        per_step = {ph: outer for ph, outer in parts.seqs}
        body_inputs = [ph for ph, _ in parts.seqs] + [ph for r in parts.recs for ph in r[1]] + \
                      [ph for ph, _, _ in parts.shared] + [ph for ph, _ in parts.non_seqs]
        pushed_inv, pushed_seq = {}, {}
        from_constants = set()  # body values computed from constants only: they may stay inside
        for inner in io_toposort(body_inputs, parts.inner_outputs()):
            if getattr(inner.op, "destroy_map", None) or isinstance(inner.op, Scan) or len(inner.outputs) != 1:
                continue
            ins = inner.inputs
            if all(i in invariant or isinstance(i, Constant) for i in ins):
                outer = inner.op.make_node(*[invariant.get(i, i) for i in ins]).outputs[0]
                if all(isinstance(i, Constant) or i in from_constants for i in ins):
                    from_constants.add(inner.outputs[0])
                invariant[inner.outputs[0]] = outer
                pushed_inv[inner.outputs[0]] = outer
                continue
            if not all(i in invariant or i in per_step or isinstance(i, Constant) for i in ins):
                continue
            outer = None
            if isinstance(inner.op, Elemwise):
                outer = inner.op(*[per_step[i] if i in per_step else invariant.get(i, i) for i in ins])
            elif isinstance(inner.op, DimShuffle) and ins[0] in per_step:
                order = (0,) + tuple("x" if d == "x" else d + 1 for d in inner.op.new_order)
                outer = per_step[ins[0]].dimshuffle(*order)
            elif isinstance(inner.op, Dot) and ins[0] in per_step and ins[0].ndim == 1 and ins[1] in invariant:
                outer = dot(per_step[ins[0]], invariant[ins[1]])
            if outer is None or outer.ndim != inner.outputs[0].ndim + 1 or outer.dtype != inner.outputs[0].dtype:
                continue
            per_step[inner.outputs[0]] = outer
            pushed_seq[inner.outputs[0]] = outer
        if not pushed_inv and not pushed_seq:
            continue
        # route only the frontier: pushed values the remaining body still reads
        remaining = set()
        for inner in io_toposort(body_inputs, parts.inner_outputs()):
            if inner.outputs[0] in pushed_inv or inner.outputs[0] in pushed_seq:
                continue
            remaining.update(inner.inputs)
        frontier = [v for v in list(pushed_inv) + list(pushed_seq)
                    if (v in remaining or v in parts.inner_outputs()) and v not in from_constants]
        if not frontier:
            continue
        mapping = {}
        for v in frontier:
            ph = v.type()
            mapping[v] = ph
            if v in pushed_inv:
                parts.non_seqs.append((ph, pushed_inv[v]))
            else:
                parts.seqs.append((ph, pushed_seq[v]))
        old_keys = list(parts.outer_of_output)
        parts.replace_inner(mapping)
        parts.prune_inputs()
        _replace_node(fgraph, node, parts, old_keys, "scan_push_out", trace)
        changed += 1
    return changed


# --- drop what nobody reads ----------------------------------------------------------------------------------


def drop_unused_outputs(fgraph) -> int:
    from ..graph.basic import ancestors
    from ..rewriting.engine import trace_of

    trace = trace_of(fgraph)
    changed = 0
    for node in list(fgraph.toposort()):
        if not isinstance(node.op, Scan) or node not in fgraph.apply_nodes:
            continue
        parts = ScanParts.of(node)
        old_keys = list(parts.outer_of_output)
        used = [bool(fgraph.clients.get(o)) for o in node.outputs]
        n_rec, n_nit = len(parts.recs), len(parts.nits)
        keep_nits = [j for j in range(n_nit) if used[n_rec + j]]
        # a state may go if nobody outside reads it and no other part of the body does
        drop_recs = set()
        for i in range(n_rec):
            if used[i]:
                continue
            others = [r[3] for k, r in enumerate(parts.recs) if k != i] + [parts.nits[j][0] for j in keep_nits] + \
                     [s[2] for s in parts.shared] + ([parts.condition] if parts.condition is not None else [])
            readers = {id(v) for v in ancestors(others)}
            if not any(id(ph) in readers for ph in parts.recs[i][1]):
                drop_recs.add(i)
        if not drop_recs and len(keep_nits) == n_nit:
            continue
        parts.recs = [r for i, r in enumerate(parts.recs) if i not in drop_recs]
        parts.nits = [parts.nits[j] for j in keep_nits]
        new_keys = [k for k in old_keys if not (k[0] == "rec" and k[1] in drop_recs)
                    and not (k[0] == "nit" and k[1] not in keep_nits)]
        renumber = {}
        for kind in ("rec", "nit", "shared"):
            for new_idx, key in enumerate(k for k in new_keys if k[0] == kind):
                renumber[key] = (kind, new_idx)
        if not parts.recs and not parts.nits and not parts.shared:
            continue
        parts.prune_inputs()
        _replace_node(fgraph, node, parts, [renumber.get(k, ("gone", -1)) for k in old_keys],
                      "scan_drop_unused_outputs", trace)
        changed += 1
    return changed


# --- merge twin loops -----------------------------------------------------------------------------------


def merge_scans(fgraph) -> int:
    """Two loops over the same sequences for the same number of steps become one."""
    from ..rewriting.engine import trace_of

    trace = trace_of(fgraph)
    changed = 0
    scans = [n for n in fgraph.toposort() if isinstance(n.op, Scan)]
    merged = set()
    for a_pos, a in enumerate(scans):
        if a in merged or a not in fgraph.apply_nodes:
            continue
        for b in scans[a_pos + 1:]:
            if b in merged or b not in fgraph.apply_nodes:
                continue
            if not _mergeable(fgraph, a, b):
                continue
            pa, pb = ScanParts.of(a), ScanParts.of(b)
            mapping = {ph_b: ph_a for (ph_b, ob) in pb.seqs for (ph_a, oa) in pa.seqs if oa is ob}
            if mapping:
                pb.replace_inner(mapping)
            combined = replace(pa, seqs=pa.seqs + [s for s in pb.seqs if s[0] not in mapping],
                               recs=pa.recs + pb.recs, nits=pa.nits + pb.nits, shared=pa.shared + pb.shared,
                               non_seqs=pa.non_seqs + pb.non_seqs)
            new_outs = combined.build()
            n_ra, n_na, n_sa = len(pa.recs), len(pa.nits), len(pa.shared)
            n_rb, n_nb = len(pb.recs), len(pb.nits)
            total_rec = n_ra + n_rb
            a_map = list(range(n_ra)) + [total_rec + j for j in range(n_na)] + \
                [total_rec + n_na + n_nb + k for k in range(n_sa)]
            b_map = [n_ra + i for i in range(n_rb)] + [total_rec + n_na + j for j in range(n_nb)] + \
                [total_rec + n_na + n_nb + n_sa + k for k in range(len(pb.shared))]
            for node, positions in ((a, a_map), (b, b_map)):
                for old, pos in zip(node.outputs, positions):
                    if fgraph.clients.get(old):
                        fgraph.replace(old, new_outs[pos], reason="scan_merge")
                        trace.record("scan_merge", old, new_outs[pos])
            merged.update((a, b))
            changed += 1
            break
    return changed


def _mergeable(fgraph, a, b) -> bool:
    from ..graph.basic import ancestors

    sa, sb = a.op.spec, b.op.spec
    if sa.as_while or sb.as_while or a.inputs[0] is not b.inputs[0]:
        return False
    if a.op.mode != b.op.mode or a.op.truncate_gradient != b.op.truncate_gradient:
        return False
    seqs_a = a.inputs[1: 1 + sa.n_seqs]
    seqs_b = b.inputs[1: 1 + sb.n_seqs]
    if not seqs_a or not any(s in seqs_a for s in seqs_b):
        return False
    # neither may depend on the other
    anc_b = {id(v) for v in ancestors(b.inputs)}
    anc_a = {id(v) for v in ancestors(a.inputs)}
    return not any(id(o) in anc_b for o in a.outputs) and not any(id(o) in anc_a for o in b.outputs)
