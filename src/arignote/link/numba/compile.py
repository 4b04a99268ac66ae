"""Compile a ProgramPlan's segments with Numba and bind the program to its cells.

Segments are compiled eagerly for the exact argument types the graph fixes
(C-contiguous arrays of the variable's dtype and rank; scalars for 0-d
tensors), so no call ever waits for Numba: the program hands segments
contiguous arrays. Identical segments (same source, same frozen constants)
share one compiled dispatcher within the process, which matters when a
program builds many small functions of the same shape.
"""
from __future__ import annotations

import functools
import glob
import hashlib
import os
import re
import sys
import tempfile
import threading
import warnings

import numpy as np

from . import generated as _GENERATED
from .context import NativeSource
from .program import ProgramPlan, Segment

_COMPILED: dict[tuple, object] = {}
_LOCK = threading.Lock()
_GLOBAL_NAME = re.compile(r"\b_[A-Za-z]\w*")
_DEFINED_NAME = re.compile(r"^def (\w+)\(", re.M)


def _globals_used(source: str, namespace: dict) -> list[str]:
    """The namespace names `source` refers to (not the function it defines)."""
    return sorted((set(_GLOBAL_NAME.findall(source)) - set(_DEFINED_NAME.findall(source))) & namespace.keys())


def numba_available() -> bool:
    """Is Numba installed? (Without importing it: that takes a quarter second, off the caller's path.)"""
    import importlib.util

    return importlib.util.find_spec("numba") is not None


def _global_key(value):
    module, qualname = getattr(value, "__module__", None), getattr(value, "__qualname__", None)
    if module and qualname and getattr(sys.modules.get(module), qualname, None) is value:
        return ("f", module, qualname)  # a module-level function: the same in every process
    if type(value).__name__ == "_ObjModeContextType":
        return ("f", "numba", "objmode")
    if isinstance(value, np.ndarray):
        return ("a", value.dtype.str, value.shape, value.tobytes())
    if isinstance(value, (np.generic, np.dtype, int, float, bool, complex, str)):
        return ("v", type(value).__name__, repr(value))
    return ("o", id(value))


def numba_type(dtype: str, ndim: int):
    """The Numba type of a value of a TensorType: a scalar for 0-d, else a C-contiguous array."""
    import numba

    scalar = numba.from_dtype(np.dtype(dtype))
    return scalar if ndim == 0 else numba.types.Array(scalar, ndim, "C")


def segment_signature(seg: Segment) -> list[tuple[str, int]]:
    """(dtype, ndim) of each of the segment's parameters."""
    return [(v.type.dtype, v.type.ndim) for v in seg.params]


def compile_segment(seg: Segment, namespace: dict):
    """The Numba dispatcher of `seg`, compiled for its parameters' types."""
    return compile_source(seg.name, seg.source, segment_signature(seg), namespace)


def compile_source(name: str, source: str, signature: list[tuple[str, int]], namespace: dict):
    """The Numba dispatcher of the function `name` that `source` defines, compiled for `signature`
    ((dtype, ndim) per parameter); from the disk cache when another process compiled it."""
    import numba

    key = _source_key(source, namespace)
    with _LOCK:
        found = _COMPILED.get(key)
    if found is not None:
        return found
    types = tuple(numba_type(dtype, ndim) for dtype, ndim in signature)
    files: list[str] = []
    fn = _njit(name, source, namespace, key, files)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", numba.NumbaWarning)
        try:
            fn.compile(types)
        except Exception:
            if not files:
                raise
            # a truncated or corrupt cache entry (Numba does not check them): drop it and build again
            for path in files:
                _drop_cached_code(path)
            fn = _njit(name, source, namespace, key, [])
            fn.compile(types)
    with _LOCK:
        _COMPILED[key] = fn
    return fn


def is_cached(seg: Segment, namespace: dict) -> bool:
    """Does the disk cache hold machine code for `seg` (compiled by any process)?"""
    key = _source_key(seg.source, namespace)
    with _LOCK:
        if key in _COMPILED:
            return True
    path = _cache_path(key)
    if path is None:
        return False
    stem = os.path.splitext(os.path.basename(path))[0]
    return any(glob.glob(os.path.join(d, f"{stem}.*.nbi")) for d in _numba_cache_dirs(path))


def _numba_cache_dirs(source_path: str) -> list[str]:
    """Where Numba keeps the machine code of functions defined in `source_path`: the directory
    NUMBA_CACHE_DIR names when set (mirroring the source's directory), else `__pycache__` beside it."""
    from numba.core import caching, config as numba_config

    directory = os.path.dirname(os.path.abspath(source_path))
    dirs = [os.path.join(directory, "__pycache__")]
    if numba_config.CACHE_DIR:
        dirs.insert(0, os.path.join(numba_config.CACHE_DIR,
                                    caching._CacheLocator.get_suitable_cache_subpath(source_path)))
    return dirs


def describe_global(name: str, namespace: dict) -> tuple:
    """What the global `name` of generated code is, for cache keys: ("s", key) a helper's source
    and globals, ("f", module, name) a function every process has, ("a", ...) / ("v", ...) data,
    ("o", id) an object only this process has."""
    from .scalar_code import GLOBALS as SCALAR_HELPERS

    value = namespace[name]
    if isinstance(value, NativeSource):  # a helper function: its own source and globals, recursively
        return ("s", _source_key(value.source, namespace))
    if SCALAR_HELPERS.get(name) is value:  # scalar_code's helpers are the same in every process
        return ("f", "scalar_code", name)
    return _global_key(value)


