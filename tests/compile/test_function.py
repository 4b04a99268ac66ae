"""function(): outputs, updates, givens, In/Param/Out, keywords, copies, pickling, input checks."""
import pickle
import warnings
from collections import OrderedDict

import numpy as np
import pytest

import arignote as th
import arignote.tensor as T
from arignote.compile.function import UnusedInputError
from arignote.graph.fg import MissingInputError


def test_single_list_and_dict_outputs():
    x = T.dvector('x')
    f1 = th.function([x], x * 2)
    np.testing.assert_array_equal(f1([1.0, 2.0]), [2.0, 4.0])
    f2 = th.function([x], [x * 2, x.sum()])
    a, b = f2([1.0, 2.0])
    np.testing.assert_array_equal(a, [2.0, 4.0])
    assert b == 3.0
    f3 = th.function([x], {'double': x * 2, 'total': x.sum()})
    out = f3([1.0, 2.0])
    assert set(out) == {'double', 'total'} and out['total'] == 3.0


def test_outputs_are_ndarrays_of_the_declared_dtype():
    x = T.fvector('x')
    out = th.function([x], x.sum())(np.ones(3, dtype='float32'))
    assert isinstance(out, np.ndarray) and out.dtype == np.float32 and out.shape == ()


@pytest.mark.parametrize("kind", ["list", "dict", "ordered"])
def test_update_forms(kind):
    s = th.shared(np.float64(1.0), 's')
    pairs = [(s, s * 2)]
    updates = {"list": pairs, "dict": dict(pairs), "ordered": OrderedDict(pairs)}[kind]
    f = th.function([], s, updates=updates)
    assert f() == 1.0 and f() == 2.0
    assert s.get_value() == 4.0


def test_updates_are_simultaneous():
    a = th.shared(np.float64(1.0), 'a')
    b = th.shared(np.float64(2.0), 'b')
    f = th.function([], [], updates=[(a, b), (b, a)])
    f()
    assert (a.get_value(), b.get_value()) == (2.0, 1.0)


def test_two_functions_share_state():
    s = th.shared(np.float64(0.0), 's')
    inc = th.function([], [], updates=[(s, s + 1)])
    read = th.function([], s)
    inc()
    inc()
    assert read() == 2.0


def test_givens_replaces_shared_and_variables():
    x = T.dscalar('x')
    y = T.dscalar('y')
    s = th.shared(np.float64(10.0), 's')
    f = th.function([y], x * s, givens={x: y + 1, s: T.constant(np.float64(2.0))})
    assert f(3.0) == 8.0


def test_in_with_default_name_and_keywords():
    x, y = T.dscalars('x', 'y')
    f = th.function([x, th.In(y, value=1.0, name='yy')], x - y)
    assert f(5.0) == 4.0
    assert f(5.0, yy=3.0) == 2.0
    assert f(x=5.0) == 4.0
    with pytest.raises(TypeError, match="unexpected keyword"):
        f(5.0, zz=1.0)


def test_missing_and_extra_arguments():
    x, y = T.dscalars('x', 'y')
    f = th.function([x, y], x + y)
    with pytest.raises(TypeError, match="missing value for input 1"):
        f(1.0)
    with pytest.raises(TypeError, match="takes 2 arguments, got 3"):
        f(1.0, 2.0, 3.0)


def test_wrong_ndim_names_the_input():
    x = T.dmatrix('x')
    f = th.function([x], x * 2)
    with pytest.raises(TypeError, match=r"input 0 \('x'.*2 dimensions.*got one with 1"):
        f(np.ones(3))


def test_lossy_dtype_is_refused_unless_allowed():
    x = T.fvector('x')
    f = th.function([x], x * 2)
    with pytest.raises(TypeError, match=r"'x'.*float64.*lose precision"):
        f(np.ones(3, dtype='float64'))
    with pytest.raises(TypeError, match="'x'"):
        f([0.1])  # Python floats that float32 cannot hold exactly
    g = th.function([x], x * 2, allow_input_downcast=True)
    np.testing.assert_allclose(g(np.array([0.1])), [0.2], rtol=1e-6)
    assert g(np.array([0.1])).dtype == np.float32


def test_safe_casts_are_accepted():
    x = T.dvector('x')
    f = th.function([x], x * 2)
    np.testing.assert_array_equal(f(np.arange(3, dtype='int32')), [0.0, 2.0, 4.0])
    np.testing.assert_array_equal(f(range(3)), [0.0, 2.0, 4.0])


def test_error_mentions_where_the_input_was_created():
    x = T.dvector('x')  # this line appears in the message
    f = th.function([x], x * 2)
    with pytest.raises(TypeError, match="test_function.py"):
        f(np.ones((2, 2)))


def test_unused_input_policy():
    x, y = T.dscalars('x', 'y')
    with pytest.raises(UnusedInputError, match="input 1 \\(y\\)"):
        th.function([x, y], x * 2)
    with pytest.warns(UserWarning, match="not used"):
        th.function([x, y], x * 2, on_unused_input='warn')
    f = th.function([x, y], x * 2, on_unused_input='ignore')
    assert f(1.0, 5.0) == 2.0


def test_missing_input_is_a_clear_error():
    x, y = T.dscalars('x', 'y')
    with pytest.raises(MissingInputError, match="value of y"):
        th.function([x], x + y)


def test_shared_variable_cannot_be_explicit_input():
    s = th.shared(np.zeros(2), 's')
    with pytest.raises(TypeError, match="givens"):
        th.function([s], s * 2)


