"""Random draws: MRG31k3p uniforms (mrg_uniform) and the categorical ops that consume them.

mrg_uniform runs each stream one step at a time, as Theano's C code did:
number i comes from stream i % n_streams, each stream advances once per
number it gives, z = (x1 - x2) mod m1 (m1 when <= 0), scaled as the perform's
`_to_unit` scales it. The recurrences are exact in int64 and the perform's
matrix powers compute the same integers, so the sample and the new states
are bit-identical to the perform's. A float16 sample is not a Numba dtype
and keeps its perform; so does any other dtype than float32/float64.

MultinomialFromUniform, and ChoiceFromUniform with replacement, are loops
over the same sequential float64 / input-dtype cumulative sums NumPy's
cumsum computes, so they give the perform's counts and indices exactly.

Not lowered, on purpose:

* ChoiceFromUniform without replacement (what MRG_RandomStreams.choice
  builds): after each pick the perform renormalises the row with
  `p /= p.sum(axis=1)`, a NumPy reduction with NumPy's pairwise summation
  (8-way unrolled blocks, recursive halving above 128 elements, chunking by
  the iterator's buffer size). Equal probabilities, hence equal picks, would
  need a copy of that NumPy-internal summation order; it runs its perform.

* RandomFunction (RandomStreams' NumPy draws). Measured with numba 0.68.1
  and numpy 2.4: RandomStreams gives each draw a legacy
  numpy.random.RandomState, and Numba rejects a RandomState argument
  (TypingError). Numba's own legacy np.random.* functions draw from a
  per-thread MT19937 state of Numba's; loaded from the RandomState's state
  (only through Numba's private `_helperlib.rnd_set_state`) they do give
  NumPy's numbers for uniform, normal, randint, binomial, poisson,
  permutation and multinomial with scalar parameters, but that state cannot
  carry the RandomState's cached Gaussian (a normal draw after an odd-sized
  normal draw differs from NumPy's), and uniform with array bounds and
  choice with p do not compile. A numpy.random.Generator (which a user may
  share instead) can be passed into njit code and gives NumPy's numbers
  (random, uniform, normal, integers, binomial, poisson, permutation were
  identical), but only for scalar parameters, and the draw advances the
  generator in place, while the op must return a new generator object,
  which native code cannot create. So a RandomFunction node keeps its NumPy
  perform between native segments (its generator is not a tensor: the
  program never hands it to a segment), which gives the reference backend's
  numbers for the same seed.
"""
from __future__ import annotations

import numpy as np

from ....sandbox.multinomial import ChoiceFromUniform, MultinomialFromUniform
from ....sandbox.rng_mrg import M1, M2, NORM, mrg_uniform
from ..context import NativeSource, dtype_expr
from ..registry import NotLowerable, lowers

#: how a stream's output z in [1, m1] becomes a sample: the perform's _to_unit, per dtype
_TO_UNIT = {
    # z * float64(float32(4.6566126e-10)), rounded once to float32
    "float32": f"np.float32(np.float64(z) * {float(np.float32(4.6566126e-10))!r})",
    "float64": f"np.float64(z) * {NORM!r}",
}


def _mrg_helper(ctx, dtype: str) -> str:
    """The name of the helper that fills `flat` from the streams of `rstate` and writes their end states.

    The helper reads a stream's whole state before writing its end state, so
    `new_state` may be `rstate` itself (the in-place op). States are reduced
    mod m first, as the perform's matrix products reduce them.
    """
    name = f"_mrg31k3p_{dtype}"
    source = f"""def {name}(rstate, n_elements, flat, new_state):
    m1 = np.int64({M1})
    m2 = np.int64({M2})
    n_streams = rstate.shape[0]
    for s in range(n_streams):
        x10 = np.int64(rstate[s, 0]) % m1
        x11 = np.int64(rstate[s, 1]) % m1
        x12 = np.int64(rstate[s, 2]) % m1
        x20 = np.int64(rstate[s, 3]) % m2
        x21 = np.int64(rstate[s, 4]) % m2
        x22 = np.int64(rstate[s, 5]) % m2
        for i in range(s, n_elements, n_streams):
            y1 = (np.int64({2 ** 22}) * x11 + np.int64({2 ** 7 + 1}) * x12) % m1
            y2 = (np.int64({2 ** 15}) * x20 + np.int64({2 ** 15 + 1}) * x22) % m2
            x12 = x11
            x11 = x10
            x10 = y1
            x22 = x21
            x21 = x20
            x20 = y2
            z = y1 - y2
            if z <= 0:
                z += m1
            flat[i] = {_TO_UNIT[dtype]}
        new_state[s, 0] = np.int32(x10)
        new_state[s, 1] = np.int32(x11)
        new_state[s, 2] = np.int32(x12)
        new_state[s, 3] = np.int32(x20)
        new_state[s, 4] = np.int32(x21)
        new_state[s, 5] = np.int32(x22)
"""
    ctx.namespace.values[name] = NativeSource(name, source)
    return name


