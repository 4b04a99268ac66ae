"""The compiled helpers generated code calls (kernels.py), and the checks NodeContext writes with them.

Each helper is called directly on NumPy arrays (C-contiguous and strided
views: the generated code passes both) and compared with NumPy.
"""
import numpy as np
import pytest

from arignote.link.numba import kernels
from arignote.link.numba.context import Names, Namespace, NodeContext, SourceWriter

rng = np.random.default_rng(7)


def _views(shape, dtype="float32"):
    """A C-contiguous array and a strided view of the same shape."""
    base = rng.standard_normal(tuple(2 * s for s in shape)).astype(dtype)
    return np.ascontiguousarray(base[tuple(slice(None, s) for s in shape)]), base[tuple(slice(None, None, 2)
                                                                                      for _ in shape)]


def _driver(source: str, code: int):
    """A compiled function calling the helpers as generated code does (the code: a literal)."""
    from numba import njit

    namespace = {"check_value": kernels.check_value, "check_index": kernels.check_index,
                 "wrapped_index": kernels.wrapped_index}
    exec(source.replace("CODE", str(code)), namespace)
    return njit(error_model="numpy")(namespace["f"])


def test_checks_raise_their_registered_message_only_when_failed():
    code = kernels.message_code("x: dimension 0 differs")
    f = _driver("def f(a, b, index):\n    check_value(a.shape[0] != b.shape[0], CODE)\n"
                "    check_index((index < 0) | (index > 5), CODE)\n    return 1\n", code)
    assert f(np.ones(2), np.ones(2), 3) == 1
    with pytest.raises(ValueError, match="x: dimension 0 differs") as caught:
        f(np.ones(2), np.ones(3), 3)
    assert isinstance(caught.value, kernels.NativeValueError)
    with pytest.raises(IndexError, match="x: dimension 0 differs"):
        f(np.ones(2), np.ones(2), 6)


def test_wrapped_index_wraps_negative_indices_and_refuses_out_of_bounds_ones():
    code = kernels.message_code("an index is out of bounds for axis 0")
    f = _driver("def f(i, n):\n    return wrapped_index(i, n, CODE)\n", code)
    assert [f(i, 3) for i in (-3, -1, 0, 2)] == [0, 2, 0, 2]
    assert f(np.int32(-1), 3) == 2  # any integer index
    for bad in (3, -4, 100):
        with pytest.raises(IndexError, match="out of bounds for axis 0"):
            f(bad, 3)
    with pytest.raises(IndexError):
        f(0, 0)


@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_copy_add_into_and_fill_agree_with_numpy(ndim):
    shape = (3, 4, 2)[:ndim]
    for src in _views(shape):
        dst = rng.standard_normal(shape).astype("float32")
        want = dst + src
        kernels.ADD_INTO[ndim](dst, src)
        np.testing.assert_array_equal(dst, want)
        kernels.COPY[ndim](dst, src)
        np.testing.assert_array_equal(dst, src)
        kernels.FILL[ndim](dst, np.float32(2.5))
        np.testing.assert_array_equal(dst, np.full(shape, 2.5, "float32"))
    # integers wrap around as NumPy's in-place add does
    small = np.array([120, -128, 5], "int8").reshape((3,) + (1,) * (ndim - 1))
    want = small + small  # NumPy's int8 add wraps around
    kernels.ADD_INTO[ndim](small, small.copy())
    np.testing.assert_array_equal(small, want)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_float_sum_matches_a_float64_sum_for_every_tail_length(dtype):
    for n in list(range(18)) + [1001]:
        for x in _views((n,), dtype):
            got = kernels.float_sum1(x, np.float64(0))
            assert isinstance(got, float)
            np.testing.assert_allclose(got, np.sum(x.astype(np.float64)), rtol=1e-13, atol=1e-13)


def _context():
    return NodeContext(None, [], [], SourceWriter(), Namespace(), Names())


def test_consecutive_checks_join_into_one_call_with_both_messages():
    ctx = _context()
    ctx.check("a.shape[0] != n or b.shape[1] != 1", "first")
    ctx.check("c.shape[0] < 0", "second")
    ctx.check("i < -n or i >= n", "third", error="IndexError")  # another error: a call of its own
    ctx.emit("x = 1")
    ctx.check("d.shape[0] != 2", "fourth")  # after other code: a call of its own
    lines = [line.strip() for line in ctx.writer.lines]
    assert len(lines) == 4
    assert lines[0].startswith("_nk_check_value((a.shape[0] != n) | (b.shape[1] != 1) | (c.shape[0] < 0), ")
    assert lines[1].startswith("_nk_check_index((i < -n) | (i >= n), ")
    code = int(lines[0].split("), ")[-1].split(")")[0])
    assert kernels.MESSAGES[code] == "first; second"
    assert ctx.namespace.values["_nk_check_value"] is kernels.check_value


def test_a_condition_that_reads_memory_keeps_its_short_circuit_and_joins_nothing():
    ctx = _context()
    ctx.check("k < 0 or rows[k] > 3", "guarded read")
    ctx.check("c.shape[0] < 0", "next")
    lines = [line.strip() for line in ctx.writer.lines]
    assert len(lines) == 2 and lines[0].startswith("_nk_check_value(k < 0 or rows[k] > 3, ")


def test_a_division_in_a_condition_keeps_its_guard():
    ctx = _context()
    ctx.check("rest == 0 or size % rest != 0", "reshape: the element count does not fit")
    assert ctx.writer.lines[0].strip().startswith("_nk_check_value(rest == 0 or size % rest != 0, ")
