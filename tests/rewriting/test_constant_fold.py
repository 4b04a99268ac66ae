"""Constant folding: constant subgraphs computed once, at compile time, and what is never folded."""
import numpy as np
import pytest

import arignote as th
import arignote.tensor as T
from arignote.compile import Mode
from arignote.graph.basic import Apply, Constant, Op
from arignote.ifelse import IfElse, ifelse
from arignote.printing.print_op import Print
from arignote.rewriting import rewrites
from arignote.rewriting.rules.constant_fold import MAX_FOLDED_SIZE
from arignote.tensor.shape_ops import Alloc
from arignote.tensor.type import TensorType

# a rewrite that fails is reported by a warning and skipped: here that must not happen
pytestmark = pytest.mark.filterwarnings("error:rewrite ")

NONE = Mode('py', None)
FAST = Mode('py', 'fast_run')
CANON = Mode('py', None).including('canonicalize')
rng = np.random.default_rng(42)


def fired(f):
    return f.maker.fgraph.rewrite_trace.fired()


def nodes(f, cls=None):
    return [n for n in f.maker.fgraph.apply_nodes if cls is None or isinstance(n.op, cls)]


def check_same(inputs, outputs, values, mode=FAST, rtol=1e-12):
    f = th.function(inputs, outputs, mode=mode)
    ref = th.function(inputs, outputs, mode=NONE)
    got, want = f(*values), ref(*values)
    if not isinstance(outputs, list):
        got, want = [got], [want]
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=rtol, equal_nan=True)
    return f


def test_a_constant_subgraph_becomes_one_constant():
    x = T.dvector('x')
    c = T.constant(np.array([1.0, 2.0, 3.0]))
    sub = T.exp(c) * 2.0 - T.sum(c) + T.constant(4.0) ** 0.5
    f = check_same([x], x + sub, [rng.standard_normal(3)], mode=CANON)
    assert 'constant_folding' in fired(f)
    (node,) = nodes(f)
    assert node.op.scalar_fn.name == 'add'
    consts = [i for i in node.inputs if isinstance(i, Constant)]
    assert len(consts) == 1 and node.inputs[0] is f.maker.fgraph.inputs[0]
    np.testing.assert_allclose(consts[0].data, np.exp([1.0, 2.0, 3.0]) * 2 - 6 + 2)


@pytest.mark.parametrize('mode', [FAST, Mode('py', 'fast_compile')])
def test_a_fully_constant_function_has_no_nodes_and_returns_fresh_arrays(mode):
    out = (T.constant(np.arange(6.0).reshape(2, 3)) + 1).T * 2
    f = th.function([], out, mode=mode)
    assert 'constant_folding' in fired(f)
    assert nodes(f) == []
    first = f()
    np.testing.assert_array_equal(first, (np.arange(6.0).reshape(2, 3) + 1).T * 2)
    assert first.dtype == out.dtype
    first[...] = -1  # the caller owns what it got; the constant is untouched
    np.testing.assert_array_equal(f(), (np.arange(6.0).reshape(2, 3) + 1).T * 2)


def test_no_folding_without_rewrites():
    out = T.constant(2.0) * T.constant(3.0)
    f = th.function([], out, mode=NONE)
    assert len(nodes(f)) == 1 and f() == 6.0


def test_folded_constants_keep_the_replaced_type_exactly(tmp_path):
    x = T.dmatrix('x')
    out = x * (T.constant(2.0) + 1.0) + T.constant(np.ones((1, 3)))[:, :2].sum()
    with th.config.change_flags(compiledir=str(tmp_path)):  # a cached graph's trace keeps names only
        f = check_same([x], out, [rng.standard_normal((4, 3))])
    events = [(old, new) for name, old, new in f.maker.fgraph.rewrite_trace.events if name == 'constant_folding']
    assert events
    for old, new in events:
        assert isinstance(new, Constant) and new.type == old.type


@pytest.mark.parametrize('dtype', ['int8', 'uint8', 'int32', 'float32', 'float64', 'bool'])
def test_folding_computes_what_the_run_time_computes(dtype):
    a = T.constant(np.array([100, 27, 1], dtype=dtype))
    x = T.vector('x', dtype=dtype)
    outs = [x * (a * a), x + (a + a)] if dtype != 'bool' else [x & (a | a)]
    value = np.array([3, 1, 0], dtype=dtype)
    f = check_same([x], outs, [value])
    assert 'constant_folding' in fired(f)


def test_large_results_are_not_folded():
    n = MAX_FOLDED_SIZE + 1
    big = T.alloc(T.constant(1.5), n, 1)
    f = check_same([], big.sum(), [])
    assert nodes(f, Alloc)
    small = T.alloc(T.constant(1.5), 4, 3)
    x = T.dmatrix('x')
    g = check_same([x], T.dot(x, small), [rng.standard_normal((2, 4))])
    assert not nodes(g, Alloc)


