"""The same workloads as workloads.py, written natively for NumPy, JAX and PyTorch.

    IMPL=numpy|jax|torch|torch_compile python natives.py W5
    IMPL=torch MODE=threads=1 python natives.py W5     # torch with a 1-thread intra-op pool

Prints one JSON line in the same form as workloads.py. `W3_first` (any workload
name + `_first`) stops after the first call: value = seconds to build the function
(jax.jit, torch.compile: trivial wrappers) plus its first call, which is where JAX
traces and compiles; the same figure a timed run records as compile_s. NumPy has
no build step: its `_first` workloads do not apply (the runner skips them).
"""
import json
import os
import sys
import time

import numpy as np

from timing import timeit

IMPL = os.environ.get("IMPL", "numpy")
f32 = np.float32


FIRST = "_first"
FIRST_ONLY = False  # set by __main__ for a `_first` workload: no timing loop after the first call


def _clock(build_and_first):
    t0 = time.perf_counter()
    out = build_and_first()
    return out, time.perf_counter() - t0


def _timed(call, compile_s, unit, scale, extra=lambda seconds: {}):
    """The result of a workload whose build + first call took `compile_s`: steady-state
    seconds per `call` (in `unit`), or, for a `_first` workload, compile_s alone."""
    if FIRST_ONLY:
        return dict(value=compile_s, unit="s")
    t = timeit(call)
    return dict(value=t * scale, unit=unit, **extra(t), compile_s=compile_s)


# ------------------------------------------------------------------ numpy
def np_w1():
    v = np.arange(10, dtype=f32)
    return dict(value=timeit(lambda: v + f32(1)) * 1e6, unit="us", compile_s=0.0)


def np_w2(n):
    rng = np.random.default_rng(0)
    a = rng.standard_normal(n, dtype=f32)
    b = rng.standard_normal(n, dtype=f32)
    t = timeit(lambda: np.exp(-a ** 2) * np.sin(b) + np.tanh(a * b))
    return dict(value=t * 1e3, unit="ms", gbps=3 * n * 4 / t / 1e9, compile_s=0.0)


def np_w3():
    rng = np.random.RandomState(0)
    X = rng.randn(121, 11).astype(f32)
    Y = (X @ rng.randn(11) > 0).astype(f32)
    st = dict(W=np.zeros(11, f32), b=f32(0))
    lr = f32(0.1)

    def step():
        p = 1 / (1 + np.exp(-(X @ st["W"] + st["b"])))
        cost = -(Y * np.log(p) + (1 - Y) * np.log(1 - p)).mean()
        d = (p - Y) / f32(len(Y))
        st["W"] = st["W"] - lr * (X.T @ d)
        st["b"] = st["b"] - lr * d.sum()
        return cost
    return dict(value=timeit(step) * 1e6, unit="us", compile_s=0.0)


def np_w4(batch=128):
    rng = np.random.RandomState(1)
    X = rng.randn(batch, 784).astype(f32)
    Y = rng.randint(0, 10, batch)
    P = dict(W1=(rng.randn(784, 500) * 0.05).astype(f32), b1=np.zeros(500, f32),
             W2=(rng.randn(500, 10) * 0.05).astype(f32), b2=np.zeros(10, f32))
    lr = f32(0.01)
    idx = np.arange(batch)

    def step():
        h = np.tanh(X @ P["W1"] + P["b1"])
        o = h @ P["W2"] + P["b2"]
        o = o - o.max(1, keepdims=True)
        e = np.exp(o)
        p = e / e.sum(1, keepdims=True)
        cost = -np.log(p[idx, Y]).mean()
        do = p
        do[idx, Y] -= 1
        do /= batch
        gW2 = h.T @ do
        gb2 = do.sum(0)
        dh = (do @ P["W2"].T) * (1 - h * h)
        gW1 = X.T @ dh
        gb1 = dh.sum(0)
        P["W1"] -= lr * gW1
        P["b1"] -= lr * gb1
        P["W2"] -= lr * gW2
        P["b2"] -= lr * gb2
        return cost
    return dict(value=timeit(step) * 1e3, unit="ms", compile_s=0.0)


