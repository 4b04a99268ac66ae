"""Sigmoid and its approximations (`theano.tensor.nnet.sigm`).

`sigmoid` and `softplus` are the elementwise functions of `arignote.tensor`
(the same objects). `ultra_fast_sigmoid` and `hard_sigmoid` are Theano's
cheaper piecewise approximations, with the gradients of those approximations.
"""
from __future__ import annotations

from ...scalar.dtypes import float_out
from ..math import abs_, cast, clip, sgn, sigmoid, softplus, switch
from ..variable import as_tensor_variable

__all__ = ["sigmoid", "softplus", "ultra_fast_sigmoid", "hard_sigmoid"]


def _as_float(x):
    """`x` as a tensor of the float dtype its elementwise functions produce."""
    x = as_tensor_variable(x)
    try:
        dtype = float_out(x.dtype)
    except TypeError:  # pragma: no cover - float_out accepts every dtype
        dtype = x.dtype
    if dtype.startswith("complex"):
        from ...graph.sourceline import here

        raise TypeError(f"this activation is not defined for the complex tensor {x} ({x.dtype}). At {here()}")
    return cast(x, dtype)


def ultra_fast_sigmoid(x):
    """Theano's piecewise approximation of the sigmoid (absolute error below 0.03).

    `0.5 * (t(x / 2) + 1)` where `t` approximates tanh: `1.5u / (1 + |u|)` for
    |u| < 1.7, a line up to |u| = 3, then the constant 0.99505475368673 (with
    the sign of u). Integers are computed as floats.
    """
    x = _as_float(x)
    u = 0.5 * x
    a = abs_(u)
    # 1.5u / (1 + |u|) is odd already; the outer pieces take the sign of u
    near = 1.5 * u / (1 + a)
    middle = sgn(u) * (0.935409070603099 + 0.0458812946797165 * (a - 1.7))
    far = sgn(u) * 0.99505475368673
    z = switch(a < 1.7, near, switch(a < 3, middle, far))
    return 0.5 * (z + 1.0)


def hard_sigmoid(x):
    """Theano's piecewise linear sigmoid: `clip(0.2 * x + 0.5, 0, 1)`, in `x`'s float dtype."""
    x = _as_float(x)
    return clip(x * 0.2 + 0.5, 0, 1)
