"""In-place rewrites: safe destruction only, and the sparse embedding update."""
import numpy as np
import pytest

import arignote as th
import arignote.tensor as T
from arignote.compile import Mode
from arignote.tensor.advanced_subtensor import AdvancedIncSubtensor1

rng = np.random.default_rng(0)


def _nodes(f, cls):
    return [n for n in f.maker.fgraph.apply_nodes if isinstance(n.op, cls)]


def _embedding_sgd(W, ids, lr=0.5):
    cost = (W[ids] ** 2).sum()
    g = T.grad(cost, W)
    return cost, W - lr * g


def test_sparse_update_touches_rows_in_place():
    W = th.shared(rng.standard_normal((50, 4)), 'W')
    ids = T.ivector('ids')
    cost, new_W = _embedding_sgd(W, ids)
    f = th.function([ids], cost, updates=[(W, new_W)])
    fired = f.maker.fgraph.rewrite_trace.fired()
    assert 'sparse_update' in fired and 'inplace' in fired
    (node,) = _nodes(f, AdvancedIncSubtensor1)
    assert node.op.inplace and node.inputs[0].type.shape == W.type.shape
    # no dense 50x4 temporary: nothing computes zeros_like(W) any more
    W_in = f.maker.fgraph.inputs[1]
    assert not any(getattr(n.op, 'scalar_fn', None) is not None and n.op.scalar_fn.name == 'second'
                   and n.inputs[0] is W_in for n in f.maker.fgraph.apply_nodes)
    storage = W.get_value(borrow=True)
    before = storage.copy()
    chosen = np.array([3, 3, 7], dtype='int32')
    f(chosen)
    assert W.get_value(borrow=True) is storage  # updated in its own memory
    expected = before.copy()
    np.add.at(expected, chosen, -0.5 * 2 * before[chosen])
    np.testing.assert_allclose(W.get_value(), expected)


def test_sparse_update_matches_the_dense_reference():
    values = rng.standard_normal((20, 3))
    ids_value = np.array([1, 5, 1, 19], dtype='int32')
    results = []
    for mode in (Mode('py', None), Mode('py', 'fast_run')):
        W = th.shared(values.copy(), 'W')
        ids = T.ivector('ids')
        cost, new_W = _embedding_sgd(W, ids, lr=0.1)
        f = th.function([ids], cost, updates=[(W, new_W)], mode=mode)
        costs = [f(ids_value) for _ in range(3)]
        results.append((costs, W.get_value()))
    np.testing.assert_allclose(results[0][0], results[1][0])
    np.testing.assert_allclose(results[0][1], results[1][1])


def test_no_in_place_on_a_shared_variable_that_is_not_updated():
    W = th.shared(rng.standard_normal((5, 2)), 'W')
    ids = T.ivector('ids')
    out = T.inc_subtensor(W[ids], 1.0)
    f = th.function([ids], out)
    (node,) = _nodes(f, AdvancedIncSubtensor1)
    assert not node.op.inplace
    before = W.get_value()
    f(np.array([0], dtype='int32'))
    np.testing.assert_array_equal(W.get_value(), before)


def test_no_in_place_on_inputs_unless_mutable():
    x = T.dvector('x')
    out = T.inc_subtensor(x[1:], 1.0)
    value = np.zeros(3)
    th.function([x], out)(value)
    np.testing.assert_array_equal(value, np.zeros(3))
    g = th.function([th.In(x, mutable=True)], out)
    result = g(value)
    np.testing.assert_array_equal(result, [0.0, 1.0, 1.0])
    np.testing.assert_array_equal(value, [0.0, 1.0, 1.0])  # the caller allowed it


def test_other_readers_run_before_the_destroyer():
    W = th.shared(np.arange(6.0).reshape(3, 2), 'W')
    ids = T.ivector('ids')
    total = W.sum()  # reads W; must see the value from before the update
    f = th.function([ids], [total, W[ids].sum()], updates=[(W, T.inc_subtensor(W[ids], 10.0))])
    out = f(np.array([0], dtype='int32'))
    assert out[0] == 15.0 and out[1] == 1.0
    np.testing.assert_array_equal(W.get_value(), [[10.0, 11.0], [2.0, 3.0], [4.0, 5.0]])


def test_old_value_returned_as_output_is_not_clobbered():
    W = th.shared(np.zeros(3), 'W')
    ids = T.ivector('ids')
    f = th.function([ids], W, updates=[(W, T.inc_subtensor(W[ids], 1.0))])
    out = f(np.array([1], dtype='int32'))
    np.testing.assert_array_equal(out, np.zeros(3))
    np.testing.assert_array_equal(W.get_value(), [0.0, 1.0, 0.0])


def test_constants_are_never_destroyed():
    c = T.constant(np.zeros(3))
    ids = T.ivector('ids')
    f = th.function([ids], T.inc_subtensor(c[ids], 1.0))
    np.testing.assert_array_equal(f(np.array([0], dtype='int32')), [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(f(np.array([0], dtype='int32')), [1.0, 0.0, 0.0])


def test_elementwise_update_writes_into_the_shared_variable():
    W = th.shared(np.ones(4), 'W')
    g = T.dvector('g')
    f = th.function([g], [], updates=[(W, W - 0.5 * g)])
    inplace = [n for n in f.maker.fgraph.apply_nodes if getattr(n.op, 'inplace_input', None) is not None]
    assert inplace and 'inplace' in f.maker.fgraph.rewrite_trace.fired()
    storage = W.get_value(borrow=True)
    f(np.arange(4.0))
    assert W.get_value(borrow=True) is storage
    np.testing.assert_array_equal(storage, 1 - 0.5 * np.arange(4.0))


def test_elementwise_in_place_never_touches_plain_inputs_or_broadcasts():
    x = T.dmatrix('x')
    r = T.row('r')
    f = th.function([x, r], T.exp(x) + r)  # exp(x) is a temporary: fine to overwrite; x is not
    value = np.zeros((2, 3))
    out = f(value, np.ones((1, 3)))
    np.testing.assert_array_equal(value, np.zeros((2, 3)))
    np.testing.assert_array_equal(out, np.full((2, 3), 2.0))
    # the row is broadcast: it can never receive the (2, 3) result
    assert not any(getattr(n.op, 'inplace_input', None) is not None and n.inputs[n.op.inplace_input].type.ndim == 2
                   and n.inputs[n.op.inplace_input].broadcastable[0] for n in f.maker.fgraph.apply_nodes)
