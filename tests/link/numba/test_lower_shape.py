"""Native shape nodes (Shape, MakeVector, SpecifyShape, Reshape, Alloc, Join, ARange) against the
reference backend."""
import numpy as np
import pytest

import arignote.tensor as T
from arignote.tensor.construct import ARange
from arignote.tensor.join_ops import Join
from arignote.tensor.shape_ops import Alloc, MakeVector, Reshape, Shape, SpecifyShape
from arignote.link.numba.testing import assert_agree, native_pair, native_raises, run_both


def _shapes_and_allocs():
    x = T.fmatrix("x")
    n = T.iscalar("n")
    outs = [x.shape, T.zeros((n, x.shape[0]), dtype="int16"), T.alloc(x[0], n, x.shape[1]),
            T.alloc(T.cast(n, "float64"), 2, n), T.stack([n, x.shape[1], 3]),
            T.arange(n), T.arange(1, n, 3, dtype="int32"), T.arange(n, -2, -2)]
    return [x, n], outs


def test_shape_alloc_make_vector_arange():
    pair = native_pair("alloc", _shapes_and_allocs, (Shape, Alloc, MakeVector, ARange))
    rng = np.random.default_rng(0)
    for shape, n in [((3, 4), 5), ((1, 7), 0), ((4, 0), 3)]:
        run_both(pair, rng.standard_normal(shape).astype("float32"), np.int32(n))


def test_alloc_of_a_negative_length_raises():
    native, _ = native_pair("alloc", _shapes_and_allocs, (Shape, Alloc, MakeVector, ARange))
    native_raises(native, np.ones((2, 3), "float32"), np.int32(-1))


def _reshapes():
    x = T.dmatrix("x")
    r = T.lscalar("r")
    outs = [T.reshape(x, (r, -1)), T.reshape(x.T, (-1,)), T.reshape(x[:, ::2], (-1,)), T.flatten(x),
            T.reshape(x, (x.shape[1], x.shape[0])), T.reshape(x, (r, 1, -1)), T.reshape(x, (2, -1))]
    return [x, r], outs


def test_reshape():
    pair = native_pair("reshape", _reshapes, (Reshape,))
    rng = np.random.default_rng(1)
    for shape, r in [((4, 6), 2), ((2, 6), 4), ((6, 2), 3), ((0, 4), 3)]:
        run_both(pair, rng.standard_normal(shape), np.int64(r))


@pytest.mark.parametrize("shape, r", [((3, 4), 5), ((2, 4), -2), ((3, 3), 3), ((0, 4), 0)])
def test_reshape_to_a_wrong_size_raises(shape, r):
    """5 does not divide 12, -2 is no length, (2, -1) cannot hold 9 elements, (0, -1) is ambiguous."""
    native, _ = native_pair("reshape", _reshapes, (Reshape,))
    native_raises(native, np.ones(shape), np.int64(r))


def _specify_and_join():
    x = T.fmatrix("x")
    y = T.imatrix("y")
    z = T.specify_shape(x, (None, 3))
    return [x, y], [z * 2, T.join(0, x, x, x), T.join(1, x, y), T.concatenate([y, y], axis=-1)]


def test_specify_shape_and_join():
    pair = native_pair("join", _specify_and_join, (SpecifyShape, Join))
    rng = np.random.default_rng(2)
    for rows in (2, 1, 0):
        run_both(pair, rng.standard_normal((rows, 3)).astype("float32"),
                 rng.integers(-9, 9, (rows, 2)).astype("int32"))


@pytest.mark.parametrize("x_shape, y_shape", [((2, 4), (2, 2)), ((2, 3), (3, 2))])
def test_specify_shape_and_join_check_shapes(x_shape, y_shape):
    native, _ = native_pair("join", _specify_and_join, (SpecifyShape, Join))
    native_raises(native, np.ones(x_shape, "float32"), np.ones(y_shape, "int32"))


def test_arange_with_step_zero_raises():
    def build():
        a, b, c = T.lscalars("a", "b", "c")
        return [a, b, c], [T.arange(a, b, c)]
    native, reference = native_pair("arange", build, (ARange,))
    for args in [(0, 10, 3), (10, 0, -3), (5, 5, 1), (5, 0, 2), (-7, 8, 4)]:
        assert_agree(native(*map(np.int64, args))[0], reference(*map(np.int64, args))[0])
    native_raises(native, np.int64(0), np.int64(3), np.int64(0))
