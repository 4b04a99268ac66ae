"""Seed 001 (the Theano tutorial), up to "Using random numbers", plus "Derivatives in Theano".

Each block is the tutorial's code in Python 3 syntax, through `import theano`,
asserting the values the tutorial (and Theano's documentation it adapts) states.
"""
import numpy
import numpy as np
import pytest

import theano
import theano.tensor as T
from theano import function


# --- Adding two scalars -------------------------------------------------------------------------------------
def test_adding_two_scalars():
    x = T.fscalar('x')
    y = T.fscalar('y')
    z = x + y
    from theano import pp
    assert pp(z) == '(x + y)'
    f = function([x, y], z)
    assert f(2, 3) == 5.0
    assert f(16.3, 12.1) == pytest.approx(28.4, rel=1e-6)
    assert f(2, 3).dtype == numpy.float32


# --- Adding two matrices --------------------------------------------------------------------------------------
def test_adding_two_matrices():
    x = T.fmatrix('x')
    y = T.fmatrix('y')
    z = x + y
    f = function([x, y], z)
    np.testing.assert_array_equal(f([[1, 2], [3, 4]], [[10, 20], [30, 40]]), [[11.0, 22.0], [33.0, 44.0]])
    np.testing.assert_array_equal(f(numpy.array([[1, 2], [3, 4]], dtype='float32'),
                                    numpy.array([[10, 20], [30, 40]], dtype='float32')),
                                  [[11.0, 22.0], [33.0, 44.0]])


# --- Logistic function ----------------------------------------------------------------------------------------------
def test_logistic_function():
    x = T.fmatrix('x')
    s = 1 / (1 + T.exp(-x))
    # even for ONE argument, we have to use []
    logistic = function([x], s)
    np.testing.assert_allclose(logistic([[0, 1], [-1, -2]]),
                               [[0.5, 0.7310586], [0.26894143, 0.11920292]], rtol=1e-6)


# --- Setting a default value for an argument --------------------------------------------------------------------
def test_param_default_value():
    from theano import Param
    x, y = T.fscalars('x', 'y')
    z = x + y
    f = function([x, Param(y, default=1)], z)
    assert f(10) == 11.0
    assert f(10, 2) == 12.0


# --- Using shared variables: the accumulator --------------------------------------------------------------------
def test_shared_accumulator():
    from theano import shared
    state = shared(0)
    inc = T.iscalar('inc')
    accumulator = function([inc], state, updates=[(state, state + inc)])
    assert accumulator(1) == 0          # returns the OLD state
    assert state.get_value() == 1
    assert accumulator(300) == 1
    assert state.get_value() == 301
    state.set_value(-1)
    assert accumulator(3) == -1
    assert state.get_value() == 2


def test_updates_as_dict():
    from theano import shared
    state = shared(0)
    inc = T.iscalar('inc')
    accumulator = function([inc], state, updates={state: state + inc})
    accumulator(5)
    assert state.get_value() == 5


# --- Graph structures ---------------------------------------------------------------------------------------------------
def test_graph_structure_owner_traversal():
    x = T.fmatrix('x')
    y = T.fmatrix('y')
    z = x + y
    assert z.owner.inputs == [x, y]
    assert z.owner.op.scalar_fn.name == 'add'
    assert x.owner is None and y.owner is None
    assert z.owner.outputs == [z]


# --- Derivatives in Theano -------------------------------------------------------------------------------------------------
def test_gradient_of_x_squared():
    from theano import pp
    x = T.fscalar('x')
    y = x ** 2
    gy = T.grad(y, x)
    printed = pp(gy)
    assert 'fill(' in printed and '0x' not in printed
    f = function([x], gy)
    assert f(4) == 8.0
    assert f(94.2) == pytest.approx(188.4, rel=1e-6)


def test_gradient_of_logistic():
    x = T.dmatrix('x')
    s = T.sum(1 / (1 + T.exp(-x)))
    gs = T.grad(s, x)
    dlogistic = function([x], gs)
    np.testing.assert_allclose(dlogistic([[0, 1], [-1, -2]]),
                               [[0.25, 0.19661193], [0.19661193, 0.10499359]], rtol=1e-7)


