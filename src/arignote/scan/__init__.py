"""Loops over tensors: scan, map, reduce, foldl, foldr (also `theano.scan_module`)."""
from . import utils  # noqa: F401
from .basic import scan  # noqa: F401
from .op import Scan, ScanSpec  # noqa: F401
from .utils import until  # noqa: F401
from .views import foldl, foldr, map, reduce  # noqa: F401,A004

scan_utils = utils  # theano.scan_module.scan_utils


class _CallableModule(type(utils)):
    """`theano.scan` is both a function and a package (`theano.scan.utils`): importing the
    package replaces the attribute with the module, so the module answers calls too."""

    def __call__(self, *args, **kwargs):
        return scan(*args, **kwargs)


import sys as _sys  # noqa: E402

_sys.modules[__name__].__class__ = _CallableModule
