"""W7_mem: peak memory of `A**k` by a loop that keeps only its last step.

    IMPL=arignote MODE=FAST_RUN python scan_memory.py
    IMPL=numpy|jax|torch          python scan_memory.py

For a 1000-element float64 vector A and k = 1_000, 10_000, 100_000, one call
computing A**k (arignote/pytensor: `theano.scan(...)` then `result[-1]`; numpy
and torch: a Python loop keeping only the running product; jax:
`lax.fori_loop`) is measured twice, after a warm-up call that compiles:

- rss_peak_growth_bytes: the process's peak resident set during the call
  (VmHWM, reset through /proc/self/clear_refs before it) minus its resident
  set just before it. Sees every allocator (XLA, torch, numba), page-granular.
- tracemalloc_peak_bytes: tracemalloc's peak during the call minus what was
  traced at its start. Exact, but sees only allocations reported to Python's
  tracemalloc (Python objects and NumPy buffers; not XLA, torch or numba's NRT),
  so it is null for jax and torch.

Keeping every step would need k * 8000 bytes (keep_all_bytes). The figures
must be flat in k. As a control that the measurements do see such growth, numpy
and the Theano-API implementations also measure, at k = 10_000, the loop that
keeps every step (`result` returned whole; a preallocated (k, 1000) array). Every result is checked against NumPy's A**k first.
arignote's FAST_RUN is measured at native speed: `compile_wait` on (tiering.py).
Prints one JSON line: {"workload": "W7_mem", "impl", "mode", "ok", "rows": [...]}.
"""
import gc
import importlib
import json
import os
import sys
import time
import tracemalloc

import numpy as np

import tiering

IMPL = os.environ.get("IMPL", "arignote")
MODE = os.environ.get("MODE") or None
KS = (1_000, 10_000, 100_000)
CONTROL_K = 10_000
N = 1000
NATIVE = {"numpy", "jax", "torch", "torch_compile"}


def _status():
    """VmRSS and VmHWM of this process in bytes (Linux), else (None, None)."""
    try:
        d = {}
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    d[line.split(":")[0]] = int(line.split()[1]) * 1024
        return d["VmRSS"], d["VmHWM"]
    except (OSError, KeyError):
        return None, None


