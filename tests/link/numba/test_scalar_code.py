"""scalar_code: Numba code for one element of every scalar-table row, checked against the reference backend.

Every case (a row, or a cast, for one combination of input dtypes) runs its
generated code in a Numba loop over random inputs (with zeros, infinities and
NaNs among the float ones) and is compared with the same Elemwise run by the
reference backend (the VM linker, without rewrites: the node's own perform).
Numba compiles ~0.3 s per function, so all the cases sharing input dtypes run
in ONE loop function (~0.03 s more per case); a case whose code does not
compile breaks its group's function, and each case of that group is then
compiled alone, so the failure names the culprit.
"""
from __future__ import annotations

import itertools
import zlib

import numba
import numpy as np
import pytest

import arignote as th
import arignote.tensor as T
from arignote.compile.mode import Mode
from arignote.link.numba.scalar_code import GLOBALS, NOT_LOWERABLE, SUPPORTED_DTYPES, scalar_code
from arignote.link.numba.registry import NotLowerable
from arignote.scalar.composite import Composite, CompositeBuilder
from arignote.scalar.table import CAST, TABLE
from arignote.tensor.elemwise import Elemwise
from arignote.tensor.type import TensorType

N = 200  # random elements per case
LENGTH = N + 16  # every input: its special values, then random ones
REFERENCE = Mode("vm", None)  # the reference backend, no rewrites: what Elemwise.perform gives
TOLERANCE = {"float32": (1e-6, 1e-6), "float64": (1e-13, 1e-13)}  # (rtol, atol): libm vs NumPy's SIMD, ~1 ulp


# --- which dtypes each row is tried with --------------------------------------------------------------------
UNARY = [("float32",), ("float64",), ("int8",), ("int32",), ("int64",), ("uint8",), ("uint64",), ("bool",)]
BINARY = [("float32", "float32"), ("float64", "float64"), ("int32", "int32"), ("int64", "int64"),
          ("bool", "bool"), ("int8", "float32"), ("float32", "int32"),
          ("int64", "float64"), ("uint8", "int8"), ("bool", "int32"), ("uint64", "uint64"), ("int64", "uint64")]
TERNARY = {
    "clip": [("float32",) * 3, ("float64",) * 3, ("int32",) * 3, ("uint8",) * 3, ("bool",) * 3,
             ("int8", "int64", "float32"), ("float32", "float64", "int32")],
    "switch": [("bool", "float32", "float32"), ("bool", "float64", "int32"), ("float32", "int8", "int64"),
               ("int32", "bool", "bool"), ("int64", "uint8", "uint16"), ("uint8", "float32", "float32")],
}
NARY = [("float32",), ("int8",), ("bool",), *BINARY, ("int8", "int8", "int32"), ("float32",) * 3,
        ("bool",) * 3, ("int8", "uint8", "float32"), ("float32", "float64", "int32"), ("int64",) * 4,
        ("uint8", "uint8", "uint8")]
CASTS = [("float64", "float32"), ("float32", "float64"), ("float32", "int32"), ("float64", "int64"),
         ("float64", "uint8"), ("float32", "int16"), ("int64", "int8"), ("int32", "uint8"), ("int64", "uint32"),
         ("int64", "float32"), ("uint64", "float64"), ("bool", "float32"), ("float32", "bool"),
         ("int32", "bool"), ("int8", "int64"), ("bool", "int8"), ("uint8", "bool"), ("uint16", "int8")]


#: rows computing in floats (cast_inputs) convert any integer the same way: fewer integer dtypes
FLOAT_UNARY = [("float32",), ("float64",), ("int8",), ("int32",), ("bool",)]
FLOAT_BINARY = [("float32", "float32"), ("float64", "float64"), ("int32", "int32"), ("bool", "bool"),
                ("int8", "float32"), ("float32", "int32")]


