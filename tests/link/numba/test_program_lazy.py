"""ifelse in the native program: an `if` that computes only the chosen branch, natively."""
import numpy as np
import pytest

import arignote as th
import arignote.tensor as T
from arignote import config
from arignote.ifelse import ifelse
from arignote.link.numba.program import build_program

RNG = np.random.default_rng(3)


@pytest.fixture(autouse=True)
def native_now():
    with config.change_flags(compile_wait=True):
        yield


def both(inputs, outputs, **kw):
    f = th.function(inputs, outputs, mode="NUMBA", **kw)
    ref = th.function(inputs, outputs, mode="VM", **kw)
    assert f.native, "the graph with ifelse should run natively"
    return f, ref


def test_the_branch_not_taken_never_runs_and_the_rest_is_native(explode):
    a, b = T.dscalars("a", "b")
    x = T.dvector("x")
    out = ifelse(T.lt(a, b), T.mean(x) * 2, explode(T.sum(x)))
    f, ref = both([a, b, x], out)
    plan = build_program(f.maker.fgraph)
    assert [type(n.op).__name__ for n, _ in plan.fallbacks] == ["Explode"]
    v = RNG.normal(size=5)
    assert f(1.0, 2.0, v) == ref(1.0, 2.0, v) == pytest.approx(2 * v.mean())
    with pytest.raises(AssertionError, match="not taken"):
        f(3.0, 2.0, v)


def test_a_value_both_branches_read_is_computed_once_before_the_if():
    c = T.iscalar("c")
    x = T.dvector("x")
    s = T.sum(x ** 2)
    lo, hi = ifelse(c, [s * 2, x + s], [s - 1, x * s])
    f, ref = both([c, x], [lo, hi])
    v = RNG.normal(size=4)
    for cond in (0, 1, 5):
        for got, want in zip(f(cond, v), ref(cond, v)):
            np.testing.assert_allclose(got, want)


def test_nested_ifelse_and_sibling_ifelses_sharing_a_branch_value(explode):
    c1, c2 = T.iscalars("c1", "c2")
    x = T.dvector("x")
    shared_work = T.exp(x).sum()
    inner = ifelse(c2, shared_work + 1, explode(x.sum()))
    out1 = ifelse(c1, inner, x.max())
    out2 = ifelse(c2, shared_work * 3, x.min())
    f, ref = both([c1, c2, x], [out1, out2])
    v = RNG.normal(size=6)
    for conds in ((1, 1), (0, 1), (0, 0)):
        for got, want in zip(f(*conds, v), ref(*conds, v)):
            np.testing.assert_allclose(got, want)
    with pytest.raises(AssertionError, match="not taken"):
        f(1, 0, v)


def test_outputs_never_alias_the_branch_values_they_return():
    c = T.iscalar("c")
    x, y = T.dvectors("x", "y")
    f, _ = both([c, x, y], [ifelse(c, x, y), x.sum()])
    vx, vy = RNG.normal(size=3), RNG.normal(size=3)
    out, total = f(1, vx, vy)
    np.testing.assert_array_equal(out, vx)
    assert total == pytest.approx(vx.sum())
    out[:] = 0
    np.testing.assert_array_equal(f(0, vx, vy)[0], vy)
    assert vx.all()  # the input was not handed out


def test_ifelse_with_shared_updates_matches_the_reference():
    w = th.shared(RNG.normal(size=3), name="w")
    w_ref = th.shared(w.get_value().copy(), name="w")
    c = T.iscalar("c")
    x = T.dvector("x")

    def build(weights, mode):
        step = ifelse(c, weights - 0.1 * x, weights * 0.5)
        return th.function([c, x], T.sum(step), updates=[(weights, step)], mode=mode)

    f, ref = build(w, "NUMBA"), build(w_ref, "VM")
    assert f.native
    for cond in (1, 0, 1, 1, 0):
        v = RNG.normal(size=3)
        np.testing.assert_allclose(f(cond, v), ref(cond, v))
        np.testing.assert_allclose(w.get_value(), w_ref.get_value())
