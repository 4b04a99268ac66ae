"""MRG_RandomStreams (theano.sandbox.rng_mrg): the MRG31k3p generator, its streams and distributions."""
import pickle
import warnings

import numpy as np
import pytest

import arignote as th
import arignote.tensor as T
from arignote.sandbox import rng_mrg
from arignote.sandbox.multinomial import ChoiceFromUniform, MultinomialFromUniform
from arignote.sandbox.rng_mrg import M1, M2, MRG_RandomStreams, guess_n_streams, mrg_draw, mrg_uniform

# --- the generator, against a plain scalar transcription of the published recurrences ------------------


def _scalar_mrg31k3p(state, n):
    """n outputs of one MRG31k3p stream, one step at a time with Python ints (L'Ecuyer & Touzin 2000)."""
    x10, x11, x12, x20, x21, x22 = (int(v) for v in state)  # newest first
    out = []
    for _ in range(n):
        y1 = (2 ** 22 * x11 + (2 ** 7 + 1) * x12) % M1
        y2 = (2 ** 15 * x20 + (2 ** 15 + 1) * x22) % M2
        x10, x11, x12 = y1, x10, x11
        x20, x21, x22 = y2, x20, x21
        z = (y1 - y2) % M1
        out.append(z if z > 0 else M1)
    return out, [x10, x11, x12, x20, x21, x22]


@pytest.mark.parametrize("n_streams, n", [(1, 10), (3, 10), (4, 4), (5, 3), (7, 50), (6, 0)])
def test_vectorised_draw_matches_the_scalar_recurrence(n_streams, n):
    rng = np.random.default_rng(n_streams * 100 + n)
    state = np.concatenate([rng.integers(1, M1, (n_streams, 3)), rng.integers(1, M2, (n_streams, 3))], axis=1)
    z, new = mrg_draw(state.astype(np.int32), n)
    expected = np.zeros(n, dtype=np.int64)
    for s in range(n_streams):
        idx = np.arange(s, n, n_streams)
        vals, end = _scalar_mrg31k3p(state[s], len(idx))
        expected[idx] = vals
        np.testing.assert_array_equal(new[s], end)
    np.testing.assert_array_equal(z, expected)
    assert new.dtype == np.int32 and z.min(initial=1) >= 1 and z.max(initial=1) <= M1


def test_jump_matrices_are_powers_of_the_one_step_matrices():
    # A ** (2 ** k) by squaring equals stepping 2 ** k times (checked for small k)
    for k in range(5):
        a1 = rng_mrg._matpow2(rng_mrg.A1p0, k, M1)
        a2 = rng_mrg._matpow2(rng_mrg.A2p0, k, M2)
        state = [11, 22, 33, 44, 55, 66]
        _, stepped = _scalar_mrg31k3p(state, 2 ** k)
        np.testing.assert_array_equal(rng_mrg.multMatVect(np.asarray(state, dtype=np.int32), a1, M1, a2, M2),
                                      stepped)
    # the published 2**72 jump matrix of the first component starts with this row (SSJ / Theano)
    np.testing.assert_array_equal(rng_mrg.A1p72[0], [1516919229, 758510237, 499121365])


def test_substreams_are_2p72_apart():
    r = MRG_RandomStreams(seed=234)
    states = r.get_substream_rstates(4, "float64", inc_rstate=False)
    np.testing.assert_array_equal(states[0], [234] * 6)
    for i in range(1, 4):
        np.testing.assert_array_equal(states[i], rng_mrg.ff_2p72(states[i - 1]))
    np.testing.assert_array_equal(r.rstate, [234] * 6)
    r.get_substream_rstates(2, "float64")
    np.testing.assert_array_equal(r.rstate, rng_mrg.ff_2p134(np.asarray([234] * 6, dtype=np.int32)))


