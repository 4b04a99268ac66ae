"""Time the graph-rewriting phase of compiling W3, W4 and W5 (the optimiser's budget).

    IMPL=arignote python benchmarks/rewrite_time.py W3 W4 W5
    IMPL=pytensor python benchmarks/rewrite_time.py W3 W4 W5      # in PyTensor's venv

The graphs are exactly workloads.py's: its workload functions run with
`function` wrapped so that each compile reports how long rewriting took
(arignote: `f.maker.rewrite_time`; PyTensor: `profile.rewriting_time` of a
profiled compile), and with timing loops disabled. As in workloads.py's timed
runs, arignote's FAST_RUN compiles with `compile_wait` on, so that no native
build of one compile runs in the background of the next. Prints one JSON line per
workload: {"workload", "impl", "rewrite_s" (median of 5 compiles), "nodes_after"}.
Budget (issue 4): rewriting W3 and W4 <= 0.1 s, W5 <= 0.3 s on a 2-core machine.
"""
import json
import os
import statistics
import sys

import workloads

IMPL = workloads.IMPL
_compiled = []


def _function(*args, **kwargs):
    if IMPL == "pytensor":
        kwargs["profile"] = True
    f = workloads.theano.function(*args, **kwargs)
    _compiled.append(f)
    return f


def _rewrite_seconds(f):
    if IMPL == "pytensor":
        prof = f.profile
        return prof.rewriting_time
    return f.maker.rewrite_time


def _nodes_after(f):
    return len(f.maker.fgraph.apply_nodes)  # both keep the rewritten graph here


def measure(name, repeats=5):
    times = []
    nodes = None
    for _ in range(repeats):
        _compiled.clear()
        workloads.WORKLOADS[name]()
        f = _compiled[-1]
        times.append(_rewrite_seconds(f))
        nodes = _nodes_after(f)
    return dict(workload=name, impl=IMPL, rewrite_s=statistics.median(times), nodes_after=nodes)


if __name__ == "__main__":
    workloads.function = _function
    workloads.timeit = lambda fn, min_time=0.5: fn() or 0.0  # no timing loops: only the compile matters
    os.environ.setdefault("PYTHONHASHSEED", "0")
    for name in sys.argv[1:] or ["W3", "W4", "W5"]:
        try:
            print(json.dumps(measure(name)), flush=True)
        except Exception as e:  # a failure is a result too
            print(json.dumps(dict(workload=name, impl=IMPL, error=f"{type(e).__name__}: {str(e)[:200]}")))
