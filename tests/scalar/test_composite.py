"""Composite: a scalar function made of table rows, evaluated in blocks, behind Elemwise."""
import pickle

import os

import numpy as np
import pytest

import theano
import theano.tensor as T
from arignote.compile import Mode
from arignote.gradient import verify_grad
from arignote.scalar import composite as C
from arignote.scalar import table as S
from arignote.scalar.composite import Composite, CompositeBuilder
from arignote.tensor.elemwise import Elemwise

UNFUSED = Mode("py", None)
GRAD_MODE = Mode("py", "fast_run")  # every rewrite: the gradient graphs are fused too
RNG = np.random.default_rng(0)


def tt(dtype, shape, name=None):
    return T.TensorType(dtype, shape=shape)(name)


def w2(x, y):
    return T.exp(-x ** 2) * T.sin(y) + T.tanh(x * y)


def rand(dtype, shape, rng=RNG):
    dt = np.dtype(dtype)
    if dt.kind == "f":
        return rng.standard_normal(shape).astype(dt)
    if dt.kind == "b":
        return rng.random(shape) < 0.5
    if dt.kind == "u":
        return rng.integers(0, 20, shape).astype(dt)
    return rng.integers(-20, 20, shape).astype(dt)


def fused_and_reference(ins, expr):
    """The expression as one Elemwise(Composite) node, and the unfused reference function."""
    comp = Composite.from_graph(ins, expr)
    out = Elemwise(comp)(*ins)
    assert out.dtype == expr.dtype and out.broadcastable == expr.broadcastable
    fused = theano.function(ins, out, mode=UNFUSED)
    ref = theano.function(ins, expr, mode=UNFUSED)
    return comp, out, fused, ref


def check(ins, expr, vals, exact=True):
    comp, out, fused, ref = fused_and_reference(ins, expr)
    got, want = fused(*vals), ref(*vals)
    assert isinstance(got, np.ndarray) and got.dtype == np.dtype(expr.dtype)
    assert got.shape == want.shape
    if exact:
        np.testing.assert_array_equal(got, want)
    else:
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-12)
    # eval() compiles with the default mode: under the native backend, libm's last bit may differ
    # (a few ulp of the operands: sums that cancel keep an absolute error of that size)
    # (a float32 step inside a float64 result carries float32's ulp)
    floats = [np.asarray(v).dtype for v in vals if np.asarray(v).dtype.kind == "f"] + [got.dtype]
    tol = max(8 * np.finfo(d).eps for d in floats if d.kind == "f") if got.dtype.kind == "f" else 0
    np.testing.assert_allclose(out.eval(dict(zip(ins, vals))), got, rtol=tol, atol=tol)
    return comp, got


# --- structure -----------------------------------------------------------------------------

def test_name_and_steps_of_w2():
    x, y = T.fvector("x"), T.fvector("y")
    comp = Composite.from_graph([x, y], w2(x, y))
    assert str(comp) == comp.name == "Composite{exp(-(i0**2.0))*sin(i1)+tanh(i0*i1)}"
    assert comp.nin == 2 and [fn.name for fn, _, _ in comp.steps] == [
        "pow", "neg", "exp", "sin", "mul", "mul", "tanh", "add"]
    assert str(Elemwise(comp)) == f"Elemwise{{{comp.name}}}"
    assert comp.dtype_rule("float32", "float32") == "float32"
    assert comp.dtype_rule("float32", "float64") == "float64"
    assert comp.dtype_rule("int8", "int8") == "float32"  # exp of an int8 expression: Theano's float32


def test_printing_precedence():
    x, y, z = T.dvectors("x", "y", "z")
    cases = [((x - (y - z)) * 2, "(i0-(i1-i2))*2.0"), ((x - y) - z, "i0-i1-i2"),
             (x ** (y ** z), "i0**i1**i2"), ((x ** y) ** z, "(i0**i1)**i2"),
             (-(x * y), "-(i0*i1)"), (T.cast(x, "float32") / y, "float32(i0)/i1"),
             (T.switch(T.lt(x, y), x, z), "switch(i0<i1, i0, i2)"), (x * -1.5, "i0*(-1.5)")]
    for expr, text in cases:
        assert Composite.from_graph([x, y, z], expr).name == f"Composite{{{text}}}"


