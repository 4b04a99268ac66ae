"""Specialisation: replace general expressions by faster equivalents ('specialize' phase).

- `local_dot_to_gemm`: a sum of terms holding a matrix product, such as
  `z + a * dot(x, y)`, `z - lr * dot(x, y)`, `a * dot(x, y) + b * z` or
  `dot(x, W) + bias`, becomes `Gemm(z, a, x, y, b)` (the product, then one in-place accumulation);
- `local_dot_to_gemv`: the same with a matrix-vector or vector-matrix product,
  giving `Gemv`;
- `local_dot_to_ger`: the same with an outer product (`T.outer(u, v)`, a dot
  whose summed length is statically 1), giving `Ger`;
- `local_pow_specialize`: `x ** n` for a constant integer |n| <= 8 becomes
  squarings and products (`sqr`, `mul`; `inv` of them when n < 0), and
  `x ** 0.5`, `x ** -0.5` become `sqrt`, `inv(sqrt)`;
- `local_sum_mul_to_dot` (in `specialize_reduce`): `sum(x * y)` and
  `sum(sqr(x))` over every axis become one dot product.

A broadcast accumulator (`dot(x, W) + b` with b a row) is first materialised
to the output's shape with `alloc`: Gemm never broadcasts z, and the fresh
array is what the in-place pass later lets Gemm overwrite. The rewrites only
make the copying Gemm/Gemv/Ger; the 'inplace' phase makes them destructive.
"""
from __future__ import annotations

import numpy as np

from ..db import register
from ..engine import node_rewriter
from ..patterns import constant_value
from . import specialize_reduce  # noqa: F401  (registers local_sum_mul_to_dot)

#: how many nodes one sum of terms may expand to before the rewrite gives up
_MAX_TERMS = 64


# --- reading a sum of scaled terms ----------------------------------------------------------

def _single_client(fgraph, var) -> bool:
    return len(fgraph.clients.get(var, ())) == 1


def _scalar_like(var) -> bool:
    return all(s == 1 for s in var.type.shape)


def _plain_elemwise(node, *names) -> str | None:
    from ...tensor.elemwise import Elemwise

    if node is None or not isinstance(node.op, Elemwise) or node.op.out_dtype is not None:
        return None
    name = node.op.scalar_fn.name
    return name if name in names else None


def _terms(fgraph, out):
    """`out` (an add or sub) as [(sign, [scalar factors], variable)], summed; None if too large.

    Expands through add, sub, neg and multiplication by scalars, but only
    through nodes of `out`'s dtype and rank used nowhere else (so nothing is
    computed twice).
    """
    found = []
    stack = [(out, 1, (), True)]
    visited = 0
    while stack:
        var, sign, factors, top = stack.pop()
        node = var.owner
        name = None
        if top or (_single_client(fgraph, var) and var.dtype == out.dtype and var.ndim == out.ndim):
            name = _plain_elemwise(node, "add", "sub", "neg", "mul")
        if name is not None:
            visited += 1
            if visited > _MAX_TERMS:
                return None
        if name == "add":
            stack.extend((i, sign, factors, False) for i in reversed(node.inputs))
        elif name == "sub":
            stack.append((node.inputs[1], -sign, factors, False))
            stack.append((node.inputs[0], sign, factors, False))
        elif name == "neg":
            stack.append((node.inputs[0], -sign, factors, False))
        elif name == "mul" and sum(not _scalar_like(i) for i in node.inputs) == 1:
            scalars = tuple(i for i in node.inputs if _scalar_like(i))
            (rest,) = [i for i in node.inputs if not _scalar_like(i)]
            stack.append((rest, sign, factors + scalars, False))
        else:
            found.append((sign, factors, var))
    return found


# --- building ---------------------------------------------------------------------------------

def _as_scalar(var, dtype):
    """A 0-d variable of `dtype` holding the one value of the scalar-like `var`."""
    from ... import tensor as t
    from ...tensor.elemwise import DimShuffle

    if var.ndim:
        node = var.owner
        if node is not None and isinstance(node.op, DimShuffle) and node.inputs[0].ndim == 0:
            var = node.inputs[0]
        else:
            var = t.dimshuffle(var, ())
    return t.cast(var, dtype)


