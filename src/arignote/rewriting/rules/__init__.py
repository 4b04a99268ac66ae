"""The rewrites, grouped by purpose; importing this package registers them all."""
from . import merge, constant_fold, canonicalize, shape, stabilize, specialize, fusion, scan  # noqa: F401
from . import sparse_update, inplace  # noqa: F401
