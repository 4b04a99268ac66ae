"""The native CPU backend: graphs lowered to Numba-compiled code (see linker.py).

Importing this package imports neither Numba nor the lowerings: both load in
the background compiler when the first function is compiled natively.
"""
from .linker import NativeState, NumbaLinker
from .registry import NotLowerable, lowers

__all__ = ["NumbaLinker", "NativeState", "NotLowerable", "lowers"]
