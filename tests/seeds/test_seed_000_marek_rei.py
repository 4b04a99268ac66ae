"""Seed 000 (Marek Rei's Theano tutorial), sections 4-10, run through `import theano`.

The blog post's code blocks were stripped from the seed text; they are
restored here from the tutorial (Python 2 `print x` written as Python 3), each
asserting the values the tutorial states.
"""
import os
import subprocess
import sys

import numpy
import numpy as np
import pytest

import theano
import theano.tensor


# --- 4. Minimal Working Example -------------------------------------------------------------------
def test_minimal_working_example():
    x = theano.tensor.fvector('x')
    W = theano.shared(numpy.asarray([0.2, 0.7]), 'W')
    y = (x * W).sum()
    f = theano.function([x], y)
    output = f([1.0, 1.0])
    assert output == pytest.approx(0.9)


# --- 5. Symbolic graphs: y is a graph, not a value ------------------------------------------------------
def test_symbolic_graph_is_not_computed():
    x = theano.tensor.fvector('x')
    W = theano.shared(numpy.asarray([0.2, 0.7]), 'W')
    y = (x * W).sum()
    assert isinstance(y, theano.Variable)
    assert y.owner is not None  # the sum is a node of the graph, nothing was computed


# --- 6. Variables ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("ctor, dtype, ndim", [
    ("fvector", "float32", 1), ("ivector", "int32", 1), ("fscalar", "float32", 0),
    ("fmatrix", "float32", 2), ("ftensor3", "float32", 3), ("dtensor3", "float64", 3),
])
def test_variable_constructors_table(ctor, dtype, ndim):
    x = getattr(theano.tensor, ctor)('x')
    assert (x.dtype, x.ndim, x.name) == (dtype, ndim, 'x')


def test_generic_vector_with_dtype_and_floatx():
    x = theano.tensor.vector('x', dtype='float32')
    assert x.dtype == 'float32'
    y = theano.tensor.vector('y')
    assert y.dtype == theano.config.floatX
    with theano.config.change_flags(floatX='float32'):
        assert theano.tensor.vector('z').dtype == 'float32'


# --- 7. Shared variables ------------------------------------------------------------------------------------
def test_shared_get_set_value():
    W = theano.shared(numpy.asarray([0.2, 0.7]), 'W')
    np.testing.assert_array_equal(W.get_value(), [0.2, 0.7])
    W.set_value([0.1, 0.9])
    np.testing.assert_array_equal(W.get_value(), [0.1, 0.9])


# --- 8. Functions ----------------------------------------------------------------------------------------------
def test_function_of_x():
    x = theano.tensor.fvector('x')
    W = theano.shared(numpy.asarray([0.2, 0.7]), 'W')
    y = (x * W).sum()
    f = theano.function([x], y)
    assert f([1.0, 1.0]) == pytest.approx(0.9)


@pytest.mark.parametrize("mode", ["FAST_RUN", "FAST_COMPILE"])
def test_mode_from_theano_flags(mode):
    code = ("import theano, numpy; x = theano.tensor.fvector('x'); "
            "f = theano.function([x], (x * 2).sum()); print(theano.config.mode, f([1.0, 2.0]))")
    env = dict(os.environ, THEANO_FLAGS=f"mode={mode}")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == [mode, "6.0"]


# --- 9. Minimal Training Example ------------------------------------------------------------------------------------
def test_minimal_training_example():
    x = theano.tensor.fvector('x')
    target = theano.tensor.fscalar('target')

    W = theano.shared(numpy.asarray([0.2, 0.7]), 'W')
    y = (x * W).sum()

    cost = theano.tensor.sqr(target - y)
    gradients = theano.tensor.grad(cost, [W])
    W_updated = W - (0.1 * gradients[0])
    updates = [(W, W_updated)]

    f = theano.function([x, target], y, updates=updates)

    outputs = []
    for i in range(10):
        output = f([1.0, 1.0], 20.0)
        outputs.append(float(output))
    expected = [0.9, 8.54, 13.124, 15.8744, 17.52464, 18.514784, 19.1088704, 19.46532224,
                19.679193344, 19.8075160064]
    np.testing.assert_allclose(outputs, expected, rtol=1e-12)


