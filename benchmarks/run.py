"""Run workloads for several implementations, each in a fresh process; print tables.

    python benchmarks/run.py --impl arignote:FAST_RUN --impl pytensor:NUMBA@/path/to/py312 \\
                             --impl numpy --impl jax --workloads W1,W3,W5,W7_mem --json out.json

An --impl is NAME[:MODE][@PYTHON]. NAME is a Theano-API module (arignote, pytensor,
theano) or a native one (numpy, jax, torch, torch_compile). Theano-API ones run
twice per timed workload: first with an empty compile cache (cold), then warm; the
table shows the warm run's time and both compile times.

After the time table comes the ratios table (each implementation's time divided by
the fastest peer's: see RATIO_RULE), if W7_mem was asked for, the memory table
of scan_memory.py, and last the targets table of issue 5 (targets.py): arignote's
FAST_RUN against each target, PASS or MISS.

A workload named W3_first (any timed workload + "_first") measures the time to
first result: function() + first call in a fresh process, default settings
(arignote: tiered). Theano-API implementations run it twice on one fresh compile
cache: cold (empty cache; also records native_s, the seconds until arignote's
calls run natively), then warm (warm_s). Natives run it once (NumPy: not at all).

--repeat N runs every timed workload N times, interleaved over the implementations
(so that a burst of other load hits one pass of each rather than all runs of one),
and reports the medians.

--wait-quiet FRAC waits, before each process, until this machine's CPUs have been
at most FRAC busy (0..1, over 2 s; at most --wait-max seconds), so that other work
on a shared machine disturbs the timings less; every result records the busy
fraction seen just before it started (busy_before).
"""
import argparse
import json
import os
import re
import subprocess
import statistics
import sys
import tempfile
import time

import targets

HERE = os.path.dirname(os.path.abspath(__file__))
NATIVE = {"numpy", "jax", "torch", "torch_compile"}
PROJECT = {"arignote", "theano"}  # in this project `theano` is arignote's alias
FIRST = "_first"  # workload suffix: time to first result, cold and warm cache
ALL = ["W1", "W2_1e6", "W2_1e7", "W3", "W4", "W5", "W7", "W7_mem", "W3_first", "W4_first", "W5_first"]
MEMORY = "W7_mem"
RATIO_RULE = ("ratio = this implementation's median time / the fastest peer's median time on the "
              "same workload; peers = every implementation except arignote; warm runs, compile time "
              "excluded; 1.00 marks the fastest peer, below 1 is faster than every peer")
SECONDS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}


def run_one(name, mode, python, workload, cache_dir):
    if workload == MEMORY:
        script = "scan_memory.py"
    else:
        script = "natives.py" if name in NATIVE else "workloads.py"
    # the workload files import each other (timing, tiering); keep the caller's own path after them
    path = os.pathsep.join(filter(None, [HERE, os.environ.get("PYTHONPATH", "")]))
    env = dict(os.environ, IMPL=name, MODE=mode or "", PYTHONPATH=path)
    if cache_dir:  # isolate every compile cache we know of, keeping the user's other flags
        # base_compiledir too: PyTensor keeps its numba cache there, not under compiledir
        cache = f"base_compiledir={cache_dir},compiledir={cache_dir}"
        for var in ("ARIGNOTE_FLAGS", "PYTENSOR_FLAGS", "THEANO_FLAGS"):
            env[var] = ",".join(filter(None, [os.environ.get(var, ""), cache]))
        env["NUMBA_CACHE_DIR"] = os.path.join(cache_dir, "numba")
    try:
        p = subprocess.run([python, os.path.join(HERE, script), workload], env=env,
                           capture_output=True, text=True, timeout=1800)
    except subprocess.TimeoutExpired:
        return dict(ok=False, error="timed out after 1800 s", workload=workload, impl=name)
    except OSError as e:  # e.g. a peer's interpreter that was never set up
        return dict(ok=False, error=_scrub(f"cannot run {python}: {e}"), workload=workload, impl=name)
    lines = [l for l in p.stdout.splitlines() if l.startswith("{")]
    if not lines:
        return dict(ok=False, error=_scrub((p.stderr or p.stdout)[-300:]), workload=workload, impl=name)
    r = json.loads(lines[-1])
    if "error" in r:
        r["error"] = _scrub(r["error"])
    if r.get("native") is False:  # say why: the library warns when its native build fails
        said = [l.split("Warning: ", 1)[1] for l in p.stderr.splitlines() if "Warning: " in l]
        r["native_warnings"] = [_scrub(w)[:300] for w in dict.fromkeys(said)][-3:]
    return r


