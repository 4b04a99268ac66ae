"""Where in the user's program a variable was made, or an error was raised.

Errors must point at the user's line, never at our internals: we walk the call
stack outwards until we leave the packages of this distribution.
"""
from __future__ import annotations

import os
import sys

_ARIGNOTE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_OWN_PACKAGE_DIRS = (
    _ARIGNOTE_DIR + os.sep,
    os.path.join(os.path.dirname(_ARIGNOTE_DIR), "theano") + os.sep,
)


# the bundled example programs are user code, not internals
_EXAMPLES_DIR = os.path.join(_ARIGNOTE_DIR, "examples") + os.sep


def _is_internal(filename: str) -> bool:
    if filename.startswith(_EXAMPLES_DIR):
        return False
    return filename.startswith(_OWN_PACKAGE_DIRS) or filename.startswith("<frozen")


_internal_files: dict[str, bool] = {}


def user_frame(skip: int = 1):
    """The innermost stack frame that belongs to the user's code (or None)."""
    frame = sys._getframe(skip)
    known = _internal_files
    while frame is not None:
        filename = frame.f_code.co_filename
        internal = known.get(filename)
        if internal is None:
            internal = known[filename] = _is_internal(filename)
        if not internal:
            return frame
        frame = frame.f_back
    return None


def user_line(skip: int = 1) -> tuple[str, int, str] | None:
    """(filename, lineno, function name) of the user's calling line."""
    frame = user_frame(skip + 1)
    if frame is None:
        return None
    return (frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_name)


def format_line(trace: tuple[str, int, str] | None) -> str:
    """Render a recorded user line as 'file:line (in func): source'."""
    if not trace:
        return "<unknown line>"
    filename, lineno, func = trace
    text = ""
    try:
        import linecache

        text = linecache.getline(filename, lineno).strip()
    except Exception:  # a missing source file must not hide the real error
        pass
    where = f'File "{filename}", line {lineno}, in {func}'
    return f"{where}: {text}" if text else where


def here() -> str:
    """The user's current line, formatted, for build-time error messages."""
    return format_line(user_line(2))
