"""Fused products with accumulation: Gemm, Gemv and Ger (what the 'specialize' rewrites produce).

- `Gemm(z, a, x, y, b)`: `b * z + a * dot(x, y)` for matrices (BLAS xGEMM's contract);
- `Gemv(z, a, A, x, b)`: `b * z + a * dot(A, x)`, A a matrix, x and z vectors (xGEMV);
- `Ger(A, a, x, y)`:     `A + a * outer(x, y)` (xGER).

Each comes in two versions: the default one leaves its first input (z or A)
alone and returns a new array; the destructive one (`inplace=True`, with
`destroy_map = {0: [0]}`; Ger also takes Theano's `destructive=True`) writes
the result into that input and returns it. Rewrites only create the copying
versions; the in-place pass swaps in `op.as_inplace()` when nothing else
reads the destroyed input afterwards.

All array inputs and the scalars `a`, `b` share one dtype: float32, float64,
complex64 or complex128 (Python numbers given as `a`/`b` take z's dtype).
The destination is never broadcast: z (or A) must have the full output shape.

The product is NumPy's `dot` (the BLAS NumPy links), then scaled and
accumulated in place, so the value is NumPy's `b * z + a * dot(x, y)`
(NaN and inf included) with no temporary beyond the product. SciPy's BLAS
wrappers are not used: SciPy ships its own OpenBLAS, and two OpenBLAS thread
pools alternating in one process slow each other down several times over.
"""
from __future__ import annotations

import numbers

import numpy as np

from ..graph.basic import Apply, Op
from ..graph.sourceline import here
from .type import TensorType
from .variable import as_tensor_variable, constant

__all__ = ["Gemm", "Gemv", "Ger", "gemm_no_inplace", "gemm_inplace", "gemv_no_inplace", "gemv_inplace",
           "ger", "ger_destructive", "BLAS_DTYPES"]

#: dtypes the BLAS routines handle
BLAS_DTYPES = ("float32", "float64", "complex64", "complex128")


# --- build-time helpers ---------------------------------------------------------------------------


def _describe(var) -> str:
    return f"'{var.name}'" if var.name else str(var)


def _fmt(shape) -> str:
    inner = ", ".join("?" if s is None else str(s) for s in shape)
    return f"({inner}{',' if len(shape) == 1 else ''})"


def _scalar_input(opname: str, role: str, value, dtype: str):
    """`a`/`b`: a Python number becomes a constant of the op's dtype; a tensor must be 0-d."""
    if isinstance(value, numbers.Number) and not isinstance(value, (np.ndarray, np.generic)):
        return constant(np.asarray(value, dtype=dtype))
    var = as_tensor_variable(value)
    if var.ndim != 0:
        raise TypeError(f"{opname}: the scalar {role} ({_describe(var)}) must be 0-d, got a {var.ndim}-d "
                        f"tensor of shape {_fmt(var.type.shape)}. At {here()}")
    return var


def _check_dtypes(opname: str, dest, others) -> None:
    if dest.dtype not in BLAS_DTYPES:
        raise TypeError(f"{opname}: {_describe(dest)} has dtype {dest.dtype}; BLAS products need one of "
                        f"{', '.join(BLAS_DTYPES)} (use T.dot for other dtypes). At {here()}")
    for role, var in others:
        if var.dtype != dest.dtype:
            raise TypeError(f"{opname}: every input must have the dtype of {_describe(dest)} ({dest.dtype}), "
                            f"but {role} {_describe(var)} has dtype {var.dtype}; cast it first. At {here()}")


def _check_ndim(opname: str, role: str, var, ndim: int) -> None:
    if var.ndim != ndim:
        kind = {1: "a vector", 2: "a matrix"}[ndim]
        raise TypeError(f"{opname}: {role} {_describe(var)} must be {kind}, got a {var.ndim}-d tensor of "
                        f"shape {_fmt(var.type.shape)}. At {here()}")


def _merge_dim(opname: str, pairs) -> int | None:
    """One static length from several (role, var, axis) claims; ValueError when two known ones differ."""
    known = [(role, var, d, var.type.shape[d]) for role, var, d in pairs if var.type.shape[d] is not None]
    for role, var, d, length in known[1:]:
        if length != known[0][3]:
            r0, v0, d0, l0 = known[0]
            raise ValueError(f"{opname}: shapes do not match: {r0} {_describe(v0)} has length {l0} in axis "
                             f"{d0}, {role} {_describe(var)} has length {length} in axis {d}. At {here()}")
    return known[0][3] if known else None


def _like(g, var):
    """A gradient term with `var`'s dtype and broadcast pattern."""
    from .. import tensor as t

    if g.dtype != var.dtype:
        g = t.cast(g, var.dtype)
    if g.broadcastable != var.broadcastable:
        g = t.patternbroadcast(g, var.broadcastable)
    return g


