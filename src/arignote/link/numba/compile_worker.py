"""Native compilation in a child process, for tiered functions.

Numba's typing and lowering are Python code that holds the GIL, so a
compiling thread starves the caller's own calls. Measured on this project's
2-core machine with W5's GRU step answered by the reference backend while its
native version compiled (13 s either way): beside a compiling thread the
calls took 18.7 ms on average (p90 13.7 ms; 7.8 ms alone), beside a compiling
process 8.1 ms (p90 8.4 ms): 2.3x faster.

So a tiered function's segments are compiled by a child process into the
disk cache (compile.py's files under compiledir), and the parent then loads
them from there, which takes a fraction of a second. The child rebuilds each
global the segments use from a description: a module-level function by its
module and name, scalar_code's helpers by name, a helper's source as source,
plain data by value. That gives its code the cache key the parent looks up.
A segment that uses an object known only to this process, or no disk cache,
makes `start` decline: the caller then compiles in its thread as before.

Run as `python -m arignote.link.numba.compile_worker`, reading the pickled
job from stdin; exit status 0 when every segment compiled.
"""
from __future__ import annotations

import atexit
import os
import pickle
import subprocess
import sys
import threading

from .compile import _globals_used, compile_source, describe_global, is_cached, segment_signature
from .context import NativeSource

_CHILDREN: set = set()
_CHILDREN_LOCK = threading.Lock()


def _describe(name: str, namespace: dict, out: dict) -> bool:
    """Put into `out` how the child rebuilds global `name` (and what it uses); False if it cannot."""
    if name in out:
        return True
    value = namespace[name]
    kind, *rest = describe_global(name, namespace)
    if kind == "o":
        return False
    if kind == "s":
        out[name] = ("native", value.name, value.source)
        return all(_describe(n, namespace, out) for n in _globals_used(value.source, namespace))
    if kind == "f":
        out[name] = ("scalar", name) if rest[0] == "scalar_code" else ("ref", *rest)
    else:
        out[name] = ("data", value)
    return True


def job_for(plan) -> dict | None:
    """What the child needs to compile `plan`'s segments not in the disk cache yet; None when it
    cannot (a global known only to this process, no disk cache) or has nothing to do."""
    from ...config import config

    if not config.numba__cache:
        return None
    namespace = plan.namespace.values
    todo = [seg for seg in plan.segments if not is_cached(seg, namespace)]
    if not todo:
        return None
    globals_: dict = {}
    for seg in todo:
        if not all(_describe(n, namespace, globals_) for n in _globals_used(seg.source, namespace)):
            return None
    return {"compiledir": config.compiledir, "globals": globals_,
            "segments": [(seg.name, seg.source, segment_signature(seg)) for seg in todo]}


def start(job: dict) -> subprocess.Popen | None:
    """The child process compiling `job` (its stdin already written and closed); None when no
    child can start (an interpreter that cannot run `python -m`, no processes left)."""
    package_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    try:
        child = subprocess.Popen([sys.executable, "-m", "arignote.link.numba.compile_worker"],
                                 stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                 env=env)
    except (OSError, ValueError):
        return None
    with _CHILDREN_LOCK:
        _CHILDREN.add(child)
    try:
        child.stdin.write(pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL))
        child.stdin.close()
    except OSError:  # it died at once: the caller compiles itself
        pass
    return child


def wait(child: subprocess.Popen | None) -> bool:
    """Wait for `child` (without holding the GIL); did it compile everything?"""
    if child is None:
        return False
    try:
        return child.wait() == 0
    finally:
        with _CHILDREN_LOCK:
            _CHILDREN.discard(child)


@atexit.register
def _stop_children() -> None:
    """A script that ends stops its compilations (Numba writes its cache files atomically)."""
    with _CHILDREN_LOCK:
        children = list(_CHILDREN)
    for child in children:
        child.kill()


def _rebuild(described: dict) -> dict:
    import importlib
    import math

    import numpy as np

    from .scalar_code import GLOBALS as SCALAR_HELPERS

    namespace = {"np": np, "math": math}
    for name, (kind, *rest) in described.items():
        if kind == "native":
            namespace[name] = NativeSource(*rest)
        elif kind == "scalar":
            namespace[name] = SCALAR_HELPERS[rest[0]]
        elif kind == "ref" and rest[0] == "numba" and rest[1] == "objmode":
            import numba

            namespace[name] = numba.objmode
        elif kind == "ref":
            value = importlib.import_module(rest[0])
            for part in rest[1].split("."):
                value = getattr(value, part)
            namespace[name] = value
        else:
            namespace[name] = rest[0]
    return namespace


def main() -> int:
    from ...config import config

    job = pickle.loads(sys.stdin.buffer.read())
    config.compiledir = job["compiledir"]
    namespace = _rebuild(job["globals"])
    for name, source, signature in job["segments"]:
        compile_source(name, source, signature, namespace)
    return 0


if __name__ == "__main__":
    sys.exit(main())
