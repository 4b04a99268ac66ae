"""The scalar function table and the dtype rules: one definition per fact, all consistent."""
import pickle

import numpy as np
import pytest

import theano.tensor as T
from arignote.scalar import dtypes as D
from arignote.scalar import table as S

ALL_DTYPES = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float16",
              "float32", "float64"]


def test_every_row_is_in_the_T_namespace_under_its_name():
    for name, fn in S.TABLE.items():
        if name == "cast":  # T.cast(x, dtype) takes the target dtype
            assert T.cast(T.ivector(), "float32").owner.op.scalar_fn is fn
            continue
        t_fn = getattr(T, name)
        arity = fn.nin if fn.nin > 0 else 2
        args = [T.ivector("n")] + [T.dvector()] if name == "polygamma" else [T.dvector() for _ in range(arity)]
        if fn.dtype_rule is D.discrete_only:
            args = [T.ivector() for _ in range(arity)]
        out = t_fn(*args)
        assert out.owner.op.scalar_fn is fn, name


def test_rows_are_unique_and_looked_up_by_name():
    assert len({fn.name for fn in S.TABLE.values()}) == len(S.TABLE)
    for name, fn in S.TABLE.items():
        assert fn.name == name
        assert S.get(name) is fn
        assert repr(fn) == f"ScalarFn({name})"
    with pytest.raises(KeyError):
        S.get("no_such_function")


def test_rows_compare_hash_and_pickle_by_name():
    exp = S.get("exp")
    clone = S.ScalarFn("exp", 1, D.float_out, np.exp)
    assert clone == exp and hash(clone) == hash(exp)
    assert exp != S.get("log")
    for fn in S.TABLE.values():
        assert pickle.loads(pickle.dumps(fn)) is fn


def test_elemwise_ops_pickle_and_compare():
    op = T.exp(T.dvector()).owner.op
    again = pickle.loads(pickle.dumps(op))
    assert again == op and hash(again) == hash(op)
    assert T.exp(T.dvector()).owner.op is op  # ops are cached
    assert T.log(T.dvector()).owner.op != op
    c32 = T.cast(T.dvector(), "float32").owner.op
    c64 = T.cast(T.fvector(), "float64").owner.op
    assert c32 != c64 and str(c32) == "Elemwise{Cast{float32}}"
    assert str(op) == "Elemwise{exp}"


@pytest.mark.parametrize("name", sorted(S.TABLE))
def test_every_dtype_rule_gives_a_dtype_or_a_clear_type_error(name):
    fn = S.get(name)
    arity = fn.nin if fn.nin > 0 else 2
    for dt in ALL_DTYPES:
        for other in ("int8", "float32", "float64", dt):
            dts = [dt] * arity if arity == 1 else [other] + [dt] * (arity - 1)
            try:
                out = fn.dtype_rule(*dts)
            except TypeError as e:
                assert str(e)  # a reason is given
                continue
            assert np.dtype(out).name == out


@pytest.mark.parametrize("name", sorted(S.TABLE))
def test_numpy_kernel_agrees_with_dtype_rule_on_floats(name):
    fn = S.get(name)
    arity = fn.nin if fn.nin > 0 else 3
    rng = np.random.default_rng(0)
    for dt in ("float32", "float64"):
        args = [rng.uniform(0.2, 0.8, size=4).astype(dt) for _ in range(arity)]
        if name == "polygamma":
            args[0] = np.array([0, 1, 2, 3])
        if fn.dtype_rule is D.discrete_only:
            args = [a.astype("int32") for a in args]
        try:
            want = fn.dtype_rule(*[a.dtype.name for a in args])
        except TypeError:
            continue
        with np.errstate(invalid="ignore"):  # arccosh is nan below 1: only dtypes matter here
            res = np.asarray(fn.numpy(*args[:2]) if fn.nin == -1 else fn.numpy(*args))
        assert res.shape == (4,)
        # computing in the output dtype must not need more than a cast
        assert np.can_cast(res.dtype, want, "same_kind") or res.dtype == np.float64 and want == "float32", name