def combos(fn):
    if fn.name in TERNARY:
        candidates = TERNARY[fn.name]
    elif fn.cast_inputs:
        candidates = {1: FLOAT_UNARY, 2: FLOAT_BINARY}[fn.nin]
    else:
        candidates = {1: UNARY, 2: BINARY, -1: NARY}[fn.nin]
    accepted = []
    for dts in candidates:
        try:
            fn.dtype_rule(*dts)
        except TypeError:  # e.g. sub of booleans, xor of floats: refused when the graph is built
            continue
        accepted.append(dts)
    return accepted


# --- input values -------------------------------------------------------------------------------------------
FLOAT_SPECIALS = [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 1.5, 2.5, np.inf, -np.inf, np.nan]

#: rows that need their own domain: name -> function(rng, n, position) of float64 values
DOMAINS = {
    **{k: (lambda r, n, p: r.uniform(0, 100, n)) for k in ("log", "log2", "log10", "sqrt")},
    "log1p": lambda r, n, p: r.uniform(-1, 100, n),
    **{k: (lambda r, n, p: r.uniform(-1, 1, n)) for k in ("arcsin", "arccos", "arctanh")},
    "arccosh": lambda r, n, p: r.uniform(1, 100, n),
    **{k: (lambda r, n, p: r.uniform(-100, 100, n))
       for k in ("exp", "exp2", "expm1", "sinh", "cosh", "sin", "cos")},
    "tan": lambda r, n, p: r.uniform(-10, 10, n),
    "gamma": lambda r, n, p: r.uniform(-20, 40, n),
    "gammaln": lambda r, n, p: r.uniform(-20, 100, n),
    **{k: (lambda r, n, p: np.concatenate([[1e3, -1e3, 89, -89, 710, -710, 1e-8, -1e-8], r.normal(0, 40, n)]))
       for k in ("sigmoid", "softplus")},
    "pow": lambda r, n, p: r.uniform(-3, 3, n) if p == 0 else np.where(r.random(n) < 0.5, r.integers(-4, 5, n),
                                                                       r.uniform(-3, 3, n)),
    # ties: k / 2 rounds to even or away from zero
    **{k: (lambda r, n, p: np.where(r.random(n) < 0.5, r.integers(-40, 41, n) / 2, r.normal(0, 1e3, n)))
       for k in ("round_half_to_even", "round_half_away_from_zero", "floor", "ceil", "trunc")},
    **{k: (lambda r, n, p: r.normal(0, 500, n)) for k in ("deg2rad", "rad2deg")},
    # few distinct values, so that equal pairs occur
    **{k: (lambda r, n, p: r.integers(-3, 4, n) * 0.5)
       for k in ("eq", "neq", "lt", "gt", "le", "ge", "maximum", "minimum", "clip")},
    **{k: (lambda r, n, p: r.normal(0, 20, n) if p == 0 else r.integers(-4, 5, n) * r.uniform(0.5, 1.5, n))
       for k in ("int_div", "mod", "true_div")},
}

#: rows whose integer results wrap around: they also get the dtype's extremes
WRAPPING = {"add", "sub", "mul", "neg", "abs", "sqr", "pow", "int_div", "mod", "sgn", "invert", "and_", "or_",
            "xor", "maximum", "minimum", "clip", "identity", "second", "switch"}