def test_allocations_returned_or_overwritten_are_not_folded():
    f = th.function([], T.zeros((3, 4)), mode=FAST)
    assert nodes(f, Alloc)
    first = f()
    first[0, 0] = 5.0
    np.testing.assert_array_equal(f(), np.zeros((3, 4)))
    # an IncSubtensor could work in place on a fresh allocation, never on a constant
    i = T.lscalar('i')
    g = check_same([i], T.inc_subtensor(T.zeros((3,))[i], 2.0), [np.int64(1)])
    assert nodes(g, Alloc)


class Boom(Op):
    """Raises when run: folding must leave the error for run time."""

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        raise ValueError("boom at run time")


class NoFold(Op):
    """Asks not to be folded (Theano's do_constant_folding hook)."""

    calls = 0

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        NoFold.calls += 1
        output_storage[0][0] = inputs[0] + 1

    def do_constant_folding(self, fgraph, node):
        return False


class Destroyer(Op):
    destroy_map = {0: [0]}

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        inputs[0] += 1
        output_storage[0][0] = inputs[0]


def test_an_error_in_perform_is_left_for_run_time():
    f = th.function([], Boom()(T.constant(np.ones(2))), mode=FAST)
    assert 'constant_folding' not in fired(f)
    with pytest.raises(ValueError, match="boom"):
        f()


def test_ops_that_refuse_folding_or_destroy_their_input_are_not_folded():
    NoFold.calls = 0
    f = th.function([], NoFold()(T.constant(np.ones(2))), mode=FAST)
    assert NoFold.calls == 0 and nodes(f, NoFold)
    np.testing.assert_array_equal(f(), [2.0, 2.0])
    assert NoFold.calls == 1
    g = th.function([], Destroyer()(T.constant(np.ones(2)) * 3), mode=CANON)
    assert nodes(g, Destroyer)


def test_print_and_ifelse_stay_in_the_graph(capsys):
    c = T.constant(np.array([1.0, 2.0]))
    f = th.function([], Print('shown')(c) * 2, mode=FAST)
    assert nodes(f, Print)
    np.testing.assert_array_equal(f(), [2.0, 4.0])
    assert 'shown' in capsys.readouterr().out
    g = th.function([], ifelse(T.constant(np.array(1, dtype='int8')), c, c * 3), mode=FAST)
    assert nodes(g, IfElse)
    np.testing.assert_array_equal(g(), [1.0, 2.0])


def test_random_draws_are_never_folded():
    from arignote.tensor.random.basic import RandomFunction, uniform
    from arignote.tensor.random.type import RandomStateType

    generator = Constant(RandomStateType(), np.random.RandomState(3))
    _, u = uniform(generator, size=(4,))
    f = th.function([], u * T.constant(2.0), mode=FAST)
    assert nodes(f, RandomFunction)
    np.testing.assert_allclose(f(), np.random.RandomState(3).uniform(0.0, 1.0, (4,)) * 2)


def test_constant_index_and_shape_arithmetic_fold():
    x = T.dvector('x')
    k = T.constant(np.array([5, 1, 3], dtype='int64'))
    out = x[k[1] + k[2] - 3]
    f = check_same([x], out, [rng.standard_normal(4)], mode=CANON)
    assert 'constant_folding' in fired(f)
    assert all(isinstance(i, Constant) or i is f.maker.fgraph.inputs[0] for n in nodes(f) for i in n.inputs)


def test_late_folding_runs_in_specialize_and_both_go_with_the_tag():
    entries = {e.name: e for e in rewrites.entries}
    assert entries['constant_folding'].phase == 'canonicalize'
    assert 'fast_compile' in entries['constant_folding'].tags
    assert entries['constant_folding_late'].phase == 'specialize'
    names = [e.name for e in rewrites.select('fast_run', excluding=['constant_folding'])]
    assert 'constant_folding' not in names and 'constant_folding_late' not in names
    x = T.dvector('x')
    out = x * T.exp(T.constant(1.0))
    f = th.function([x], out, mode=CANON.including('constant_folding_late').excluding('constant_folding'))
    assert any(getattr(n.op, 'scalar_fn', None) is not None and n.op.scalar_fn.name == 'exp' for n in nodes(f))
    late = check_same([x], out, [rng.standard_normal(3)], mode=Mode('py', None).including('constant_folding_late'))
    assert set(fired(late)) == {'constant_folding_late'} and len(nodes(late)) == 1


def test_static_types_of_folded_values_are_checked():
    # a value of another type than the output (an op bug) is not folded into a wrong constant
    class WrongDtype(Op):
        def make_node(self, x):
            x = T.as_tensor_variable(x)
            return Apply(self, [x], [TensorType('float32', shape=(None,))()])

        def perform(self, node, inputs, output_storage):
            output_storage[0][0] = np.asarray(inputs[0], dtype='float64')

    f = th.function([], WrongDtype()(T.constant(np.ones(2))), mode=CANON)
    assert 'constant_folding' not in fired(f)
