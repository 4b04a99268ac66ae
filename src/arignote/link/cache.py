"""The on-disk compile cache: compiled artefacts keyed by the content of a graph.

Layout under the root (``config.compiledir`` unless given)::

    <root>/<version>/                 one directory per (arignote, Python, NumPy) version
        <key>/                        an entry: the files of one compilation
            manifest.json             name, size and SHA-256 of every file
            ...                       the files themselves
        .locks/<key>.lock             a file lock per key (fcntl.flock)
        .tmp-*                        entries being written (renamed into place when complete)

Keys are hex strings (`arignote.graph.hashing.graph_key`). Entries appear
atomically: a writer fills a temporary directory in the same parent, syncs it
to disk and renames it to the key, so a reader sees a whole entry or none.
`get` checks every file against the manifest; a truncated or corrupt entry is
deleted and reported as missing, so it is rebuilt. `lock(key)` serialises the
compilations of one key across threads and processes: the second compiler
waits, then finds the first one's entry (`get_or_build` does exactly that).

>>> import tempfile
>>> cache = CompileCache(tempfile.mkdtemp())
>>> entry = cache.get_or_build("00ff" * 16, lambda: {"kernel.py": b"def f(): pass"})
>>> entry["kernel.py"], entry.hit
(b'def f(): pass', False)
>>> cache.get("00ff" * 16).hit
True
"""
from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: locks exclude this process's threads only
    fcntl = None

__all__ = ["CacheEntry", "CacheInfo", "CompileCache", "EntryInfo", "default_cache", "version_tag"]

MANIFEST = "manifest.json"
_FORMAT = 1
_KEY_RE = re.compile(r"[0-9a-f]{8,128}")
_FILE_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,127}")
_VERSION_PREFIX = "arignote-"
_LOCKS = ".locks"
#: the subdirectory of a version's directory where the Numba backend keeps its code (link/numba/compile.py)
NATIVE_DIR = "numba"
_TMP_PREFIX = ".tmp-"
_TRASH_PREFIX = ".trash-"
#: a temporary directory older than this is left over from a crashed writer
_STALE_TMP_SECONDS = 600.0

_thread_locks: dict[str, threading.Lock] = {}  # only used where fcntl is missing
_thread_locks_guard = threading.Lock()


def version_tag() -> str:
    """The versions an entry depends on, as a directory name: arignote, Python, NumPy."""
    import numpy

    arignote = sys.modules.get("arignote")
    version = getattr(arignote, "__version__", None)
    if version is None:
        try:
            from importlib.metadata import version as _dist_version

            version = _dist_version("arignote")
        except Exception:  # noqa: BLE001 - any failure means "unknown", never a crash
            version = "unknown"
    impl = sys.implementation.name
    py = f"{impl}{sys.version_info[0]}.{sys.version_info[1]}"
    tag = f"{_VERSION_PREFIX}{version}-{py}-numpy{numpy.__version__}"
    return re.sub(r"[^A-Za-z0-9_.\-]", "_", tag)


class CacheEntry(Mapping):
    """One cache entry: a read-only mapping of file name to bytes.

    `key`: the entry's key; `path`: its directory; `hit`: True when the entry
    was already in the cache, False when this process has just written it.
    """

    def __init__(self, key: str, path: str, files: dict[str, bytes], hit: bool):
        self.key, self.path, self.hit = key, path, hit
        self._files = files

    def __getitem__(self, name: str) -> bytes:
        return self._files[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._files)

    def __len__(self) -> int:
        return len(self._files)

    def __repr__(self):
        return f"CacheEntry({self.key[:16]}…, files={sorted(self._files)}, hit={self.hit})"


@dataclass(frozen=True)
class EntryInfo:
    """What `CompileCache.list` says of one entry."""

    key: str
    files: int
    bytes: int
    created: float  # seconds since the epoch


@dataclass(frozen=True)
class CacheInfo:
    """What `CompileCache.info` reports."""

    root: str
    directory: str  # this version's directory under root
    entries: int
    total_bytes: int
    other_versions: dict = field(default_factory=dict)  # directory name -> bytes, for other versions
    native_files: int = 0  # the native backend's generated sources and machine code (this version)
    native_bytes: int = 0