def _scrub(text):
    """Keep machine-specific absolute paths out of recorded results."""
    return re.sub(r"(/[\w.+-]+){2,}", "<path>", text)


def _cpu_times():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return sum(v), v[3] + v[4]  # total, idle + iowait


def busy_fraction(window=2.0):
    """Fraction of all CPUs busy over `window` seconds (None where /proc/stat is missing)."""
    try:
        t0, i0 = _cpu_times()
        time.sleep(window)
        t1, i1 = _cpu_times()
    except OSError:
        return None
    return 1.0 - (i1 - i0) / max(t1 - t0, 1)


def wait_quiet(frac, max_wait):
    """Wait until the CPUs are at most `frac` busy, or `max_wait` seconds; the last reading."""
    deadline = time.monotonic() + max_wait
    while True:
        b = busy_fraction()
        if b is None or frac is None or b <= frac or time.monotonic() > deadline:
            return b


def seconds(r):
    return r["value"] * SECONDS[r["unit"]]


def is_peer(label):
    return label.split(":")[0] not in PROJECT


def applies(name, workload):
    """Whether implementation `name` runs `workload`: NumPy builds nothing, so it has no
    time to first result."""
    return not (workload.endswith(FIRST) and name == "numpy")


def _first_cell(r):
    """A time-to-first-result cell: cold (the value), warm, and until native."""
    dur = targets.duration_text
    c = dur(r["value"])
    if len(r.get("values", [])) > 1:
        c += f" [{dur(min(r['values']))}-{dur(max(r['values']))}]"
    notes = []
    if r.get("warm_s") is not None:
        notes.append(f"warm {dur(r['warm_s'])}")
    if is_peer(r["label"]):  # peers are at their speed once the first call returns
        return c + (f" ({'; '.join(notes)})" if notes else "")
    for run, native, native_s in (("cold", r.get("native"), r.get("native_s")),
                                  ("warm", r.get("native_warm"), r.get("native_warm_s"))):
        if native_s is not None:
            notes.append(f"native after {dur(native_s)} {run}")
        elif native is False:
            notes.append(f"never native {run}")
    return c + (f" ({'; '.join(notes)})" if notes else "")


def print_time_table(results, workloads, labels):
    print("\n| workload | " + " | ".join(labels) + " |")
    print("|---|" + "---|" * len(labels))
    for w in workloads:
        cells = []
        for lab in labels:
            r = _find(results, lab, w)
            if r is None:
                cells.append("")
            elif not r.get("ok"):
                cells.append("FAIL")
            elif w.endswith(FIRST):
                cells.append(_first_cell(r))
            else:
                c = f"{r['value']:.4g} {r['unit']}"
                if len(r.get("values", [])) > 1:
                    c += f" [{min(r['values']):.3g}-{max(r['values']):.3g}]"
                if "compile_cold_s" in r:
                    c += f" (compile {r['compile_cold_s']:.2g}s cold / {r['compile_s']:.2g}s warm)"
                elif r.get("compile_s"):
                    c += f" (compile {r['compile_s']:.2g}s)"
                if r.get("native") is False:
                    c += " (NOT native)"
                cells.append(c)
        print(f"| {w} | " + " | ".join(cells) + " |")
    fails = [r for r in results if not r.get("ok") and r["workload"] in workloads]
    for r in fails:
        print(f"FAIL {r['label']} {r['workload']}: {r.get('error', '')}")
    for r in results:
        if r["workload"] in workloads and r.get("native") is False:
            why = "; ".join(r.get("native_warnings", [])) or "no warning printed"
            print(f"never native {r['label']} {r['workload']}: {why}")


def ratios(results, workloads, labels):
    """{workload: (fastest peer label or None, {label: ratio or None})}."""
    out = {}
    for w in workloads:
        ok = {lab: _find(results, lab, w) for lab in labels}
        ok = {lab: r for lab, r in ok.items() if r is not None and r.get("ok")}
        peers = {lab: seconds(r) for lab, r in ok.items() if is_peer(lab)}
        if not peers:
            out[w] = (None, {lab: None for lab in labels})
            continue
        best = min(peers, key=peers.get)
        out[w] = (best, {lab: (seconds(ok[lab]) / peers[best] if lab in ok else None) for lab in labels})
    return out