def test_equality_hash_and_pickle_are_structural():
    x, y = T.fvector("x"), T.fvector("y")
    a, b = T.fvector("a"), T.fvector("b")
    c1 = Composite.from_graph([x, y], w2(x, y))
    c2 = Composite.from_graph([a, b], w2(a, b))
    assert c1 == c2 and hash(c1) == hash(c2) and c1 is not c2
    assert Elemwise(c1) == Elemwise(c2) and hash(Elemwise(c1)) == hash(Elemwise(c2))
    assert c1 != Composite.from_graph([y, x], w2(x, y))  # inputs swapped
    assert c1 != Composite.from_graph([x, y], T.exp(-x ** 3) * T.sin(y) + T.tanh(x * y))
    # the same value in another dtype is another constant
    d = T.dvector("d")
    assert Composite.from_graph([d], d * np.float64(2)) != Composite.from_graph([d], d * np.float32(2))
    c3 = pickle.loads(pickle.dumps(c1))
    assert c3 == c1 and hash(c3) == hash(c1) and c3.name == c1.name
    va, vb = rand("float32", 50), rand("float32", 50)
    np.testing.assert_array_equal(c3.numpy(va, vb), c1.numpy(va, vb))
    e = pickle.loads(pickle.dumps(Elemwise(c1)))
    assert e == Elemwise(c1)


def test_identical_fused_nodes_merge():
    x, y = T.fvector("x"), T.fvector("y")
    n1 = Elemwise(Composite.from_graph([x, y], w2(x, y)))(x, y)
    n2 = Elemwise(Composite.from_graph([x, y], w2(x, y)))(x, y)
    f = theano.function([x, y], [n1, n2], mode=Mode("py", "merge"))
    assert len([n for n in f.maker.fgraph.apply_nodes if isinstance(n.op, Elemwise)]) == 1


def test_builder_shares_identical_steps_and_inlines_composites():
    b = CompositeBuilder()
    i0, i1 = b.input(), b.input()
    s1 = b.apply(S.get("mul"), [i0, i1])
    assert b.apply(S.get("mul"), [i0, i1]) == s1
    p = T.dvector("p")
    inner = Composite.from_graph([p], T.exp(p) + 1)
    r = b.apply(inner, [s1])
    comp = b.build(r)
    assert [fn.name for fn, _, _ in comp.steps] == ["mul", "exp", "add"]
    assert comp.name == "Composite{exp(i0*i1)+1.0}"
    with pytest.raises(ValueError, match="computed by a step"):
        b.build(i0)


def test_from_graph_rejects_what_it_cannot_fold():
    x, W = T.dvector("x"), T.dmatrix("W")
    with pytest.raises(ValueError, match="cannot fold"):
        Composite.from_graph([x, W], T.exp(T.dot(W, x)))
    with pytest.raises(ValueError, match="neither among the inputs"):
        Composite.from_graph([x], x + W)
    with pytest.raises(ValueError, match="at least one input"):
        Composite(0, [])
    with pytest.raises(ValueError, match="takes 1 arguments"):
        Composite(1, [("exp", None, [("i", 0), ("i", 0)])])
    with pytest.raises(ValueError, match="bad argument reference"):
        Composite(1, [("exp", None, [("s", 0)])])
    comp = Composite.from_graph([x], T.exp(x))
    with pytest.raises(TypeError, match="takes 1 argument"):
        Elemwise(comp)(x, x)


