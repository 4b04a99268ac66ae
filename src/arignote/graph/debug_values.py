"""Build-time debugging: test values (`compute_test_value`) and `warn_float64`.

With `config.compute_test_value` on, every new node is computed right away on
the test values of its inputs (`x.tag.test_value = ...`), so a shape or dtype
error surfaces on the line that builds the expression, not at call time.
"""
from __future__ import annotations

import warnings

import numpy as np


def _test_value(var):
    from ..compile.sharedvalue import SharedVariable
    from .basic import Constant

    if isinstance(var, Constant):
        return var.data
    if isinstance(var, SharedVariable):
        return var.get_value(borrow=True)
    if hasattr(var.tag, "test_value"):
        return var.type.filter(var.tag.test_value, allow_downcast=True)
    raise AttributeError(var)


def check_new_node(node, config) -> None:
    from .sourceline import here

    if config.warn_float64 != "ignore":
        for out in node.outputs:
            if getattr(out.type, "dtype", None) == "float64":
                message = f"a float64 variable is created by {node.op}. At {here()}"
                if config.warn_float64 == "warn":
                    warnings.warn(message, stacklevel=4)
                elif config.warn_float64 in ("raise", "pdb"):
                    raise TypeError(message)
    mode = config.compute_test_value
    if mode == "off":
        return
    values = []
    for i, var in enumerate(node.inputs):
        try:
            values.append(_test_value(var))
        except AttributeError:
            if mode == "ignore":
                return
            message = (f"input {i} ({var}) of {node.op} has no test value; set `{var}.tag.test_value = ...` "
                       f"or turn compute_test_value off. At {here()}")
            if mode == "warn":
                warnings.warn(message, stacklevel=4)
                return
            raise ValueError(message)
    storage = [[None] for _ in node.outputs]
    node.op.perform(node, values, storage)
    for out, cell in zip(node.outputs, storage):
        out.tag.test_value = np.asarray(cell[0]) if not hasattr(cell[0], "shape") else cell[0]
