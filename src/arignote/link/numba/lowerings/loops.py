"""Code-writing helpers the lowerings share: loop nests, shape tuples, run-time checks, conversions."""
from __future__ import annotations

from contextlib import ExitStack, contextmanager

from ..context import dtype_expr
from ..registry import NotLowerable


@contextmanager
def loop_nest(ctx, extents):
    """Nested `for` loops over `extents` (outermost first); yields the index names."""
    idx = [ctx.fresh("i") for _ in extents]
    with ExitStack() as stack:
        for i, n in zip(idx, extents):
            stack.enter_context(ctx.block(f"for {i} in range({n}):"))
        yield idx


def shape_tuple(entries) -> str:
    """Source of a shape tuple: '(a, b,)'."""
    return f"({', '.join(entries)},)" if entries else "()"


def check_convertible(src: str, dst: str) -> None:
    """Refuse the conversions whose results NumPy leaves to the platform (float -> integer)."""
    if src[0] in "fc" and dst[0] in "biu":
        raise NotLowerable(f"converting {src} to {dst} is platform-dependent for NaN and out-of-range values")
    if src.startswith("complex") and dst.startswith("float"):
        raise NotLowerable("complex to float conversion drops the imaginary part with a NumPy warning")


def convert(expr: str, src: str, dst: str) -> str:
    """`expr` (of dtype `src`) as NumPy's astype(dst) gives it (integers wrap around)."""
    if src == dst:
        return expr
    check_convertible(src, dst)
    if dst == "bool":
        return f"({expr} != 0)"
    return f"{dtype_expr(dst)}({expr})"
