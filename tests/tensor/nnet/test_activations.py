"""relu, elu, selu and softsign of theano.tensor.nnet."""
import numpy as np
import pytest

import theano
import theano.tensor as T
from arignote.gradient import verify_grad

RNG = np.random.default_rng(11)
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def np_elu(a, alpha=1.0):
    return np.where(a > 0, a, alpha * np.expm1(a))


CASES = [
    ("relu", lambda x: T.nnet.relu(x), lambda a: np.maximum(a, 0)),
    ("leaky", lambda x: T.nnet.relu(x, 0.1), lambda a: np.where(a > 0, a, 0.1 * a)),
    ("elu", lambda x: T.nnet.elu(x), np_elu),
    ("elu_alpha", lambda x: T.nnet.elu(x, 0.5), lambda a: np_elu(a, 0.5)),
    ("selu", lambda x: T.nnet.selu(x), lambda a: SELU_SCALE * np_elu(a, SELU_ALPHA)),
    ("softsign", lambda x: T.nnet.softsign(x), lambda a: a / (1 + np.abs(a))),
]


def away_from_zero(a, margin=0.05):
    return np.where(np.abs(a) < margin, np.sign(a + 1e-12) * (np.abs(a) + 2 * margin), a)


@pytest.mark.parametrize("name,fn,ref", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(6,), (3, 4), (2, 2, 3)])
def test_activation_values_and_dtype(name, fn, ref, dtype, shape):
    a = (RNG.standard_normal(shape) * 3).astype(dtype)
    x = T.TensorType(dtype, shape=(None,) * len(shape))("x")
    out = fn(x)
    assert out.dtype == dtype
    got = theano.function([x], out)(a)
    assert got.dtype == dtype and got.shape == shape
    expected = ref(a.astype(np.float64))
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == "float32" else dict(rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(got, expected, **tol)
    np.testing.assert_array_equal(out.eval({x: a}), got)


@pytest.mark.parametrize("name,fn,ref", CASES, ids=[c[0] for c in CASES])
def test_activation_grad_away_from_kink(name, fn, ref):
    a = away_from_zero(RNG.standard_normal((3, 4)) * 2)
    verify_grad(fn, [a], rng=np.random.default_rng(0))


def test_relu_with_symbolic_alpha():
    x, alpha = T.dvector("x"), T.dscalar("alpha")
    a = np.array([-2.0, -0.5, 1.0, 3.0])
    got = T.nnet.relu(x, alpha).eval({x: a, alpha: 0.2})
    np.testing.assert_allclose(got, np.where(a > 0, a, 0.2 * a))
    g = T.grad(T.nnet.relu(x, alpha).sum(), alpha).eval({x: a, alpha: 0.2})
    assert g == pytest.approx(-2.5)


def test_relu_of_integers_gives_float():
    x = T.ivector("x")
    out = T.nnet.relu(x)
    assert out.dtype.startswith("float")
    np.testing.assert_array_equal(out.eval({x: np.array([-3, 0, 4], dtype="int32")}), [0.0, 0.0, 4.0])


def test_relu_alpha_number_keeps_float32():
    x = T.fvector("x")
    assert T.nnet.relu(x, 0.01).dtype == "float32"
    assert T.nnet.relu(x, np.float64(0.01)).dtype == "float32"


def test_elu_gradient_finite_for_huge_inputs():
    for dtype, big in (("float32", 200.0), ("float64", 1000.0)):
        x = T.TensorType(dtype, shape=(None,))("x")
        g = T.grad(T.nnet.elu(x).sum(), x)
        got = g.eval({x: np.array([big, -big, 1.0, -1.0], dtype=dtype)})
        assert np.all(np.isfinite(got))
        np.testing.assert_allclose(got, [1.0, np.exp(-big), 1.0, np.exp(-1.0)], rtol=1e-6, atol=1e-30)


def test_softsign_grad_at_zero():
    x = T.dscalar("x")
    assert T.grad(T.nnet.softsign(x), x).eval({x: 0.0}) == pytest.approx(1.0)


def test_nnet_submodule_holds_everything():
    import theano.tensor.nnet.nnet as nn

    import arignote.tensor.nnet as pkg

    for name in pkg.__all__:
        assert getattr(nn, name) is getattr(T.nnet, name)
    for name in ("relu", "elu", "selu", "softsign", "softmax", "log_softmax", "categorical_crossentropy",
                 "binary_crossentropy", "sigmoid_binary_crossentropy", "confusion_matrix", "hard_sigmoid"):
        assert name in pkg.__all__