def _reset_peak_rss():
    """Make VmHWM restart from the current resident set; False where the kernel refuses."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def rss_peak_growth(call):
    """(result, peak resident-set growth in bytes during `call`, seconds `call` took)."""
    gc.collect()
    if not _reset_peak_rss():
        t0 = time.perf_counter()
        return call(), None, time.perf_counter() - t0
    rss0, _ = _status()
    t0 = time.perf_counter()
    out = call()
    secs = time.perf_counter() - t0
    _, hwm = _status()
    return out, hwm - rss0, secs


def tracemalloc_peak(call):
    gc.collect()
    tracemalloc.start()
    tracemalloc.reset_peak()
    base, _ = tracemalloc.get_traced_memory()
    try:
        out = call()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return out, peak - base


# ------------------------------------------------------------------ builders: k -> A**k
def theano_api(keep_all=False):
    theano = importlib.import_module(IMPL)
    T = importlib.import_module(IMPL + ".tensor")
    A = T.dvector("A")
    kk = T.iscalar("k")
    result, updates = theano.scan(lambda prior, A: prior * A, outputs_info=T.ones_like(A),
                                  non_sequences=A, n_steps=kk)
    kw = dict(mode=MODE) if MODE else {}
    tiering.set_compile_wait(theano, True, MODE)  # measure the native version, not the stand-in
    if keep_all:  # the control: the function returns every step, the last is taken outside
        f = theano.function([A, kk], result, updates=updates, **kw)
        tiering.wait_native(f, MODE)
        return lambda a, k: np.asarray(f(a, k))[-1]
    f = theano.function([A, kk], result[-1], updates=updates, **kw)
    tiering.wait_native(f, MODE)
    return lambda a, k: np.asarray(f(a, k))


def numpy_loop(keep_all=False):
    def run(a, k):
        r = np.ones_like(a)
        for _ in range(k):
            r = r * a
        return r

    def run_all(a, k):  # the control: every step kept, as scan without `result[-1]` would
        steps = np.empty((k,) + a.shape, a.dtype)
        r = np.ones_like(a)
        for i in range(k):
            r = steps[i] = r * a
        return steps[-1].copy()
    return run_all if keep_all else run


def jax_loop():
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    # k is a traced argument: one compiled while-loop serves every k
    f = jax.jit(lambda a, k: jax.lax.fori_loop(0, k, lambda i, r: r * a, jnp.ones_like(a)))

    def run(a, k):
        return np.asarray(f(jnp.asarray(a), k).block_until_ready())
    return run


def torch_loop():
    import torch
    torch.set_num_threads(os.cpu_count())

    def run(a, k):
        t = torch.from_numpy(a)
        r = torch.ones_like(t)
        for _ in range(k):
            r = r * t
        return r.numpy()
    return run


def main():
    build = {"numpy": numpy_loop, "jax": jax_loop, "torch": torch_loop}.get(IMPL, theano_api)
    a = np.linspace(0.999, 1.001, N)  # float64; a**100_000 stays within float64's range
    t0 = time.perf_counter()
    run = build()
    run(a, 10)  # compile and first-call allocations happen outside the measurements
    compile_s = time.perf_counter() - t0
    rows = []
    for k in KS:
        ref = a ** k
        out, rss, secs = rss_peak_growth(lambda: run(a, k))
        np.testing.assert_allclose(out, ref, rtol=1e-9)
        traced = None
        if IMPL not in ("jax", "torch"):  # their buffers never reach tracemalloc
            out, traced = tracemalloc_peak(lambda: run(a, k))
            np.testing.assert_allclose(out, ref, rtol=1e-9)
        rows.append(dict(k=k, tracemalloc_peak_bytes=traced, rss_peak_growth_bytes=rss,
                         keep_all_bytes=k * N * 8, call_s=secs))
    # flat: from the smallest k to the largest, the peak grows by less than 1% of
    # what keeping every step of the largest k would need. Judged per measure: an
    # allocation of k rows that the loop never touches counts for tracemalloc, not RSS.
    flat = {}
    for key in ("tracemalloc_peak_bytes", "rss_peak_growth_bytes"):
        if rows[0][key] is not None:
            flat[key] = rows[-1][key] - rows[0][key] < 0.01 * rows[-1]["keep_all_bytes"]
    r = dict(rows=rows, flat_tracemalloc=flat.get("tracemalloc_peak_bytes"),
             flat_rss=flat.get("rss_peak_growth_bytes"), compile_s=compile_s)
    if build in (numpy_loop, theano_api):
        # control: the same measurements see a loop that keeps every step
        k = CONTROL_K
        run_all = build(keep_all=True)
        run_all(a, 10)
        out, rss, secs = rss_peak_growth(lambda: run_all(a, k))
        np.testing.assert_allclose(out, a ** k, rtol=1e-9)
        out, traced = tracemalloc_peak(lambda: run_all(a, k))
        np.testing.assert_allclose(out, a ** k, rtol=1e-9)
        r["control_keep_all"] = dict(k=k, tracemalloc_peak_bytes=traced, rss_peak_growth_bytes=rss,
                                     keep_all_bytes=k * N * 8, call_s=secs)
    return r


if __name__ == "__main__":
    try:
        r = main()
        r.update(ok=True)
    except Exception as e:  # a failure is a result too
        r = dict(ok=False, error=f"{type(e).__name__}: {str(e)[:300]}")
    r.update(workload="W7_mem", impl=IMPL, mode=MODE or ("native" if IMPL in NATIVE else "default"))
    print(json.dumps(r))
