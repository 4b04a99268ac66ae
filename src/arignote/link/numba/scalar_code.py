"""Numba code computing ONE element of an elementwise function.

`scalar_code(fn, args, arg_dtypes, out_dtype, fresh)` turns a row of the
scalar table (or a `Composite` of rows) into Python statements plus a final
expression that Numba compiles inside the Elemwise loop. The result must be
the reference backend's (`Elemwise.perform`), so the code follows NumPy's own
rules rather than Python's or Numba's:

* rows with `cast_inputs` (true_div, exp, sin, erf, floor, ...) and n-ary
  add/mul compute in the output dtype, the other inputs first converted;
* every other row computes in the dtype of the NumPy loop its ufunc picks for
  the argument dtypes (`ufunc.resolve_dtypes`: bool // bool runs in int8),
  then the result is converted to the output dtype as `np.asarray` would;
* integers wrap around (Numba widens int8 + int8 to int64: every result is
  cut back to its dtype with `np.int8(...)`), division by zero gives 0,
  `//` and `%` round towards minus infinity, and floats follow NumPy's
  `npy_divmod` (the helpers below are its C code, transcribed);
* NaN propagates through maximum/minimum/clip as in NumPy.

Functions Numba cannot compute exactly raise `NotLowerable` (`NOT_LOWERABLE`
lists them) and the node runs its NumPy perform instead.

Generated code calls the `_sc_*` helpers of `GLOBALS`. They are compiled with
`error_model="numpy"`, so a division by zero in them gives inf/NaN whatever
error model the calling kernel uses.
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np
from numba import njit

from ...scalar import table as S
from ...scalar.composite import Composite, _const_value
from .registry import NotLowerable

#: table rows with no exact Numba counterpart (SciPy special functions Numba lacks);
#: an Elemwise of one of them runs its NumPy perform
NOT_LOWERABLE = ("erfinv", "erfcinv", "erfcx", "psi", "tri_gamma", "polygamma",
                 "j0", "j1", "jv", "i0", "i1", "iv", "chi2sf")

#: the dtypes the generated code handles (Numba has no float16 arithmetic; complex is left to NumPy)
SUPPORTED_DTYPES = ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
                    "float32", "float64")

_FLOATS = ("float32", "float64")


# --- helpers called by the generated code --------------------------------------------------------
_jit = njit(cache=False, error_model="numpy")


@_jit
def _sc_div(a, b):
    return a / b


@_jit
def _sc_exp2(x):
    # not inline: Numba declares np.exp2 as the unsuffixed 'llvm.exp2', so float32 and float64 uses in
    # one function clash ("float != double"); each helper specialisation is a module of its own
    return np.exp2(x)


@_jit
def _sc_maximum(a, b):
    # NumPy's scalar rule: a NaN in either argument is the result
    return a if (a >= b or a != a) else b


@_jit
def _sc_minimum(a, b):
    return a if (a <= b or a != a) else b


@_jit
def _sc_int_floordiv(a, b):
    """Signed floor division as NumPy: x // 0 is 0, MIN // -1 wraps to MIN (the caller cuts to the dtype)."""
    a, b = np.int64(a), np.int64(b)
    if b == 0:
        return np.int64(0)
    if b == -1:  # sdiv would trap on MIN // -1
        return -a
    return a // b


@_jit
def _sc_uint_floordiv(a, b):
    a, b = np.uint64(a), np.uint64(b)
    if b == 0:
        return np.uint64(0)
    return a // b


@_jit
def _sc_int_mod(a, b):
    """Signed remainder with the sign of b, as NumPy: x % 0 is 0."""
    a, b = np.int64(a), np.int64(b)
    if b == 0 or b == -1:
        return np.int64(0)
    return a % b


@_jit
def _sc_uint_mod(a, b):
    a, b = np.uint64(a), np.uint64(b)
    if b == 0:
        return np.uint64(0)
    return a % b


