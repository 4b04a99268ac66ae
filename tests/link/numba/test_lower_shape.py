"""Native shape nodes (Shape, MakeVector, SpecifyShape, Reshape, Alloc, Join, ARange) against the
reference backend."""
import numpy as np
import pytest

import arignote as th
import arignote.tensor as T
from arignote import config
from arignote.link.numba.program import build_program
from arignote.tensor.construct import ARange
from arignote.tensor.join_ops import Join
from arignote.tensor.shape_ops import Alloc, MakeVector, Reshape, Shape, SpecifyShape


@pytest.fixture(autouse=True)
def backend():
    """These tests compare mode="NUMBA" with mode="VM" themselves: one run is enough."""
    yield "native"


_COMPILED: dict = {}


def compiled(key, build, lowered):
    """(native, reference) functions of `build()` -> (inputs, outputs), built once per key;
    asserts that each op class of `lowered` has a node in the graph and every such node runs natively."""
    if key not in _COMPILED:
        inputs, outputs = build()
        with config.change_flags(compile_wait=True):
            native = th.function(inputs, outputs, mode="NUMBA")
        reference = th.function(inputs, outputs, mode="VM")
        ops = {type(n.op) for n in native.maker.fgraph.apply_nodes}
        missing = [cls.__name__ for cls in lowered if not any(issubclass(o, cls) for o in ops)]
        assert not missing, f"no {missing} node in the graph"
        falling = [(str(n.op), why) for n, why in build_program(native.maker.fgraph).fallbacks
                   if isinstance(n.op, lowered)]
        assert not falling, falling
        assert native.native
        _COMPILED[key] = native, reference
    return _COMPILED[key]


def assert_same(got, want):
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype and got.shape == want.shape, (got.dtype, got.shape, want.dtype, want.shape)
    np.testing.assert_array_equal(got, want)


def run_both(pair, *args):
    native, reference = pair
    for got, want in zip(native(*args), reference(*args)):
        assert_same(got, want)


def native_raises(fn, *args):
    """The call raises, and the native program raised first (not a wrong answer, not the VM alone)."""
    with pytest.raises((ValueError, IndexError)) as info:
        fn(*args)
    assert isinstance(info.value.__context__, (ValueError, IndexError)), "the native program did not raise"


def _shapes_and_allocs():
    x = T.fmatrix("x")
    n = T.iscalar("n")
    outs = [x.shape, T.zeros((n, x.shape[0]), dtype="int16"), T.alloc(x[0], n, x.shape[1]),
            T.alloc(T.cast(n, "float64"), 2, n), T.stack([n, x.shape[1], 3]),
            T.arange(n), T.arange(1, n, 3, dtype="int32"), T.arange(n, -2, -2)]
    return [x, n], outs


def test_shape_alloc_make_vector_arange():
    pair = compiled("alloc", _shapes_and_allocs, (Shape, Alloc, MakeVector, ARange))
    rng = np.random.default_rng(0)
    for shape, n in [((3, 4), 5), ((1, 7), 0), ((4, 0), 3)]:
        run_both(pair, rng.standard_normal(shape).astype("float32"), np.int32(n))


def test_alloc_of_a_negative_length_raises():
    native, _ = compiled("alloc", _shapes_and_allocs, (Shape, Alloc, MakeVector, ARange))
    native_raises(native, np.ones((2, 3), "float32"), np.int32(-1))


def _reshapes():
    x = T.dmatrix("x")
    r = T.lscalar("r")
    outs = [T.reshape(x, (r, -1)), T.reshape(x.T, (-1,)), T.reshape(x[:, ::2], (-1,)), T.flatten(x),
            T.reshape(x, (x.shape[1], x.shape[0])), T.reshape(x, (r, 1, -1)), T.reshape(x, (2, -1))]
    return [x, r], outs


def test_reshape():
    pair = compiled("reshape", _reshapes, (Reshape,))
    rng = np.random.default_rng(1)
    for shape, r in [((4, 6), 2), ((2, 6), 4), ((6, 2), 3), ((0, 4), 3)]:
        run_both(pair, rng.standard_normal(shape), np.int64(r))


@pytest.mark.parametrize("shape, r", [((3, 4), 5), ((2, 4), -2), ((3, 3), 3), ((0, 4), 0)])
def test_reshape_to_a_wrong_size_raises(shape, r):
    """5 does not divide 12, -2 is no length, (2, -1) cannot hold 9 elements, (0, -1) is ambiguous."""
    native, _ = compiled("reshape", _reshapes, (Reshape,))
    native_raises(native, np.ones(shape), np.int64(r))


def _specify_and_join():
    x = T.fmatrix("x")
    y = T.imatrix("y")
    z = T.specify_shape(x, (None, 3))
    return [x, y], [z * 2, T.join(0, x, x, x), T.join(1, x, y), T.concatenate([y, y], axis=-1)]


def test_specify_shape_and_join():
    pair = compiled("join", _specify_and_join, (SpecifyShape, Join))
    rng = np.random.default_rng(2)
    for rows in (2, 1, 0):
        run_both(pair, rng.standard_normal((rows, 3)).astype("float32"),
                 rng.integers(-9, 9, (rows, 2)).astype("int32"))


@pytest.mark.parametrize("x_shape, y_shape", [((2, 4), (2, 2)), ((2, 3), (3, 2))])
def test_specify_shape_and_join_check_shapes(x_shape, y_shape):
    native, _ = compiled("join", _specify_and_join, (SpecifyShape, Join))
    native_raises(native, np.ones(x_shape, "float32"), np.ones(y_shape, "int32"))


def test_arange_with_step_zero_raises():
    def build():
        a, b, c = T.lscalars("a", "b", "c")
        return [a, b, c], [T.arange(a, b, c)]
    native, reference = compiled("arange", build, (ARange,))
    for args in [(0, 10, 3), (10, 0, -3), (5, 5, 1), (5, 0, 2), (-7, 8, 4)]:
        assert_same(native(*map(np.int64, args))[0], reference(*map(np.int64, args))[0])
    native_raises(native, np.int64(0), np.int64(3), np.int64(0))
