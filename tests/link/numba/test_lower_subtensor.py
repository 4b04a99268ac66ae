"""Native indexing (Subtensor, IncSubtensor, AdvancedSubtensor1, AdvancedIncSubtensor1,
AdvancedSubtensor, AdvancedIncSubtensor) against the reference backend."""
import numpy as np
import pytest

import arignote.tensor as T
from arignote import config
from arignote.link.numba.testing import native_pair, native_raises, run_both
from arignote.tensor.subtensor import (AdvancedIncSubtensor, AdvancedIncSubtensor1, AdvancedSubtensor,
                                       AdvancedSubtensor1, IncSubtensor, Subtensor)


def _basic():
    x = T.tensor3("x", dtype="float32")
    i, j = T.iscalars("i", "j")
    y = T.fvector("y")
    w = x * 2  # an intermediate: the set/inc below may write into it in place
    outs = [x[1:, 0], x[i], x[::-1, j], x[i:j, :, ::2], x[-1, -2, 1], x[i, j, ::-2],
            T.set_subtensor(w[i, 1:], y[0]), T.inc_subtensor(x[::2, j], y), T.inc_subtensor(w[i, j, 0], y[1])]
    return [x, i, j, y], outs


def test_basic_indexing_and_writing():
    pair = native_pair("basic", _basic, (Subtensor, IncSubtensor))
    rng = np.random.default_rng(0)
    for shape, i, j in [((4, 3, 5), 1, 2), ((4, 3, 5), -2, -1), ((2, 2, 2), 0, -2), ((3, 5, 2), 2, 0)]:
        x = rng.standard_normal(shape).astype("float32")
        run_both(pair, x, np.int32(i), np.int32(j), rng.standard_normal(shape[2]).astype("float32"))


@pytest.mark.parametrize("i, j", [(4, 0), (-5, 0), (0, 3), (1, -4)])
def test_basic_index_out_of_bounds_raises(i, j):
    native, _ = native_pair("basic", _basic, (Subtensor, IncSubtensor))
    native_raises(native, np.ones((4, 3, 5), "float32"), np.int32(i), np.int32(j), np.ones(5, "float32"))


def test_inc_subtensor_value_of_a_wrong_shape_raises():
    native, _ = native_pair("basic", _basic, (Subtensor, IncSubtensor))
    native_raises(native, np.ones((4, 3, 5), "float32"), np.int32(0), np.int32(1), np.ones(3, "float32"))


def _rows():
    x = T.dmatrix("x")
    v = T.ivector("v")
    idx = T.lvector("idx")
    ids = T.ivector("ids")
    y = T.dmatrix("y")
    row = T.dvector("row")
    w = x + 1  # an intermediate: the increments below may write into it in place
    outs = [x[idx], v[ids], T.inc_subtensor(w[idx], y), T.set_subtensor(x[ids], y), T.inc_subtensor(v[ids], 3),
            T.inc_subtensor(w[idx], row), T.grad(T.sum(x[idx] * y), x)]
    return [x, v, idx, ids, y, row], outs


def test_integer_vector_indexing_and_increments():
    """Repeated and negative indices: increments accumulate (np.add.at), a set keeps the last value."""
    pair = native_pair("rows", _rows, (AdvancedSubtensor1, AdvancedIncSubtensor1))
    rng = np.random.default_rng(1)
    # (x with no rows is left out: the reference's AdvancedIncSubtensor1 refuses an empty index into it)
    for n, cols, idx in [(5, 3, [0, 4, -1, 4, 2, 0]), (2, 1, [1]), (3, 4, [])]:
        x = rng.standard_normal((n, cols))
        v = rng.integers(-50, 50, n).astype("int32")
        idx = np.array(idx, dtype="int64")
        y = rng.standard_normal((len(idx), cols))
        run_both(pair, x, v, idx, idx.astype("int32"), y, rng.standard_normal(cols))


@pytest.mark.parametrize("bad", [5, -6])
def test_integer_vector_out_of_bounds_raises(bad):
    native, _ = native_pair("rows", _rows, (AdvancedSubtensor1, AdvancedIncSubtensor1))
    idx = np.array([0, bad, 1], dtype="int64")
    native_raises(native, np.ones((5, 2)), np.ones(5, "int32"), idx, idx.astype("int32"), np.ones((3, 2)),
                  np.ones(2))


def test_increment_of_a_wrong_shape_raises():
    native, _ = native_pair("rows", _rows, (AdvancedSubtensor1, AdvancedIncSubtensor1))
    idx = np.array([0, 1, 1], dtype="int64")
    native_raises(native, np.ones((5, 2)), np.ones(5, "int32"), idx, idx.astype("int32"), np.ones((2, 2)),
                  np.ones(2))


def _pairs():
    p = T.fmatrix("p")
    y = T.ivector("y")
    cube = T.tensor3("cube")
    i, j = T.lvectors("i", "j")
    nll = -T.sum(p[T.arange(y.shape[0]), y])  # the pattern of W4's cost
    return [p, y, cube, i, j], [nll, T.grad(nll, p), cube[i, j], cube[i, 1], T.inc_subtensor(cube[i, j], 1.5),
                                T.set_subtensor(cube[j, i], cube[0, 0])]


def test_integer_vector_pairs():
    pair = native_pair("pairs", _pairs, (AdvancedSubtensor, AdvancedIncSubtensor))
    rng = np.random.default_rng(2)
    for rows, i, j in [(4, [0, 2, 2, -1], [1, 0, 0, 2]), (1, [1], [2, 0, 1]), (2, [], [])]:
        p = rng.random((rows, 5)).astype("float32") + 0.1
        y = rng.integers(0, 5, rows).astype("int32")
        cube = rng.standard_normal((3, 3, 2)).astype(config.floatX)
        run_both(pair, p, y, cube, np.array(i, "int64"), np.array(j, "int64"))


@pytest.mark.parametrize("i, j", [([0, 3], [0, 1]), ([0, 1], [-4, 0]), ([0, 1, 2], [0, 1]), ([1], [1, 5])])
def test_integer_vector_pairs_out_of_bounds_or_mismatched_raise(i, j):
    native, _ = native_pair("pairs", _pairs, (AdvancedSubtensor, AdvancedIncSubtensor))
    native_raises(native, np.ones((2, 5), "float32"), np.zeros(2, "int32"), np.ones((3, 3, 2), config.floatX),
                  np.array(i, "int64"), np.array(j, "int64"))


def test_class_index_out_of_bounds_raises():
    native, _ = native_pair("pairs", _pairs, (AdvancedSubtensor, AdvancedIncSubtensor))
    native_raises(native, np.ones((2, 5), "float32"), np.array([0, 5], "int32"), np.ones((3, 3, 2), config.floatX),
                  np.zeros(1, "int64"), np.zeros(1, "int64"))
