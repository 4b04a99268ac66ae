"""The on-disk compile cache: round trips, other processes, races, corruption, housekeeping, CLI."""
import os
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

from arignote.config import config
from arignote.link import cache as cache_module
from arignote.link.cache import MANIFEST, CompileCache, version_tag

KEY = "0123456789abcdef" * 4
OTHER_KEY = "fedcba9876543210" * 4
PAYLOAD = {"kernel.py": b"def kernel(x):\n    return x + 1\n", "blob.bin": bytes(range(256)) * 40}


def run_python(code: str, *args, env_extra=None, timeout=120):
    env = dict(os.environ, **(env_extra or {}))
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code), *map(str, args)],
                          capture_output=True, text=True, env=env, timeout=timeout)


# -- round trips ---------------------------------------------------------------------------------------


def test_put_then_get_round_trips_every_file(tmp_path):
    cache = CompileCache(tmp_path)
    assert cache.get(KEY) is None
    written = cache.put(KEY, PAYLOAD)
    assert written.hit is False and dict(written) == PAYLOAD
    read = cache.get(KEY)
    assert read is not None and read.hit is True
    assert dict(read) == PAYLOAD and read.key == KEY
    assert read.path == os.path.join(cache.directory, KEY)
    assert sorted(os.listdir(read.path)) == sorted([*PAYLOAD, MANIFEST])
    assert cache.get(OTHER_KEY) is None
    # nothing left over from writing
    assert [n for n in os.listdir(cache.directory) if n.startswith(".tmp")] == []


def test_entries_live_under_a_version_directory(tmp_path):
    cache = CompileCache(tmp_path)
    tag = version_tag()
    assert cache.directory == os.path.join(str(tmp_path), tag)
    assert np.__version__ in tag and f"{sys.version_info[0]}.{sys.version_info[1]}" in tag
    import arignote

    assert arignote.__version__ in tag


def test_the_default_root_is_config_compiledir(tmp_path):
    with config.change_flags(compiledir=str(tmp_path / "elsewhere")):
        assert CompileCache().root == str(tmp_path / "elsewhere")


def test_keys_and_file_names_are_checked(tmp_path):
    cache = CompileCache(tmp_path)
    for bad in ["../etc", "ABCDEF0123", "abc", "g" * 20, ""]:
        with pytest.raises(ValueError, match="hex"):
            cache.get(bad)
    for bad_name in ["../x", ".hidden", MANIFEST, "a/b", ""]:
        with pytest.raises(ValueError, match="file names"):
            cache.put(KEY, {bad_name: b"x"})
    with pytest.raises(TypeError, match="bytes"):
        cache.put(KEY, {"a.py": "text, not bytes"})
    assert cache.get(KEY) is None


def test_a_failed_write_publishes_nothing(tmp_path, monkeypatch):
    cache = CompileCache(tmp_path)
    real = cache_module._write_synced
    calls = []

    def failing(path, data):
        calls.append(path)
        if len(calls) == 2:
            raise OSError("disk full")
        real(path, data)

    monkeypatch.setattr(cache_module, "_write_synced", failing)
    with pytest.raises(OSError, match="disk full"):
        cache.put(KEY, PAYLOAD)
    monkeypatch.undo()
    assert cache.get(KEY) is None
    assert [n for n in os.listdir(cache.directory) if n != ".locks"] == []


def test_a_second_put_keeps_the_first_intact_entry(tmp_path):
    cache = CompileCache(tmp_path)
    cache.put(KEY, {"a.py": b"first"})
    again = cache.put(KEY, {"a.py": b"second"})
    assert again.hit is True and again["a.py"] == b"first"
    assert cache.get(KEY)["a.py"] == b"first"


# -- other processes -----------------------------------------------------------------------------------


