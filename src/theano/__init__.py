"""`import theano` runs legacy code on Arignote: every `theano.X` is `arignote.X`.

The `theano` module *is* the `arignote` package, and `theano.a.b` imports
resolve to the same module objects as `arignote.a.b` (with Theano's old
module names mapped to their new homes), so `theano.function is
arignote.function` and no class exists twice.
"""
import importlib
import importlib.abc
import importlib.util
import sys

import arignote

# Theano module paths whose Arignote home has another name
_RENAMED = {
    "theano.gof": "arignote.graph",
    "theano.gof.graph": "arignote.graph.basic",
    "theano.gof.fg": "arignote.graph.fg",
    "theano.compile.function": "arignote.compile.function",
    "theano.compile.sharedvalue": "arignote.compile.sharedvalue",
    "theano.tensor.var": "arignote.tensor.variable",
    "theano.tensor.basic": "arignote.tensor",
    "theano.tensor.nnet.nnet": "arignote.tensor.nnet",
    "theano.tensor.elemwise": "arignote.tensor.elemwise",
    "theano.tensor.sharedvar": "arignote.tensor.sharedvar",
    "theano.scalar": "arignote.scalar",
    "theano.scan_module": "arignote.scan",
    "theano.scan_module.scan_utils": "arignote.scan.utils",
    "theano.scan": "arignote.scan",
    "theano.tensor.raw_random": "arignote.tensor.random.basic",
}


def _target(fullname: str) -> str:
    if fullname in _RENAMED:
        return _RENAMED[fullname]
    parent, _, last = fullname.rpartition(".")
    if parent in _RENAMED:
        return _RENAMED[parent] + "." + last
    return "arignote" + fullname[len("theano"):]


class _AliasImporter(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Resolve `theano.*` imports to the already-loaded `arignote.*` modules."""

    def find_spec(self, fullname, path=None, target=None):
        if not fullname.startswith("theano."):
            return None
        target_name = _target(fullname)
        if importlib.util.find_spec(target_name) is None:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec):
        module = importlib.import_module(_target(spec.name))
        self._original_spec = module.__spec__
        return module

    def exec_module(self, module):
        # the arignote module is already executed; importlib stamped our spec on it: undo that
        module.__spec__ = self._original_spec


if not any(isinstance(f, _AliasImporter) for f in sys.meta_path):
    sys.meta_path.insert(0, _AliasImporter())
sys.modules[__name__] = arignote
