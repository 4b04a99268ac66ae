"""Helpers shared by the tensor op families (join_ops, construct, extra_ops, sort_ops).

How an error message names a variable and where the user built it, reading
static ints and axes with clear errors, and the gradients of inputs that have
none (disconnected, zeros for discrete inputs).
"""
from __future__ import annotations

import numbers

import numpy as np

from ..graph.basic import Constant, Variable
from ..graph.sourceline import here
from ..scalar.dtypes import is_discrete
from .variable import as_tensor_variable


def describe(var, position: int | None = None) -> str:
    """How an error message names a variable: its name, else its position and repr."""
    if getattr(var, "name", None):
        return f"'{var.name}'"
    return f"input {position} ({var})" if position is not None else str(var)


def static_int(v):
    """The Python int `v` stands for when known at build time, else None."""
    if isinstance(v, (bool, np.bool_)):
        return None
    if isinstance(v, (numbers.Integral, np.integer)):
        return int(v)
    if isinstance(v, Constant) and np.ndim(v.data) == 0 and np.asarray(v.data).dtype.kind in "iu":
        return int(v.data)
    return None


def int_scalar(v, what: str, fn: str) -> Variable:
    """`v` as an integer scalar variable, or a TypeError naming `what`."""
    v = as_tensor_variable(v)
    if v.ndim != 0 or v.dtype[0] not in "iu":
        raise TypeError(f"{fn}: {what} must be an integer scalar, got {v} ({v.type}). At {here()}")
    return v


def int_vector(v, what: str, fn: str) -> Variable:
    """Sizes given as ints, int scalars or an int vector, as an int64 vector (TypeError otherwise)."""
    from .shape_ops import as_shape_vector

    items = [v] if isinstance(v, (numbers.Number, np.generic)) else v
    if isinstance(items, (list, tuple)):
        for i, e in enumerate(items):
            ndim, kind = (e.ndim, e.dtype[0]) if isinstance(e, Variable) else (np.ndim(e), np.asarray(e).dtype.kind)
            if ndim != 0 or kind not in "iu":
                raise TypeError(f"{fn}: {what} must be integers, but entry {i} is {e!r}. At {here()}")
    return as_shape_vector(v, f"{fn}'s {what}")


def normalize_axis(axis: int, ndim: int, fn: str, var=None) -> int:
    """A possibly negative axis as 0..ndim-1, or a ValueError that names `var`."""
    if not isinstance(axis, (numbers.Integral, np.integer)) or isinstance(axis, bool):
        raise TypeError(f"{fn}: axis must be an int, got {axis!r}. At {here()}")
    if not -ndim <= axis < ndim:
        whose = f" of {describe(var)}" if var is not None else ""
        raise ValueError(f"{fn}: axis {axis} is out of range for the {ndim} dimension{'s' if ndim != 1 else ''}"
                         f"{whose}. At {here()}")
    return int(axis) % ndim


def dim(x, i: int):
    """Length of dimension `i` of `x`: a Python int when static, else a symbolic scalar."""
    s = x.type.shape[i]
    if s is not None:
        return s
    from .shape_ops import shape

    return shape(x)[i]


def built_at(node) -> str:
    """For run-time errors: where the user built the failing expression."""
    return f"(built at {node.outputs[0].creation_line})"


def float_zeros_like(x):
    """The zero gradient of a discrete input (floatX), or of a continuous one (its dtype)."""
    from .. import tensor as t

    return t.zeros_like(x, dtype="floatX" if is_discrete(x.dtype) else x.dtype)


def disconnected():
    from ..gradient import DisconnectedType

    return DisconnectedType()()


def grad_as(g, x):
    """Gradient `g` adjusted to input `x`: zeros for discrete `x`, else cast to its dtype."""
    from .. import tensor as t

    if is_discrete(x.dtype):
        return t.zeros_like(x, dtype="floatX")
    return t.cast(g, x.dtype) if g.dtype != x.dtype else g