@_jit
def _sc_int_pow(a, b):
    """Integer power modulo 2**64 (the caller cuts to the dtype), refusing negative exponents as NumPy."""
    if b < 0:
        raise ValueError("Integers to negative integer powers are not allowed.")
    base = np.uint64(np.int64(a))  # two's complement bits: products mod 2**64 agree with any narrower dtype
    e = np.uint64(b)
    result = np.uint64(1)
    while e > 0:
        if e & np.uint64(1):
            result = result * base
        base = base * base
        e = e >> np.uint64(1)
    return result


@_jit
def _sc_float_pow(a, b):
    return a ** b


@_jit
def _sc_compare_int_uint(a, b):
    """-1, 0 or 1 as int64 `a` is below, equal to or above uint64 `b`, exactly (NumPy 2's mixed loops)."""
    if a < 0:
        return -1
    ua = np.uint64(a)
    return -1 if ua < b else (1 if ua > b else 0)


@_jit
def _sc_gammaln(x):
    # float64; scipy's gammaln(-inf) is -inf where lgamma gives +inf (|gamma| there: no limit)
    if x == -np.inf:
        return x
    return math.lgamma(x)


@_jit
def _sc_int_sign(x):
    if x > 0:
        return 1
    if x < 0:
        return -1
    return 0


def _float_helpers(T) -> dict:
    """The helpers whose constants must have the float dtype `T` (float32 code stays float32)."""
    zero, half, one, loge2 = T(0.0), T(0.5), T(1.0), T(math.log(2.0))

    @_jit
    def divmod_(a, b):
        # npy_divmod (numpy/_core/src/npymath/npy_math_internal.h.src), for b != 0
        mod = np.fmod(a, b)
        div = (a - mod) / b
        if mod != zero:  # C's `if (mod)`: NaN counts as true
            if (b < zero) != (mod < zero):
                mod += b
                div -= one
        else:
            mod = math.copysign(zero, b)
        if div != zero:
            floordiv = np.floor(div)
            if div - floordiv > half:
                floordiv += one
        else:
            floordiv = math.copysign(zero, a / b)
        return floordiv, mod

    @_jit
    def floordiv(a, b):  # npy_floor_divide
        if b == zero:
            return a / b
        return divmod_(a, b)[0]

    @_jit
    def mod(a, b):  # npy_remainder
        if b == zero:
            return np.fmod(a, b)
        return divmod_(a, b)[1]

    @_jit
    def sign(x):  # np.sign: 0 for both zeros, NaN stays NaN
        if x > zero:
            return one
        if x < zero:
            return -one
        if x == zero:
            return zero
        return x

    @_jit
    def sigmoid(x):
        # scipy.special.expit's formula, in T (large |x| give exactly 0 or 1, no overflow)
        return one / (one + math.exp(-x))

    @_jit
    def softplus(x):
        # npy_logaddexp(0, x), in T: no overflow for large x
        if x == zero:
            return loge2
        tmp = zero - x
        if tmp > zero:
            return math.log1p(math.exp(x))
        if tmp <= zero:
            return x + math.log1p(math.exp(tmp))
        return tmp  # NaN

    @_jit
    def softplus_pair(x):
        # (softplus(x), softplus(-x)) with one exp and one log1p: both branches of npy_logaddexp(0, +-x)
        # compute log1p(exp(-|x|)), so each value is bit for bit the one softplus gives
        if x == zero:
            return loge2, loge2
        if x > zero:
            shared = math.log1p(math.exp(-x))
            return x + shared, shared
        if x < zero:
            shared = math.log1p(math.exp(x))
            return shared, -x + shared
        return x, x  # NaN

    @_jit
    def round_half_away(x):
        # x - trunc(x) is exact (x + 0.5 is not); for inf it is NaN, which keeps inf
        t = np.trunc(x)
        if abs(x - t) >= half:
            return t + sign(x)
        return t

    name = np.dtype(T).name
    fns = {"floordiv": floordiv, "mod": mod, "sign": sign, "sigmoid": sigmoid, "softplus": softplus,
           "softplus_pair": softplus_pair, "round_half_away": round_half_away}
    return {f"_sc_{k}_{name}": v for k, v in fns.items()}


GLOBALS: dict[str, object] = {"np": np, "math": math}
GLOBALS.update({k: v for k, v in globals().items() if k.startswith("_sc_")})
for _T in (np.float32, np.float64):
    GLOBALS.update(_float_helpers(_T))


