"""`import theano` is arignote: same objects, Theano's module paths."""
import importlib

import pytest

import arignote


def test_theano_is_arignote():
    import theano
    import theano.tensor as T

    assert theano is arignote
    assert theano.function is arignote.function
    assert theano.shared is arignote.shared
    assert T is arignote.tensor
    assert T.TensorType is arignote.tensor.TensorType


@pytest.mark.parametrize("theano_name, arignote_name", [
    ("theano.tensor", "arignote.tensor"),
    ("theano.tensor.nnet", "arignote.tensor.nnet"),
    ("theano.gradient", "arignote.gradient"),
    ("theano.printing", "arignote.printing"),
    ("theano.compile", "arignote.compile"),
    ("theano.gof", "arignote.graph"),
    ("theano.gof.graph", "arignote.graph.basic"),
    ("theano.tensor.basic", "arignote.tensor"),
    ("theano.tensor.extra_ops", "arignote.tensor.extra_ops"),
])
def test_module_paths(theano_name, arignote_name):
    assert importlib.import_module(theano_name) is importlib.import_module(arignote_name)


def test_from_imports_and_checklist_names():
    from theano import In, Param, function, pp, shared  # noqa: F401
    from theano.gof.graph import inputs, is_same_graph  # noqa: F401
    import theano

    for name in ["shared", "function", "config", "tensor", "grad", "clone", "Variable", "Op", "In",
                 "TensorType"]:
        assert hasattr(theano, name), name
    assert theano.config.floatX in ("float32", "float64")
    assert theano.compile.SharedVariable is arignote.compile.sharedvalue.SharedVariable
    assert theano.compile.mode.get_default_mode().name == theano.config.mode


def test_the_module_is_not_loaded_twice():
    import theano.tensor.elemwise as a
    import arignote.tensor.elemwise as b

    assert a is b and a.__spec__.name == "arignote.tensor.elemwise"


def test_scan_is_callable_even_after_importing_its_submodules():
    import theano
    import theano.tensor as T
    from theano.scan.utils import until
    from theano.scan_module import until as until2
    import theano.scan_module.scan_utils as scan_utils

    assert until is until2 and hasattr(scan_utils, "equal_computations")
    result, _ = theano.scan(lambda p: p * 2, outputs_info=T.constant(1.0), n_steps=3)
    assert result.eval().tolist() == [2.0, 4.0, 8.0]
