"""Scan rewrites registered in the database (the rules live in arignote.scan)."""
from __future__ import annotations

from ...scan.rewrites import drop_unused_outputs, merge_scans, push_out
from ...scan.save_mem import save_memory
from ..db import rewrites
from ..engine import FunctionGraphRewriter

rewrites.register(FunctionGraphRewriter(drop_unused_outputs, "scan_drop_unused_outputs"), "scan")
rewrites.register(FunctionGraphRewriter(merge_scans, "scan_merge"), "scan")
rewrites.register(FunctionGraphRewriter(push_out, "scan_push_out"), "scan")
rewrites.register(FunctionGraphRewriter(save_memory, "scan_save_memory"), "scan", "fast_compile")
