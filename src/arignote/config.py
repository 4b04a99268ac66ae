"""Configuration flags, compatible with Theano's ``theano.config``.

Flag values come from four sources, lowest to highest priority:

1. built-in defaults;
2. rc files (INI, read with :mod:`configparser`): ``~/.theanorc``, ``~/.theanorc.txt`` and
   ``~/.arignoterc``, or instead the ``os.pathsep``-separated lists in ``$THEANORC`` and
   ``$ARIGNOTERC`` when either is set.  ``[global]`` holds plain flags; any other section
   holds sectioned flags (``[warn]`` -> ``warn.*``);
3. the environment: ``THEANO_FLAGS``, then ``ARIGNOTE_FLAGS`` (``flag=value,flag=value``);
4. assignments in code: ``config.floatX = 'float32'`` or :meth:`Config.change_flags`.

Sectioned flags (Theano's ``warn.*``, ``scan.*``, ``nvcc.*``, ...) have dotted canonical
names such as ``warn.subtensor_merge_bug``.  ``warn__subtensor_merge_bug`` is accepted as an
alias everywhere a name is, and ``config.warn.subtensor_merge_bug`` reads through a small
namespace object.
"""

from __future__ import annotations

import configparser
import difflib
import functools
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

__all__ = ["Config", "Flag", "change_flags", "config", "default_rc_paths", "parse_config"]

_F = TypeVar("_F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Flag:
    """One registered flag: ``convert`` returns the value to store or raises ValueError/TypeError."""

    name: str
    default: Any
    convert: Callable[[Any], Any]
    valid: str  # human-readable description of the valid values, used in error messages
    doc: str


# --- converters ---------------------------------------------------------------------------
# Values arrive as strings from env/rc files and as Python objects from code, so every
# converter accepts both.  They raise bare errors; Config wraps them in one uniform message.


def _to_bool(value: Any) -> bool:
    """True/False, 1/0, 'true'/'false' (any case)"""
    if isinstance(value, bool):  # test first: bool is a subclass of int
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "1", "false", "0"):
        return value.strip().lower() in ("true", "1")
    raise ValueError


def _to_int(value: Any) -> int:
    """an integer"""
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise ValueError
    return int(value)


def _to_float(value: Any) -> float:
    """a number"""
    if isinstance(value, bool):  # float(True) works, but is surely a mistake
        raise ValueError
    return float(value)


def _to_str(value: Any) -> str:
    """any string"""
    if not isinstance(value, str):
        raise TypeError
    return value


def _to_path(value: Any) -> str:
    """any string (a leading '~' is expanded)"""
    return os.path.expanduser(_to_str(value))


_DEVICE_RE = re.compile(r"cpu|(cuda|gpu)\d*")


def _to_device(value: Any) -> str:
    """'cpu', 'cuda', 'cudaN', 'gpu' or 'gpuN' (N an integer)"""
    if _DEVICE_RE.fullmatch(_to_str(value)):
        return value
    raise ValueError


def _to_device_or_empty(value: Any) -> str:
    """'' (none), 'cpu', 'cuda', 'cudaN', 'gpu' or 'gpuN' (N an integer)"""
    return value if value == "" else _to_device(value)


def _choices(options: tuple[Any, ...]) -> Callable[[Any], Any]:
    def convert(value: Any) -> Any:
        for option in options:
            # The str() comparison lets env strings match non-str options, and lets code
            # write e.g. ``optimizer=None`` or ``dnn.enabled=True`` for 'None' / 'True'.
            if value == option or str(value).strip() == str(option):
                return option
        raise ValueError

    return convert


_TYPES: dict[type, Callable[[Any], Any]] = {bool: _to_bool, int: _to_int, float: _to_float, str: _to_str}


