"""Checking a lowering: the same graph on the native and the reference backend.

For tests of lowerings (ours, or one you register for your own op): build a
graph once per key, compile it natively and on the reference VM, assert the
ops under test really run natively, and compare results.
"""
from __future__ import annotations

import numpy as np

_PAIRS: dict = {}


def native_pair(key, build, lowered: type | tuple):
    """(native, reference) functions of `build() -> (inputs, outputs)`, built once per `key`.

    Asserts that each op class of `lowered` has a node in the graph and that
    every such node runs natively (none falls back to its perform).
    """
    from ... import function
    from ...config import config
    from .program import build_program

    lowered = lowered if isinstance(lowered, tuple) else (lowered,)
    if key not in _PAIRS:
        inputs, outputs = build()
        with config.change_flags(compile_wait=True):
            native = function(inputs, outputs, mode="NUMBA")
        reference = function(inputs, outputs, mode="VM")
        ops = {type(n.op) for n in native.maker.fgraph.apply_nodes}
        missing = [cls.__name__ for cls in lowered if not any(issubclass(o, cls) for o in ops)]
        assert not missing, f"no {missing} node in the graph"
        falling = [(str(n.op), why) for n, why in build_program(native.maker.fgraph).fallbacks
                   if isinstance(n.op, lowered)]
        assert not falling, falling
        assert native.native
        _PAIRS[key] = native, reference
    return _PAIRS[key]


def assert_agree(got, want) -> None:
    """Same dtype and shape; equal values (floats: within the rounding of another summation order)."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype and got.shape == want.shape, (got.dtype, got.shape, want.dtype, want.shape)
    if got.dtype.kind in "fc":
        tol = 1e-5 if got.dtype in (np.float32, np.complex64) else 1e-12
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol, equal_nan=True)
    else:
        np.testing.assert_array_equal(got, want)


def run_both(pair, *args) -> None:
    """Both functions on copies of `args` (an op writing in place cannot hide a difference), compared."""
    native, reference = pair
    for got, want in zip(native(*[np.copy(a) for a in args]), reference(*[np.copy(a) for a in args])):
        assert_agree(got, want)


def native_raises(fn, *args) -> BaseException:
    """The call raises ValueError or IndexError, and the native program raised first.

    (The linker reruns a failing call on the reference backend for its message;
    the native error is that one's context: not a wrong answer, not the VM alone.)
    """
    try:
        fn(*args)
    except (ValueError, IndexError) as e:
        assert isinstance(e.__context__, (ValueError, IndexError)), "the native program did not raise"
        return e
    raise AssertionError("the call did not raise")