# --- typed expressions --------------------------------------------------------------------------------
def _np_name(dtype: str) -> str:
    return "bool_" if dtype == "bool" else dtype


def _typed(expr: str, dtype: str) -> str:
    """`expr` converted to exactly `dtype` (integers wrap around, as NumPy's casts)."""
    head = f"np.{_np_name(dtype)}("
    if expr.startswith(head) and _closing_paren(expr, len(head) - 1) == len(expr) - 1:
        return expr
    if expr.startswith("(") and _closing_paren(expr, 0) == len(expr) - 1:
        expr = expr[1:-1]
    return f"{head}{expr})"


def _closing_paren(text: str, start: int) -> int:
    depth = 0
    for i in range(start, len(text)):
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        if depth == 0:
            return i
    return -1


def _convert(expr: str, src: str, dst: str) -> str:
    """`expr` (of dtype `src`) as NumPy's `astype(dst)` converts it."""
    if src == dst:
        return expr
    if dst == "bool":  # nonzero is True (NaN included)
        return f"({expr} != 0)"
    return _typed(expr, dst)


def _literal(value: np.ndarray, dtype: str) -> str:
    """A Numba expression for the scalar constant `value` of `dtype`, exactly."""
    v = value[()]
    if dtype == "bool":
        return "True" if v else "False"
    if dtype in _FLOATS:
        f = float(v)
        text = "np.nan" if math.isnan(f) else ("np.inf" if f > 0 else "-np.inf") if math.isinf(f) else repr(f)
        return _typed(text, dtype)
    return _typed(str(int(v)), dtype)


# --- per-row code ------------------------------------------------------------------------------------
#: cast_inputs rows computed by one Numba function in the float dtype itself
_FLOAT_CALLS = {
    "exp": "math.exp", "exp2": "_sc_exp2", "expm1": "math.expm1", "log": "math.log", "log2": "math.log2",
    "log10": "math.log10", "log1p": "math.log1p", "sqrt": "math.sqrt", "sin": "math.sin", "cos": "math.cos",
    "tan": "math.tan", "arcsin": "math.asin", "arccos": "math.acos", "arctan": "math.atan",
    "arctan2": "math.atan2", "sinh": "math.sinh", "cosh": "math.cosh", "tanh": "math.tanh",
    "arcsinh": "math.asinh", "arccosh": "math.acosh", "arctanh": "math.atanh", "floor": "np.floor",
    "ceil": "np.ceil", "trunc": "np.trunc", "round_half_to_even": "np.rint", "true_div": "_sc_div",
}
#: special functions computed in float64 and rounded: SciPy's float32 loops compute in double too
_FLOAT64_CALLS = {"erf": "math.erf", "erfc": "math.erfc", "gamma": "math.gamma", "gammaln": "_sc_gammaln"}
#: cast_inputs rows with a helper per float dtype
_FLOAT_HELPERS = {"sigmoid": "sigmoid", "softplus": "softplus", "round_half_away_from_zero": "round_half_away"}
#: npy_deg2rad / npy_rad2deg multiply by a constant computed in the float dtype itself
_DEGREES = {"deg2rad": lambda T: T(np.pi) / T(180.0), "rad2deg": lambda T: T(180.0) / T(np.pi)}


def _float_row(name: str, a: list[str], dtype: str) -> str:
    """A cast_inputs row on arguments already of the float `dtype`."""
    if name in _FLOAT_CALLS:
        return f"{_FLOAT_CALLS[name]}({', '.join(a)})"
    if name in _FLOAT64_CALLS:
        call = f"{_FLOAT64_CALLS[name]}({_typed(a[0], 'float64')})"
        return call if dtype == "float64" else _typed(call, dtype)
    if name in _FLOAT_HELPERS:
        return f"_sc_{_FLOAT_HELPERS[name]}_{dtype}({a[0]})"
    if name == "inv":
        return f"_sc_div({_typed('1.0', dtype)}, {a[0]})"
    if name in _DEGREES:
        c = _DEGREES[name](np.dtype(dtype).type)
        return f"({a[0]} * {_typed(repr(float(c)), dtype)})"
    raise NotLowerable(f"no Numba code for the scalar function {name}")