def values(name: str, dtype: str, position: int, rng, n: int = N) -> np.ndarray:
    """Random inputs of `dtype` for argument `position` of row `name` (special values first)."""
    if dtype == "bool":
        return np.resize(np.concatenate([[False, True, True, False], rng.random(n) < 0.5]), LENGTH)
    x = DOMAINS.get(name, lambda r, n, p: r.normal(0, 10, n))(rng, n, position)
    if np.dtype(dtype).kind == "f":
        return np.resize(np.concatenate([FLOAT_SPECIALS, x]).astype(dtype), LENGTH)
    info = np.iinfo(dtype)
    signed = info.min < 0
    if name == "pow":  # a negative integer exponent is an error: see test_int_pow_negative_exponent_...
        x = rng.integers(info.min if not signed else -20, 21, n) if position == 0 else rng.integers(0, 70, n)
        special = [0, 1, 2, info.min, info.max] if position == 0 else [0, 0, 1, 2, 63]
    else:
        x = np.clip(np.round(x), max(info.min, -1e15), min(info.max, 1e15)).astype(dtype)
        if name in WRAPPING:
            anything = rng.integers(info.min, info.max, n, dtype=dtype, endpoint=True)
            x = np.where(rng.random(n) < 0.5, x, anything)
        # pairs such as MIN // -1, x // 0, MAX + MAX
        if signed:
            special = [info.min, info.max, 0, -1, 1] if position == 0 else [-1, 0, 1, -1, info.max]
        else:
            special = [0, info.max, 1, info.max - 1, 3] if position == 0 else [1, 0, info.max, info.max, 0]
    return np.resize(np.concatenate([np.array(special, dtype=dtype), x.astype(dtype)]), LENGTH)


# --- cases --------------------------------------------------------------------------------------------------
class Case:
    """One row (or cast) on one combination of input dtypes: its code, inputs and expected result."""

    def __init__(self, fn, dtypes, out_dtype=None, name=None):
        self.fn, self.dtypes = fn, tuple(dtypes)
        self.cast_to = out_dtype  # the Elemwise's out_dtype (casts only)
        self.name = name or fn.name
        self.out_dtype = out_dtype or fn.dtype_rule(*dtypes)
        seed = zlib.crc32(repr((self.name, self.dtypes, out_dtype)).encode())
        rng = np.random.default_rng(seed)
        self.inputs = [values(self.name, d, p, rng) for p, d in enumerate(dtypes)]
        if out_dtype and np.dtype(out_dtype).kind in "iu" and self.inputs[0].dtype.kind == "f":
            # float -> int of NaN, inf or out-of-range values is undefined (in NumPy too): finite, small ones
            info = np.iinfo(out_dtype)
            x = np.nan_to_num(self.inputs[0], nan=0.0, posinf=0.0, neginf=0.0)
            self.inputs[0] = np.clip(x, max(info.min, -100), min(info.max, 100))

    def __repr__(self):
        cast = f"->{self.cast_to}" if self.cast_to else ""
        return f"{self.name}({', '.join(self.dtypes)}){cast}"

    def reference(self) -> np.ndarray:
        xs = [TensorType(d, shape=(None,))() for d in self.dtypes]
        f = th.function(xs, Elemwise(self.fn, self.cast_to)(*xs), mode=REFERENCE)
        with np.errstate(all="ignore"):
            return f(*self.inputs)

    def code(self, k: int) -> tuple[list[str], str]:
        """The generated code of this case, reading its inputs as `c{k}_a{p}`."""
        counter = itertools.count()
        return scalar_code(self.fn, [f"c{k}_a{p}" for p in range(len(self.dtypes))], list(self.dtypes),
                           self.out_dtype, lambda hint: f"c{k}_{hint}_{next(counter)}")


def build_cases() -> dict[str, list[Case]]:
    cases: dict[str, list[Case]] = {}
    for name, fn in TABLE.items():
        if name in NOT_LOWERABLE:
            continue
        if fn is CAST:
            cases[name] = [Case(CAST, (src,), dst) for src, dst in CASTS]
        else:
            cases[name] = [Case(fn, dts) for dts in combos(fn)]
    return cases


CASES = build_cases()


