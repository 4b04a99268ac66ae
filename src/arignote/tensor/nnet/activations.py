"""Activation functions of `theano.tensor.nnet`: relu, elu, selu, softsign.

All are compositions of elementwise functions, so their gradients (and the
gradients of those) come for free.
"""
from __future__ import annotations

import numbers

import numpy as np

from ..math import abs_, expm1, minimum, switch
from ..variable import as_tensor_variable
from .sigm import _as_float

__all__ = ["relu", "elu", "selu", "softsign"]

#: the constants of Klambauer et al. (2017), as in Theano
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _is_number(v) -> bool:
    return isinstance(v, numbers.Number) or (isinstance(v, np.ndarray) and v.ndim == 0)


def relu(x, alpha=0):
    """Rectified linear unit: `max(x, 0)`, or leaky `x if x > 0 else alpha * x`.

    Theano's formula: `0.5 * (x + |x|)`, and for alpha != 0
    `0.5 * (1 + alpha) * x + 0.5 * (1 - alpha) * |x|`. `alpha` may be a
    number (which keeps `x`'s dtype) or a tensor.
    """
    x = as_tensor_variable(x)
    if _is_number(alpha) and float(alpha) == 0:
        return 0.5 * (x + abs_(x))
    if _is_number(alpha):
        # Python floats stay weak, so a float32 x gives a float32 result
        f1, f2 = 0.5 * (1 + float(alpha)), 0.5 * (1 - float(alpha))
    else:
        alpha = as_tensor_variable(alpha)
        f1, f2 = 0.5 * (1 + alpha), 0.5 * (1 - alpha)
    return f1 * x + f2 * abs_(x)


def elu(x, alpha=1):
    """Exponential linear unit: `x if x > 0 else alpha * (exp(x) - 1)`."""
    x = _as_float(x)
    # expm1 of min(x, 0): the unused branch must stay finite or its zero gradient becomes 0 * inf
    return switch(x > 0, x, alpha * expm1(minimum(x, 0)))


def selu(x):
    """Scaled exponential linear unit: `scale * elu(x, alpha)` with the self-normalising constants."""
    return SELU_SCALE * elu(x, SELU_ALPHA)


def softsign(x):
    """`x / (1 + |x|)`."""
    x = _as_float(x)
    return x / (1 + abs_(x))