def _make_converter(spec: Any) -> tuple[Callable[[Any], Any], str]:
    """Turn ``add``'s ``validator_or_choices`` into ``(convert, description of valid values)``."""
    if isinstance(spec, type) and spec in _TYPES:
        spec = _TYPES[spec]
    elif isinstance(spec, str):  # almost certainly meant ("a", "b"), not the letters of "ab"
        raise TypeError("choices must be a collection of values, not a single string")
    if callable(spec):
        # A validator's docstring's first line describes what it accepts.
        lines = (spec.__doc__ or "").strip().splitlines()
        return spec, lines[0] if lines else f"values accepted by {getattr(spec, '__name__', spec)!r}"
    if isinstance(spec, Iterable):
        options = tuple(spec)
        return _choices(options), ", ".join(map(repr, options))
    raise TypeError(f"expected a type, a collection of choices or a callable, got {spec!r}")


# --- the built-in flags ------------------------------------------------------------------


def _home(environ: Mapping[str, str]) -> str:
    return environ.get("HOME") or os.path.expanduser("~")


def _default_cache_dir(environ: Mapping[str, str]) -> str:
    # XDG says a relative XDG_CACHE_HOME is invalid and must be ignored.
    xdg = environ.get("XDG_CACHE_HOME", "")
    root = xdg if os.path.isabs(xdg) else os.path.join(_home(environ), ".cache")
    return os.path.join(root, "arignote")


_MODES = ("FAST_RUN", "FAST_COMPILE", "NUMBA", "PY", "VM", "DebugMode", "DEBUG_MODE", "NanGuardMode", "ProfileMode")
_OPTIMIZERS = ("fast_run", "merge", "fast_compile", "None", "o1", "o2", "o3", "o4", "unsafe")
_LINKERS = ("auto", "py", "vm", "cvm", "c", "c|py", "numba")


def _builtin_flags(environ: Mapping[str, str]) -> list[tuple[str, Any, Any, str]]:
    cache = _default_cache_dir(environ)
    return [
        ("floatX", "float64", ("float16", "float32", "float64"), "Default dtype of floating-point variables."),
        ("mode", "FAST_RUN", _MODES, "Default compilation mode for function()."),
        ("device", "cpu", _to_device, "Device on which computations run."),
        ("init_gpu_device", "", _to_device_or_empty, "GPU to initialise without moving computations to it."),
        ("optimizer", "fast_run", _OPTIMIZERS, "Default graph-rewrite set used by the mode."),
        ("optimizer_including", "", str, "Colon-separated rewrite tags to add to the optimizer."),
        ("optimizer_excluding", "", str, "Colon-separated rewrite tags to remove from the optimizer."),
        ("optimizer_requiring", "", str, "Colon-separated rewrite tags the optimizer must have."),
        ("on_opt_error", "warn", ("warn", "raise", "pdb", "ignore"), "What to do when a rewrite fails."),
        ("profile", False, bool, "Profile compiled functions."),
        ("profile_memory", False, bool, "Also profile memory use (needs profile)."),
        ("profile_optimizer", False, bool, "Also profile the graph rewrites (needs profile)."),
        ("compute_test_value", "off", ("off", "ignore", "warn", "raise", "pdb"),
         "Compute test values eagerly as graphs are built, and what to do when one is missing."),
        ("warn_float64", "ignore", ("ignore", "warn", "raise", "pdb"), "What to do when a float64 variable is created."),
        ("exception_verbosity", "low", ("low", "high"), "Detail of the graph information in compilation errors."),
        ("compiledir", cache, _to_path, "Directory for compiled modules and caches."),
        ("base_compiledir", cache, _to_path, "Root directory under which compiledir lives."),
        ("allow_gc", True, bool, "Free intermediate results during function execution."),
        ("print_active_device", True, bool, "Print the active device when it is initialised."),
        ("cast_policy", "custom", ("custom", "numpy+floatX"), "Rules for the dtype of operation results."),
        ("cxx", "", str, "C++ compiler used by the C backend; empty disables it."),
        ("linker", "auto", _LINKERS, "Default linker used by the mode."),
        ("deterministic", "default", ("default", "more"), "Prefer deterministic (possibly slower) implementations."),
        ("warn.subtensor_merge_bug", False, bool, "Warn about a historical Theano bug merging subtensors."),
        ("scan.allow_gc", False, bool, "Free intermediate results between scan iterations."),
        ("nvcc.flags", "", str, "Extra flags passed to nvcc."),
        ("dnn.enabled", "auto", ("auto", "True", "False", "no_check"), "Whether to use cuDNN."),
        ("gpuarray.preallocate", 0.0, float, "Fraction of GPU memory to preallocate (0 disables)."),
        ("compile_wait", False, bool,
         "Block function() until the native (Numba) version is compiled, instead of answering from the "
         "reference backend meanwhile (benchmarks set it)."),
        ("numba.debug", False, bool, "Report which nodes the Numba backend runs through their NumPy perform."),
        ("numba.cache", True, bool, "Keep Numba's machine code in compiledir between processes."),
        ("numba.compile_process", True, bool,
         "Compile a tiered function's native code in a child process (through the disk cache), not in a "
         "thread of the caller's: a compiling thread holds the GIL for much of its work."),
    ]


