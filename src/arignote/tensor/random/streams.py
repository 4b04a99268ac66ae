"""RandomStreams: a factory of random variables, each with its own shared generator.

Every draw (`srng.uniform((2, 2))`) gets a fresh `numpy.random.RandomState`
in a shared variable (`rv.rng`) whose `default_update` is the advanced
generator, so each call of a compiled function draws new numbers unless the
function is compiled with `no_default_updates=True`. Stream seeds follow
Theano 1.0.5 exactly: a seed generator `RandomState(seed)` gives each new
stream `RandomState(seedgen.randint(2**30))`, so the same seed reproduces the
numbers Theano gave.
"""
from __future__ import annotations

import numpy as np

from ...graph.sourceline import here
from . import basic as raw
from .permute import permute_row_elements
from .type import randomstate_constructor


class RandomStreamsBase:
    """The distributions, as methods; subclasses define `gen(op, *args, **kwargs)`."""

    def binomial(self, size=None, n=1, p=0.5, ndim=None, dtype="int64", prob=None):
        """Successes in `n` trials of probability `p` (`prob` is the old name of `p`)."""
        if prob is not None:
            p = prob
        return self.gen(raw.binomial, size, n, p, ndim=ndim, dtype=dtype)

    def uniform(self, size=None, low=0.0, high=1.0, ndim=None, dtype=None):
        """Uniform draws in [low, high), of shape `size` (default: the shape of low and high)."""
        return self.gen(raw.uniform, size, low, high, ndim=ndim, dtype=dtype)

    def normal(self, size=None, avg=0.0, std=1.0, ndim=None, dtype=None):
        """Normal draws of mean `avg` and standard deviation `std`."""
        return self.gen(raw.normal, size, avg, std, ndim=ndim, dtype=dtype)

    def random_integers(self, size=None, low=0, high=1, ndim=None, dtype="int64"):
        """Integers between low and high, both inclusive."""
        return self.gen(raw.random_integers, size, low, high, ndim=ndim, dtype=dtype)

    def integers(self, size=None, low=0, high=None, ndim=None, dtype="int64", endpoint=False):
        """NumPy-style integers: in [low, high) (`endpoint=True`: [low, high]); one bound means [0, low).

        The same numbers as `numpy.random.RandomState.randint(low, high, size)`.
        """
        if high is None:
            low, high = 0, low
        if not endpoint:
            high = high - 1
        return self.random_integers(size, low, high, ndim=ndim, dtype=dtype)

    def choice(self, size=None, a=2, replace=True, p=None, ndim=None, dtype="int64"):
        """Values of `a` (range(a) for an int), with or without replacement, weighted by `p`."""
        return self.gen(raw.choice, size, a, replace, p, ndim=ndim, dtype=dtype)

    def poisson(self, size=None, lam=1.0, ndim=None, dtype="int64"):
        """Poisson counts with expectation `lam`."""
        if lam is None:
            raise TypeError(f"poisson needs lam (its expectation). At {here()}")
        return self.gen(raw.poisson, size, lam, ndim=ndim, dtype=dtype)

    def permutation(self, size=None, n=1, ndim=None, dtype="int64"):
        """Permutations of range(n), one per element of `size` (output shape size + (n,))."""
        return self.gen(raw.permutation, size, n, ndim=ndim, dtype=dtype)

    def multinomial(self, size=None, n=1, pvals=(0.5, 0.5), ndim=None, dtype="int64"):
        """Counts of `n` draws from the distributions in the last axis of `pvals`."""
        return self.gen(raw.multinomial, size, n, pvals, ndim=ndim, dtype=dtype)

    def shuffle_row_elements(self, input):
        """`input` with every row (last axis) shuffled; the permutations are `.permutation`."""
        from ..variable import as_tensor_variable

        input = as_tensor_variable(input)
        perm = self.permutation(size=input.shape[:-1], n=input.shape[-1], ndim=input.ndim - 1)
        shuffled = permute_row_elements(input, perm)
        shuffled.permutation = perm
        return shuffled


class RandomStreams(RandomStreamsBase):
    """Random variables backed by shared `numpy.random.RandomState`s (Theano's shared_randomstreams).

    >>> import arignote as th
    >>> srng = RandomStreams(seed=234)
    >>> rv = srng.uniform((2, 2))
    >>> f = th.function([], rv)
    >>> bool((f() != f()).all())   # each call advances the stream
    True
    """

    def __init__(self, seed=None):
        super().__init__()
        #: (shared generator, its update expression) per draw made so far
        self.state_updates = []
        #: the seed `seed()` falls back on
        self.default_instance_seed = seed
        # seeds each new stream, as Theano did
        self.gen_seedgen = np.random.RandomState(seed)

    def updates(self):
        """The (shared generator, update) pairs of every draw, for function(updates=...)."""
        return list(self.state_updates)

    def seed(self, seed=None):
        """Reseed every stream made so far, deterministically from `seed` (default: the instance's)."""
        if seed is None:
            seed = self.default_instance_seed
        seedgen = np.random.RandomState(seed)
        for old_r, _ in self.state_updates:
            old_r.set_value(np.random.RandomState(int(seedgen.randint(2 ** 30))), borrow=True)

    def __getitem__(self, item):
        """The generator held by the shared variable `item` (`srng[rv.rng]`)."""
        return item.get_value(borrow=True)

    def __setitem__(self, item, val):
        item.set_value(val, borrow=True)

    def gen(self, op, *args, **kwargs):
        """A new stream: a fresh shared generator fed to `op(rng, *args, **kwargs)`; returns the sample.

        The sample carries `.rng` (the shared generator) and `.update` (rng,
        new rng); the generator's `default_update` advances it on each call.
        """
        seed = int(self.gen_seedgen.randint(2 ** 30))
        rng = randomstate_constructor(np.random.RandomState(seed), borrow=True)
        rng.tag.is_rng = True
        new_r, out = op(rng, *args, **kwargs)
        out.rng = rng
        out.update = (rng, new_r)
        self.state_updates.append(out.update)
        rng.default_update = new_r
        return out


__all__ = ["RandomStreams", "RandomStreamsBase"]
