"""Random numbers in graphs: `RandomStreams`, the `RandomFunction` op and its distributions.

>>> from arignote.tensor.random import RandomStreams
>>> import arignote as th
>>> srng = RandomStreams(seed=234)
>>> f = th.function([], srng.normal((3,)))
>>> f().shape
(3,)
"""
from .type import (RandomStateType, random_state_type, RandomStateSharedVariable,  # noqa: F401
                   randomstate_constructor)
from .basic import (RandomFunction, uniform, normal, binomial, random_integers, choice, poisson,  # noqa: F401
                    permutation, multinomial)
from .permute import PermuteRowElements, permute_row_elements  # noqa: F401
from .streams import RandomStreams, RandomStreamsBase  # noqa: F401
from . import basic as raw_random  # noqa: F401  (Theano's module name for the distributions)

__all__ = ["RandomStreams", "RandomStreamsBase", "RandomFunction", "RandomStateType", "random_state_type",
           "RandomStateSharedVariable", "randomstate_constructor", "PermuteRowElements",
           "permute_row_elements"]