# --- running the generated code -----------------------------------------------------------------------------
def compile_loop(cases: list[Case]):
    """One njit function running every case over its inputs: f(*inputs of each case, *outputs)."""
    params, body = [], []
    for k, case in enumerate(cases):
        params += [f"x{k}_{p}" for p in range(len(case.dtypes))]
        body += [f"c{k}_a{p} = x{k}_{p}[i]" for p in range(len(case.dtypes))]
        lines, expr = case.code(k)
        body += [*lines, f"r{k} = {expr}", f"o{k}[i] = r{k}"]
    params += [f"o{k}" for k in range(len(cases))]
    # one loop for all (half the compile time of a loop per case): every input has LENGTH elements
    src = "\n".join([f"def loop({', '.join(params)}):", "    for i in range(o0.shape[0]):",
                     *[f"        {line}" for line in body]])
    ns = dict(GLOBALS)
    exec(compile(src, "<scalar_code test loop>", "exec"), ns)
    fn = numba.njit(cache=False, error_model="numpy")(ns["loop"])
    outs = [np.empty(len(c.inputs[0]), dtype=c.out_dtype) for c in cases]
    fn(*[x for c in cases for x in c.inputs], *outs)
    typemap = fn.overloads[fn.signatures[0]].type_annotation.typemap
    types = [str(numba.types.unliteral(typemap[f"r{k}"])) for k in range(len(cases))]
    return outs, types, src


def group_of(case: Case) -> tuple:
    """The cases compiled together: those of the same input dtypes, float32 and float64 in one function
    (a kernel of the backend may compute in both: their code must not clash, as np.exp2's does: Numba
    declares it as one 'llvm.exp2' whatever the dtype)."""
    return tuple("float" if d in ("float32", "float64") else d for d in case.dtypes)


_RESULTS: dict = {}  # case -> (output, numba type name of the expression) or the compile error


def results(case: Case):
    if case in _RESULTS:
        return _RESULTS[case]
    group = [c for cs in CASES.values() for c in cs if group_of(c) == group_of(case)]
    try:
        outs, types, _ = compile_loop(group)
        _RESULTS.update({c: (o, t) for c, o, t in zip(group, outs, types)})
    except Exception as group_error:  # find the culprit: each case of the group alone
        for c in group:
            try:
                (o,), (t,), _ = compile_loop([c])
                _RESULTS[c] = (o, t)
            except Exception as e:
                _RESULTS[c] = e
        if not any(isinstance(_RESULTS[c], Exception) for c in group):  # they clash only when together
            _RESULTS.update({c: RuntimeError(f"{type(group_error).__name__}: {group_error} (each case "
                                                 f"compiles alone: they clash together)") for c in group})
    return _RESULTS[case]


def mismatch(got: np.ndarray, want: np.ndarray, inputs) -> str | None:
    """None if `got` is `want` (exactly, or to the float tolerance), else a description."""
    if got.dtype != want.dtype:
        return f"dtype {got.dtype}, reference {want.dtype}"
    if want.dtype.kind == "f":
        rtol, atol = TOLERANCE[want.dtype.name]
        bad = ~np.isclose(got, want, rtol=rtol, atol=atol, equal_nan=True)
    else:
        bad = got != want
    if not bad.any():
        return None
    i = np.flatnonzero(bad)[:5]
    args = ", ".join(f"{x[i].tolist()}" for x in inputs)
    return (f"{bad.sum()} of {len(bad)} differ: at inputs {args}: got {got[i].tolist()}, "
            f"reference {want[i].tolist()}")


# --- tests --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(TABLE))
def test_row_matches_reference(name):
    fn = TABLE[name]
    if name in NOT_LOWERABLE:
        for dts in combos(fn)[:2] or [("float64",) * max(fn.nin, 1)]:
            with pytest.raises(NotLowerable):
                scalar_code(fn, [f"a{p}" for p in range(len(dts))], list(dts), fn.dtype_rule(*dts), str)
        return
    assert CASES[name], f"no dtype combination accepted by {name}"
    failures = []
    for case in CASES[name]:
        got = results(case)
        if isinstance(got, Exception):
            failures.append(f"{case}: does not compile: {type(got).__name__}: {str(got)[:500]}")
            continue
        out, expr_type = got
        want = case.reference()
        if expr_type != case.out_dtype:
            failures.append(f"{case}: the expression has Numba type {expr_type}, expected {case.out_dtype}")
        problem = mismatch(out, want, case.inputs)
        if problem:
            failures.append(f"{case}: {problem}")
    assert not failures, "\n".join(failures)


