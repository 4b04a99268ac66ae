"""The Numba linker: tiered execution, fallbacks, errors, and the on-disk cache of native code."""
import glob
import os
import subprocess
import sys
import textwrap
import threading
import time
import warnings

import numpy as np
import pytest

import arignote as th
import arignote.tensor as T
from arignote import config
from arignote.link.numba import compile as native_compile
from arignote.link.numba import linker as numba_linker
from arignote.link.numba.program import build_program


@pytest.fixture
def tiered():
    with config.change_flags(linker="numba", compile_wait=False):
        yield


def _graph():
    x, y = T.dvectors("x", "y")
    return [x, y], T.tanh(x) * y + 1.5


def test_first_call_answers_before_native_compilation_finishes(tiered, monkeypatch):
    release = threading.Event()
    started = threading.Event()
    real = native_compile.compile_segment

    def slow_compile(seg, namespace):
        started.set()
        release.wait(60)
        return real(seg, namespace)

    monkeypatch.setattr(numba_linker, "compile_segment", slow_compile)
    inputs, out = _graph()
    f = th.function(inputs, out)
    a, b = np.linspace(-2, 2, 7), np.linspace(1, 3, 7)
    expected = np.tanh(a) * b + 1.5
    first = f(a, b)  # the compiler is blocked: this is the reference backend's answer
    assert started.wait(60)
    assert not f.native
    np.testing.assert_allclose(first, expected, rtol=1e-14)
    release.set()
    assert f.wait_native(timeout=120)
    assert f.native
    np.testing.assert_allclose(f(a, b), expected, rtol=1e-14)
    assert f._run is not None and f.native  # later calls run the native program


def test_compiling_waits_for_the_first_answer_or_for_wait_native(tiered, monkeypatch):
    started = threading.Event()
    real = native_compile.compile_segment

    def watched_compile(seg, namespace):
        started.set()
        return real(seg, namespace)

    monkeypatch.setattr(numba_linker, "compile_segment", watched_compile)
    f = th.function(*_graph())
    g = th.function(*_graph())
    time.sleep(0.2)
    assert not started.is_set()  # nothing competes with the first call for the interpreter
    np.testing.assert_allclose(f(np.zeros(2), np.ones(2)), [1.5, 1.5])
    assert f.wait_native(timeout=120) and started.is_set()
    assert g.wait_native(timeout=120)  # never called: wait_native starts its compilation
    np.testing.assert_allclose(g(np.zeros(2), np.ones(2)), [1.5, 1.5])


def test_a_tiered_function_is_compiled_by_a_child_process(tiered, tmp_path):
    with config.change_flags(compiledir=str(tmp_path)):
        x = T.dvector("x")
        f = th.function([x], T.exp(x) * 2.5 - x)
        v = np.linspace(-1, 1, 5)
        np.testing.assert_allclose(f(v), np.exp(v) * 2.5 - v, rtol=1e-14)
        assert f.wait_native(timeout=120)
    state = f._native_state
    assert state.compiled_by_child is True and not state.yielding
    assert glob.glob(os.path.join(str(tmp_path), "**", "native_*.nbi"), recursive=True)  # what it loaded
    np.testing.assert_allclose(f(v), np.exp(v) * 2.5 - v, rtol=1e-14)


def _break_the_job(monkeypatch, compile_worker):
    real_job_for = compile_worker.job_for

    def broken_job(plan):
        job = real_job_for(plan)
        job["segments"] = [(name, "def broken(:\n", sig) for name, _, sig in job["segments"]]
        return job

    monkeypatch.setattr(compile_worker, "job_for", broken_job)


def _leave_no_processes(monkeypatch, compile_worker):
    def no_processes(*args, **kwargs):
        raise OSError("no processes left")

    monkeypatch.setattr(compile_worker.subprocess, "Popen", no_processes)


# each case its own constant: a graph this process compiled already would need no child
@pytest.mark.parametrize("failure, scale", [(_break_the_job, 3.5), (_leave_no_processes, 7.5)],
                         ids=["the child fails", "no child can start"])
