"""The rewrites, grouped by purpose; importing this package registers them all."""
from . import merge, scan  # noqa: F401