def np_w5(V=10000, E=100, H=100, C=5, L=30):
    rng = np.random.RandomState(2)
    P = {n: (rng.randn(*s) * 0.1).astype(f32) for n, s in dict(
        emb=(V, E), Wz=(E, H), Uz=(H, H), Wr=(E, H), Ur=(H, H), Wh=(E, H), Uh=(H, H), Wo=(H, C)).items()}
    sent = rng.randint(0, V, L)
    lr = f32(0.01)
    sg = lambda v: 1 / (1 + np.exp(-v))

    def step():  # hand-written BPTT with a sparse embedding update (what a careful user writes)
        xs = P["emb"][sent]
        h = np.zeros(H, f32)
        cache = []
        for x in xs:
            z = sg(x @ P["Wz"] + h @ P["Uz"])
            r = sg(x @ P["Wr"] + h @ P["Ur"])
            hh = np.tanh(x @ P["Wh"] + (r * h) @ P["Uh"])
            cache.append((x, h, z, r, hh))
            h = (1 - z) * h + z * hh
        o = h @ P["Wo"]
        o = o - o.max()
        p = np.exp(o) / np.exp(o).sum()
        cost = -np.log(p[2])
        do = p.copy()
        do[2] -= 1
        G = {k: np.zeros_like(v) for k, v in P.items() if k != "emb"}
        G["Wo"] = np.outer(h, do)
        dh = P["Wo"] @ do
        gx = np.zeros_like(xs)
        for t in range(L - 1, -1, -1):
            x, hp, z, r, hh = cache[t]
            dhh = dh * z * (1 - hh * hh)
            dz = dh * (hh - hp) * z * (1 - z)
            drh = P["Uh"] @ dhh
            dr = drh * hp * r * (1 - r)
            G["Wh"] += np.outer(x, dhh); G["Uh"] += np.outer(r * hp, dhh)
            G["Wz"] += np.outer(x, dz); G["Uz"] += np.outer(hp, dz)
            G["Wr"] += np.outer(x, dr); G["Ur"] += np.outer(hp, dr)
            gx[t] = P["Wh"] @ dhh + P["Wz"] @ dz + P["Wr"] @ dr
            dh = dh * (1 - z) + drh * r + P["Uz"] @ dz + P["Ur"] @ dr
        for k, g in G.items():
            P[k] -= lr * g
        np.add.at(P["emb"], sent, -lr * gx)
        return cost
    return dict(value=timeit(step) * 1e3, unit="ms", compile_s=0.0)


def np_w7(k=1000):
    a = np.linspace(0.999, 1.001, 10).astype(f32)

    def run():
        r = np.ones_like(a)
        for _ in range(k):
            r = r * a
        return r
    return dict(value=timeit(run) * 1e6, unit="us", compile_s=0.0)