# --- values and dtypes --------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("n", [1, 7, C.BLOCK, C.BLOCK + 3, 3 * C.BLOCK + 1])
def test_w2_equals_the_unfused_graph_bit_for_bit(dtype, n):
    x, y = T.vector("x", dtype=dtype), T.vector("y", dtype=dtype)
    check([x, y], w2(x, y), [rand(dtype, n), rand(dtype, n)])


EXPRESSIONS = [
    lambda a, b: T.exp(-a ** 2) * T.sin(b) + T.tanh(a * b),
    lambda a, b: (a + b) * (a - b) + a,
    lambda a, b: T.true_div(a, b + 100) - T.sqrt(T.abs(a)),
    lambda a, b: T.switch(T.lt(a, b), a * 2, b) + T.maximum(a, b),
    lambda a, b: T.cast(a, "float32") * T.cast(b, "float64") + T.cast(a > b, "int16"),
    lambda a, b: T.add(a, b, a * b, T.cast(b, "int64")),
    lambda a, b: T.fill(a, b) * T.sqr(a) + T.clip(a, -1, 1),
]


@pytest.mark.parametrize("k", range(len(EXPRESSIONS)))
@pytest.mark.parametrize("dtypes", [("float32", "float32"), ("float64", "float32"), ("int8", "int16"),
                                    ("int32", "int32"), ("uint8", "float32")])
def test_expressions_and_dtypes_match_unfused(k, dtypes):
    a, b = T.vector("a", dtype=dtypes[0]), T.vector("b", dtype=dtypes[1])
    expr = EXPRESSIONS[k](a, b)
    for n in (5, C.BLOCK + 5):
        with np.errstate(all="ignore"):
            check([a, b], expr, [rand(dtypes[0], n), rand(dtypes[1], n)])


def test_int_arithmetic_wraps_like_the_unfused_graph():
    a, b = T.bvector("a"), T.bvector("b")
    expr = (a * b + 100) * 3 - b // 3 + a % 5
    comp, got = check([a, b], expr, [rand("int8", 999), rand("int8", 999)])
    assert got.dtype == np.int8


def test_bool_and_comparisons():
    a, b = T.vector("a", dtype="bool"), T.fvector("b")
    expr = T.and_(a, T.gt(b, 0)) | T.invert(a)
    comp, got = check([a, b], expr, [rand("bool", 100), rand("float32", 100)])
    assert got.dtype == np.bool_


def test_rows_without_a_ufunc_take_the_natural_path():
    a, b = T.dvector("a"), T.dvector("b")
    expr = T.nnet.softplus(a) + T.round(b * 3, mode="half_away_from_zero") + T.clip(a, b, 2.0)
    check([a, b], expr, [rand("float64", C.BLOCK * 2 + 1), rand("float64", C.BLOCK * 2 + 1)])


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32"])
def test_broadcasting_row_col_x_and_scalars(dtype):
    m, row, col = tt(dtype, (None, None), "m"), tt(dtype, (1, None), "row"), tt(dtype, (None, 1), "col")
    v, s = T.vector("v", dtype=dtype), T.scalar("s", dtype=dtype)
    expr = (m * row + col) * T.exp(v.dimshuffle("x", 0) * s) - s + m
    for shape in [(3, 4), (300, 100), (3, 3 * C.BLOCK), (1, 5)]:
        vals = [rand(dtype, shape), rand(dtype, (1, shape[1])), rand(dtype, (shape[0], 1)),
                rand(dtype, shape[1]) * 0.1 if dtype != "int32" else rand(dtype, shape[1]) % 3,
                rand(dtype, ())]
        with np.errstate(all="ignore"):
            check([m, row, col, v, s], expr, vals)


def test_zero_d_inputs_and_empty_arrays():
    s, t = T.dscalar("s"), T.fscalar("t")
    comp, got = check([s, t], T.exp(s) * t + 1, [np.asarray(0.5), np.asarray(2.0, dtype="float32")])
    assert got.shape == () and got.dtype == np.float64
    x, y = T.fvector("x"), T.fvector("y")
    comp = Composite.from_graph([x, y], w2(x, y))
    out = comp.numpy(np.zeros(0, "float32"), np.zeros(0, "float32"))
    assert out.shape == (0,) and out.dtype == np.float32