def test_a_second_process_gets_the_hit(tmp_path):
    cache = CompileCache(tmp_path)
    cache.put(KEY, PAYLOAD)
    out = run_python("""
        import sys
        from arignote.link.cache import CompileCache
        entry = CompileCache(sys.argv[1]).get(sys.argv[2])
        print(entry is not None and entry.hit, entry["kernel.py"].decode().splitlines()[0])
    """, tmp_path, KEY)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[0] == "True def kernel(x):"
    # and the other way round: written there, read here
    out = run_python("""
        import sys
        from arignote.link.cache import CompileCache
        CompileCache(sys.argv[1]).put(sys.argv[2], {"k.py": b"from another process"})
    """, tmp_path, OTHER_KEY)
    assert out.returncode == 0, out.stderr
    assert cache.get(OTHER_KEY)["k.py"] == b"from another process"


RACER = """
    import os, sys, time
    from arignote.link.cache import CompileCache
    root, key, markers = sys.argv[1:4]
    cache = CompileCache(root)
    open(os.path.join(markers, f"ready-{os.getpid()}"), "w").close()
    while not os.path.exists(os.path.join(markers, "go")):
        time.sleep(0.001)

    def build():
        open(os.path.join(markers, f"compiled-{os.getpid()}"), "w").close()
        time.sleep(0.5)  # a slow compiler: the others must wait for it, not compile too
        return {"code.py": f"built by {os.getpid()}".encode()}

    entry = cache.get_or_build(key, build)
    print(entry["code.py"].decode(), entry.hit)
"""


