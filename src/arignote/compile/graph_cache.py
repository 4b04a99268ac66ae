"""Rewritten graphs on disk: a function() whose graph was rewritten before skips rewriting.

The key is the graph key (graph/hashing.py) of the FunctionGraph *before*
rewriting, with everything else the rewritten graph depends on:

* the rewrites the mode selects (by name) and the values of every config flag;
* which inputs rewrites may overwrite (`In(mutable=True)`, updated shared
  variables);
* arignote's own code (the size and modification time of each module), so an
  edited rewrite never serves an old result;
* the user's lines the graph was built at: the cached graph carries them into
  error messages, which must name the lines of this run.

The entry holds the rewritten outputs, pickled with persistent references for
the FunctionGraph's inputs and for the shared variables inner graphs use (in
the key's numbering), the names of the rewrites that fired and how long each
phase took when the graph was rewritten. A hit rebuilds
the FunctionGraph over this call's own inputs and shared variables, so values
are never cached, only the computation. Anything that cannot be keyed or
pickled simply compiles as usual.
"""
from __future__ import annotations

import functools
import io
import os
import pickle

from ..graph.fg import FunctionGraph
from ..graph.hashing import GraphNotHashable, graph_key_and_shared
from ..rewriting.engine import trace_of
from .sharedvalue import SharedVariable

_FORMAT = "rewritten-graph-1"
_FILE = "graph.pkl"
#: flags that decide where and when things compile, never what a rewrite produces
_IRRELEVANT_FLAGS = frozenset({"compiledir", "compile_wait", "linker", "numba.debug", "numba.cache"})


class _NotCacheable(pickle.PicklingError):
    """The graph holds a value that cannot be stored by reference (the cache is skipped)."""


@functools.cache
def _code_stamp() -> tuple:
    """(module, size, mtime) of every arignote module: changes whenever arignote's code does."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    stamp = []
    for directory, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith(".py"):
                st = os.stat(os.path.join(directory, name))
                stamp.append((os.path.relpath(os.path.join(directory, name), root), st.st_size, st.st_mtime_ns))
    return tuple(stamp)


def _flag_values() -> tuple:
    from ..config import config

    return tuple((name, repr(value)) for name, value in sorted(config._values.items())
                 if name not in _IRRELEVANT_FLAGS)


def _user_lines(fgraph) -> tuple:
    """The lines the computed variables were built at (the inputs stay this call's own, lines and all)."""
    return tuple(sorted({repr(getattr(v.tag, "trace", None)) for v in fgraph.variables if v.owner is not None}))


class CachedRewrite:
    """The cache slot of one FunctionGraph about to be rewritten (`key` is None: not cacheable)."""

    def __init__(self, fgraph, mode, mutable_positions: list[int]):
        from ..rewriting import selected_rewrites

        self.fgraph = fgraph
        extra = (_FORMAT, mode.optimizer, tuple(selected_rewrites(mode)), tuple(mutable_positions),
                 _flag_values(), _code_stamp(), _user_lines(fgraph))
        try:
            self.key, self.shared = graph_key_and_shared(fgraph.inputs, fgraph.outputs, extra=extra)
        except GraphNotHashable:
            self.key, self.shared = None, []

    # -- reading --------------------------------------------------------------------------------
    def load(self) -> FunctionGraph | None:
        """The rewritten FunctionGraph over this graph's inputs, or None.

        Its `rewrite_trace` names the rewrites that fired (without the
        replaced variables) and its `rewrite_timings` are the rewrite's.
        """
        if self.key is None:
            return None
        from ..link.cache import default_cache

        try:
            entry = default_cache().get(self.key)
        except OSError:
            return None
        if entry is None or _FILE not in entry:
            return None
        inputs, shared = self.fgraph.inputs, self.shared

        class _Reader(pickle.Unpickler):
            def persistent_load(self, ref):
                kind, k = ref
                return inputs[k] if kind == "in" else shared[k]

        try:
            outputs, fired, timings = _Reader(io.BytesIO(entry[_FILE])).load()
        except Exception:  # noqa: BLE001 - an entry from an incompatible build: rewrite instead
            return None
        fgraph = FunctionGraph(inputs, outputs, clone=False, update_mapping=self.fgraph.update_mapping)
        trace_of(fgraph).events.extend((name, None, None) for name in fired)
        fgraph.rewrite_timings = timings
        return fgraph

    # -- writing --------------------------------------------------------------------------------
    def store(self, rewritten) -> None:
        """Keep `rewritten` (the same FunctionGraph, rewritten in place) for the next process."""
        if self.key is None:
            return
        input_ref = {id(v): k for k, v in enumerate(rewritten.inputs)}
        shared_ref = {id(v): k for k, v in enumerate(self.shared)}

        class _Writer(pickle.Pickler):
            def persistent_id(self, obj):
                k = input_ref.get(id(obj))
                if k is not None:
                    return ("in", k)
                if isinstance(obj, SharedVariable):
                    k = shared_ref.get(id(obj))
                    if k is None:
                        raise _NotCacheable(f"shared variable {obj} is outside the key's numbering")
                    return ("S", k)
                return None

        buffer = io.BytesIO()
        try:
            _Writer(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(
                (list(rewritten.outputs), rewritten.rewrite_trace.fired(), list(rewritten.rewrite_timings)))
        except Exception:  # noqa: BLE001 - e.g. an op holding a lambda: this graph compiles every time
            return
        from ..link.cache import default_cache

        try:
            default_cache().put(self.key, {_FILE: buffer.getvalue()})
        except OSError:
            pass  # an unwritable cache costs time, never correctness
