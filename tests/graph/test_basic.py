"""The graph core: variables, applies, ops, traversal, cloning, FunctionGraph."""
import numpy as np
import pytest

import arignote as th
import arignote.tensor as T
from arignote.graph.basic import (ancestors, clone_replace, equal_computations, graph_inputs, io_toposort,
                                  is_same_graph)
from arignote.graph.fg import FunctionGraph


def test_variable_records_the_users_line():
    x = T.dvector('x')  # recorded
    assert x.tag.trace[0].endswith("test_basic.py")
    assert "x = T.dvector('x')" in x.creation_line


def test_apply_structure_and_ops_compare_by_props():
    x, y = T.dvectors('x', 'y')
    a, b = x + y, x + y
    assert a.owner.op == b.owner.op and hash(a.owner.op) == hash(b.owner.op)
    assert a.owner is not b.owner
    assert a.owner.inputs == [x, y] and a.owner.outputs == [a] and a.index == 0
    assert T.sum(x, axis=0).owner.op != T.prod(x, axis=0).owner.op


def test_traversal():
    x, y = T.dvectors('x', 'y')
    z = (x * 2 + y).sum()
    assert set(v for v in graph_inputs([z]) if v.name) == {x, y}
    order = io_toposort([x, y], [z])
    assert order[-1] is z.owner
    positions = {node: i for i, node in enumerate(order)}
    for node in order:
        for inp in node.inputs:
            if inp.owner is not None:
                assert positions[inp.owner] < positions[node]
    assert x in ancestors([z])


def test_clone_replace_and_is_same_graph():
    x, y, w = T.dvectors('x', 'y', 'w')
    z = x * 2 + y
    z2 = clone_replace(z, {y: w})
    assert z2.eval({x: np.ones(2), w: np.full(2, 5.0)}).tolist() == [7.0, 7.0]
    assert z.eval({x: np.ones(2), y: np.zeros(2)}).tolist() == [2.0, 2.0]  # original untouched
    assert is_same_graph(z, x * 2 + y)
    assert not is_same_graph(z, x * 3 + y)
    assert equal_computations([z2], [x * 2 + w])
    assert th.clone(z, replace={y: w}) is not z


def test_function_graph_replace_and_clients():
    x = T.dvector('x')
    y = T.exp(x)
    z = y + y
    fg = FunctionGraph([x], [z], clone=False)
    assert len(fg.clients[y]) == 2
    fg.replace(y, T.log(x))
    assert fg.outputs[0].owner.inputs[0].owner.op.scalar_fn.name == 'log'
    assert y not in fg.variables
