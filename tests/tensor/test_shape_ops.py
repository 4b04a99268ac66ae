"""Shapes: shape, reshape, flatten, specify_shape, broadcast patterns, alloc and friends."""
import numpy as np
import pytest

import arignote as th
import arignote.tensor as T
from arignote.gradient import verify_grad

rng = np.random.default_rng(0)


def test_shape_is_int64_vector():
    x = T.dtensor3('x')
    f = th.function([x], x.shape)
    out = f(np.zeros((2, 3, 4)))
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out, [2, 3, 4])


@pytest.mark.parametrize("shape, new", [((2, 3), (3, 2)), ((2, 3), (-1,)), ((2, 3, 4), (4, -1)),
                                        ((6,), (1, 2, 3)), ((2, 3), (6, 1))])
def test_reshape_against_numpy(shape, new):
    x = T.TensorType('float64', shape=(None,) * len(shape))('x')
    value = rng.standard_normal(shape)
    np.testing.assert_array_equal(th.function([x], x.reshape(new))(value), value.reshape(new))
    verify_grad(lambda v: v.reshape(new), [value], rng=rng)


def test_reshape_with_symbolic_entries():
    x = T.dmatrix('x')
    n = T.lscalar('n')
    f = th.function([x, n], T.reshape(x, (n, -1)))
    np.testing.assert_array_equal(f(np.arange(6.0).reshape(2, 3), 3), np.arange(6.0).reshape(3, 2))
    with pytest.raises(ValueError, match="cannot reshape"):
        f(np.arange(6.0).reshape(2, 3), 4)


def test_reshape_static_shape_and_build_time_error():
    c = T.constant(np.ones((2, 3)))
    assert c.reshape((3, 2)).type.shape == (3, 2)
    assert c.reshape((-1,)).type.shape == (6,)
    with pytest.raises(ValueError, match="cannot reshape"):
        c.reshape((4, 2))


@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_flatten(ndim):
    x = T.dtensor3('x')
    value = rng.standard_normal((2, 3, 4))
    expected = value.reshape(value.shape[:ndim - 1] + (-1,))
    np.testing.assert_array_equal(th.function([x], x.flatten(ndim))(value), expected)
    verify_grad(lambda v: T.flatten(v, ndim), [value], rng=rng)


def test_specify_shape_and_broadcast_patterns():
    x = T.dmatrix('x')
    y = T.specify_shape(x, (2, None))
    assert y.type.shape == (2, None)
    f = th.function([x], y * 2)
    np.testing.assert_array_equal(f(np.ones((2, 5))), np.full((2, 5), 2.0))
    with pytest.raises(ValueError, match="declared to have length 2"):
        f(np.ones((3, 5)))
    b = T.addbroadcast(x, 0)
    assert b.broadcastable == (True, False)
    assert T.unbroadcast(b, 0).broadcastable == (False, False)
    assert T.patternbroadcast(x, (False, True)).broadcastable == (False, True)
    with pytest.raises(ValueError):
        th.function([x], T.addbroadcast(x, 0))(np.ones((2, 2)))


def test_addbroadcast_enables_broadcasting_and_sums_gradient():
    x = T.dmatrix('x')
    m = T.dmatrix('m')
    row = T.addbroadcast(x, 0)
    g = T.grad((row * m).sum(), x)
    out = th.function([x, m], g)(np.ones((1, 3)), np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(out, [[3.0, 5.0, 7.0]])


def test_runtime_broadcast_of_undeclared_dimension_is_refused():
    x = T.dmatrix('x')
    y = T.dmatrix('y')
    f = th.function([x, y], x + y)
    with pytest.raises(ValueError, match="broadcastable"):
        f(np.ones((1, 3)), np.ones((2, 3)))


def test_alloc_zeros_ones_full():
    n = T.lscalar('n')
    f = th.function([n], [T.zeros((n, 2)), T.ones((2, n), dtype='int32'), T.alloc(np.float64(3.0), n),
                          T.full((n,), 7.0, dtype='float32')])
    z, o, a, fl = f(3)
    np.testing.assert_array_equal(z, np.zeros((3, 2)))
    assert o.dtype == np.int32 and o.shape == (2, 3)
    np.testing.assert_array_equal(a, [3.0, 3.0, 3.0])
    assert fl.dtype == np.float32
    assert T.zeros((2, 3)).type.shape == (2, 3)
    assert T.zeros((2, 3)).dtype == th.config.floatX


def test_alloc_gradient_sums_over_broadcast():
    v = T.dvector('v')
    out = T.alloc(v, 4, 3)
    g = th.function([v], T.grad((out * np.arange(12.0).reshape(4, 3)).sum(), v))(np.ones(3))
    np.testing.assert_array_equal(g, np.arange(12.0).reshape(4, 3).sum(0))
    verify_grad(lambda u: T.alloc(u, 2, 3), [rng.standard_normal(3)], rng=rng)


def test_zeros_like_ones_like_keep_shape_and_dtype():
    x = T.fmatrix('x')
    z = T.zeros_like(x)
    o = T.ones_like(x, dtype='int8')
    f = th.function([x], [z, o])
    zz, oo = f(np.ones((2, 3), dtype='float32'))
    assert zz.dtype == np.float32 and oo.dtype == np.int8 and oo.shape == (2, 3)


def test_padding_and_squeeze():
    x = T.dvector('x')
    assert T.shape_padleft(x).broadcastable == (True, False)
    assert T.shape_padright(x, 2).broadcastable == (False, True, True)
    assert T.shape_padaxis(x, 0).broadcastable == (True, False)
    assert T.shape_padaxis(x, -1).broadcastable == (False, True)
    c = T.dmatrix('c')
    sq = T.squeeze(T.addbroadcast(c, 1))
    assert sq.ndim == 1
    np.testing.assert_array_equal(th.function([c], sq)(np.ones((3, 1))), np.ones(3))
    np.testing.assert_array_equal(th.function([c], T.squeeze(c, 1))(np.ones((3, 1))), np.ones(3))


def test_dimshuffle_drop_requires_broadcastable():
    x = T.dmatrix('x')
    with pytest.raises(ValueError, match="not broadcastable"):
        x.dimshuffle(0)
    with pytest.raises(ValueError, match="not a dimension"):
        x.dimshuffle(0, 2)


def test_dimshuffle_and_transpose_gradients():
    value = rng.standard_normal((2, 3))
    verify_grad(lambda v: v.dimshuffle(1, 'x', 0), [value], rng=rng)
    verify_grad(lambda v: v.T, [value], rng=rng)
    np.testing.assert_array_equal(T.constant(value).T.eval(), value.T)