def test_minimal_training_demo_program_output():
    out = subprocess.run([sys.executable, "-m", "arignote.examples.minimal_training"], capture_output=True,
                         text=True, check=True)
    assert out.stdout.split() == ["0.9", "8.54", "13.124", "15.8744", "17.5246", "18.5148", "19.1089",
                                  "19.4653", "19.6792", "19.8075"]


# --- 10. Useful operations ---------------------------------------------------------------------------------------------
@pytest.fixture
def a():
    return theano.shared(numpy.asarray([[1.0, 2.0], [3.0, 4.0]]), 'a')


def test_eval_and_print(a):
    assert str(a) == 'a'
    np.testing.assert_array_equal(a.eval(), [[1.0, 2.0], [3.0, 4.0]])


def test_elementwise(a):
    c = ((a + a) / 4.0)
    np.testing.assert_array_equal(c.eval(), [[0.5, 1.0], [1.5, 2.0]])


def test_dot_product(a):
    c = theano.tensor.dot(a, a)
    np.testing.assert_array_equal(c.eval(), [[7.0, 10.0], [15.0, 22.0]])


def test_activation_functions(a):
    c = theano.tensor.nnet.sigmoid(a)
    np.testing.assert_allclose(c.eval(), [[0.73105858, 0.88079708], [0.95257413, 0.98201379]], rtol=1e-7)
    c = theano.tensor.tanh(a)
    np.testing.assert_allclose(c.eval(), [[0.76159416, 0.96402758], [0.99505475, 0.9993293]], rtol=1e-7)


def test_softmax_rowwise(a):
    c = theano.tensor.nnet.softmax(a)
    np.testing.assert_allclose(c.eval(), [[0.26894142, 0.73105858], [0.26894142, 0.73105858]], rtol=1e-7)


def test_sum(a):
    assert a.sum().eval() == 10.0
    np.testing.assert_array_equal(theano.tensor.sum(a, axis=1).eval(), [3.0, 7.0])


def test_max(a):
    assert a.max().eval() == 4.0
    np.testing.assert_array_equal(theano.tensor.max(a, axis=1).eval(), [2.0, 4.0])


def test_argmax(a):
    assert theano.tensor.argmax(a).eval() == 3
    np.testing.assert_array_equal(theano.tensor.argmax(a, axis=1).eval(), [1, 1])


def test_reshape(a):
    np.testing.assert_array_equal(a.reshape((1, 4)).eval(), [[1.0, 2.0, 3.0, 4.0]])
    np.testing.assert_array_equal(a.reshape((-1,)).eval(), [1.0, 2.0, 3.0, 4.0])


def test_zeros_like_ones_like(a):
    np.testing.assert_array_equal(theano.tensor.zeros_like(a).eval(), [[0.0, 0.0], [0.0, 0.0]])
    np.testing.assert_array_equal(theano.tensor.ones_like(a).eval(), [[1.0, 1.0], [1.0, 1.0]])


def test_dimshuffle(a):
    np.testing.assert_array_equal(a.dimshuffle((1, 0)).eval(), [[1.0, 3.0], [2.0, 4.0]])
    np.testing.assert_array_equal(a.dimshuffle(('x', 0, 1)).eval(), [[[1.0, 2.0], [3.0, 4.0]]])


def test_indexing(a):
    b = [1, 1, 0]
    c = a[b]
    np.testing.assert_array_equal(c.eval(), [[3.0, 4.0], [3.0, 4.0], [1.0, 2.0]])


def test_item_assignment_is_refused(a):
    with pytest.raises(TypeError, match="set_subtensor"):
        a[0] = [0.0, 0.0]


def test_set_subtensor(a):
    c = theano.tensor.set_subtensor(a[0], [0.0, 0.0])
    np.testing.assert_array_equal(c.eval(), [[0.0, 0.0], [3.0, 4.0]])
    np.testing.assert_array_equal(a.get_value(), [[1.0, 2.0], [3.0, 4.0]])  # a is untouched
