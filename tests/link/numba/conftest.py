"""These tests compare mode="NUMBA" with mode="VM" themselves: one run each, not one per backend."""
import pytest


@pytest.fixture(autouse=True)
def backend():
    yield "native"
