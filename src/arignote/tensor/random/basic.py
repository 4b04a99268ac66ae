"""RandomFunction: draw from a NumPy generator inside a graph (Theano's raw_random).

Each distribution function here takes a random-generator variable and returns
`(new_rng, sample)`. The op never mutates its input generator: it draws from a
deep copy and returns the advanced copy, which the caller stores back (via an
update) to get new numbers next time. Draws call the same NumPy methods, with
the same arguments, as Theano 1.0.5 did, so equal generator states give equal
numbers.
"""
from __future__ import annotations

import copy

import numpy as np

from ...graph.basic import Apply, Constant, Op, Variable
from ...graph.sourceline import here
from ..type import TensorType, normalize_dtype
from ..variable import as_tensor_variable, constant
from .type import RandomStateType, as_random_state_variable


class RandomFunction(Op):
    """Draw from `fn` (a generator method name, or a helper `fn(rng, *args, size)`).

    Inputs: (rng, size, *params); size is an int64 vector, empty meaning "the
    shape the parameters give". Outputs: (new_rng, sample of type `outtype`).
    `ndim_added` counts dimensions the draw adds after `size` (permutation,
    multinomial).
    """

    __props__ = ("fn", "outtype", "inplace", "ndim_added")

    def __init__(self, fn, outtype: TensorType, inplace: bool = False, ndim_added: int = 0):
        self.fn = fn
        self.outtype = outtype
        self.inplace = inplace
        self.ndim_added = ndim_added
        if inplace:
            self.destroy_map = {0: [0]}

    def __str__(self):
        name = self.fn if isinstance(self.fn, str) else getattr(self.fn, "__name__", str(self.fn))
        return f"RandomFunction{{{name}}}"

    __repr__ = __str__

    def make_node(self, r, shape, *args):
        r = as_random_state_variable(r)
        if isinstance(shape, (tuple, list)) and len(shape) == 0:
            shape = constant(np.zeros(0, dtype=np.int64))
        else:
            shape = _size_vector(shape)
        args = [as_tensor_variable(a) for a in args]
        n = shape.type.shape[0]
        if n is not None and n + self.ndim_added != self.outtype.ndim and n != 0:
            raise ValueError(f"{self}: a size of length {n} gives {n + self.ndim_added} dimensions, but the "
                             f"output type {self.outtype} has {self.outtype.ndim}. At {here()}")
        return Apply(self, [r, shape, *args], [r.type(), self.outtype()])

    def perform(self, node, inputs, output_storage):
        r, size, args = inputs[0], inputs[1], list(inputs[2:])
        if not self.inplace:
            r = copy.deepcopy(r)
        out_type = node.outputs[1].type
        where = node.outputs[1].creation_line
        shape = None if len(size) == 0 else tuple(int(s) for s in size)
        if shape is not None and len(shape) + self.ndim_added != out_type.ndim:
            raise ValueError(f"{self}: the size {shape} has {len(shape)} entries, but the sample has "
                             f"{out_type.ndim} dimensions; the draw was built at {where}")
        if shape is not None and any(s < 0 for s in shape):
            raise ValueError(f"{self}: negative size {shape}; the draw was built at {where}")
        if isinstance(self.fn, str):
            rval = getattr(r, self.fn)(*args, shape)
        else:
            rval = self.fn(r, *args, shape)
        rval = np.asarray(rval, dtype=out_type.numpy_dtype)
        if shape is None and rval.ndim == 0 and out_type.ndim > 0:
            rval = rval.reshape((1,) * out_type.ndim)
        if rval.ndim != out_type.ndim:
            raise ValueError(f"{self}: the parameters gave a sample of shape {rval.shape}, but {out_type.ndim} "
                             f"dimensions were promised (pass size=... or ndim=...); the draw was built at {where}")
        if shape is not None:
            got = rval.shape[:len(shape)]
            if got != shape:
                raise ValueError(f"{self}: asked for size {shape}, the parameters gave a sample of shape "
                                 f"{rval.shape}; the draw was built at {where}")
        for i, (want, got) in enumerate(zip(out_type.shape, rval.shape)):
            if want is not None and want != got:
                raise ValueError(f"{self}: the sample has shape {rval.shape}, but its type promises "
                                 f"{out_type}; the draw was built at {where}")
        output_storage[0][0] = r
        output_storage[1][0] = rval

    def infer_shape(self, fgraph, node, input_shapes):
        size = node.inputs[1]
        if self.ndim_added == 0 and size.type.shape[0] not in (0, None):
            return [None, [size[i] for i in range(node.outputs[1].ndim)]]
        raise NotImplementedError("the sample's shape depends on the parameters' values")

    def connection_pattern(self, node):
        # the generator and the size are not differentiable quantities; the
        # parameters reach the sample, but through a non-differentiable draw
        return [[False, False], [False, False]] + [[False, True] for _ in node.inputs[2:]]

    def L_op(self, inputs, outputs, output_grads):
        from ...gradient import DisconnectedType, grad_undefined

        return [DisconnectedType()(), DisconnectedType()()] + [
            grad_undefined(self, k, inp, "No gradient defined through raw random numbers op")
            for k, inp in enumerate(inputs) if k >= 2]

    def R_op(self, inputs, eval_points):
        return [None for _ in eval_points]