def print_ratio_table(results, workloads, labels):
    table = ratios(results, workloads, labels)
    print("\nRatios (" + RATIO_RULE + "):\n")
    print("| workload | fastest peer | " + " | ".join(labels) + " |")
    print("|---|---|" + "---|" * len(labels))
    for w in workloads:
        best, rs = table[w]
        if best is None:
            head = "no peer ran"
        else:
            r = _find(results, best, w)
            head = f"{best} ({r['value']:.4g} {r['unit']})"
        cells = ["FAIL" if _find(results, lab, w) is not None and rs[lab] is None else
                 ("" if rs[lab] is None else f"{rs[lab]:.2f}") for lab in labels]
        print(f"| {w} | {head} | " + " | ".join(cells) + " |")
    return table


def _bytes(n):
    if n is None:
        return "n/a"
    if abs(n) < 1 << 20:
        return f"{n / 1024:.1f} KiB"
    return f"{n / (1 << 20):.1f} MiB"


def print_memory_table(results, labels):
    rows = [r for r in results if r["workload"] == MEMORY]
    if not rows:
        return
    ks = next((tuple(x["k"] for x in r["rows"]) for r in rows if r.get("ok")), (1000, 10000, 100000))
    print("\nW7_mem: peak memory of one call computing A**k by a loop keeping only its last step "
          "(A: 1000 float64); tracemalloc peak / peak resident-set growth during the call. "
          "Keeping every step would need k*8000 bytes; the control keeps every step at k=10_000 "
          "and shows the measures do see that. n/a: tracemalloc does not see that allocator.\n")
    print("| implementation | " + " | ".join(f"k={k:_}" for k in ks) + " | flat in k (traced / RSS) | control: keep all, k=10_000 |")
    print("|---|" + "---|" * (len(ks) + 2))
    for lab in labels:
        r = _find(results, lab, MEMORY)
        if r is None:
            continue
        if not r.get("ok"):
            print(f"| {lab} | " + " | ".join(["FAIL"] * len(ks)) + f" | FAIL: {r.get('error', '')[:120]} | |")
            continue
        cells = [f"{_bytes(x['tracemalloc_peak_bytes'])} / {_bytes(x['rss_peak_growth_bytes'])}" for x in r["rows"]]
        c = r.get("control_keep_all")
        ctrl = f"{_bytes(c['tracemalloc_peak_bytes'])} / {_bytes(c['rss_peak_growth_bytes'])}" if c else "n/a"
        yn = {True: "yes", False: "NO", None: "n/a"}
        flat = f"{yn[r.get('flat_tracemalloc')]} / {yn[r.get('flat_rss')]}"
        print(f"| {lab} | " + " | ".join(cells) + f" | {flat} | {ctrl} |")
    print("| (keep every step: k*8000 B) | " + " | ".join(_bytes(k * 8000) for k in ks) + f" | no | {_bytes(10_000 * 8000)} |")


def _find(results, label, workload):
    return next((x for x in results if x["label"] == label and x["workload"] == workload), None)


