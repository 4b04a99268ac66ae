"""BLAS products for the generated code: Gemm, Gemv, Ger and Dot with the reference backend's semantics.

The generated code calls `gemm`, `ger` and `vdot` here, plain @njit functions
shared by every segment. Its arrays reach them through the view intrinsics
`as_matrix`, `as_column` and `as_row`, which retype any array (C-contiguous or
not, 1-d or 2-d) as a 2-d array of layout 'A' without copying: so each helper
is compiled once per dtype in a process, not once per combination of its
arguments' layouts and ranks (a Numba compile costs ~0.1 s per function).
Gemv is `gemm` with vectors seen as one-column matrices, Dot is `gemm` with
`accumulate=False`.

BLAS is reached through `numba_xxgemm`, `numba_xxgemv` and `numba_xxdot`, the
wrappers of Numba's helper library behind its own `np.dot`: the BLAS of
`scipy.linalg.cython_blas`, which Numba's `np.dot` already used (no second
BLAS in the process). They are C symbols LLVM resolves by name, so code
calling them can be cached on disk, where a ctypes function pointer (an
address of this process) could not. Unlike `np.dot`, alpha, beta and the
transpose flags are passed: `b * z + a * dot(x, y)` is one xGEMM (xGEMV when
a side is 1) writing into z or its copy, with no product array and no second
pass; an operand seen through a transpose is read in place with the 'T' flag,
where `np.dot` would copy it first.

Values are the reference backend's (tensor/blas_ops.py), that is NumPy's
`b * z + a * dot(x, y)`: a NaN or inf in z propagates even when b == 0, one in
x or y even when a == 0. BLAS skips z when beta == 0 and the product when
alpha == 0, so those cases (and an empty inner dimension, where BLAS may
return before scaling by beta) compute the product into a temporary first.
An operand BLAS cannot read (strides neither row- nor column-major, negative
ones) is copied to a contiguous array; an output that overlaps an operand, or
that BLAS cannot write, gets a temporary. Sizes beyond BLAS's integers
(2**31 - 1 with the usual LP64 BLAS) run plain loops.

The callers check the operands' shapes first (the lowerings emit the checks):
nothing here reads or writes out of bounds when they agree.
"""
from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.core.imputils import impl_ret_borrowed
from numba.extending import intrinsic
from numba.np import linalg as _linalg
from numba.np.arrayobj import populate_array

#: the largest size or leading dimension the BLAS wrappers take (their Fortran integer)
BLAS_INT_MAX = int(np.iinfo(getattr(_linalg, "F_INT_nptype", np.int32)).max)

_jit = njit(cache=True, error_model="numpy")

_N, _T = ord("N"), ord("T")

_CHAR = ir.IntType(8)
_VOIDP = ir.IntType(8).as_pointer()
_STATUS = ir.IntType(32)
_INTP = cgutils.intp_t


# --- views: any array as a 2-d array of layout 'A' ------------------------------------------------

def _view_codegen(where: str):
    """Codegen of a view intrinsic: the same structure retyped ('matrix'), or a 1-d array's
    (n,) shape and stride seen as (n, 1) ('column') or (1, n) ('row')."""

    def codegen(context, builder, sig, args):
        (value,) = args
        if where == "matrix":
            return impl_ret_borrowed(context, builder, sig.return_type, value)
        src = context.make_array(sig.args[0])(context, builder, value)
        (length,) = cgutils.unpack_tuple(builder, src.shape, 1)
        (stride,) = cgutils.unpack_tuple(builder, src.strides, 1)
        one = ir.Constant(_INTP, 1)
        shape = (length, one) if where == "column" else (one, length)
        dst = context.make_array(sig.return_type)(context, builder)
        # the stride of the length-1 axis never addresses an element: any value does
        populate_array(dst, data=src.data, shape=cgutils.pack_array(builder, shape),
                       strides=cgutils.pack_array(builder, (stride, stride)), itemsize=src.itemsize,
                       meminfo=src.meminfo, parent=src.parent)
        return impl_ret_borrowed(context, builder, sig.return_type, dst._getvalue())

    return codegen


def _view_type(a, ndim: int):
    if not isinstance(a, types.Array) or a.ndim != ndim:
        return None
    return types.Array(a.dtype, 2, "A")


@intrinsic
def as_matrix(typingctx, a):
    """A matrix typed Array(dtype, 2, 'A'), whatever its layout and flags: the same view."""
    ret = _view_type(a, 2)
    return (ret(a), _view_codegen("matrix")) if ret is not None else None


