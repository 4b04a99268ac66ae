"""Every test runs twice: on the reference (NumPy) backend and on the native (Numba) one.

`backend` is an autouse, parametrised fixture: under "reference", the default
linker is the reference VM; under "native", FAST_RUN (the default mode)
compiles natively and function() waits for the native program, so each
test's own assertions check the native backend against the values they
expect. Tests that name a mode (mode="VM", "FAST_COMPILE") run that mode
under both.
"""
import pytest

import arignote.tensor as T
from arignote import config
from arignote.graph.basic import Apply, Op


@pytest.fixture(params=["reference", "native"], autouse=True)
def backend(request):
    if request.param == "reference":
        with config.change_flags(linker="vm"):
            yield request.param
    else:
        with config.change_flags(linker="numba", compile_wait=True):
            yield request.param


class Explode(Op):
    """An op that fails whenever it runs: proof that a branch was evaluated."""

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        raise AssertionError("the branch not taken was evaluated")


@pytest.fixture
def explode():
    """An Explode op (a node that must never run)."""
    return Explode()