# --- run-time helpers --------------------------------------------------------------------------


def _runtime_mismatch(node, message: str):
    return ValueError(f"{node.op}: {message}. The expression was built at {node.outputs[0].creation_line}")


def _accumulate(product: np.ndarray, a, z: np.ndarray, b, inplace: bool) -> np.ndarray:
    """`b * z + a * product`, evaluated as NumPy would; `product` is a fresh array we may overwrite.

    The destructive version writes into z; `product` was computed before z is
    touched, so z may alias the operands of the product.
    """
    if a != 1:
        np.multiply(product, a, out=product)
    if inplace:
        if b != 1:
            np.multiply(z, b, out=z)
        np.add(z, product, out=z)
        return z
    if b == 1:
        np.add(product, z, out=product)
    elif b != 0 or not np.isfinite(z).all():  # 0 * z is not 0 where z is nan or inf
        np.add(product, b * z, out=product)
    return product


class _BlasOp(Op):
    """Common parts: the copying / destructive pair, and printing."""

    __props__ = ("inplace",)

    def __init__(self, inplace: bool = False):
        self.inplace = bool(inplace)
        if self.inplace:
            self.destroy_map = {0: [0]}

    def __str__(self):
        return f"{type(self).__name__}{{{'inplace' if self.inplace else 'no_inplace'}}}"

    def as_inplace(self) -> "_BlasOp":
        """The destructive version of this op (it overwrites its input 0)."""
        return type(self)(inplace=True)

    def as_no_inplace(self) -> "_BlasOp":
        return type(self)(inplace=False)

    def infer_shape(self, fgraph, node, input_shapes):
        return [tuple(input_shapes[0])]


# --- Gemm ------------------------------------------------------------------------------------

class Gemm(_BlasOp):
    """`Gemm(inplace)(z, a, x, y, b)` = `b * z + a * dot(x, y)` for matrices z, x, y and scalars a, b.

    The destructive version (`Gemm(inplace=True)`) overwrites z and returns it.
    """

    def make_node(self, z, a, x, y, b):
        z, x, y = as_tensor_variable(z), as_tensor_variable(x), as_tensor_variable(y)
        for role, var in (("z", z), ("x", x), ("y", y)):
            _check_ndim("gemm", role, var, 2)
        a = _scalar_input("gemm", "a", a, z.dtype)
        b = _scalar_input("gemm", "b", b, z.dtype)
        _check_dtypes("gemm", z, [("x", x), ("y", y), ("a", a), ("b", b)])
        _merge_dim("gemm", [("x", x, 1), ("y", y, 0)])
        rows = _merge_dim("gemm", [("z", z, 0), ("x", x, 0)])
        cols = _merge_dim("gemm", [("z", z, 1), ("y", y, 1)])
        return Apply(self, [z, a, x, y, b], [TensorType(z.dtype, shape=(rows, cols))()])

    def perform(self, node, inputs, output_storage):
        z, a, x, y, b = inputs
        if x.shape[1] != y.shape[0] or z.shape != (x.shape[0], y.shape[1]):
            raise _runtime_mismatch(node, f"z of shape {z.shape} cannot hold dot(x, y) of x {x.shape} and "
                                          f"y {y.shape}")
        product = np.asarray(np.dot(x, y), dtype=node.outputs[0].type.numpy_dtype)
        output_storage[0][0] = _accumulate(product, a, z, b, self.inplace)

    def L_op(self, inputs, outputs, output_grads):
        from .. import tensor as t

        z, a, x, y, b = inputs
        (g,) = output_grads
        return [_like(b * g, z), _like(t.sum(g * t.dot(x, y)), a), _like(a * t.dot(g, y.T), x),
                _like(a * t.dot(x.T, g), y), _like(t.sum(g * z), b)]

    def R_op(self, inputs, eval_points):
        return [_scaled_dot_r_op(inputs, eval_points)]


def _scaled_dot_r_op(inputs, eval_points):
    """R_op of `b * z + a * dot(x, y)` (Gemm and Gemv): the product rule, term by term."""
    from .. import tensor as t

    z, a, x, y, b = inputs
    ez, ea, ex, ey, eb = eval_points
    terms = []
    if ez is not None:
        terms.append(b * ez)
    if eb is not None:
        terms.append(eb * z)
    if ea is not None:
        terms.append(ea * t.dot(x, y))
    if ex is not None:
        terms.append(a * t.dot(ex, y))
    if ey is not None:
        terms.append(a * t.dot(x, ey))
    return t.add(*terms) if len(terms) > 1 else (terms[0] if terms else None)


# --- Gemv ------------------------------------------------------------------------------------

