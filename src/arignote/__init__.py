"""Arignote: define, optimise and evaluate expressions over multi-dimensional arrays.

Theano's API for Python 3.11+ and NumPy 2:

>>> import numpy as np
>>> import arignote as th
>>> import arignote.tensor as T
>>> x = T.dvector('x')
>>> f = th.function([x], (x ** 2).sum())
>>> float(f(np.array([1.0, 2.0])))
5.0
"""
from .config import config, change_flags  # noqa: F401
from . import graph  # noqa: F401
from .graph.basic import Apply, Constant, Op, Type, Variable, clone_replace  # noqa: F401
from .graph.fg import FunctionGraph  # noqa: F401
from . import tensor  # noqa: F401  (registers the tensor shared-variable constructor below)
from .tensor import sharedvar as _sharedvar  # noqa: F401
from .tensor.type import TensorType  # noqa: F401
from .compile import (Function, In, Mode, Out, Param, SharedVariable, function, shared,  # noqa: F401
                      shared_constructor, get_mode)
from . import compile, gradient, ifelse, printing  # noqa: F401,A004
from .rewriting import rules as _rules  # noqa: F401  (registers every rewrite once, at import)
from .gradient import grad, Rop, Lop  # noqa: F401
from .printing import pp, debugprint, pprint  # noqa: F401
from . import scan as scan_module  # noqa: F401  (theano.scan_module)
from .scan import scan, map, reduce, foldl, foldr  # noqa: F401,A004

__version__ = "0.1.0"

gof = graph  # Theano's old name for the graph core


def clone(output, replace=None, strict=True, share_inputs=True):
    """A copy of the graph of `output` with `replace`'s keys substituted by its values."""
    return clone_replace(output, replace, share_inputs=share_inputs)


def dot(a, b):
    """`theano.dot`: tensor.dot."""
    return tensor.dot(a, b)