# --- equality with Theano 1.0.5 ----------------------------------------------------------------------------
def test_same_numbers_as_theano():
    # every expected number here was printed by Theano 1.0.5 for the same calls, in this order
    m = MRG_RandomStreams(seed=234)
    u = m.uniform((2, 2))
    np.testing.assert_array_equal(m.state_updates[-1][0].get_value(),
                                  [[234] * 6, [704833060, 506023153, 12815654, 2123355916, 1966261459, 499152958],
                                   [897902406, 1118436668, 316920929, 575077299, 634078435, 1750513707],
                                   [1397556363, 1686891983, 901941409, 1224144433, 122899485, 1420574134]])
    f = th.function([], u)
    np.testing.assert_array_equal(f(), [[0.44990408420562744, 0.3062468161806464],
                                        [0.7898354828357697, 0.8255442692898214]])
    np.testing.assert_array_equal(f(), [[0.44760830607265234, 0.0780163542367518],
                                        [0.8624823843128979, 0.46062918566167355]])
    np.testing.assert_array_equal(m.rstate, [1272953745, 1280499058, 107112410, 1182066990, 1703886948, 139386023])
    n = th.function([], m.normal((3, 3)))()
    np.testing.assert_allclose(n, [[-1.5264007654629297, 0.8991311576671305, -1.59153988303447],
                                   [0.08101888807296867, -0.6122115115526878, 1.3667862446718158],
                                   [-0.8051470282497547, 1.6560555796072547, 1.7324518038806207]],
                               rtol=1e-15, atol=0)
    u32 = th.function([], m.uniform((4, 5), dtype="float32"))()
    assert u32.dtype == np.float32
    np.testing.assert_array_equal(u32, np.asarray(
        [[0.71755195, 0.8797649, 0.74605715, 0.13265014, 0.9958226],
         [0.5801376, 0.73386765, 0.1213127, 0.33747596, 0.09703549],
         [0.77031904, 0.7991525, 0.94892085, 0.083464846, 0.3341624],
         [0.09938389, 0.03258291, 0.9858802, 0.77847135, 0.1806803]], dtype="float32"))
    k = T.iscalar()
    us = m.uniform((k, 3))
    np.testing.assert_array_equal(th.function([k], us)(4), [
        [0.5623051263391972, 0.6882159556262195, 0.6279786075465381],
        [0.8229668415151536, 0.6339232041500509, 0.5955246333032846],
        [0.8975190259516239, 0.41071272268891335, 0.7563841915689409],
        [0.07721561752259731, 0.4973802166059613, 0.1511101950891316]])
    assert m.state_updates[-1][0].get_value().shape == (15360, 6)
    np.testing.assert_array_equal(th.function([], m.binomial((3, 4), p=0.3))(),
                                  [[0, 1, 0, 0], [1, 1, 0, 0], [0, 0, 0, 0]])
    np.testing.assert_array_equal(
        th.function([], m.multinomial(pvals=[[0.2, 0.3, 0.5], [0.6, 0.2, 0.2]], n=3))(), [[1, 1, 1], [2, 1, 0]])
    np.testing.assert_array_equal(
        th.function([], m.choice(size=2, p=[[0.2, 0.3, 0.5], [0.6, 0.2, 0.2]], replace=False))(), [[2, 0], [0, 1]])
    np.testing.assert_array_equal(m.rstate, [1909031799, 1384750918, 703515704, 1695410819, 345032247, 1594030978])
    m.seed(99)
    np.testing.assert_array_equal(f(), [[0.19034403562545776, 0.898795974906534],
                                        [0.026468480937182903, 0.23388864193111658]])
    np.testing.assert_array_equal(m.get_substream_rstates(3, "float64"), [
        [1220644924, 1742193506, 1288787558, 1625831053, 228569896, 178829434],
        [259255173, 328972867, 24432851, 1135496766, 662266196, 984982061],
        [173548774, 616838503, 84662293, 882645514, 237678229, 77547157]])
    big = th.function([], m.uniform((1000,)))()
    np.testing.assert_array_equal(big[:3], [0.7952222963795066, 0.1513641714118421, 0.886440072208643])
    np.testing.assert_array_equal(big[-3:], [0.7146010277792811, 0.0753867793828249, 0.29486539028584957])


