"""MRG_RandomStreams: Theano's counter-based MRG31k3p generator, vectorised in NumPy.

MRG31k3p (L'Ecuyer & Touzin, 2000) combines two multiple recursive generators
of order 3:

    x1[n] = (2**22 * x1[n-2] + (2**7 + 1) * x1[n-3])   mod m1,  m1 = 2**31 - 1
    x2[n] = (2**15 * x2[n-1] + (2**15 + 1) * x2[n-3])  mod m2,  m2 = 2**31 - 21069

and outputs z = (x1[n] - x2[n]) mod m1 (m1 when zero), scaled by 2**-31. A state
is six int32s (x1[n], x1[n-1], x1[n-2], x2[n], x2[n-1], x2[n-2]). Each step is
the product of the state with a 3x3 companion matrix per component, so jumping
k steps ahead is a product with the matrix's k-th power: substreams are 2**72
steps apart and each new random variable starts 2**134 steps after the last
(L'Ecuyer, Simard, Chen & Kelton, 2002). A sample of n numbers spreads over
`nstreams` substreams: number i comes from substream i % nstreams.

Because the whole sample's states are matrix powers applied to the start
states, `perform` computes them all at once instead of looping per number.
With the same seed, size and dtype this gives Theano 1.0.5's numbers (as its
Python implementation computes them; its C code rounded float32 samples
slightly differently).
"""
from __future__ import annotations

import warnings

import numpy as np

from ..compile.sharedvalue import shared
from ..graph.basic import Apply, Op, Variable
from ..graph.sourceline import here
from ..tensor.random.basic import param_dtype
from ..tensor.type import TensorType
from ..tensor.variable import as_tensor_variable
from .multinomial import ChoiceFromUniform, MultinomialFromUniform

M1 = 2147483647  # 2**31 - 1
M2 = 2147462579  # 2**31 - 21069
NORM = 4.656612873077392578125e-10  # 2**-31

#: companion matrices of one step: new (x[n], x[n-1], x[n-2]) = A @ (x[n-1], x[n-2], x[n-3])
A1p0 = np.asarray([[0, 2 ** 22, 2 ** 7 + 1], [1, 0, 0], [0, 1, 0]], dtype=np.int64)
A2p0 = np.asarray([[2 ** 15, 0, 2 ** 15 + 1], [1, 0, 0], [0, 1, 0]], dtype=np.int64)


def _matmul_mod(a, b, m):
    """(a @ b) mod m for int64 matrices with entries below 2**31 (batched over leading axes of a)."""
    return ((a[..., :, :, None] * b[..., None, :, :]) % m).sum(axis=-2) % m


def _matpow2(a, k, m):
    """a ** (2 ** k) mod m, by k squarings."""
    for _ in range(k):
        a = _matmul_mod(a, a, m)
    return a


A1p72 = _matpow2(A1p0, 72, M1)
A2p72 = _matpow2(A2p0, 72, M2)
A1p134 = _matpow2(A1p0, 134, M1)
A2p134 = _matpow2(A2p0, 134, M2)


def matVecModM(A, s, m):
    """A @ s mod m for a 3x3 int64 matrix and a state triple (as int32)."""
    A = np.asarray(A, dtype=np.int64)
    s = np.asarray(s, dtype=np.int64)
    return (((A * s) % m).sum(axis=1) % m).astype(np.int32)


def multMatVect(v, A, m1, B, m2):
    """Advance a 6-int state: its first half by A (mod m1), its second by B (mod m2)."""
    v = np.asarray(v)
    return np.concatenate([matVecModM(A, v[:3], m1), matVecModM(B, v[3:], m2)])


def ff_2p134(rstate):
    """The state 2**134 steps after `rstate` (the start of the next stream)."""
    return multMatVect(rstate, A1p134, M1, A2p134, M2)


def ff_2p72(rstate):
    """The state 2**72 steps after `rstate` (the start of the next substream)."""
    return multMatVect(rstate, A1p72, M1, A2p72, M2)