class CompileCache:
    """An on-disk cache of compilations, safe for concurrent threads and processes.

    root: the cache's root directory (default: `config.compiledir`); entries
    live in a subdirectory named by `version_tag()`, so incompatible versions
    never read each other's entries.
    """

    def __init__(self, root: str | os.PathLike | None = None):
        if root is None:
            from ..config import config

            root = config.compiledir
        self.root = os.path.abspath(os.path.expanduser(os.fspath(root)))
        self.directory = os.path.join(self.root, version_tag())

    def __repr__(self):
        return f"CompileCache({self.directory!r})"

    @property
    def native_directory(self) -> str:
        """Where the native backend keeps generated sources and Numba's machine code for this version."""
        return os.path.join(self.directory, NATIVE_DIR)

    # -- paths ------------------------------------------------------------------------------
    @staticmethod
    def _check_key(key: str) -> str:
        if not isinstance(key, str) or not _KEY_RE.fullmatch(key):
            raise ValueError(f"a cache key is a lowercase hex string of 8 to 128 digits, got {key!r}")
        return key

    def entry_path(self, key: str) -> str:
        """The directory that holds (or would hold) the entry of `key`."""
        return os.path.join(self.directory, self._check_key(key))

    def _ensure_dirs(self) -> None:
        os.makedirs(os.path.join(self.directory, _LOCKS), exist_ok=True)

    # -- reading -------------------------------------------------------------------------------
    def get(self, key: str) -> CacheEntry | None:
        """The entry of `key`, verified against its manifest; None if absent or corrupt.

        A corrupt entry (a file missing, truncated or changed, a bad manifest)
        is deleted, so that the next compilation writes it afresh.
        """
        path = self.entry_path(key)
        try:
            inode = os.stat(path).st_ino
        except FileNotFoundError:
            return None
        try:
            files = self._read_verified(path, key)
        except FileNotFoundError:
            if not os.path.isdir(path):  # removed under us (clear, or another reader's discard)
                return None
            files = None
        if files is None:
            self._discard(path, inode)
            return None
        return CacheEntry(key, path, files, hit=True)

    @staticmethod
    def _read_verified(path: str, key: str) -> dict[str, bytes] | None:
        """The entry's files, or None when anything disagrees with the manifest."""
        with open(os.path.join(path, MANIFEST), "rb") as fh:
            raw = fh.read()
        try:
            manifest = json.loads(raw)
            if manifest.get("format") != _FORMAT or manifest.get("key") != key:
                return None
            listed = manifest["files"]
            files = {}
            for name, meta in listed.items():
                if not _FILE_RE.fullmatch(name) or name == MANIFEST:
                    return None
                with open(os.path.join(path, name), "rb") as fh:
                    data = fh.read()
                if len(data) != meta["size"] or hashlib.sha256(data).hexdigest() != meta["sha256"]:
                    return None
                files[name] = data
        except (ValueError, KeyError, TypeError, AttributeError):  # unparsable or malformed manifest
            return None
        return files

    def _discard(self, path: str, inode: int | None = None) -> None:
        """Remove an entry directory: renamed away first, so readers never see it half deleted."""
        trash = os.path.join(os.path.dirname(path), f"{_TRASH_PREFIX}{os.path.basename(path)[:16]}-"
                                                    f"{os.getpid()}-{threading.get_ident()}-{time.monotonic_ns()}")
        try:
            os.rename(path, trash)
        except FileNotFoundError:
            return
        except OSError:  # pragma: no cover - e.g. permissions: leave it, get() keeps missing it
            return
        if inode is not None:
            try:
                if os.stat(trash).st_ino != inode:
                    # another process published a good entry between our check and the rename: put it back
                    os.rename(trash, path)
                    return
            except OSError:  # it could not go back (a third entry took its place): drop it
                pass
        shutil.rmtree(trash, ignore_errors=True)

    # -- writing -------------------------------------------------------------------------------
    def put(self, key: str, payload: Mapping[str, bytes]) -> CacheEntry:
        """Publish the files `payload` ({file name: bytes}) as the entry of `key`, atomically.

        If an intact entry for `key` already exists (another process won the
        race), it is kept and returned; `payload` is dropped.
        """
        path = self.entry_path(key)
        files = {}
        for name, data in payload.items():
            if not isinstance(name, str) or not _FILE_RE.fullmatch(name) or name == MANIFEST:
                raise ValueError(f"cache file names are 1-128 letters, digits, '_', '-' or '.', not starting "
                                 f"with '.' or '-', and not {MANIFEST!r}; got {name!r}")
            if not isinstance(data, (bytes, bytearray, memoryview)):
                raise TypeError(f"cache file {name!r} must be bytes, got {type(data).__name__}")
            files[name] = bytes(data)
        self._ensure_dirs()
        tmp = tempfile.mkdtemp(prefix=f"{_TMP_PREFIX}{key[:16]}-", dir=self.directory)
        try:
            manifest = {"format": _FORMAT, "key": key, "created": time.time(), "versions": version_tag(),
                        "files": {n: {"size": len(d), "sha256": hashlib.sha256(d).hexdigest()}
                                  for n, d in files.items()}}
            for name, data in files.items():
                _write_synced(os.path.join(tmp, name), data)
            # the manifest goes last: an entry without one is never mistaken for a complete one
            _write_synced(os.path.join(tmp, MANIFEST), json.dumps(manifest, indent=1).encode())
            _fsync_dir(tmp)
            for _attempt in range(3):
                try:
                    os.rename(tmp, path)
                except OSError as e:
                    if e.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                        raise
                    existing = self.get(key)  # verifies, and discards a corrupt one
                    if existing is not None:
                        return existing
                    continue
                _fsync_dir(self.directory)
                tmp = None
                return CacheEntry(key, path, files, hit=False)
            raise OSError(f"could not publish cache entry {key} at {path}")  # pragma: no cover
        finally:
            if tmp is not None:
                shutil.rmtree(tmp, ignore_errors=True)

    @contextlib.contextmanager
    def lock(self, key: str) -> Iterator[None]:
        """Hold the lock of `key` (exclusive across threads and processes; not re-entrant).

        >>> import tempfile
        >>> cache = CompileCache(tempfile.mkdtemp())
        >>> with cache.lock("ab" * 8):
        ...     pass
        """
        self._check_key(key)
        self._ensure_dirs()
        lock_path = os.path.join(self.directory, _LOCKS, f"{key}.lock")
        if fcntl is None:  # pragma: no cover
            with _thread_lock(lock_path):
                yield
            return
        fd = _acquire_file_lock(lock_path)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def get_or_build(self, key: str, build: Callable[[], Mapping[str, bytes]]) -> CacheEntry:
        """The entry of `key`; if missing, `build()` it under the key's lock and publish it.

        Of several threads or processes asking for the same missing key at
        once, exactly one calls `build`; the others wait and read its entry.
        """
        entry = self.get(key)
        if entry is not None:
            return entry
        with self.lock(key):
            entry = self.get(key)  # whoever held the lock before us may have built it
            if entry is None:
                entry = self.put(key, build())
        return entry

    # -- housekeeping ---------------------------------------------------------------------------
    def list(self) -> list[EntryInfo]:
        """The entries of this version, newest first."""
        out = []
        for key, path in _entry_dirs(self.directory):
            files, size = _dir_size(path)
            try:
                created = os.stat(os.path.join(path, MANIFEST)).st_mtime
            except OSError:
                created = 0.0
            out.append(EntryInfo(key, max(files - 1, 0), size, created))
        out.sort(key=lambda e: (-e.created, e.key))
        return out

    def info(self) -> CacheInfo:
        """Where the cache is, its entries and native code, and their size; other versions' sizes."""
        entries = self.list()
        others = {}
        for name, path in _version_dirs(self.root):
            if path != self.directory:
                others[name] = (sum(_dir_size(p)[1] for _, p in _entry_dirs(path))
                                + _tree_size(os.path.join(path, NATIVE_DIR))[1])
        native_files, native_bytes = _tree_size(self.native_directory)
        return CacheInfo(self.root, self.directory, len(entries), sum(e.bytes for e in entries), others,
                         native_files, native_bytes)

    def clear(self, all_versions: bool = False) -> tuple[int, int]:
        """Delete this version's entries and native code (every version's with `all_versions`).

        Returns (entries and native files removed, bytes freed).

        Only what the cache itself created is touched, whatever else the root holds.
        """
        directories = [p for _, p in _version_dirs(self.root)] if all_versions else [self.directory]
        removed = freed = 0
        for directory in directories:
            for _key, path in _entry_dirs(directory):
                size = _dir_size(path)[1]
                if os.path.isdir(path):
                    self._discard(path)
                    removed += 1
                    freed += size
            native = os.path.join(directory, NATIVE_DIR)
            if os.path.isdir(native):
                files, size = _tree_size(native)
                shutil.rmtree(native, ignore_errors=True)
                removed += files
                freed += size
            _remove_leftovers(directory)
            if directory != self.directory:
                with contextlib.suppress(OSError):
                    os.rmdir(os.path.join(directory, _LOCKS))
                    os.rmdir(directory)
        return removed, freed