def _sample_count(ctx, size: str, ndim: int, itemsize: int) -> str:
    """Emit the checks of `size` and return the name of its element count (at most m1).

    Counted without overflow: a zero entry makes the sample empty whatever the
    others are (as NumPy's reshape has it), unless the other entries' product
    would overflow the array's byte size (NumPy's reshape refuses that shape);
    otherwise the count must stay within m1 (the perform's limit of 2**31 - 1).
    """
    n, big, k, e = ctx.fresh("n"), ctx.fresh("nonzero"), ctx.fresh("k"), ctx.fresh("e")
    negative, empty = ctx.fresh("negative"), ctx.fresh("empty")
    too_many, too_big = ctx.fresh("too_many"), ctx.fresh("too_big")
    byte_limit = (2 ** 63 - 1) // itemsize
    where = ctx.where()
    ctx.check(f"{size}.shape[0] != {ndim}", f"mrg_uniform: size needs {ndim} entries (built at {where})")
    for name, value in ((n, "np.int64(1)"), (big, "np.int64(1)"), (negative, "False"), (empty, "False"),
                        (too_many, "False"), (too_big, "False")):
        ctx.emit(f"{name} = {value}")
    with ctx.block(f"for {k} in range({ndim}):"):
        ctx.emit(f"{e} = np.int64({size}[{k}])")
        with ctx.block(f"if {e} < 0:"):
            ctx.emit(f"{negative} = True")
        with ctx.block(f"elif {e} == 0:"):
            ctx.emit(f"{empty} = True")
        with ctx.block("else:"):
            # both products saturate instead of overflowing: n stays <= m1, nonzero <= byte_limit
            with ctx.block(f"if {n} > np.int64({M1}) // {e}:"):
                ctx.emit(f"{too_many} = True")
            with ctx.block("else:"):
                ctx.emit(f"{n} = {n} * {e}")
            with ctx.block(f"if {big} > np.int64({byte_limit}) // {e}:"):
                ctx.emit(f"{too_big} = True")
            with ctx.block("else:"):
                ctx.emit(f"{big} = {big} * {e}")
    ctx.check(negative, f"mrg_uniform: negative size (built at {where})")
    ctx.check(f"({too_many} and not {empty}) or {too_big}",
              f"mrg_uniform: more than 2**31 - 1 samples, or a shape too big for an array (built at {where})")
    with ctx.block(f"if {empty}:"):
        ctx.emit(f"{n} = np.int64(0)")
    return n


@lowers(mrg_uniform)
def lower_mrg_uniform(ctx):
    op = ctx.node.op
    dtype = ctx.out_dtype(1)
    if dtype not in _TO_UNIT:
        raise NotLowerable(f"mrg_uniform draws {dtype} samples only through its perform")
    rstate, size = ctx.inputs
    new_state, sample = ctx.outputs
    ndim = ctx.out_ndim(1)
    where = ctx.where()
    ctx.check(f"{rstate}.shape[1] != 6 or {rstate}.shape[0] == 0",
              f"mrg_uniform: rstate must have shape (n_streams, 6) (built at {where})")
    n = _sample_count(ctx, size, ndim, np.dtype(dtype).itemsize)
    # every check passed: only now may the states be overwritten
    if op.inplace:
        ctx.emit(f"{new_state} = {rstate}")
    else:
        ctx.emit(f"{new_state} = np.empty(({rstate}.shape[0], 6), dtype=np.int32)")
    flat = ctx.fresh("flat")
    ctx.emit(f"{flat} = np.empty({n}, dtype={dtype_expr(dtype)})")
    ctx.emit(f"{_mrg_helper(ctx, dtype)}({rstate}, {n}, {flat}, {new_state})")
    if ndim == 0:
        ctx.emit(f"{sample} = {flat}[0]")
    elif ndim == 1:
        ctx.emit(f"{sample} = {flat}")
    else:
        shape = ", ".join(f"{size}[{d}]" for d in range(ndim))
        ctx.emit(f"{sample} = {flat}.reshape(({shape}))")


# -- categorical draws from given uniforms ------------------------------------------------------------------


def _categorical_inputs(ctx, pvals_kinds: str, shaped_itemsize: int):
    """(pvals, unis, n as int64) after the checks both ops' performs make; NotLowerable for other dtypes.

    `shaped_itemsize`: the item size of the array the perform shapes with n
    (NumPy refuses a shape (n, 0) whose n times that overflows, even empty).
    """
    if ctx.in_dtype(0)[0] not in pvals_kinds or ctx.in_dtype(1)[0] != "f":
        raise NotLowerable(f"{ctx.node.op} is lowered for float uniforms and "
                           f"{'integer or float' if 'i' in pvals_kinds else 'float'} probabilities")
    pvals, unis, n_in = ctx.inputs
    n = ctx.fresh("n_samples")
    ctx.emit(f"{n} = np.int64({n_in})")
    # a negative count (or one whose sample array could not exist) fails in the perform even with no rows
    limit = (2 ** 63 - 1) // shaped_itemsize
    # (rows > 0 and n > len(unis)) first: rows * n is then computed only where it cannot overflow
    ctx.check(f"{n} < 0 or {n} > {limit} or ({pvals}.shape[0] > 0 and {n} > {unis}.shape[0]) "
              f"or {unis}.shape[0] != {pvals}.shape[0] * {n}",
              f"{ctx.node.op}: the uniforms do not match rows x samples (built at {ctx.where()})")
    return pvals, unis, n


