"""debugprint: graphs as indented trees, in Theano's format."""
import io
import re

import numpy as np
import pytest

import arignote as th
import arignote.tensor as T
from arignote.graph.basic import Apply, Op
from arignote.printing import debugprint
from arignote.printing.debugprint import char_from_number

NO_REWRITES = th.Mode(linker="py", optimizer=None)

# Theano's lines: an op's line ends with "'name' " + two (empty) map fields + the
# execution position; an input's line ends after its id.
MUL_ADD = ("Elemwise{mul} [id A] ''   \n"
           " |Elemwise{add} [id B] ''   \n"
           " | |x [id C]\n"
           " | |y [id D]\n"
           " |x [id C]\n")


@pytest.fixture
def xy():
    return T.dvector("x"), T.dvector("y")


def test_reexported():
    import theano

    assert th.debugprint is debugprint and theano.printing.debugprint is debugprint


def test_exact_tree_with_letter_ids(xy):
    x, y = xy
    assert debugprint((x + y) * x, file="str") == MUL_ADD


def test_other_id_styles(xy):
    x, y = xy
    e = (x + y) * x
    assert debugprint(e, file="str", ids="int") == MUL_ADD.replace("[id A]", "[id 0]").replace(
        "[id B]", "[id 1]").replace("[id C]", "[id 2]").replace("[id D]", "[id 3]")
    assert debugprint(e, file="str", ids="") == ("Elemwise{mul}  ''   \n"
                                                  " |Elemwise{add}  ''   \n"
                                                  " | |x \n"
                                                  " | |y \n"
                                                  " |x \n")
    text = debugprint(e, file="str", ids="id")
    assert f"Elemwise{{mul}} [id {id(e.owner)}] ''" in text
    assert text.count(f"x [id {id(x)}]") == 2


def test_print_type(xy):
    x, y = xy
    t = "<TensorType(float64, (?,))>"
    assert debugprint((x + y) * x, file="str", print_type=True) == (
        f"Elemwise{{mul}} [id A] {t} ''   \n"
        f" |Elemwise{{add}} [id B] {t} ''   \n"
        f" | |x [id C] {t}\n"
        f" | |y [id D] {t}\n"
        f" |x [id C] {t}\n")


def test_depth(xy):
    x, y = xy
    e = (x + y) * x
    assert debugprint(e, file="str", depth=1) == "Elemwise{mul} [id A] ''   \n"
    assert debugprint(e, file="str", depth=2) == ("Elemwise{mul} [id A] ''   \n"
                                                   " |Elemwise{add} [id B] ''   \n"
                                                   " |x [id C]\n")
    assert debugprint(e, file="str", depth=0) == ""


def test_repeated_subtree_prints_once_then_refers_back(xy):
    x, y = xy
    a = x + y
    assert debugprint(a * a, file="str") == ("Elemwise{mul} [id A] ''   \n"
                                             " |Elemwise{add} [id B] ''   \n"
                                             " | |x [id C]\n"
                                             " | |y [id D]\n"
                                             " |Elemwise{add} [id B] ''   \n")


def test_names_and_stop_on_name(xy):
    x, y = xy
    a = x + y
    a.name = "a"
    e = (a * 2.0) * a
    full = debugprint(e, file="str")
    assert " | |Elemwise{add} [id C] 'a'   \n | | |x [id D]\n" in full
    stopped = debugprint(e, file="str", stop_on_name=True)
    assert stopped == ("Elemwise{mul} [id A] ''   \n"
                       " |Elemwise{mul} [id B] ''   \n"
                       " | |Elemwise{add} [id C] 'a'   \n"
                       " | |DimShuffle{x} [id D] ''   \n"
                       " |   |TensorConstant{2.0} [id E]\n"
                       " |Elemwise{add} [id C] 'a'   \n")
    assert "x [id" not in stopped
    # the variable asked for is always expanded, even when named
    assert debugprint(a, file="str", stop_on_name=True) == ("Elemwise{add} [id A] 'a'   \n"
                                                            " |x [id B]\n"
                                                            " |y [id C]\n")


