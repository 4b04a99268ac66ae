"""The scalar function table: every elementwise function, defined once.

A row gives the function's name, arity, output dtype rule, NumPy/SciPy
implementation and gradient. The gradient is written against the tensor
namespace `t` it is handed (so the table never imports tensor code), with
`xs` the inputs, `z` the output and `g` the output's gradient; an entry is
None where the gradient is zero (piecewise-constant functions, comparisons)
and `UNDEFINED` where there is none (the order of a Bessel function). Backends add
their own code snippets to a row (`ScalarFn.backend_code`) without touching
the math.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import scipy.special as sp

from . import dtypes as D


@dataclass(eq=False)
class ScalarFn:
    name: str
    nin: int
    dtype_rule: Callable[..., str]
    numpy: Callable
    grad: Callable | None = None  # (t, xs, z, g) -> list of input gradients (None: zero, UNDEFINED)
    symbol: str | None = None  # infix operator for printing, e.g. '+'
    commutative: bool = False
    associative: bool = False
    cast_inputs: bool = False  # compute in the output dtype (ints to float first)
    backend_code: dict = field(default_factory=dict)

    def __repr__(self):
        return f"ScalarFn({self.name})"

    def __hash__(self):
        return hash(self.name)

    def __eq__(self, other):
        return isinstance(other, ScalarFn) and other.name == self.name

    def __reduce__(self):  # pickled by name: the table is the single source
        return (get, (self.name,))


TABLE: dict[str, ScalarFn] = {}

#: a gradient entry meaning "not differentiable w.r.t. this argument" (None means "zero")
UNDEFINED = "undefined"


def define(name, nin, dtype_rule, numpy, grad=None, **kw) -> ScalarFn:
    fn = ScalarFn(name, nin, dtype_rule, numpy, grad, **kw)
    TABLE[name] = fn
    return fn


def get(name: str) -> ScalarFn:
    return TABLE[name]


def _floor_div(a, b):
    return np.floor_divide(a, b)


def _inv(x):
    return np.reciprocal(x)


def _sqr(x):
    return np.multiply(x, x)


def _erfinv(x):
    return sp.erfinv(x)


def _psi(x):
    return sp.psi(x)


def _trigamma(x):
    return sp.polygamma(1, x)


def _polygamma(n, x):
    return sp.polygamma(n, x)


def _round_half_to_even(x):
    return np.round(x)


def _round_half_away(x):
    # x - trunc(x) is exact, unlike x + 0.5 (0.49999999999999994 + 0.5 rounds up to 1.0)
    t = np.trunc(x)
    with np.errstate(invalid="ignore"):  # inf - inf: the nan compares False, inf stays inf
        return (t + np.sign(x) * (np.abs(x - t) >= 0.5)).astype(x.dtype)


def _clip(x, lo, hi):
    return np.minimum(np.maximum(x, lo), hi)


def _switch(c, a, b):
    return np.where(c, a, b)


def _identity(x):
    return x


# --- arithmetic ----------------------------------------------------------------
ADD = define("add", -1, D.upcast, np.add, lambda t, xs, z, g: [g for _ in xs], symbol="+",
             commutative=True, associative=True)
SUB = define("sub", 2, D.upcast_no_bool, np.subtract, lambda t, xs, z, g: [g, -g], symbol="-")
MUL = define("mul", -1, D.upcast, np.multiply,
             lambda t, xs, z, g: [g * t.mul(*(xs[:i] + xs[i + 1:])) if len(xs) > 1 else g
                                  for i in range(len(xs))],
             symbol="*", commutative=True, associative=True)
TRUE_DIV = define("true_div", 2, D.float_out, np.true_divide,
                  lambda t, xs, z, g: [g / xs[1], -g * xs[0] / (xs[1] * xs[1])], symbol="/",
                  cast_inputs=True)
INT_DIV = define("int_div", 2, D.upcast, _floor_div, None, symbol="//")
MOD = define("mod", 2, D.upcast, np.mod, lambda t, xs, z, g: [g, -g * t.floor(xs[0] / xs[1])], symbol="%")
POW = define("pow", 2, D.upcast, np.power,
             lambda t, xs, z, g: [g * xs[1] * xs[0] ** (xs[1] - 1),
                                  g * t.log(t.switch(t.eq(xs[0], 0), 1, xs[0])) * z], symbol="**")
NEG = define("neg", 1, D.upcast_no_bool, np.negative, lambda t, xs, z, g: [-g], symbol="-")
ABS = define("abs", 1, D.real_out, np.abs, lambda t, xs, z, g: [g * t.sgn(xs[0])])
SGN = define("sgn", 1, D.upcast_no_bool, np.sign, None)
SQR = define("sqr", 1, D.upcast, _sqr, lambda t, xs, z, g: [g * 2 * xs[0]])
INV = define("inv", 1, D.float_out, _inv, lambda t, xs, z, g: [-g * z * z], cast_inputs=True)
MAXIMUM = define("maximum", 2, D.upcast, np.maximum,
                 lambda t, xs, z, g: [g * t.eq(z, xs[0]), g * t.eq(z, xs[1])], commutative=True)
MINIMUM = define("minimum", 2, D.upcast, np.minimum,
                 lambda t, xs, z, g: [g * t.eq(z, xs[0]), g * t.eq(z, xs[1])], commutative=True)
CLIP = define("clip", 3, D.upcast, _clip,
              lambda t, xs, z, g: [g * t.and_(t.ge(xs[0], xs[1]), t.le(xs[0], xs[2])),
                                   g * t.lt(xs[0], xs[1]), g * t.gt(xs[0], xs[2])])
SWITCH = define("switch", 3, D.float_out_second, _switch,
                lambda t, xs, z, g: [None, t.switch(xs[0], g, 0), t.switch(xs[0], 0, g)])

# --- exponentials and logarithms ------------------------------------------------------
EXP = define("exp", 1, D.float_out, np.exp, lambda t, xs, z, g: [g * z], cast_inputs=True)
EXP2 = define("exp2", 1, D.float_out, np.exp2, lambda t, xs, z, g: [g * z * math.log(2.0)], cast_inputs=True)
EXPM1 = define("expm1", 1, D.float_out, np.expm1, lambda t, xs, z, g: [g * (z + 1)], cast_inputs=True)
LOG = define("log", 1, D.float_out, np.log, lambda t, xs, z, g: [g / xs[0]], cast_inputs=True)
LOG2 = define("log2", 1, D.float_out, np.log2, lambda t, xs, z, g: [g / (xs[0] * math.log(2.0))],
              cast_inputs=True)
LOG10 = define("log10", 1, D.float_out, np.log10, lambda t, xs, z, g: [g / (xs[0] * math.log(10.0))],
               cast_inputs=True)
LOG1P = define("log1p", 1, D.float_out, np.log1p, lambda t, xs, z, g: [g / (1 + xs[0])], cast_inputs=True)
SQRT = define("sqrt", 1, D.float_out, np.sqrt, lambda t, xs, z, g: [g / (2 * z)], cast_inputs=True)

# --- trigonometric and hyperbolic ----------------------------------------------------
SIN = define("sin", 1, D.float_out, np.sin, lambda t, xs, z, g: [g * t.cos(xs[0])], cast_inputs=True)
COS = define("cos", 1, D.float_out, np.cos, lambda t, xs, z, g: [-g * t.sin(xs[0])], cast_inputs=True)
TAN = define("tan", 1, D.float_out, np.tan, lambda t, xs, z, g: [g * (1 + z * z)], cast_inputs=True)
ARCSIN = define("arcsin", 1, D.float_out, np.arcsin, lambda t, xs, z, g: [g / t.sqrt(1 - t.sqr(xs[0]))],
                cast_inputs=True)
ARCCOS = define("arccos", 1, D.float_out, np.arccos, lambda t, xs, z, g: [-g / t.sqrt(1 - t.sqr(xs[0]))],
                cast_inputs=True)
ARCTAN = define("arctan", 1, D.float_out, np.arctan, lambda t, xs, z, g: [g / (1 + t.sqr(xs[0]))],
                cast_inputs=True)
ARCTAN2 = define("arctan2", 2, D.float_out, np.arctan2,
                 lambda t, xs, z, g: [g * xs[1] / (t.sqr(xs[0]) + t.sqr(xs[1])),
                                      -g * xs[0] / (t.sqr(xs[0]) + t.sqr(xs[1]))], cast_inputs=True)
SINH = define("sinh", 1, D.float_out, np.sinh, lambda t, xs, z, g: [g * t.cosh(xs[0])], cast_inputs=True)
COSH = define("cosh", 1, D.float_out, np.cosh, lambda t, xs, z, g: [g * t.sinh(xs[0])], cast_inputs=True)
TANH = define("tanh", 1, D.float_out, np.tanh, lambda t, xs, z, g: [g * (1 - z * z)], cast_inputs=True)
ARCSINH = define("arcsinh", 1, D.float_out, np.arcsinh, lambda t, xs, z, g: [g / t.sqrt(t.sqr(xs[0]) + 1)],
                 cast_inputs=True)
ARCCOSH = define("arccosh", 1, D.float_out, np.arccosh, lambda t, xs, z, g: [g / t.sqrt(t.sqr(xs[0]) - 1)],
                 cast_inputs=True)
ARCTANH = define("arctanh", 1, D.float_out, np.arctanh, lambda t, xs, z, g: [g / (1 - t.sqr(xs[0]))],
                 cast_inputs=True)

# --- special functions ------------------------------------------------------------
ERF = define("erf", 1, D.float_out_no_complex, sp.erf,
             lambda t, xs, z, g: [g * (2.0 / math.sqrt(math.pi)) * t.exp(-t.sqr(xs[0]))], cast_inputs=True)
ERFC = define("erfc", 1, D.float_out_no_complex, sp.erfc,
              lambda t, xs, z, g: [-g * (2.0 / math.sqrt(math.pi)) * t.exp(-t.sqr(xs[0]))], cast_inputs=True)
ERFINV = define("erfinv", 1, D.float_out_no_complex, _erfinv,
                lambda t, xs, z, g: [g * (math.sqrt(math.pi) / 2) * t.exp(t.sqr(z))], cast_inputs=True)
GAMMALN = define("gammaln", 1, D.float_out_no_complex, sp.gammaln, lambda t, xs, z, g: [g * t.psi(xs[0])],
                 cast_inputs=True)
PSI = define("psi", 1, D.float_out_no_complex, _psi, lambda t, xs, z, g: [g * t.tri_gamma(xs[0])],
             cast_inputs=True)
TRI_GAMMA = define("tri_gamma", 1, D.float_out_no_complex, _trigamma,
                   lambda t, xs, z, g: [g * t.polygamma(2, xs[0])], cast_inputs=True)
# polygamma(n, x): the n-th derivative of psi; the order n is an integer (no gradient)
POLYGAMMA = define("polygamma", 2, D.float_out_of_second_discrete_first, _polygamma,
                   lambda t, xs, z, g: [None, g * t.polygamma(xs[0] + 1, xs[1])])
SIGMOID = define("sigmoid", 1, D.float_out_no_complex, sp.expit, lambda t, xs, z, g: [g * z * (1 - z)],
                 cast_inputs=True)
SOFTPLUS = define("softplus", 1, D.float_out_no_complex,
                  lambda x: np.logaddexp(np.zeros((), dtype=x.dtype), x),
                  lambda t, xs, z, g: [g * t.sigmoid(xs[0])], cast_inputs=True)

GAMMA = define("gamma", 1, D.float_out_no_complex, sp.gamma, lambda t, xs, z, g: [g * z * t.psi(xs[0])],
               cast_inputs=True)
ERFCX = define("erfcx", 1, D.float_out_no_complex, sp.erfcx,
               lambda t, xs, z, g: [g * (2 * xs[0] * z - 2.0 / math.sqrt(math.pi))], cast_inputs=True)
ERFCINV = define("erfcinv", 1, D.float_out_no_complex, sp.erfcinv,
                 lambda t, xs, z, g: [-g * (math.sqrt(math.pi) / 2) * t.exp(t.sqr(z))], cast_inputs=True)
# Bessel functions; d/dx of the order-v ones: (f(v-1, x) -/+ f(v+1, x)) / 2 (no gradient w.r.t. v)
J0 = define("j0", 1, D.float_out_no_complex, sp.j0, lambda t, xs, z, g: [-g * t.j1(xs[0])], cast_inputs=True)
J1 = define("j1", 1, D.float_out_no_complex, sp.j1,
            lambda t, xs, z, g: [g * (t.j0(xs[0]) - t.jv(2, xs[0])) / 2], cast_inputs=True)
JV = define("jv", 2, D.float_out_no_complex, sp.jv,
            lambda t, xs, z, g: [UNDEFINED, g * (t.jv(xs[0] - 1, xs[1]) - t.jv(xs[0] + 1, xs[1])) / 2],
            cast_inputs=True)
I0 = define("i0", 1, D.float_out_no_complex, sp.i0, lambda t, xs, z, g: [g * t.i1(xs[0])], cast_inputs=True)
I1 = define("i1", 1, D.float_out_no_complex, sp.i1,
            lambda t, xs, z, g: [g * (t.i0(xs[0]) + t.iv(2, xs[0])) / 2], cast_inputs=True)
IV = define("iv", 2, D.float_out_no_complex, sp.iv,
            lambda t, xs, z, g: [UNDEFINED, g * (t.iv(xs[0] - 1, xs[1]) + t.iv(xs[0] + 1, xs[1])) / 2],
            cast_inputs=True)
# chi2sf(x, k): the survival function of the chi-squared distribution with k degrees of freedom
CHI2SF = define("chi2sf", 2, D.float_out_no_complex, lambda x, k: sp.chdtrc(k, x),
                lambda t, xs, z, g: [-g * t.exp((xs[1] / 2 - 1) * t.log(xs[0]) - xs[0] / 2
                                                - (xs[1] / 2) * math.log(2.0) - t.gammaln(xs[1] / 2)),
                                     UNDEFINED], cast_inputs=True)

# --- rounding (piecewise constant: zero gradient) ----------------------------------------
FLOOR = define("floor", 1, D.float_out_no_complex, np.floor, None, cast_inputs=True)
CEIL = define("ceil", 1, D.float_out_no_complex, np.ceil, None, cast_inputs=True)
TRUNC = define("trunc", 1, D.float_out_no_complex, np.trunc, None, cast_inputs=True)
ROUND_HALF_TO_EVEN = define("round_half_to_even", 1, D.float_out_no_complex, _round_half_to_even, None,
                            cast_inputs=True)
ROUND_HALF_AWAY = define("round_half_away_from_zero", 1, D.float_out_no_complex, _round_half_away, None,
                         cast_inputs=True)

DEG2RAD = define("deg2rad", 1, D.float_out_no_complex, np.deg2rad, lambda t, xs, z, g: [g * (math.pi / 180)],
                 cast_inputs=True)
RAD2DEG = define("rad2deg", 1, D.float_out_no_complex, np.rad2deg, lambda t, xs, z, g: [g * (180 / math.pi)],
                 cast_inputs=True)

# --- comparisons, predicates and logic (not differentiable) ----------------------------------
EQ = define("eq", 2, D.bool_out, np.equal, symbol="==", commutative=True)
NEQ = define("neq", 2, D.bool_out, np.not_equal, symbol="!=", commutative=True)
LT = define("lt", 2, D.bool_out, np.less, symbol="<")
GT = define("gt", 2, D.bool_out, np.greater, symbol=">")
LE = define("le", 2, D.bool_out, np.less_equal, symbol="<=")
GE = define("ge", 2, D.bool_out, np.greater_equal, symbol=">=")
ISNAN = define("isnan", 1, D.bool_out, np.isnan)
ISINF = define("isinf", 1, D.bool_out, np.isinf)
AND = define("and_", 2, D.discrete_only, np.bitwise_and, symbol="&", commutative=True, associative=True)
OR = define("or_", 2, D.discrete_only, np.bitwise_or, symbol="|", commutative=True, associative=True)
XOR = define("xor", 2, D.discrete_only, np.bitwise_xor, symbol="^", commutative=True, associative=True)
INVERT = define("invert", 1, D.discrete_only, np.invert, symbol="~")

# --- identity-like ---------------------------------------------------------------------
IDENTITY = define("identity", 1, D.same_out, np.copy, lambda t, xs, z, g: [g])
# second(a, b) (Theano's `fill`): b, broadcast to the shape of a
SECOND = define("second", 2, lambda a, b: b,
                lambda a, b: np.broadcast_to(b, np.broadcast_shapes(np.shape(a), np.shape(b))).copy(),
                lambda t, xs, z, g: [None, g])
# cast: the Elemwise node carries the target dtype; the gradient casts back
CAST = define("cast", 1, D.same_out, _identity,
              lambda t, xs, z, g: [t.cast(g, xs[0].dtype) if not D.is_discrete(xs[0].dtype) else None])