def default_cache() -> CompileCache:
    """The cache at the current `config.compiledir`."""
    return CompileCache()


# -- helpers -----------------------------------------------------------------------------------


def _write_synced(path: str, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: str) -> None:
    """Make a directory's new names durable (a rename is only on disk once its directory is)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. platforms that cannot open directories
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - some filesystems refuse fsync on directories
        pass
    finally:
        os.close(fd)


def _acquire_file_lock(lock_path: str) -> int:
    """An fd holding flock(LOCK_EX) on `lock_path`, retrying if clear() unlinked the file meanwhile."""
    while True:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                same = os.stat(lock_path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
        except BaseException:
            os.close(fd)
            raise
        if same:
            return fd
        fcntl.flock(fd, fcntl.LOCK_UN)  # locked a file that is no longer the lock: try again
        os.close(fd)
        os.makedirs(os.path.dirname(lock_path), exist_ok=True)


@contextlib.contextmanager
def _thread_lock(lock_path: str):  # pragma: no cover - only without fcntl
    with _thread_locks_guard:
        lk = _thread_locks.setdefault(lock_path, threading.Lock())
    with lk:
        yield


def _entry_dirs(directory: str) -> list[tuple[str, str]]:
    try:
        with os.scandir(directory) as it:
            return sorted((d.name, d.path) for d in it if _KEY_RE.fullmatch(d.name) and d.is_dir())
    except FileNotFoundError:
        return []


def _version_dirs(root: str) -> list[tuple[str, str]]:
    try:
        with os.scandir(root) as it:
            return sorted((d.name, d.path) for d in it if d.name.startswith(_VERSION_PREFIX) and d.is_dir())
    except FileNotFoundError:
        return []


def _tree_size(path: str) -> tuple[int, int]:
    """(number of files, total bytes) in `path` and below."""
    count = total = 0
    for directory, _, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.stat(os.path.join(directory, name)).st_size
                count += 1
    return count, total


def _dir_size(path: str) -> tuple[int, int]:
    """(number of files, total bytes) directly in `path`."""
    count = total = 0
    try:
        with os.scandir(path) as it:
            for f in it:
                with contextlib.suppress(OSError):
                    if f.is_file():
                        count += 1
                        total += f.stat().st_size
    except FileNotFoundError:
        pass
    return count, total


def _remove_leftovers(directory: str) -> None:
    """Stale temporary directories of crashed writers, trash, and lock files nobody holds."""
    now = time.time()
    try:
        with os.scandir(directory) as it:
            names = [(d.name, d.path) for d in it]
    except FileNotFoundError:
        return
    for name, path in names:
        if name.startswith(_TRASH_PREFIX):
            shutil.rmtree(path, ignore_errors=True)
        elif name.startswith(_TMP_PREFIX):
            with contextlib.suppress(OSError):
                if now - os.stat(path).st_mtime > _STALE_TMP_SECONDS:  # a live writer's is seconds old
                    shutil.rmtree(path, ignore_errors=True)
    locks = os.path.join(directory, _LOCKS)
    if fcntl is None:  # pragma: no cover
        return
    try:
        with os.scandir(locks) as it:
            lock_files = [d.path for d in it if d.name.endswith(".lock")]
    except FileNotFoundError:
        return
    for path in lock_files:
        try:
            fd = os.open(path, os.O_RDWR)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # held: someone is compiling; leave it
            os.close(fd)
            continue
        # unlinked while we hold it: a waiter that opened it sees the inode change and retries
        with contextlib.suppress(OSError):
            os.unlink(path)
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
