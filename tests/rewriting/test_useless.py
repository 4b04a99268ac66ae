"""Ops that change nothing are removed: casts, dimshuffles, indexings, allocs, fills, SpecifyShapes, reshapes."""
import sys

import numpy as np
import pytest

import arignote as th
import arignote.tensor as T
from arignote.compile import Mode
from arignote.scalar import table as S
from arignote.tensor.elemwise import DimShuffle
from arignote.tensor.math import elemwise_op
from arignote.tensor.shape_ops import Alloc, Reshape, SpecifyShape
from arignote.tensor.subtensor import Subtensor
from arignote.tensor.type import TensorType

pytestmark = pytest.mark.filterwarnings("error:rewrite ")  # a rewrite failing (and skipped) is a bug here

NONE = Mode('py', None)
FAST = Mode('py', 'fast_run')
CANON = Mode('py', None).including('canonicalize')
rng = np.random.default_rng(11)


def fired(f):
    return f.maker.fgraph.rewrite_trace.fired()


def nodes(f, cls):
    return [n for n in f.maker.fgraph.apply_nodes if isinstance(n.op, cls)]


def check_same(inputs, outputs, values, name=None, mode=CANON, absent=False):
    f = th.function(inputs, outputs, mode=mode, on_unused_input='ignore')
    ref = th.function(inputs, outputs, mode=NONE, on_unused_input='ignore')
    got, want = f(*values), ref(*values)
    if not isinstance(outputs, list):
        got, want = [got], [want]
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == w.shape
        np.testing.assert_array_equal(g, w)
    if name is not None:
        assert (name in fired(f)) is not absent, fired(f)
    return f


def randn(*shape):
    return rng.standard_normal(shape)


def is_identity(f):
    fg = f.maker.fgraph
    return not fg.apply_nodes and fg.outputs[0] is fg.inputs[0]


@pytest.mark.parametrize('dtype', ['float32', 'int64', 'bool'])
def test_a_cast_to_the_same_dtype_is_removed(dtype):
    x = T.vector('x', dtype=dtype)
    value = (randn(4) > 0).astype(dtype)
    f = check_same([x], elemwise_op(S.CAST, dtype)(x), [value], 'useless_cast')
    assert is_identity(f)
    other = 'float64' if dtype != 'float64' else 'float32'
    g = check_same([x], elemwise_op(S.CAST, other)(x), [value], 'useless_cast', absent=True)
    assert g.maker.fgraph.outputs[0].dtype == other


def test_an_identity_dimshuffle_is_removed_but_a_transpose_is_not():
    x = T.dmatrix('x')
    f = check_same([x], DimShuffle(2, (0, 1))(x), [randn(2, 3)], 'useless_dimshuffle', mode=FAST)
    assert is_identity(f)
    g = check_same([x], DimShuffle(2, (1, 0))(x), [randn(2, 3)], 'useless_dimshuffle', absent=True)
    assert nodes(g, DimShuffle)


@pytest.mark.parametrize('index', [
    lambda x: x[:], lambda x: x[0:], lambda x: x[::1], lambda x: x[:, :], lambda x: x[0:x.shape[0]],
    lambda x: x[:, :x.shape[1]], lambda x: x[:sys.maxsize], lambda x: x[0::1, 0:],
])
def test_an_indexing_that_takes_everything_is_removed(index):
    x = T.dmatrix('x')
    f = check_same([x], index(x), [randn(3, 4)], 'useless_subtensor')
    assert not nodes(f, Subtensor)
    assert f.maker.fgraph.outputs[0].type == index(x).type


def test_a_slice_up_to_the_static_length_is_everything():
    x = TensorType('float64', shape=(5, None))('x')
    f = check_same([x], x[:5, 0:], [randn(5, 2)], 'useless_subtensor')
    assert is_identity(f)
    g = check_same([x], x[:4], [randn(5, 2)], 'useless_subtensor', absent=True)
    assert g(randn(5, 2)).shape == (4, 2)


