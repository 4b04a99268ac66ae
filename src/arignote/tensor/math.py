"""The elementwise functions of the `T` namespace, one per scalar-table row.

`T.exp(x)`, `T.add(a, b, c)`, `T.switch(c, a, b)`, `T.cast(x, 'float32')`, ...
Each is an `Elemwise` over the table row of the same name; ops are cached so
equal nodes compare equal (and merge).
"""
from __future__ import annotations

import numpy as np

from ..graph.sourceline import here
from ..scalar import table as S
from .elemwise import Elemwise
from .type import normalize_dtype
from .variable import as_tensor_variable

_OPS: dict = {}

__all__ = [
    "add", "sub", "mul", "true_div", "int_div", "mod", "pow", "neg", "abs_", "sgn", "sqr", "inv", "maximum",
    "minimum", "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "sin", "cos", "tan", "arcsin",
    "arccos", "arctan", "arctan2", "sinh", "cosh", "tanh", "arcsinh", "arccosh", "arctanh", "erf", "erfc",
    "erfinv", "gammaln", "psi", "tri_gamma", "polygamma", "sigmoid", "softplus", "floor", "ceil", "trunc",
    "round_half_to_even", "round_half_away_from_zero", "eq", "neq", "lt", "gt", "le", "ge", "isnan", "isinf",
    "and_", "or_", "xor", "invert", "switch", "second", "tensor_copy", "clip", "true_divide", "floor_div",
    "abs", "square", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "where", "fill", "identity",
    "cast", "round", "real", "imag", "conj", "elemwise_op",
    "gamma", "erfcx", "erfcinv", "j0", "j1", "jv", "i0", "i1", "iv", "chi2sf", "deg2rad", "rad2deg",
    "iround", "isclose", "allclose", "largest", "smallest", "ceil_intdiv",
]


def elemwise_op(fn: S.ScalarFn, out_dtype: str | None = None) -> Elemwise:
    key = (fn.name, out_dtype)
    op = _OPS.get(key)
    if op is None:
        op = _OPS[key] = Elemwise(fn, out_dtype)
    return op


def _make(fn: S.ScalarFn, doc: str):
    op = elemwise_op(fn)

    def apply(*args):
        return op(*args)

    apply.__name__ = apply.__qualname__ = fn.name
    apply.__doc__ = doc
    apply.op = op
    return apply


add = _make(S.ADD, "Elementwise sum of any number of tensors: `T.add(a, b, c)`.")
sub = _make(S.SUB, "Elementwise `a - b`.")
mul = _make(S.MUL, "Elementwise product of any number of tensors.")
true_div = _make(S.TRUE_DIV, "Elementwise `a / b` (integers give floats).")
int_div = _make(S.INT_DIV, "Elementwise floor division `a // b`.")
mod = _make(S.MOD, "Elementwise remainder `a % b`, with the sign of `b` (as Python and NumPy).")
pow = _make(S.POW, "Elementwise `a ** b`.")
neg = _make(S.NEG, "Elementwise `-a`.")
abs_ = _make(S.ABS, "Elementwise absolute value.")
sgn = _make(S.SGN, "Elementwise sign (-1, 0 or 1).")
sqr = _make(S.SQR, "Elementwise square.")
inv = _make(S.INV, "Elementwise reciprocal `1 / x`.")
maximum = _make(S.MAXIMUM, "Elementwise maximum of two tensors.")
minimum = _make(S.MINIMUM, "Elementwise minimum of two tensors.")
exp = _make(S.EXP, "Elementwise exponential.")
exp2 = _make(S.EXP2, "Elementwise `2 ** x`.")
expm1 = _make(S.EXPM1, "Elementwise `exp(x) - 1`, accurate near 0.")
log = _make(S.LOG, "Elementwise natural logarithm.")
log2 = _make(S.LOG2, "Elementwise base-2 logarithm.")
log10 = _make(S.LOG10, "Elementwise base-10 logarithm.")
log1p = _make(S.LOG1P, "Elementwise `log(1 + x)`, accurate near 0.")
sqrt = _make(S.SQRT, "Elementwise square root.")
sin = _make(S.SIN, "Elementwise sine.")
cos = _make(S.COS, "Elementwise cosine.")
tan = _make(S.TAN, "Elementwise tangent.")
arcsin = _make(S.ARCSIN, "Elementwise inverse sine.")
arccos = _make(S.ARCCOS, "Elementwise inverse cosine.")
arctan = _make(S.ARCTAN, "Elementwise inverse tangent.")
arctan2 = _make(S.ARCTAN2, "Elementwise `arctan(a / b)` in the right quadrant.")
sinh = _make(S.SINH, "Elementwise hyperbolic sine.")
cosh = _make(S.COSH, "Elementwise hyperbolic cosine.")
tanh = _make(S.TANH, "Elementwise hyperbolic tangent.")
arcsinh = _make(S.ARCSINH, "Elementwise inverse hyperbolic sine.")
arccosh = _make(S.ARCCOSH, "Elementwise inverse hyperbolic cosine.")
arctanh = _make(S.ARCTANH, "Elementwise inverse hyperbolic tangent.")
erf = _make(S.ERF, "Elementwise error function.")
erfc = _make(S.ERFC, "Elementwise complementary error function.")
erfinv = _make(S.ERFINV, "Elementwise inverse error function.")
gammaln = _make(S.GAMMALN, "Elementwise log of the absolute value of the gamma function.")
psi = _make(S.PSI, "Elementwise digamma function.")
tri_gamma = _make(S.TRI_GAMMA, "Elementwise trigamma function (derivative of digamma).")
_polygamma = _make(S.POLYGAMMA, "")