# ----------------------------------------------------------------------------------------------------------
# sizes


def _size_vector(size) -> Variable:
    """A size (tuple of ints / scalar variables, an int, or an int vector) as an int64 vector."""
    from ..shape_ops import as_shape_vector

    try:
        return as_shape_vector(size, name="size")
    except TypeError as e:
        raise TypeError(f"size must be a tuple of ints or integer scalars, or an integer vector; got "
                        f"{size!r} ({e})") from None


def _scalar_static(s):
    """The int value of a size entry if known when building, else None."""
    if isinstance(s, (int, np.integer)):
        return int(s)
    if isinstance(s, Constant):
        return int(np.asarray(s.data))
    return None


def _broadcast_static(shapes, ndim):
    """Static broadcast of right-aligned static shapes to `ndim` dims (None where unknown)."""
    out = []
    for i in range(ndim):
        known, unknown = [], False
        for shp in shapes:
            j = i - (ndim - len(shp))
            if j < 0:
                continue
            if shp[j] is None:
                unknown = True
            elif shp[j] != 1:
                known.append(shp[j])
        if known:
            out.append(known[0])
        elif unknown:
            out.append(None)
        else:
            out.append(1)
    return tuple(out)


def _infer_ndim_shape(ndim, size, *args):
    """(ndim, int64 size vector, static shape) of a draw of `size` with parameters `args`.

    size None: the shape the parameters broadcast to (an empty size vector
    lets NumPy broadcast them). A tuple may hold ints, scalar variables and
    -1, meaning "that dimension of the (right-aligned) parameters".
    """
    args_ndim = max((a.ndim for a in args), default=0)
    if size is None:
        if ndim is not None and ndim != args_ndim:
            raise ValueError(f"ndim={ndim} but the parameters have {args_ndim} dimensions and no size was "
                             f"given. At {here()}")
        static = _broadcast_static([a.type.shape for a in args], args_ndim)
        return args_ndim, constant(np.zeros(0, dtype=np.int64)), static
    if isinstance(size, (int, np.integer)):
        size = (int(size),)
    if isinstance(size, (tuple, list)):
        if ndim is None:
            ndim = len(size)
        elif ndim != len(size):
            raise ValueError(f"ndim ({ndim}) must equal len(size) ({len(size)}) for size={size!r}. At {here()}")
        entries, static = [], []
        for i, s in enumerate(size):
            if isinstance(s, Variable):
                s = as_tensor_variable(s)
                if s.ndim != 0 or s.dtype[0] not in "iu":
                    raise TypeError(f"size entry {i} ({s}, {s.type}) must be an integer scalar. At {here()}")
                entries.append(s)
                static.append(_scalar_static(s))
            elif isinstance(s, (int, np.integer)) and s >= 0:
                entries.append(int(s))
                static.append(int(s))
            elif isinstance(s, (int, np.integer)) and s == -1:
                entry, st = _borrow_param_dim(i, ndim, args)
                entries.append(entry)
                static.append(st)
            else:
                raise ValueError(f"size entry {i} is {s!r}; expected an int >= 0, -1 (the parameters' length) "
                                 f"or an integer scalar variable. At {here()}")
        vec = _size_vector(tuple(entries)) if entries else constant(np.zeros(0, dtype=np.int64))
    else:
        vec = _size_vector(size)
        from ..shape_ops import static_values

        known = static_values(vec)
        if ndim is None:
            if known is None:
                raise ValueError(f"cannot tell how many dimensions the size {size} has; pass ndim=... "
                                 f"At {here()}")
            ndim = len(known)
        elif known is not None and len(known) != ndim:
            raise ValueError(f"ndim ({ndim}) disagrees with the size {size}, of length {len(known)}. At {here()}")
        static = list(known) if known is not None else [None] * ndim
    if args_ndim > ndim:
        raise ValueError(f"the parameters have {args_ndim} dimensions, more than the {ndim} of size "
                         f"{size!r}. At {here()}")
    return ndim, vec, tuple(static)


def _borrow_param_dim(i, ndim, args):
    """The length of output dimension i taken from a parameter (size entry -1)."""
    overlapping = False
    for a in args:
        j = i - (ndim - a.ndim)
        if j < 0:
            continue
        overlapping = True
        if a.type.shape[j] != 1:
            return a.shape[j], a.type.shape[j]
    if not overlapping:
        raise ValueError(f"size entry {i} is -1, but no parameter has that dimension. At {here()}")
    return 1, 1


