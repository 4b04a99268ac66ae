"""TensorType: the type of an n-dimensional array of one dtype.

A tensor type knows its dtype and, per dimension, a static length or None.
A dimension of static length 1 is *broadcastable* (Theano's term): it may be
stretched against any length in elementwise operations. Dimensions whose
length is unknown never broadcast at run time; this is what makes gradients
of broadcasting well defined (the gradient sums over broadcastable dims).
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..graph.basic import Type

#: dtypes a tensor may hold, and Theano's one-letter prefixes for them
DTYPES = ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
          "float16", "float32", "float64", "complex64", "complex128")
FLOAT_DTYPES = ("float16", "float32", "float64")
COMPLEX_DTYPES = ("complex64", "complex128")
INT_DTYPES = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")
DISCRETE_DTYPES = ("bool",) + INT_DTYPES
CONTINUOUS_DTYPES = FLOAT_DTYPES + COMPLEX_DTYPES


_DTYPE_SET = frozenset(DTYPES)
_NUMPY_DTYPES = {name: np.dtype(name) for name in DTYPES}


def normalize_dtype(dtype) -> str:
    """'floatX' and NumPy dtype-likes to a dtype name; a clear error otherwise."""
    if dtype.__class__ is str and dtype in _DTYPE_SET:  # the common case, without asking NumPy
        return dtype
    from ..config import config

    if dtype is None or dtype == "floatX":
        return config.floatX
    try:
        name = np.dtype(dtype).name
    except TypeError:
        raise TypeError(f"unknown dtype {dtype!r}; expected one of {', '.join(DTYPES)}") from None
    if name not in DTYPES:
        raise TypeError(f"dtype {name!r} is not supported; expected one of {', '.join(DTYPES)}")
    return name


class TensorType(Type):
    """`TensorType(dtype, broadcastable)` (Theano) or `TensorType(dtype, shape=...)`.

    >>> TensorType('float32', (False, True)).shape
    (None, 1)
    """

    def __init__(self, dtype, broadcastable: Sequence[bool] | None = None, name: str | None = None,
                 shape: Sequence[int | None] | None = None):
        self.dtype = normalize_dtype(dtype)
        if shape is None:
            if broadcastable is None:
                raise TypeError("TensorType needs `broadcastable` or `shape`")
            shape = tuple(1 if b else None for b in broadcastable)
        else:
            shape = tuple(None if s is None else int(s) for s in shape)
            if broadcastable is not None:
                if len(broadcastable) != len(shape):
                    raise TypeError("`broadcastable` and `shape` disagree in length")
                shape = tuple(1 if b else s for b, s in zip(broadcastable, shape))
        for s in shape:
            if s is not None and s < 0:
                raise TypeError(f"static shape {shape} has a negative length")
        self.shape: tuple = shape
        self.broadcastable: tuple = tuple(s == 1 for s in shape)
        self.ndim = len(shape)
        self.name = name
        self.numpy_dtype = _NUMPY_DTYPES[self.dtype]
        self._hash = hash((TensorType, self.dtype, self.shape))

    # -- identity -------------------------------------------------------------
    def __eq__(self, other):
        return type(other) is type(self) and other.dtype == self.dtype and other.shape == self.shape

    def __hash__(self):
        return self._hash

    def __str__(self):
        if self.name:
            return self.name
        shape = ", ".join("?" if s is None else str(s) for s in self.shape)
        return f"TensorType({self.dtype}, ({shape}{',' if self.ndim == 1 else ''}))"

    __repr__ = __str__

    def clone(self, dtype=None, broadcastable=None, shape=None) -> "TensorType":
        if shape is None and broadcastable is None:
            shape = self.shape
        return TensorType(self.dtype if dtype is None else dtype, broadcastable, shape=shape)

    def is_super(self, other) -> bool:
        """Whether every value of `other` is also a value of this type."""
        return (isinstance(other, TensorType) and other.dtype == self.dtype and other.ndim == self.ndim
                and all(s is None or s == o for s, o in zip(self.shape, other.shape)))

    def convert_variable(self, var):
        if var.type == self:
            return var
        if self.is_super(var.type):
            return var  # a more precise static shape is still one of ours
        if isinstance(var.type, TensorType) and var.type.is_super(self):
            from .shape_ops import specify_shape

            return specify_shape(var, self.shape)
        return None

    # -- values -----------------------------------------------------------------
    def filter(self, data: Any, strict: bool = False, allow_downcast: bool | None = None) -> np.ndarray:
        """Turn `data` into an ndarray of this type, or raise TypeError saying why."""
        if type(data) is np.ndarray and data.dtype == self.numpy_dtype:
            pass
        elif strict:
            if not isinstance(data, np.ndarray):
                raise TypeError(f"expected a numpy.ndarray of {self.dtype}, got {type(data).__name__}")
            if data.dtype != self.numpy_dtype:
                raise TypeError(f"expected dtype {self.dtype}, got {data.dtype}")
        else:
            data = self._convert(data, allow_downcast)
        if data.ndim != self.ndim:
            raise TypeError(f"expected an array with {self.ndim} dimension{'s' if self.ndim != 1 else ''}"
                            f" ({self}), got one with {data.ndim} (shape {data.shape})")
        for i, (want, got) in enumerate(zip(self.shape, data.shape)):
            if want is not None and want != got:
                raise TypeError(f"expected length {want} in dimension {i} ({self}), got shape {data.shape}")
        return data

    def _convert(self, data, allow_downcast):
        if isinstance(data, np.ndarray) or np.isscalar(data) and isinstance(data, np.generic):
            arr = np.asarray(data)
            if arr.dtype == self.numpy_dtype:
                return arr
            if allow_downcast or np.can_cast(arr.dtype, self.numpy_dtype, "safe"):
                return arr.astype(self.numpy_dtype)
            raise TypeError(
                f"expected dtype {self.dtype}, got an array of {arr.dtype}: converting would lose "
                f"precision. Cast it yourself (numpy.asarray(value, dtype='{self.dtype}')) or pass "
                "allow_input_downcast=True to function()")
        if allow_downcast or (allow_downcast is None and type(data) is float and self.dtype in FLOAT_DTYPES):
            # Theano lets a Python float literal become any float type
            try:
                return np.asarray(data, dtype=self.numpy_dtype)
            except (TypeError, ValueError) as e:
                raise TypeError(f"cannot convert {_short(data)} to {self.dtype}: {e}") from None
        try:
            original = np.asarray(data)
        except (TypeError, ValueError) as e:
            raise TypeError(f"cannot convert {_short(data)} to an array: {e}") from None
        if original.dtype == object:
            raise TypeError(f"cannot convert {_short(data)} to an array of {self.dtype}")
        if original.dtype == self.numpy_dtype:
            return original
        with np.errstate(all="ignore"):
            converted = original.astype(self.numpy_dtype)
        if converted.shape == original.shape and _values_equal(original, converted):
            return converted
        raise TypeError(
            f"expected {self.dtype} values, got {_short(data)} which {self.dtype} cannot represent exactly; "
            f"cast it yourself or pass allow_input_downcast=True to function()")

    def values_eq(self, a, b) -> bool:
        a, b = np.asarray(a), np.asarray(b)
        return a.shape == b.shape and a.dtype == b.dtype and _values_equal(a, b)

    def values_eq_approx(self, a, b, rtol=None, atol=None) -> bool:
        a, b = np.asarray(a), np.asarray(b)
        if a.shape != b.shape:
            return False
        low = min(a.dtype.itemsize, b.dtype.itemsize) if a.dtype.kind == "f" else 8
        rtol = rtol if rtol is not None else (1e-3 if low <= 4 else 1e-5)
        atol = atol if atol is not None else (1e-5 if low <= 4 else 1e-8)
        return bool(np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True))

    def value_zeros(self, shape) -> np.ndarray:
        return np.zeros(shape, dtype=self.numpy_dtype)

    # -- variables ----------------------------------------------------------------
    def make_variable(self, name: str | None = None):
        from .variable import TensorVariable

        return TensorVariable(self, name=name)

    def get_shape_info(self, obj):
        return obj.shape


def _values_equal(a: np.ndarray, b: np.ndarray) -> bool:
    if a.dtype.kind in "fc" or b.dtype.kind in "fc":
        with np.errstate(invalid="ignore"):
            return bool(np.all((a == b) | (np.isnan(a) & np.isnan(b))))
    return bool(np.all(a == b))


def _short(data) -> str:
    text = repr(data)
    return text if len(text) < 80 else text[:77] + "..."
