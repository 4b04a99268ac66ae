"""Canonical forms: flat sums/products, collected and neutral constants, and the algebraic rules.

Each rule: it fires (its name in the trace, the expected nodes), it changes no
result (against the function compiled without rewrites), and it stays away
where it would change a dtype, a broadcast, or a nan.
"""
import numpy as np
import pytest

import arignote as th
import arignote.tensor as T
from arignote.compile import Mode
from arignote.graph.basic import Constant
from arignote.tensor.elemwise import DimShuffle, Elemwise
from arignote.tensor.shape_ops import Reshape

# a rewrite failing (reported by a warning, and skipped) is a bug here
pytestmark = pytest.mark.filterwarnings("error:rewrite ")

NONE = Mode('py', None)
FAST = Mode('py', 'fast_run')
CANON = Mode('py', None).including('canonicalize')
rng = np.random.default_rng(7)


def fired(f):
    return f.maker.fgraph.rewrite_trace.fired()


def elemwise(f):
    """{scalar function name (or 'cast'): [nodes]} of the rewritten graph."""
    found = {}
    for n in f.maker.fgraph.apply_nodes:
        if isinstance(n.op, Elemwise):
            found.setdefault('cast' if n.op.out_dtype else n.op.scalar_fn.name, []).append(n)
    return found


def check_same(inputs, outputs, values, name=None, mode=CANON, rtol=1e-12, absent=False):
    """Compile with `mode` and without rewrites; same results (dtype, shape, values); `name` fired or not."""
    f = th.function(inputs, outputs, mode=mode)
    ref = th.function(inputs, outputs, mode=NONE)
    with np.errstate(all='ignore'):  # nan and inf are part of what is compared
        got, want = f(*values), ref(*values)
    if not isinstance(outputs, list):
        got, want = [got], [want]
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=rtol, equal_nan=True)
    if name is not None:
        assert (name in fired(f)) is not absent, fired(f)
    return f


def randn(*shape, dtype='float64'):
    return rng.standard_normal(shape).astype(dtype)


def randint(*shape, dtype='int32', lo=-50, hi=50):
    return rng.integers(lo, hi, shape).astype(dtype)


# -- flattening ---------------------------------------------------------------------------------------

@pytest.mark.parametrize('dtype', ['float32', 'float64', 'int16'])
@pytest.mark.parametrize('fn', ['add', 'mul'])
def test_nested_sums_and_products_become_one_node(fn, dtype):
    x, y, z = (T.vector(n, dtype=dtype) for n in 'xyz')
    op = getattr(T, fn)
    out = op(op(x, y), op(z, x))
    vals = [randn(5, dtype=dtype) if dtype[0] == 'f' else randint(5, dtype=dtype) for _ in range(3)]
    f = check_same([x, y, z], out, vals, 'flatten_add_mul', rtol=1e-6)
    (node,) = elemwise(f)[fn]
    assert len(node.inputs) == 4 and len(f.maker.fgraph.apply_nodes) == 1


def test_broadcasting_operands_flatten_with_the_same_result():
    x, r, c = T.dmatrix('x'), T.drow('r'), T.dcol('c')
    f = check_same([x, r, c], (x + r) + c, [randn(3, 4), randn(1, 4), randn(3, 1)], 'flatten_add_mul')
    assert f.maker.fgraph.outputs[0].type.shape == (None, None)


def test_a_shared_inner_sum_is_not_flattened():
    x, y, z = T.dvectors('x', 'y', 'z')
    s = x + y
    f = check_same([x, y, z], [s + z, s * 2], [randn(3), randn(3), randn(3)], 'flatten_add_mul', absent=True)
    assert len(elemwise(f)['add']) == 2


def test_an_inner_sum_of_a_smaller_dtype_is_not_flattened():
    # int8 + int8 wraps around before the float64 sum: flattening would compute 200
    a, b = T.bvector('a'), T.bvector('b')
    z = T.dvector('z')
    vals = [np.array([100, -100], dtype='int8'), np.array([100, -100], dtype='int8'), np.zeros(2)]
    f = check_same([a, b, z], (a + b) + z, vals, 'flatten_add_mul', absent=True)
    np.testing.assert_array_equal(f(*vals), [-56.0, 56.0])


# -- constants in sums and products -------------------------------------------------------------------