def _scale(sign: int, factors, dtype):
    """sign * prod(factors) as a 0-d variable of `dtype` (a constant when all factors are)."""
    from ... import tensor as t

    values = [constant_value(f) for f in factors]
    if all(v is not None for v in values):
        value = np.asarray(sign, dtype=dtype)
        for v in values:
            value = np.asarray(value * np.asarray(v, dtype=dtype), dtype=dtype)
        return t.constant(value)
    scalars = [_as_scalar(f, dtype) for f in factors]
    product = scalars[0] if len(scalars) == 1 else t.mul(*scalars)
    return product if sign > 0 else t.neg(product)


def _rebuild(sign: int, factors, var):
    from ... import tensor as t

    value = t.mul(*factors, var) if factors else var
    return value if sign > 0 else t.neg(value)


def _dim(var, d: int):
    """The length of axis d of `var`: its static length, or a symbolic one."""
    from ... import tensor as t
    from ...tensor.elemwise import DimShuffle

    while var.type.shape[d] is None and var.owner is not None and isinstance(var.owner.op, DimShuffle):
        var, d = var.owner.inputs[0], var.owner.op.new_order[d]  # ask the tensor that was shuffled
    static = var.type.shape[d]
    return static if static is not None else t.shape(var)[d]


def _full_accumulator(z, out, out_dims):
    """`z` stretched to the output's shape where it broadcasts (a fresh array), else `z`."""
    from ... import tensor as t

    stretched = [z.type.shape[d] == 1 and out.type.shape[d] != 1 for d in range(out.ndim)]
    if not any(stretched):
        return z
    return t.alloc(z, *[out_dims[d]() if s else _dim(z, d) for d, s in enumerate(stretched)])


def _is_dot(var) -> bool:
    from ...tensor.blas import Dot

    return var.owner is not None and isinstance(var.owner.op, Dot)


def _product_kind(dot_var) -> str | None:
    x, y = dot_var.owner.inputs
    if x.ndim == 2 and y.ndim == 2:
        return "ger" if x.type.shape[1] == 1 and y.type.shape[0] == 1 else "gemm"
    if x.ndim + y.ndim == 3:
        return "gemv"
    return None


def _fuse_product(fgraph, node, kind: str):
    """Replace a sum of terms holding a product of `kind` by Gemm/Gemv/Ger plus the other terms."""
    from ... import tensor as t
    from ...tensor.blas_ops import BLAS_DTYPES, Gemm, Gemv, Ger

    out = node.outputs[0]
    if out.dtype not in BLAS_DTYPES or out.ndim not in (1, 2):
        return None
    terms = _terms(fgraph, out)
    if not terms or len(terms) < 2:
        return None
    chosen = None
    for k, (sign, factors, var) in enumerate(terms):
        if (_is_dot(var) and var.dtype == out.dtype and var.ndim == out.ndim and _single_client(fgraph, var)
                and _product_kind(var) == kind
                and all(o == 1 for v, o in zip(var.type.shape, out.type.shape) if v == 1)):
            chosen = k
            break
    if chosen is None:
        return None
    sign, factors, dot_var = terms[chosen]
    others = terms[:chosen] + terms[chosen + 1:]

    def stretched(v):  # the accumulator would have to be broadcast to the output's shape
        return any(s == 1 and o != 1 for s, o in zip(v.type.shape, out.type.shape))

    # the accumulator: preferably a term that is neither a product nor broadcast
    ranked = sorted(range(len(others)), key=lambda i: (_is_dot(others[i][2]), stretched(others[i][2])))
    z_sign, z_factors, z_var = others[ranked[0]]
    rest = [others[i] for i in ranked[1:]]

    dtype = out.dtype
    x, y = (t.cast(v, dtype) for v in dot_var.owner.inputs)
    alpha = _scale(sign, factors, dtype)
    z = t.cast(z_var, dtype)
    if kind == "gemm":
        dims = (lambda: _dim(x, 0), lambda: _dim(y, 1))
        new = Gemm()(_full_accumulator(z, out, dims), alpha, x, y, _scale(z_sign, z_factors, dtype))
    elif kind == "gemv":
        if x.ndim == 1:  # vector . matrix = matrix.T . vector
            x, y = _transposed(y), x
        new = Gemv()(_full_accumulator(z, out, (lambda: _dim(x, 0),)), alpha, x, y,
                     _scale(z_sign, z_factors, dtype))
    else:
        u, v = _outer_vectors(x, y)
        z = _full_accumulator(z, out, (lambda: _dim(u, 0), lambda: _dim(v, 0)))
        if z_factors or z_sign < 0:
            z = _scale(z_sign, z_factors, dtype) * z
        new = Ger()(z, alpha, u, v)
    if rest:
        new = t.add(new, *[_rebuild(*term) for term in rest])
    if new.dtype != out.dtype or new.ndim != out.ndim:
        return None
    return [new]