def test_differentiable_rows_have_gradients_of_the_right_length():
    x = T.dvector()
    for name, fn in S.TABLE.items():
        if fn.grad is None or fn.dtype_rule is D.discrete_only:
            continue
        arity = fn.nin if fn.nin > 0 else 3
        xs = [x] * arity
        if name == "polygamma":
            xs = [T.lvector(), x]
        z = T.elemwise_op(fn)(*xs) if name != "cast" else T.cast(x, "float32")
        grads = fn.grad(T, xs, z, T.ones_like(z))
        assert len(grads) == arity, name


def test_symbols_are_the_python_operators():
    symbols = {fn.symbol: name for name, fn in S.TABLE.items() if fn.symbol and fn.nin != 1}
    assert symbols == {"+": "add", "-": "sub", "*": "mul", "/": "true_div", "//": "int_div", "%": "mod",
                       "**": "pow", "==": "eq", "!=": "neq", "<": "lt", ">": "gt", "<=": "le", ">=": "ge",
                       "&": "and_", "|": "or_", "^": "xor"}


def test_commutative_flags():
    for name in ("add", "mul", "eq", "neq", "maximum", "minimum", "and_", "or_", "xor"):
        assert S.get(name).commutative, name
    for name in ("sub", "true_div", "pow", "lt", "mod", "arctan2"):
        assert not S.get(name).commutative, name


# --- dtype rules --------------------------------------------------------------------------

@pytest.mark.parametrize("a", ALL_DTYPES)
@pytest.mark.parametrize("b", ALL_DTYPES)
def test_upcast_is_numpy_promotion(a, b):
    assert D.upcast(a, b) == np.result_type(a, b).name


@pytest.mark.parametrize("dtype, want", [
    ("bool", "float32"), ("int8", "float32"), ("uint8", "float32"), ("int16", "float32"), ("uint16", "float32"),
    ("int32", "float64"), ("uint32", "float64"), ("int64", "float64"), ("uint64", "float64"),
    ("float16", "float16"), ("float32", "float32"), ("float64", "float64"), ("complex64", "complex64"),
])
def test_float_out(dtype, want):
    assert D.float_out(dtype) == want


def test_float_out_promotes_first():
    assert D.float_out("int8", "int16") == "float32"
    assert D.float_out("int8", "int32") == "float64"
    assert D.float_out("int8", "float32") == "float32"
    assert D.float_out("int32", "float32") == "float64"  # NumPy: int32 + float32 is float64
    assert D.float_out("uint8", "int8") == "float32"  # int16


def test_other_rules():
    assert D.bool_out("float64", "int8") == "bool"
    assert D.real_out("complex64") == "float32" and D.real_out("complex128") == "float64"
    assert D.real_out("int8") == "int8"
    assert D.float_out_second("bool", "int8", "float32") == "float32"
    assert D.float_out_second("float64", "int8", "int8") == "int8"
    assert D.discrete_only("bool", "int8") == "int8"
    with pytest.raises(TypeError, match="integer or boolean"):
        D.discrete_only("int8", "float32")
    with pytest.raises(TypeError, match="complex"):
        D.float_out_no_complex("complex64")
    with pytest.raises(TypeError, match="booleans"):
        D.upcast_no_bool("bool")
    assert D.upcast_no_bool("bool", "int8") == "int8"
    assert D.float_out_of_second_discrete_first("int64", "int8") == "float32"
    with pytest.raises(TypeError, match="order"):
        D.float_out_of_second_discrete_first("float64", "float64")
    assert all(D.is_discrete(d) for d in ("bool", "int8", "uint64"))
    assert not any(D.is_discrete(d) for d in ("float16", "float64", "complex64"))


def test_module_docstring_documents_the_weak_scalar_choice():
    doc = D.__doc__
    assert "fvector * 0.1" in doc and "float32" in doc and "Theano" in doc and "NEP 50" in doc
