"""compute_test_value and warn_float64 act when a node is built."""
import warnings

import numpy as np
import pytest

import arignote as th
import arignote.tensor as T


def test_test_values_are_computed_at_build_time():
    with th.config.change_flags(compute_test_value='raise'):
        x = T.dmatrix('x')
        x.tag.test_value = np.ones((2, 3))
        y = (x * 2).sum(axis=1)
        np.testing.assert_array_equal(y.tag.test_value, [6.0, 6.0])
        w = T.dmatrix('w')
        w.tag.test_value = np.ones((4, 3))
        with pytest.raises(ValueError):
            x + w  # the shape error shows on the line that builds it


def test_missing_test_value_raises_or_warns():
    x = T.dvector('x')
    with th.config.change_flags(compute_test_value='raise'):
        with pytest.raises(ValueError, match="no test value"):
            x * 2
    with th.config.change_flags(compute_test_value='warn'):
        with pytest.warns(UserWarning, match="no test value"):
            x * 2


def test_warn_float64():
    x = T.fvector('x')
    with th.config.change_flags(warn_float64='raise'):
        x * np.float32(2)  # float32 stays quiet
        with pytest.raises(TypeError, match="float64"):
            x * np.float64(2)
    with th.config.change_flags(warn_float64='warn'):
        with pytest.warns(UserWarning, match="float64"):
            x * np.float64(2)