def test_without_a_working_child_the_builder_thread_compiles(tiered, tmp_path, monkeypatch, failure, scale):
    from arignote.link.numba import compile_worker

    failure(monkeypatch, compile_worker)
    with config.change_flags(compiledir=str(tmp_path)):
        x = T.dvector("x")
        f = th.function([x], T.exp(x) * scale - x)
        v = np.linspace(-1, 1, 5)
        np.testing.assert_allclose(f(v), np.exp(v) * scale - v, rtol=1e-14)
        assert f.wait_native(timeout=120)
    assert f._native_state.compiled_by_child is False
    np.testing.assert_allclose(f(v), np.exp(v) * scale - v, rtol=1e-14)


def test_code_using_objects_of_this_process_is_compiled_in_its_thread(tiered, tmp_path):
    from arignote.link.numba import compile_worker

    x = T.dvector("x")
    plan = build_program(th.function([x], x * 4.5, mode="VM").maker.fgraph)
    with config.change_flags(compiledir=str(tmp_path)):
        assert compile_worker.job_for(plan) is not None
        seg = plan.segments[0]
        plan.namespace.values["_local_thing"] = object()
        seg.source = seg.source.replace("):", "):\n    _local_thing", 1)
        assert compile_worker.job_for(plan) is None  # no child can rebuild that object
        with config.change_flags(numba__compile_process=False):
            f = th.function([x], T.exp(x) * 5.5)
            assert f.wait_native(timeout=120)
    assert f._native_state.compiled_by_child is None


def test_cached_code_is_found_where_numba_cache_dir_puts_it(tmp_path, monkeypatch):
    from numba.core import config as numba_config

    monkeypatch.setattr(numba_config, "CACHE_DIR", str(tmp_path / "numba"))
    with config.change_flags(compiledir=str(tmp_path / "compiledir"), linker="numba", compile_wait=True):
        x = T.dvector("x")
        f = th.function([x], T.exp(x) * 6.5 + x)
        plan = build_program(f.maker.fgraph)
        monkeypatch.setattr(native_compile, "_COMPILED", {})  # what this process compiled does not count
        assert native_compile.is_cached(plan.segments[0], plan.namespace.values)
    assert glob.glob(str(tmp_path / "numba" / "**" / "native_*.nbi"), recursive=True)
    assert not glob.glob(str(tmp_path / "compiledir" / "**" / "*.nbi"), recursive=True)


def test_compile_wait_blocks_until_native(monkeypatch):
    with config.change_flags(linker="numba", compile_wait=True):
        inputs, out = _graph()
        f = th.function(inputs, out)
    assert f.native
    np.testing.assert_allclose(f(np.ones(3), np.ones(3)), np.tanh(1.0) + 1.5)


def test_without_numba_one_warning_and_reference_results(monkeypatch):
    monkeypatch.setattr(numba_linker, "numba_available", lambda: False)
    monkeypatch.setattr(numba_linker, "_warned", set())
    with config.change_flags(linker="numba", compile_wait=True):
        with pytest.warns(RuntimeWarning, match="Numba is not installed"):
            inputs, out = _graph()
            f = th.function(inputs, out)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # only one warning, however many functions
            g = th.function(*_graph())
    assert not f.native and not g.native
    np.testing.assert_allclose(f(np.zeros(2), np.ones(2)), [1.5, 1.5])


def test_a_compiler_failure_keeps_the_reference_backend_with_one_warning(monkeypatch):
    def broken(seg, namespace):
        raise RuntimeError("LLVM ran out of luck")

    monkeypatch.setattr(numba_linker, "compile_segment", broken)
    monkeypatch.setattr(numba_linker, "_warned", set())
    with config.change_flags(linker="numba", compile_wait=True):
        with pytest.warns(RuntimeWarning, match="LLVM ran out of luck"):
            f = th.function(*_graph())
    assert not f.native
    np.testing.assert_allclose(f(np.zeros(2), np.ones(2)), [1.5, 1.5])


def test_a_runtime_error_names_the_node_and_the_users_line():
    with config.change_flags(linker="numba", compile_wait=True):
        x, y = T.dvectors("x", "y")
        f = th.function([x, y], x * y)
    assert f.native
    with pytest.raises(ValueError) as info:
        f(np.ones(3), np.ones(4))
    text = str(info.value) + "".join(getattr(info.value, "__notes__", []))
    assert "test_linker.py" in text  # the user's line, from the reference backend's rerun


