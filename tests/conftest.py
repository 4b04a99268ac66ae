"""Every test runs twice: on the reference (NumPy) backend and on the native (Numba) one.

`backend` is an autouse, parametrised fixture: under "reference", the default
linker is the reference VM; under "native", FAST_RUN (the default mode)
compiles natively and function() waits for the native program, so each
test's own assertions check the native backend against the values they
expect. Tests that name a mode (mode="VM", "FAST_COMPILE") run that mode
under both.
"""
import pytest

from arignote import config


@pytest.fixture(params=["reference", "native"], autouse=True)
def backend(request):
    if request.param == "reference":
        with config.change_flags(linker="vm"):
            yield request.param
    else:
        with config.change_flags(linker="numba", compile_wait=True):
            yield request.param
