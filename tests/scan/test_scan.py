"""scan: argument forms, loops, while-loops, nesting, updates, and gradients through time."""
from collections import OrderedDict

import numpy as np
import pytest

import arignote as th
import arignote.tensor as T
from arignote.gradient import verify_grad
from arignote.scan import until

rng = np.random.default_rng(0)


def test_power_by_repeated_multiplication():
    k = T.iscalar('k')
    A = T.dvector('A')
    result, updates = th.scan(lambda prior, A: prior * A, outputs_info=T.ones_like(A), non_sequences=A, n_steps=k)
    assert isinstance(updates, OrderedDict) and not updates
    f = th.function([A, k], [result, result[-1]])
    full, last = f(np.arange(5.0), 3)
    np.testing.assert_array_equal(full, [np.arange(5.0) ** i for i in (1, 2, 3)])
    np.testing.assert_array_equal(last, np.arange(5.0) ** 3)


def test_sequences_are_truncated_to_the_shortest():
    a = T.dvector('a')
    b = T.dvector('b')
    out, _ = th.scan(lambda x, y: x * y, sequences=[a, b])
    np.testing.assert_array_equal(th.function([a, b], out)(np.arange(5.0), np.arange(3.0)), [0.0, 1.0, 4.0])


def test_n_steps_limits_sequences():
    a = T.dvector('a')
    out, _ = th.scan(lambda x: x * 2, sequences=a, n_steps=2)
    np.testing.assert_array_equal(th.function([a], out)(np.arange(5.0)), [0.0, 2.0])


def test_sequence_taps():
    x = T.dvector('x')
    out, _ = th.scan(lambda prev, cur, nxt: prev + 10 * cur + 100 * nxt,
                     sequences=dict(input=x, taps=[-1, 0, 1]))
    v = np.arange(6.0)
    expected = [v[t - 1] + 10 * v[t] + 100 * v[t + 1] for t in range(1, 5)]
    np.testing.assert_array_equal(th.function([x], out)(v), expected)


def test_fibonacci_with_two_taps():
    init = T.dvector('init')
    fib, _ = th.scan(lambda a, b: a + b, outputs_info=dict(initial=init, taps=[-2, -1]), n_steps=8)
    np.testing.assert_array_equal(th.function([init], fib)([1.0, 1.0]), [2, 3, 5, 8, 13, 21, 34, 55])


def test_several_outputs_with_none_entries():
    x = T.dvector('x')
    (running, doubled), _ = th.scan(lambda v, acc: [acc + v, v * 2], sequences=x,
                                    outputs_info=[T.constant(np.float64(0)), None])
    r, d = th.function([x], [running, doubled])(np.arange(4.0))
    np.testing.assert_array_equal(r, np.cumsum(np.arange(4.0)))
    np.testing.assert_array_equal(d, np.arange(4.0) * 2)


def test_go_backwards():
    x = T.dvector('x')
    out, _ = th.scan(lambda v, acc: acc * 10 + v, sequences=x, outputs_info=T.constant(np.float64(0)),
                     go_backwards=True)
    np.testing.assert_array_equal(th.function([x], out)([1.0, 2.0, 3.0]), [3.0, 32.0, 321.0])


def test_closure_over_shared_and_symbolic_variables():
    W = th.shared(np.eye(2) * 2, 'W')
    scale = T.dscalar('scale')
    x = T.dmatrix('x')
    out, _ = th.scan(lambda row: T.dot(row, W) * scale, sequences=x)
    np.testing.assert_array_equal(th.function([x, scale], out)(np.ones((3, 2)), 0.5), np.ones((3, 2)))


def test_while_loop_with_until():
    limit = T.dscalar('limit')
    out, _ = th.scan(lambda prev: (prev * 2, until(prev * 2 > limit)), outputs_info=T.constant(np.float64(1)),
                     n_steps=100)
    np.testing.assert_array_equal(th.function([limit], out)(20.0), [2.0, 4.0, 8.0, 16.0, 32.0])


def test_nested_scan():
    m = T.dmatrix('m')

    def row_cumsum(row):
        inner, _ = th.scan(lambda v, acc: acc + v, sequences=row, outputs_info=T.constant(np.float64(0)))
        return inner

    out, _ = th.scan(row_cumsum, sequences=m)
    value = rng.standard_normal((3, 4))
    np.testing.assert_allclose(th.function([m], out)(value), np.cumsum(value, axis=1))