@pytest.mark.parametrize('index', [
    lambda x, y: x[1:], lambda x, y: x[:3], lambda x, y: x[::-1], lambda x, y: x[:, ::2],
    lambda x, y: x[:y.shape[0]], lambda x, y: x[:x.shape[1]], lambda x, y: x[0],
])
def test_partial_indexings_stay(index):
    x, y = T.dmatrix('x'), T.dvector('y')
    f = check_same([x, y], index(x, y), [randn(4, 4), randn(2)], 'useless_subtensor', absent=True)
    assert nodes(f, Subtensor)


def test_alloc_of_a_value_in_its_own_shape_is_the_value():
    x = T.dmatrix('x')
    f = check_same([x], T.alloc(x, x.shape[0], x.shape[1]), [randn(2, 3)], 'useless_alloc')
    assert is_identity(f)
    s = TensorType('float64', shape=(2, None))('s')
    g = check_same([s], T.alloc(s, 2, s.shape[1]), [randn(2, 3)], 'useless_alloc')
    assert is_identity(g)


def test_alloc_that_broadcasts_or_adds_dimensions_stays():
    x, y, r, v = T.dmatrix('x'), T.dmatrix('y'), T.drow('r'), T.dvector('v')
    vals = [randn(2, 3), randn(2, 3), randn(1, 3), randn(2)]
    for out in (T.alloc(x, y.shape[0], x.shape[1]), T.alloc(r, 4, r.shape[1]), T.alloc(x, 5, x.shape[0], x.shape[1]),
                T.alloc(v, v.shape[0], 2)):
        f = check_same([x, y, r, v], out, vals, 'useless_alloc', absent=True)
        assert nodes(f, Alloc)


def test_fill_with_a_value_of_the_result_shape_is_the_value():
    x, y = T.dmatrices('x', 'y')
    f = check_same([x, y], T.fill(x, y), [randn(2, 3), randn(2, 3)], 'useless_fill')
    assert not f.maker.fgraph.apply_nodes and f.maker.fgraph.outputs[0] is f.maker.fgraph.inputs[1]
    c = T.dcol('c')
    g = check_same([c, x], T.fill(c, x) * 2, [randn(2, 1), randn(2, 3)], 'useless_fill')
    assert g.maker.fgraph.outputs[0].type.shape == (None, None)


def test_fill_that_broadcasts_the_value_stays():
    x, r = T.dmatrix('x'), T.drow('r')
    f = check_same([x, r], T.fill(x, r), [randn(3, 2), randn(1, 2)], 'useless_fill', absent=True)
    assert f(randn(3, 2), randn(1, 2)).shape == (3, 2)
    check_same([x], T.ones_like(x), [randn(3, 2)], 'useless_fill', absent=True)


def test_a_specify_shape_the_type_already_says_is_removed():
    x = TensorType('float64', shape=(3, None))('x')
    f = check_same([x], SpecifyShape((3, None))(x), [randn(3, 2)], 'useless_specify_shape', mode=FAST)
    assert is_identity(f)


def test_a_specify_shape_that_says_more_or_unbroadcasts_stays():
    x = T.dmatrix('x')
    f = check_same([x], SpecifyShape((3, None))(x), [randn(3, 2)], 'useless_specify_shape', absent=True)
    with pytest.raises(ValueError):
        f(randn(2, 2))
    r = T.drow('r')
    u = T.unbroadcast(r, 0)  # a SpecifyShape that forgets the length 1: r itself would broadcast
    h = check_same([r], u, [randn(1, 3)], 'useless_specify_shape', absent=True)
    assert h.maker.fgraph.outputs[0].type.shape == (None, None) and nodes(h, SpecifyShape)


