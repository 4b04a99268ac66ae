"""Loops over tensors: scan, map, reduce, foldl, foldr (also `theano.scan_module`)."""
from . import utils  # noqa: F401
from .basic import scan  # noqa: F401
from .op import Scan, ScanSpec  # noqa: F401
from .utils import until  # noqa: F401
from .views import foldl, foldr, map, reduce  # noqa: F401,A004

scan_utils = utils  # theano.scan_module.scan_utils
