"""The graph core: types, variables, applies, ops, FunctionGraph, traversal.

Also reachable as `theano.gof` (and `theano.gof.graph` is `basic`).
"""
from . import basic, fg  # noqa: F401
from .basic import (Apply, Constant, Op, Type, Variable, ancestors, applys_between,  # noqa: F401
                    clone_get_equiv, clone_replace, equal_computations, graph_inputs, inputs,
                    io_toposort, is_same_graph)
from .fg import FunctionGraph, InconsistencyError, MissingInputError  # noqa: F401
from .generic import GenericType, generic  # noqa: F401

graph = basic  # theano.gof.graph
toolbox = fg
