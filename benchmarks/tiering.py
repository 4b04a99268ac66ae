"""arignote's tiered compilation, as the benchmarks see it.

By default arignote's FAST_RUN is tiered: function() returns at once, calls are
answered by the reference (NumPy) backend while the native (Numba) version
compiles in a background thread, and the native version takes over when ready.
`config.compile_wait = True` makes function() block until the native version is
ready instead. A compiled function tells which backend answers through
`f.native` (bool) and `f.wait_native(timeout=None) -> bool`.

Steady-state timings must measure the native version (compile_wait on, then
wait_native); the time-to-first-result workloads measure the tiered default
(compile_wait off). Implementations without tiering (PyTensor, or an arignote
that predates it) lack the flag and the attributes: every helper here then
does nothing and reports None ("not known"), so the benchmarks still run.
"""

# FAST_COMPILE never builds a native version: it is measured as it is
UNTIERED_MODES = {"FAST_COMPILE"}
# how long a benchmark waits for a native version before timing what it has
NATIVE_TIMEOUT_S = 900.0


def set_compile_wait(theano, on, mode):
    """Set `config.compile_wait` where the implementation has it; the value set, or None."""
    if mode in UNTIERED_MODES or not hasattr(theano.config, "compile_wait"):
        return None
    theano.config.compile_wait = bool(on)
    return bool(on)


def native_now(f):
    """Whether calls of `f` run natively now; None where `f` does not say."""
    native = getattr(f, "native", None)
    return None if native is None else bool(native)


def wait_native(f, mode, timeout=NATIVE_TIMEOUT_S):
    """Block until `f` runs natively (or its native build failed or timed out); `f.native`
    then, or None where `f` cannot say or its mode never goes native (nothing to wait for)."""
    if mode in UNTIERED_MODES:
        return None
    wait = getattr(f, "wait_native", None)
    if wait is None:
        return native_now(f)
    return bool(wait(timeout=timeout))