@lowers(MultinomialFromUniform)
def lower_multinomial_from_uniform(ctx):
    """Row i's draw c lands on the number of cumulative sums (float64) below unis[c * rows + i]."""
    out_dtype = ctx.out_dtype()
    if out_dtype[0] not in "iuf":
        raise NotLowerable(f"MultinomialFromUniform counts in {out_dtype} only through its perform")
    # the perform shapes (n, rows) uniforms and (n, rows) int64 outcomes, and compares (n, rows, k) of them
    pvals, unis, n = _categorical_inputs(ctx, "iuf", max(8, np.dtype(ctx.in_dtype(1)).itemsize))
    out = ctx.outputs[0]
    rows, k = f"{pvals}.shape[0]", f"{pvals}.shape[1]"
    ctx.check(f"{k} > 0 and {n} > np.int64({2 ** 63 - 1}) // {k}",
              f"MultinomialFromUniform: too many samples (built at {ctx.where()})")
    cum, acc = ctx.fresh("cum"), ctx.fresh("acc")
    i, j, c, u, hit = ctx.fresh("i"), ctx.fresh("j"), ctx.fresh("c"), ctx.fresh("u"), ctx.fresh("hit")
    ctx.emit(f"{out} = np.zeros(({rows}, {k}), dtype={dtype_expr(out_dtype)})")
    ctx.emit(f"{cum} = np.empty({k}, dtype=np.float64)")
    with ctx.block(f"for {i} in range({rows}):"):
        ctx.emit(f"{acc} = np.float64(0.0)")
        with ctx.block(f"for {j} in range({k}):"):
            ctx.emit(f"{acc} += np.float64({pvals}[{i}, {j}])")
            ctx.emit(f"{cum}[{j}] = {acc}")
        with ctx.block(f"for {c} in range({n}):"):
            ctx.emit(f"{u} = np.float64({unis}[{c} * {rows} + {i}])")
            # a count, not a search: what the perform's (cumsum < u).sum() gives for any row
            ctx.emit(f"{hit} = 0")
            with ctx.block(f"for {j} in range({k}):"):
                with ctx.block(f"if {cum}[{j}] < {u}:"):
                    ctx.emit(f"{hit} += 1")
            with ctx.block(f"if {hit} < {k}:"):
                ctx.emit(f"{out}[{i}, {hit}] += {dtype_expr(out_dtype)}(1)")


@lowers(ChoiceFromUniform)
def lower_choice_from_uniform(ctx):
    """With replacement: row i's pick c is the first index whose cumulative sum exceeds unis[c * rows + i]."""
    op = ctx.node.op
    if not op.replace:
        raise NotLowerable("ChoiceFromUniform without replacement renormalises rows with NumPy's pairwise "
                           "sum, whose rounding native code does not reproduce")
    out_dtype = ctx.out_dtype()
    if out_dtype[0] not in "if" or ctx.in_dtype(0) not in ("float32", "float64"):
        raise NotLowerable("ChoiceFromUniform is lowered for float32/float64 p and signed or float indices")
    pvals, unis, n = _categorical_inputs(ctx, "f", np.dtype(out_dtype).itemsize)  # np.full((rows, n))
    out = ctx.outputs[0]
    p_dt = dtype_expr(ctx.in_dtype(0))
    rows, k = f"{pvals}.shape[0]", f"{pvals}.shape[1]"
    # the perform's argmax over no outcomes fails (even for no rows) once it draws
    ctx.check(f"{k} == 0 and {n} > 0", f"ChoiceFromUniform: no outcome to choose from (built at {ctx.where()})")
    cum = ctx.fresh("cum")
    i, j, c, u = ctx.fresh("i"), ctx.fresh("j"), ctx.fresh("c"), ctx.fresh("u")
    ctx.emit(f"{out} = np.full(({rows}, {n}), -1, dtype={dtype_expr(out_dtype)})")
    ctx.emit(f"{cum} = np.empty({k}, dtype={p_dt})")
    with ctx.block(f"for {i} in range({rows}):"):
        # NumPy's cumsum in p's dtype: the first entry as it is, then one rounding per addition
        with ctx.block(f"for {j} in range({k}):"):
            ctx.emit(f"{cum}[{j}] = {pvals}[{i}, {j}] if {j} == 0 else {cum}[{j} - 1] + {pvals}[{i}, {j}]")
        with ctx.block(f"for {c} in range({n}):"):
            ctx.emit(f"{u} = {unis}[{c} * {rows} + {i}]")
            with ctx.block(f"for {j} in range({k}):"):
                with ctx.block(f"if {cum}[{j}] > {u}:"):
                    ctx.emit(f"{out}[{i}, {c}] = {j}")
                    ctx.emit("break")
