"""Scan rewrites registered in the database (the rules live in arignote.scan)."""
from __future__ import annotations

from ...scan.save_mem import save_memory
from ..db import rewrites
from ..engine import FunctionGraphRewriter

rewrites.register(FunctionGraphRewriter(save_memory, "scan_save_memory"), "scan", "fast_compile")
