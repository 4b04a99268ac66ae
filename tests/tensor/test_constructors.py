"""Theano's variable constructors, TensorType and constants."""
import numpy as np
import pytest

import arignote as th
import arignote.tensor as T

PREFIXES = {"b": "int8", "w": "int16", "i": "int32", "l": "int64", "f": "float32", "d": "float64",
            "c": "complex64", "z": "complex128"}
KINDS = {"scalar": 0, "vector": 1, "row": 2, "col": 2, "matrix": 2, "tensor3": 3, "tensor4": 4, "tensor5": 5}


@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize("kind", KINDS)
def test_every_prefixed_constructor(prefix, kind):
    v = getattr(T, prefix + kind)('v')
    assert (v.dtype, v.ndim, v.name) == (PREFIXES[prefix], KINDS[kind], 'v')
    plural = getattr(T, prefix + ("matrices" if kind == "matrix" else kind + "s"))('a', 'b')
    assert [p.name for p in plural] == ['a', 'b'] and plural[0].dtype == PREFIXES[prefix]


def test_row_and_col_are_broadcastable():
    assert T.row().broadcastable == (True, False)
    assert T.col().broadcastable == (False, True)


def test_generic_constructors_follow_floatx_and_dtype():
    assert T.matrix('m').dtype == th.config.floatX
    assert T.matrix('m', dtype='int32').dtype == 'int32'
    with th.config.change_flags(floatX='float32'):
        assert T.vector().dtype == 'float32'
        assert T.constant(1.5).dtype == 'float32'
    assert T.tensor('float32', (False, True)).broadcastable == (False, True)
    assert T.tensor(dtype='float64', broadcastable=(False,) * 3, name='t').ndim == 3
    assert T.matrices('a', 'b')[1].name == 'b'
    assert len(T.dscalars(3)) == 3


def test_tensortype_call_and_equality():
    t = T.TensorType('float32', (False, True))
    v = t('v')
    assert v.type == T.TensorType('float32', shape=(None, 1))
    assert t != T.TensorType('float64', (False, True))
    assert str(T.TensorType('float32', (False,))) == 'TensorType(float32, (?,))'
    with pytest.raises(TypeError, match="unknown dtype"):
        T.TensorType('float99', (False,))


def test_filter_rules():
    t = T.TensorType('float32', (False,))
    assert t.filter([1.0, 2.0]).dtype == np.float32
    with pytest.raises(TypeError, match="lose precision"):
        t.filter(np.ones(2))
    assert t.filter(np.ones(2), allow_downcast=True).dtype == np.float32
    with pytest.raises(TypeError, match="1 dimension"):
        t.filter(np.ones((2, 2), dtype='float32'))
    s = T.TensorType('float32', shape=(3,))
    with pytest.raises(TypeError, match="length 3"):
        s.filter(np.ones(2, dtype='float32'))


def test_constants_and_as_tensor_variable():
    c = T.constant([1, 2, 3])
    assert c.dtype == 'int64' and c.type.shape == (3,)
    np.testing.assert_array_equal(c.data, [1, 2, 3])
    assert T.constant(np.float32(2)).dtype == 'float32'
    v = T.dscalar('v')
    stacked = T.as_tensor_variable([v, v * 2])
    assert stacked.ndim == 1
    np.testing.assert_array_equal(stacked.eval({v: 3.0}), [3.0, 6.0])
    with pytest.raises(TypeError, match="string"):
        T.constant("abc")


def test_python_scalars_are_weak_in_expressions():
    x = T.fvector('x')
    assert (x * 0.1).dtype == 'float32'
    assert (x + 1).dtype == 'float32'
    assert (T.ivector() * 0.5).dtype == 'float64'
    assert (T.bvector() + 1000).dtype == 'int16'  # the value does not fit: the smallest type that holds it
    assert (T.ivector() / 2).dtype == 'float64'


def test_static_shapes_that_cannot_broadcast_fail_at_build_time():
    a = T.constant(np.ones(3))
    b = T.constant(np.ones(4))
    with pytest.raises(ValueError, match=r"cannot broadcast.*test_constructors.py.*a \+ b"):
        a + b


def test_symbolic_truth_value_is_refused():
    x = T.dscalar('x')
    with pytest.raises(TypeError, match="truth value"):
        if x > 0:
            pass
