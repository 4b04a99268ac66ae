"""The targets table of issue 5: arignote's FAST_RUN against each target, PASS or MISS.

run.py prints it last, from the results of one run (medians where --repeat > 1):

| target | goal | needs |
|---|---|---|
| W1 call overhead, 10-element vector | <= 2 us | W1 |
| W2 fused elementwise, 1e7 float32 | <= 0.4x NumPy | W2_1e7 |
| W3 logistic-regression step | <= 0.5x the fastest peer | W3 |
| W4 MLP step | <= 1.0x the fastest peer | W4 |
| W5 GRU sentence step | <= 0.5x the fastest peer | W5 |
| W7 scan A**k, k=1000 | <= 1.0x the fastest peer | W7 |
| time to first result, empty cache, W3/W4/W5 | <= 1.0x JAX's jit | W3_first ... (cold) |
| time until native speed, empty cache, W5 | <= 5 s | W5_first (native_s) |
| function() + first call, warm cache, W3/W4/W5 | <= 50 ms | W3_first ... (warm_s) |

Peers are every implementation but arignote (and its alias theano). A row reads
n/a where a figure it needs did not run or an implementation did not report it
(an arignote without tiering reports no native_s); FAIL where the arignote run
failed. The reference column is informative where the goal is absolute.
"""
from collections import namedtuple

SUBJECTS = ("arignote:FAST_RUN", "arignote", "theano:FAST_RUN", "theano")  # the first present is judged
PROJECT = {"arignote", "theano"}
SCALE = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}

# kind: "time" (steady state, absolute), "vs_numpy", "vs_fastest" (steady-state ratios),
# "first_vs_jax" (cold time to first result over JAX's), "native" and "warm" (absolute).
Target = namedtuple("Target", "name workload kind goal")
TARGETS = [
    Target("W1 call overhead, 10-element vector", "W1", "time", 2e-6),
    Target("W2 fused elementwise, 1e7 float32", "W2_1e7", "vs_numpy", 0.4),
    Target("W3 logistic-regression step", "W3", "vs_fastest", 0.5),
    Target("W4 MLP step", "W4", "vs_fastest", 1.0),
    Target("W5 GRU sentence step", "W5", "vs_fastest", 0.5),
    Target("W7 scan A**k, k=1000", "W7", "vs_fastest", 1.0),
    Target("time to first result (function() + first call), empty cache, W3", "W3_first", "first_vs_jax", 1.0),
    Target("time to first result (function() + first call), empty cache, W4", "W4_first", "first_vs_jax", 1.0),
    Target("time to first result (function() + first call), empty cache, W5", "W5_first", "first_vs_jax", 1.0),
    Target("time until native speed, empty cache, W5", "W5_first", "native", 5.0),
    Target("function() + first call, warm cache, W3", "W3_first", "warm", 0.05),
    Target("function() + first call, warm cache, W4", "W4_first", "warm", 0.05),
    Target("function() + first call, warm cache, W5", "W5_first", "warm", 0.05),
]
GOAL_TEXT = {"time": "<= {}", "vs_numpy": "<= {:.1f}x NumPy", "vs_fastest": "<= {:.1f}x the fastest peer",
             "first_vs_jax": "<= {:.1f}x JAX's jit", "native": "<= {}", "warm": "<= {}"}
# what the reference column shows, per kind
REFERENCE_TEXT = {"time": "fastest peer", "vs_numpy": "numpy", "vs_fastest": "fastest peer",
                  "first_vs_jax": "jax", "native": "pytensor: function() + first call, empty cache",
                  "warm": "fastest peer, warm cache"}


def _find(results, label, workload):
    return next((x for x in results if x["label"] == label and x["workload"] == workload), None)


def _name(label):
    return label.split(":")[0]


def duration_text(sec):
    """A duration in seconds, in the unit that suits it (run.py's tables use it too)."""
    if sec is None:
        return "n/a"
    for unit in ("s", "ms", "us"):
        if abs(sec) >= SCALE[unit] or unit == "us":
            return f"{sec / SCALE[unit]:.3g} {unit}"


def _steady_s(r):
    return r["value"] * SCALE[r["unit"]]