def _powers(a, count, m):
    """[a**0, a**1, ..., a**(count-1)] mod m, shape (count, 3, 3), by doubling."""
    out = np.empty((max(count, 1), 3, 3), dtype=np.int64)
    out[0] = np.eye(3, dtype=np.int64)
    have, step = 1, a.copy()  # step == a ** have
    while have < count:
        take = min(have, count - have)
        out[have:have + take] = _matmul_mod(out[:take], step, m)
        have += take
        step = _matmul_mod(step, step, m)
    return out[:count]


def _apply(mats, states, m):
    """mats[..., 3, 3] @ states[..., 3] mod m (broadcast), exact in int64."""
    return ((mats * states[..., None, :]) % m).sum(axis=-1) % m


def mrg_draw(rstate, n_elements):
    """(z, new_rstate): the n_elements integers in [1, m1] the streams of `rstate` produce, and their end state.

    Number i comes from stream i % n_streams, each stream advancing once per number it gives.
    """
    rstate = np.asarray(rstate, dtype=np.int64)
    n_streams = rstate.shape[0]
    rounds = -(-n_elements // n_streams) if n_elements else 0
    full = n_elements - (rounds - 1) * n_streams if rounds else 0  # streams used in the last round
    P1 = _powers(A1p0, rounds + 1, M1)
    P2 = _powers(A2p0, rounds + 1, M2)
    x1, x2 = rstate[:, :3], rstate[:, 3:]
    # newest component of each state after k + 1 steps: row 0 of A**(k+1) @ state
    y1 = ((P1[1:, None, 0, :] * x1[None, :, :]) % M1).sum(axis=-1) % M1  # (rounds, n_streams)
    y2 = ((P2[1:, None, 0, :] * x2[None, :, :]) % M2).sum(axis=-1) % M2
    z = y1 - y2
    z = np.where(z <= 0, z + M1, z).reshape(-1)[:n_elements]
    steps = np.full(n_streams, rounds, dtype=np.int64)
    steps[full:] = max(rounds - 1, 0)
    new = np.empty_like(rstate)
    new[:, :3] = _apply(P1[steps], x1, M1)
    new[:, 3:] = _apply(P2[steps], x2, M2)
    return z, new.astype(np.int32)


def _to_unit(z, dtype):
    """Theano's scaling of z in [1, m1] to (0, 1) for each float dtype."""
    if dtype == "float16":
        return (((z & 0x7FFF) + 1) * np.float64(np.float16(3.0458e-05))).astype(np.float16)
    if dtype == "float32":
        return (z * np.float64(np.float32(4.6566126e-10))).astype(np.float32)
    return z * NORM


class mrg_uniform(Op):
    """Uniform samples in (0, 1) from MRG31k3p states: inputs (rstate, size), outputs (new rstate, sample)."""

    __props__ = ("output_type", "inplace")

    def __init__(self, output_type: TensorType, inplace: bool = False):
        self.output_type = output_type
        self.inplace = inplace
        if inplace:
            self.destroy_map = {0: [0]}

    def __str__(self):
        return f"{type(self).__name__}{{{self.output_type},{'inplace' if self.inplace else 'no_inplace'}}}"

    __repr__ = __str__

    def make_node(self, rstate, size):
        from ..tensor.shape_ops import as_shape_vector, static_values

        rstate = as_tensor_variable(rstate)
        if rstate.ndim != 2 or rstate.dtype != "int32":
            raise TypeError(f"mrg_uniform: rstate must be an int32 matrix (one 6-int state per row), got "
                            f"{rstate} ({rstate.type}). At {here()}")
        size = as_shape_vector(size, "mrg_uniform's size")
        known = static_values(size) or (None,) * self.output_type.ndim
        if len(known) != self.output_type.ndim:
            raise ValueError(f"mrg_uniform: size has {len(known)} entries but the output type "
                             f"{self.output_type} has {self.output_type.ndim} dimensions. At {here()}")
        out = TensorType(self.output_type.dtype, shape=known)()
        return Apply(self, [rstate, size], [rstate.type(), out])

    @classmethod
    def new(cls, rstate, ndim, dtype, size):
        """The (new rstate, sample) of a uniform draw of `size` from the shared states `rstate`."""
        from ..tensor.shape_ops import as_shape_vector

        v_size = as_shape_vector(size, "size")
        if ndim is None:
            ndim = v_size.type.shape[0]
            if ndim is None:
                raise ValueError(f"cannot tell the number of dimensions of size {size}; pass ndim=. At {here()}")
        return cls(TensorType(dtype, shape=(None,) * ndim))(rstate, v_size)

    def perform(self, node, inputs, output_storage):
        rstate, size = inputs
        where = node.outputs[1].creation_line
        shape = tuple(int(s) for s in size)
        if len(shape) != self.output_type.ndim:
            raise ValueError(f"{self}: size {shape} has {len(shape)} entries, expected {self.output_type.ndim}; "
                             f"the draw was built at {where}")
        if any(s < 0 for s in shape):
            raise ValueError(f"{self}: negative size {shape}; the draw was built at {where}")
        n_elements = int(np.prod(shape, dtype=np.int64))
        if n_elements > M1:
            raise ValueError(f"rng_mrg does not support more than 2**31 - 1 samples (asked for {shape}); "
                             f"the draw was built at {where}")
        if rstate.ndim != 2 or rstate.shape[1] != 6 or rstate.shape[0] == 0:
            raise ValueError(f"{self}: rstate must have shape (n_streams, 6), got {rstate.shape}; "
                             f"the draw was built at {where}")
        z, new_state = mrg_draw(rstate, n_elements)
        output_storage[0][0] = new_state
        output_storage[1][0] = _to_unit(z, self.output_type.dtype).reshape(shape)

    def infer_shape(self, fgraph, node, input_shapes):
        size = node.inputs[1]
        return [input_shapes[0], [size[i] for i in range(self.output_type.ndim)]]

    def connection_pattern(self, node):
        return [[False, False], [False, False]]

    def L_op(self, inputs, outputs, output_grads):
        from ..gradient import DisconnectedType

        return [DisconnectedType()(), DisconnectedType()()]

    def R_op(self, inputs, eval_points):
        return [None for _ in eval_points]


mrg_uniform_base = mrg_uniform


class UndefinedGrad(Op):
    """Identity whose gradient is undefined: marks MRG parameters (low, high, p...) as non-differentiable."""

    view_map = {0: [0]}

    def make_node(self, x):
        x = as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = inputs[0]

    def infer_shape(self, fgraph, node, input_shapes):
        return input_shapes

    def L_op(self, inputs, outputs, output_grads):
        from ..gradient import grad_undefined

        return [grad_undefined(self, 0, inputs[0], "random sampling is not differentiable w.r.t. its parameters")]


def undefined_grad(x):
    """`x`, through which no gradient may pass (asking for one raises)."""
    return UndefinedGrad()(x)


def guess_n_streams(size, warn=False):
    """Theano's number of substreams for a sample of `size`: n/6 (at most 15360); 15360 if symbolic."""
    if isinstance(size, (tuple, list)) and all(isinstance(i, (int, np.integer)) for i in size):
        r = 1
        for s in size:
            r *= int(s)
        if r > 6:
            r = r // 6
        return min(r, 60 * 256)
    if warn:
        warnings.warn(f"MRG_RandomStreams can't determine #streams from size ({size}), guessing 60*256",
                      stacklevel=3)
    return 60 * 256


def _check_size(size):
    """A size (int, tuple/list of ints and integer scalars, or an int vector) as an int64 vector."""
    from ..tensor.shape_ops import as_shape_vector

    if isinstance(size, (int, np.integer)):
        size = (int(size),)
    if isinstance(size, (tuple, list)):
        for i in size:
            if isinstance(i, Variable):
                if as_tensor_variable(i).ndim != 0:
                    raise ValueError(f"size entry {i} must be a scalar, got {i.type}. At {here()}")
            elif isinstance(i, (int, np.integer)):
                if i <= 0:
                    raise ValueError(f"the size {size} has an entry <= 0. At {here()}")
            else:
                raise ValueError(f"size entries must be ints or integer scalar variables; got {i!r} in "
                                 f"{size!r}. At {here()}")
    elif isinstance(size, Variable):
        if size.ndim == 0:
            size = (size,)
        elif size.ndim != 1:
            raise ValueError(f"a size variable must be an integer vector, got {size.type}. At {here()}")
    else:
        raise TypeError(f"size must be an int, a tuple of ints / integer scalars, or an integer vector; got "
                        f"{size!r} of type {type(size).__name__}. At {here()}")
    return as_shape_vector(size, "size")


class MRG_RandomStreams:
    """Random variables from Theano's MRG31k3p generator (states in shared int32 matrices).

    seed: an int in [1, m2) (repeated 6 times) or 6 ints: 3 below m1 and not all
    0, then 3 below m2 and not all 0. Each draw gets `nstreams` substreams
    (by default about one per 6 numbers, at most 15360) starting at `rstate`,
    which then jumps 2**134 steps ahead for the next draw.

    >>> import arignote as th
    >>> srng = MRG_RandomStreams(seed=234)
    >>> f = th.function([], srng.uniform((2, 2)))
    >>> f().shape
    (2, 2)
    """

    def __init__(self, seed=12345):
        #: (shared states, their update, size, nstreams) per draw made so far
        self.state_updates = []
        self.default_instance_seed = seed
        self.set_rstate(seed)

    def updates(self):
        return list(self.state_updates)

    def set_rstate(self, seed):
        """Start the next draw's streams at `seed` (an int, or 6 ints)."""
        if isinstance(seed, (int, np.integer)):
            if seed == 0:
                raise ValueError("seed should not be 0")
            if seed >= M2 or seed < 0:
                raise ValueError(f"seed should be between 1 and {M2 - 1}, got {seed}")
            self.rstate = np.asarray([seed] * 6, dtype="int32")
        elif hasattr(seed, "__len__") and len(seed) == 6:
            s = [int(v) for v in seed]
            if s[0] == s[1] == s[2] == 0:
                raise ValueError(f"the first 3 values of seed should not be all 0: {seed}")
            if s[3] == s[4] == s[5] == 0:
                raise ValueError(f"the last 3 values of seed should not be all 0: {seed}")
            if any(v >= M1 or v < 0 for v in s[:3]):
                raise ValueError(f"the first 3 values of seed should be in [0, {M1}): {seed}")
            if any(v >= M2 or v < 0 for v in s[3:]):
                raise ValueError(f"the last 3 values of seed should be in [0, {M2}): {seed}")
            self.rstate = np.asarray(s, dtype="int32")
        else:
            raise TypeError(f"seed should be 1 integer or 6 integers, got {seed!r}")

    def seed(self, seed=None):
        """Restart at `seed` (default: the instance's) and re-initialise every stream made so far."""
        if seed is None:
            seed = self.default_instance_seed
        self.set_rstate(seed)
        for old_r, new_r, size, nstreams in self.state_updates:
            if nstreams is None:
                nstreams = self.n_streams(size)
            rstates = self.get_substream_rstates(nstreams, new_r.owner.outputs[1].dtype)
            old_r.set_value(rstates, borrow=True)

    def inc_rstate(self):
        """Jump `rstate` 2**134 steps ahead, to the start of the next stream."""
        self.rstate = ff_2p134(self.rstate)

    def get_substream_rstates(self, n_streams, dtype, inc_rstate=True):
        """An (n_streams, 6) int32 matrix of states 2**72 steps apart, from `rstate`."""
        n_streams = int(n_streams)
        if n_streams <= 0:
            raise ValueError(f"n_streams must be positive, got {n_streams}")
        start = np.asarray(self.rstate, dtype=np.int64)
        rval = np.empty((n_streams, 6), dtype=np.int64)
        rval[:, :3] = _apply(_powers(A1p72, n_streams, M1), start[:3], M1)
        rval[:, 3:] = _apply(_powers(A2p72, n_streams, M2), start[3:], M2)
        if inc_rstate:
            self.inc_rstate()
        return rval.astype(np.int32)

    def n_streams(self, size):
        return guess_n_streams(size)

    def pretty_return(self, node_rstate, new_rstate, sample, size, nstreams):
        sample.rstate = node_rstate
        sample.update = (node_rstate, new_rstate)
        self.state_updates.append((node_rstate, new_rstate, size, nstreams))
        node_rstate.default_update = new_rstate
        return sample

    def uniform(self, size, low=0.0, high=1.0, ndim=None, dtype=None, nstreams=None, **kwargs):
        """Uniform samples in (low, high) of shape `size`; dtype at least floatX."""
        from ..config import config
        from ..scalar.dtypes import upcast
        from ..tensor.math import cast

        if dtype is None:
            dtype = upcast(config.floatX, param_dtype(low), param_dtype(high))
        low, high = as_tensor_variable(low), as_tensor_variable(high)
        low = undefined_grad(cast(low, dtype))
        high = undefined_grad(cast(high, dtype))
        kwargs.pop("target", None)
        if kwargs:
            raise TypeError(f"uniform() got unexpected keyword arguments {sorted(kwargs)}")
        v_size = _check_size(size)
        orig_nstreams = nstreams
        if nstreams is None:
            nstreams = self.n_streams(size)
        rstates = self.get_substream_rstates(nstreams, dtype)
        node_rstate = shared(rstates)
        node_rstate.tag.is_rng = True
        new_rstate, u = mrg_uniform.new(node_rstate, ndim, dtype, v_size)
        u = self.pretty_return(node_rstate, new_rstate, u, size=size, nstreams=orig_nstreams)
        r = u * (high - low) + low
        if r.ndim != u.ndim:
            raise NotImplementedError(f"low and high have more dimensions than size {size}; give a size that "
                                      f"covers them. At {here()}")
        return r

    def binomial(self, size=None, n=1, p=0.5, ndim=None, dtype="int64", nstreams=None, **kwargs):
        """0/1 draws with probability p (only n=1 is implemented, as in Theano)."""
        from ..tensor.math import cast

        if not (isinstance(n, (int, np.integer)) and n == 1):
            raise NotImplementedError("MRG_RandomStreams.binomial with n > 1")
        if size is None:
            raise TypeError(f"MRG_RandomStreams.binomial needs a size. At {here()}")
        p = undefined_grad(as_tensor_variable(p))
        x = self.uniform(size=size, ndim=ndim, nstreams=nstreams, **kwargs)
        return cast(x < p, dtype)

    def multinomial(self, size=None, n=1, pvals=None, ndim=None, dtype="int64", nstreams=None, **kwargs):
        """Counts of n draws from each row of the matrix `pvals` (size/ndim are not used)."""
        if pvals is None:
            raise TypeError("You have to specify pvals")
        if size is not None:
            raise ValueError("MRG_RandomStreams.multinomial does not use size: the output has the shape of pvals")
        if ndim is not None:
            raise ValueError("MRG_RandomStreams.multinomial does not use ndim")
        pvals = undefined_grad(as_tensor_variable(pvals))
        if pvals.ndim != 2:
            raise NotImplementedError(f"MRG_RandomStreams.multinomial needs a matrix pvals, got {pvals.type}")
        unis = self.uniform(size=pvals[:, 0].shape * n, ndim=1, nstreams=nstreams, **kwargs)
        return MultinomialFromUniform(dtype)(pvals, unis, as_tensor_variable(n))

    def choice(self, size=1, a=None, replace=True, p=None, ndim=None, dtype="int64", nstreams=None, **kwargs):
        """`size` indices per row of the matrix `p`, without replacement (replace=False, as in Theano)."""
        if replace:
            raise NotImplementedError("MRG_RandomStreams.choice only works without replacement for now "
                                      "(pass replace=False)")
        if a is not None:
            raise TypeError("for now a has to be None in MRG_RandomStreams.choice; values are drawn from "
                            "0 .. p.shape[1]-1")
        if p is None:
            raise TypeError("for now p has to be given to MRG_RandomStreams.choice")
        if ndim is not None:
            raise ValueError("MRG_RandomStreams.choice does not use ndim")
        p = undefined_grad(as_tensor_variable(p))
        if p.ndim != 2:
            raise NotImplementedError(f"MRG_RandomStreams.choice needs a matrix p, got {p.type}")
        unis = self.uniform(size=p[:, 0].shape * size, ndim=1, nstreams=nstreams, **kwargs)
        return ChoiceFromUniform(odtype=dtype)(p, unis, as_tensor_variable(size))

    def multinomial_wo_replacement(self, size=None, n=1, pvals=None, ndim=None, dtype="int64", nstreams=None,
                                   **kwargs):
        """Deprecated: `choice(size=n, p=pvals, replace=False)`."""
        warnings.warn("MRG_RandomStreams.multinomial_wo_replacement() is deprecated; use choice(replace=False)",
                      DeprecationWarning, stacklevel=2)
        if size is not None:
            raise ValueError("multinomial_wo_replacement does not use size; pass n")
        return self.choice(size=n, a=None, replace=False, p=pvals, dtype=dtype, nstreams=nstreams, ndim=ndim,
                           **kwargs)

    def normal(self, size, avg=0.0, std=1.0, ndim=None, dtype=None, nstreams=None, truncate=False, **kwargs):
        """Normal samples (Box-Muller on MRG uniforms); truncate=True redraws those beyond 2 std."""
        from .. import tensor as T
        from ..config import config
        from ..scalar.dtypes import upcast

        size = _check_size(size)
        if dtype is None:
            dtype = upcast(config.floatX, param_dtype(avg), param_dtype(std))
        avg = undefined_grad(as_tensor_variable(avg))
        std = undefined_grad(as_tensor_variable(std))
        avg, std = T.cast(avg, dtype), T.cast(std, dtype)

        def c(v):
            return T.constant(np.asarray(v, dtype=dtype))

        n_odd = T.prod(size, dtype="int64")
        n_even = n_odd + n_odd % 2
        uniform = self.uniform((n_even,), low=0.0, high=1.0, ndim=1, dtype=dtype, nstreams=nstreams, **kwargs)
        u1 = uniform[:n_even // 2]
        u2 = uniform[n_even // 2:]
        r = T.sqrt(c(-2.0) * T.log(u1))
        theta = c(2.0 * np.pi) * u2
        cos_theta, sin_theta = T.cos(theta), T.sin(theta)
        z0 = r * cos_theta
        z1 = r * sin_theta
        if truncate:
            bad0 = (z0 < c(-2.0)) | (z0 > c(2.0))
            bad1 = (z1 < c(-2.0)) | (z1 > c(2.0))
            fix0 = T.nonzero(bad0)[0]
            fix1 = T.nonzero(bad1)[0]
            n_fix = fix0.shape[0] + fix1.shape[0]
            u_fix = self.uniform((n_fix,), low=c(1.0 / np.e ** 2), high=1.0, ndim=1, dtype=dtype,
                                 nstreams=nstreams, **kwargs)
            r_fix = T.sqrt(c(-2.0) * T.log(u_fix))
            z0_fixed = r_fix[:fix0.shape[0]] * cos_theta[fix0]
            z1_fixed = r_fix[fix0.shape[0]:] * sin_theta[fix1]
            norm = T.concatenate([z0[T.nonzero(~bad0)[0]], z0_fixed, z1[T.nonzero(~bad1)[0]], z1_fixed])
        else:
            norm = T.concatenate([z0, z1])
        samples = norm[:n_odd]
        samples = T.reshape(samples, size, ndim=ndim)
        return samples * std + avg

    def truncated_normal(self, size, avg=0.0, std=1.0, ndim=None, dtype=None, nstreams=None, **kwargs):
        """Normal samples truncated at 2 standard deviations (std rescaled so the result has std `std`)."""
        from .. import tensor as T

        # the standard deviation of a standard normal truncated to [-2, 2]
        std = std / T.constant(0.87962566103423978)
        return self.normal(size=size, avg=avg, std=std, truncate=True, ndim=ndim, dtype=dtype,
                           nstreams=nstreams, **kwargs)


__all__ = ["MRG_RandomStreams", "mrg_uniform", "guess_n_streams", "M1", "M2", "undefined_grad"]