def test_update_must_keep_dtype():
    s = th.shared(np.zeros(2, dtype='float32'), 's')
    with pytest.raises(TypeError, match="update of shared variable 's'.*float64"):
        th.function([], [], updates=[(s, s * np.float64(2))])


def test_outputs_never_alias_inputs_or_shared_values():
    x = T.dvector('x')
    value = np.ones(3)
    out = th.function([x], x)(value)
    out[0] = 5.0
    assert value[0] == 1.0
    s = th.shared(np.ones(2), 's')
    got = th.function([], s.T)()
    got[0] = 7.0
    assert s.get_value()[0] == 1.0


def test_output_that_is_also_an_update_is_copied():
    s = th.shared(np.zeros(2), 's')
    nxt = s + 1
    f = th.function([], nxt, updates=[(s, nxt)])
    out = f()
    out[0] = 100.0
    np.testing.assert_array_equal(s.get_value(), [1.0, 1.0])


def test_out_borrow_may_return_internal_storage():
    x = T.dvector('x')
    f = th.function([x], th.Out(x * 2, borrow=True))
    np.testing.assert_array_equal(f([1.0, 2.0]), [2.0, 4.0])


def test_shared_get_set_value_borrow_semantics():
    value = np.zeros(3)
    s = th.shared(value, 's')
    value[0] = 1.0
    assert s.get_value()[0] == 0.0  # shared() copied
    got = s.get_value()
    got[1] = 5.0
    assert s.get_value()[1] == 0.0  # get_value() copied
    internal = s.get_value(borrow=True)
    internal[2] = 7.0
    assert s.get_value()[2] == 7.0  # borrow=True gives the stored array
    new = np.ones(3)
    s.set_value(new, borrow=True)
    assert s.get_value(borrow=True) is new
    s.set_value(new)
    assert s.get_value(borrow=True) is not new


def test_shared_scalars_and_set_value_checks():
    s = th.shared(0)
    assert s.dtype == 'int64' and s.ndim == 0
    f = th.shared(0.5)
    assert f.dtype == 'float64'
    m = th.shared(np.zeros((2, 2), dtype='float32'), 'm')
    with pytest.raises(TypeError, match="set_value of shared variable m"):
        m.set_value(np.zeros(2, dtype='float32'))
    with pytest.raises(TypeError, match="lose precision"):
        m.set_value(np.zeros((2, 2), dtype='float64'))


def test_shared_broadcastable():
    b = th.shared(np.zeros((1, 3)), 'b', broadcastable=(True, False))
    assert b.broadcastable == (True, False)
    x = T.dmatrix('x')
    np.testing.assert_array_equal(th.function([x], x + b)(np.ones((2, 3))), np.ones((2, 3)))


def test_maker_fgraph_and_copy():
    x = T.dvector('x')
    s = th.shared(np.float64(0.0), 's')
    f = th.function([x], x.sum() + s, updates=[(s, s + 1)])
    assert len(f.maker.fgraph.outputs) == 2  # the output and the update
    g = f.copy(delete_updates=True)
    g([1.0])
    assert s.get_value() == 0.0
    f([1.0])
    assert s.get_value() == 1.0
    t = th.shared(np.float64(10.0), 't')
    h = f.copy(swap={s: t})
    assert h([1.0]) == 11.0
    assert t.get_value() == 11.0 and s.get_value() == 1.0


def test_pickle_function_and_shared_state():
    x = T.dvector('x')
    s = th.shared(np.float64(1.0), 's')
    f = th.function([x], (x * s).sum(), updates=[(s, s + 1)], name='f')
    f([1.0, 1.0])
    f2 = pickle.loads(pickle.dumps(f))
    assert f2([1.0, 1.0]) == 4.0  # s was 2 when pickled
    assert f([1.0, 1.0]) == 4.0  # the original keeps its own state
    s2 = pickle.loads(pickle.dumps(s))
    assert s2.get_value() == 3.0 and s2.name == 's'


def test_default_updates_and_no_default_updates():
    counter = th.shared(np.int64(0), 'counter')
    counter.default_update = counter + 1
    f = th.function([], counter * 1)
    f()
    f()
    assert counter.get_value() == 2
    g = th.function([], counter * 1, no_default_updates=True)
    g()
    assert counter.get_value() == 2
    h = th.function([], counter * 1, no_default_updates=[counter])
    h()
    assert counter.get_value() == 2


def test_eval_and_variable_eval_cache():
    x = T.dscalar('x')
    y = x * 3
    assert y.eval({x: 2.0}) == 6.0
    assert y.eval({x: 4.0}) == 12.0


def test_runtime_error_names_the_expression_line():
    x = T.dmatrix('x')
    y = T.dmatrix('y')
    z = x + y  # built here
    f = th.function([x, y], z)
    with pytest.raises(ValueError) as info:
        f(np.ones((2, 3)), np.ones((4, 3)))
    text = str(info.value) + "".join(getattr(info.value, "__notes__", []))
    assert "z = x + y" in text


def test_profile_records_nodes():
    x = T.dvector('x')
    f = th.function([x], T.exp(x).sum(), profile=True)
    f(np.ones(4))
    assert f.profile is not None
    summary = f.profile.summary()
    assert "Reduce" in summary and "Elemwise" in summary


def test_modes_by_name_and_unknown_mode():
    x = T.dscalar('x')
    for mode in ("FAST_RUN", "FAST_COMPILE", "PY", "VM"):
        assert th.function([x], x + 1, mode=mode)(1.0) == 2.0
    with pytest.raises(ValueError, match="unknown mode"):
        th.function([x], x + 1, mode="FASTEST")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert th.function([x], x + 1, mode="NUMBA")(1.0) == 2.0