def test_hoisted_single_element_inputs_and_per_block_casts(monkeypatch):
    # a 0-d input: its sub-expressions are computed once; an int8 input cast for exp per block
    x, s, k = T.fvector("x"), T.fscalar("s"), T.bvector("k")
    expr = T.exp(s * 2) * x + T.exp(k) * T.exp(s) + T.add(k, x, s, k)
    vals = [rand("float32", 100), np.asarray(0.3, dtype="float32"), rand("int8", 100)]
    check([x, s, k], expr, vals)
    monkeypatch.setattr(C, "BLOCK", 7)  # many blocks and a short tail
    check([x, s, k], expr, vals)


def test_blocked_path_equals_whole_array_path(monkeypatch):
    x, y = T.fmatrix("x"), T.fmatrix("y")
    comp = Composite.from_graph([x, y], w2(x, y) * 3 + T.switch(x > 0, x, y))
    a, b = rand("float32", (37, 29)), rand("float32", (37, 29))
    dtypes = comp.step_dtypes("float32", "float32")
    whole = comp._natural([a, b], dtypes)
    np.testing.assert_array_equal(comp.numpy(a, b), whole)
    for block in (1, 5, 64, 10_000):
        monkeypatch.setattr(C, "BLOCK", block)
        np.testing.assert_array_equal(comp.numpy(a, b), whole)  # flat kernel
        np.testing.assert_array_equal(comp.numpy(a.T.copy().T, b), whole)  # F-ordered: row blocks
    kernel = next(iter(comp._kernel_cache.values()))
    assert "out=o)" in kernel.source or "copyto(o" in kernel.source
    assert len(kernel.buffers) <= 3  # temporaries are reused once dead


def test_strided_and_transposed_inputs():
    x, y = T.dmatrix("x"), T.dmatrix("y")
    a = rand("float64", (40, 60))
    b = rand("float64", (60, 40)).T
    check([x, y], w2(x, y), [a[:, ::1], b])
    check([x, y], w2(x, y), [a[::2, ::3], b[::2, ::3]])


def test_result_is_fresh_and_inputs_untouched():
    x, y = T.dvector("x"), T.dvector("y")
    comp = Composite.from_graph([x, y], T.fill(x, y) + 0)
    a, b = rand("float64", 10), rand("float64", 10)
    a0, b0 = a.copy(), b.copy()
    out = comp.numpy(a, b)
    assert not np.may_share_memory(out, a) and not np.may_share_memory(out, b)
    np.testing.assert_array_equal(out, b)
    np.testing.assert_array_equal(a, a0)
    np.testing.assert_array_equal(b, b0)


def test_unused_input_still_shapes_the_output():
    b = CompositeBuilder()
    i0, _ = b.input(), b.input()
    comp = b.build(b.apply(S.get("exp"), [i0]))
    out = comp.numpy(np.asarray([1.0]), np.zeros((3, 4)))
    assert out.shape == (3, 4)
    np.testing.assert_array_equal(out, np.full((3, 4), np.exp(1.0)))


def test_runtime_broadcast_error_names_the_inputs():
    x, y = T.dvector("x"), T.dvector("y")
    f = theano.function([x, y], Elemwise(Composite.from_graph([x, y], w2(x, y)))(x, y), mode=UNFUSED)
    with pytest.raises(ValueError, match="'y' has shape \\(4,\\) but 'x' has shape \\(3,\\)"):
        f(np.ones(3), np.ones(4))


# --- gradients -------------------------------------------------------------------------------

def fused(fn):
    """`fn`'s expression as one Elemwise(Composite) node over the same inputs."""
    def wrapped(*xs):
        return Elemwise(Composite.from_graph(list(xs), fn(*xs)))(*xs)
    return wrapped