def param_dtype(x) -> str:
    """The dtype a distribution parameter counts with when inferring the sample's dtype.

    Python numbers count as Theano's autocasting made them (ints: the smallest
    int type holding them; floats: floatX), so `uniform(low=-1, high=1)` is
    floatX rather than upcast by an int64.
    """
    from ...config import config

    if isinstance(x, Variable):
        return x.dtype
    if isinstance(x, (np.generic, np.ndarray)):
        return x.dtype.name
    if isinstance(x, bool):
        return "bool"
    if isinstance(x, int):
        for dt in ("int8", "int16", "int32", "int64"):
            info = np.iinfo(dt)
            if info.min <= x <= info.max:
                return dt
        return "uint64"
    if isinstance(x, float):
        return config.floatX
    if isinstance(x, (list, tuple)) and any(isinstance(v, Variable) for v in x):
        return as_tensor_variable(x).dtype
    return np.asarray(x).dtype.name


def _float_dtype(dtype, *params):
    from ...config import config
    from ...scalar.dtypes import upcast

    if dtype is None:
        return upcast(config.floatX, *[param_dtype(p) for p in params])
    return normalize_dtype(dtype)


# ----------------------------------------------------------------------------------------------------------
# NumPy-side helpers (module level so graphs holding them pickle)


def random_integers_helper(random_state, low, high, size):
    """Integers in [low, high], both inclusive, with low and high broadcast."""
    low = np.asarray(low, dtype=np.int64)
    high = np.asarray(high, dtype=np.int64)
    if size is not None:
        for name, v in (("low", low), ("high", high)):
            if v.ndim > len(size):
                raise ValueError(f"{name} has {v.ndim} dimensions, more than size {size}")
    draw = getattr(random_state, "randint", None) or random_state.integers
    return draw(low, high + 1, size=size)


def choice_helper(random_state, a, replace, p, size):
    """numpy's choice, with `p` given as an empty vector meaning uniform."""
    if a.ndim > 1:
        raise ValueError(f"choice: a must be a scalar or a vector, got {a.ndim} dimensions")
    if p.ndim != 1:
        raise ValueError(f"choice: p must be a vector, got {p.ndim} dimensions")
    p = None if p.size == 0 else p
    a = a.item() if a.ndim == 0 else a
    return random_state.choice(a, size, bool(replace), p)


def permutation_helper(random_state, n, shape):
    """One permutation of range(n) per element of `shape` (output shape: shape + (n,))."""
    if np.ndim(n) != 0:
        raise ValueError(f"permutation: n must be a scalar, got shape {np.shape(n)}")
    n = int(np.asarray(n).item())
    shape = () if shape is None else tuple(shape)
    out = np.empty(shape + (n,), dtype=np.int64)
    for i in np.ndindex(*shape):
        out[i] = random_state.permutation(n)
    return out


def multinomial_helper(random_state, n, pvals, size):
    """numpy's multinomial per row of `pvals` (broadcast against `n`); output shape size + (k,)."""
    n = np.asarray(n)
    pvals = np.asarray(pvals)
    ndim = len(size) if size is not None else max(n.ndim, pvals.ndim - 1)
    if n.ndim > ndim:
        raise ValueError(f"multinomial: n has {n.ndim} dimensions, more than size {size}")
    if pvals.ndim - 1 > ndim:
        raise ValueError(f"multinomial: pvals has {pvals.ndim} dimensions, more than size {size} plus one")
    n = n.reshape((1,) * (ndim - n.ndim) + n.shape)
    pvals = pvals.reshape((1,) * (ndim + 1 - pvals.ndim) + pvals.shape)
    lead = tuple(size) if size is not None else np.broadcast_shapes(n.shape, pvals.shape[:-1])
    k = pvals.shape[-1]
    n_b = np.broadcast_to(n, lead)
    p_b = np.broadcast_to(pvals, lead + (k,))
    if p_b.size and p_b.min() < 0:
        raise ValueError("multinomial: pvals must be non-negative")
    out = np.empty(lead + (k,), dtype=np.int64)
    for idx in np.ndindex(*lead):
        row = p_b[idx]
        total = row.sum()
        # Theano shrank rows whose rounding pushed the sum just past 1 (and rows
        # ending in a tiny probability); doing the same keeps its numbers
        if 1.0 < total < 1.0 + 1e-5 or row[-1] < 5e-5:
            row = row * (1.0 - 5e-5)
        out[idx] = random_state.multinomial(n=n_b[idx], pvals=row.astype(np.float64))
    return out


# ----------------------------------------------------------------------------------------------------------
# distributions: each returns (new_rng, sample)