def _transposed(m):
    """m.T, looking through a transpose (dot(v, W.T) -> Gemv on W itself)."""
    from ... import tensor as t
    from ...tensor.elemwise import DimShuffle

    node = m.owner
    if node is not None and isinstance(node.op, DimShuffle) and node.op.new_order == (1, 0):
        return node.inputs[0]
    return t.transpose(m)


def _outer_vectors(x, y):
    """The vectors u, v with dot(x, y) == outer(u, v), for x of shape (n, 1) and y of shape (1, m)."""
    from ... import tensor as t
    from ...tensor.elemwise import DimShuffle

    def vector(var, keep: int):
        node = var.owner
        if node is not None and isinstance(node.op, DimShuffle) and node.inputs[0].ndim == 1 and \
                node.op.new_order == tuple("x" if d != keep else 0 for d in range(2)):
            return node.inputs[0]
        return t.dimshuffle(var, (keep,))

    return vector(x, 0), vector(y, 1)


@register("specialize", "blas")
@node_rewriter(["add", "sub"])
def local_dot_to_gemm(fgraph, node):
    """`b * z + a * dot(x, y)` (and sums, differences, negations of such terms) -> Gemm."""
    return _fuse_product(fgraph, node, "gemm")


@register("specialize", "blas")
@node_rewriter(["add", "sub"])
def local_dot_to_gemv(fgraph, node):
    """`b * z + a * dot(A, x)` or `... + a * dot(x, A)` for a matrix A and vectors -> Gemv."""
    return _fuse_product(fgraph, node, "gemv")


@register("specialize", "blas")
@node_rewriter(["add", "sub"])
def local_dot_to_ger(fgraph, node):
    """`z + a * outer(u, v)` (a dot of a column and a row) -> Ger."""
    return _fuse_product(fgraph, node, "ger")


# --- integer powers --------------------------------------------------------------------------

#: the largest |n| for which x ** n becomes multiplications
MAX_POW_EXPONENT = 8


def _power(x, n: int):
    """x ** n for n >= 1 by repeated squaring: sqr for each bit, one mul of the set bits."""
    from ... import tensor as t

    parts, square = [], x
    while True:
        if n & 1:
            parts.append(square)
        n >>= 1
        if not n:
            break
        square = t.sqr(square)
    return parts[0] if len(parts) == 1 else t.mul(*parts[::-1])


@register("specialize")
@node_rewriter(["pow"])
def local_pow_specialize(fgraph, node):
    """`x ** n` for a constant n: integer |n| <= 8 -> sqr/mul (inv for n < 0); 0.5 -> sqrt."""
    from ... import tensor as t

    x, e = node.inputs
    out = node.outputs[0]
    value = constant_value(e)
    if value is None or isinstance(value, complex) or isinstance(value, (bool, np.bool_)):
        return None
    if any(s == 1 and o != 1 for s, o in zip(x.type.shape, out.type.shape)):
        return None  # the exponent stretches x: the replacement would have the wrong shape
    dtype = out.dtype
    floating = dtype.startswith(("float", "complex"))
    value = float(value)
    if not np.isfinite(value):
        return None
    xd = t.cast(x, dtype)
    if value == int(value) and abs(value) <= MAX_POW_EXPONENT:
        n = int(value)
        if n < 0 and not floating:
            return None  # NumPy refuses negative integer powers of integers: keep its error
        if n == 0:
            new = t.ones_like(xd)
        else:
            new = _power(xd, abs(n))
            if n < 0:
                new = t.inv(new)
    elif value in (0.5, -0.5) and dtype.startswith("float"):
        new = t.sqrt(xd) if value > 0 else t.inv(t.sqrt(xd))
    else:
        return None
    return [new] if new.dtype == dtype else None