def test_jacobian():
    x = T.dvector('x')
    y = x ** 2
    J = theano.gradient.jacobian(y, x)
    f = function([x], J)
    np.testing.assert_array_equal(f([4, 4]), [[8.0, 0.0], [0.0, 8.0]])


# --- Loop: computing A**k -------------------------------------------------------------------------------------
def test_scan_power():
    k = T.iscalar('k')
    A = T.vector('A')
    result, updates = theano.scan(fn=lambda prior_result, A: prior_result * A, outputs_info=T.ones_like(A),
                                  non_sequences=A, n_steps=k)
    # We only care about A**k, but scan has provided us with A**1 through A**k.
    # Discard the values that we don't care about. Scan is smart enough to
    # notice this and not waste memory saving them.
    final_result = result[-1]
    # compiled function that returns A**k
    power = theano.function(inputs=[A, k], outputs=final_result, updates=updates)
    np.testing.assert_array_equal(power(range(10), 2), [0., 1., 4., 9., 16., 25., 36., 49., 64., 81.])
    np.testing.assert_array_equal(power(range(10), 4), numpy.arange(10.0) ** 4)


# --- Iterating over the first dimension of a tensor: calculating a polynomial ------------------------------------
def test_scan_polynomial():
    coefficients = theano.tensor.vector("coefficients")
    x = T.scalar("x")
    max_coefficients_supported = 10000
    # Generate the components of the polynomial
    components, updates = theano.scan(
        fn=lambda coefficient, power, free_variable: coefficient * (free_variable ** power),
        outputs_info=None,
        sequences=[coefficients, theano.tensor.arange(max_coefficients_supported)],
        non_sequences=x)
    # Sum them up
    polynomial = components.sum()
    # Compile a function
    calculate_polynomial = theano.function(inputs=[coefficients, x], outputs=polynomial)
    # Test
    test_coefficients = numpy.asarray([1, 0, 2], dtype=numpy.float32)
    test_value = 3
    assert calculate_polynomial(test_coefficients, test_value) == 19.0
    assert 1.0 * (3 ** 0) + 0.0 * (3 ** 1) + 2.0 * (3 ** 2) == 19.0


# --- Simple accumulation into a scalar, ditching lambda -------------------------------------------------------------
def test_scan_triangular_numbers():
    up_to = T.iscalar("up_to")

    # define a named function, rather than using lambda
    def accumulate_by_adding(arange_val, sum_to_date):
        return sum_to_date + arange_val
    seq = T.arange(up_to)

    # An unauthorized implicit downcast from the dtype of 'seq' to that of the
    # initial value would occur if the initial value were narrower; the tutorial's
    # fix is to give it the sequence's dtype:
    outputs_info = T.as_tensor_variable(np.asarray(0, seq.dtype))
    scan_result, scan_updates = theano.scan(fn=accumulate_by_adding, outputs_info=outputs_info, sequences=seq)
    triangular_sequence = theano.function(inputs=[up_to], outputs=scan_result)

    some_num = 15
    np.testing.assert_array_equal(triangular_sequence(some_num), [n * (n + 1) // 2 for n in range(some_num)])


def test_scan_downcast_pitfall_is_a_clear_error():
    up_to = T.iscalar("up_to")

    def accumulate_by_adding(arange_val, sum_to_date):
        return sum_to_date + arange_val
    seq = T.arange(up_to)
    # the pitfall: an initial value narrower than what fn returns (Theano's default
    # int8 for T.as_tensor_variable(0); NumPy 2's default int64 would not be narrower)
    narrow = T.as_tensor_variable(np.asarray(0, dtype='int8'))
    with pytest.raises(TypeError, match=r"type TensorType\(int(32|64).*TensorType\(int8.*test_seed_001"):
        theano.scan(fn=accumulate_by_adding, outputs_info=narrow, sequences=seq)
