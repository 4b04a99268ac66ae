"""The rewritten-graph cache: a warm function() skips rewriting and computes exactly what a cold one does."""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import arignote as th
import arignote.tensor as T
from arignote import config

RNG = np.random.default_rng(7)


@pytest.fixture
def compiledir(tmp_path):
    with config.change_flags(compiledir=str(tmp_path)):
        yield str(tmp_path)


def _affine(W):
    x = T.dmatrix("x")
    y = T.tanh(T.dot(x, W)) * 2 + 1
    return x, y


def test_an_equal_graph_is_not_rewritten_again_and_gives_the_same_values(compiledir):
    W = th.shared(RNG.normal(size=(4, 3)), name="W")
    x, y = _affine(W)
    f = th.function([x], y)
    x2, y2 = _affine(W)
    g = th.function([x2], y2)
    assert not f.maker.rewrites_cached
    assert g.maker.rewrites_cached
    assert g.maker.fgraph.rewrite_trace.fired() == f.maker.fgraph.rewrite_trace.fired()
    assert [n.op for n in g.maker.fgraph.toposort()] == [n.op for n in f.maker.fgraph.toposort()]
    v = RNG.normal(size=(5, 4))
    np.testing.assert_array_equal(g(v), f(v))


def test_a_hit_uses_its_own_shared_variables_and_updates_them(compiledir):
    def build(W):
        x = T.dvector("x")
        cost = T.sum(T.dot(x, W) ** 2)
        return th.function([x], cost, updates=[(W, W - 0.1 * T.grad(cost, W))])

    W1 = th.shared(RNG.normal(size=(3, 2)), name="W")
    W2 = th.shared(RNG.normal(size=(3, 2)), name="W")
    start1, start2 = W1.get_value(), W2.get_value()
    f1, f2 = build(W1), build(W2)
    assert f2.maker.rewrites_cached
    v = RNG.normal(size=3)
    np.testing.assert_allclose(f2(v), np.sum((v @ start2) ** 2))
    np.testing.assert_allclose(W2.get_value(), start2 - 0.1 * 2 * np.outer(v, v @ start2))
    np.testing.assert_array_equal(W1.get_value(), start1)  # the first function's weight is untouched
    np.testing.assert_allclose(f1(v), np.sum((v @ start1) ** 2))


def test_a_scan_whose_body_reads_a_shared_variable_is_rewired_on_a_hit(compiledir):
    def build(A):
        h0 = T.dvector("h0")
        hs, _ = th.scan(lambda h: T.tanh(T.dot(A, h)), outputs_info=h0, n_steps=4)
        return th.function([h0], hs[-1])

    A1 = th.shared(RNG.normal(size=(3, 3)), name="A")
    A2 = th.shared(RNG.normal(size=(3, 3)), name="A")
    f1, f2 = build(A1), build(A2)
    assert f2.maker.rewrites_cached
    h = RNG.normal(size=3)
    for f, A in ((f1, A1), (f2, A2)):
        expected = h
        for _ in range(4):
            expected = np.tanh(A.get_value() @ expected)
        np.testing.assert_allclose(f(h), expected)


def test_another_process_hits_the_cache(compiledir):
    script = textwrap.dedent("""
        import sys
        import numpy as np
        import arignote as th, arignote.tensor as T
        th.config.compiledir = sys.argv[1]
        th.config.linker = "vm"
        x = T.dvector("x")
        f = th.function([x], T.exp(x) / T.sum(T.exp(x)))
        print(f.maker.rewrites_cached, repr(f(np.arange(3.0)).tolist()))
    """)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    runs = [subprocess.run([sys.executable, "-c", script, compiledir], capture_output=True, text=True, env=env,
                           check=True).stdout.split(maxsplit=1) for _ in range(2)]
    assert [r[0] for r in runs] == ["False", "True"]
    assert runs[0][1] == runs[1][1]
    expected = np.exp(np.arange(3.0)) / np.exp(np.arange(3.0)).sum()
    np.testing.assert_allclose(eval(runs[1][1]), expected)


def test_what_changes_the_rewritten_graph_misses(compiledir):
    x = T.dvector("x")
    out = T.log(1 + T.exp(x))
    th.function([x], out)
    assert th.function([x], out).maker.rewrites_cached
    with config.change_flags(optimizer_excluding="stabilize"):
        assert not th.function([x], out).maker.rewrites_cached
    assert not th.function([x], out, mode=th.Mode(optimizer="fast_compile")).maker.rewrites_cached
    # a mutable input lets rewrites overwrite it: another graph
    assert not th.function([th.In(x, mutable=True)], out).maker.rewrites_cached


def test_a_graph_built_on_another_line_is_rewritten_so_errors_name_this_line(compiledir):
    x = T.dvector("x")
    first = T.dot(T.dmatrix("A"), x)
    A = first.owner.inputs[0]
    th.function([A, x], first)
    second = T.dot(A, x)  # the same computation, built on another line
    g = th.function([A, x], second)
    assert not g.maker.rewrites_cached
    with pytest.raises(ValueError) as info:
        g(np.ones((2, 3)), np.ones(4))
    assert f"line {second.tag.trace[1]}" in str(info.value)
    assert f"line {first.tag.trace[1]}" not in str(info.value)


def test_a_corrupt_entry_is_rewritten(compiledir):
    x = T.dvector("x")
    out = T.sqrt(x ** 2 + 1)
    f = th.function([x], out)
    for root, _, files in os.walk(compiledir):
        for name in files:
            if name == "graph.pkl":
                with open(os.path.join(root, name), "r+b") as fh:
                    fh.truncate(10)
    g = th.function([x], out)
    assert not g.maker.rewrites_cached
    v = RNG.normal(size=4)
    np.testing.assert_allclose(g(v), np.sqrt(v ** 2 + 1))
    assert th.function([x], out).maker.rewrites_cached  # rebuilt
    np.testing.assert_array_equal(f(v), g(v))
