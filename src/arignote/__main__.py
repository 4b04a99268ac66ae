"""Command line: ``python -m arignote cache info|list|clear``.

info   where the compile cache is, how many entries and native (Numba) files it holds, their size
list   one line per entry: key, files, size, when it was written
clear  delete every entry and all native code (of every arignote/Python/NumPy version) under the root

The cache root is ``config.compiledir`` (set it with ``ARIGNOTE_FLAGS=compiledir=/path``).
"""
from __future__ import annotations

import argparse
import sys
import time


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"  # pragma: no cover


def _cache_info(cache) -> None:
    info = cache.info()
    print(f"compile cache root: {info.root}")
    print(f"this version:       {info.directory}")
    print(f"entries:            {info.entries} ({_size(info.total_bytes)})")
    print(f"native code:        {info.native_files} files ({_size(info.native_bytes)})")
    if info.other_versions:
        total = sum(info.other_versions.values())
        print(f"other versions:     {len(info.other_versions)} ({_size(total)}); "
              "'python -m arignote cache clear' removes them")
        for name, size in sorted(info.other_versions.items()):
            print(f"  {name}: {_size(size)}")


def _cache_list(cache) -> None:
    entries = cache.list()
    if not entries:
        print(f"no entries in {cache.directory}")
        return
    print(f"{'key':<64}  {'files':>5}  {'size':>10}  written")
    for e in entries:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(e.created)) if e.created else "?"
        print(f"{e.key:<64}  {e.files:>5}  {_size(e.bytes):>10}  {when}")
    print(f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'}, {_size(sum(e.bytes for e in entries))}")


def _cache_clear(cache) -> None:
    removed, freed = cache.clear(all_versions=True)
    print(f"removed {removed} entr{'y' if removed == 1 else 'ies'} and native files ({_size(freed)}) from {cache.root}")


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m arignote", description="Arignote utilities.")
    commands = parser.add_subparsers(dest="command", required=True)
    cache_parser = commands.add_parser("cache", help="inspect or empty the on-disk compile cache")
    cache_parser.add_argument("action", choices=("info", "list", "clear"),
                              help="info: location and size; list: the entries; clear: delete them all")
    args = parser.parse_args(argv)
    from .link.cache import CompileCache

    cache = CompileCache()
    {"info": _cache_info, "list": _cache_list, "clear": _cache_clear}[args.action](cache)
    return 0


if __name__ == "__main__":
    sys.exit(main())
