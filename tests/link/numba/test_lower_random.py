"""Native random draws against the reference backend: MRG31k3p uniforms (and what is built on them)
give the same numbers and the same stream states; NumPy-generator draws run their perform."""
import numpy as np
import pytest

import arignote as th
import arignote.tensor as T
from arignote.link.numba.program import build_program
from arignote.link.numba.testing import assert_agree, native_pair, native_raises, run_both
from arignote.sandbox.multinomial import ChoiceFromUniform, MultinomialFromUniform
from arignote.sandbox.rng_mrg import M1, M2, MRG_RandomStreams, mrg_draw, mrg_uniform
from arignote.tensor.random import RandomStreams
from arignote.tensor.random.basic import RandomFunction
from arignote.tensor.type import TensorType


@pytest.fixture(autouse=True)
def compile_wait():
    with th.config.change_flags(compile_wait=True):
        yield


def _fallback_ops(fn) -> dict:
    """{op class: reason} of the nodes of `fn` that run their perform."""
    return {type(node.op): why for node, why in build_program(fn.maker.fgraph).fallbacks}


def _mrg_function(mode, dtype):
    """uniform, normal and binomial of a symbolic size (n, m) from fresh streams of one seed."""
    srng = MRG_RandomStreams(seed=4321)
    n, m = T.lscalar("n"), T.lscalar("m")
    outs = [srng.uniform((n, m), low=-1.0, high=3.0, dtype=dtype, nstreams=7),
            srng.normal((n, m), avg=1.0, std=2.0, dtype=dtype, nstreams=5),
            srng.binomial((n, m), p=0.3, dtype="int8", nstreams=4)]
    return th.function([n, m], outs, mode=mode), srng


_MRG_FUNCTIONS: dict = {}


def _mrg_pair(dtype):
    """(native function, its streams, reference function, its streams): same seed, same graph."""
    if dtype not in _MRG_FUNCTIONS:
        native, native_streams = _mrg_function("NUMBA", dtype)
        reference, reference_streams = _mrg_function("VM", dtype)
        _MRG_FUNCTIONS[dtype] = native, native_streams, reference, reference_streams
    return _MRG_FUNCTIONS[dtype]


def _states(srng):
    return [old.get_value() for old, *_ in srng.state_updates]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_mrg_draws_and_stream_states_equal_the_reference_call_after_call(dtype):
    native, native_streams, reference, reference_streams = _mrg_pair(dtype)
    assert native.native
    uniforms = [n for n in native.maker.fgraph.apply_nodes if isinstance(n.op, mrg_uniform)]
    assert len(uniforms) == 3 and mrg_uniform not in _fallback_ops(native)
    # 0 elements, sizes that are no multiple of any stream count, a single number, and repeats
    for size in [(3, 5), (0, 4), (13, 3), (1, 1), (2, 0), (3, 5), (11, 7)]:
        got, want = native(*size), reference(*size)
        for g, w in zip(got, want):
            assert g.dtype == w.dtype and g.shape == w.shape == size
        np.testing.assert_array_equal(got[0], want[0])  # uniform: bit-identical
        assert_agree(got[1], want[1])  # normal: Box-Muller's log and cos are each backend's own
        np.testing.assert_array_equal(got[2], want[2])  # binomial
        for g, w in zip(_states(native_streams), _states(reference_streams)):
            assert g.dtype == np.int32
            np.testing.assert_array_equal(g, w)
    # a bad size fails on both before any in-place state is overwritten
    before = _states(native_streams)
    with pytest.raises(Exception) as expected:
        reference(-1, 3)
    assert type(native_raises(native, -1, 3)) is type(expected.value)
    for g, w in zip(_states(native_streams), before):
        np.testing.assert_array_equal(g, w)
    # the streams really advanced: the same size draws new numbers
    first, second = native(3, 5)[0], native(3, 5)[0]
    assert not np.array_equal(first, second)


def _direct_uniforms():
    """mrg_uniform applied directly (not in place: rstate is an input the graph may not destroy)."""
    rstate, size2, size0 = T.imatrix("rstate"), T.lvector("size2"), T.lvector("size0")
    new2, u2 = mrg_uniform(TensorType("float32", shape=(None, None)))(rstate, size2)
    new0, u0 = mrg_uniform(TensorType("float64", shape=()))(rstate, size0)
    return [rstate, size2, size0], [new2, u2, new0, u0]


def _random_states(rng, n_streams):
    return np.concatenate([rng.integers(0, M1, (n_streams, 3)), rng.integers(0, M2, (n_streams, 3))],
                          axis=1).astype(np.int32)


def test_mrg_uniform_out_of_place_leaves_its_input_and_matches_the_perform():
    pair = native_pair("mrg_direct", _direct_uniforms, mrg_uniform)
    native, _ = pair
    assert all(not n.op.inplace for n in native.maker.fgraph.apply_nodes if isinstance(n.op, mrg_uniform))
    rng = np.random.default_rng(5)
    empty = np.zeros(0, dtype=np.int64)
    # states outside [0, m): the perform reduces them mod m, and so must the native loop (also in the
    # end state of a stream that gives no number: size (1, 1) uses only the first of two)
    odd = np.array([[-5, M1, 2 ** 31 - 1, -(2 ** 31), M2, M2 + 7]] * 2, dtype=np.int32)
    for state, size in [(_random_states(rng, 3), (4, 5)), (_random_states(rng, 6), (0, 3)),
                        (_random_states(rng, 1), (7, 1)), (odd, (2, 3)), (odd, (1, 1))]:
        kept = state.copy()
        new2, u2, new0, u0 = native(state, np.array(size, dtype=np.int64), empty)
        np.testing.assert_array_equal(state, kept)
        run_both(pair, state, np.array(size, dtype=np.int64), empty)
        # independently: the vectorised draw of the perform's module
        z, end = mrg_draw(state, size[0] * size[1])
        np.testing.assert_array_equal(new2, end)
        np.testing.assert_array_equal(u2, (z * np.float64(np.float32(4.6566126e-10))).astype(np.float32)
                                      .reshape(size))
        assert u0.shape == () and u0.dtype == np.float64


