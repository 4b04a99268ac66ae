"""Native softmax, log-softmax, their gradients and the one-hot cross-entropy ops, against the
reference backend."""
import numpy as np
import pytest

import arignote as th
import arignote.tensor as T
from arignote import config
from arignote.link.numba.program import build_program
from arignote.tensor.nnet.crossentropy import CrossentropyCategorical1Hot, PickColumns, PutColumns
from arignote.tensor.nnet.softmax_ops import LogSoftmax, Softmax, SoftmaxGrad


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


def assert_close(got, want):
    """Same dtype and shape; values a few float32 ulp apart (the native code rounds once, NumPy at each step)."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype and got.shape == want.shape, (got.dtype, got.shape, want.dtype, want.shape)
    tol = 4e-6 if got.dtype == np.float32 else 1e-13
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol, equal_nan=True)


def run_both(pair, *args):
    native, reference = pair
    for got, want in zip(native(*args), reference(*args)):
        assert_close(got, want)


def native_raises(fn, *args):
    """The call raises, and the native program raised first (not a wrong answer, not the VM alone)."""
    with pytest.raises((ValueError, IndexError)) as info:
        fn(*args)
    assert isinstance(info.value.__context__, (ValueError, IndexError)), "the native program did not raise"


def _softmaxes(dtype):
    x = T.matrix("x", dtype=dtype)
    c = T.tensor3("c", dtype=dtype)
    g = T.matrix("g", dtype=dtype)
    r = T.row("r", dtype=dtype)
    sm = T.nnet.softmax(x)
    outs = [sm, T.nnet.log_softmax(x), T.nnet.softmax(x, axis=0), T.nnet.log_softmax(c, axis=1),
            T.grad(T.sum(sm * g), x), T.nnet.softmax_grad(r, sm)]  # dy of one row, stretched
    return [x, c, g, r], outs


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_softmax_log_softmax_and_gradient(dtype):
    pair = compiled(("softmax", dtype), lambda: _softmaxes(dtype), (Softmax, LogSoftmax, SoftmaxGrad))
    rng = np.random.default_rng(0)
    for rows, cols in [(4, 10), (1, 1), (3, 17), (5, 0), (0, 4)]:
        x = rng.standard_normal((rows, cols)).astype(dtype) * 5
        c = rng.standard_normal((2, rows, cols)).astype(dtype)
        g, r = (rng.standard_normal(shape).astype(dtype) for shape in [(rows, cols), (1, cols)])
        run_both(pair, x, c, g, r)


@pytest.mark.filterwarnings("ignore:invalid value encountered")  # the reference's inf - inf
def test_softmax_of_extreme_values_as_the_reference():
    """Large values do not overflow; a NaN or +inf makes its row NaN; -inf gives 0 (log: -inf)."""
    pair = compiled(("softmax", "float32"), lambda: _softmaxes("float32"), (Softmax, LogSoftmax, SoftmaxGrad))
    x = np.array([[1e4, 1e4 - 1, -1e4], [np.nan, 0, 1], [np.inf, 0, 1], [-np.inf, 0, 1]], "float32")
    c = np.array([[[-np.inf, 3, 88]] * 4] * 2, "float32")
    run_both(pair, x, c, np.ones((4, 3), "float32"), np.ones((1, 3), "float32"))


def test_softmax_grad_of_a_wrong_shape_raises():
    def build():
        dy, sm = T.fmatrices("dy", "sm")
        return [dy, sm], [T.nnet.softmax_grad(dy, sm)]
    native, reference = compiled("smgrad", build, (SoftmaxGrad,))
    rng = np.random.default_rng(1)
    dy, sm = rng.random((3, 4), "float32"), rng.random((3, 4), "float32")
    assert_close(native(dy, sm)[0], reference(dy, sm)[0])
    native_raises(native, dy, sm[:, :3])


def _crossentropy():
    p = T.fmatrix("p")
    y = T.ivector("y")
    nll = T.nnet.crossentropy_categorical_1hot(p, y)
    return [p, y], [nll, T.grad(T.sum(nll), p)]


@pytest.mark.filterwarnings("ignore:divide by zero")  # the reference's gradient at p = 0
def test_crossentropy_1hot_and_gradient():
    pair = compiled("xent", _crossentropy, (CrossentropyCategorical1Hot, PickColumns, PutColumns))
    rng = np.random.default_rng(2)
    for rows, cols in [(4, 10), (1, 1), (0, 3)]:
        p = rng.random((rows, cols)).astype("float32")
        p[:, 0] = 0  # -log(0) is inf
        run_both(pair, p, rng.integers(0, cols, rows).astype("int32"))


@pytest.mark.parametrize("y", [[0, 3], [-1, 0], [0, 1, 2]])
def test_crossentropy_class_out_of_range_or_count_mismatch_raises(y):
    native, _ = compiled("xent", _crossentropy, (CrossentropyCategorical1Hot, PickColumns, PutColumns))
    native_raises(native, np.full((2, 3), 0.5, "float32"), np.array(y, "int32"))
