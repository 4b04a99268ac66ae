"""Modes: which rewrites run and which backend executes a compiled function.

FAST_COMPILE: the cheapest rewrites, the reference (NumPy) backend.
FAST_RUN:     all rewrites, the fastest backend available (config.linker
              'auto': Numba, tiered — see link/numba/linker.py).
PY / VM:      all rewrites, the reference backend.
NUMBA:        all rewrites, the Numba backend (the reference backend, with
              one warning, where Numba is missing or fails on a graph).
"""
from __future__ import annotations

from ..link.vm import VMLinker

#: linker names that mean "the native backend" (Theano's C linkers map onto it)
NATIVE_LINKERS = ("numba", "cvm", "c", "c|py", "auto")
OPTIMIZER_NAMES = ("fast_run", "fast_compile", "merge", "None", None, "o1", "o2", "o3", "o4", "unsafe")


class Mode:
    """A pairing of a rewrite set (`optimizer`) and a backend (`linker`)."""

    def __init__(self, linker: str | None = "auto", optimizer: str | None = "fast_run", name: str | None = None,
                 include_tags: tuple = (), exclude_tags: tuple = ()):
        if optimizer not in OPTIMIZER_NAMES:
            raise ValueError(f"unknown optimizer {optimizer!r}; expected one of "
                             f"{', '.join(str(o) for o in OPTIMIZER_NAMES if o is not None)}")
        self.linker_name = linker or "auto"
        self.optimizer = optimizer
        self.name = name or f"Mode(linker={self.linker_name}, optimizer={optimizer})"
        self.include_tags = tuple(include_tags)
        self.exclude_tags = tuple(exclude_tags)

    def including(self, *tags: str) -> "Mode":
        """This mode with the rewrites carrying `tags` (or named so) added."""
        return Mode(self.linker_name, self.optimizer, None, self.include_tags + tags, self.exclude_tags)

    def excluding(self, *tags: str) -> "Mode":
        """This mode without the rewrites carrying `tags` (or named so)."""
        return Mode(self.linker_name, self.optimizer, None, self.include_tags, self.exclude_tags + tags)

    def make_linker(self, profile=None):
        from ..config import config

        if self.linker_name not in ("vm", "py", "cvm", "auto", "numba", "c", "c|py"):
            raise ValueError(f"unknown linker {self.linker_name!r}")
        name = config.linker if self.linker_name == "auto" else self.linker_name
        if name in NATIVE_LINKERS:
            from ..link.numba import NumbaLinker

            return NumbaLinker(allow_gc=config.allow_gc, profile=profile)
        return VMLinker(allow_gc=config.allow_gc, profile=profile)

    def __str__(self):
        return self.name

    __repr__ = __str__

    def _key(self):
        return (self.linker_name, self.optimizer, self.include_tags, self.exclude_tags)

    def __eq__(self, other):
        return isinstance(other, Mode) and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())


PREDEFINED = {
    "FAST_RUN": Mode("auto", "fast_run", "FAST_RUN"),
    "FAST_COMPILE": Mode("py", "fast_compile", "FAST_COMPILE"),
    "PY": Mode("py", "fast_run", "PY"),
    "VM": Mode("vm", "fast_run", "VM"),
    "NUMBA": Mode("numba", "fast_run", "NUMBA"),
    "DebugMode": Mode("py", "fast_run", "DebugMode"),
    "DEBUG_MODE": Mode("py", "fast_run", "DEBUG_MODE"),
    "NanGuardMode": Mode("py", "fast_run", "NanGuardMode"),
    "ProfileMode": Mode("auto", "fast_run", "ProfileMode"),
}


def get_mode(mode=None) -> Mode:
    """A Mode from None (config.mode), a name such as 'FAST_RUN', or a Mode."""
    from ..config import config

    if mode is None:
        mode = get_mode(config.mode)
        if config.optimizer != mode.optimizer and mode.optimizer == "fast_run":
            mode = Mode(mode.linker_name, config.optimizer, f"{mode.name}(optimizer={config.optimizer})")
        return mode
    if isinstance(mode, Mode):
        return mode
    if isinstance(mode, str):
        found = PREDEFINED.get(mode) or PREDEFINED.get(mode.upper())
        if found is None:
            raise ValueError(f"unknown mode {mode!r}; expected one of {', '.join(PREDEFINED)} or a Mode")
        return found
    raise TypeError(f"mode must be a name or a Mode, got {type(mode).__name__}")


def get_default_mode() -> Mode:
    return get_mode(None)


FAST_RUN = PREDEFINED["FAST_RUN"]
FAST_COMPILE = PREDEFINED["FAST_COMPILE"]