def uniform(random_state, size=None, low=0.0, high=1.0, ndim=None, dtype=None):
    """Uniform in [low, high); dtype at least floatX (inferred from low and high)."""
    dtype = _float_dtype(dtype, low, high)
    low, high = as_tensor_variable(low), as_tensor_variable(high)
    ndim, size, static = _infer_ndim_shape(ndim, size, low, high)
    return RandomFunction("uniform", TensorType(dtype, shape=static))(random_state, size, low, high)


def normal(random_state, size=None, avg=0.0, std=1.0, ndim=None, dtype=None):
    """Normal with mean `avg` and standard deviation `std`; dtype at least floatX."""
    dtype = _float_dtype(dtype, avg, std)
    avg, std = as_tensor_variable(avg), as_tensor_variable(std)
    ndim, size, static = _infer_ndim_shape(ndim, size, avg, std)
    return RandomFunction("normal", TensorType(dtype, shape=static))(random_state, size, avg, std)


def binomial(random_state, size=None, n=1, p=0.5, ndim=None, dtype="int64", prob=None):
    """Number of successes in `n` trials of probability `p`."""
    if prob is not None:
        p = prob
    n, p = as_tensor_variable(n), as_tensor_variable(p)
    ndim, size, static = _infer_ndim_shape(ndim, size, n, p)
    return RandomFunction("binomial", TensorType(normalize_dtype(dtype), shape=static))(random_state, size, n, p)


def random_integers(random_state, size=None, low=0, high=1, ndim=None, dtype="int64"):
    """Integers between low and high, both inclusive."""
    low, high = as_tensor_variable(low), as_tensor_variable(high)
    ndim, size, static = _infer_ndim_shape(ndim, size, low, high)
    op = RandomFunction(random_integers_helper, TensorType(normalize_dtype(dtype), shape=static))
    return op(random_state, size, low, high)


def choice(random_state, size=None, a=2, replace=True, p=None, ndim=None, dtype="int64"):
    """Values of `a` (or of range(a) for a scalar), with or without replacement, weighted by `p`."""
    a = as_tensor_variable(a)
    replace = constant(replace, dtype="int8") if isinstance(replace, bool) else as_tensor_variable(replace)
    p = as_tensor_variable(np.zeros(0) if p is None else p)
    ndim, size, static = _infer_ndim_shape(ndim, size)
    op = RandomFunction(choice_helper, TensorType(normalize_dtype(dtype), shape=static))
    return op(random_state, size, a, replace, p)


def poisson(random_state, size=None, lam=1.0, ndim=None, dtype="int64"):
    """Poisson counts with expectation `lam`."""
    lam = as_tensor_variable(lam)
    ndim, size, static = _infer_ndim_shape(ndim, size, lam)
    return RandomFunction("poisson", TensorType(normalize_dtype(dtype), shape=static))(random_state, size, lam)


def permutation(random_state, size=None, n=1, ndim=None, dtype="int64"):
    """Permutations of range(n), one per element of `size`: the output has shape size + (n,)."""
    if size is None or size == ():
        if ndim not in (None, 1):
            raise TypeError(f"one permutation (size={size!r}) is a vector; ndim={ndim} was asked. At {here()}")
        vec, static = constant(np.zeros(0, dtype=np.int64)), ()
    else:
        ndim, vec, static = _infer_ndim_shape(ndim, size)
    n = as_tensor_variable(n)
    last = _scalar_static(n) if n.ndim == 0 and isinstance(n, Constant) else None
    op = RandomFunction(permutation_helper, TensorType(normalize_dtype(dtype), shape=tuple(static) + (last,)),
                        ndim_added=1)
    return op(random_state, vec, n)


def multinomial(random_state, size=None, n=1, pvals=(0.5, 0.5), ndim=None, dtype="int64"):
    """Counts of `n` draws from each distribution in the last axis of `pvals`: shape size + (k,)."""
    n = as_tensor_variable(n)
    pvals = as_tensor_variable(list(pvals) if isinstance(pvals, tuple) else pvals)
    if pvals.ndim < 1:
        raise TypeError(f"multinomial: pvals must have at least one dimension, got {pvals.type}. At {here()}")
    rows = pvals.T[0].T  # one entry per distribution: what `size` must match
    ndim, vec, static = _infer_ndim_shape(ndim, size, n, rows)
    op = RandomFunction(multinomial_helper, TensorType(normalize_dtype(dtype), shape=static + pvals.type.shape[-1:]),
                        ndim_added=1)
    return op(random_state, vec, n, pvals)


__all__ = ["RandomFunction", "RandomStateType", "uniform", "normal", "binomial", "random_integers", "choice",
           "poisson", "permutation", "multinomial", "random_integers_helper", "choice_helper",
           "permutation_helper", "multinomial_helper"]
