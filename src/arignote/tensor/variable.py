"""Tensor variables and constants, with Python's operators and NumPy-like methods.

Operators build graph nodes; nothing is computed here. The methods delegate to
the op families in this package (imported lazily: those modules build on
this one).
"""
from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from ..graph.basic import Constant, Variable
from ..graph.sourceline import here
from .type import TensorType


def _t():
    """The `T` namespace (resolved at call time: it is built on this module)."""
    from .. import tensor

    return tensor


class _TensorOperators:
    """Operators and methods shared by tensor variables, constants and shared variables."""

    # arithmetic
    def __add__(self, other): return _t().add(self, other)
    def __radd__(self, other): return _t().add(other, self)
    def __sub__(self, other): return _t().sub(self, other)
    def __rsub__(self, other): return _t().sub(other, self)
    def __mul__(self, other): return _t().mul(self, other)
    def __rmul__(self, other): return _t().mul(other, self)
    def __truediv__(self, other): return _t().true_div(self, other)
    def __rtruediv__(self, other): return _t().true_div(other, self)
    def __floordiv__(self, other): return _t().int_div(self, other)
    def __rfloordiv__(self, other): return _t().int_div(other, self)
    def __mod__(self, other): return _t().mod(self, other)
    def __rmod__(self, other): return _t().mod(other, self)
    def __pow__(self, other): return _t().pow(self, other)
    def __rpow__(self, other): return _t().pow(other, self)
    def __matmul__(self, other): return _t().matmul(self, other)
    def __rmatmul__(self, other): return _t().matmul(other, self)
    def __neg__(self): return _t().neg(self)
    def __pos__(self): return self
    def __abs__(self): return _t().abs_(self)
    def __invert__(self): return _t().invert(self)
    def __and__(self, other): return _t().and_(self, other)
    def __rand__(self, other): return _t().and_(other, self)
    def __or__(self, other): return _t().or_(self, other)
    def __ror__(self, other): return _t().or_(other, self)
    def __xor__(self, other): return _t().xor(self, other)
    def __rxor__(self, other): return _t().xor(other, self)

    # comparisons are symbolic; == and != keep Python identity (variables are dict keys)
    def __lt__(self, other): return _t().lt(self, other)
    def __le__(self, other): return _t().le(self, other)
    def __gt__(self, other): return _t().gt(self, other)
    def __ge__(self, other): return _t().ge(self, other)
    __eq__ = object.__eq__
    __hash__ = object.__hash__

    def __bool__(self):
        raise TypeError(
            f"the truth value of the symbolic variable {self} is unknown until the graph runs; "
            "use T.switch / ifelse for a symbolic condition, or compare with T.eq / T.lt. "
            f"At {here()}")

    def __len__(self):
        raise TypeError(f"len() of a symbolic tensor is not known before it runs; use {self}.shape[0]")

    def __iter__(self):
        n = self.type.shape[0] if self.ndim else None
        if n is None:
            raise TypeError(f"cannot iterate over {self}: its length is not known statically; "
                            "use scan or index with x[i]")
        return (self[i] for i in range(n))

    def __getitem__(self, index):
        from .subtensor import getitem

        return getitem(self, index)

    def __setitem__(self, index, value):
        raise TypeError(
            f"symbolic variables are immutable: use T.set_subtensor({self}[...], value) or "
            f"T.inc_subtensor(...), which return a new variable. At {here()}")

    # attributes
    @property
    def ndim(self) -> int:
        return self.type.ndim

    @property
    def dtype(self) -> str:
        return self.type.dtype

    @property
    def broadcastable(self) -> tuple:
        return self.type.broadcastable

    @property
    def shape(self):
        from .shape_ops import shape

        return shape(self)

    @property
    def size(self):
        return _t().prod(self.shape)

    @property
    def T(self):
        return self.transpose()

    # methods
    def sum(self, axis=None, dtype=None, keepdims=False, acc_dtype=None):
        return _t().sum(self, axis=axis, dtype=dtype, keepdims=keepdims, acc_dtype=acc_dtype)

    def prod(self, axis=None, dtype=None, keepdims=False, acc_dtype=None):
        return _t().prod(self, axis=axis, dtype=dtype, keepdims=keepdims, acc_dtype=acc_dtype)

    def mean(self, axis=None, dtype=None, keepdims=False, acc_dtype=None):
        return _t().mean(self, axis=axis, dtype=dtype, keepdims=keepdims, acc_dtype=acc_dtype)

    def var(self, axis=None, ddof=0, keepdims=False, corrected=False):
        return _t().var(self, axis=axis, ddof=ddof, keepdims=keepdims, corrected=corrected)

    def std(self, axis=None, ddof=0, keepdims=False, corrected=False):
        return _t().std(self, axis=axis, ddof=ddof, keepdims=keepdims, corrected=corrected)

    def max(self, axis=None, keepdims=False):
        return _t().max(self, axis=axis, keepdims=keepdims)

    def min(self, axis=None, keepdims=False):
        return _t().min(self, axis=axis, keepdims=keepdims)

    def argmax(self, axis=None, keepdims=False):
        return _t().argmax(self, axis=axis, keepdims=keepdims)

    def argmin(self, axis=None, keepdims=False):
        return _t().argmin(self, axis=axis, keepdims=keepdims)

    def any(self, axis=None, keepdims=False):
        return _t().any(self, axis=axis, keepdims=keepdims)

    def all(self, axis=None, keepdims=False):
        return _t().all(self, axis=axis, keepdims=keepdims)

    def norm(self, L, axis=None, keepdims=False):
        if L == 1:
            return self.__abs__().sum(axis=axis, keepdims=keepdims)
        if L == 2:
            return _t().sqrt(_t().sqr(self).sum(axis=axis, keepdims=keepdims))
        return (abs(self) ** L).sum(axis=axis, keepdims=keepdims) ** (1.0 / L)

    def reshape(self, shape, *more, ndim=None):
        from .shape_ops import reshape

        if more:
            shape = (shape,) + more
        return reshape(self, shape, ndim=ndim)

    def dimshuffle(self, *pattern):
        from .elemwise import dimshuffle

        if len(pattern) == 1 and isinstance(pattern[0], (list, tuple)):
            pattern = tuple(pattern[0])
        return dimshuffle(self, pattern)

    def flatten(self, ndim=1, outdim=None):
        from .shape_ops import flatten

        return flatten(self, outdim if outdim is not None else ndim)

    def transpose(self, *axes):
        from .elemwise import transpose

        if len(axes) == 1 and isinstance(axes[0], (list, tuple)):
            axes = tuple(axes[0])
        return transpose(self, axes or None)

    def astype(self, dtype):
        return _t().cast(self, dtype)

    def clip(self, a_min, a_max):
        return _t().clip(self, a_min, a_max)

    def round(self, mode=None):
        return _t().round(self, mode)

    def dot(self, other):
        return _t().dot(self, other)

    def __dot__(self, other):
        return _t().dot(self, other)

    def __rdot__(self, other):
        return _t().dot(other, self)

    def nonzero(self, return_matrix=False):
        from .sort_ops import nonzero

        return nonzero(self, return_matrix=return_matrix)

    def nonzero_values(self):
        from .sort_ops import nonzero_values

        return nonzero_values(self)

    def sort(self, axis=-1, kind="quicksort", order=None):
        from .sort_ops import sort

        return sort(self, axis, kind, order)

    def argsort(self, axis=-1, kind="quicksort", order=None):
        from .sort_ops import argsort

        return argsort(self, axis, kind, order)

    def squeeze(self, axis=None):
        from .shape_ops import squeeze

        return squeeze(self, axis)

    def repeat(self, repeats, axis=None):
        from .extra_ops import repeat

        return repeat(self, repeats, axis)

    def cumsum(self, axis=None):
        from .extra_ops import cumsum

        return cumsum(self, axis)

    def cumprod(self, axis=None):
        from .extra_ops import cumprod

        return cumprod(self, axis)

    def zeros_like(self, dtype=None):
        return _t().zeros_like(self, dtype=dtype)

    def ones_like(self, dtype=None):
        return _t().ones_like(self, dtype=dtype)

    def copy(self, name=None):
        out = _t().tensor_copy(self)
        out.name = name
        return out

    def diagonal(self, offset=0, axis1=0, axis2=1):
        from .extra_ops import diagonal

        return diagonal(self, offset, axis1, axis2)

    def trace(self):
        return self.diagonal().sum()

    def conj(self):
        return _t().conj(self)

    @property
    def real(self):
        return _t().real(self)

    @property
    def imag(self):
        return _t().imag(self)

    def fill(self, value):
        return _t().fill(self, value)

    def take(self, indices, axis=None, mode="raise"):
        from .subtensor import take

        return take(self, indices, axis, mode)

    def choose(self, choices):
        raise NotImplementedError("choose is not supported; use T.switch or indexing")

    def __array__(self, *args, **kwargs):
        raise TypeError(
            f"{self} is symbolic: NumPy cannot compute with it. Use the arignote.tensor (T.*) "
            "functions to build expressions, then theano.function or .eval() to compute them.")

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        # `numpy_array + variable` must build a graph, not an object array
        if method != "__call__" or kwargs:
            return NotImplemented
        fn = _UFUNC_TO_OP.get(ufunc.__name__)
        if fn is None:
            return NotImplemented
        return getattr(_t(), fn)(*inputs)


