"""The Numba backend's linker, with tiered execution.

A new function answers from the reference backend at once; its native
program is generated after the first call has answered (or when
`wait_native` asks for it) by one background thread, which has a child
process compile it into the disk cache (compile_worker.py: beside a compiling
thread, which holds the GIL for Numba's typing and lowering, the caller's
calls ran 2.3x slower on average) and then loads it. Code that cannot go
through the disk cache compiles in that thread. When the native program is
ready it is swapped in with one attribute store, between calls.
Results are the same either way: both backends compute the same graph.

`config.compile_wait=True` (or `wait=True`) compiles before function()
returns, for benchmarks. If Numba is missing, or fails on a graph, the
function keeps the reference backend and one warning says why.
"""
from __future__ import annotations

import queue
import threading
import time
import warnings

from ..vm import VMLinker
from . import compile_worker
from .compile import bind_program, compile_segment, numba_available
from .program import build_program

_JOBS: "queue.SimpleQueue | None" = None
_WORKER_LOCK = threading.Lock()
_warned: set = set()


def _submit(job) -> None:
    """Run `job` on the one background compiler thread.

    A daemon thread with its own queue, not a ThreadPoolExecutor: the executor
    joins its pending work at interpreter exit, so a script would wait for
    compilations it no longer needs.
    """
    global _JOBS
    with _WORKER_LOCK:
        if _JOBS is None:
            _JOBS = queue.SimpleQueue()
            threading.Thread(target=_work, args=(_JOBS,), name="arignote-numba", daemon=True).start()
    _JOBS.put(job)


def _work(jobs) -> None:
    while True:
        job = jobs.get()
        try:
            job()
        except BaseException:  # noqa: BLE001 - a failed job must not stop the worker
            pass


def _warn_once(key: str, message: str) -> None:
    if key not in _warned:
        _warned.add(key)
        warnings.warn(message, RuntimeWarning, stacklevel=5)


class NativeState:
    """Where a function's native version stands: compiling, ready, or failed (`error`)."""

    def __init__(self, plan=None):
        self.plan = plan
        self.done = threading.Event()
        self.ready = False
        self.error: str | None = None
        self.start = lambda: None  # begins compiling, if that waits for a first call (make_runner)
        #: whether the builder thread wants the GIL now (the reference run then yields it after each call)
        self.yielding = False
        #: None: compiled in this process; True/False: a child process compiled it / failed to
        self.compiled_by_child: bool | None = None

    def finish(self, ready: bool, error: str | None = None) -> None:
        self.ready, self.error = ready, error
        self.done.set()


class NumbaLinker:
    """Runs a FunctionGraph as one generated program of Numba-compiled segments."""

    name = "numba"

    def __init__(self, allow_gc: bool = True, profile=None, wait: bool | None = None):
        self.allow_gc = allow_gc
        self.profile = profile
        self.wait = wait
        self.native_state: NativeState | None = None

    def make_runner(self, fgraph, input_cells, on_native=None):
        """(run, output_cells) as VMLinker's; `on_native(run)` is called when the native run is ready."""
        from ...config import config

        reference_run, output_cells = VMLinker(self.allow_gc, self.profile).make_runner(fgraph, input_cells)
        if self.profile is not None:  # per-node profiles come from the reference backend
            return reference_run, output_cells
        if not numba_available():
            _warn_once("missing", "Numba is not installed: compiled functions run on the reference (NumPy) "
                                  "backend. Install numba for native speed.")
            return reference_run, output_cells
        state = self.native_state = NativeState()

        def build(in_child: bool = False):
            """Generate, then compile (both off the caller's path unless waiting): the run, or None.
            `in_child`: have a child process compile into the disk cache first (compile_worker)."""
            state.yielding = in_child
            try:
                plan = state.plan = build_program(fgraph)
                if config.numba__debug and plan.fallbacks:
                    listed = "\n".join(f"  {node.op}: {reason}" for node, reason in plan.fallbacks)
                    warnings.warn(f"these nodes run their NumPy perform, not native code:\n{listed}", stacklevel=2)
                if not plan.segments:
                    state.finish(False, "no node of this graph has a native lowering")
                    return None
                job = compile_worker.job_for(plan) if in_child and config.numba__compile_process else None
                if job is not None:
                    # whatever the child's outcome, the loads below compile what it did not
                    state.yielding = False  # (waiting for the child does not need the GIL)
                    state.compiled_by_child = compile_worker.wait(compile_worker.start(job))
                    state.yielding = True
                compiled = {seg.name: compile_segment(seg, plan.namespace.values) for seg in plan.segments}
                program = bind_program(plan, compiled, input_cells, output_cells)
            except Exception as e:  # noqa: BLE001 - any compiler failure means: keep the reference backend
                state.finish(False, f"{type(e).__name__}: {e}")
                _warn_once(f"fail:{type(e).__name__}", "Numba could not compile a function; it runs on the "
                           f"reference backend instead ({type(e).__name__}: {str(e).splitlines()[0][:300]})")
                return None
            finally:
                state.yielding = False
            return _guarded(program, reference_run)

        wait = config.compile_wait if self.wait is None else self.wait
        if wait or on_native is None:
            run = build()
            if run is not None:
                state.finish(True)
            return (run or reference_run), output_cells

        def build_and_swap():
            run = build(in_child=True)
            if run is not None:
                on_native(run)
                state.finish(True)

        def reference_then_yield():
            reference_run()
            if state.yielding:
                # Hand the GIL to the builder thread (generating code, loading machine code): a
                # caller calling again at once keeps it. W3's step called in a loop waited 9.3 s
                # for its native version from a warm cache, and 0.65 s when each call yields.
                time.sleep(0)

        started = threading.Lock()

        def start():
            if started.acquire(blocking=False):
                _submit(build_and_swap)

        def first_run():
            # The first call answers undisturbed: compiling (Python code, under the GIL for its
            # typing and lowering) begins once it has. A warm cache's first call stays ~2x faster.
            try:
                reference_run()
            finally:
                if not started.locked():
                    on_native(reference_then_yield)
                    start()

        state.start = start
        return first_run, output_cells


def _guarded(program, reference_run):
    """The native run; on an error, the reference backend reruns the call to say where it failed."""

    def run():
        try:
            program()
        except Exception as native_error:
            reference_run()  # raises the reference backend's error, which names the node and the user's line
            native_error.add_note("The reference backend computed this call without error: this is a bug in "
                                  "the Numba backend. mode='VM' avoids it; please report it.")
            raise

    return run