def test_constants_of_a_sum_are_collected():
    x = T.dvector('x')
    f = check_same([x], (x + 1) + 2, [randn(4)], 'collect_constants')
    (node,) = f.maker.fgraph.apply_nodes
    assert node.op.scalar_fn.name == 'add' and len(node.inputs) == 2
    (const,) = [i for i in node.inputs if isinstance(i, Constant)]
    np.testing.assert_array_equal(const.data, [3.0])


def test_constants_of_a_product_are_collected():
    x = T.fmatrix('x')
    f = check_same([x], 2 * (x * 3), [randn(2, 3, dtype='float32')], 'collect_constants')
    (node,) = f.maker.fgraph.apply_nodes
    assert node.op.scalar_fn.name == 'mul' and len(node.inputs) == 2
    (const,) = [i for i in node.inputs if isinstance(i, Constant)]
    assert const.dtype == 'float32' and np.all(const.data == 6.0)
    assert f.maker.fgraph.outputs[0].dtype == 'float32'


def test_collected_constants_keep_broadcasting_and_integer_wraparound():
    x = T.bmatrix('x')
    out = (x + T.constant(np.array([[100, 27, 3]], dtype='int8'))) + T.constant(np.array([[100], [1]], dtype='int8'))
    f = check_same([x], out, [randint(2, 3, dtype='int8')], 'collect_constants')
    assert f.maker.fgraph.outputs[0].type.shape == (2, 3)
    y = T.dmatrix('y')
    check_same([y], (y * np.full((1, 3), 3.0)) * np.full((2, 1), 2.0), [randn(2, 3)], 'collect_constants')


# -- neutral elements ------------------------------------------------------------------------------------

@pytest.mark.parametrize('expr', [lambda x: x * 1, lambda x: 1 * x, lambda x: x + 0, lambda x: 0 + x])
@pytest.mark.parametrize('dtype', ['float32', 'float64', 'int64', 'uint8'])
def test_multiplying_by_one_or_adding_zero_is_the_identity(expr, dtype):
    x = T.matrix('x', dtype=dtype)
    value = randn(2, 3, dtype=dtype) if dtype[0] == 'f' else randint(2, 3, dtype=dtype, lo=0)
    f = check_same([x], expr(x), [value], 'remove_neutral')
    assert not f.maker.fgraph.apply_nodes and f.maker.fgraph.outputs[0] is f.maker.fgraph.inputs[0]
    out = f(value)
    out[...] = 0  # the input is not returned itself
    assert np.any(value != 0)


def test_an_integer_times_a_float_one_is_cast_not_dropped():
    x = T.lvector('x')
    f = check_same([x], x * np.float64(1.0), [randint(4, dtype='int64')], 'remove_neutral')
    assert list(elemwise(f)) == ['cast'] and f.maker.fgraph.outputs[0].dtype == 'float64'


def test_a_one_among_several_factors_is_dropped():
    x, y = T.dvectors('x', 'y')
    f = check_same([x, y], T.mul(x, 1, y), [randn(3), randn(3)], 'remove_neutral')
    (node,) = elemwise(f)['mul']
    assert len(node.inputs) == 2


def test_a_filled_zero_in_a_gradient_sum_is_dropped():
    x, y = T.dmatrices('x', 'y')
    out = T.zeros_like(x) + T.exp(y)
    f = check_same([x, y], out, [randn(2, 3), randn(2, 3)], 'remove_neutral')
    assert 'add' not in elemwise(f) and 'second' not in elemwise(f)


def test_a_neutral_constant_that_sets_the_shape_is_kept():
    x = T.drow('x')
    f = check_same([x], x + np.zeros((3, 4)), [randn(1, 4)], 'remove_neutral', absent=True)
    assert f(randn(1, 4)).shape == (3, 4)


def test_dropping_a_float_one_that_sets_the_dtype_of_integers_is_refused():
    x, y = T.bvectors('x', 'y')
    out = T.mul(x, y, np.float32(1.0))
    vals = [np.array([100, 3], dtype='int8'), np.array([100, 3], dtype='int8')]
    f = check_same([x, y], out, vals, 'remove_neutral', absent=True)
    np.testing.assert_array_equal(f(*vals), [10000.0, 9.0])


def test_subtracting_zero_is_the_identity():
    x = T.dmatrix('x')
    f = check_same([x], x - 0, [randn(2, 2)], 'sub_zero')
    assert not f.maker.fgraph.apply_nodes
    i = T.ivector('i')
    g = check_same([i], i - np.float64(0.0), [randint(3)], 'sub_zero')
    assert list(elemwise(g)) == ['cast']
    r = T.drow('r')
    check_same([r], r - np.zeros((2, 3)), [randn(1, 3)], 'sub_zero', absent=True)