def _canonical(name: str) -> str:
    """``warn__subtensor_merge_bug`` -> ``warn.subtensor_merge_bug`` (the kwargs-friendly alias)."""
    return name.strip().replace("__", ".")


# --- the configuration object ------------------------------------------------------------


class Config:
    """The flag registry and current values; read and assign flags as attributes."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        """Register the built-in flags at their defaults (``environ`` gives HOME, XDG_CACHE_HOME)."""
        # Bypass __setattr__, which treats public names as flags.
        object.__setattr__(self, "_flags", {})
        object.__setattr__(self, "_values", {})
        for spec in _builtin_flags(os.environ if environ is None else environ):
            self.add(*spec)

    def add(self, name: str, default: Any, validator_or_choices: Any, doc: str) -> None:
        """Register a new flag.

        ``validator_or_choices`` is one of ``bool``, ``int``, ``float``, ``str``; a collection
        of allowed values; or a callable returning the value to store and raising
        ValueError/TypeError for invalid input (its docstring's first line should describe
        the valid values).  ``name`` may be dotted (``"scan.foo"``) or use ``__``.
        """
        name = _canonical(name)
        if not all(part.isidentifier() and not part.startswith("_") for part in name.split(".")):
            raise ValueError(f"invalid flag name {name!r}")
        if name in self._flags:
            raise ValueError(f"config flag {name!r} is already registered")
        if hasattr(type(self), name.split(".")[0]) or any(
            other.startswith(name + ".") or name.startswith(other + ".") for other in self._flags
        ):
            raise ValueError(f"config flag name {name!r} clashes with an existing attribute or section")
        convert, valid = _make_converter(validator_or_choices)
        flag = Flag(name, None, convert, valid, doc)
        flag = Flag(name, self._convert(flag, default, "default"), convert, valid, doc)
        self._flags[name] = flag
        self._values[name] = flag.default

    def flag_names(self) -> list[str]:
        """Canonical (dotted) names of all flags, in registration order."""
        return list(self._flags)

    def describe(self) -> str:
        """All flags with their current values, docs, defaults and valid values."""
        lines = []
        for flag in self._flags.values():
            lines.append(f"{flag.name} = {self._values[flag.name]!r}")
            lines.append(f"    {flag.doc}")
            lines.append(f"    default: {flag.default!r}; valid: {flag.valid}")
        return "\n".join(lines)

    __str__ = describe

    def __repr__(self) -> str:
        return f"<arignote Config with {len(self._flags)} flags>"

    def change_flags(self, *mappings: Mapping[str, Any], **kwargs: Any) -> _ChangeFlags:
        """Temporarily set flags, as a context manager or a decorator.

        Names may be given as keywords (``warn__subtensor_merge_bug=True``) or in dicts with
        dotted names (``{"warn.subtensor_merge_bug": True}``).  Previous values are restored on
        exit, including when an exception propagates.
        """
        updates: dict[str, Any] = {}
        for mapping in mappings:
            updates.update(mapping)
        updates.update(kwargs)
        return _ChangeFlags(self, updates)

    # -- attribute protocol --

    def __getattr__(self, name: str) -> Any:
        # Only called when normal lookup fails.  Private names must fail fast: copy/pickle
        # probe them on instances whose _flags does not exist yet.
        if name.startswith("_"):
            raise AttributeError(name)
        return self._get(name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_"):
            object.__setattr__(self, name, value)
        else:
            self._set(name, value)

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | {name.split(".")[0] for name in self._flags})

    # -- internals shared with _Section, _ChangeFlags and parse_config --

    def _get(self, name: str) -> Any:
        canonical = _canonical(name)
        if canonical in self._values:
            return self._values[canonical]
        if self._is_section(canonical):
            return _Section(self, canonical)
        raise AttributeError(self._unknown(name))

    def _set(self, name: str, value: Any, source: str | None = None) -> None:
        flag = self._resolve(name)
        if flag is None:
            raise AttributeError(self._unknown(name))
        self._values[flag.name] = self._convert(flag, value, source)

    def _resolve(self, name: str, case_insensitive: bool = False) -> Flag | None:
        canonical = _canonical(name)
        if canonical in self._flags:
            return self._flags[canonical]
        if case_insensitive:  # Theano's rc files were case-insensitive (configparser lowercases keys)
            matches = [f for n, f in self._flags.items() if n.lower() == canonical.lower()]
            if len(matches) == 1:
                return matches[0]
        return None

    def _is_section(self, prefix: str) -> bool:
        return any(name.startswith(prefix + ".") for name in self._flags)

    def _unknown(self, name: str) -> str:
        canonical = _canonical(name)
        if self._is_section(canonical):
            members = [n for n in self._flags if n.startswith(canonical + ".")]
            return f"{name!r} is a section of config flags, not a flag; its flags: {', '.join(members)}"
        close = difflib.get_close_matches(canonical, list(self._flags), n=3, cutoff=0.6)
        hint = f"did you mean {' or '.join(map(repr, close))}?" if close else f"valid flags: {', '.join(self._flags)}"
        return f"unknown config flag {name!r}; {hint}"

    @staticmethod
    def _convert(flag: Flag, value: Any, source: str | None = None) -> Any:
        try:
            return flag.convert(value)
        except (ValueError, TypeError) as exc:
            where = f" (from {source})" if source else ""
            detail = f" ({exc})" if str(exc) else ""
            raise ValueError(
                f"invalid value {value!r} for config flag {flag.name!r}{where}; valid values: {flag.valid}{detail}"
            ) from exc


class _Section:
    """Attribute view of the flags under one dotted prefix: ``config.warn.subtensor_merge_bug``."""

    __slots__ = ("_config", "_prefix")

    def __init__(self, config: Config, prefix: str) -> None:
        object.__setattr__(self, "_config", config)
        object.__setattr__(self, "_prefix", prefix)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return self._config._get(f"{self._prefix}.{name}")

    def __setattr__(self, name: str, value: Any) -> None:
        self._config._set(f"{self._prefix}.{name}", value)

    def __dir__(self) -> list[str]:
        start = len(self._prefix) + 1
        return sorted({n[start:].split(".")[0] for n in self._config._flags if n.startswith(self._prefix + ".")})

    def __repr__(self) -> str:
        return f"<config section {self._prefix!r}: {', '.join(self.__dir__())}>"


class _ChangeFlags:
    """What ``Config.change_flags`` returns: a re-entrant context manager and decorator."""

    def __init__(self, config: Config, updates: Mapping[str, Any]) -> None:
        self._config = config
        # Validate now, so a bad name or value fails where change_flags is written.
        self._updates: dict[str, Any] = {}
        for name, value in updates.items():
            flag = config._resolve(name)
            if flag is None:
                raise AttributeError(config._unknown(name))
            self._updates[flag.name] = config._convert(flag, value)
        # A stack, not one slot, so the same object can be nested or used by a recursive function.
        self._saved: list[dict[str, Any]] = []

    def __enter__(self) -> Config:
        values = self._config._values
        self._saved.append({name: values[name] for name in self._updates})
        values.update(self._updates)
        return self._config

    def __exit__(self, *exc_info: object) -> None:
        self._config._values.update(self._saved.pop())  # returns None: exceptions propagate

    def __call__(self, func: _F) -> _F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self:
                return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


# --- reading the sources -----------------------------------------------------------------

_RC_VARS = ("THEANORC", "ARIGNOTERC")
_FLAGS_VARS = ("THEANO_FLAGS", "ARIGNOTE_FLAGS")  # later wins


def default_rc_paths(environ: Mapping[str, str]) -> list[str]:
    """The rc files to read: from $THEANORC/$ARIGNOTERC if either is set, else the home defaults."""
    home = _home(environ)

    def expand(path: str) -> str:  # expand '~' against environ's HOME, not necessarily os.environ's
        return home + path[1:] if path == "~" or path.startswith("~" + os.sep) else os.path.expanduser(path)

    if any(var in environ for var in _RC_VARS):
        return [expand(p.strip()) for var in _RC_VARS for p in environ.get(var, "").split(os.pathsep) if p.strip()]
    return [os.path.join(home, name) for name in (".theanorc", ".theanorc.txt", ".arignoterc")]


def _read_rc(paths: Iterable[str]) -> list[tuple[str, str, str]]:
    """``(source, flag name, raw value)`` for each setting in the rc files; missing files are skipped."""
    settings = []
    for path in paths:
        # No interpolation: '%' is common in compiler flags.  A default_section name that
        # cannot occur keeps [DEFAULT] from leaking its keys into every section.
        parser = configparser.ConfigParser(interpolation=None, default_section="\0")
        parser.optionxform = str  # type: ignore[assignment,method-assign]  # keep case: floatX
        try:
            if not parser.read(path, encoding="utf-8"):
                continue
        except (configparser.Error, UnicodeDecodeError) as exc:
            raise ValueError(f"cannot parse config file {path}: {exc}") from None
        for section in parser.sections():
            for key, value in parser.items(section):
                name = key if section == "global" else f"{section}.{key}"
                settings.append((f"{path} [{section}]", name, value.strip()))
    return settings


def _parse_flags_string(text: str, source: str) -> list[tuple[str, str, str]]:
    """Parse ``"k=v, k=v"``; surrounding whitespace and empty items are ignored."""
    settings = []
    for item in text.split(","):
        if not item.strip():
            continue
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"{source}: expected 'flag=value', got {item.strip()!r}")
        settings.append((source, key.strip(), value.strip()))
    return settings


def parse_config(environ: Mapping[str, str], rc_paths: list[str] | None = None) -> Config:
    """Build a fresh Config from defaults, rc files and ``environ``'s THEANO_FLAGS/ARIGNOTE_FLAGS.

    ``rc_paths`` overrides :func:`default_rc_paths`.  An unknown flag or invalid value raises
    ValueError naming its source.
    """
    cfg = Config(environ)
    rc = default_rc_paths(environ) if rc_paths is None else rc_paths
    sources = [(*setting, True) for setting in _read_rc(rc)]
    for var in _FLAGS_VARS:
        sources += [(*setting, False) for setting in _parse_flags_string(environ.get(var, ""), var)]
    # Applied in priority order, so a later source simply overwrites an earlier one.
    for source, name, raw, from_rc in sources:
        flag = cfg._resolve(name, case_insensitive=from_rc)
        if flag is None:
            raise ValueError(f"{source}: {cfg._unknown(name)}")
        cfg._values[flag.name] = cfg._convert(flag, raw, source)
    return cfg


config: Config = parse_config(os.environ)
change_flags = config.change_flags