@intrinsic
def as_column(typingctx, v):
    """A vector of length n as an (n, 1) matrix view."""
    ret = _view_type(v, 1)
    return (ret(v), _view_codegen("column")) if ret is not None else None


@intrinsic
def as_row(typingctx, v):
    """A vector of length n as a (1, n) matrix view."""
    ret = _view_type(v, 1)
    return (ret(v), _view_codegen("row")) if ret is not None else None


@intrinsic
def _flat(typingctx, a):
    """A C-contiguous array's elements as a 1-d C array (the caller checks the contiguity): loops
    over it vectorise, where indexing an 'A' array goes through its strides."""
    ret = types.Array(a.dtype, 1, "C")

    def codegen(context, builder, sig, args):
        src = context.make_array(sig.args[0])(context, builder, args[0])
        dst = context.make_array(sig.return_type)(context, builder)
        populate_array(dst, data=src.data, shape=cgutils.pack_array(builder, [src.nitems]),
                       strides=cgutils.pack_array(builder, [src.itemsize]), itemsize=src.itemsize,
                       meminfo=src.meminfo, parent=src.parent)
        return impl_ret_borrowed(context, builder, sig.return_type, dst._getvalue())

    return ret(a), codegen


# --- the BLAS entry points -----------------------------------------------------------------------

def _converters(context, builder, sig, args, dtype):
    tys = sig.args

    def pointer(i):  # an array's data pointer: its first element, wherever the view starts
        return builder.bitcast(context.make_array(tys[i])(context, builder, args[i]).data, _VOIDP)

    def size(i):
        return context.cast(builder, args[i], tys[i], types.intp)

    def char(i):
        return builder.trunc(size(i), _CHAR)

    def by_reference(i):  # BLAS takes its scalars by address: a stack slot of the operands' dtype
        value = context.cast(builder, args[i], tys[i], dtype)
        return builder.bitcast(cgutils.alloca_once_value(builder, value), _VOIDP)

    kind = ir.Constant(_CHAR, ord(_linalg.get_blas_kind(dtype)))
    return pointer, size, char, by_reference, kind


@intrinsic
def _xgemm(typingctx, transa, transb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc):
    """Fortran xGEMM: c = alpha * op(a) @ op(b) + beta * c, column-major (returns 0 when it ran)."""
    _linalg.ensure_blas()
    dtype = c.dtype
    sig = types.int32(transa, transb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)

    def codegen(context, builder, sig, args):
        pointer, size, char, by_ref, kind = _converters(context, builder, sig, args, dtype)
        fnty = ir.FunctionType(_STATUS, [_CHAR, _CHAR, _CHAR, _INTP, _INTP, _INTP, _VOIDP, _VOIDP, _INTP,
                                         _VOIDP, _INTP, _VOIDP, _VOIDP, _INTP])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "numba_xxgemm")
        return builder.call(fn, [kind, char(0), char(1), size(2), size(3), size(4), by_ref(5), pointer(6),
                                 size(7), pointer(8), size(9), by_ref(10), pointer(11), size(12)])

    return sig, codegen


@intrinsic
def _xgemv(typingctx, trans, m, n, alpha, a, lda, x, beta, y):
    """Fortran xGEMV with unit increments: y = alpha * op(a) @ x + beta * y (returns 0 when it ran)."""
    _linalg.ensure_blas()
    dtype = y.dtype
    sig = types.int32(trans, m, n, alpha, a, lda, x, beta, y)

    def codegen(context, builder, sig, args):
        pointer, size, char, by_ref, kind = _converters(context, builder, sig, args, dtype)
        fnty = ir.FunctionType(_STATUS, [_CHAR, _CHAR, _INTP, _INTP, _VOIDP, _VOIDP, _INTP, _VOIDP, _VOIDP,
                                         _VOIDP])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "numba_xxgemv")
        return builder.call(fn, [kind, char(0), size(1), size(2), by_ref(3), pointer(4), size(5), pointer(6),
                                 by_ref(7), pointer(8)])

    return sig, codegen


@intrinsic
def _xdot(typingctx, n, x, y):
    """Fortran xDOT (xDOTU for complex: no conjugation), unit increments: (status, sum(x * y))."""
    _linalg.ensure_blas()
    dtype = x.dtype
    sig = types.Tuple((types.int32, dtype))(n, x, y)

    def codegen(context, builder, sig, args):
        pointer, size, char, by_ref, kind = _converters(context, builder, sig, args, dtype)
        fnty = ir.FunctionType(_STATUS, [_CHAR, _CHAR, _INTP, _VOIDP, _VOIDP, _VOIDP])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "numba_xxdot")
        slot = cgutils.alloca_once(builder, context.get_value_type(dtype))
        status = builder.call(fn, [kind, ir.Constant(_CHAR, 0), size(0), pointer(1), pointer(2),
                                   builder.bitcast(slot, _VOIDP)])
        return context.make_tuple(builder, sig.return_type, [status, builder.load(slot)])

    return sig, codegen


