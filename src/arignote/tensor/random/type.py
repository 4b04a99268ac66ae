"""RandomStateType: the type of a NumPy random generator living in a graph.

`theano.shared(np.random.RandomState(3))` makes a RandomStateSharedVariable.
Random ops take such a variable as input and return an advanced *copy* of the
generator as an output; the function's update (or the shared variable's
`default_update`) stores that copy back, so each call draws new numbers.
"""
from __future__ import annotations

import copy

import numpy as np

from ...compile.sharedvalue import SharedVariable, shared_constructor
from ...graph.basic import Type, Variable

_GENERATOR_TYPES = (np.random.RandomState, np.random.Generator)


class RandomStateType(Type):
    """A `numpy.random.RandomState` (or `numpy.random.Generator`) value.

    All instances are equal: a graph does not care which kind of generator it
    holds, only the random op's perform does.
    """

    def filter(self, data, strict: bool = False, allow_downcast=None):
        if isinstance(data, _GENERATOR_TYPES):
            return data
        raise TypeError(f"expected a numpy.random.RandomState or numpy.random.Generator, "
                        f"got {type(data).__name__}")

    def is_valid_value(self, data) -> bool:
        return isinstance(data, _GENERATOR_TYPES)

    def values_eq(self, a, b) -> bool:
        """Whether two generators are in the same state (will draw the same numbers)."""
        if type(a) is not type(b):
            return False
        if isinstance(a, np.random.Generator):
            return _states_equal(a.bit_generator.state, b.bit_generator.state)
        return _states_equal(a.get_state(), b.get_state())

    def get_shape_info(self, obj):
        return None

    @staticmethod
    def may_share_memory(a, b) -> bool:
        return a is b

    def __eq__(self, other):
        return type(other) is type(self)

    def __hash__(self):
        return hash(RandomStateType)

    def __str__(self):
        return "RandomStateType"

    __repr__ = __str__


def _states_equal(a, b) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_states_equal(a[k], b[k]) for k in a)
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(_states_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return bool(np.array_equal(a, b))
    return a == b


random_state_type = RandomStateType()


class RandomStateSharedVariable(SharedVariable):
    """A shared variable holding a random generator (what RandomStreams makes per draw).

    `get_value(borrow=True)` is the very generator, so legacy code can call
    `.seed()`, `.get_state()` and `.set_state()` on it and hand it back with
    `set_value(rng, borrow=True)`.
    """


def randomstate_constructor(value, name=None, strict=False, allow_downcast=None, borrow=False, **kwargs):
    """`theano.shared(np.random.RandomState(seed))`: a RandomStateSharedVariable."""
    if not isinstance(value, _GENERATOR_TYPES):
        raise TypeError("not a numpy random generator")
    if kwargs:
        raise TypeError(f"unexpected arguments for a random-generator shared variable: {sorted(kwargs)}")
    if not borrow:
        value = copy.deepcopy(value)
    return RandomStateSharedVariable(name=name, type=random_state_type, value=value, strict=strict,
                                     allow_downcast=allow_downcast)


def as_random_state_variable(r) -> Variable:
    """A random-generator variable from a variable or a generator (made shared)."""
    if isinstance(r, Variable):
        if not isinstance(r.type, RandomStateType):
            from ...graph.sourceline import here

            raise TypeError(f"the random generator input {r} has type {r.type}; expected a RandomStateType "
                            f"variable such as theano.shared(numpy.random.RandomState(seed)). At {here()}")
        return r
    return randomstate_constructor(r, borrow=True)


shared_constructor(randomstate_constructor)

__all__ = ["RandomStateType", "random_state_type", "RandomStateSharedVariable", "randomstate_constructor"]