@pytest.mark.parametrize("state_shape, size2, size0", [
    ((2, 6), (3, -1), ()),  # a negative entry
    ((2, 6), (3, 4, 5), ()),  # three entries for a matrix
    ((2, 6), (3, 4), (1,)),  # one entry for a scalar
    ((2, 6), (2 ** 16, 2 ** 16), ()),  # more than 2**31 - 1 numbers
    ((2, 5), (3, 4), ()),  # a state of five ints
    ((0, 6), (3, 4), ()),  # no stream
])
def test_mrg_uniform_bad_size_or_state_raises_before_writing(state_shape, size2, size0):
    pair = native_pair("mrg_direct", _direct_uniforms, mrg_uniform)
    native, reference = pair
    state = np.arange(1, 1 + np.prod(state_shape), dtype=np.int32).reshape(state_shape)
    args = (state, np.array(size2, dtype=np.int64), np.array(size0, dtype=np.int64))
    with pytest.raises(Exception) as expected:
        reference(*args)
    error = native_raises(native, *args)
    assert type(error) is type(expected.value)
    np.testing.assert_array_equal(state, np.arange(1, 1 + np.prod(state_shape)).reshape(state_shape))


def test_mrg_multinomial_native_and_choice_without_replacement_on_its_perform():
    def build(mode):
        srng = MRG_RandomStreams(seed=77)
        p = T.matrix("p", dtype="float64")
        outs = [srng.multinomial(pvals=p, n=3, nstreams=3), srng.choice(size=2, p=p, replace=False, nstreams=2)]
        return th.function([p], outs, mode=mode), srng

    (native, native_streams), (reference, reference_streams) = build("NUMBA"), build("VM")
    assert native.native
    fallbacks = _fallback_ops(native)
    assert MultinomialFromUniform not in fallbacks and mrg_uniform not in fallbacks
    assert "pairwise" in fallbacks[ChoiceFromUniform]
    rng = np.random.default_rng(2)
    for rows, k in [(4, 3), (5, 10), (0, 3), (4, 3)]:
        p = rng.random((rows, k))
        p /= p.sum(axis=1, keepdims=True)
        for got, want in zip(native(p), reference(p)):
            assert got.dtype == want.dtype
            np.testing.assert_array_equal(got, want)
        for g, w in zip(_states(native_streams), _states(reference_streams)):
            np.testing.assert_array_equal(g, w)


def _categorical():
    p, unis, n = T.matrix("p", dtype="float32"), T.dvector("unis"), T.lscalar("n")
    return [p, unis, n], [MultinomialFromUniform("int16")(p, unis, n), ChoiceFromUniform(replace=True)(p, unis, n)]


def test_multinomial_and_choice_with_replacement_from_given_uniforms():
    pair = native_pair("categorical", _categorical, (MultinomialFromUniform, ChoiceFromUniform))
    rng = np.random.default_rng(3)
    for rows, k, n in [(4, 5, 3), (3, 1, 2), (0, 4, 5), (5, 0, 0), (6, 4, 0), (2, 40, 7)]:
        p = rng.random((rows, k)).astype("float32")
        p /= np.maximum(p.sum(axis=1, keepdims=True), 1)
        # uniforms hitting every case: below the first sum, above the total, exactly on a sum
        unis = rng.random(rows * n)
        unis[::3] = 0.9999
        if rows and k and n:
            unis[0] = np.cumsum(p[0], dtype=np.float64)[0]
        run_both(pair, p, unis, np.int64(n))
    # rows that are no distribution: negative and NaN probabilities
    p = np.array([[0.5, -0.2, 0.9], [np.nan, 0.3, 0.4]], dtype="float32")
    run_both(pair, p, rng.random(8), np.int64(4))


@pytest.mark.parametrize("rows, k, n_unis, n", [
    (3, 2, 7, 2),  # 7 uniforms for 3 rows x 2 samples
    (3, 2, 6, -3),  # a negative count
    (0, 2, 0, -1),  # a negative count of no rows
    (3, 0, 6, 2),  # no outcome to choose from (Choice's perform fails)
    (0, 0, 0, 2),
])
def test_categorical_bad_counts_raise(rows, k, n_unis, n):
    native, reference = native_pair("categorical", _categorical, (MultinomialFromUniform, ChoiceFromUniform))
    args = (np.full((rows, k), 0.5, dtype="float32"), np.random.default_rng(0).random(n_unis), np.int64(n))
    with pytest.raises(Exception) as expected:
        reference(*args)
    assert type(native_raises(native, *args)) is type(expected.value)


def test_numpy_generator_draws_run_their_perform_with_the_reference_numbers():
    def build(mode):
        srng = RandomStreams(seed=99)
        n = T.lscalar("n")
        u = srng.uniform((n, 3), low=-2.0, high=2.0)
        z = srng.normal((n,), avg=1.0, std=3.0)
        b = srng.binomial((n,), n=5, p=0.25)
        return th.function([n], [u * 2.0 + 1.0, z, b], mode=mode)

    native, reference = build("NUMBA"), build("VM")
    assert native.native and RandomFunction in _fallback_ops(native)
    for n in [4, 0, 7, 4]:  # each call advances the generators on both
        for got, want in zip(native(n), reference(n)):
            assert_agree(got, want)