def test_list_apply_and_shared_ids_across_roots(xy):
    x, y = xy
    e = (x + y) * x
    assert debugprint([e, x - y], file="str") == MUL_ADD + ("Elemwise{sub} [id E] ''   \n"
                                                            " |x [id C]\n"
                                                            " |y [id D]\n")
    assert debugprint(e.owner, file="str") == MUL_ADD


def test_done_keeps_ids_across_calls(xy):
    x, y = xy
    a = x + y
    done = {}
    first = debugprint(a, file="str", done=done)
    second = debugprint(a * x, file="str", done=done)
    assert first == "Elemwise{add} [id A] ''   \n |x [id B]\n |y [id C]\n"
    assert second == "Elemwise{mul} [id D] ''   \n |Elemwise{add} [id A] ''   \n |x [id B]\n"


def test_compiled_function_with_update_marks_shared_and_update():
    x = T.dvector("x")
    W = th.shared(np.zeros(3), name="W")
    f = th.function([x], (x * W).sum(), updates=[(W, W + x)], mode=NO_REWRITES)
    assert debugprint(f, file="str") == ("Sum{axis=[0]} [id A] ''   1\n"
                                         " |Elemwise{mul} [id B] ''   0\n"
                                         "   |x [id C]\n"
                                         "   |W [id D] <shared>\n"
                                         "Elemwise{add} [id E] ''   2   (update of W)\n"
                                         " |W [id D] <shared>\n"
                                         " |x [id C]\n")
    f(np.ones(3))
    np.testing.assert_allclose(W.get_value(), np.ones(3))


def test_compiled_function_default_mode():
    x = T.dvector("x")
    W = th.shared(np.zeros(3), name="W")
    f = th.function([x], (x * W).sum(), updates=[(W, W + x)])
    text = debugprint(f, file="str")
    assert re.search(r"W \[id [A-Z]+\] <shared>", text)
    assert "(update of W)" in text
    assert "0x" not in text


def test_print_storage_shows_values_after_a_call():
    x = T.dvector("x")
    W = th.shared(np.full(2, 3.0), name="W")
    f = th.function([x], (x * W).sum(), mode=NO_REWRITES)
    assert float(f(np.array([1.0, 2.0]))) == 9.0
    text = debugprint(f, file="str", print_storage=True)
    assert text.splitlines()[0] == "Sum{axis=[0]} [id A] ''   1 [array(9.)]"
    assert "W [id D] <shared> [array([3., 3.])]" in text


def test_function_graph_and_clients():
    x = T.dvector("x")
    y = x * 2.0
    f = th.function([x], [y, y.sum()], mode=NO_REWRITES)
    fg = f.maker.fgraph
    assert debugprint(fg, file="str") == ("Elemwise{mul} [id A] ''   1\n"
                                          " |x [id B]\n"
                                          " |DimShuffle{x} [id C] ''   0\n"
                                          "   |TensorConstant{2.0} [id D]\n"
                                          "Sum{axis=[0]} [id E] ''   2\n"
                                          " |Elemwise{mul} [id A] ''   1\n")
    # y feeds the sum (node 2) and is output 0
    first = debugprint(fg, file="str", print_clients=True).splitlines()[0]
    assert first == "Elemwise{mul} [id A] ''   1 clients:[('output', ''), ('[id B]', 2)]"


def test_profile_timings():
    x = T.dvector("x")
    f = th.function([x], (x * 2.0).sum(), mode=NO_REWRITES, profile=True)
    f(np.ones(4))
    text = debugprint(f, file="str")
    assert "Timing Info" in text
    assert re.search(r"Sum\{axis=\[0\]\} \[id A\] ''   \d+ --> \S+s +\d+\.\d% \S+s 100\.0%", text)