def polygamma(n, x):
    """Elementwise `polygamma(n, x)`, the n-th derivative of the digamma function `psi`.

    `n` is an integer (a Python int or an integer tensor); the result is real.
    """
    if isinstance(n, (int, np.integer)) and not isinstance(n, bool):
        n = as_tensor_variable(np.asarray(n, dtype="int64"))
    return _polygamma(n, x)


sigmoid = _make(S.SIGMOID, "Elementwise logistic function `1 / (1 + exp(-x))`.")
softplus = _make(S.SOFTPLUS, "Elementwise `log(1 + exp(x))`, computed without overflow.")
gamma = _make(S.GAMMA, "Elementwise gamma function.")
erfcx = _make(S.ERFCX, "Elementwise scaled complementary error function `exp(x**2) * erfc(x)`.")
erfcinv = _make(S.ERFCINV, "Elementwise inverse of the complementary error function.")
j0 = _make(S.J0, "Elementwise Bessel function of the first kind of order 0.")
j1 = _make(S.J1, "Elementwise Bessel function of the first kind of order 1.")
jv = _make(S.JV, "`jv(v, x)`: Bessel function of the first kind of real order v (no gradient w.r.t. v).")
i0 = _make(S.I0, "Elementwise modified Bessel function of the first kind of order 0.")
i1 = _make(S.I1, "Elementwise modified Bessel function of the first kind of order 1.")
iv = _make(S.IV, "`iv(v, x)`: modified Bessel function of the first kind of real order v.")
chi2sf = _make(S.CHI2SF, "`chi2sf(x, k)`: survival function of the chi-squared distribution with k degrees "
                         "of freedom (no gradient w.r.t. k).")
deg2rad = _make(S.DEG2RAD, "Elementwise conversion from degrees to radians.")
rad2deg = _make(S.RAD2DEG, "Elementwise conversion from radians to degrees.")
floor = _make(S.FLOOR, "Elementwise floor.")
ceil = _make(S.CEIL, "Elementwise ceiling.")
trunc = _make(S.TRUNC, "Elementwise truncation towards zero.")
round_half_to_even = _make(S.ROUND_HALF_TO_EVEN, "Elementwise rounding, ties to even (NumPy's round).")
round_half_away_from_zero = _make(S.ROUND_HALF_AWAY, "Elementwise rounding, ties away from zero.")
eq = _make(S.EQ, "Elementwise `a == b` (a bool tensor).")
neq = _make(S.NEQ, "Elementwise `a != b`.")
lt = _make(S.LT, "Elementwise `a < b`.")
gt = _make(S.GT, "Elementwise `a > b`.")
le = _make(S.LE, "Elementwise `a <= b`.")
ge = _make(S.GE, "Elementwise `a >= b`.")
isnan = _make(S.ISNAN, "Elementwise test for NaN.")
isinf = _make(S.ISINF, "Elementwise test for infinity.")
and_ = _make(S.AND, "Elementwise bitwise/logical and (integers and bools).")
or_ = _make(S.OR, "Elementwise bitwise/logical or.")
xor = _make(S.XOR, "Elementwise bitwise/logical xor.")
invert = _make(S.INVERT, "Elementwise bitwise/logical not.")
switch = _make(S.SWITCH, "Elementwise `a if cond else b` (both sides are computed; see ifelse for lazy).")
second = _make(S.SECOND, "`second(a, b)`: b broadcast to the shape of a.")
tensor_copy = _make(S.IDENTITY, "A copy of the tensor.")
clip = _make(S.CLIP, "Elementwise clip of `x` to `[a_min, a_max]`.")