def test_processes_racing_on_one_key_compile_it_once(tmp_path):
    markers = tmp_path / "markers"
    markers.mkdir()
    root = tmp_path / "cache"
    n = 4
    procs = [subprocess.Popen([sys.executable, "-c", textwrap.dedent(RACER), str(root), KEY, str(markers)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(n)]
    try:
        deadline = time.time() + 120
        while len(list(markers.glob("ready-*"))) < n:
            assert time.time() < deadline, "the racing processes did not start"
            assert all(p.poll() is None for p in procs), [p.communicate() for p in procs]
            time.sleep(0.01)
        (markers / "go").touch()
        results = [p.communicate(timeout=120) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    assert all(p.returncode == 0 for p in procs), [err for _, err in results]
    compiled = list(markers.glob("compiled-*"))
    assert len(compiled) == 1, compiled
    winner = compiled[0].name.split("-")[1]
    lines = sorted(out.strip() for out, _ in results)
    assert lines == sorted([f"built by {winner} False"] + [f"built by {winner} True"] * (n - 1))
    assert CompileCache(root).get(KEY)["code.py"] == f"built by {winner}".encode()


def test_threads_racing_on_one_key_compile_it_once(tmp_path):
    cache = CompileCache(tmp_path)
    builds = []
    barrier = threading.Barrier(8)
    results = [None] * 8

    def build():
        builds.append(threading.get_ident())
        time.sleep(0.2)
        return {"code.py": str(threading.get_ident()).encode()}

    def worker(i):
        barrier.wait()
        results[i] = cache.get_or_build(KEY, build)["code.py"]

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(builds) == 1
    assert results == [str(builds[0]).encode()] * 8


def test_the_lock_makes_the_second_holder_wait(tmp_path):
    cache = CompileCache(tmp_path)
    held = threading.Event()

    def holder():
        with cache.lock(KEY):
            held.set()
            time.sleep(0.3)

    t = threading.Thread(target=holder)
    t.start()
    held.wait()
    t0 = time.perf_counter()
    with cache.lock(KEY):
        waited = time.perf_counter() - t0
    t.join()
    assert waited > 0.2
    t0 = time.perf_counter()
    with cache.lock(OTHER_KEY):  # another key is not held up
        assert time.perf_counter() - t0 < 0.2


def test_readers_never_see_a_partial_entry(tmp_path):
    cache = CompileCache(tmp_path)
    keys = [f"{i:064x}" for i in range(1, 30)]
    big = {"a.bin": os.urandom(1 << 18), "b.bin": os.urandom(1 << 18), "c.bin": os.urandom(1 << 16)}
    done = threading.Event()
    seen_incomplete = []

    def reader():
        while not done.is_set():
            for name in os.listdir(cache.directory) if os.path.isdir(cache.directory) else []:
                if len(name) == 64:
                    entry = cache.get(name)
                    if entry is None or len(entry) != 3:
                        seen_incomplete.append(name)

    r = threading.Thread(target=reader)
    r.start()
    try:
        for k in keys:
            cache.put(k, big)
    finally:
        done.set()
        r.join()
    assert seen_incomplete == []
    assert all(cache.get(k) is not None for k in keys)


# -- corruption ------------------------------------------------------------------------------------


def _corrupt_truncate(path):
    data = open(os.path.join(path, "blob.bin"), "rb").read()
    with open(os.path.join(path, "blob.bin"), "wb") as fh:
        fh.write(data[: len(data) // 2])


def _corrupt_flip_a_byte(path):
    name = os.path.join(path, "kernel.py")
    data = bytearray(open(name, "rb").read())
    data[5] ^= 0x01
    with open(name, "wb") as fh:
        fh.write(bytes(data))


def _corrupt_remove_a_file(path):
    os.remove(os.path.join(path, "kernel.py"))


def _corrupt_manifest_garbage(path):
    with open(os.path.join(path, MANIFEST), "wb") as fh:
        fh.write(b"{\"format\": 1, \"key\": ")


def _corrupt_manifest_missing(path):
    os.remove(os.path.join(path, MANIFEST))


@pytest.mark.parametrize("corrupt", [_corrupt_truncate, _corrupt_flip_a_byte, _corrupt_remove_a_file,
                                     _corrupt_manifest_garbage, _corrupt_manifest_missing])
def test_a_corrupt_entry_is_detected_removed_and_rebuilt(tmp_path, corrupt):
    cache = CompileCache(tmp_path)
    cache.put(KEY, PAYLOAD)
    corrupt(cache.entry_path(KEY))
    assert cache.get(KEY) is None
    assert not os.path.exists(cache.entry_path(KEY))
    assert [n for n in os.listdir(cache.directory) if n.startswith(".trash")] == []
    builds = []
    entry = cache.get_or_build(KEY, lambda: builds.append(1) or dict(PAYLOAD))
    assert builds == [1] and entry.hit is False
    assert dict(cache.get(KEY)) == PAYLOAD


def test_put_replaces_a_corrupt_entry(tmp_path):
    cache = CompileCache(tmp_path)
    cache.put(KEY, PAYLOAD)
    _corrupt_truncate(cache.entry_path(KEY))
    fresh = cache.put(KEY, {"kernel.py": b"fresh"})
    assert fresh.hit is False
    assert dict(cache.get(KEY)) == {"kernel.py": b"fresh"}


def test_an_entry_under_the_wrong_key_is_refused(tmp_path):
    cache = CompileCache(tmp_path)
    cache.put(KEY, PAYLOAD)
    os.rename(cache.entry_path(KEY), cache.entry_path(OTHER_KEY))  # its manifest names KEY
    assert cache.get(OTHER_KEY) is None


# -- housekeeping ------------------------------------------------------------------------------------


def test_info_list_and_clear(tmp_path):
    cache = CompileCache(tmp_path)
    info = cache.info()
    assert (info.entries, info.total_bytes, info.root, info.other_versions) == (0, 0, str(tmp_path), {})
    cache.put(KEY, PAYLOAD)
    time.sleep(0.01)
    cache.put(OTHER_KEY, {"x.py": b"1"})
    info = cache.info()
    assert info.entries == 2 and info.directory == cache.directory
    assert info.total_bytes > sum(len(v) for v in PAYLOAD.values()) + 1  # the manifests count too
    listed = cache.list()
    assert [e.key for e in listed] == [OTHER_KEY, KEY]  # newest first
    assert [e.files for e in listed] == [1, 2]
    assert sum(e.bytes for e in listed) == info.total_bytes
    assert cache.clear() == (2, info.total_bytes)
    assert cache.info().entries == 0 and cache.list() == []
    assert cache.get(KEY) is None


def test_info_and_clear_count_the_native_backends_code(tmp_path):
    cache = CompileCache(tmp_path)
    machine = os.path.join(cache.native_directory, "__pycache__")
    os.makedirs(machine)
    with open(os.path.join(cache.native_directory, "native_00.py"), "w") as f:
        f.write("def f(): pass\n")
    with open(os.path.join(machine, "native_00.f-1.py311.nbi"), "wb") as f:
        f.write(b"x" * 100)
    info = cache.info()
    assert (info.native_files, info.native_bytes) == (2, 114)
    assert cache.clear() == (2, 114)
    assert not os.path.exists(cache.native_directory)
    assert cache.info().native_files == 0


def test_clear_touches_only_the_caches_own_files(tmp_path):
    cache = CompileCache(tmp_path)
    old = CompileCache(tmp_path)
    old.directory = os.path.join(str(tmp_path), "arignote-0.0.1-cpython3.9-numpy1.26.0")
    old.put(KEY, {"old.py": b"old"})
    cache.put(KEY, PAYLOAD)
    (tmp_path / "notes.txt").write_text("mine")
    (tmp_path / "project").mkdir()
    (tmp_path / "project" / "0123456789abcdef").mkdir()  # looks like a key, but not in a version dir
    info = cache.info()
    assert info.entries == 1 and list(info.other_versions) == [os.path.basename(old.directory)]
    assert cache.clear() == (1, info.total_bytes)
    assert old.get(KEY)["old.py"] == b"old"  # other versions stay unless asked
    removed, _ = cache.clear(all_versions=True)
    assert removed == 1 and not os.path.exists(old.directory)
    assert (tmp_path / "notes.txt").read_text() == "mine"
    assert (tmp_path / "project" / "0123456789abcdef").is_dir()


def test_clear_keeps_held_locks_and_locking_still_works_after(tmp_path):
    cache = CompileCache(tmp_path)
    lock_file = os.path.join(cache.directory, ".locks", f"{KEY}.lock")
    with cache.lock(KEY):
        cache.clear()
        assert os.path.exists(lock_file)
    with cache.lock(OTHER_KEY):
        pass
    cache.clear()
    assert not os.path.exists(lock_file)
    entry = cache.get_or_build(KEY, lambda: {"a.py": b"1"})  # a fresh lock file is made
    assert entry["a.py"] == b"1" and os.path.exists(lock_file)


# -- the command line ---------------------------------------------------------------------------------


def test_the_cache_command_line(tmp_path):
    cache = CompileCache(tmp_path)
    cache.put(KEY, PAYLOAD)
    cache.put(OTHER_KEY, {"x.py": b"1"})
    env = {"ARIGNOTE_FLAGS": f"compiledir={tmp_path}"}

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "arignote", *args], capture_output=True, text=True,
                              env=dict(os.environ, **env), timeout=120)

    info = cli("cache", "info")
    assert info.returncode == 0, info.stderr
    assert str(tmp_path) in info.stdout and "entries:" in info.stdout and " 2 (" in info.stdout
    listing = cli("cache", "list")
    assert listing.returncode == 0, listing.stderr
    assert KEY in listing.stdout and OTHER_KEY in listing.stdout and "2 entries" in listing.stdout
    cleared = cli("cache", "clear")
    assert cleared.returncode == 0, cleared.stderr
    assert "removed 2 entries" in cleared.stdout
    assert cache.get(KEY) is None
    empty = cli("cache", "list")
    assert empty.returncode == 0 and "no entries" in empty.stdout
    bad = cli("cache", "explode")
    assert bad.returncode == 2 and "invalid choice" in bad.stderr