def _figure(kind, r):
    """The seconds a target of `kind` reads from result `r` (None: not reported)."""
    if kind in ("time", "vs_numpy", "vs_fastest", "first_vs_jax"):
        return _steady_s(r)
    if kind == "native":
        return r.get("native_s")
    return r.get("warm_s")


def _ok_figures(results, labels, workload, kind, keep):
    """{label: seconds} of the successful results on `workload` whose label `keep` accepts."""
    out = {}
    for lab in labels:
        r = _find(results, lab, workload)
        if keep(lab) and r is not None and r.get("ok") and _figure(kind, r) is not None:
            out[lab] = _figure(kind, r)
    return out


def _reference(results, labels, t):
    """(reference seconds or None, its text) for target `t`."""
    peer = lambda lab: _name(lab) not in PROJECT
    if t.kind == "native":
        # PyTensor reaches its speed once compiled: its cold function() + first call;
        # every mode is listed (C fails on Scan graphs)
        cells = []
        for lab in labels:
            r = _find(results, lab, t.workload)
            if _name(lab) == "pytensor" and r is not None:
                cells.append(f"{lab} {duration_text(_steady_s(r)) if r.get('ok') else 'FAIL'}")
        return None, "; ".join(cells) or "n/a (pytensor not run)"
    keep = {"vs_numpy": lambda lab: _name(lab) == "numpy",
            "first_vs_jax": lambda lab: _name(lab) == "jax"}.get(t.kind, peer)
    figures = _ok_figures(results, labels, t.workload, t.kind, keep)
    if not figures:
        failed = [lab for lab in labels if keep(lab) and not (_find(results, lab, t.workload) or {"ok": 1})["ok"]]
        return None, f"n/a ({REFERENCE_TEXT[t.kind]}: {'FAIL' if failed else 'not run'})"
    best = min(figures, key=figures.get)
    return figures[best], f"{best} {duration_text(figures[best])}"


def evaluate(results, labels, subject, t):
    """(arignote's figure text, reference text, score text, verdict) of target `t`."""
    ref_s, ref_text = _reference(results, labels, t)
    r = _find(results, subject, t.workload)
    if r is None:
        return f"n/a ({t.workload} not run)", ref_text, "n/a", "n/a"
    if not r.get("ok"):
        return "FAIL", ref_text, "n/a", "FAIL"
    value = _figure(t.kind, r)
    if value is None:
        why = {"native": "never native" if r.get("native") is False else "no native_s reported",
               "warm": "no warm run"}.get(t.kind, "not reported")
        return f"n/a ({why})", ref_text, "n/a", "MISS" if r.get("native") is False else "n/a"
    # a steady state off the native version is flagged; a first result is expected to be off it
    steady = t.kind in ("time", "vs_numpy", "vs_fastest")
    text = duration_text(value) + (" (NOT native)" if steady and r.get("native") is False else "")
    if t.kind in ("vs_numpy", "vs_fastest", "first_vs_jax"):
        if ref_s is None:
            return text, ref_text, "n/a", "n/a"
        score = value / ref_s
        return text, ref_text, f"{score:.2f}x", "PASS" if score <= t.goal else "MISS"
    return text, ref_text, duration_text(value), "PASS" if value <= t.goal else "MISS"


def _goal_text(t):
    absolute = t.kind in ("time", "native", "warm")
    return GOAL_TEXT[t.kind].format(duration_text(t.goal) if absolute else t.goal)


def print_targets_table(results, labels):
    subject = next((s for s in SUBJECTS if s in labels), None)
    print("\nTargets (issue 5): arignote's FAST_RUN against each goal; steady states at native "
          "speed (compile_wait on), times to first result in the default tiered settings; "
          "ratio = arignote / reference; PASS when within the goal.\n")
    if subject is None:
        print("(no arignote:FAST_RUN results: nothing to judge)")
        return
    print(f"| target | goal | {subject} | reference | ratio / value | result |")
    print("|---|---|---|---|---|---|")
    for t in TARGETS:
        value, ref, score, verdict = evaluate(results, labels, subject, t)
        print(f"| {t.name} | {_goal_text(t)} | {value} | {ref} | {score} | {verdict} |")
