"""`theano.tensor.shared_randomstreams`: RandomStreams over shared NumPy generators.

The implementation lives in `arignote.tensor.random`; this module keeps
Theano's import path working.
"""
from .random.streams import RandomStreams  # noqa: F401
from .random.type import RandomStateSharedVariable, randomstate_constructor  # noqa: F401

__all__ = ["RandomStreams", "RandomStateSharedVariable", "randomstate_constructor"]
