"""Shapes without values: `x.shape` from the inputs' shapes, so x is not computed for its shape alone."""

import numpy as np
import pytest

import arignote as th
import arignote.tensor as T
from arignote.compile import Mode
from arignote.graph.basic import Apply, Constant, Op
from arignote.graph.fg import FunctionGraph
from arignote.rewriting.rules.shape import inference
from arignote.tensor.blas import Dot
from arignote.tensor.elemwise import Elemwise
from arignote.tensor.shape_ops import Alloc, MakeVector, Shape, make_vector
from arignote.tensor.type import TensorType

pytestmark = pytest.mark.filterwarnings("error:rewrite ")  # a rewrite failing (and skipped) is a bug here

NONE = Mode('py', None)
FAST = Mode('py', 'fast_run')
CANON = Mode('py', None).including('canonicalize')
rng = np.random.default_rng(5)


def fired(f):
    return f.maker.fgraph.rewrite_trace.fired()


def nodes(f, cls):
    return [n for n in f.maker.fgraph.apply_nodes if isinstance(n.op, cls)]


def elemwise_names(f):
    return {n.op.scalar_fn.name for n in f.maker.fgraph.apply_nodes if isinstance(n.op, Elemwise)}


def check_same(inputs, outputs, values, name=None, mode=FAST, absent=False):
    f = th.function(inputs, outputs, mode=mode, on_unused_input='ignore')
    ref = th.function(inputs, outputs, mode=NONE, on_unused_input='ignore')
    got, want = f(*values), ref(*values)
    if not isinstance(outputs, list):
        got, want = [got], [want]
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=1e-12)
    if name is not None:
        assert (name in fired(f)) is not absent, fired(f)
    return f


def randn(*shape, dtype='float64'):
    return rng.standard_normal(shape).astype(dtype)


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('like', [T.zeros_like, T.ones_like])
def test_zeros_like_of_a_dot_does_not_compute_the_dot(like, dtype):
    a, b = T.matrix('a', dtype=dtype), T.matrix('b', dtype=dtype)
    out = like(T.dot(a, b))
    f = check_same([a, b], out, [randn(2, 3, dtype=dtype), randn(3, 4, dtype=dtype)], 'fill_to_alloc')
    assert not nodes(f, Dot) and nodes(f, Alloc)
    assert f(randn(5, 1, dtype=dtype), randn(1, 7, dtype=dtype)).shape == (5, 7)
    assert f.maker.fgraph.outputs[0].type == out.type


def test_zeros_like_through_a_chain_and_after_other_rewrites():
    a, b = T.dmatrices('a', 'b')
    out = T.zeros_like(T.tanh(T.dot(a, b) * 1).T)
    f = check_same([a, b], out, [randn(2, 3), randn(3, 4)], 'fill_to_alloc')
    assert not nodes(f, Dot) and 'tanh' not in elemwise_names(f)
    assert f(randn(2, 3), randn(3, 4)).shape == (4, 2)


def test_the_shape_of_a_dot_and_its_lengths_do_not_compute_it():
    a, b = T.dmatrices('a', 'b')
    d = T.dot(a, b)
    vals = [randn(2, 3), randn(3, 4)]
    for out in (d.shape, d.shape[0], d.shape[1], d.shape[0] * d.shape[1], T.tanh(d).T.shape[1]):
        f = check_same([a, b], out, vals, 'shape_infer')
        assert not nodes(f, Dot) and 'tanh' not in elemwise_names(f)


def test_reshape_to_the_shape_of_a_dot():
    a, b, y = T.dmatrix('a'), T.dmatrix('b'), T.dvector('y')
    out = y.reshape(T.dot(a, b).shape, ndim=2)
    f = check_same([a, b, y], out, [randn(2, 3), randn(3, 4), randn(8)], 'shape_infer')
    assert not nodes(f, Dot)


