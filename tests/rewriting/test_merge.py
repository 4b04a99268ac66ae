"""Merge: equal constants and identical computations are computed once."""
import numpy as np

import arignote as th
import arignote.tensor as T
from arignote.compile import Mode
from arignote.graph.basic import Constant


def _count(f, name):
    return sum(1 for n in f.maker.fgraph.apply_nodes
               if getattr(n.op, 'scalar_fn', None) is not None and n.op.scalar_fn.name == name)


def test_common_subexpressions_are_computed_once():
    x = T.dvector('x')
    a = T.exp(x)
    b = T.exp(x)  # the same computation, built twice
    only_merge = Mode('py', 'merge')
    f = th.function([x], [a * 2, b * 3], mode=only_merge)
    assert _count(f, 'exp') == 1
    assert 'merge' in f.maker.fgraph.rewrite_trace.fired()
    g = th.function([x], [a * 2, b * 3], mode=Mode('py', None))
    assert _count(g, 'exp') == 2
    value = np.array([0.5, -1.0])
    for got, want in zip(f(value), g(value)):
        np.testing.assert_allclose(got, want)


def test_equal_constants_become_one():
    x = T.dvector('x')
    f = th.function([x], [x + np.float64(2.0), x * np.float64(2.0)], mode=Mode('py', 'merge'))
    twos = {id(v) for v in f.maker.fgraph.variables
            if isinstance(v, Constant) and np.ndim(v.data) == 0 and v.data == 2.0}
    assert len(twos) == 1
    np.testing.assert_allclose(f(np.ones(2))[0], [3.0, 3.0])


def test_different_ops_or_inputs_are_not_merged():
    x, y = T.dvectors('x', 'y')
    f = th.function([x, y], [T.exp(x), T.exp(y), T.log(x)], mode=Mode('py', 'merge'))
    assert _count(f, 'exp') == 2 and _count(f, 'log') == 1
