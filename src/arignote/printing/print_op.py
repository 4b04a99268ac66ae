"""Print: an identity op that prints its input's value whenever it is computed."""
from __future__ import annotations

import numpy as np

from ..graph.basic import Apply, Op


class Print(Op):
    """`Print('x')(x)` is x, and prints `x __str__ = [...]` each time the function runs.

    `attrs` names what to print of the value (e.g. ('shape', '__str__')).
    """

    __props__ = ("message", "attrs")
    view_map = {0: [0]}

    def __init__(self, message: str = "", attrs=("__str__",), global_fn=None):
        self.message = message
        self.attrs = tuple(attrs)
        self.global_fn = global_fn or _default_print

    def make_node(self, x):
        from .. import tensor as T

        x = T.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        value = inputs[0]
        output_storage[0][0] = value
        self.global_fn(self, value)

    def infer_shape(self, fgraph, node, input_shapes):
        return input_shapes

    def L_op(self, inputs, outputs, output_grads):
        return output_grads

    def R_op(self, inputs, eval_points):
        return eval_points


def _default_print(op, value):
    for attr in op.attrs:
        item = getattr(value, attr)
        if callable(item):
            item = item()
        print(op.message, attr, "=", item if not isinstance(item, np.ndarray) else np.array2string(item))