def test_a_dot_needed_anyway_is_computed_once_and_its_shape_read_from_it():
    a, b = T.dmatrices('a', 'b')
    d = T.dot(a, b)
    f = check_same([a, b], [d, d.shape[0], T.zeros_like(d)], [randn(2, 3), randn(3, 4)])
    assert len(nodes(f, Dot)) == 1
    assert 'shape_infer' not in fired(f) and 'fill_to_alloc' not in fired(f)


def test_zeros_like_of_an_input_stays_a_fill():
    x = T.dmatrix('x')
    f = check_same([x], T.zeros_like(x) + 1, [randn(2, 2)], 'fill_to_alloc', absent=True)
    assert not nodes(f, Alloc)


def test_static_lengths_become_constants():
    x = TensorType('float64', shape=(3, None))('x')
    f = check_same([x], x.shape[0] * x.shape[1], [randn(3, 5)], 'shape_constant', mode=CANON)
    assert len(nodes(f, Shape)) == 1  # only the unknown length is read at run time
    s = TensorType('float64', shape=(3, 2))('s')
    g = check_same([s], s.shape, [randn(3, 2)], 'shape_constant', mode=CANON)
    assert not g.maker.fgraph.apply_nodes and isinstance(g.maker.fgraph.outputs[0], Constant)
    a = T.dmatrix('a')
    h = th.function([a, s], T.dot(a, s).shape[1], mode=CANON, on_unused_input='ignore')
    assert h(randn(4, 3), randn(3, 2)) == 2 and not h.maker.fgraph.apply_nodes


