"""Scan rewrites: push-out, unused outputs, merging loops — each fires and changes no result."""
import numpy as np

import arignote as th
import arignote.tensor as T
from arignote.compile import Mode
from arignote.graph.basic import io_toposort
from arignote.scan.op import Scan
from arignote.tensor.blas import Dot

rng = np.random.default_rng(0)


def _scans(f):
    return [n for n in f.maker.fgraph.apply_nodes if isinstance(n.op, Scan)]


def _both(inputs, outputs, values, **kw):
    fast = th.function(inputs, outputs, **kw)
    ref = th.function(inputs, outputs, mode=Mode('py', None), **kw)
    return fast, fast(*values), ref(*values)


def test_push_out_sequence_dot_and_invariants():
    X = T.dmatrix('X')
    W = T.dmatrix('W')
    U = T.dmatrix('U')
    hs, _ = th.scan(lambda x, h: T.tanh(T.dot(x, W) + T.dot(h, U.T * 2)), sequences=X,
                    outputs_info=T.zeros((3,), dtype='float64'))
    values = [rng.standard_normal((5, 4)), rng.standard_normal((4, 3)), rng.standard_normal((3, 3))]
    f, got, want = _both([X, W, U], hs, values)
    np.testing.assert_allclose(got, want)
    assert 'scan_push_out' in f.maker.fgraph.rewrite_trace.fired()
    (node,) = _scans(f)
    body = io_toposort(node.op.inner_inputs, node.op.inner_outputs)
    # dot(x_t, W) left the loop; only dot(h, .) remains, and U.T * 2 is an input now
    assert sum(isinstance(n.op, Dot) for n in body) == 1
    assert not any(getattr(n.op, 'scalar_fn', None) is not None and n.op.scalar_fn.name == 'mul'
                   for n in body)


def test_push_out_keeps_gradients_right():
    X = T.dmatrix('X')
    W = T.dmatrix('W')
    hs, _ = th.scan(lambda x, h: T.tanh(T.dot(x, W) + h), sequences=X, outputs_info=T.zeros((3,), dtype='float64'))
    cost = hs[-1].sum()
    values = [rng.standard_normal((4, 2)), rng.standard_normal((2, 3))]
    f, got, want = _both([X, W], T.grad(cost, [X, W]), values)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w)


def test_drop_unused_outputs():
    x = T.dvector('x')
    (a, b), _ = th.scan(lambda v: [v * 2, T.exp(v)], sequences=x)
    f, got, want = _both([x], a, [np.arange(3.0)])
    np.testing.assert_allclose(got, want)
    assert 'scan_drop_unused_outputs' in f.maker.fgraph.rewrite_trace.fired()
    (node,) = _scans(f)
    assert node.op.spec.n_nitsot == 1


def test_unused_state_read_by_another_output_is_kept():
    x = T.dvector('x')
    (acc, out), _ = th.scan(lambda v, s: [s + v, (s + v) * 10], sequences=x,
                            outputs_info=[T.constant(np.float64(0)), None])
    f, got, want = _both([x], out, [np.arange(4.0)])
    np.testing.assert_allclose(got, want)
    (node,) = _scans(f)
    assert node.op.spec.n_rec == 1


def test_merge_loops_over_the_same_sequence():
    x = T.dvector('x')
    a, _ = th.scan(lambda v: v * 2, sequences=x)
    b, _ = th.scan(lambda v: v + 1, sequences=x)
    f, got, want = _both([x], [a, b], [np.arange(4.0)])
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w)
    assert 'scan_merge' in f.maker.fgraph.rewrite_trace.fired()
    assert len(_scans(f)) == 1


def test_dependent_loops_are_not_merged():
    x = T.dvector('x')
    a, _ = th.scan(lambda v: v * 2, sequences=x)
    b, _ = th.scan(lambda v, w: v + w, sequences=[x, a])
    f, got, want = _both([x], b, [np.arange(4.0)])
    np.testing.assert_allclose(got, want)
    assert len(_scans(f)) == 2
