"""Shared variables holding NumPy arrays and scalars: `theano.shared(np.zeros(3))`."""
from __future__ import annotations

import numbers

import numpy as np

from ..compile.sharedvalue import SharedVariable, shared_constructor
from .type import TensorType
from .variable import _TensorOperators


class TensorSharedVariable(_TensorOperators, SharedVariable):
    """A shared array: usable in expressions like any tensor variable."""

    __eq__ = object.__eq__
    __hash__ = object.__hash__


ScalarSharedVariable = TensorSharedVariable


def tensor_constructor(value, name=None, strict=False, allow_downcast=None, borrow=False,
                       broadcastable=None, shape=None, target="cpu"):
    """Make a TensorSharedVariable from an ndarray, a NumPy scalar or a Python number.

    Dimensions are not broadcastable (their length may change with set_value)
    unless `broadcastable` (or `shape`) says otherwise. Python ints become
    int64 and floats float64, as in NumPy (and Theano).
    """
    if isinstance(value, (list, tuple)):
        value = np.asarray(value)
    if isinstance(value, (bool, numbers.Number)) and not isinstance(value, np.generic):
        value = np.asarray(value)
    if isinstance(value, np.generic):
        value = np.asarray(value)
    if not isinstance(value, np.ndarray) or value.dtype == object:
        raise TypeError("not an array")
    if shape is None:
        if broadcastable is None:
            broadcastable = (False,) * value.ndim
        ttype = TensorType(value.dtype.name, broadcastable)
    else:
        ttype = TensorType(value.dtype.name, shape=shape)
    stored = value if borrow else value.copy()
    return TensorSharedVariable(name, ttype, stored, strict=strict, allow_downcast=allow_downcast)


shared_constructor(tensor_constructor)