# Theano's other names for the same functions
true_divide = true_div
floor_div = int_div
abs = abs_
square = sqr
bitwise_and, bitwise_or, bitwise_xor, bitwise_not = and_, or_, xor, invert
where = switch
fill = second
identity = tensor_copy


def cast(x, dtype):
    """`x` converted to `dtype` (returns `x` when it already has it)."""
    x = as_tensor_variable(x)
    dtype = normalize_dtype(dtype)
    if x.dtype == dtype:
        return x
    return elemwise_op(S.CAST, dtype)(x)


def round(x, mode=None):
    """Elementwise rounding: `mode='half_to_even'` (NumPy's, the default here) or `'half_away_from_zero'`.

    Theano warned that its default would change from half-away-from-zero to
    half-to-even; we use NumPy's half-to-even and let old code pick explicitly.
    """
    if mode in (None, "half_to_even"):
        return round_half_to_even(x)
    if mode == "half_away_from_zero":
        return round_half_away_from_zero(x)
    raise ValueError(f"round: mode must be 'half_to_even' or 'half_away_from_zero', got {mode!r}. At {here()}")


def _complex_part(name, np_fn):
    def part(x):
        x = as_tensor_variable(x)
        if not x.dtype.startswith("complex"):
            return x if name != "imag" else x.zeros_like()
        raise NotImplementedError(f"{name} of complex tensors is not supported yet")

    part.__name__ = name
    return part


real = _complex_part("real", np.real)
imag = _complex_part("imag", np.imag)
conj = _complex_part("conj", np.conj)


def iround(a, mode=None):
    """`cast(round(a, mode), 'int64')`."""
    return cast(round(a, mode), "int64")


def ceil_intdiv(a, b):
    """Elementwise integer division rounding up: `ceil(a / b)` for integers."""
    div = int_div(a, b)
    return div + cast(neq(mod(a, b), 0), div.dtype)


def largest(*args):
    """Elementwise maximum of any number of tensors."""
    if not args:
        raise TypeError(f"largest needs at least one argument. At {here()}")
    out = args[0]
    for a in args[1:]:
        out = maximum(out, a)
    return as_tensor_variable(out)


def smallest(*args):
    """Elementwise minimum of any number of tensors."""
    if not args:
        raise TypeError(f"smallest needs at least one argument. At {here()}")
    out = args[0]
    for a in args[1:]:
        out = minimum(out, a)
    return as_tensor_variable(out)


def isclose(a, b, rtol=1.0e-5, atol=1.0e-8, equal_nan=False):
    """Elementwise `|a - b| <= atol + rtol * |b|` (NumPy's isclose): a bool tensor.

    Infinities are close only to the same infinity; nan is close to nan only
    with `equal_nan=True`.
    """
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    finite = invert(or_(or_(isnan(a), isnan(b)), or_(isinf(a), isinf(b))))
    close = and_(le(abs_(a - b), atol + rtol * abs_(b)), finite)
    close = or_(close, and_(isinf(a), eq(a, b)))
    if equal_nan:
        close = or_(close, and_(isnan(a), isnan(b)))
    return close


def allclose(a, b, rtol=1.0e-5, atol=1.0e-8, equal_nan=False):
    """Whether every element of `a` is close to `b` (a bool scalar); see `isclose`."""
    from .reduce import all as all_

    return all_(isclose(a, b, rtol, atol, equal_nan))