def test_the_rows_numba_cannot_compute_are_exactly_the_documented_ones():
    refused = set()
    for name, fn in TABLE.items():
        for dts in combos(fn):
            try:
                scalar_code(fn, [f"a{p}" for p in range(len(dts))], list(dts), fn.dtype_rule(*dts), str)
            except NotLowerable:
                refused.add(name)
    assert refused == set(NOT_LOWERABLE)


def test_int_pow_negative_exponent_raises_as_numpy():
    case = Case(TABLE["pow"], ("int32", "int32"))
    case.inputs = [np.array([2, 3], dtype="int32"), np.array([1, -1], dtype="int32")]
    with pytest.raises(ValueError, match="negative integer powers") as numpy_error:
        case.reference()
    with pytest.raises(ValueError, match=str(numpy_error.value)):
        compile_loop([case])


def test_unsupported_dtypes_are_not_lowerable():
    for dts, out in [(["float16"], "float16"), (["complex128"], "complex128"),
                     (["float32", "complex64"], "complex128")]:
        with pytest.raises(NotLowerable, match="dtype"):
            scalar_code(TABLE["add"] if len(dts) == 2 else TABLE["neg"], ["a", "b"][:len(dts)], dts, out, str)
    b = CompositeBuilder()  # float32 in and out, float16 in between
    half = b.apply(CAST, [b.input()], "float16")
    comp = b.build(b.apply(CAST, [b.apply(TABLE["exp"], [half])], "float32"))
    with pytest.raises(NotLowerable, match="float16"):
        scalar_code(comp, ["a"], ["float32"], "float32", str)


def test_bad_requests_raise_clear_errors():
    with pytest.raises(TypeError, match="sub of bool, bool"):
        scalar_code(TABLE["sub"], ["a", "b"], ["bool", "bool"], "bool", str)
    with pytest.raises(ValueError, match="exp of float32 gives float32, but the output dtype asked for is "
                                         "float64"):
        scalar_code(TABLE["exp"], ["a"], ["float32"], "float64", str)
    with pytest.raises(ValueError, match="takes 2 arguments, got 1"):
        scalar_code(TABLE["sub"], ["a"], ["float32"], "float32", str)
    with pytest.raises(ValueError, match="2 arguments but 1 dtypes"):
        scalar_code(TABLE["sub"], ["a", "b"], ["float32"], "float32", str)