def test_same_float32_numbers_as_theano():
    # Theano 1.0.5 with floatX=float32, MRG_RandomStreams(seed=4321); float32 normals are not compared
    # exactly: NumPy's float32 log/cos/sin have changed by an ulp here and there since NumPy 1.18
    with th.change_flags(floatX="float32"):
        m = MRG_RandomStreams(seed=4321)
        outs = [m.uniform((3, 5)), m.normal((7,)), m.normal((2, 3), avg=1.0, std=2.0, dtype="float64"),
                m.truncated_normal((4, 4)), m.uniform((2, 2), low=-1, high=3),
                m.multinomial(pvals=np.asarray([[0.1, 0.2, 0.7], [0.3, 0.3, 0.4]], dtype="float32"), n=4),
                m.choice(size=3, p=np.asarray([[0.1, 0.2, 0.3, 0.4], [0.25, 0.25, 0.25, 0.25]], dtype="float32"),
                         replace=False),
                m.binomial((2, 5), p=0.7, dtype="int8"), m.uniform((40,), nstreams=3), m.uniform((3,), dtype="float16")]
        got = th.function([], outs)()
    assert [g.dtype for g in got] == ["float32", "float32", "float64", "float32", "float32", "int64", "int64",
                                      "int8", "float32", "float16"]
    np.testing.assert_array_equal(got[0][0], np.asarray([0.30784422, 0.7745904, 0.2654508, 0.8294541, 0.37113607],
                                                        dtype="float32"))
    np.testing.assert_allclose(got[1], [1.4786632, -0.26285517, 0.61575335, 0.88596904, -0.26759994, 1.4347584,
                                        -2.1790395], rtol=3e-7)
    np.testing.assert_allclose(got[2], [[0.1539478626, 3.9998320352, 1.4528502723],
                                        [3.2519099701, 0.5941987488, 2.93677334]], rtol=1e-9)
    np.testing.assert_allclose(got[3][0], [-0.16726507, -0.88513273, 1.00569, -0.6409521], rtol=3e-7)
    np.testing.assert_array_equal(got[4], np.asarray([[0.7372086, 1.7642236], [-0.032328665, 0.014764905]],
                                                     dtype="float32"))
    np.testing.assert_array_equal(got[5], [[1, 1, 2], [2, 2, 0]])
    np.testing.assert_array_equal(got[6], [[3, 0, 1], [1, 2, 3]])
    np.testing.assert_array_equal(got[7], [[1, 1, 1, 0, 1], [0, 1, 1, 1, 0]])
    np.testing.assert_array_equal(got[8][:3], np.asarray([0.6093565, 0.39996108, 0.1292329], dtype="float32"))
    np.testing.assert_array_equal(got[9], np.asarray([0.9004, 0.7886, 0.7715], dtype="float16"))


# --- streams mechanics ----------------------------------------------------------------------------------
def test_stream_attributes_and_updates():
    m = MRG_RandomStreams(seed=7)
    u = m.uniform((12,))
    rstate, new_rstate, size, nstreams = m.state_updates[-1]
    # (as in Theano, the raw sample under u * (high - low) + low carries .rstate and .update)
    raw = new_rstate.owner.outputs[1]
    assert raw.rstate is rstate and raw.update == (rstate, new_rstate)
    assert rstate.default_update is new_rstate
    assert rstate.get_value().shape == (2, 6) and rstate.get_value().dtype == np.int32
    assert size == (12,) and nstreams is None
    assert m.updates() == m.state_updates
    f = th.function([], u)
    a, b = f(), f()
    assert not np.array_equal(a, b)
    g = th.function([], u, no_default_updates=True)
    np.testing.assert_array_equal(g(), g())
    np.testing.assert_array_equal(th.function([], u + u - 2 * u)(), np.zeros(12))


def test_guess_n_streams():
    assert guess_n_streams((2, 2)) == 4
    assert guess_n_streams((10, 20)) == 33
    assert guess_n_streams((1000, 1000)) == 15360
    assert guess_n_streams((T.iscalar(),)) == 15360
    with pytest.warns(UserWarning, match="guessing"):
        guess_n_streams(T.lvector(), warn=True)


def test_nstreams_argument():
    m = MRG_RandomStreams(seed=7)
    m.uniform((10,), nstreams=3)
    assert m.state_updates[-1][0].get_value().shape == (3, 6)
    assert m.state_updates[-1][3] == 3


