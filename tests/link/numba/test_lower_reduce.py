"""Native reductions (Reduce, Argmax) against the reference backend."""
import numpy as np
import pytest

import arignote.tensor as T
from arignote.tensor.reduce import Argmax, Reduce
from arignote.link.numba.testing import assert_agree, native_pair, native_raises, run_both


def random(shape, dtype, rng):
    if dtype == "bool":
        return rng.random(shape) < 0.5
    if dtype[0] in "iu":
        info = np.iinfo(dtype)
        return rng.integers(max(info.min, -100), min(info.max, 100), shape, endpoint=True).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


SHAPES = [(2, 3, 4), (1, 5, 1), (3, 1, 17), (2, 4, 9), (0, 3, 4), (2, 0, 3), (3, 2, 0)]
# one axis set per road: a scalar accumulator (trailing axes, all axes), an array of accumulators
# (a leading axis), and both (a leading and a trailing axis)
AXES = [2, (1, 2), None, 0, (0, 2)]


def _sums(dtype):
    x = T.tensor3("x", dtype=dtype)
    outs = [T.sum(x, axis=a) for a in AXES]
    outs += [T.prod(x, axis=1), T.any(x, axis=(0, 2)), T.all(x, axis=2)]
    outs.append(T.sum(x[:, ::2, ::-1], axis=(0, 2)))  # a strided view
    return [x], outs


@pytest.mark.parametrize("dtype", ["float32", "int8", "bool"])
def test_sum_prod_any_all(dtype):
    pair = native_pair(("sums", dtype), lambda: _sums(dtype), Reduce)
    rng = np.random.default_rng(0)
    for shape in SHAPES:
        run_both(pair, random(shape, dtype, rng))


def _narrow_sums():
    x = T.tensor3("x", dtype="int8")
    u = T.matrix("u", dtype="uint8")
    return [x, u], [T.sum(x, axis=1, dtype="int8"), T.prod(x, axis=(0, 1), dtype="int16"),
                    T.sum(x, dtype="float32"), T.sum(u, axis=0), T.prod(u, axis=1, dtype="float64")]


def test_explicit_dtypes_wrap_around_as_numpy():
    pair = native_pair("narrow", _narrow_sums, Reduce)
    x = np.full((3, 40, 5), 100, dtype="int8")
    x[1, ::3] = -77
    rng = np.random.default_rng(1)
    run_both(pair, x, np.full((30, 3), 250, dtype="uint8"))
    run_both(pair, random((2, 9, 3), "int8", rng), random((4, 0), "uint8", rng))


def _extrema(dtype):
    x = T.tensor3("x", dtype=dtype)
    outs = [T.max(x, axis=a) for a in AXES] + [T.min(x, axis=(0, 2))]
    outs += [T.argmax(x, axis=a) for a in (0, 2, None)] + [T.argmin(x, axis=1)]
    outs += [T.argmax(x, axis=(1, 2))]  # several axes: a reshape, then one Argmax
    return [x], outs


@pytest.mark.parametrize("dtype", ["float32", "int16", "bool"])
def test_max_min_argmax(dtype):
    pair = native_pair(("extrema", dtype), lambda: _extrema(dtype), (Reduce, Argmax))
    rng = np.random.default_rng(2)
    for shape in [(2, 3, 4), (1, 5, 1), (3, 1, 17), (4, 2, 9)]:
        run_both(pair, random(shape, dtype, rng))
    if dtype.startswith("float"):  # NaN wins, and ties go to the first
        x = random((3, 4, 5), dtype, rng)
        x[1, 2, 3] = x[2, 0, 0] = np.nan
        x[0, 1] = np.inf
        x[2, 3, 1:3] = -np.inf
        run_both(pair, x)
        run_both(pair, np.zeros((2, 3, 4), dtype))


@pytest.mark.parametrize("shape", [(0, 3, 4), (2, 0, 3)])
def test_max_of_an_empty_dimension_raises(shape):
    native, _ = native_pair(("extrema", "float32"), lambda: _extrema("float32"), (Reduce, Argmax))
    native_raises(native, np.zeros(shape, "float32"))


def test_argmax_of_an_empty_lane_raises():
    def build():
        x = T.fmatrix("x")
        return [x], [T.argmax(x, axis=1)]
    native, reference = native_pair("argmax1", build, Argmax)
    assert_agree(native(np.zeros((0, 3), "float32"))[0], reference(np.zeros((0, 3), "float32"))[0])
    native_raises(native, np.zeros((3, 0), "float32"))


def test_reductions_of_a_scalar():
    def build():
        s = T.scalar("s", dtype="int32")
        v = T.fvector("v")
        return [s, v], [T.sum(s, dtype="float64"), T.max(v), T.argmax(v), T.prod(v)]
    pair = native_pair("scalar", build, (Reduce, Argmax))
    run_both(pair, np.int32(7), np.arange(5, dtype="float32") - 2)
    run_both(pair, np.int32(-3), np.array([np.nan, 1, 2], dtype="float32"))
