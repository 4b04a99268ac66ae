"""Helpers that generated code calls instead of writing the same code inline.

Numba compiles a segment in time that grows with its code, and with its
branches faster than linearly: in W5's training step (one segment of 1346
lines) each inline `if ...: raise ...` cost ~0.1 s, a copy loop nest ~0.1 s,
an inline index check and wrap ~0.04 s. The loops here are compiled
functions, typed and compiled once per signature (and cached on disk: the
same code serves every program); each use costs the segment one call, and a
few nanoseconds at run time (more when it passes and returns arrays:
reference counts), nothing per node. The checks are intrinsics: they write
their compare and branch into the caller's LLVM code, so that Numba's passes
see one statement and a check in a loop costs a predictable branch, not a
call.

The checks raise NativeValueError / NativeIndexError (ValueError and
IndexError) with a code, the digest of the check's message (`message_code`
registers it when the code is generated): a check carries an integer, not
its message's string. When a native program raises, the linker reruns the call on the
reference backend, whose error names the node and the user's line; the
native error, its context, says which native check failed.
"""
from __future__ import annotations

import hashlib

from numba import njit
from numba.core import types
from numba.extending import intrinsic

_jit = njit(cache=True, error_model="numpy")

#: the message of each check code (`message_code`)
MESSAGES: dict[int, str] = {}


def message_code(message: str) -> int:
    """A code for `message` that the same message gets in every process (cached code keeps its codes)."""
    code = int(hashlib.sha256(message.encode()).hexdigest()[:15], 16)
    MESSAGES[code] = message
    return code


class _CodedMessage:
    def __str__(self):
        code = self.args[0] if self.args else None
        return MESSAGES.get(code, f"a run-time check of arignote's native code failed (check {code})")


class NativeValueError(_CodedMessage, ValueError):
    """A shape or value check of native code failed; args[0] is the check's code (its message: MESSAGES)."""


class NativeIndexError(_CodedMessage, IndexError):
    """An index check of native code failed; args[0] is the check's code."""


def _check(error):
    """An intrinsic `check(failed, code)`: raise error(code) when the bool `failed` holds.

    An intrinsic, not a compiled function: its code (a compare and a branch to
    the raise) is written into the caller, so a check inside a loop costs a
    predictable branch per step (a call costs ~0.5 ns: 7% of W7's step), while
    Numba's passes still see one statement (an `if ...: raise` written in the
    source costs them two blocks: ~0.1 s each in W5's segment). `code` must be
    an integer literal: it becomes the exception's constant argument.
    """

    @intrinsic
    def check(typingctx, failed, code):
        if not isinstance(code, types.IntegerLiteral):
            return None
        value = code.literal_value

        def codegen(context, builder, signature, args):
            cond = context.cast(builder, args[0], signature.args[0], types.boolean)
            with builder.if_then(cond, likely=False):
                context.call_conv.return_user_exc(builder, error, (value,))
            return context.get_dummy_value()

        return types.none(failed, code), codegen

    return check


check_value = _check(NativeValueError)
check_index = _check(NativeIndexError)
check_value.__qualname__ = "check_value"  # module-level names: generated code that calls them stays cacheable
check_index.__qualname__ = "check_index"


@intrinsic
def wrapped_index(typingctx, index, length, code):
    """`index` (an integer) as an int64 made non-negative as NumPy's indexing does; NativeIndexError(code)
    unless -length <= index < length. An intrinsic, as the checks (`code`: an integer literal)."""
    if not (isinstance(index, types.Integer) and isinstance(length, types.Integer)
            and isinstance(code, types.IntegerLiteral)):
        return None
    value = code.literal_value

    def codegen(context, builder, signature, args):
        i = context.cast(builder, args[0], signature.args[0], types.int64)
        n = context.cast(builder, args[1], signature.args[1], types.int64)
        outside = builder.or_(builder.icmp_signed("<", i, builder.neg(n)), builder.icmp_signed(">=", i, n))
        with builder.if_then(outside, likely=False):
            context.call_conv.return_user_exc(builder, NativeIndexError, (value,))
        return builder.select(builder.icmp_signed("<", i, i.type(0)), builder.add(i, n), i)

    return types.int64(index, length, code), codegen


@_jit
def copy1(dst, src):
    for i in range(src.shape[0]):
        dst[i] = src[i]


@_jit
def copy2(dst, src):
    for i in range(src.shape[0]):
        for j in range(src.shape[1]):
            dst[i, j] = src[i, j]


@_jit
def copy3(dst, src):
    for i in range(src.shape[0]):
        for j in range(src.shape[1]):
            for k in range(src.shape[2]):
                dst[i, j, k] = src[i, j, k]


#: dst[...] = src (same shapes, checked by the caller), by rank
COPY = {1: copy1, 2: copy2, 3: copy3}


@_jit
def add_into1(dst, src):
    for i in range(src.shape[0]):
        dst[i] = dst[i] + src[i]


@_jit
def add_into2(dst, src):
    for i in range(src.shape[0]):
        for j in range(src.shape[1]):
            dst[i, j] = dst[i, j] + src[i, j]


@_jit
def add_into3(dst, src):
    for i in range(src.shape[0]):
        for j in range(src.shape[1]):
            for k in range(src.shape[2]):
                dst[i, j, k] = dst[i, j, k] + src[i, j, k]


#: dst[...] += src (same shapes, checked by the caller; the sum stored as dst's dtype, wrapping integers), by rank
ADD_INTO = {1: add_into1, 2: add_into2, 3: add_into3}


@_jit
def fill1(out, value):
    for i in range(out.shape[0]):
        out[i] = value


@_jit
def fill2(out, value):
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = value


@_jit
def fill3(out, value):
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            for k in range(out.shape[2]):
                out[i, j, k] = value


#: out[...] = value (a scalar of out's dtype), by rank
FILL = {1: fill1, 2: fill2, 3: fill3}


@_jit
def float_sum1(x, acc):
    """acc + the sum of vector x's elements in acc's float dtype (acc: the sum's start, 0), over eight
    independent partial sums (they break the chain of dependent additions: 4x faster on 1e6 float32)
    combined pairwise, as reduce.py's inline code does."""
    p0 = p1 = p2 = p3 = p4 = p5 = p6 = p7 = acc - acc
    n = x.shape[0]
    whole = n - n % 8
    for j in range(0, whole, 8):
        p0 += x[j]
        p1 += x[j + 1]
        p2 += x[j + 2]
        p3 += x[j + 3]
        p4 += x[j + 4]
        p5 += x[j + 5]
        p6 += x[j + 6]
        p7 += x[j + 7]
    for j in range(whole, n):
        p0 += x[j]
    return acc + (((p0 + p1) + (p2 + p3)) + ((p4 + p5) + (p6 + p7)))


def register(ctx, fn) -> str:
    """The generated code's name for the helper `fn` (bound in the program's namespace)."""
    name = f"_nk_{fn.__qualname__}"
    ctx.namespace.values.setdefault(name, fn)
    return name


__all__ = ["MESSAGES", "message_code", "NativeValueError", "NativeIndexError", "check_value", "check_index",
           "wrapped_index", "COPY", "ADD_INTO", "FILL", "float_sum1", "register"]
