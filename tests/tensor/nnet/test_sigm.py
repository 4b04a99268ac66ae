"""sigmoid, softplus, ultra_fast_sigmoid and hard_sigmoid of theano.tensor.nnet."""
import numpy as np
import pytest
import scipy.special as sp

import theano
import theano.tensor as T
from arignote.gradient import verify_grad
from arignote.tensor import math as tmath
from arignote.tensor.nnet import sigm

RNG = np.random.default_rng(7)


def theano_ultra_fast(x):
    """Theano's UltraFastScalarSigmoid.st_impl, one scalar at a time."""
    def one(v):
        v = 0.5 * v
        s = 1.0 if v >= 0 else -1.0
        a = abs(v)
        if a < 1.7:
            z = 1.5 * a / (1 + a)
        elif a < 3:
            z = 0.935409070603099 + 0.0458812946797165 * (a - 1.7)
        else:
            z = 0.99505475368673
        return 0.5 * (s * z + 1.0)
    return np.vectorize(one, otypes=[np.float64])(x)


def away_from(values, kinks, margin=0.05):
    for k in kinks:
        close = np.abs(values - k) < margin
        values = np.where(close, values + 2 * margin, values)
    return values


def test_sigmoid_and_softplus_are_the_tensor_functions():
    assert T.nnet.sigmoid is tmath.sigmoid is T.sigmoid
    assert T.nnet.softplus is tmath.softplus
    assert sigm.sigmoid is tmath.sigmoid and sigm.softplus is tmath.softplus
    x = T.dvector("x")
    a = RNG.standard_normal(6) * 5
    np.testing.assert_allclose(T.nnet.sigmoid(x).eval({x: a}), sp.expit(a))
    np.testing.assert_allclose(T.nnet.softplus(x).eval({x: a}), np.logaddexp(0, a))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(7,), (3, 4), (2, 3, 2)])
def test_ultra_fast_sigmoid_matches_theano(dtype, shape):
    a = (RNG.standard_normal(shape) * 5).astype(dtype)
    x = T.TensorType(dtype, shape=(None,) * len(shape))("x")
    out = T.nnet.ultra_fast_sigmoid(x)
    assert out.dtype == dtype
    got = theano.function([x], out)(a)
    assert got.dtype == dtype
    np.testing.assert_allclose(got, theano_ultra_fast(a.astype(np.float64)), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out.eval({x: a}), got)
    assert np.max(np.abs(got - sp.expit(a.astype(np.float64)))) < 0.03


def test_ultra_fast_sigmoid_pieces_and_limits():
    x = T.dvector("x")
    a = np.array([-100.0, -6.5, -4.0, -1.0, 0.0, 1.0, 3.3, 4.0, 6.5, 100.0])
    got = T.nnet.ultra_fast_sigmoid(x).eval({x: a})
    np.testing.assert_allclose(got, theano_ultra_fast(a), rtol=1e-12)
    assert got[4] == 0.5 and got[0] == pytest.approx(1 - 0.99505475368673 * 0.5 - 0.5)


def test_ultra_fast_sigmoid_grad_away_from_kinks():
    a = away_from(RNG.uniform(-8, 8, size=12), [-6, -3.4, 3.4, 6])
    verify_grad(T.nnet.ultra_fast_sigmoid, [a], rng=np.random.default_rng(0))
    # at 0 the slope of the approximation is 0.5 * 1.5 * 0.5
    x = T.dscalar("x")
    assert T.grad(T.nnet.ultra_fast_sigmoid(x), x).eval({x: 0.0}) == pytest.approx(0.375)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_hard_sigmoid(dtype):
    a = (RNG.standard_normal((4, 5)) * 4).astype(dtype)
    x = T.TensorType(dtype, shape=(None, None))("x")
    out = T.nnet.hard_sigmoid(x)
    assert out.dtype == dtype
    got = theano.function([x], out)(a)
    assert got.dtype == dtype
    np.testing.assert_allclose(got, np.clip(0.2 * a.astype(np.float64) + 0.5, 0, 1), rtol=1e-6, atol=1e-7)
    assert got.min() >= 0 and got.max() <= 1


def test_hard_sigmoid_grad_away_from_kinks():
    a = away_from(RNG.uniform(-4, 4, size=10), [-2.5, 2.5])
    verify_grad(T.nnet.hard_sigmoid, [a], rng=np.random.default_rng(0))
    x = T.dvector("x")
    g = T.grad(T.nnet.hard_sigmoid(x).sum(), x).eval({x: np.array([-3.0, 0.0, 1.0, 3.0])})
    np.testing.assert_allclose(g, [0.0, 0.2, 0.2, 0.0])


@pytest.mark.parametrize("dtype,expected", [("int8", "float32"), ("int32", "float64"), ("int64", "float64")])
def test_integer_inputs_compute_in_float(dtype, expected):
    x = T.TensorType(dtype, shape=(None,))("x")
    a = np.array([-7, -1, 0, 2, 9], dtype=dtype)
    for fn, ref in [(T.nnet.hard_sigmoid, lambda v: np.clip(0.2 * v + 0.5, 0, 1)),
                    (T.nnet.ultra_fast_sigmoid, theano_ultra_fast)]:
        out = fn(x)
        assert out.dtype == expected
        np.testing.assert_allclose(out.eval({x: a}), ref(a.astype(np.float64)), rtol=1e-6, atol=1e-7)


def test_sigm_module_names():
    import arignote.tensor.nnet.sigm as mod

    assert set(mod.__all__) == {"sigmoid", "softplus", "ultra_fast_sigmoid", "hard_sigmoid"}
    assert mod.hard_sigmoid is T.nnet.hard_sigmoid
    import theano.tensor.nnet.sigm as theano_sigm

    assert theano_sigm.ultra_fast_sigmoid is T.nnet.ultra_fast_sigmoid