def test_unlowered_nodes_run_their_perform_between_segments():
    with config.change_flags(linker="numba", compile_wait=True):
        x = T.dvector("x")
        out = T.sort(T.exp(x)) + 1  # sort has no native lowering: the program calls its perform
        f = th.function([x], out)
    plan = build_program(f.maker.fgraph)
    assert any("Sort" in type(n.op).__name__ for n, _ in plan.fallbacks)
    assert plan.segments
    v = np.array([0.3, -1.0, 2.0])
    np.testing.assert_allclose(f(v), np.sort(np.exp(v)) + 1)


_CHILD = textwrap.dedent("""
    import sys
    import numpy as np
    import arignote as th, arignote.tensor as T
    from arignote.link.numba import compile as C
    th.config.compile_wait = True
    th.config.linker = "numba"
    x = T.fmatrix("x")
    f = th.function([x], T.exp(x).sum(axis=1) * 2 + x[:, 0])
    assert f.native
    v = np.arange(12, dtype="float32").reshape(3, 4) / 10
    assert np.allclose(f(v), np.exp(v).sum(axis=1) * 2 + v[:, 0], rtol=1e-5)
    print(sum(d.stats.cache_hits.total() if hasattr(d.stats.cache_hits, 'total') else sum(d.stats.cache_hits.values())
              for d in C._COMPILED.values()))
""")


def _child(cache_dir):
    env = dict(os.environ, ARIGNOTE_FLAGS=f"compiledir={cache_dir}")
    return subprocess.Popen([sys.executable, "-c", _CHILD], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _hits(proc):
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    return int(out.strip().splitlines()[-1])


def test_a_second_process_loads_native_code_from_the_cache(tmp_path):
    assert _hits(_child(tmp_path)) == 0
    assert _hits(_child(tmp_path)) >= 1


def test_two_processes_compiling_at_once_share_one_entry(tmp_path):
    first, second = _child(tmp_path), _child(tmp_path)
    _hits(first), _hits(second)
    sources = glob.glob(os.path.join(str(tmp_path), "*", "numba", "native_*.py"))
    assert len(sources) == len(set(sources)) >= 1
    assert not glob.glob(os.path.join(str(tmp_path), "*", "numba", ".tmp-*"))
    assert _hits(_child(tmp_path)) >= 1


def test_a_corrupted_entry_is_rebuilt(tmp_path):
    _hits(_child(tmp_path))
    cached = glob.glob(os.path.join(str(tmp_path), "*", "numba", "__pycache__", "*"))
    assert cached
    for path in cached:
        with open(path, "r+b") as f:
            f.truncate(max(0, os.path.getsize(path) // 3))
    assert _hits(_child(tmp_path)) == 0  # unreadable machine code is recompiled, the answer stays right
    assert _hits(_child(tmp_path)) >= 1  # and written again


_TWO_FUNCTIONS = textwrap.dedent("""
    import sys
    import numpy as np
    import arignote as th, arignote.tensor as T
    th.config.compile_wait = True
    th.config.linker = "numba"
    x = T.dvector("x")
    v = np.array([-1.5, 0.0, 2.0])
    for which in sys.argv[1:]:
        out, want = (-x, -v) if which == "negate" else (T.cast(x * 2, "int32"), (v * 2).astype("int32"))
        f = th.function([x], out)
        assert f.native
        got = f(v)
        assert got.dtype == want.dtype, (which, got.dtype, want.dtype)
        np.testing.assert_array_equal(got, want)
""")


def test_native_code_cached_by_different_processes_keeps_its_own_types(tmp_path):
    # Two processes each compile one function (same argument types, other result types) as their
    # first segment; then processes load both from the cache, in both orders.
    env = dict(os.environ, ARIGNOTE_FLAGS=f"compiledir={tmp_path}")
    for which in (["negate"], ["cast"], ["negate", "cast"], ["cast", "negate"]):
        done = subprocess.run([sys.executable, "-c", _TWO_FUNCTIONS, *which], env=env, capture_output=True,
                              text=True, timeout=600)
        assert done.returncode == 0, done.stderr