def _is_signed(dtype: str) -> bool:
    return np.dtype(dtype).kind == "i"


def _loop_row(name: str, a: list[str], L: str) -> str:
    """A NumPy-ufunc row on arguments already of the loop dtype `L` (the loop's result dtype follows)."""
    is_bool, is_float = L == "bool", L in _FLOATS
    kind = "int" if _is_signed(L) else "uint"
    if name in ("add", "mul"):
        op = {"add": "|", "mul": "&"}[name] if is_bool else {"add": "+", "mul": "*"}[name]
        return f"({a[0]} {op} {a[1]})"
    if name == "sub":
        return f"({a[0]} - {a[1]})"
    if name == "sqr":
        return a[0] if is_bool else f"({a[0]} * {a[0]})"
    if name == "int_div":
        return f"_sc_floordiv_{L}({a[0]}, {a[1]})" if is_float else f"_sc_{kind}_floordiv({a[0]}, {a[1]})"
    if name == "mod":
        return f"_sc_mod_{L}({a[0]}, {a[1]})" if is_float else f"_sc_{kind}_mod({a[0]}, {a[1]})"
    if name == "pow":
        return f"_sc_float_pow({a[0]}, {a[1]})" if is_float else f"_sc_int_pow({a[0]}, {a[1]})"
    if name == "neg":
        return f"(-{a[0]})"
    if name == "abs":
        return a[0] if is_bool else f"abs({a[0]})"
    if name == "sgn":
        return f"_sc_sign_{L}({a[0]})" if is_float else f"_sc_int_sign({a[0]})"
    if name in ("maximum", "minimum"):
        return f"_sc_{name}({a[0]}, {a[1]})"
    if name in _COMPARISONS:
        return f"({a[0]} {_COMPARISONS[name]} {a[1]})"
    if name in ("isnan", "isinf"):
        return f"math.{name}({a[0]})" if is_float else "False"
    if name in _BITWISE:
        return f"({a[0]} {_BITWISE[name]} {a[1]})"
    if name == "invert":
        return f"(not {a[0]})" if is_bool else f"(~{a[0]})"
    raise NotLowerable(f"no Numba code for the scalar function {name}")


_COMPARISONS = {"eq": "==", "neq": "!=", "lt": "<", "gt": ">", "le": "<=", "ge": ">="}
_BITWISE = {"and_": "&", "or_": "|", "xor": "^"}
#: rows whose `numpy` is not itself the ufunc that does their work
_UFUNC_OF = {"sqr": np.multiply, "int_div": np.floor_divide}


def _loop_dtypes(fn, dts: list[str]) -> tuple[str, str]:
    """(input dtype, result dtype) of the NumPy loop `fn`'s ufunc runs for arguments of `dts`."""
    uf = _UFUNC_OF.get(fn.name, fn.numpy)
    if not isinstance(uf, np.ufunc):
        raise NotLowerable(f"no Numba code for the scalar function {fn.name}")
    if fn.name == "sqr":
        dts = dts * 2
    resolved = [d.name for d in uf.resolve_dtypes(tuple(np.dtype(d) for d in dts) + (None,))]
    return resolved[:-1], resolved[-1]


def _ufunc_code(fn, a: list[str], dts: list[str]) -> tuple[str, str]:
    """(expression, its dtype) of a ufunc row on `a` as NumPy computes it."""
    ins, result = _loop_dtypes(fn, dts)
    a = [_convert(x, d, L) for x, d, L in zip(a, dts, ins)]
    if len(set(ins)) == 1:
        expr = _loop_row(fn.name, a, ins[0])
    elif fn.name in _COMPARISONS and sorted(ins) == ["int64", "uint64"]:  # compared exactly, not as floats
        order = f"_sc_compare_int_uint({a[0]}, {a[1]})" if ins[0] == "int64" else \
            f"(-_sc_compare_int_uint({a[1]}, {a[0]}))"
        expr = f"({order} {_COMPARISONS[fn.name]} 0)"
    else:
        raise NotLowerable(f"{fn.name} of {', '.join(dts)} uses NumPy's mixed loop {ins}")
    return _typed(expr, result), result


