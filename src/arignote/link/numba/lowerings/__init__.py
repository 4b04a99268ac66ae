"""The op lowerings of the Numba backend, one module per family; importing them registers them."""
from . import elemwise  # noqa: F401
from . import reduce  # noqa: F401
from . import shape  # noqa: F401
from . import scan  # noqa: F401
from . import nnet  # noqa: F401
from . import subtensor  # noqa: F401
from . import blas  # noqa: F401
from . import random  # noqa: F401
