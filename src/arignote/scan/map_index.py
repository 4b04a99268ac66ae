"""map_over_index: out[i] = f(i) for i in range(n), with f given as a graph.

The op carries an inner graph over the index and the outer variables it
uses; it is what `jacobian` is built on.
"""
from __future__ import annotations

import numpy as np

from ..graph.basic import Apply, Constant, Op, clone_replace, graph_inputs


class MapOverIndex(Op):
    """Evaluate an inner graph for each index 0..n-1 and stack the results."""

    def __init__(self, index, inner_inputs, inner_output):
        self.index = index
        self.inner_inputs = list(inner_inputs)
        self.inner_output = inner_output
        self._fn = None

    __eq__ = object.__eq__
    __hash__ = object.__hash__

    def __str__(self):
        return "MapOverIndex"

    def __getstate__(self):  # the compiled inner function is rebuilt on first use
        state = dict(self.__dict__)
        state["_fn"] = None
        return state

    def make_node(self, n, *outer):
        from .. import tensor as T

        n = T.as_tensor_variable(n)
        out_type = T.TensorType(self.inner_output.dtype, shape=(None, *self.inner_output.type.shape))
        return Apply(self, [n, *outer], [out_type()])

    def perform(self, node, inputs, output_storage):
        from ..compile.function import function

        if self._fn is None:
            self._fn = function([self.index, *self.inner_inputs], self.inner_output, mode="FAST_COMPILE",
                                on_unused_input="ignore")
        n, *outer = inputs
        rows = [np.asarray(self._fn(np.int64(i), *outer)) for i in range(int(n))]
        out_type = node.outputs[0].type
        if rows:
            result = np.stack(rows).astype(out_type.numpy_dtype, copy=False)
        else:
            result = np.zeros((0,) + tuple(s or 0 for s in self.inner_output.type.shape), dtype=out_type.numpy_dtype)
        output_storage[0][0] = result

    def L_op(self, inputs, outputs, output_grads):
        from ..gradient import grad_not_implemented

        return [grad_not_implemented(self, i, x, "differentiate a jacobian through scan instead")
                for i, x in enumerate(inputs)]


def map_over_index(fn, n):
    """A tensor whose row i is `fn(i)` (a graph built from a symbolic int64 index)."""
    from .. import tensor as T

    index = T.lscalar("i")
    out = T.as_tensor_variable(fn(index))
    outer = [v for v in graph_inputs([out]) if v is not index and not isinstance(v, Constant)]
    inner_inputs = [v.type() for v in outer]
    inner_out = clone_replace(out, dict(zip(outer, inner_inputs)))
    return MapOverIndex(index, inner_inputs, inner_out)(n, *outer)