def _row_code(fn, a: list[str], dts: list[str], out: str) -> str:
    """An expression of exactly dtype `out` computing the table row `fn` on `a`."""
    name = fn.name
    if name in NOT_LOWERABLE:
        raise NotLowerable(f"Numba has no exact {name}")
    if name == "cast":
        return _typed(_convert(a[0], dts[0], out), out)
    natural = _natural_dtype(fn, dts)
    if natural != out:
        raise ValueError(f"{name} of {', '.join(dts)} gives {natural}, but the output dtype asked for is "
                         f"{out}; only the cast row changes dtype")
    if name in ("identity", "second"):  # (second: the value of the second argument)
        return _typed(_convert(a[-1], dts[-1], out), out)
    if name == "switch":
        cond = _convert(a[0], dts[0], "bool")
        yes, no = (_typed(_convert(x, d, out), out) for x, d in zip(a[1:], dts[1:]))
        return f"({yes} if {cond} else {no})"
    if name == "clip":  # minimum(maximum(x, lo), hi), each step in its own NumPy loop
        low, low_dtype = _ufunc_code(S.MAXIMUM, a[:2], dts[:2])
        expr, dtype = _ufunc_code(S.MINIMUM, [low, a[2]], [low_dtype, dts[2]])
        return _typed(_convert(expr, dtype, out), out)
    if fn.cast_inputs:
        if out not in _FLOATS:
            raise NotLowerable(f"{name} computing in {out}")
        return _typed(_float_row(name, [_convert(x, d, out) for x, d in zip(a, dts)], out), out)
    if fn.nin == -1 and len(a) != 2:  # n-ary add/mul: in the output dtype, left to right
        terms = [_typed(_convert(x, d, out), out) for x, d in zip(a, dts)]
        expr = terms[0]
        for term in terms[1:]:
            expr = _typed(_loop_row(name, [expr, term], out), out)
        return expr
    expr, dtype = _ufunc_code(fn, a, dts)
    return _typed(_convert(expr, dtype, out), out)


def _natural_dtype(fn, dts: list[str]) -> str:
    try:
        return fn.dtype_rule(*dts)
    except TypeError as e:
        raise TypeError(f"{fn.name} of {', '.join(dts)}: {e}") from None


# --- Composite ------------------------------------------------------------------------------------------
def _composite_code(comp: Composite, args: list[str], dts: list[str], out: str,
                    fresh: Callable[[str], str]) -> tuple[list[str], str]:
    """One local per step (its dtype the step's own), the last step as the expression."""
    try:
        step_dtypes = comp.step_dtypes(*dts)
    except TypeError as e:
        raise TypeError(f"{comp.name} of {', '.join(dts)}: {e}") from None
    _check_dtypes(step_dtypes, f"a step of {comp.name}")
    if step_dtypes[-1] != out:
        raise ValueError(f"{comp.name} of {', '.join(dts)} gives {step_dtypes[-1]}, but the output dtype asked "
                         f"for is {out}")
    lines: list[str] = []
    names: list[str] = []
    expr = ""
    pairs = _softplus_pairs(comp, dts, step_dtypes)
    paired: dict[int, str] = {}  # step -> the name already holding its value (a pair's second step)
    for j, (fn, cast_to, refs) in enumerate(comp.steps):
        if j in paired:
            expr = paired.pop(j)
            if j < len(comp.steps) - 1:
                names.append(expr)
            continue
        a, d = [], []
        for r in refs:
            if r[0] == "i":
                a.append(args[r[1]])
                d.append(dts[r[1]])
            elif r[0] == "s":
                a.append(names[r[1]])
                d.append(step_dtypes[r[1]])
            else:
                _check_dtypes([r[1]], f"a constant of {comp.name}")
                a.append(_literal(_const_value(r), r[1]))
                d.append(r[1])
        if cast_to is not None:  # a cast step: astype, whatever the row
            step_lines, expr = [], _typed(_convert(a[0], d[0], step_dtypes[j]), step_dtypes[j])
        elif j in pairs:
            other, negated = pairs[j]
            mine, theirs = fresh("softplus"), fresh("softplus")
            base = a[0] if not negated else _negated_argument(comp, refs[0], args, names)
            plus, minus = (mine, theirs) if not negated else (theirs, mine)
            step_lines, expr = [f"{plus}, {minus} = _sc_softplus_pair_{step_dtypes[j]}({base})"], mine
            paired[other] = theirs
        else:
            step_lines, expr = scalar_code(fn, a, d, step_dtypes[j], fresh)
        lines.extend(step_lines)
        if j < len(comp.steps) - 1:
            names.append(fresh(fn.name))
            lines.append(f"{names[-1]} = {expr}")
    return lines, expr