def test_seed_reproduces_and_reseeds_all_streams():
    def build(seed):
        m = MRG_RandomStreams(seed=seed)
        return m, th.function([], [m.uniform((5,)), m.normal((4,)), m.binomial((3,), p=0.5)])

    m1, f1 = build(11)
    m2, f2 = build(11)
    first = f1()
    for a, b in zip(first, f2()):
        np.testing.assert_array_equal(a, b)
    f1()
    m1.seed()
    for a, b in zip(f1(), first):
        np.testing.assert_array_equal(a, b)
    m1.seed(12)
    x = f1()
    m1.seed(12)
    for a, b in zip(f1(), x):
        np.testing.assert_array_equal(a, b)


def test_seed_validation():
    with pytest.raises(ValueError, match="should not be 0"):
        MRG_RandomStreams(seed=0)
    with pytest.raises(ValueError, match="less than|between"):
        MRG_RandomStreams(seed=M2)
    with pytest.raises(ValueError, match="first 3 values"):
        MRG_RandomStreams(seed=[0, 0, 0, 1, 2, 3])
    with pytest.raises(ValueError, match="last 3 values"):
        MRG_RandomStreams(seed=[1, 2, 3, 0, 0, 0])
    with pytest.raises(TypeError, match="1 integer or 6 integers"):
        MRG_RandomStreams(seed=[1, 2])
    np.testing.assert_array_equal(MRG_RandomStreams(seed=[1, 2, 3, 4, 5, 6]).rstate, [1, 2, 3, 4, 5, 6])


def test_pickled_function_keeps_mrg_state():
    m = MRG_RandomStreams(seed=3)
    f = th.function([], m.normal((5,)))
    g = pickle.loads(pickle.dumps(f))
    np.testing.assert_array_equal(g(), f())


# --- distributions ----------------------------------------------------------------------------------------
def test_uniform_normal_binomial_moments():
    m = MRG_RandomStreams(seed=2024)
    n = 200000
    u = m.uniform((n,), low=-1.0, high=3.0)
    g = m.normal((n,), avg=-2.0, std=0.5)
    b = m.binomial((n,), p=0.3)
    t = m.truncated_normal((n,), std=1.0)
    vu, vg, vb, vt = th.function([], [u, g, b, t])()
    assert vu.min() > -1.0 and vu.max() < 3.0
    assert abs(vu.mean() - 1.0) < 0.02 and abs(vu.var() - 16 / 12) < 0.02
    assert abs(vg.mean() + 2.0) < 0.01 and abs(vg.std() - 0.5) < 0.01
    assert set(np.unique(vb)) == {0, 1} and abs(vb.mean() - 0.3) < 0.01 and vb.dtype == np.int64
    bound = 2.0 / 0.87962566103423978
    # Theano's redraw of out-of-range values keeps their angle, so the result's std is about 1.011,
    # not exactly std (Theano 1.0.5 gives 1.0114 for seed 2024 too)
    assert np.abs(vt).max() <= bound + 1e-9 and abs(vt.std() - 1.0) < 0.02


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_uniform_dtypes_stay_in_the_open_interval(dtype):
    m = MRG_RandomStreams(seed=5)
    v = th.function([], m.uniform((50000,), dtype=dtype))()
    assert v.dtype == dtype and v.min() > 0 and v.max() < 1
    assert abs(float(v.astype("float64").mean()) - 0.5) < 0.01


def test_odd_and_symbolic_normal_sizes():
    m = MRG_RandomStreams(seed=5)
    k = T.iscalar("k")
    a = m.normal((3, 5))
    b = m.normal((k, 3))
    c = m.normal(7)
    assert a.type.shape == (3, 5) or a.ndim == 2
    va, vb, vc = th.function([k], [a, b, c])(3)
    assert va.shape == (3, 5) and vb.shape == (3, 3) and vc.shape == (7,)