@pytest.mark.parametrize('shape', [lambda x: x.shape, lambda x: (x.shape[0], x.shape[1]), lambda x: (x.shape[0], -1),
                                   lambda x: (-1, x.shape[1])])
def test_reshape_to_its_own_shape_is_removed(shape):
    x = T.dmatrix('x')
    f = check_same([x], x.reshape(shape(x), ndim=2), [randn(3, 4)], 'useless_reshape')
    assert is_identity(f)


def test_reshape_to_a_static_shape_it_has_is_removed():
    x = TensorType('float64', shape=(2, 3))('x')
    f = check_same([x], x.reshape((2, 3)), [randn(2, 3)], 'useless_reshape')
    assert is_identity(f)


def test_reshapes_that_move_elements_stay():
    x = T.dmatrix('x')
    for shape in [(x.shape[1], x.shape[0]), (-1, x.shape[0]), (x.shape[0], 3), (3, -1)]:
        out = x.reshape(shape, ndim=2)
        f = check_same([x], out, [randn(3, 3)], 'useless_reshape', absent=True)
        assert nodes(f, Reshape)
    y = T.dtensor3('y')
    g = check_same([y], y.reshape((y.shape[0], -1)), [randn(2, 3, 4)], 'useless_reshape', absent=True)
    assert g(randn(2, 3, 4)).shape == (2, 12)


@pytest.mark.parametrize('cond, taken', [(True, 0), (False, 1), (np.array([[1, 1, 1]], dtype='int8'), 0)])
def test_a_switch_on_a_constant_condition_is_the_branch_taken(cond, taken):
    a, b = T.fmatrix('a'), T.dmatrix('b')
    vals = [randn(2, 3).astype('float32'), randn(2, 3)]
    f = check_same([a, b], T.switch(cond, a, b), vals, 'useless_switch')
    assert 'switch' not in {n.op.scalar_fn.name for n in f.maker.fgraph.apply_nodes if hasattr(n.op, 'scalar_fn')}
    fg = f.maker.fgraph
    assert fg.outputs[0].dtype == 'float64'
    assert not fg.clients[fg.inputs[1 - taken]]  # the other branch is not even read


def test_a_switch_between_equal_branches_is_that_branch():
    c, a = T.bvector('c'), T.dvector('a')
    f = check_same([c, a], T.switch(c, a, a), [np.array([0, 1, 0], dtype='int8'), randn(3)], 'useless_switch')
    assert is_identity_of(f, 1)


def test_a_switch_whose_condition_sets_the_shape_stays():
    r, s = T.drow('r'), T.drow('s')
    cond = np.ones((3, 1), dtype=bool)
    f = check_same([r, s], T.switch(cond, r, s), [randn(1, 4), randn(1, 4)], 'useless_switch', absent=True)
    assert f(randn(1, 4), randn(1, 4)).shape == (3, 4)
    c, x = T.bvector('c'), T.dvector('x')
    check_same([c, x], T.switch(c, x, x * 2), [np.array([0, 1], dtype='int8'), randn(2)], 'useless_switch',
               absent=True)


def is_identity_of(f, k):
    fg = f.maker.fgraph
    return not fg.apply_nodes and fg.outputs[0] is fg.inputs[k]


@pytest.mark.parametrize("shaper", ["zero_grad", "disconnected_grad", "consider_constant", "grad_clip",
                                    "grad_scale", "undefined_grad"])
def test_identities_that_only_shape_gradients_are_removed(shaper):
    from arignote import gradient
    from arignote.sandbox import rng_mrg

    wrap = {"grad_clip": lambda v: gradient.grad_clip(v, -1.0, 1.0),
            "grad_scale": lambda v: gradient.grad_scale(v, 3.0),
            "undefined_grad": rng_mrg.undefined_grad}.get(shaper) or getattr(gradient, shaper)
    x = T.dvector('x')
    f = check_same([x], wrap(x), [randn(4)], 'useless_gradient_identity')
    assert is_identity(f)
