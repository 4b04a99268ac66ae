"""ifelse is lazy: the branch not taken is never computed; switch is eager."""
import numpy as np
import pytest

import arignote as th
import arignote.tensor as T
from arignote.gradient import verify_grad
from arignote.ifelse import ifelse


def test_only_the_chosen_branch_runs(explode):
    a, b = T.dscalars('a', 'b')
    x = T.dvector('x')
    out = ifelse(T.lt(a, b), T.mean(x), explode(T.sum(x)))
    f = th.function([a, b, x], out)
    assert f(1.0, 2.0, np.array([1.0, 3.0])) == 2.0
    with pytest.raises(AssertionError, match="not taken"):
        f(3.0, 2.0, np.array([1.0, 3.0]))


def test_switch_is_eager(explode):
    a = T.dscalar('a')
    x = T.dvector('x')
    f = th.function([a, x], T.switch(T.lt(a, 0), x.sum(), explode(x.sum())))
    with pytest.raises(AssertionError):
        f(-1.0, np.ones(2))


def test_several_outputs_and_values():
    c = T.iscalar('c')
    x = T.dvector('x')
    lo, hi = ifelse(c, [x * 2, x.sum()], [x * 3, x.max()])
    f = th.function([c, x], [lo, hi])
    r = f(1, np.array([1.0, 2.0]))
    np.testing.assert_array_equal(r[0], [2.0, 4.0])
    assert r[1] == 3.0
    r = f(0, np.array([1.0, 2.0]))
    np.testing.assert_array_equal(r[0], [3.0, 6.0])
    assert r[1] == 2.0


def test_outputs_do_not_alias_inputs():
    c = T.iscalar('c')
    x = T.dvector('x')
    value = np.ones(2)
    out = th.function([c, x], ifelse(c, x, x * 2))(1, value)
    out[0] = 9.0
    assert value[0] == 1.0


def test_gradient_flows_to_the_chosen_branch():
    c = T.iscalar('c')
    x = T.dscalar('x')
    y = ifelse(c, x ** 2, x ** 3)
    g = th.function([c, x], T.grad(y, x))
    assert g(1, 2.0) == 4.0
    assert g(0, 2.0) == 12.0
    verify_grad(lambda v: ifelse(T.gt(v.sum(), 0), T.tanh(v), v * 3), [np.array([0.5, 0.2])])


def test_type_mismatch_is_refused():
    c = T.iscalar('c')
    with pytest.raises(TypeError, match="differ in type"):
        ifelse(c, T.dvector('a'), T.fvector('b'))
    with pytest.raises(TypeError, match="condition must be a scalar"):
        ifelse(T.dvector('v'), T.dscalar('a'), T.dscalar('b'))


def test_import_path():
    import theano.ifelse

    assert theano.ifelse.ifelse is ifelse


def test_a_branch_never_overwrites_a_value_the_other_outputs_still_read():
    # s * 2 may be computed in place on s; x + s in the same branch must read s first
    c = T.iscalar('c')
    x = T.dvector('x')
    s = T.sum(x ** 2)
    lo, hi = ifelse(c, [s * 2, x + s], [s - 1, x * s])
    f = th.function([c, x], [lo, hi])
    v = np.arange(1.0, 5.0)
    total = (v ** 2).sum()
    for cond, (want_lo, want_hi) in ((1, (2 * total, v + total)), (0, (total - 1, v * total))):
        got_lo, got_hi = f(cond, v)
        np.testing.assert_allclose(got_lo, want_lo)
        np.testing.assert_allclose(got_hi, want_hi)
