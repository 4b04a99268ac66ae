"""Scan lowered to a native loop: values, shapes and dtypes equal the reference backend's (mode="VM").

Every test checks that its Scan nodes really were lowered (none of them among
the program's fallbacks) and calls each compiled function on several inputs,
so that a few compilations cover many cases.
"""
import numpy as np
import pytest

import arignote as th
import arignote.tensor as T
from arignote import config
from arignote.link.numba.program import build_program
from arignote.scan import until
from arignote.scan.op import Scan


@pytest.fixture(autouse=True)
def backend():
    """These tests compare mode="NUMBA" with mode="VM" themselves: one run is enough."""
    with config.change_flags(compile_wait=True):
        yield "native"


def _scan_nodes(f):
    return [n for n in f.maker.fgraph.apply_nodes if isinstance(n.op, Scan)]


def _native_and_reference(inputs, outputs, **kwargs):
    """(native function, reference function); asserts every Scan node of the native one was lowered."""
    f = th.function(inputs, outputs, mode="NUMBA", **kwargs)
    ref = th.function(inputs, outputs, mode="VM", **kwargs)
    scans = _scan_nodes(f)
    assert scans, "the graph has no Scan node"
    fallbacks = dict(build_program(f.maker.fgraph).fallbacks)
    not_lowered = {str(n.op): fallbacks[n] for n in scans if n in fallbacks}
    assert not not_lowered, f"Scan nodes not lowered: {not_lowered}"
    assert f.native
    return f, ref


def _assert_same(got, want):
    got = got if isinstance(got, list) else [got]
    want = want if isinstance(want, list) else [want]
    assert len(got) == len(want)
    for k, (a, b) in enumerate(zip(got, want)):
        a, b = np.asarray(a), np.asarray(b)
        assert a.dtype == b.dtype, f"output {k}: dtype {a.dtype}, reference {b.dtype}"
        assert a.shape == b.shape, f"output {k}: shape {a.shape}, reference {b.shape}"
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=0, err_msg=f"output {k}")


def _compare(f, ref, *args):
    _assert_same(f(*args), ref(*args))


rng = np.random.default_rng(42)


def test_simple_recurrence_with_n_steps_0_1_and_more():
    x, k = T.dvector("x"), T.iscalar("k")
    powers, _ = th.scan(lambda prior, x: prior * x, outputs_info=T.ones_like(x), non_sequences=x, n_steps=k)
    f, ref = _native_and_reference([x, k], powers)
    a = rng.uniform(0.5, 1.5, 6)
    for n in (0, 1, 2, 9):
        _compare(f, ref, a, n)
    np.testing.assert_allclose(f(a, 9), np.cumprod(np.tile(a, (9, 1)), axis=0), rtol=1e-12)


def test_taps_reading_several_steps_back_from_a_longer_initial_buffer():
    a0, b0, k = T.dmatrix("a0"), T.dvector("b0"), T.iscalar("k")

    def step(a2, a1, b3, b1):
        return a2 + a1 * 0.5, b3 - b1 * 0.25

    (a, b), _ = th.scan(step, outputs_info=[dict(initial=a0, taps=[-2, -1]), dict(initial=b0, taps=[-3, -1])],
                        n_steps=k)
    f, ref = _native_and_reference([a0, b0, k], [a, b])
    init_a = rng.standard_normal((4, 3))  # 4 rows: the taps read only the last 2
    init_b = rng.standard_normal(5)       # 5 entries: the taps read only the last 3
    for n in (0, 1, 3, 8):
        _compare(f, ref, init_a, init_b, n)
    # Fibonacci-like check against NumPy: row t+2 = row t + row t+1 / 2
    rows = list(init_a[-2:])
    for _ in range(8):
        rows.append(rows[-2] + rows[-1] * 0.5)
    np.testing.assert_allclose(f(init_a, init_b, 8)[0], np.array(rows[2:]), rtol=1e-12)
    # bad input is caught by the native loop's own checks before any memory is touched
    for args, message in [((init_a[:1], init_b, 3), "recurrent output 0 needs 2 entries"),
                          ((init_a, init_b, -1), "the number of steps is negative")]:
        with pytest.raises(ValueError) as caught:
            f(*args)
        assert message in str(caught.value.__context__)