def project_revision():
    """The project's git commit (+ '-dirty' when src/ has uncommitted changes), or None."""
    root = os.path.dirname(HERE)
    try:
        rev = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, timeout=30).stdout.strip()
        dirty = subprocess.run(["git", "-C", root, "status", "--porcelain", "--", "src"],
                               capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return (rev + ("-dirty" if dirty else "")) or None


def measure(name, mode, python, w, a):
    """One result of workload `w`: cold + warm processes for Theano-API timings."""
    if w.endswith(FIRST) and name not in NATIVE:
        r, busy = measure_first(name, mode, python, w, a)
    elif name in NATIVE:
        busy = wait_quiet(a.wait_quiet, a.wait_max)
        r = run_one(name, mode, python, w, None)
    elif w == MEMORY:
        with tempfile.TemporaryDirectory() as d:
            busy = wait_quiet(a.wait_quiet, a.wait_max)
            r = run_one(name, mode, python, w, d)
    else:
        with tempfile.TemporaryDirectory() as d:
            wait_quiet(a.wait_quiet, a.wait_max)
            cold = run_one(name, mode, python, w, d)
            busy = wait_quiet(a.wait_quiet, a.wait_max)
            r = run_one(name, mode, python, w, d)
            r["compile_cold_s"] = cold.get("compile_s")
            if not cold.get("ok"):
                r = cold
    r["label"] = f"{name}:{mode}" if mode else name
    r["busy_before"] = busy
    if name in PROJECT:  # the code under test may change between passes: say which it was
        r["revision"] = project_revision()
    return r


def measure_first(name, mode, python, w, a):
    """Time to first result on an empty compile cache, then on the cache it left:
    (the cold result with warm_s, native_warm_s and native_warm added, busy fraction before the cold run)."""
    with tempfile.TemporaryDirectory() as d:
        busy = wait_quiet(a.wait_quiet, a.wait_max)
        cold = run_one(name, mode, python, w, d)
        if not cold.get("ok"):
            return cold, busy
        wait_quiet(a.wait_quiet, a.wait_max)
        warm = run_one(name, mode, python, w, d)
    if not warm.get("ok"):
        return dict(warm, error="warm run: " + warm.get("error", "")), busy
    return dict(cold, warm_s=seconds(warm), native_warm_s=warm.get("native_s"), native_warm=warm.get("native")), busy


def combine(runs):
    """One result from the repeated runs of one implementation on one workload: the
    median of their figures; a failure in any run makes the whole a failure."""
    bad = [r for r in runs if not r.get("ok")]
    if bad or len(runs) == 1:
        r = dict(bad[0] if bad else runs[0])
        if bad and len(runs) > 1:
            r["error"] = f"failed in {len(bad)} of {len(runs)} runs: {r.get('error', '')}"
        r["runs"] = len(runs)
        return r
    r = dict(runs[0])
    for key in ("value", "compile_s", "compile_cold_s", "warm_s", "native_s", "native_warm_s"):
        if all(x.get(key) is not None for x in runs):
            r[key] = statistics.median(x[key] for x in runs)
    r["values"] = [x["value"] for x in runs]
    r["busy_before"] = [x["busy_before"] for x in runs]
    for key in ("native", "native_warm"):  # one pass off the native version taints the median
        if any(x.get(key) is False for x in runs):
            r[key] = False
    if any("revision" in x for x in runs):
        r["revision"] = [x.get("revision") for x in runs]
    r["runs"] = len(runs)
    return r


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--impl", action="append", required=True)
    ap.add_argument("--workloads", default=",".join(ALL))
    ap.add_argument("--json")
    ap.add_argument("--repeat", type=int, default=1, metavar="N",
                    help="run every timed workload N times, interleaved over the implementations, "
                         "and report the median (W7_mem runs once)")
    ap.add_argument("--wait-quiet", type=float, default=None, metavar="FRAC")
    ap.add_argument("--wait-max", type=float, default=600.0, metavar="SECONDS")
    a = ap.parse_args()
    workloads = a.workloads.split(",")
    impls = []
    for spec in a.impl:
        spec, _, python = spec.partition("@")
        name, _, mode = spec.partition(":")
        impls.append((name, mode, python or sys.executable))
    raw = []
    for rep in range(a.repeat):
        for name, mode, python in impls:
            for w in workloads:
                if (w == MEMORY and rep) or not applies(name, w):
                    continue
                r = measure(name, mode, python, w, a)
                r["rep"] = rep
                raw.append(r)
                print(json.dumps(r), flush=True)
    labels = list(dict.fromkeys(r["label"] for r in raw))
    results = [combine([r for r in raw if r["label"] == lab and r["workload"] == w])
               for lab in labels for w in workloads
               if any(r["label"] == lab and r["workload"] == w for r in raw)]
    timed = [w for w in workloads if w != MEMORY]
    if timed:
        if a.repeat > 1:
            print(f"\nEach figure: the median of {a.repeat} runs in fresh processes "
                  "(each run itself the median of 5 timing rounds); [min-max] over the runs.")
        print_time_table(results, timed, labels)
        steady = [w for w in timed if not w.endswith(FIRST)]  # ratios compare warm steady states only
        if steady:
            print_ratio_table(results, steady, labels)
    print_memory_table(results, labels)
    targets.print_targets_table(results, labels)
    revs = sorted({str(v) for r in raw if "revision" in r for v in [r["revision"]]})
    if revs:
        print("\narignote revision(s) measured: " + ", ".join(revs))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
