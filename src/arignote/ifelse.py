"""ifelse: a lazy conditional — only the branch taken is computed.

`ifelse(cond, then, else)` is an op whose node is marked lazy: the backend
evaluates the condition first, then only what the chosen branch needs
(`T.switch`, by contrast, computes both sides elementwise).
"""
from __future__ import annotations

from .graph.basic import Apply, Op
from .graph.sourceline import here


class IfElse(Op):
    """Return the `then` values if the scalar condition is true, else the `else` values."""

    __props__ = ("n_outs", "as_view", "name")
    lazy = True  # a backend must evaluate inputs on demand: 0 first, then one branch

    def __init__(self, n_outs: int, as_view: bool = False, name: str | None = None):
        self.n_outs, self.as_view, self.name = n_outs, as_view, name
        if as_view:
            self.view_map = {i: [1 + i] for i in range(n_outs)}

    def __str__(self):
        return f"if{{{self.name or ''}}}" if self.name else "if{}"

    def make_node(self, condition, *branches):
        from . import tensor as T

        if len(branches) != 2 * self.n_outs:
            raise ValueError(f"ifelse expects {self.n_outs} then-values and {self.n_outs} else-values")
        condition = T.as_tensor_variable(condition)
        if condition.ndim != 0:
            raise TypeError(f"ifelse: the condition must be a scalar, got {condition.type}. At {here()}")
        then_vals = [T.as_tensor_variable(v) for v in branches[: self.n_outs]]
        else_vals = [T.as_tensor_variable(v) for v in branches[self.n_outs:]]
        outs = []
        for k, (a, b) in enumerate(zip(then_vals, else_vals)):
            if a.dtype != b.dtype or a.ndim != b.ndim:
                raise TypeError(f"ifelse: branch values {k} differ in type: {a.type} (then) vs {b.type} (else); "
                                f"cast one of them. At {here()}")
            shape = tuple(sa if sa == sb else None for sa, sb in zip(a.type.shape, b.type.shape))
            outs.append(T.TensorType(a.dtype, shape=shape)())
        return Apply(self, [condition, *then_vals, *else_vals], outs)

    def chosen_inputs(self, condition_value) -> range:
        """Positions of the inputs the chosen branch needs."""
        start = 1 if bool(condition_value) else 1 + self.n_outs
        return range(start, start + self.n_outs)

    def perform(self, node, inputs, output_storage):
        # eager fallback (a backend without laziness): both branches were computed
        for out, k in zip(output_storage, self.chosen_inputs(inputs[0])):
            value = inputs[k]
            out[0] = value if self.as_view else value.copy()

    def infer_shape(self, fgraph, node, input_shapes):
        from . import tensor as T

        shapes = []
        for k in range(self.n_outs):
            a, b = input_shapes[1 + k], input_shapes[1 + self.n_outs + k]
            shapes.append(tuple(ifelse(node.inputs[0], T.as_tensor_variable(sa), T.as_tensor_variable(sb))
                                if sa is not sb else sa for sa, sb in zip(a, b)))
        return shapes

    def connection_pattern(self, node):
        return [[False] * self.n_outs] + [[k == j for j in range(self.n_outs)] for k in range(self.n_outs)] * 2

    def L_op(self, inputs, outputs, output_grads):
        from . import tensor as T
        from .gradient import DisconnectedType

        condition = inputs[0]
        grads = [DisconnectedType()()]
        gs = [T.zeros_like(o) if isinstance(g.type, DisconnectedType) else g for o, g in zip(outputs, output_grads)]
        zeros_then = [T.zeros_like(v) for v in inputs[1: 1 + self.n_outs]]
        zeros_else = [T.zeros_like(v) for v in inputs[1 + self.n_outs:]]
        then_grads = IfElse(self.n_outs, name=f"grad_then_{self.name or ''}")(condition, *gs, *zeros_then)
        else_grads = IfElse(self.n_outs, name=f"grad_else_{self.name or ''}")(condition, *zeros_else, *gs)
        then_grads = then_grads if isinstance(then_grads, list) else [then_grads]
        else_grads = else_grads if isinstance(else_grads, list) else [else_grads]
        return grads + then_grads + else_grads


def ifelse(condition, then_branch, else_branch, name: str | None = None):
    """`then_branch` if `condition` else `else_branch`, computing only the branch taken.

    Branches may be single variables or lists of the same length.

    >>> import arignote as th, arignote.tensor as T
    >>> from arignote.ifelse import ifelse
    >>> a, b = T.dscalars('a', 'b')
    >>> float(th.function([a, b], ifelse(T.lt(a, b), a, b))(1.0, 2.0))
    1.0
    """
    single = not isinstance(then_branch, (list, tuple))
    then_vals = [then_branch] if single else list(then_branch)
    else_vals = [else_branch] if not isinstance(else_branch, (list, tuple)) else list(else_branch)
    if len(then_vals) != len(else_vals):
        raise ValueError(f"ifelse: {len(then_vals)} then-values but {len(else_vals)} else-values. At {here()}")
    out = IfElse(len(then_vals), name=name)(condition, *then_vals, *else_vals)
    if single:
        return out
    return out if isinstance(out, list) else [out]