def test_sequences_with_taps_non_sequences_and_go_backwards():
    X, Y, h0, w = T.dmatrix("X"), T.dvector("Y"), T.dvector("h0"), T.dvector("w")

    def step(x_prev, x_now, y, h, w):
        return T.tanh(h * w + x_now - x_prev * 0.5) + y

    h, _ = th.scan(step, sequences=[dict(input=X, taps=[-1, 0]), Y], outputs_info=h0, non_sequences=w,
                   go_backwards=True)
    f, ref = _native_and_reference([X, Y, h0, w], h)
    for length in (1, 2, 7):  # one row of X with taps [-1, 0]: no step at all
        _compare(f, ref, rng.standard_normal((length, 3)), rng.standard_normal(length + 2),
                 rng.standard_normal(3), rng.standard_normal(3))
    # NumPy: both sequences run backwards; X is read as (row t, row t+1) of the reversed X
    Xv, Yv, h0v, wv = (rng.standard_normal((5, 3)), rng.standard_normal(6), rng.standard_normal(3),
                       rng.standard_normal(3))
    Xr, Yr = Xv[::-1], Yv[::-1]
    hv, expected = h0v, []
    for t in range(4):
        hv = np.tanh(hv * wv + Xr[t + 1] - Xr[t] * 0.5) + Yr[t]
        expected.append(hv)
    np.testing.assert_allclose(f(Xv, Yv, h0v, wv), np.array(expected), rtol=1e-12)


def test_several_recurrent_and_per_step_outputs_including_empty_loops():
    X, h0, s0, w = T.dmatrix("X"), T.dvector("h0"), T.dscalar("s0"), T.dvector("w")

    def step(x, h, s, w):
        return (h * w + x,                                    # recurrent vector
                s + (x * 2.0).sum(),                          # recurrent scalar
                x * 2.0 - h,                                  # per-step vector
                T.max(x) + s,                                 # per-step scalar
                x.dimshuffle(0, "x") * h.dimshuffle("x", 0),  # per-step matrix, shape (?, ?)
                x.dimshuffle("x", 0) + s)                     # per-step matrix, shape (1, ?)

    outs, _ = th.scan(step, sequences=X, outputs_info=[h0, s0, None, None, None, None], non_sequences=w)
    f, ref = _native_and_reference([X, h0, s0, w], outs)
    for n in (0, 1, 4):
        _compare(f, ref, rng.standard_normal((n, 3)), rng.standard_normal(3), 0.5, rng.standard_normal(3))
    # an empty loop's per-step outputs: (0,) + the static trailing shape, 0 where unknown
    empty = f(np.zeros((0, 3)), np.zeros(3), 0.0, np.zeros(3))
    assert [e.shape for e in empty] == [(0, 3), (0,), (0, 0), (0,), (0, 0, 0), (0, 1, 0)]


def test_result_minus_one_keeps_only_the_newest_values():
    x, k = T.fvector("x"), T.iscalar("k")

    def step(prior, x):
        return prior * x, prior + x

    (powers, sums), _ = th.scan(step, outputs_info=[T.ones_like(x), None], non_sequences=x, n_steps=k)
    f, ref = _native_and_reference([x, k], [powers[-1], powers[-2], sums[-3]])
    (node,) = _scan_nodes(f)
    assert node.op.spec.keep == (2, 3)  # the memory rule rewrote the loop
    source = "".join(s.source for s in build_program(f.maker.fgraph).segments)
    assert "np.empty((2,) + state_shape" in source, "the recurrent output lives in a 2-row ring"
    a = rng.uniform(0.9, 1.1, 10).astype("float32")
    for n in (3, 4, 1000):
        _compare(f, ref, a, n)


def test_keep_with_fewer_steps_than_kept_values_returns_initial_values_too():
    x, k = T.dvector("x"), T.iscalar("k")
    (powers, sums), _ = th.scan(lambda p, x: (p * x, p + x), outputs_info=[T.ones_like(x), None],
                                non_sequences=x, n_steps=k)
    node = powers.owner
    kept = node.op.with_spec(keep=(3, 2))(*node.inputs)  # the newest 3 states, the newest 2 sums
    f, ref = _native_and_reference([x, k], kept)
    a = rng.uniform(0.5, 1.5, 4)
    for n in (0, 1, 2, 3, 6):
        got = f(a, n)
        _compare(f, ref, a, n)
        assert got[0].shape == (min(n + 1, 3), 4)
        assert got[1].shape == ((min(n, 2), 4) if n else (0, 0))  # empty: 0 where the shape is not static
    np.testing.assert_allclose(f(a, 1)[0], np.stack([np.ones(4), a]), rtol=1e-12)  # initial value included


def test_no_allocation_per_step():
    from numba.core.runtime import _nrt_python, rtsys

    x, k = T.fvector("x"), T.iscalar("k")
    powers, _ = th.scan(lambda prior, x: prior * x, outputs_info=T.ones_like(x), non_sequences=x, n_steps=k)
    f, _ = _native_and_reference([x, k], [powers, powers[-1] * 2])
    a = np.linspace(0.999, 1.001, 10).astype("float32")
    was_enabled = _nrt_python.memsys_stats_enabled()
    _nrt_python.memsys_enable_stats()
    try:
        def allocations(n):
            before = rtsys.get_allocation_stats().alloc
            f(a, n)
            return rtsys.get_allocation_stats().alloc - before

        assert allocations(10) == allocations(2000)
    finally:
        if not was_enabled:
            _nrt_python.memsys_disable_stats()