def test_gradient_of_w2_through_the_fused_node():
    pt = [RNG.standard_normal(7), RNG.standard_normal(7)]
    verify_grad(fused(w2), pt, rng=np.random.default_rng(0), mode=GRAD_MODE)


def test_gradient_with_broadcasting_switch_and_constants():
    def fn(m, row, s):
        return T.switch(m > 0, m * row, T.exp(row) / (1 + s ** 2)) + T.sqr(T.tanh(m * s))

    pt = [RNG.standard_normal((4, 5)), RNG.standard_normal((1, 5)), np.asarray(0.7)]
    verify_grad(fused(fn), pt, rng=np.random.default_rng(0), mode=GRAD_MODE)


def test_gradient_matches_the_unfused_gradient_and_handles_discrete_inputs():
    x, y = T.dvector("x"), T.dvector("y")
    k = T.ivector("k")
    expr = T.sigmoid(x * k) * T.log1p(y ** 2) + T.cast(x, "float32")
    node = Elemwise(Composite.from_graph([x, y, k], expr))(x, y, k)
    g_fused = T.grad(T.sum(node), [x, y, k])
    g_ref = T.grad(T.sum(expr), [x, y])
    assert g_fused[2].dtype.startswith("float")
    f = theano.function([x, y, k], g_fused, mode=UNFUSED)
    r = theano.function([x, y, k], g_ref, mode=UNFUSED)
    vals = [rand("float64", 9), rand("float64", 9), rand("int32", 9)]
    got, want = f(*vals), r(*vals)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-12)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-12)
    np.testing.assert_array_equal(got[2], np.zeros(9))


def test_undefined_gradient_is_reported():
    v, x = T.dvector("v"), T.dvector("x")
    node = Elemwise(Composite.from_graph([v, x], T.jv(v, x) * 2))(v, x)
    g = T.grad(T.sum(node), x)  # defined w.r.t. x
    assert g.dtype == "float64"
    from arignote.gradient import NullTypeGradError

    with pytest.raises(NullTypeGradError, match="undefined"):
        T.grad(T.sum(node), v)


def test_duck_types_a_table_row():
    x = T.dvector("x")
    comp = Composite.from_graph([x], T.exp(x))
    row = S.get("exp")
    for attr in ("name", "nin", "dtype_rule", "numpy", "grad", "symbol", "commutative", "associative",
                 "cast_inputs", "backend_code"):
        assert hasattr(comp, attr) and hasattr(row, attr)
    assert comp.symbol is None and not comp.commutative and not comp.associative and not comp.cast_inputs


def test_shared_sub_expressions_are_computed_once():
    x, y = T.dvectors("x", "y")
    v = x * y
    comp, _ = check([x, y], T.exp(v) + v * T.sin(v), [rand("float64", 20), rand("float64", 20)])
    assert [fn.name for fn, _, _ in comp.steps].count("mul") == 2  # x*y once, v*sin(v) once


def test_a_step_returning_its_argument_does_not_alias_a_reused_temporary(monkeypatch):
    # the cast row without a target dtype returns its argument: its value must survive the
    # reuse of the temporary it came from
    comp = Composite(1, [("exp", None, [("i", 0)]), ("cast", None, [("s", 0)]), ("neg", None, [("i", 0)]),
                         ("add", None, [("s", 1), ("s", 2)])])
    a = rand("float64", 50)
    for block in (C.BLOCK, 8):
        monkeypatch.setattr(C, "BLOCK", block)
        np.testing.assert_array_equal(comp.numpy(a), np.exp(a) + -a)
    alias = Composite(1, [("cast", None, [("i", 0)])])
    for arr in (a, a[::2]):
        out = alias.numpy(arr)
        np.testing.assert_array_equal(out, arr)
        assert not np.may_share_memory(out, arr)