def _softplus_pairs(comp: Composite, dts: list[str], step_dtypes) -> dict:
    """{first step: (second step, whether the first's argument is the negation)} for each pair of
    softplus steps on x and on -x (x an input or a step of the same float dtype): logistic
    cross-entropy's softplus(-z) and softplus(z), whose shared exp and log1p are half their cost."""
    def dtype_of(ref):
        return dts[ref[1]] if ref[0] == "i" else step_dtypes[ref[1]] if ref[0] == "s" else None

    base_of = {}  # softplus step -> (its argument's base ref, negated)
    for j, (fn, cast_to, refs) in enumerate(comp.steps):
        if cast_to is not None or fn.name != "softplus" or step_dtypes[j] not in ("float32", "float64") \
                or dtype_of(refs[0]) != step_dtypes[j]:
            continue
        ref, negated = refs[0], False
        if ref[0] == "s":
            inner_fn, inner_cast, inner_refs = comp.steps[ref[1]]
            if inner_cast is None and inner_fn.name == "neg" and dtype_of(inner_refs[0]) == step_dtypes[j]:
                ref, negated = inner_refs[0], True
        base_of[j] = (ref, negated)
    pairs, taken = {}, set()
    for j, (ref, negated) in base_of.items():
        for k, (other_ref, other_negated) in base_of.items():
            if k > j and j not in taken and k not in taken and other_ref == ref and other_negated != negated:
                pairs[j] = (k, negated)
                taken |= {j, k}
    return pairs


def _negated_argument(comp: Composite, neg_ref, args: list[str], names: list[str]) -> str:
    """The name of x for the step `neg_ref` computing -x."""
    ref = comp.steps[neg_ref[1]][2][0]
    return args[ref[1]] if ref[0] == "i" else names[ref[1]]


# --- entry point ----------------------------------------------------------------------------------------
def _check_dtypes(dtypes, what: str):
    for d in dtypes:
        if d not in SUPPORTED_DTYPES:
            raise NotLowerable(f"{what}: no Numba scalar code for dtype {d}")


def scalar_code(fn, args: list[str], arg_dtypes: list[str], out_dtype: str,
                fresh: Callable[[str], str]) -> tuple[list[str], str]:
    """Statements and a final expression computing fn(*args) for one element.

    fn: a ScalarFn row or a Composite. args: Python expressions (usually local names) holding Numba
    scalars of the NumPy dtypes `arg_dtypes`. out_dtype: the node's output dtype; for an Elemwise with
    out_dtype set (a cast), fn is the cast row and out_dtype the target. fresh(hint) gives a new unique
    local name. Returns (lines, expr): statements to run first, and an expression of exactly out_dtype.
    Raises NotLowerable where Numba cannot compute the function exactly (the node then runs its perform).
    """
    if len(args) != len(arg_dtypes):
        raise ValueError(f"scalar_code({fn.name}): {len(args)} arguments but {len(arg_dtypes)} dtypes")
    if fn.nin != -1 and len(args) != fn.nin or not args:
        raise ValueError(f"scalar_code: {fn.name} takes {fn.nin if fn.nin != -1 else 'one or more'} "
                         f"arguments, got {len(args)}")
    dts = [np.dtype(d).name for d in arg_dtypes]
    out = np.dtype(out_dtype).name
    _check_dtypes([*dts, out], fn.name)
    if isinstance(fn, Composite):
        return _composite_code(fn, list(args), dts, out, fresh)
    return [], _row_code(fn, list(args), dts, out)