def test_nested_scan():
    h0, x, k = T.dvector("h0"), T.dvector("x"), T.iscalar("k")

    def outer_step(h, x):
        inner, _ = th.scan(lambda q, x: q * x + 1.0, outputs_info=h, non_sequences=x, n_steps=3)
        return inner[-1]

    result, _ = th.scan(outer_step, outputs_info=h0, non_sequences=x, n_steps=k)
    f, ref = _native_and_reference([h0, x, k], result)
    a, b = rng.standard_normal(3), rng.uniform(-0.5, 0.5, 3)
    for n in (0, 1, 4):
        _compare(f, ref, a, b, n)
    h, expected = a, []
    for _ in range(4):
        for _ in range(3):
            h = h * b + 1.0
        expected.append(h)
    np.testing.assert_allclose(f(a, b, 4), np.array(expected), rtol=1e-12)


def test_gradient_of_a_small_rnn_runs_the_backward_scan_natively():
    X, h0, w, u = T.dmatrix("X"), T.dvector("h0"), T.dvector("w"), T.dvector("u")
    hs, _ = th.scan(lambda x, h, w, u: T.tanh(x * w + h * u), sequences=X, outputs_info=h0, non_sequences=[w, u])
    cost = (hs ** 2).sum() + hs[-1].sum()
    grads = T.grad(cost, [w, u, h0, X])
    f, ref = _native_and_reference([X, h0, w, u], [cost] + grads)
    assert len(_scan_nodes(f)) == 2  # the forward loop and the backward one
    for n in (1, 6):
        _compare(f, ref, rng.standard_normal((n, 3)), rng.standard_normal(3), rng.standard_normal(3),
                 rng.standard_normal(3))


def test_while_loop_stops_at_until_and_grows_its_histories():
    x, k = T.dvector("x"), T.iscalar("k")

    def step(p, x):
        return [p + x, p.sum()], until(p.sum() >= 3 * 5000.0)

    (states, sums), _ = th.scan(step, outputs_info=[T.zeros_like(x), None], non_sequences=x, n_steps=k)
    f, ref = _native_and_reference([x, k], [states, sums])
    ones = np.ones(3)
    for n in (0, 1, 10, 6000):  # 6000: until stops it after 5001 steps, past the first 4096 rows
        _compare(f, ref, ones, n)
    assert f(ones, 6000)[0].shape == (5001, 3)


def test_a_recurrent_state_that_changes_shape_raises():
    h0, x, k = T.dvector("h0"), T.dvector("x"), T.iscalar("k")
    result, _ = th.scan(lambda h, x: x * 2.0 + h[:1].sum() * 0.0, outputs_info=h0, non_sequences=x, n_steps=k)
    f, ref = _native_and_reference([h0, x, k], result)
    _compare(f, ref, np.ones(3), np.ones(3), 2)  # same shapes: fine
    with pytest.raises(ValueError) as caught:
        f(np.ones(2), np.ones(3), 2)
    # the native loop noticed (the reference backend then reran the call to report it)
    assert "another shape for recurrent output 0" in str(caught.value.__context__)


def test_shared_variable_updates_run_the_reference_loop():
    counter = th.shared(np.float64(0.0), "counter")
    x, k = T.dvector("x"), T.iscalar("k")
    result, updates = th.scan(lambda p: (p * 2.0, {counter: counter + 1.0}), outputs_info=x, n_steps=k)
    f = th.function([x, k], result, updates=updates, mode="NUMBA")
    (node,) = _scan_nodes(f)
    reason = dict(build_program(f.maker.fgraph).fallbacks)[node]
    assert "shared variables" in reason
    np.testing.assert_allclose(f(np.ones(2), 3), [[2, 2], [4, 4], [8, 8]])
    assert counter.get_value() == 3.0
    # the loop runs Scan.perform, so its inner function is the native one
    assert node.op._inner_runs_native and node.op._inner_mode().linker_name != "vm"
    assert node.op._inner_function().native


def test_a_lowered_scan_compiles_no_native_inner_function():
    A, k = T.dvector("A"), T.iscalar("k")
    result, _ = th.scan(lambda p, A: p * A, outputs_info=T.ones_like(A), non_sequences=A, n_steps=k)
    f, ref = _native_and_reference([A, k], result[-1])
    (node,) = _scan_nodes(f)
    np.testing.assert_allclose(f(np.full(3, 2.0), 4), 16.0)
    assert node.op._fn is None  # the native loop never asked for the inner function
    # the reference loop (tiered first calls, mode="VM") builds it on the reference backend
    (ref_node,) = _scan_nodes(ref)
    np.testing.assert_allclose(ref(np.full(3, 2.0), 4), 16.0)
    assert ref_node.op._fn is not None and not ref_node.op._fn.native
    assert node.op._inner_mode().linker_name == "vm"