# -- zeros -------------------------------------------------------------------------------------------------

def test_an_integer_product_with_zero_is_zeros_of_its_shape():
    x, v = T.imatrix('x'), T.ivector('v')
    f = check_same([x, v], x * v * 0, [randint(2, 3), randint(3)], 'mul_by_zero')
    assert 'mul' not in elemwise(f)
    np.testing.assert_array_equal(f(randint(2, 3), randint(3)), np.zeros((2, 3), dtype='int32'))


def test_a_float_times_zero_is_not_zeros():
    x = T.dvector('x')
    vals = [np.array([np.nan, np.inf, -2.0])]
    f = check_same([x], x * 0, vals, 'mul_by_zero', absent=True)
    with np.errstate(invalid='ignore'):
        np.testing.assert_array_equal(f(*vals), [np.nan, np.nan, -0.0])


def test_an_integer_minus_itself_is_zeros_but_not_a_float():
    i = T.lmatrix('i')
    f = check_same([i], i - i, [randint(2, 3, dtype='int64')], 'sub_self')
    assert 'sub' not in elemwise(f)
    x = T.dvector('x')
    g = check_same([x], x - x, [np.array([np.inf, 1.0])], 'sub_self', absent=True)
    with np.errstate(invalid='ignore'):
        assert np.isnan(g(np.array([np.inf, 1.0]))[0])


def test_negating_twice_is_the_identity():
    x = T.bvector('x')
    f = check_same([x], -(-x), [np.array([-128, 127, 0], dtype='int8')], 'neg_neg')
    assert not f.maker.fgraph.apply_nodes
    y = T.fmatrix('y')
    check_same([y], -(-y) * 2, [randn(2, 2, dtype='float32')], 'neg_neg')


# -- division, powers, exp and log ---------------------------------------------------------------------------

@pytest.mark.parametrize('dtype', ['float32', 'float64', 'int32', 'int8'])
def test_dividing_by_a_constant_multiplies_by_its_reciprocal(dtype):
    x = T.vector('x', dtype=dtype)
    value = randn(5, dtype=dtype) if dtype[0] == 'f' else randint(5, dtype=dtype)
    f = check_same([x], x / 4, [value], 'div_by_constant')
    names = elemwise(f)
    assert 'true_div' not in names
    (node,) = names['mul']
    (const,) = [i for i in node.inputs if isinstance(i, Constant)]
    assert np.all(const.data == 0.25)
    rtol = 1e-6 if f.maker.fgraph.outputs[0].dtype == 'float32' else 1e-15
    check_same([x], x / 3, [value], 'div_by_constant', rtol=rtol)


def test_dividing_by_constant_zero_gives_the_same_infinities_and_nans():
    x = T.dvector('x')
    check_same([x], x / np.array([0.0, 0.0, 0.0, -0.0]), [np.array([1.0, -1.0, 0.0, 2.0])], 'div_by_constant')


