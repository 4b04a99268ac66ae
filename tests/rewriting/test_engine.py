"""The rewrite engine: node rewriters, patterns, walkers, the database, the trace, isolation."""
import warnings

import numpy as np
import pytest

import arignote as th
import arignote.tensor as T
from arignote.compile import Mode
from arignote.graph.fg import FunctionGraph
from arignote.rewriting import (EquilibriumRewriter, RewriteDatabase, RewriteError, WalkingRewriter,
                                node_rewriter, rewrites)
from arignote.rewriting.patterns import PatternRewriter, constant_value, match
import arignote.rewriting.rules  # noqa: F401,E402  (registers every rewrite)


def test_pattern_matching_binds_and_sees_through_broadcast_constants():
    x = T.dmatrix('x')
    y = x * 1
    assert match((T.mul, 'a', 1), y, {}) == {'a': x}
    assert match((T.mul, 1, 'a'), y, {}) == {'a': x}  # commutative
    assert match((T.mul, 'a', 2), y, {}) is None
    assert match((T.add, 'a', 'a'), x + x, {}) == {'a': x}
    assert match((T.add, 'a', 'a'), x + T.dmatrix(), {}) is None
    assert constant_value(T.constant(np.full((2, 2), 3.0))) == 3.0
    assert constant_value(T.constant(np.array([1.0, 2.0]))) is None


def test_pattern_rewriter_to_equilibrium_and_trace():
    x = T.dvector('x')
    fg = FunctionGraph([x], [((x * 1) * 1).sum()])
    changed = EquilibriumRewriter([PatternRewriter((T.mul, 'x', 1), 'x', name='mul_by_one')]).apply(fg)
    assert changed == 2 and fg.rewrite_trace.count('mul_by_one') == 2
    assert fg.outputs[0].owner.inputs[0] is fg.inputs[0]


def test_pattern_never_changes_dtype_or_broadcasting():
    i = T.ivector('i')
    fg = FunctionGraph([i], [i * 1.0], clone=False)  # int * float is float: not i
    assert EquilibriumRewriter([PatternRewriter((T.mul, 'x', 1), 'x')]).apply(fg) == 0
    r = T.row('r')
    fg = FunctionGraph([r], [r * T.constant(np.ones((3, 1)))], clone=False)  # broadcasts r to 3 rows
    assert EquilibriumRewriter([PatternRewriter((T.mul, 'x', 1), 'x')]).apply(fg) == 0


def test_walk_orders():
    seen = {}

    def recorder(order):
        @node_rewriter(None, name=f"record_{order}")
        def record(fgraph, node):
            seen.setdefault(order, []).append(str(node.op))
            return None
        return record

    x = T.dvector('x')
    fg = FunctionGraph([x], [T.exp(T.log(x))])
    WalkingRewriter([recorder('in')], order='in_to_out').apply(fg)
    WalkingRewriter([recorder('out')], order='out_to_in').apply(fg)
    assert seen['in'] == seen['out'][::-1]


def test_broken_rewriter_is_reported_and_skipped_or_raised():
    @node_rewriter(['exp'], name='broken_on_purpose')
    def broken(fgraph, node):
        raise RuntimeError("boom")

    x = T.dvector('x')
    fg = FunctionGraph([x], [T.exp(x)])
    with pytest.warns(UserWarning, match="broken_on_purpose.*boom"):
        WalkingRewriter([broken]).apply(fg, on_error='warn')
    with pytest.raises(RewriteError, match="broken_on_purpose"):
        WalkingRewriter([broken]).apply(fg, on_error='raise')
    assert WalkingRewriter([broken]).apply(fg, on_error='ignore') == 0


def test_database_selection_by_optimizer_and_tags():
    db = RewriteDatabase()
    cheap = PatternRewriter((T.mul, 'x', 1), 'x', name='cheap')
    costly = PatternRewriter((T.add, 'x', 0), 'x', name='costly')
    db.register(cheap, 'canonicalize', 'fast_compile')
    db.register(costly, 'canonicalize')
    names = lambda entries: sorted(e.name for e in entries)  # noqa: E731
    assert names(db.select('fast_run')) == ['cheap', 'costly']
    assert names(db.select('fast_compile')) == ['cheap']
    assert names(db.select(None)) == []
    assert names(db.select('fast_run', excluding=['cheap'])) == ['costly']
    assert names(db.select(None, including=['costly'])) == ['costly']
    with pytest.raises(ValueError, match="already registered"):
        db.register(cheap, 'canonicalize')
    with pytest.raises(ValueError, match="unknown phase"):
        db.register(PatternRewriter((T.mul, 'x', 2), 'x', name='x2'), 'nowhere')


def test_modes_select_rewrites_and_record_timings():
    x = T.dvector('x')
    y = T.dvector('y')
    out = (x + y) * (x + y)
    f = th.function([x, y], out)
    assert 'merge' in f.maker.fgraph.rewrite_trace.fired()
    assert [name for name, _ in f.maker.fgraph.rewrite_timings]
    g = th.function([x, y], out, mode=Mode('py', None))
    assert g.maker.fgraph.rewrite_trace.fired() == []
    h = th.function([x, y], out, mode=Mode('py', 'fast_run').excluding('merge', 'final_merge'))
    assert 'merge' not in h.maker.fgraph.rewrite_trace.fired()
    for fn in (f, g, h):
        np.testing.assert_allclose(fn(np.ones(2), np.ones(2)), [4.0, 4.0])
    with th.config.change_flags(optimizer_excluding='merge:final_merge'):
        k = th.function([x, y], out)
    assert 'merge' not in k.maker.fgraph.rewrite_trace.fired()


def test_every_registered_rewrite_has_a_phase_and_unique_name():
    names = rewrites.names()
    assert len(names) == len(set(names))
    assert {'merge', 'inplace', 'sparse_update', 'scan_save_memory'} <= set(names)
