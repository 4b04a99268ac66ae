"""RandomStateType and shared random generators: theano.shared(np.random.RandomState(...))."""
import copy
import pickle

import numpy as np
import pytest

import arignote as th
import theano
from arignote.tensor.random import (RandomStateSharedVariable, RandomStateType, random_state_type,
                                    randomstate_constructor)


def test_shared_random_state_makes_random_state_variable():
    rng = np.random.RandomState(3)
    s = theano.shared(rng, name="r")
    assert isinstance(s, RandomStateSharedVariable)
    assert isinstance(s.type, RandomStateType)
    assert s.name == "r"
    # not borrowed: a copy in the same state
    assert s.get_value(borrow=True) is not rng
    np.testing.assert_array_equal(s.get_value(borrow=True).uniform(size=5), rng.uniform(size=5))


def test_shared_borrow_keeps_the_generator():
    rng = np.random.RandomState(3)
    s = th.shared(rng, borrow=True)
    assert s.get_value(borrow=True) is rng


def test_shared_generator_is_accepted():
    g = np.random.default_rng(5)
    s = th.shared(g)
    assert isinstance(s, RandomStateSharedVariable)
    assert isinstance(s.get_value(), np.random.Generator)


def test_get_value_borrow_returns_the_same_object_for_legacy_seeding():
    s = th.shared(np.random.RandomState(3))
    r = s.get_value(borrow=True)
    assert s.get_value(borrow=True) is r
    r.seed(12345)
    s.set_value(r, borrow=True)
    np.testing.assert_array_equal(s.get_value(borrow=True).uniform(size=3),
                                  np.random.RandomState(12345).uniform(size=3))


def test_get_value_without_borrow_is_an_independent_copy():
    s = th.shared(np.random.RandomState(3))
    c = s.get_value()
    assert c is not s.get_value(borrow=True)
    c.uniform(size=10)  # advancing the copy leaves the shared one alone
    np.testing.assert_array_equal(s.get_value(borrow=True).uniform(size=3),
                                  np.random.RandomState(3).uniform(size=3))


def test_set_value_copies_unless_borrowed():
    s = th.shared(np.random.RandomState(3))
    r = np.random.RandomState(9)
    s.set_value(r)
    assert s.get_value(borrow=True) is not r
    s.set_value(r, borrow=True)
    assert s.get_value(borrow=True) is r


def test_set_value_rejects_non_generators():
    s = th.shared(np.random.RandomState(3))
    with pytest.raises(TypeError, match="RandomState"):
        s.set_value(np.zeros(3))


def test_filter_and_values_eq():
    t = RandomStateType()
    assert t == random_state_type and hash(t) == hash(random_state_type)
    r = np.random.RandomState(1)
    assert t.filter(r) is r
    with pytest.raises(TypeError, match="expected a numpy.random.RandomState"):
        t.filter(5)
    assert t.is_valid_value(r) and not t.is_valid_value([1, 2])
    assert t.values_eq(r, copy.deepcopy(r))
    r2 = copy.deepcopy(r)
    r2.uniform()
    assert not t.values_eq(r, r2)
    g = np.random.default_rng(1)
    assert t.values_eq(g, copy.deepcopy(g))
    assert not t.values_eq(g, r)
    assert str(t) == "RandomStateType"


def test_constructor_refuses_other_values():
    with pytest.raises(TypeError):
        randomstate_constructor(np.zeros(2))


def test_shared_random_state_pickles():
    s = th.shared(np.random.RandomState(3))
    s2 = pickle.loads(pickle.dumps(s))
    assert isinstance(s2, RandomStateSharedVariable)
    np.testing.assert_array_equal(s2.get_value().uniform(size=4), np.random.RandomState(3).uniform(size=4))