# ------------------------------------------------------------------ jax
def jax_all():
    import jax
    import jax.numpy as jnp

    def jit_first(fn, *args):  # (jitted fn, seconds of jax.jit + its first call: trace, compile, run)
        def build_and_call():
            f = jax.jit(fn)
            f(*args).block_until_ready()
            return f
        return _clock(build_and_call)

    def w1():
        v = jnp.arange(10, dtype=jnp.float32)
        f, c = jit_first(lambda v: v + 1, v)
        return _timed(lambda: f(v).block_until_ready(), c, "us", 1e6)

    def w2(n):
        rng = np.random.default_rng(0)
        a = jnp.asarray(rng.standard_normal(n, dtype=f32))
        b = jnp.asarray(rng.standard_normal(n, dtype=f32))
        f, c = jit_first(lambda a, b: jnp.exp(-a ** 2) * jnp.sin(b) + jnp.tanh(a * b), a, b)
        return _timed(lambda: f(a, b).block_until_ready(), c, "ms", 1e3,
                      extra=lambda t: dict(gbps=3 * n * 4 / t / 1e9))

    def train(loss, params, *data, unit="ms", scale=1e3):
        t0 = time.perf_counter()  # build + first call: jax.jit, then trace, compile and run

        @jax.jit
        def step(p, *d):
            c, g = jax.value_and_grad(loss)(p, *d)
            return c, jax.tree_util.tree_map(lambda q, gq: q - 0.01 * gq, p, g)
        st = [params]

        def run():
            c, st[0] = step(st[0], *data)
            jax.block_until_ready(st[0])
        run()
        comp = time.perf_counter() - t0
        return _timed(run, comp, unit, scale)

    def w3():
        rng = np.random.RandomState(0)
        X = jnp.asarray(rng.randn(121, 11).astype(f32))
        Y = jnp.asarray((np.asarray(X) @ rng.randn(11) > 0).astype(f32))

        def loss(p, X, Y):
            pr = jax.nn.sigmoid(X @ p["W"] + p["b"])
            return -(Y * jnp.log(pr) + (1 - Y) * jnp.log(1 - pr)).mean()
        return train(loss, dict(W=jnp.zeros(11), b=jnp.float32(0)), X, Y, unit="us", scale=1e6)

    def w4(batch=128):
        rng = np.random.RandomState(1)
        X = jnp.asarray(rng.randn(batch, 784).astype(f32))
        Y = jnp.asarray(rng.randint(0, 10, batch))
        P = dict(W1=jnp.asarray((rng.randn(784, 500) * 0.05).astype(f32)), b1=jnp.zeros(500),
                 W2=jnp.asarray((rng.randn(500, 10) * 0.05).astype(f32)), b2=jnp.zeros(10))

        def loss(p, X, Y):
            h = jnp.tanh(X @ p["W1"] + p["b1"])
            lp = jax.nn.log_softmax(h @ p["W2"] + p["b2"], axis=1)
            return -lp[jnp.arange(batch), Y].mean()
        return train(loss, P, X, Y)

    def w5(V=10000, E=100, H=100, C=5, L=30):
        rng = np.random.RandomState(2)
        P = {n: jnp.asarray((rng.randn(*s) * 0.1).astype(f32)) for n, s in dict(
            emb=(V, E), Wz=(E, H), Uz=(H, H), Wr=(E, H), Ur=(H, H), Wh=(E, H), Uh=(H, H), Wo=(H, C)).items()}
        ids = jnp.asarray(rng.randint(0, V, L))

        def loss(P, ids):
            def cell(h, x):
                z = jax.nn.sigmoid(x @ P["Wz"] + h @ P["Uz"])
                r = jax.nn.sigmoid(x @ P["Wr"] + h @ P["Ur"])
                hh = jnp.tanh(x @ P["Wh"] + (r * h) @ P["Uh"])
                return (1 - z) * h + z * hh, None
            h, _ = jax.lax.scan(cell, jnp.zeros(H), P["emb"][ids])
            return -jax.nn.log_softmax(h @ P["Wo"])[2]
        return train(loss, P, ids)

    def w7(k=1000):
        a = jnp.asarray(np.linspace(0.999, 1.001, 10).astype(f32))
        f, c = jit_first(lambda a: jax.lax.fori_loop(0, k, lambda i, r: r * a, jnp.ones_like(a)), a)
        return _timed(lambda: f(a).block_until_ready(), c, "us", 1e6)

    return dict(W1=w1, W2_1e6=lambda: w2(10**6), W2_1e7=lambda: w2(10**7), W3=w3, W4=w4, W5=w5, W7=w7)


