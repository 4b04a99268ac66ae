"""The benchmark models after rewriting: what a careful expert would have written.

W4 (MLP training step): fused elementwise kernels and BLAS gemm/gemv calls.
W5 (GRU sentence step): the embedding update touches only the rows used.
"""
import numpy as np

import arignote as th
import arignote.tensor as T
from arignote.compile import Mode


def _mlp_step(batch=16, n_in=20, n_hidden=12, n_out=5):
    rng = np.random.RandomState(1)
    x = T.fmatrix("x")
    y = T.ivector("y")
    W1 = th.shared((rng.randn(n_in, n_hidden) * 0.05).astype("float32"), "W1")
    b1 = th.shared(np.zeros(n_hidden, dtype="float32"), "b1")
    W2 = th.shared((rng.randn(n_hidden, n_out) * 0.05).astype("float32"), "W2")
    b2 = th.shared(np.zeros(n_out, dtype="float32"), "b2")
    h = T.tanh(T.dot(x, W1) + b1)
    p = T.nnet.softmax(T.dot(h, W2) + b2)
    cost = -T.mean(T.log(p)[T.arange(y.shape[0]), y])
    params = [W1, b1, W2, b2]
    grads = T.grad(cost, params)
    lr = np.float32(0.01)
    updates = [(q, q - lr * g) for q, g in zip(params, grads)]
    data = (rng.randn(batch, n_in).astype("float32"), rng.randint(0, n_out, batch).astype("int32"))
    return [x, y], cost, updates, params, data


def _run_twice(mode):
    inputs, cost, updates, params, data = _mlp_step()
    f = th.function(inputs, cost, updates=updates, mode=mode)
    costs = [float(f(*data)) for _ in range(3)]
    return f, costs, [p.get_value() for p in params]


def test_mlp_step_has_fused_kernels_and_blas_and_same_numbers():
    f, costs, values = _run_twice(None)
    _, ref_costs, ref_values = _run_twice(Mode('py', None))
    np.testing.assert_allclose(costs, ref_costs, rtol=1e-5)
    for v, r in zip(values, ref_values):
        np.testing.assert_allclose(v, r, rtol=1e-4, atol=1e-6)
    text = th.printing.debugprint(f, file='str')
    assert 'Composite' in text  # fused elementwise
    assert 'Gemm' in text or 'Gemv' in text
    assert 'LogSoftmax' in text or 'log_softmax' in text.lower()


def test_gru_step_updates_embedding_rows_in_place():
    V, E, H = 300, 8, 6
    rng = np.random.RandomState(2)
    emb = th.shared((rng.randn(V, E) * 0.1).astype("float32"), "emb")
    W = th.shared((rng.randn(E, H) * 0.1).astype("float32"), "W")
    U = th.shared((rng.randn(H, H) * 0.1).astype("float32"), "U")
    ids = T.ivector("ids")
    hs, _ = th.scan(lambda x, h: T.tanh(T.dot(x, W) + T.dot(h, U)), sequences=emb[ids],
                    outputs_info=T.zeros((H,), dtype="float32"))
    cost = hs[-1].sum()
    params = [emb, W, U]
    grads = T.grad(cost, params)
    f = th.function([ids], cost, updates=[(q, q - np.float32(0.1) * g) for q, g in zip(params, grads)])
    text = th.printing.debugprint(f, file='str')
    update_lines = [line for line in text.splitlines() if '(update of emb)' in line]
    assert update_lines and 'AdvancedIncSubtensor1{inplace}' in update_lines[0]
    storage = emb.get_value(borrow=True)
    before = storage.copy()
    sentence = np.array([5, 9, 5], dtype='int32')
    f(sentence)
    assert emb.get_value(borrow=True) is storage
    untouched = np.setdiff1d(np.arange(V), sentence)
    np.testing.assert_array_equal(storage[untouched], before[untouched])
    assert not np.array_equal(storage[5], before[5])