def _source_key(source: str, namespace: dict) -> tuple:
    return (source, tuple((n, describe_global(n, namespace)) for n in _globals_used(source, namespace)))


def _njit(name: str, source: str, namespace: dict, key: tuple, files: list):
    """A Numba dispatcher for the function `name` defined by `source`.

    When every global it uses is plain data (no Python objects known only to
    this process), the source is written to a file under compiledir so that
    Numba keeps its machine code beside it: another process compiling the
    same code loads it instead of compiling (Numba's cache checks the file's
    stamp and the code's bytes; the file name is the hash of the source and
    its globals, so it never changes once written).
    """
    import numba

    glb = _globals_for(source, namespace, files)
    # The compiled function's name is unique to its content: Numba names a function's run-time
    # environment after its module and name, and machine code loaded from the disk cache keeps the
    # names it was compiled with, so two cached `_seg0`s from two processes would share one
    # environment (and box their results with each other's dtypes).
    unique = f"{name}_{hashlib.sha256(repr(key).encode()).hexdigest()[:20]}"
    source = source.replace(f"def {name}(", f"def {unique}(", 1)
    path = _cache_file(source, key)
    if path is not None:
        files.append(path)
    exec(compile(source, path or f"<arignote {name}>", "exec"), glb)
    return numba.njit(cache=path is not None, error_model="numpy")(glb[unique])


def _same_in_every_process(key) -> bool:
    """Does `key` (of _source_key) describe its globals without a process-local object ('o', id)?"""
    if isinstance(key, tuple):
        if len(key) == 2 and key[0] == "o" and isinstance(key[1], int):
            return False
        return all(_same_in_every_process(k) for k in key)
    return True


@functools.lru_cache(maxsize=1)
def _backend_version() -> str:
    """A digest of this backend's own code: machine code cached by another version never loads."""
    digest = hashlib.sha256()
    root = os.path.dirname(os.path.abspath(__file__))
    for path in sorted(glob.glob(os.path.join(root, "*.py")) + glob.glob(os.path.join(root, "lowerings", "*.py"))):
        with open(path, "rb") as f:
            digest.update(f.read())
    return digest.hexdigest()


def _cache_path(key: tuple) -> str | None:
    """Where the source file of the code `key` describes lives in the disk cache (None: not cacheable)."""
    from ...config import config
    from ..cache import CompileCache

    if not config.numba__cache or not _same_in_every_process(key):
        return None
    import numba

    digest = hashlib.sha256(repr((key, numba.__version__, _backend_version())).encode()).hexdigest()[:32]
    return os.path.join(CompileCache(config.compiledir).native_directory, f"native_{digest}.py")


def _cache_file(source: str, key: tuple) -> str | None:
    path = _cache_path(key)
    if path is None:
        return None
    directory = os.path.dirname(path)
    try:
        if not os.path.exists(path):
            os.makedirs(directory, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".py")
            with os.fdopen(fd, "w") as f:
                f.write(source)
            os.replace(tmp, path)  # atomic: a concurrent compiler sees the whole file or none
    except OSError:
        return None  # an unwritable cache directory costs speed, never correctness
    return path


def _drop_cached_code(source_path: str) -> None:
    """Delete Numba's cached machine code of the source file at `source_path`."""
    stem = os.path.splitext(os.path.basename(source_path))[0]
    for path in (p for d in _numba_cache_dirs(source_path) for p in glob.glob(os.path.join(d, f"{stem}.*"))):
        try:
            os.remove(path)
        except OSError:
            pass


def _globals_for(source: str, namespace: dict, files: list) -> dict:
    """The globals `source` uses, with every NativeSource among them compiled (recursively)."""
    glb = {"np": np, "math": namespace["math"], "__name__": "arignote.link.numba.generated"}
    for name in _globals_used(source, namespace):
        value = namespace[name]
        if isinstance(value, NativeSource):
            key = _source_key(value.source, namespace)
            with _LOCK:
                compiled = _COMPILED.get(key)
            if compiled is None:
                compiled = _njit(value.name, value.source, namespace, key, files)
                with _LOCK:
                    _COMPILED[key] = compiled
            value = compiled
        elif _global_key(value)[0] == "f":
            # object-mode code loaded from Numba's disk cache looks its globals up in the module
            # the generated code names (generated.py): module-level functions must be found there
            setattr(_GENERATED, name, value)
        glb[name] = value
    return glb


def bind_program(plan: ProgramPlan, compiled: dict, input_cells, output_cells):
    """The zero-argument callable that runs the program over these cells."""
    ns = dict(plan.namespace.values)
    ns.update(compiled)
    ns["_contiguous"] = np.ascontiguousarray
    for k, cell in enumerate(input_cells):
        ns[f"_in{k}"] = cell
    for k, cell in enumerate(output_cells):
        ns[f"_out{k}"] = cell
    exec(compile(plan.source, "<arignote program>", "exec"), ns)
    return ns["_program"]
