"""Elemwise and DimShuffle nodes that lower to compiled helpers (a fill, a copy) or to `.T`, against the
reference backend, on graphs compiled without rewrites (so that the nodes stay as built)."""
import numpy as np
import pytest

import arignote as th
import arignote.tensor as T
from arignote.compile.mode import Mode
from arignote.link.numba.program import build_program
from arignote.link.numba.testing import assert_agree
from arignote.scalar import table as S
from arignote.tensor.elemwise import Elemwise

_FUNCTIONS: dict = {}


def _functions():
    """(native, reference, native program source) of one graph holding every case, built once."""
    if not _FUNCTIONS:
        x, v = T.fmatrix("x"), T.fvector("v")
        t, k = T.dtensor3("t"), T.imatrix("k")
        three = T.constant(np.full((1, 1), 3.0, "float32"))
        seven = T.constant(np.full((1, 1), 7, "int32"))
        outs = [Elemwise(S.SECOND)(x, three),                 # a constant: a fill
                Elemwise(S.SECOND)(k, seven),
                Elemwise(S.MUL)(x),                           # the identity of one input: a copy
                Elemwise(S.MUL)(x.dimshuffle(1, 0)),          # ... of a transposed (F-layout) view
                Elemwise(S.MUL)(v.dimshuffle("x", 0)),        # stretches along dim 0: loops, not a copy
                Elemwise(S.ADD)(x.dimshuffle(1, 0), x.dimshuffle(1, 0)),
                Elemwise(S.ADD)(t.dimshuffle(2, 1, 0), t.dimshuffle(2, 1, 0)),
                Elemwise(S.ADD)(t.dimshuffle(1, 0, 2), t.dimshuffle(1, 0, 2))]
        with th.config.change_flags(compile_wait=True):
            native = th.function([x, v, t, k], outs, mode=Mode("numba", None))
        reference = th.function([x, v, t, k], outs, mode=Mode("vm", None))
        plan = build_program(native.maker.fgraph)
        assert native.native and not plan.fallbacks, plan.fallbacks
        _FUNCTIONS["f"] = native, reference, "".join(s.source for s in plan.segments)
    return _FUNCTIONS["f"]


def _args(n, m):
    rng = np.random.default_rng(n * 10 + m)
    return (rng.standard_normal((n, m)).astype("float32"), rng.standard_normal(m).astype("float32"),
            rng.standard_normal((n, m, 2)), rng.integers(-5, 5, (n, m)).astype("int32"))


@pytest.mark.parametrize("n, m", [(3, 4), (1, 5), (0, 2)])
def test_fills_copies_and_transposes_agree_with_the_reference(n, m):
    native, reference, _ = _functions()
    args = _args(n, m)
    got = native(*[np.copy(a) for a in args])
    for g, w in zip(got, reference(*args)):
        assert_agree(g, w)
    assert not any(np.shares_memory(g, a) for g in got for a in args), "a copy must not alias its input"


def test_the_cases_use_their_helpers():
    _, _, source = _functions()
    assert source.count("_nk_fill2(") == 2
    assert source.count("_nk_copy2(") == 2  # not the stretched row: it runs its loops
    assert ".T" in source and ".transpose((1, 0, 2,))" in source


def test_a_shape_mismatch_is_caught_by_the_native_check_with_its_message():
    x, y = T.fmatrix("x"), T.fmatrix("y")
    with th.config.change_flags(compile_wait=True):
        f = th.function([x, y], Elemwise(S.ADD)(x, y), mode=Mode("numba", None))
    assert f.native
    with pytest.raises(ValueError) as caught:
        f(np.ones((2, 3), "float32"), np.ones((2, 4), "float32"))
    assert "add: input 1 differs from input 0 in dimension 1" in str(caught.value.__context__)


def test_big_arrays_of_transcendental_math_take_the_reference_kernel_and_agree():
    from arignote.link.numba.lowerings.elemwise import BIG

    x = T.fmatrix("x")
    out = T.tanh(x) * 2 + 1
    with th.config.change_flags(compile_wait=True):
        native = th.function([x], out, mode="NUMBA")
    reference = th.function([x], out, mode="VM")
    assert native.native and "_big_" in "".join(s.source for s in build_program(native.maker.fgraph).segments)
    rng = np.random.default_rng(3)
    for rows in (3, BIG // 100 + 1):  # below, then above the threshold
        a = rng.standard_normal((rows, 100)).astype("float32")
        assert_agree(native(a), reference(a))