# ------------------------------------------------------------------ torch
def torch_all(compile_=False):
    import torch
    # MODE=threads=N (runner: --impl torch:threads=N) sets the intra-op pool's size; the
    # default uses every core, which on a loaded machine makes tiny ops wait on each other
    mode = os.environ.get("MODE", "")
    torch.set_num_threads(int(mode[8:]) if mode.startswith("threads=") else os.cpu_count())
    cmp = (lambda f: torch.compile(f)) if compile_ else (lambda f: f)

    def first(fn, *args):  # (fn wrapped, seconds of wrapping (torch.compile) + its first call)
        def build_and_call():
            f = cmp(fn)
            f(*args)
            return f
        return _clock(build_and_call)

    def w1():
        v = torch.arange(10, dtype=torch.float32)
        f, c = first(lambda v: v + 1, v)
        return _timed(lambda: f(v), c, "us", 1e6)

    def w2(n):
        rng = np.random.default_rng(0)
        a = torch.from_numpy(rng.standard_normal(n, dtype=f32))
        b = torch.from_numpy(rng.standard_normal(n, dtype=f32))
        f, c = first(lambda a, b: torch.exp(-a ** 2) * torch.sin(b) + torch.tanh(a * b), a, b)
        return _timed(lambda: f(a, b), c, "ms", 1e3, extra=lambda t: dict(gbps=3 * n * 4 / t / 1e9))

    def train(loss, params, unit="ms", scale=1e3):
        ps = list(params.values())
        for q in ps:
            q.requires_grad_(True)

        def run():
            c = loss(params)
            gs = torch.autograd.grad(c, ps)
            with torch.no_grad():
                for q, g in zip(ps, gs):
                    q -= 0.01 * g
        _, comp = _clock(run)
        return _timed(run, comp, unit, scale)

    def w3():
        rng = np.random.RandomState(0)
        Xn = rng.randn(121, 11).astype(f32)
        X = torch.from_numpy(Xn)
        Y = torch.from_numpy((Xn @ rng.randn(11) > 0).astype(f32))
        lf = cmp(lambda p: torch.nn.functional.binary_cross_entropy(torch.sigmoid(X @ p["W"] + p["b"]), Y))
        return train(lf, dict(W=torch.zeros(11), b=torch.zeros(())), unit="us", scale=1e6)

    def w4(batch=128):
        rng = np.random.RandomState(1)
        X = torch.from_numpy(rng.randn(batch, 784).astype(f32))
        Y = torch.from_numpy(rng.randint(0, 10, batch))
        P = dict(W1=torch.from_numpy((rng.randn(784, 500) * 0.05).astype(f32)), b1=torch.zeros(500),
                 W2=torch.from_numpy((rng.randn(500, 10) * 0.05).astype(f32)), b2=torch.zeros(10))
        lf = cmp(lambda p: torch.nn.functional.cross_entropy(torch.tanh(X @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"], Y))
        return train(lf, P)

    def w5(V=10000, E=100, H=100, C=5, L=30):
        rng = np.random.RandomState(2)
        P = {n: torch.from_numpy((rng.randn(*s) * 0.1).astype(f32)) for n, s in dict(
            emb=(V, E), Wz=(E, H), Uz=(H, H), Wr=(E, H), Ur=(H, H), Wh=(E, H), Uh=(H, H), Wo=(H, C)).items()}
        ids = torch.from_numpy(rng.randint(0, V, L))

        def loss(P):
            h = torch.zeros(H)
            for x in P["emb"][ids]:
                z = torch.sigmoid(x @ P["Wz"] + h @ P["Uz"])
                r = torch.sigmoid(x @ P["Wr"] + h @ P["Ur"])
                hh = torch.tanh(x @ P["Wh"] + (r * h) @ P["Uh"])
                h = (1 - z) * h + z * hh
            return -torch.log_softmax(h @ P["Wo"], 0)[2]
        return train(cmp(loss), P)

    def w7(k=1000):
        a = torch.from_numpy(np.linspace(0.999, 1.001, 10).astype(f32))

        def run():
            r = torch.ones_like(a)
            for _ in range(k):
                r = r * a
            return r
        _, c = _clock(run)
        return _timed(run, c, "us", 1e6)

    return dict(W1=w1, W2_1e6=lambda: w2(10**6), W2_1e7=lambda: w2(10**7), W3=w3, W4=w4, W5=w5, W7=w7)


if __name__ == "__main__":
    name = sys.argv[1]
    table = {
        "numpy": lambda: dict(W1=np_w1, W2_1e6=lambda: np_w2(10**6), W2_1e7=lambda: np_w2(10**7),
                              W3=np_w3, W4=np_w4, W5=np_w5, W7=np_w7),
        "jax": jax_all,
        "torch": torch_all,
        "torch_compile": lambda: torch_all(True),
    }[IMPL]()
    FIRST_ONLY = name.endswith(FIRST)
    try:
        if FIRST_ONLY and IMPL == "numpy":
            raise ValueError(f"{name}: NumPy has no build step, so no time to first result")
        r = table[name[:-len(FIRST)] if FIRST_ONLY else name]()
        r.update(ok=True)
    except Exception as e:
        r = dict(ok=False, error=f"{type(e).__name__}: {str(e)[:300]}")
    r.update(workload=name, impl=IMPL, mode="native")
    print(json.dumps(r))