def test_updates_of_shared_variables_inside_the_loop():
    counter = th.shared(np.float64(0), 'counter')

    def step(x):
        return x + counter, {counter: counter + 1}

    x = T.dvector('x')
    out, updates = th.scan(step, sequences=x)
    assert list(updates) == [counter]
    f = th.function([x], out, updates=updates)
    np.testing.assert_array_equal(f(np.zeros(3)), [0.0, 1.0, 2.0])
    assert counter.get_value() == 3.0
    np.testing.assert_array_equal(f(np.zeros(2)), [3.0, 4.0])


def test_map_reduce_foldl_foldr():
    x = T.dvector('x')
    sq, _ = th.map(lambda v: v ** 2, x)
    total, _ = th.reduce(lambda v, acc: acc + v, x, T.constant(np.float64(0)))
    left, _ = th.foldl(lambda v, acc: acc * 10 + v, x, T.constant(np.float64(0)))
    right, _ = th.foldr(lambda v, acc: acc * 10 + v, x, T.constant(np.float64(0)))
    out = th.function([x], [sq, total, left, right])([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(out[0], [1.0, 4.0, 9.0])
    assert out[1] == 6.0 and out[2] == 123.0 and out[3] == 321.0


def test_dtype_pitfall_is_a_clear_error():
    up_to = T.iscalar('up_to')
    seq = T.arange(up_to)
    narrow = T.as_tensor_variable(np.asarray(0, dtype='int8'))
    with pytest.raises(TypeError, match=r"int8.*would silently change.*test_scan.py"):
        th.scan(lambda v, acc: acc + v, sequences=seq, outputs_info=narrow)


def test_output_count_must_match_outputs_info():
    x = T.dvector('x')
    with pytest.raises(ValueError, match="returned 2 outputs but outputs_info has 1"):
        th.scan(lambda v: [v, v], sequences=x, outputs_info=[None])


def test_scan_needs_steps():
    with pytest.raises(ValueError, match="sequences or n_steps"):
        th.scan(lambda: T.constant(1.0), outputs_info=None)


# --- gradients ------------------------------------------------------------------------------------------


def _rnn(xs, h0, W, U):
    hs, _ = th.scan(lambda x_t, h: T.tanh(T.dot(x_t, W) + T.dot(h, U)), sequences=xs, outputs_info=h0)
    return hs


def test_rnn_gradient_verify_grad():
    W = rng.standard_normal((3, 4)) * 0.5
    U = rng.standard_normal((4, 4)) * 0.5
    verify_grad(lambda xs, h0, w, u: _rnn(xs, h0, w, u).sum(),
                [rng.standard_normal((5, 3)), rng.standard_normal(4), W, U], rng=rng)
    verify_grad(lambda xs, h0, w, u: _rnn(xs, h0, w, u)[-1],
                [rng.standard_normal((5, 3)), rng.standard_normal(4), W, U], rng=rng)


def _gru(xs, h0, Wz, Uz, Wr, Ur, Wh, Uh):
    def step(x, h):
        z = T.nnet.sigmoid(T.dot(x, Wz) + T.dot(h, Uz))
        r = T.nnet.sigmoid(T.dot(x, Wr) + T.dot(h, Ur))
        hh = T.tanh(T.dot(x, Wh) + T.dot(r * h, Uh))
        return (1 - z) * h + z * hh

    hs, _ = th.scan(step, sequences=xs, outputs_info=h0)
    return hs


def test_gru_gradient_verify_grad():
    E, H = 3, 4
    weights = [rng.standard_normal(s) * 0.5 for s in [(E, H), (H, H)] * 3]
    verify_grad(lambda xs, h0, *w: _gru(xs, h0, *w)[-1].sum(),
                [rng.standard_normal((4, E)), rng.standard_normal(H), *weights], rng=rng)


def test_gradient_through_two_taps():
    verify_grad(lambda init: th.scan(lambda a, b: a * b + 0.1, outputs_info=dict(initial=init, taps=[-2, -1]),
                                     n_steps=5)[0].sum(), [np.array([0.9, 1.1])], rng=rng)


def test_gradient_through_sequence_taps_and_per_step_outputs():
    def f(x, w):
        out, _ = th.scan(lambda a, b, c: T.tanh(a * w + b - c), sequences=dict(input=x, taps=[-1, 0, 1]))
        return out

    verify_grad(f, [rng.standard_normal(6), np.array(0.7)], rng=rng)


def test_gradient_through_nested_scan():
    def f(m):
        def row(r):
            inner, _ = th.scan(lambda v, acc: T.tanh(acc + v), sequences=r, outputs_info=T.constant(np.float64(0)))
            return inner[-1]

        out, _ = th.scan(row, sequences=m)
        return out

    verify_grad(f, [rng.standard_normal((3, 4))], rng=rng)


def test_truncate_gradient():
    xs = T.dvector('xs')
    w = T.dscalar('w')
    hs, _ = th.scan(lambda x, h: h * w + x, sequences=xs, outputs_info=T.constant(np.float64(0)),
                    truncate_gradient=2)
    g = th.function([xs, w], T.grad(hs[-1], xs))(np.ones(5), 0.5)
    # only the last two steps pass gradient back to their inputs
    np.testing.assert_allclose(g, [0.0, 0.0, 0.0, 0.5, 1.0])


def test_gradient_of_while_loop():
    x0 = T.dscalar('x0')
    out, _ = th.scan(lambda prev: (prev * 1.5, until(prev * 1.5 > 10)), outputs_info=x0, n_steps=50)
    g = th.function([x0], T.grad(out[-1], x0))(1.0)
    n = th.function([x0], out.shape[0])(1.0)
    assert g == pytest.approx(1.5 ** int(n))


# --- memory: only the steps that are read are kept ------------------------------------------------------


def _scan_nodes(f):
    from arignote.scan.op import Scan

    return [n for n in f.maker.fgraph.apply_nodes if isinstance(n.op, Scan)]


def test_last_step_only_keeps_one_state():
    k = T.iscalar('k')
    A = T.dvector('A')
    result, _ = th.scan(lambda prior, A: prior * A, outputs_info=T.ones_like(A), non_sequences=A, n_steps=k)
    f = th.function([A, k], result[-1])
    (node,) = _scan_nodes(f)
    assert node.op.spec.keep == (1,)
    np.testing.assert_array_equal(f(np.arange(4.0), 3), np.arange(4.0) ** 3)
    g = th.function([A, k], [result[-1], result.sum()])  # a full read keeps everything
    (node,) = _scan_nodes(g)
    assert node.op.spec.keep == (None,)


def test_peak_memory_is_flat_in_the_number_of_steps():
    import tracemalloc

    k = T.iscalar('k')
    A = T.dvector('A')
    result, _ = th.scan(lambda prior, A: prior * A, outputs_info=T.ones_like(A), non_sequences=A, n_steps=k)
    f = th.function([A, k], result[-1])
    a = np.full(1000, 1.0)
    peaks = []
    for steps in (100, 5000):
        tracemalloc.start()
        f(a, steps)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    # 5000 states of 8 kB would be 40 MB; keeping one leaves the peak where it was
    assert peaks[1] < peaks[0] + 1_000_000


def test_rop_through_scan_equals_jacobian_times_vector():
    x = T.dvector('x')
    v = T.dvector('v')
    hs, _ = th.scan(lambda a, h: T.tanh(a * h + a), sequences=x, outputs_info=T.constant(np.float64(0.5)))
    jv = th.function([x, v], th.gradient.Rop(hs, x, v))
    jac = th.function([x], th.gradient.jacobian(hs, x))
    xv, vv = rng.standard_normal(4), rng.standard_normal(4)
    np.testing.assert_allclose(jv(xv, vv), jac(xv) @ vv)


def test_long_loops_and_a_huge_step_bound_for_while_loops():
    x0 = T.dscalar('x0')
    out, _ = th.scan(lambda prev: (prev + 1, until(prev + 1 >= 5000)), outputs_info=x0, n_steps=10 ** 12)
    seq, _ = th.scan(lambda v: v * 2, sequences=out)  # a per-step output over a long sequence
    f = th.function([x0], [out, seq])
    states, doubled = f(0.0)
    np.testing.assert_array_equal(states, np.arange(1.0, 5001.0))
    np.testing.assert_array_equal(doubled, 2 * np.arange(1.0, 5001.0))