@_jit
def _ran(status):
    if status != 0:
        raise RuntimeError("the BLAS wrapper of Numba's helper library failed (is SciPy installed?)")


# --- memory layouts -----------------------------------------------------------------------------

@_jit
def _layout(m, n, s0, s1, size):
    """(1, ld) if BLAS can read an (m, n) matrix with byte strides (s0, s1) as row-major with leading
    dimension ld, (0, ld) as column-major, (-1, 0) if neither. Row-major wins when both hold;
    (1, max(1, n)) means C-contiguous."""
    if n <= 1 or s1 == size:  # a row's elements are adjacent
        if m <= 1:
            return 1, max(1, n)
        if s0 % size == 0 and s0 // size >= max(1, n):
            return 1, s0 // size
    if m <= 1 or s0 == size:  # a column's elements are adjacent
        if n <= 1:
            return 0, max(1, m)
        if s1 % size == 0 and s1 // size >= max(1, m):
            return 0, s1 // size
    return -1, 0


# --- the helpers the generated code calls (per dtype; every array 2-d, layout 'A') -------------

@_jit
def _shares(a, b):
    """Do matrices a and b share a byte? (By their spans: interleaved views count as sharing.)"""
    m, n, p, q = a.shape[0], a.shape[1], b.shape[0], b.shape[1]
    if m == 0 or n == 0 or p == 0 or q == 0:
        return False
    s0, s1, t0, t1 = a.strides[0], a.strides[1], b.strides[0], b.strides[1]
    pa, pb = np.intp(a.ctypes.data), np.intp(b.ctypes.data)  # signed: strides may be negative
    alo = pa + min(0, (m - 1) * s0) + min(0, (n - 1) * s1)
    ahi = pa + max(0, (m - 1) * s0) + max(0, (n - 1) * s1) + a.itemsize
    blo = pb + min(0, (p - 1) * t0) + min(0, (q - 1) * t1)
    bhi = pb + max(0, (p - 1) * t0) + max(0, (q - 1) * t1) + b.itemsize
    return alo < bhi and blo < ahi


@_jit
def _copy(dst, src):
    """dst[...] = src: one flat loop when both are C-contiguous, else a loop nest over the strides."""
    m, n = src.shape
    size = src.itemsize
    contiguous = (1, max(1, n))
    if (_layout(m, n, dst.strides[0], dst.strides[1], size) == contiguous
            and _layout(m, n, src.strides[0], src.strides[1], size) == contiguous):
        fd, fs = _flat(dst), _flat(src)
        for i in range(m * n):
            fd[i] = fs[i]
        return
    for i in range(m):
        for j in range(n):
            dst[i, j] = src[i, j]


@_jit
def _duplicate(a):
    """A C-contiguous copy of matrix a (typed like the helpers' arrays)."""
    c = as_matrix(np.empty((a.shape[0], a.shape[1]), dtype=a.dtype))
    _copy(c, a)
    return c