# --- Composites ---------------------------------------------------------------------------------------------
def _graphs():
    """(name, input dtypes, function(*tensor variables) -> output) of the Composites tested."""
    return [
        ("float32 transcendental", ("float32", "float32"),
         lambda x, y: T.exp(-x ** 2) * T.sin(y) + T.tanh(x * y)),
        ("int/float mix", ("int32", "float32", "int8"),
         lambda i, x, b: (i // 3 + x) * (i % 4) - i ** 2 + T.true_div(b, i) + T.maximum(b * b, x)),
        ("constants", ("float32", "int16"),
         lambda x, k: T.switch(T.gt(x, 0.5), x * 2.5, -1) + T.clip(x, -1, np.float64(1.5)) * np.float64(0.1)
         + T.maximum(x, -np.inf) + T.add(k, np.int16(-32768), 7)),
        ("casts and wrapping", ("float64", "int64", "int8", "bool"),
         lambda x, i, b, f: T.cast(i * 1000, "int8") + T.cast(T.round(x * 10), "int32") * T.add(b, b, i)
         - T.cast(T.and_(f, T.lt(x, 0)), "int16") + T.cast(T.sigmoid(x), "float32") + T.sgn(i)),
        ("softplus pairs", ("float32", "float32", "float64"),  # logistic cross-entropy, and -x before x
         lambda y, z, w: y * -T.nnet.softplus(-z) + (1 - y) * -T.nnet.softplus(z)
         + T.cast(T.nnet.softplus(-w) * 3 + T.nnet.softplus(w), "float32")),
    ]


@pytest.mark.parametrize("index", range(len(_graphs())), ids=[g[0] for g in _graphs()])
def test_composite_matches_reference(index):
    name, dtypes, build = _graphs()[index]
    xs = [TensorType(d, shape=(None,))() for d in dtypes]
    out = build(*xs)
    comp = Composite.from_graph(xs, out)
    assert len(comp.steps) > 3
    rng = np.random.default_rng(index)
    inputs = [values("composite", d, p, rng) for p, d in enumerate(dtypes)]
    if name == "casts and wrapping":  # float -> int casts of out-of-range values are undefined
        inputs[0] = np.clip(np.nan_to_num(inputs[0]), -1e3, 1e3)
    case = Case(comp, dtypes, name="composite")
    case.inputs = inputs
    assert case.out_dtype == out.dtype
    with np.errstate(all="ignore"):
        want = th.function(xs, out, mode=REFERENCE)(*inputs)  # the unfused graph
    (got,), (expr_type,), src = compile_loop([case])
    assert expr_type == out.dtype
    problem = mismatch(got, want, inputs)
    assert problem is None, f"{comp}: {problem}\n{src}"


def test_softplus_of_x_and_of_minus_x_share_one_exp_and_log1p_bit_for_bit():
    z, w = TensorType("float32", shape=(None,))(), TensorType("float64", shape=(None,))()
    comp = Composite.from_graph([z, w], T.nnet.softplus(-z) * T.nnet.softplus(z)
                                + T.cast(T.nnet.softplus(w) - T.nnet.softplus(-w), "float32"))
    counter = iter(range(100))
    lines, _ = scalar_code(comp, ["z", "w"], ["float32", "float64"], "float32", lambda hint: f"{hint}{next(counter)}")
    code = "\n".join(lines)
    assert code.count("_sc_softplus_pair_float32(z)") == 1 and code.count("_sc_softplus_pair_float64(w)") == 1
    assert "_sc_softplus_float" not in code
    for dtype in ("float32", "float64"):
        pair, single = GLOBALS[f"_sc_softplus_pair_{dtype}"], GLOBALS[f"_sc_softplus_{dtype}"]
        special = [0.0, -0.0, 1e-30, -1e-30, 0.5, -0.5, 20.0, -20.0, 88.0, -88.0, 1e30, -1e30, np.inf, -np.inf]
        xs = np.concatenate([special, np.random.default_rng(7).normal(0, 10, 300)]).astype(dtype)
        for x in xs:
            got = pair(x)
            want = (single(x), single(-x))
            assert np.array_equal(np.array(got, dtype), np.array(want, dtype)), (dtype, x, got, want)
        assert all(np.isnan(v) for v in pair(np.array(np.nan, dtype)[()]))


def test_composite_steps_get_fresh_locals():
    x, y = TensorType("float64", shape=(None,))(), TensorType("float64", shape=(None,))()
    shared = x * y
    comp = Composite.from_graph([x, y], T.exp(shared) + T.sin(shared) * shared)
    asked = []

    def fresh(hint):
        asked.append(hint)
        return f"t{len(asked)}"

    lines, expr = scalar_code(comp, ["x", "y"], ["float64", "float64"], "float64", fresh)
    assert len(lines) == len(comp.steps) - 1  # one local per step but the last (the expression)
    assert asked == [fn.name for fn, _, _ in comp.steps[:-1]]
    assert lines[0].startswith("t1 = ") and sum(line.count("t1") for line in lines[1:]) + expr.count("t1") == 3


def test_every_supported_dtype_is_tested():
    tested = {d for cs in CASES.values() for c in cs for d in (*c.dtypes, c.out_dtype)}
    assert tested == set(SUPPORTED_DTYPES)
