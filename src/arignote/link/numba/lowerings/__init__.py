"""The op lowerings of the Numba backend, one module per family; importing them registers them."""
from . import elemwise  # noqa: F401