def test_single_element_sub_expressions_are_hoisted_out_of_the_loop():
    x, s = T.fvector("x"), T.fscalar("s")
    comp = Composite.from_graph([x, s], x * T.exp(T.sin(s) * 2))
    a, b = rand("float32", 100), np.asarray(0.25, dtype="float32")
    np.testing.assert_array_equal(comp.numpy(a, b),
                                  theano.function([x, s], x * T.exp(T.sin(s) * 2), mode=UNFUSED)(a, b))
    kernel = next(iter(comp._kernel_cache.values()))
    assert len(kernel.hoisted) == 3  # sin, *2, exp: once per call
    assert not kernel.buffers and kernel.source.count("out=o)") == 1  # one multiply per block


def test_long_chains_do_not_recurse():
    x = T.dvector("x")
    out = x
    for i in range(1500):
        out = T.tanh(out) if i % 2 else out * 0.999
    comp = Composite.from_graph([x], out)
    assert len(comp.steps) == 1500 and len(comp.name) < 2100
    a = rand("float64", 9)
    want = a.copy()
    for i in range(1500):
        want = np.tanh(want) if i % 2 else want * 0.999
    np.testing.assert_array_equal(comp.numpy(a), want)


@pytest.mark.parametrize("block", [C.BLOCK, 6])
def test_out_argument_and_in_place_evaluation(monkeypatch, block):
    monkeypatch.setattr(C, "BLOCK", block)
    x, y = T.dmatrix("x"), T.dmatrix("y")
    row = T.TensorType("float64", shape=(1, None))("row")
    exprs = {"w2": ([x, y], w2(x, y)), "switch": ([x, y], T.switch(x > y, x, y * 2)),
             "sum3": ([x, y], T.add(x, y, x * y)), "row": ([x, row], T.exp(x) * row - x)}
    for name, (ins, expr) in exprs.items():
        comp = Composite.from_graph(ins, expr)
        a = rand("float64", (9, 7))
        b = rand("float64", (9, 7) if name != "row" else (1, 7), np.random.default_rng(1))
        want = comp.numpy(a, b)
        out = np.empty_like(want)
        assert comp.numpy(a, b, out=out) is out
        np.testing.assert_array_equal(out, want)
        a2 = a.copy()
        assert comp.numpy(a2, b, out=a2) is a2  # in place: the result overwrites the input it read
        np.testing.assert_array_equal(a2, want)
        if name != "row":
            b2 = b.copy()
            comp.numpy(a, b2, out=b2)
            np.testing.assert_array_equal(b2, want)
        # an input overlapping the output without being it is read before anything is written
        c = a.copy()
        view = c[::-1]
        comp.numpy(view, b[::-1] if name != "row" else b, out=c)
        np.testing.assert_array_equal(c, comp.numpy(a[::-1], b[::-1] if name != "row" else b))
    with pytest.raises(ValueError, match="expected"):
        comp.numpy(a, b, out=np.empty((9, 7), dtype="float32"))


def test_large_arrays_are_split_across_threads_with_identical_results():
    import arignote as th
    import arignote.tensor as T
    from arignote.compile import Mode
    from arignote.scalar import composite_kernel as composite

    x = T.fvector('x')
    y = T.fvector('y')
    expr = T.exp(-x ** 2) * T.sin(y) + T.tanh(x * y)
    n = composite.PARALLEL_MIN * 2 + 12345  # several parts, the last one short
    rng = np.random.default_rng(5)
    a = rng.standard_normal(n, dtype=np.float32)
    b = rng.standard_normal(n, dtype=np.float32)
    fused = th.function([x, y], expr)
    plain = th.function([x, y], expr, mode=Mode('py', None))
    assert any('Composite' in str(node.op) for node in fused.maker.fgraph.apply_nodes)
    np.testing.assert_array_equal(fused(a, b), plain(a, b))
    parts = composite._parts(n)
    assert parts[0][0] == 0 and parts[-1][1] == n and all(a[1] == b[0] for a, b in zip(parts, parts[1:]))
    assert len(parts) == 1 if (os.cpu_count() or 1) < 2 else len(parts) >= 2