def test_file_argument(xy, capsys):
    x, y = xy
    e = (x + y) * x
    assert isinstance(debugprint(e, file="str"), str)
    assert debugprint(e) is None
    assert capsys.readouterr().out == MUL_ADD
    buf = io.StringIO()
    assert debugprint(e, file=buf) is buf
    assert buf.getvalue() == MUL_ADD


class _TwoOutputs(Op):
    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return Apply(self, [x], [x.type(), x.type()])


def test_several_outputs_get_an_index():
    x = T.dvector("x")
    a, b = _TwoOutputs()(x)
    assert debugprint(a + b, file="str") == ("Elemwise{add} [id A] ''   \n"
                                             " |_TwoOutputs.0 [id B] ''   \n"
                                             " | |x [id C]\n"
                                             " |_TwoOutputs.1 [id B] ''   \n")


class _Inner(Op):
    """An op holding an inner graph the way Scan does (inner_inputs / inner_outputs)."""

    def __init__(self):
        self.inner_inputs = [T.dvector("u")]
        self.inner_outputs = [self.inner_inputs[0] * 2.0]

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])


def test_inner_graphs_are_printed_after_the_outer_graph():
    x = T.dvector("x")
    out = _Inner()(x) + x
    text = debugprint(out, file="str")
    assert text == ("Elemwise{add} [id A] ''   \n"
                    " |_Inner [id B] ''   \n"
                    " | |x [id C]\n"
                    " |x [id C]\n"
                    "\n"
                    "Inner graphs:\n"
                    "\n"
                    "_Inner [id B] ''   \n"
                    " >Elemwise{mul} [id D] ''   \n"
                    " > |u [id E]\n"
                    " > |DimShuffle{x} [id F] ''   \n"
                    " >   |TensorConstant{2.0} [id G]\n")


def test_deep_graph_does_not_hit_the_recursion_limit():
    x = T.dscalar("x")
    v = x
    n = 5000
    for _ in range(n):
        v = v + 1.0
    lines = debugprint(v, file="str").splitlines()
    assert len(lines) == 2 * n + 1
    # the adds nest to the right; x is reached after all of them, each constant on the way back
    assert lines[n] == " |" * n + f"x [id {char_from_number(n)}]"
    assert lines[-1] == f" |TensorConstant{{1.0}} [id {char_from_number(2 * n)}]"


def test_char_ids():
    assert [char_from_number(k) for k in (0, 1, 25, 26, 27, 26 * 26)] == ["A", "B", "Z", "BA", "BB", "BAA"]


def test_other_leaves_and_errors(xy, capsys):
    x, y = xy
    debugprint([3, np.float64(2.5)])
    assert capsys.readouterr().out == "3\n2.5\n"
    assert debugprint(th.In(x), file="str") == "x [id A]\n"
    with pytest.raises(ValueError, match="ids must be"):
        debugprint(x + y, ids="letters")
    with pytest.raises(TypeError, match="debugprint cannot print a dict"):
        debugprint({"a": x})
    with pytest.raises(TypeError, match="depth must be an int"):
        debugprint(x, depth=1.5)


def test_print_op_prints_and_passes_the_value_through(capsys):
    import numpy as np

    import arignote as th
    import arignote.tensor as T
    from arignote.printing import Print

    x = T.dvector('x')
    shown = Print('x is')(x)
    f = th.function([x], (shown * 2).sum())
    assert f(np.array([1.0, 2.0])) == 6.0
    assert capsys.readouterr().out.strip() == "x is __str__ = [1. 2.]"
    g = th.function([x], T.grad((Print('y', attrs=('shape',))(x) ** 2).sum(), x))
    np.testing.assert_array_equal(g(np.array([1.0, 2.0])), [2.0, 4.0])
    assert "y shape = (2,)" in capsys.readouterr().out
