"""Helpers of the scan module (Theano's `scan_module.scan_utils`)."""
from __future__ import annotations

from ..graph.basic import clone_replace, equal_computations  # noqa: F401  (Theano imported them from here)


class until:
    """End a scan loop when `condition` is true: return `outputs, until(cond)` from fn.

    The step that makes the condition true is the last one computed (it is kept).
    """

    def __init__(self, condition):
        from .. import tensor as T

        self.condition = T.as_tensor_variable(condition)
        if self.condition.ndim != 0:
            raise TypeError(f"until() needs a scalar condition, got {self.condition.type}")