_UFUNC_TO_OP = {
    "add": "add", "subtract": "sub", "multiply": "mul", "true_divide": "true_div", "divide": "true_div",
    "floor_divide": "int_div", "remainder": "mod", "power": "pow", "less": "lt", "less_equal": "le",
    "greater": "gt", "greater_equal": "ge", "equal": "eq", "not_equal": "neq", "matmul": "matmul",
    "bitwise_and": "and_", "bitwise_or": "or_", "bitwise_xor": "xor",
}


class TensorVariable(_TensorOperators, Variable):
    """A symbolic n-dimensional array (`T.fmatrix('x')` makes one)."""


class TensorConstant(_TensorOperators, Constant):
    """A tensor whose value is fixed in the graph."""

    def __str__(self):
        if self.name is not None:
            return self.name
        from ..graph.basic import _short_data

        return f"TensorConstant{{{_short_data(self.data)}}}"

    @property
    def value(self):
        return self.data


TensorType.variable_type = TensorVariable
TensorType.constant_type = TensorConstant


def _python_scalar_dtype(x) -> str:
    from ..config import config

    if isinstance(x, bool):
        return "bool"
    if isinstance(x, numbers.Integral):
        return "int64" if -(2 ** 63) <= x < 2 ** 63 else "uint64"
    if isinstance(x, numbers.Real):
        return config.floatX
    return "complex128"