@_jit
def gemm(out, z, a, x, y, b, accumulate):
    """out = b * z + a * dot(x, y) when `accumulate` (Gemm; Gemv with vectors as columns), else
    out = a * dot(x, y) without reading z (Dot). out may be z itself (in place) or a fresh array."""
    m, n = out.shape
    k = x.shape[1]
    if m == 0 or n == 0:
        return
    size = out.itemsize
    one, zero = out.dtype.type(1), out.dtype.type(0)
    in_place = accumulate and out.ctypes.data == z.ctypes.data and out.strides == z.strides
    if accumulate and not in_place and _shares(out, z):  # z must be read before out is written
        z = _duplicate(z)
    # NumPy's values where BLAS would skip a NaN or inf: the plain product first, then one pass
    exact = k == 0 or (accumulate and (a == 0 or b == 0))
    alpha = one if exact else a
    beta = b if accumulate and not exact else zero
    ro, ldo = _layout(m, n, out.strides[0], out.strides[1], size)
    target = out
    if exact or ro < 0 or _shares(out, x) or _shares(out, y):
        target = as_matrix(np.empty((m, n), dtype=out.dtype))
        ro, ldo = 1, max(1, n)
    if beta != 0 and target.ctypes.data != z.ctypes.data:
        _copy(target, z)
    if k > 0:
        rx, ldx = _layout(m, k, x.strides[0], x.strides[1], size)
        if rx < 0:
            x, rx, ldx = _duplicate(x), 1, max(1, k)
        ry, ldy = _layout(k, n, y.strides[0], y.strides[1], size)
        if ry < 0:
            y, ry, ldy = _duplicate(y), 1, max(1, n)
        # BLAS's contract from here: target = alpha * x @ y + beta * target (beta == 0: not read)
        if max(m, n, k, ldo, ldx, ldy) > BLAS_INT_MAX:
            for i in range(m):
                for j in range(n):
                    acc = zero
                    for l in range(k):
                        acc += x[i, l] * y[l, j]
                    target[i, j] = alpha * acc + beta * target[i, j] if beta != 0 else alpha * acc
        else:
            # xGEMV when a side is a unit-stride vector: op(mat) (rows, cols) @ vec
            gemv = True
            if n == 1 and (m <= 1 or target.strides[0] == size) and (k <= 1 or y.strides[0] == size):
                mat, vec, ldm, rows, mat_row_major = x, y, ldx, m, rx == 1
            elif m == 1 and (n <= 1 or target.strides[1] == size) and (k <= 1 or x.strides[1] == size):
                mat, vec, ldm, rows, mat_row_major = y, x, ldy, n, ry == 0  # op(mat) = y.T
            else:
                gemv = False
                mat, vec, ldm, rows, mat_row_major = x, y, ldx, m, rx == 1
            if gemv:
                # column-major BLAS sees a row-major matrix as its transpose
                _ran(_xgemv(_T if mat_row_major else _N, k if mat_row_major else rows,
                            rows if mat_row_major else k, alpha, mat, ldm, vec, beta, target))
            elif ro == 1:  # row-major target: BLAS computes target.T (n, m) = y.T @ x.T
                _ran(_xgemm(_N if ry == 1 else _T, _N if rx == 1 else _T, n, m, k, alpha, y, ldy, x, ldx,
                            beta, target, ldo))
            else:
                _ran(_xgemm(_T if rx == 1 else _N, _T if ry == 1 else _N, m, n, k, alpha, x, ldx, y, ldy,
                            beta, target, ldo))
    if exact:
        for i in range(m):
            for j in range(n):
                p = target[i, j] if k > 0 else zero
                out[i, j] = b * z[i, j] + a * p if accumulate else a * p
    elif target.ctypes.data != out.ctypes.data:
        _copy(out, target)


@_jit
def ger(out, A, a, x, y):
    """out = A + a * outer(x, y) (Ger) for x a column (m, 1) and y a row (1, n); out may be A itself.

    Plain loops, not xGER: for the sizes of a recurrent step they are as fast,
    and a == 0 gives NumPy's values (a NaN in x or y propagates) with no second path.
    """
    m, n = out.shape
    if m == 0 or n == 0:
        return
    if _shares(out, x):  # rows written early would change an x still to be read
        x = _duplicate(x)
    if _shares(out, y):
        y = _duplicate(y)
    in_place = out.ctypes.data == A.ctypes.data and out.strides == A.strides
    if not in_place and _shares(out, A):
        A = _duplicate(A)
    size = out.itemsize
    contiguous = (1, max(1, n))
    if (_layout(m, n, out.strides[0], out.strides[1], size) == contiguous and (n <= 1 or y.strides[1] == size)
            and (in_place or _layout(m, n, A.strides[0], A.strides[1], size) == contiguous)):
        # flat C views: the inner loop vectorises (through strides it would not); in place, one
        # array only (LLVM's run-time overlap check would send out == A to its scalar loop)
        fo, fy = _flat(out), _flat(y)
        if in_place:
            for i in range(m):
                xi, base = x[i, 0], i * n
                for j in range(n):
                    fo[base + j] = fo[base + j] + (xi * fy[j]) * a
        else:
            fa = _flat(A)
            for i in range(m):
                xi, base = x[i, 0], i * n
                for j in range(n):
                    fo[base + j] = fa[base + j] + (xi * fy[j]) * a
        return
    for i in range(m):
        xi = x[i, 0]
        for j in range(n):
            out[i, j] = A[i, j] + (xi * y[0, j]) * a


@_jit
def vdot(x, y):
    """dot(x, y) of two columns (n, 1), without complex conjugation: a scalar of their dtype."""
    n = x.shape[0]
    size = x.itemsize
    if n > 0 and n <= BLAS_INT_MAX and (n <= 1 or (x.strides[0] == size and y.strides[0] == size)):
        status, value = _xdot(n, x, y)
        _ran(status)
        return value
    acc = x.dtype.type(0)
    for i in range(n):
        acc += x[i, 0] * y[i, 0]
    return acc