class Gemv(_BlasOp):
    """`Gemv(inplace)(z, a, A, x, b)` = `b * z + a * dot(A, x)`: A a matrix, x and z vectors.

    The destructive version (`Gemv(inplace=True)`) overwrites z and returns it.
    """

    def make_node(self, z, a, A, x, b):
        z, A, x = as_tensor_variable(z), as_tensor_variable(A), as_tensor_variable(x)
        _check_ndim("gemv", "z", z, 1)
        _check_ndim("gemv", "A", A, 2)
        _check_ndim("gemv", "x", x, 1)
        a = _scalar_input("gemv", "a", a, z.dtype)
        b = _scalar_input("gemv", "b", b, z.dtype)
        _check_dtypes("gemv", z, [("A", A), ("x", x), ("a", a), ("b", b)])
        _merge_dim("gemv", [("A", A, 1), ("x", x, 0)])
        rows = _merge_dim("gemv", [("z", z, 0), ("A", A, 0)])
        return Apply(self, [z, a, A, x, b], [TensorType(z.dtype, shape=(rows,))()])

    def perform(self, node, inputs, output_storage):
        z, a, A, x, b = inputs
        if A.shape[1] != x.shape[0] or z.shape != (A.shape[0],):
            raise _runtime_mismatch(node, f"z of shape {z.shape} cannot hold dot(A, x) of A {A.shape} and "
                                          f"x {x.shape}")
        product = np.asarray(np.dot(A, x), dtype=node.outputs[0].type.numpy_dtype)
        output_storage[0][0] = _accumulate(product, a, z, b, self.inplace)

    def L_op(self, inputs, outputs, output_grads):
        from .. import tensor as t

        z, a, A, x, b = inputs
        (g,) = output_grads
        return [_like(b * g, z), _like(t.dot(g, t.dot(A, x)), a), _like(a * t.outer(g, x), A),
                _like(a * t.dot(A.T, g), x), _like(t.dot(g, z), b)]

    def R_op(self, inputs, eval_points):
        return [_scaled_dot_r_op(inputs, eval_points)]


# --- Ger -------------------------------------------------------------------------------------

class Ger(_BlasOp):
    """`Ger(inplace)(A, a, x, y)` = `A + a * outer(x, y)`: A a matrix, x and y vectors.

    The destructive version (`Ger(inplace=True)`, also `Ger(destructive=True)`)
    overwrites A and returns it.
    """

    def __init__(self, inplace: bool = False, destructive: bool | None = None):
        super().__init__(inplace if destructive is None else destructive)

    @property
    def destructive(self) -> bool:
        """Theano's name for `inplace`."""
        return self.inplace

    def __str__(self):
        return f"Ger{{{'destructive' if self.destructive else 'non-destructive'}}}"

    def make_node(self, A, a, x, y):
        A, x, y = as_tensor_variable(A), as_tensor_variable(x), as_tensor_variable(y)
        _check_ndim("ger", "A", A, 2)
        _check_ndim("ger", "x", x, 1)
        _check_ndim("ger", "y", y, 1)
        a = _scalar_input("ger", "a", a, A.dtype)
        _check_dtypes("ger", A, [("x", x), ("y", y), ("a", a)])
        rows = _merge_dim("ger", [("A", A, 0), ("x", x, 0)])
        cols = _merge_dim("ger", [("A", A, 1), ("y", y, 0)])
        return Apply(self, [A, a, x, y], [TensorType(A.dtype, shape=(rows, cols))()])

    def perform(self, node, inputs, output_storage):
        A, a, x, y = inputs
        if A.shape != (x.shape[0], y.shape[0]):
            raise _runtime_mismatch(node, f"A of shape {A.shape} cannot hold outer(x, y) of x {x.shape} and "
                                          f"y {y.shape}")
        product = np.asarray(np.outer(x, y), dtype=node.outputs[0].type.numpy_dtype)
        output_storage[0][0] = _accumulate(product, a, A, 1, self.inplace)

    def L_op(self, inputs, outputs, output_grads):
        from .. import tensor as t

        A, a, x, y = inputs
        (g,) = output_grads
        return [_like(g, A), _like(t.dot(x, t.dot(g, y)), a), _like(a * t.dot(g, y), x),
                _like(a * t.dot(x, g), y)]

    def R_op(self, inputs, eval_points):
        from .. import tensor as t

        A, a, x, y = inputs
        eA, ea, ex, ey = eval_points
        terms = [eA] if eA is not None else []
        if ea is not None:
            terms.append(ea * t.outer(x, y))
        if ex is not None:
            terms.append(a * t.outer(ex, y))
        if ey is not None:
            terms.append(a * t.outer(x, ey))
        return [t.add(*terms) if len(terms) > 1 else (terms[0] if terms else None)]


gemm_no_inplace = Gemm(inplace=False)
gemm_inplace = Gemm(inplace=True)
gemv_no_inplace = Gemv(inplace=False)
gemv_inplace = Gemv(inplace=True)
ger = Ger(inplace=False)
ger_destructive = Ger(inplace=True)