class Opaque(Op):
    """An op without infer_shape: its output's shape is known only by running it."""

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return Apply(self, [x], [TensorType(x.dtype, shape=(None,) * x.ndim)()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = np.repeat(inputs[0], 2, axis=0)


class Refusing(Opaque):
    def infer_shape(self, fgraph, node, input_shapes):
        raise NotImplementedError("not this time")


@pytest.mark.parametrize('op', [Opaque(), Refusing()])
def test_ops_without_shape_inference_are_computed_for_their_shape(op):
    a, b = T.dmatrices('a', 'b')
    inner = op(T.dot(a, b))
    f = check_same([a, b], [T.zeros_like(inner), inner.shape, T.tanh(inner).shape], [randn(2, 3), randn(3, 4)])
    assert nodes(f, type(op)) and nodes(f, Dot)
    assert f(randn(2, 3), randn(3, 4))[1].tolist() == [4, 4]
    # the shape of a computation on top of it still skips that computation
    assert 'tanh' not in elemwise_names(f)


@pytest.mark.parametrize('build', [
    lambda x, y: x[1:, ::2], lambda x, y: x.reshape((-1,)), lambda x, y: T.concatenate([x, y], axis=0),
    lambda x, y: T.sum(T.exp(x), axis=0), lambda x, y: T.dot(x, y.T), lambda x, y: T.alloc(T.sum(x), 3, x.shape[1]),
    lambda x, y: T.max(x, axis=1), lambda x, y: x.flatten(), lambda x, y: T.stack([x, y]),
    lambda x, y: T.tile(x, (2, 1)), lambda x, y: T.nnet.softmax(x), lambda x, y: T.argsort(x, axis=0),
    lambda x, y: T.cumsum(x, axis=1), lambda x, y: T.outer(x[0], y[:, 0]),
])
def test_inferred_shapes_match_the_computed_ones(build):
    x, y = T.dmatrices('x', 'y')
    out = build(x, y)
    vals = [randn(4, 3), randn(4, 3)]
    check_same([x, y], [out.shape, T.zeros_like(out)], vals)
    check_same([x, y], [out.shape, T.zeros_like(out)], [randn(7, 2), randn(7, 2)])


def test_shape_inference_entries_compute_the_shape():
    a, b = T.dmatrices('a', 'b')
    fg = FunctionGraph([a, b], [T.tanh(T.dot(a, b)).T], clone=False)
    feature = inference(fg)
    assert inference(fg) is feature  # attached once
    entries = feature.shape_of(fg, fg.outputs[0])
    assert len(entries) == 2
    f = th.function([a, b], list(entries), mode=NONE, on_unused_input='ignore')
    assert [int(v) for v in f(randn(2, 3), randn(3, 5))] == [5, 2]
    assert feature.shape_of(fg, fg.outputs[0]) is entries  # memoised


def test_make_vector_indexing_picks_the_element():
    a, b = T.lscalar('a'), T.iscalar('b')
    f = check_same([a, b], make_vector([a, b])[1], [np.int64(3), np.int32(4)], 'subtensor_make_vector', mode=CANON)
    assert not nodes(f, MakeVector)
    assert f.maker.fgraph.outputs[0].dtype == 'int64'
    k = T.lscalar('k')
    g = check_same([a, b, k], make_vector([a, b])[k], [np.int64(3), np.int32(4), np.int64(-1)],
                   'subtensor_make_vector', mode=CANON, absent=True)
    assert nodes(g, MakeVector)


def test_shape_inference_of_a_deep_graph_needs_no_recursion():
    a, b = T.dmatrices('a', 'b')
    h = T.dot(a, b)
    for k in range(3000):  # deeper than Python's recursion limit
        h = T.tanh(h) if k % 2 else T.exp(h) * 0.5
    fg = FunctionGraph([a, b], [h], clone=False)
    entries = inference(fg).shape_of(fg, h)
    f = th.function([a, b], list(entries), mode=NONE, on_unused_input='ignore')
    assert [int(v) for v in f(randn(2, 3), randn(3, 4))] == [2, 4]


def test_a_long_chain_needed_only_for_its_shape_is_dropped():
    a, b = T.dmatrices('a', 'b')
    h = T.dot(a, b)
    for k in range(300):
        h = T.tanh(h) if k % 2 else T.exp(h) * 0.5
    f = check_same([a, b], T.zeros_like(h), [randn(2, 3), randn(3, 4)], 'fill_to_alloc')
    assert not nodes(f, Dot) and not elemwise_names(f) & {'tanh', 'exp'}


def test_rewriting_a_500_node_graph_that_reads_shapes_is_quick():
    x = T.dvector('x')
    out = x
    for k in range(250):  # 500 nodes, the shape read at every step
        out = T.tanh(out) + T.cast(out.shape[0], 'float64')
    g = th.function([x], out, mode=FAST)
    canon = sum(t for name, t in g.maker.fgraph.rewrite_timings if name == 'canonicalize')
    assert canon < 1.0  # a regression guard, not a benchmark
    np.testing.assert_allclose(g(np.zeros(3)), th.function([x], out, mode=NONE)(np.zeros(3)))


def test_lengths_given_as_small_integers_are_read_as_int64():
    x, n = T.dvector('x'), T.iscalar('n')
    big = T.tanh(T.alloc(x, n, x.shape[0]))
    f = check_same([x, n], [big.shape, big.shape[0] * 2], [randn(3), np.int32(4)], 'shape_infer')
    assert not nodes(f, Alloc) and f.maker.fgraph.outputs[0].dtype == 'int64'


def test_a_value_filled_into_another_shape_is_still_computed():
    a, b, m = T.dmatrix('a'), T.dcol('b'), T.dmatrix('m')
    d = T.dot(a, b)  # a column: fill(m, d) broadcasts it, reading its values
    f = check_same([a, b, m], [T.fill(m, d), d.shape[0]], [randn(2, 3), randn(3, 1), randn(2, 4)])
    assert len(nodes(f, Dot)) == 1 and 'shape_infer' not in fired(f)


def test_shape_inference_follows_replacements():
    a = T.dmatrix('a')
    v = Opaque()(a)
    fg = FunctionGraph([a], [T.tanh(v)], clone=False)
    feature = inference(fg)
    entries = feature.shape_of(fg, v)  # unknown: read from v itself
    w = Opaque()(a * 1)
    fg.replace(v, w)
    assert feature.shape_of(fg, w) is entries  # the same shape ...
    assert all(e.owner.inputs[0].owner.inputs[0] is w for e in entries)  # ... now read from w, not v
    f = th.function([a], list(entries), mode=NONE)
    assert [int(e) for e in f(randn(2, 3))] == [4, 3]
