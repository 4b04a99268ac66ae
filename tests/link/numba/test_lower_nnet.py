"""Native softmax, log-softmax, their gradients and the one-hot cross-entropy ops, against the
reference backend."""
import numpy as np
import pytest

import arignote.tensor as T
from arignote.tensor.nnet.crossentropy import CrossentropyCategorical1Hot, PickColumns, PutColumns
from arignote.tensor.nnet.softmax_ops import LogSoftmax, Softmax, SoftmaxGrad
from arignote.link.numba.testing import assert_agree, native_pair, native_raises, run_both


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
    pair = native_pair(("softmax", dtype), lambda: _softmaxes(dtype), (Softmax, LogSoftmax, SoftmaxGrad))
    rng = np.random.default_rng(0)
    for rows, cols in [(4, 10), (1, 1), (3, 17), (5, 0), (0, 4)]:
        x = rng.standard_normal((rows, cols)).astype(dtype) * 5
        c = rng.standard_normal((2, rows, cols)).astype(dtype)
        g, r = (rng.standard_normal(shape).astype(dtype) for shape in [(rows, cols), (1, cols)])
        run_both(pair, x, c, g, r)


@pytest.mark.filterwarnings("ignore:invalid value encountered")  # the reference's inf - inf
def test_softmax_of_extreme_values_as_the_reference():
    """Large values do not overflow; a NaN or +inf makes its row NaN; -inf gives 0 (log: -inf)."""
    pair = native_pair(("softmax", "float32"), lambda: _softmaxes("float32"), (Softmax, LogSoftmax, SoftmaxGrad))
    x = np.array([[1e4, 1e4 - 1, -1e4], [np.nan, 0, 1], [np.inf, 0, 1], [-np.inf, 0, 1]], "float32")
    c = np.array([[[-np.inf, 3, 88]] * 4] * 2, "float32")
    run_both(pair, x, c, np.ones((4, 3), "float32"), np.ones((1, 3), "float32"))


def test_softmax_grad_of_a_wrong_shape_raises():
    def build():
        dy, sm = T.fmatrices("dy", "sm")
        return [dy, sm], [T.nnet.softmax_grad(dy, sm)]
    native, reference = native_pair("smgrad", build, (SoftmaxGrad,))
    rng = np.random.default_rng(1)
    dy, sm = rng.random((3, 4), "float32"), rng.random((3, 4), "float32")
    assert_agree(native(dy, sm)[0], reference(dy, sm)[0])
    native_raises(native, dy, sm[:, :3])


def _crossentropy():
    p = T.fmatrix("p")
    y = T.ivector("y")
    nll = T.nnet.crossentropy_categorical_1hot(p, y)
    return [p, y], [nll, T.grad(T.sum(nll), p)]


@pytest.mark.filterwarnings("ignore:divide by zero")  # the reference's gradient at p = 0
def test_crossentropy_1hot_and_gradient():
    pair = native_pair("xent", _crossentropy, (CrossentropyCategorical1Hot, PickColumns, PutColumns))
    rng = np.random.default_rng(2)
    for rows, cols in [(4, 10), (1, 1), (0, 3)]:
        p = rng.random((rows, cols)).astype("float32")
        p[:, 0] = 0  # -log(0) is inf
        run_both(pair, p, rng.integers(0, cols, rows).astype("int32"))


@pytest.mark.parametrize("y", [[0, 3], [-1, 0], [0, 1, 2]])
def test_crossentropy_class_out_of_range_or_count_mismatch_raises(y):
    native, _ = native_pair("xent", _crossentropy, (CrossentropyCategorical1Hot, PickColumns, PutColumns))
    native_raises(native, np.full((2, 3), 0.5, "float32"), np.array(y, "int32"))