def test_division_by_a_variable_or_integer_division_is_not_rewritten():
    x, y = T.dvectors('x', 'y')
    check_same([x, y], x / y, [randn(3), randn(3) + 5], 'div_by_constant', absent=True)
    i = T.ivector('i')
    check_same([i], i // 4, [randint(6)], 'div_by_constant', absent=True)


@pytest.mark.parametrize('exponent, fn', [(2, 'sqr'), (0.5, 'sqrt'), (-1, 'inv'), (1, None)])
@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_special_powers(exponent, fn, dtype):
    x = T.matrix('x', dtype=dtype)
    value = np.abs(randn(3, 2, dtype=dtype)) + 0.5
    f = check_same([x], x ** exponent, [value], 'pow_special', rtol=1e-6)
    names = elemwise(f)
    assert 'pow' not in names
    assert (list(names) == [fn]) if fn else not names
    assert f.maker.fgraph.outputs[0].dtype == dtype


def test_special_powers_of_integers_keep_the_dtype():
    i = T.bvector('i')
    f = check_same([i], i ** 2, [randint(4, dtype='int8')], 'pow_special')
    assert list(elemwise(f)) == ['sqr'] and f.maker.fgraph.outputs[0].dtype == 'int8'
    g = check_same([i], i ** 0.5, [randint(4, dtype='int8', lo=0)], 'pow_special')
    assert f.maker.fgraph.outputs[0].dtype == 'int8' and g.maker.fgraph.outputs[0].dtype == 'float64'
    n = T.lvector('n')
    h = th.function([n], n ** -1, mode=CANON)  # NumPy refuses integers to negative powers: left alone
    assert 'pow_special' not in fired(h)
    check_same([n], n ** 3, [randint(3, dtype='int64')], 'pow_special', absent=True)


def test_a_power_whose_exponent_sets_the_shape_keeps_it():
    x = T.dvector('x')
    f = check_same([x], x ** np.full(3, 2.0), [randn(3)], 'pow_special')
    assert f.maker.fgraph.outputs[0].type.shape == (3,)
    r = T.drow('r')
    check_same([r], r ** np.full((3, 1), 2.0), [randn(1, 4)], 'pow_special', absent=True)


def test_negative_bases_give_the_same_nans():
    x = T.dvector('x')
    check_same([x], x ** 0.5, [np.array([-1.0, 4.0, 0.0])], 'pow_special')


@pytest.mark.parametrize('dtype', ['float32', 'float64', 'int16'])
def test_log_of_exp(dtype):
    x = T.vector('x', dtype=dtype)
    value = randn(6, dtype=dtype) * 3 if dtype[0] == 'f' else randint(6, dtype=dtype, lo=-20, hi=20)
    f = check_same([x], T.log(T.exp(x)), [value], 'log_exp', rtol=1e-6)
    assert not {'exp', 'log'} & set(elemwise(f))
    if dtype == 'float64':  # where exp overflows, the rewritten graph is exact
        np.testing.assert_array_equal(f(np.array([800.0])), [800.0])


@pytest.mark.parametrize('dtype', ['float64', 'int32', 'uint8'])
def test_exp_of_log_is_x_where_x_is_not_negative_and_nan_elsewhere(dtype):
    x = T.vector('x', dtype=dtype)
    value = np.array([0, 3, 7] + ([-2] if dtype[0] != 'u' else []), dtype=dtype)
    f = check_same([x], T.exp(T.log(x)), [value], 'exp_log', rtol=1e-6)
    assert not {'exp', 'log'} & set(elemwise(f))


# -- dimshuffles and reshapes -------------------------------------------------------------------------------

def test_dimshuffles_that_cancel_vanish():
    x = T.dmatrix('x')
    f = check_same([x], x.T.T, [randn(2, 3)], 'dimshuffle_merge')
    assert not f.maker.fgraph.apply_nodes
    r = T.drow('r')
    g = check_same([r], r.dimshuffle(1).dimshuffle('x', 0), [randn(1, 3)], 'dimshuffle_merge')
    assert not g.maker.fgraph.apply_nodes and g.maker.fgraph.outputs[0].type.shape == (1, None)


def test_two_dimshuffles_become_one():
    x = T.dtensor3('x')
    out = x.dimshuffle(2, 'x', 0, 1).dimshuffle(3, 1, 2, 0)
    f = check_same([x], out, [randn(2, 3, 4)], 'dimshuffle_merge')
    (node,) = f.maker.fgraph.apply_nodes
    assert isinstance(node.op, DimShuffle) and node.op.new_order == (1, 'x', 0, 2)


def test_reshape_of_reshape_is_one_reshape():
    x = T.dmatrix('x')
    f = check_same([x], x.reshape((6, 2)).reshape((3, -1)), [randn(4, 3)], 'reshape_merge')
    (node,) = [n for n in f.maker.fgraph.apply_nodes if isinstance(n.op, Reshape)]
    assert node.inputs[0] is f.maker.fgraph.inputs[0]
    assert f.maker.fgraph.outputs[0].type.shape == (3, 4)  # the static shape the two reshapes gave
    with pytest.raises(ValueError):
        f(randn(4, 4))


def test_everything_together_in_the_full_pipeline():
    x = T.fmatrix('x')
    out = (((x * 1 + 0) / 2) ** 2 + T.log(T.exp(x)) * 3 * 2) - 0
    check_same([x], out, [randn(3, 3, dtype='float32')], mode=FAST, rtol=1e-5)
    f = th.function([x], out, mode=Mode('py', 'fast_compile'))
    assert 'remove_neutral' in fired(f) and 'collect_constants' not in fired(f)


def test_a_sum_of_zero_fills_is_one_of_them():
    x, y = T.dmatrix('x'), T.drow('y')
    out = T.zeros_like(x) + T.zeros_like(y)
    f = check_same([x, y], out, [randn(3, 2), randn(1, 2)], 'remove_neutral')
    assert 'add' not in elemwise(f)
    assert f(randn(3, 2), randn(1, 2)).shape == (3, 2)
