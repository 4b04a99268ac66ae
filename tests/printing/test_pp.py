"""pp / pprint: the math-like text of graphs."""
import numpy as np
import pytest

import arignote as th
import arignote.tensor as T
from arignote.graph.basic import Apply, Op
from arignote.printing import pp, pprint
from arignote.printing.pp import FunctionPrinter, OperatorPrinter, PatternPrinter, PPrinter, PrinterState

NO_REWRITES = th.Mode(linker="py", optimizer=None)


@pytest.fixture
def xyz():
    return T.dvector("x"), T.dvector("y"), T.dvector("z")


def test_pp_is_pprint_and_reexported():
    assert pp is pprint
    assert th.pp is pp and th.printing.pprint is pp
    import theano

    assert theano.pp is pp and theano.printing.pp is pp


def test_add(xyz):
    x, y, _ = xyz
    assert pp(x + y) == "(x + y)"


@pytest.mark.parametrize("build, text", [
    (lambda x, y, z: x * y + z, "((x * y) + z)"),
    (lambda x, y, z: x * (y + z), "(x * (y + z))"),
    (lambda x, y, z: -x, "(-x)"),
    (lambda x, y, z: -(x + y), "(-(x + y))"),
    (lambda x, y, z: x - y - z, "((x - y) - z)"),
    (lambda x, y, z: x - (y - z), "(x - (y - z))"),
    (lambda x, y, z: x / y, "(x / y)"),
    (lambda x, y, z: x // y, "(x // y)"),
    (lambda x, y, z: x % y, "(x % y)"),
    (lambda x, y, z: x ** y ** z, "(x ** (y ** z))"),
    (lambda x, y, z: (x ** y) ** z, "((x ** y) ** z)"),
    (lambda x, y, z: x < y, "(x < y)"),
    (lambda x, y, z: T.eq(x, y), "(x == y)"),
    (lambda x, y, z: T.add(x, y, z), "(x + y + z)"),
    (lambda x, y, z: T.mul(x, y, z), "(x * y * z)"),
    (lambda x, y, z: x + 1.5, "(x + TensorConstant{1.5})"),
    (lambda x, y, z: x ** 2, "(x ** TensorConstant{2.0})"),  # a weak literal takes x's dtype
    (lambda x, y, z: T.exp(x), "exp(x)"),
    (lambda x, y, z: T.tanh(x), "tanh(x)"),
    (lambda x, y, z: T.sigmoid(x), "sigmoid(x)"),
    (lambda x, y, z: T.exp(T.log(x) * 2.0), "exp((log(x) * TensorConstant{2.0}))"),
    (lambda x, y, z: T.fill(x, y), "fill(x, y)"),
    (lambda x, y, z: T.second(x, y), "fill(x, y)"),
    (lambda x, y, z: T.maximum(x, y), "maximum(x, y)"),
    (lambda x, y, z: T.switch(x < y, x, z), "switch((x < y), x, z)"),
    (lambda x, y, z: abs(x), "|x|"),
    (lambda x, y, z: T.cast(x, "float32"), "float32(x)"),
    (lambda x, y, z: x.sum(), "sum(x)"),
    (lambda x, y, z: T.max(x * y), "max((x * y))"),
    (lambda x, y, z: x[0], "x[0]"),
    (lambda x, y, z: x[1:3], "x[1:3]"),
    (lambda x, y, z: x[::2], "x[::2]"),
    (lambda x, y, z: x[:-1] + y[1:], "(x[:-1] + y[1:])"),
])
def test_small_expressions(xyz, build, text):
    assert pp(build(*xyz)) == text


def test_integer_literal_on_integer_tensor():
    iv = T.lvector("iv")
    assert pp(iv ** 2) == "(iv ** TensorConstant{2})"


def test_matrix_ops():
    m, n = T.dmatrix("m"), T.dmatrix("n")
    v = T.dvector("v")
    i = T.lscalar("i")
    assert pp(m.T) == "m.T"
    assert pp(m.dimshuffle(0, "x", 1)) == "DimShuffle{0,x,1}(m)"
    assert pp(v + m) == "(v + m)"  # broadcasting dims added in front are not shown (Theano)
    assert pp(m.sum(axis=0)) == "Sum{axis=[0]}(m)"
    assert pp(m.sum()) == "sum(m)"
    assert pp(T.dot(m, n)) == "dot(m, n)"
    assert pp(T.dot(m, v)) == "dot(m, v)"
    assert pp(m[1:3, 2]) == "m[1:3, 2]"
    assert pp(m[i, 1:i:2]) == "m[i, 1:i:2]"
    assert pp(m.shape[0]) == "Shape(m)[0]"
    assert pp(T.argmax(m, axis=0)) == "Argmax{axis=0}(m)"


def test_indexing_writes_and_advanced_indexing():
    x = T.dvector("x")
    i = T.lscalar("i")
    iv = T.lvector("iv")
    assert pp(x[iv]) == "x[iv]"
    assert pp(T.set_subtensor(x[1:], 0.0)) == "set_subtensor(x[1:], TensorConstant{0.0})"
    assert pp(T.inc_subtensor(x[i], x[0])) == "inc_subtensor(x[i], x[0])"
    assert pp(T.set_subtensor(x[iv], x[iv] * 2.0)) == "set_subtensor(x[iv], (x[iv] * TensorConstant{2.0}))"


def test_op_without_printer_uses_its_str():
    m = T.dmatrix("m")
    assert pp(m.reshape((2, -1))) == "Reshape{ndim=2}(m, TensorConstant{[2, -1]})"
    assert pp(m.shape) == "Shape(m)"


class _TwoOutputs(Op):
    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return Apply(self, [x], [x.type(), x.type()])


def test_op_with_several_outputs_marks_which():
    x = T.dvector("x")
    a, b = _TwoOutputs()(x)
    assert pp(a + b) == "(_TwoOutputs.0(x) + _TwoOutputs.1(x))"


def test_named_intermediates_print_their_name_and_roots_expand(xyz):
    x, y, _ = xyz
    w = x * 2.0
    w.name = "w"
    assert pp(w + y) == "(w + y)"
    assert pp(w) == "(x * TensorConstant{2.0})"


def test_shared_subexpression_is_written_out_each_time(xyz):
    x, y, _ = xyz
    a = x + y
    assert pp(a * a) == "((x + y) * (x + y))"


def test_leaves():
    assert pp(T.constant(2)) == "TensorConstant{2}"
    assert pp(T.constant(1.0)) == "TensorConstant{1.0}"
    assert pp(T.dvector()) == "<TensorType(float64, (?,))>"
    W = th.shared(np.zeros(2), name="W")
    assert pp(W * 3.0) == "(W * TensorConstant{3.0})"


def test_gradient_prints_readably():
    x = T.fscalar("x")
    gy = T.grad(x ** 2, x)
    text = pp(gy)
    assert "fill((x ** TensorConstant{2.0}), TensorConstant{1.0})" in text
    assert "0x" not in text and "Elemwise" not in text and "<" not in text
    assert text.count("(") == text.count(")")


def test_vector_gradient_prints_readably():
    x = T.dvector("x")
    text = pp(T.grad((x ** 2).sum(), x))
    assert "sum((x ** TensorConstant{2.0}))" in text
    assert "0x" not in text and "DimShuffle" not in text


def test_compiled_function_prints_outputs_then_updates():
    x = T.dvector("x")
    W = th.shared(np.zeros(3), name="W")
    f = th.function([x], [(x * W).sum(), x + 1.0], updates=[(W, W + x)], mode=NO_REWRITES)
    assert pp(f) == "sum((x * W))\n(x + TensorConstant{1.0})\nW <- (W + x)"


def test_compiled_function_default_mode_names_inputs():
    x, y = T.dvectors("x", "y")
    f = th.function([x, y], x * y + x)
    text = pp(f)
    assert "x" in text and "y" in text and "0x" not in text
    np.testing.assert_allclose(f(np.ones(2), np.full(2, 2.0)), [3.0, 3.0])


def test_lists_applys_and_program_listing(xyz):
    x, y, _ = xyz
    assert pp([x + y, x * y]) == "(x + y)\n(x * y)"
    assert pp((x + y).owner) == "(x + y)"
    W = th.shared(np.zeros(3), name="W")
    out = x + y
    assert pp([x, y], [out], {W: W + x}) == "return (x + y)\nW <- (W + x)"
    named = x * y
    named.name = "prod"
    assert pp([x, y], [out, named], None, True) == "inputs: x, y\nout[0] = (x + y)\nprod = (x * y)"


def test_pstate_argument_and_memo(xyz):
    x, y, _ = xyz
    state = PrinterState(pprinter=pp)
    e = x + y
    assert pp(e, state) == "(x + y)"
    assert state.memo[e] == "(x + y)"
    assert pp(e, {}) == "(x + y)"


def test_deep_graph_does_not_hit_the_recursion_limit():
    x = T.dscalar("x")
    v = x
    n = 5000
    for _ in range(n):
        v = v + 1.0
    assert pp(v) == "(" * n + "x" + " + TensorConstant{1.0})" * n


def test_assign_by_scalar_name_op_class_op_instance_and_predicate(xyz):
    x, y, _ = xyz
    printer = pp.clone()
    printer.assign("exp", FunctionPrinter("e^"))
    assert printer(T.exp(x)) == "e^(x)"
    printer.assign(T.add, OperatorPrinter("plus"))  # the function T.add carries its op
    assert printer(x + y) == "(x plus y)"
    printer.assign(_TwoOutputs, FunctionPrinter("first", "second"))
    a, b = _TwoOutputs()(x)
    assert printer(b) == "second(x)"
    printer.assign(lambda pstate, r: r.owner is not None and r.owner.op == T.sub.op,
                   PatternPrinter("%(0)s minus %(1)s"))
    assert printer(x - y) == "x minus y"
    printer.assign(lambda r: r.name == "special", FunctionPrinter("SPECIAL"))  # one-argument predicates too
    s = x * y
    s.name = "special"
    assert printer(s) == "SPECIAL(x, y)"
    # the default printer is unchanged
    assert pp(T.exp(x)) == "exp(x)" and pp(x + y) == "(x + y)" and pp(x - y) == "(x - y)"


def test_clone_assign_leaves_original_alone(xyz):
    x, y, _ = xyz
    other = pp.clone_assign("mul", OperatorPrinter("\\cdot"))
    assert other(x * y) == "(x \\cdot y)"
    assert pp(x * y) == "(x * y)"
    assert isinstance(PPrinter()(x + y), str)


def test_errors(xyz):
    x, y, _ = xyz
    with pytest.raises(TypeError, match="pp cannot print a object"):
        pp(object())
    with pytest.raises(TypeError, match="condition must be"):
        pp.clone().assign(3, FunctionPrinter("f"))
    with pytest.raises(TypeError, match="at least one argument"):
        pp()
    with pytest.raises(TypeError, match="not the result of an operation"):
        FunctionPrinter("f").process(x, PrinterState(pprinter=pp))
    with pytest.raises(ValueError, match="assoc"):
        OperatorPrinter("+", 0, "sideways")


def test_exponentially_long_text_is_refused_with_advice():
    x = T.dscalar("x")
    v = x
    for _ in range(40):  # each level uses the previous one twice: 2**40 copies of x
        v = v * v
    with pytest.raises(ValueError, match="debugprint"):
        pp(v)
    short = x
    for _ in range(10):
        short = short * short
    assert pp(short).count("x") == 2 ** 10
