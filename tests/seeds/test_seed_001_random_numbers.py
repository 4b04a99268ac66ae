"""Seed 001 (the Theano tutorial): "Using random numbers", with Theano's "Copying random state" example.

The tutorial's code runs through `import theano`, with its typos fixed
(`funciton` -> `function`, `.rgn` -> `.rng`). Where the tutorial (or Theano's
documentation it adapts) shows numbers, the expected values are those Theano
1.0.5 printed for the same seeds, recorded from a reference install.
"""
import numpy as np
import pytest

import theano
import theano.tensor as T
from theano import function
from theano.sandbox.rng_mrg import MRG_RandomStreams
from theano.tensor.shared_randomstreams import RandomStreams


@pytest.fixture
def tutorial():
    srng = RandomStreams(seed=234)
    rv_u = srng.uniform((2, 2))
    rv_n = srng.normal((2, 2))
    f = function([], rv_u)
    g = function([], rv_n, no_default_updates=True)  # not updating rv_n.rng
    nearly_zeros = function([], rv_u + rv_u - 2 * rv_u)
    return srng, rv_u, rv_n, f, g, nearly_zeros


def test_using_random_numbers(tutorial):
    srng, rv_u, rv_n, f, g, nearly_zeros = tutorial
    # Theano 1.0.5 with RandomStreams(seed=234): the first two calls of f and g
    np.testing.assert_array_equal(f(), [[0.12672381400898758, 0.9709159656786431],
                                        [0.13989097862581312, 0.887548254199325]])
    np.testing.assert_array_equal(f(), [[0.3197141503373775, 0.47584376667160355],
                                        [0.24129163169315337, 0.4204608139408894]])
    expected_n = [[0.3732844727674915, -0.6574667187293483], [-0.3630237287579288, -0.9748462455013606]]
    np.testing.assert_array_equal(g(), expected_n)
    np.testing.assert_array_equal(g(), expected_n)  # no_default_updates: the same numbers again
    # a random variable is drawn at most once per call: rv_u + rv_u - 2 * rv_u is exactly zero
    for _ in range(3):
        z = nearly_zeros()
        assert z.shape == (2, 2) and z.dtype == np.float64
        np.testing.assert_array_equal(z, np.zeros((2, 2)))
    assert rv_u.dtype == theano.config.floatX


def test_seeding_streams(tutorial):
    srng, rv_u, rv_n, f, g, nearly_zeros = tutorial
    rng_val = rv_u.rng.get_value(borrow=True)  # get the rng for rv_u
    rng_val.seed(12345)  # seed the generator
    rv_u.rng.set_value(rng_val, borrow=True)  # assign back seeded rng
    # Theano 1.0.5 gave this after seeding rv_u's generator with 12345
    np.testing.assert_array_equal(f(), [[0.9296160928171479, 0.3163755545817859],
                                        [0.18391881167709445, 0.2045602785530397]])
    # the same as NumPy's own RandomState(12345): the stream *is* that generator
    np.testing.assert_array_equal(np.random.RandomState(12345).uniform(0.0, 1.0, (2, 2)),
                                  [[0.9296160928171479, 0.3163755545817859],
                                   [0.18391881167709445, 0.2045602785530397]])
    # seeding the whole RandomStreams object reseeds rv_u and rv_n
    srng.seed(902340)
    a_u, a_n = f(), g()
    srng.seed(902340)
    np.testing.assert_array_equal(f(), a_u)
    np.testing.assert_array_equal(g(), a_n)


def test_sharing_streams_between_functions(tutorial):
    srng, rv_u, rv_n, f, g, nearly_zeros = tutorial
    state_after_v0 = rv_u.rng.get_value().get_state()
    nearly_zeros()  # this affects rv_u's generator
    v1 = f()
    rng = rv_u.rng.get_value(borrow=True)
    rng.set_state(state_after_v0)
    rv_u.rng.set_value(rng, borrow=True)
    v2 = f()  # v2 != v1
    v3 = f()  # v3 == v1
    assert not np.array_equal(v1, v2)
    np.testing.assert_array_equal(v3, v1)


def test_sharing_streams_replay(tutorial):
    # the seed file's variant: replaying the state gives v2 == v0 and v3 == v1
    srng, rv_u, rv_n, f, g, nearly_zeros = tutorial
    state_after_v0 = rv_u.rng.get_value().get_state()
    v0 = f()
    v1 = f()
    rng = rv_u.rng.get_value(borrow=True)
    rng.set_state(state_after_v0)
    rv_u.rng.set_value(rng, borrow=True)
    v2 = f()  # v2 == v0
    v3 = f()  # v3 == v1
    assert not np.array_equal(v0, v1)
    np.testing.assert_array_equal(v2, v0)
    np.testing.assert_array_equal(v3, v1)


# --- Copying random state between Theano graphs (Theano's documentation) ----------------------------------
def copy_random_state(g1, g2):
    if isinstance(g1.rng, MRG_RandomStreams):
        g2.rng.rstate = g1.rng.rstate
    for (su1, su2) in zip(g1.rng.state_updates, g2.rng.state_updates):
        su2[0].set_value(su1[0].get_value())


@pytest.mark.parametrize("streams, before1, before2, after", [
    # Theano 1.0.5's values (the first three are also those printed in Theano's documentation)
    (RandomStreams, 0.7280300912545745, 0.5505676910023921, 0.5904412261514114),
    (MRG_RandomStreams, 0.23648804426193237, 0.8976723556406796, 0.2352812890894711),
])
def test_copying_random_state_between_graphs(streams, before1, before2, after):
    class Graph:
        def __init__(self, seed=123):
            self.rng = streams(seed)
            self.y = self.rng.uniform(size=(1,))

    g1 = Graph(seed=123)
    f1 = theano.function([], g1.y)
    g2 = Graph(seed=987)
    f2 = theano.function([], g2.y)
    # by default, the two functions are out of sync
    v1, v2 = f1(), f2()
    np.testing.assert_array_equal(v1, [before1])
    np.testing.assert_array_equal(v2, [before2])
    copy_random_state(g1, g2)
    w1, w2 = f1(), f2()
    np.testing.assert_array_equal(w1, [after])
    np.testing.assert_array_equal(w2, [after])
    # and they stay in sync
    np.testing.assert_array_equal(f1(), f2())
    if streams is MRG_RandomStreams:
        np.testing.assert_array_equal(g2.rng.rstate, g1.rng.rstate)


def test_random_variable_in_expression():
    # random variables combine with ordinary tensors like any other
    srng = RandomStreams(seed=1)
    x = T.dvector('x')
    noisy = x + srng.normal(x.shape, std=0.0)
    f = function([x], noisy)
    np.testing.assert_array_equal(f(np.array([1.0, 2.0, 3.0])), [1.0, 2.0, 3.0])
    mask = srng.binomial(x.shape, p=0.5, dtype='float64')
    h = function([x], x * mask)
    out = h(np.ones(1000))
    assert set(np.unique(out)) <= {0.0, 1.0}
    assert 400 < out.sum() < 600