def test_multinomial_and_choice_statistics():
    m = MRG_RandomStreams(seed=8)
    pv = np.array([[0.1, 0.6, 0.3]] * 4000)
    counts = th.function([], m.multinomial(pvals=pv, n=2))()
    assert counts.shape == (4000, 3) and (counts.sum(axis=1) == 2).all()
    np.testing.assert_allclose(counts.mean(axis=0) / 2, [0.1, 0.6, 0.3], atol=0.02)
    ch = th.function([], m.choice(size=2, p=pv, replace=False))()
    assert ch.shape == (4000, 2) and (ch[:, 0] != ch[:, 1]).all()
    np.testing.assert_allclose(np.bincount(ch[:, 0], minlength=3) / 4000, [0.1, 0.6, 0.3], atol=0.03)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        wo = m.multinomial_wo_replacement(pvals=pv[:3], n=3)
    assert np.array_equal(np.sort(th.function([], wo)(), axis=1), np.tile([0, 1, 2], (3, 1)))


def test_from_uniform_ops_directly():
    pvals = T.dmatrix("pvals")
    unis = T.dvector("unis")
    f = th.function([pvals, unis], MultinomialFromUniform("int64")(pvals, unis, 2))
    out = f(np.array([[0.2, 0.5, 0.3], [0.5, 0.5, 0.0]]), np.array([0.1, 0.9, 0.69, 0.4]))
    # row 0 takes u = 0.1 (outcome 0) and 0.69 (outcome 1); row 1 takes 0.9 and 0.4 (outcomes 1 and 0)
    np.testing.assert_array_equal(out, [[1, 1, 0], [1, 1, 0]])
    g = th.function([pvals, unis], ChoiceFromUniform(odtype="int64")(pvals, unis, 2))
    out = g(np.array([[0.2, 0.5, 0.3]]), np.array([0.1, 0.9]))
    # first pick 0; then p = [0, .625, .375] and 0.9 picks 2
    np.testing.assert_array_equal(out, [[0, 2]])
    g3 = th.function([pvals, unis], ChoiceFromUniform(odtype="int64")(pvals, unis, 3))
    with pytest.raises(ValueError, match="without replacement"):
        g3(np.array([[0.5, 0.5]]), np.array([0.1, 0.2, 0.3]))
    with pytest.raises(ValueError, match="uniforms"):
        f(np.array([[0.5, 0.5]]), np.array([0.1]))
    with pytest.raises(NotImplementedError, match="matrix"):
        MultinomialFromUniform()(T.dvector(), unis)


def test_mrg_api_errors():
    m = MRG_RandomStreams(seed=1)
    with pytest.raises(NotImplementedError, match="n > 1"):
        m.binomial((2,), n=3)
    with pytest.raises(NotImplementedError, match="without replacement"):
        m.choice(size=1, p=[[0.5, 0.5]])
    with pytest.raises(ValueError, match="does not use size"):
        m.multinomial(size=(2,), pvals=[[0.5, 0.5]])
    with pytest.raises(TypeError, match="pvals"):
        m.multinomial()
    with pytest.raises(ValueError, match="<= 0"):
        m.uniform((0, 2))
    with pytest.raises(TypeError, match="size must be"):
        m.uniform("big")
    with pytest.raises(TypeError, match="unexpected keyword"):
        m.uniform((2,), colour="red")


def test_gradient_through_mrg_params_is_undefined():
    from arignote.gradient import NullTypeGradError

    m = MRG_RandomStreams(seed=1)
    lo = T.dscalar("lo")
    with pytest.raises(NullTypeGradError):
        T.grad(m.uniform((3,), low=lo).sum(), lo)


def test_mrg_uniform_op_checks_its_state():
    rs = th.shared(np.zeros((2, 5), dtype=np.int32))
    new, u = mrg_uniform.new(rs, None, "float64", (3,))
    with pytest.raises(ValueError, match=r"shape \(n_streams, 6\)"):
        th.function([], u)()
    with pytest.raises(TypeError, match="int32 matrix"):
        mrg_uniform.new(th.shared(np.zeros((2, 6))), None, "float64", (3,))


def test_sandbox_modules_import():
    import theano.sandbox.cuda as cuda
    import theano.sandbox.gpuarray as gpuarray
    from theano.sandbox.rng_mrg import MRG_RandomStreams as M

    assert M is MRG_RandomStreams
    assert cuda.cuda_enabled is False and gpuarray.cuda_enabled is False
    assert "device=cuda" in cuda.__doc__
    # Theano 1.0.5 has no rng_mrg.RandomStreams alias; neither do we
    assert not hasattr(rng_mrg, "RandomStreams")