def constant(x: Any, name: str | None = None, ndim: int | None = None, dtype=None) -> TensorConstant:
    """A constant tensor holding `x` (an array, a nested list or a scalar).

    Python ints become int64 and Python floats config.floatX (NumPy 2's
    defaults, with Theano's floatX rule for floats).
    """
    if isinstance(x, Variable):
        raise TypeError(f"constant() takes a value, got the symbolic variable {x}")
    if dtype is None and isinstance(x, (bool, numbers.Number)) and not isinstance(x, np.generic):
        dtype = _python_scalar_dtype(x)
    try:
        arr = np.asarray(x, dtype=None if dtype is None else np.dtype(dtype))
    except (TypeError, ValueError, OverflowError) as e:
        raise TypeError(f"cannot make a tensor constant from {x!r}: {e}. At {here()}") from None
    if arr.dtype == object:
        raise TypeError(f"cannot make a tensor constant from {x!r} (ragged or non-numeric). At {here()}")
    if arr.dtype.kind == "U" or arr.dtype.kind == "S":
        raise TypeError(f"cannot make a tensor constant from the string {x!r}. At {here()}")
    if dtype is None and arr.dtype == np.float64 and _all_python_floats(x):
        from ..config import config

        arr = arr.astype(config.floatX)
    if ndim is not None:
        if arr.ndim > ndim:
            squeezable = arr.ndim - ndim
            if all(s == 1 for s in arr.shape[:squeezable]):
                arr = arr.reshape(arr.shape[squeezable:])
            else:
                raise ValueError(f"cannot make a {ndim}-d constant from an array of shape {arr.shape}")
        while arr.ndim < ndim:
            arr = arr[None]
    ttype = TensorType(arr.dtype.name, shape=arr.shape)
    return TensorConstant(ttype, arr, name=name)


def _all_python_floats(x) -> bool:
    """A Python float, or a (nested) list of Python numbers holding at least one float.

    NumPy scalars are excluded on purpose: np.float64(2.0) keeps its dtype.
    """
    if type(x) is float:
        return True
    if isinstance(x, (list, tuple)) and x:
        return all(_all_python_floats(v) or type(v) is int for v in x) and any(_contains_float(v) for v in x)
    return False


def _contains_float(x) -> bool:
    if type(x) is float:
        return True
    if isinstance(x, (list, tuple)):
        return any(_contains_float(v) for v in x)
    return False


def as_tensor_variable(x: Any, name: str | None = None, ndim: int | None = None, dtype=None) -> Variable:
    """`x` as a tensor variable: variables pass through, values become constants.

    A list that holds variables is stacked (`T.nnet.softmax([v])` in old code).
    """
    if isinstance(x, Variable):
        if not isinstance(x.type, TensorType):
            if hasattr(x, "_as_tensor_variable"):
                return x._as_tensor_variable()
            raise TypeError(f"{x} has type {x.type}, which is not a tensor. At {here()}")
        if ndim is not None and x.ndim != ndim:
            if x.ndim > ndim and all(x.broadcastable[: x.ndim - ndim]):
                from .elemwise import dimshuffle

                return dimshuffle(x, tuple(range(x.ndim - ndim, x.ndim)))
            raise TypeError(f"{x} has {x.ndim} dimensions, expected {ndim}. At {here()}")
        if dtype is not None and x.dtype != np.dtype(dtype).name:
            return _t().cast(x, dtype)
        return x
    if hasattr(x, "_as_tensor_variable"):
        return x._as_tensor_variable()
    if isinstance(x, (list, tuple)) and any(isinstance(v, Variable) or _holds_variable(v) for v in x):
        parts = [as_tensor_variable(v) for v in x]
        if all(p.ndim == 0 for p in parts):
            from .shape_ops import make_vector

            stacked = make_vector(parts)
        else:
            from .join_ops import stack

            stacked = stack(parts)
        return as_tensor_variable(stacked, name, ndim, dtype)
    return constant(x, name=name, ndim=ndim, dtype=dtype)


def _holds_variable(v) -> bool:
    return isinstance(v, (list, tuple)) and any(isinstance(e, Variable) or _holds_variable(e) for e in v)
