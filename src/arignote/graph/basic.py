"""The symbolic graph: types, variables, constants and applications of ops.

A graph is bipartite: a `Variable` is produced by at most one `Apply` (its
`owner`), and an `Apply` records one `Op` applied to input variables, producing
output variables. Graph inputs and constants have no owner.
"""
from __future__ import annotations

import itertools
from typing import Any, Iterable, Sequence

from .sourceline import format_line, user_line

_ids = itertools.count()


class Tag:
    """Free-form annotations of a variable (`trace`: the user's creation line)."""

    def __init__(self, **kwargs):
        self.__dict__.update(kwargs)

    def __repr__(self):
        return f"Tag({self.__dict__!r})"


class Type:
    """The kind of value a variable stands for; knows how to check a value.

    Subclasses implement `filter` (turn a user value into a valid one, or raise
    TypeError) and define `__eq__`/`__hash__` over their parameters.
    """

    variable_type: type = None  # the Variable subclass made by `make_variable`
    constant_type: type = None

    def filter(self, data: Any, strict: bool = False, allow_downcast: bool | None = None) -> Any:
        raise NotImplementedError

    def is_valid_value(self, data: Any) -> bool:
        try:
            self.filter(data, strict=True)
            return True
        except (TypeError, ValueError):
            return False

    def make_variable(self, name: str | None = None) -> "Variable":
        return (self.variable_type or Variable)(self, name=name)

    def __call__(self, name: str | None = None) -> "Variable":
        """`T.fmatrix('x')`-style construction of a free variable."""
        return self.make_variable(name)

    def values_eq(self, a, b) -> bool:
        return a == b

    def values_eq_approx(self, a, b) -> bool:
        return self.values_eq(a, b)

    def convert_variable(self, var: "Variable") -> "Variable | None":
        """Return `var` viewed as this type if compatible, else None."""
        return var if var.type == self else None


class Variable:
    """A symbolic value: a graph input, a constant, or an op's output."""

    __array_priority__ = 1000  # so `ndarray + Variable` defers to our operators

    def __init__(self, type: Type, owner: "Apply | None" = None, index: int | None = None,
                 name: str | None = None):
        self.type = type
        self.owner = owner
        self.index = index
        self.name = name
        self.tag = Tag(trace=user_line(1))
        self.auto_name = f"auto_{next(_ids)}"

    def __str__(self):
        if self.name is not None:
            return self.name
        if self.owner is not None:
            return f"{self.owner.op}.{self.index}"
        return f"<{self.type}>"

    def __repr__(self):
        return str(self)

    def clone(self) -> "Variable":
        """A new free variable of the same type, name and tag (no owner)."""
        cp = type(self)(self.type, None, None, self.name)
        cp.tag = Tag(**self.tag.__dict__)
        return cp

    def get_parents(self):
        return [self.owner] if self.owner is not None else []

    @property
    def creation_line(self) -> str:
        return format_line(getattr(self.tag, "trace", None))

    def eval(self, inputs_to_values: dict | None = None):
        """Compute this variable's value, given values for its free inputs.

        >>> import arignote.tensor as T
        >>> x = T.dscalar('x')
        >>> float((x * 2).eval({x: 3.0}))
        6.0
        """
        from ..compile.function import function

        inputs_to_values = inputs_to_values or {}
        key = tuple(inputs_to_values)
        cache = self.__dict__.setdefault("_eval_cache", {})
        if key not in cache:
            cache[key] = function(list(key), self, on_unused_input="ignore")
        return cache[key](*inputs_to_values.values())


class Constant(Variable):
    """A variable whose value is fixed when the graph is built."""

    def __init__(self, type: Type, data: Any, name: str | None = None):
        super().__init__(type, None, None, name)
        self.data = type.filter(data)

    def signature(self):
        return (self.type, _data_key(self.data))

    def equals(self, other) -> bool:
        return isinstance(other, Constant) and self.signature() == other.signature()

    def clone(self):
        cp = type(self)(self.type, self.data, self.name)
        cp.tag = Tag(**self.tag.__dict__)
        return cp

    def __str__(self):
        if self.name is not None:
            return self.name
        return f"{type(self).__name__}{{{_short_data(self.data)}}}"


def _data_key(data):
    try:
        import numpy as np

        if isinstance(data, np.ndarray):
            return (data.dtype.str, data.shape, data.tobytes())
    except ImportError:  # pragma: no cover
        pass
    return data


def _short_data(data):
    import numpy as np

    if isinstance(data, np.ndarray):
        if data.ndim == 0:
            return str(data.item())
        if data.size <= 8:
            return str(data.tolist())
        return f"array{data.shape}"
    return str(data)


class Apply:
    """One application of an op to input variables, producing outputs.

    Ops may memoise facts about a node in attributes named `_cache_*`; a
    FunctionGraph drops them whenever it changes the node's inputs.
    """

    def __init__(self, op: "Op", inputs: Sequence[Variable], outputs: Sequence[Variable]):
        self.op = op
        self.inputs = list(inputs)
        self.outputs = list(outputs)
        for i, out in enumerate(self.outputs):
            if out.owner is None:
                out.owner, out.index = self, i
            elif out.owner is not self or out.index != i:
                raise ValueError("output variable already belongs to another Apply")
        self.tag = Tag(trace=user_line(1))

    @property
    def out(self) -> Variable:
        if len(self.outputs) != 1:
            raise AttributeError(f"{self.op} has {len(self.outputs)} outputs; use .outputs")
        return self.outputs[0]

    @property
    def nin(self):
        return len(self.inputs)

    @property
    def nout(self):
        return len(self.outputs)

    def clone(self) -> "Apply":
        """A copy with the same inputs and fresh (unowned) outputs."""
        return Apply(self.op, self.inputs, [o.clone() for o in self.outputs])

    def clone_with_new_inputs(self, inputs: Sequence[Variable], strict: bool = True) -> "Apply":
        if strict and all(a.type == b.type for a, b in zip(inputs, self.inputs)):
            new = self.clone()
            new.inputs = list(inputs)
            new.tag = self.tag
            return new
        new = self.op.make_node(*inputs)
        new.tag = self.tag
        for old_out, new_out in zip(self.outputs, new.outputs):
            new_out.tag = Tag(**old_out.tag.__dict__)
            new_out.name = old_out.name
        return new

    def default_output(self) -> Variable:
        do = getattr(self.op, "default_output", None)
        if do is None:
            if len(self.outputs) == 1:
                return self.outputs[0]
            raise AttributeError(f"{self.op} has several outputs and no default_output")
        return self.outputs[do]

    def __str__(self):
        return f"{self.op}({', '.join(map(str, self.inputs))})"

    __repr__ = __str__


class Op:
    """An operation: builds nodes (`make_node`) and computes them (`perform`).

    Ops that list their parameters in `__props__` compare and hash by them, so
    two identical applications can be merged.
    """

    __props__: tuple = ()
    default_output: int | None = None
    view_map: dict = {}
    destroy_map: dict = {}

    def _props(self):
        return tuple(getattr(self, p) for p in self.__props__)

    def __eq__(self, other):
        return type(self) is type(other) and self._props() == other._props()

    def __hash__(self):
        return hash((type(self), self._props()))

    def __str__(self):
        if self.__props__:
            args = ", ".join(f"{p}={getattr(self, p)!r}" for p in self.__props__)
            return f"{type(self).__name__}{{{args}}}"
        return type(self).__name__

    def __repr__(self):
        return str(self)  # subclasses that override __str__ get the same repr

    def make_node(self, *inputs) -> Apply:
        raise NotImplementedError

    def __call__(self, *inputs, **kwargs):
        node = self.make_node(*inputs, **kwargs)
        from ..config import config

        flags = config._values  # read directly: this runs for every node built
        if flags["compute_test_value"] != "off" or flags["warn_float64"] != "ignore":
            from .debug_values import check_new_node

            check_new_node(node, config)
        if self.default_output is not None:
            return node.outputs[self.default_output]
        if len(node.outputs) == 1:
            return node.outputs[0]
        return node.outputs

    def perform(self, node: Apply, inputs: list, output_storage: list[list]) -> None:
        raise NotImplementedError(f"{type(self).__name__} has no perform")

    def infer_shape(self, fgraph, node: Apply, input_shapes):
        raise NotImplementedError

    def grad(self, inputs, output_grads):
        raise NotImplementedError(f"{type(self).__name__} does not define a gradient")

    def L_op(self, inputs, outputs, output_grads):
        return self.grad(inputs, output_grads)

    def R_op(self, inputs, eval_points):
        raise NotImplementedError

    def connection_pattern(self, node: Apply):
        """[input][output] -> whether the output depends on the input."""
        return [[True] * len(node.outputs) for _ in node.inputs]


# --------------------------------------------------------------------------
# traversal


def ancestors(outputs: Iterable[Variable], blockers: Iterable[Variable] = ()) -> list[Variable]:
    """All variables that `outputs` depend on (outputs included), depth first."""
    blockers = set(blockers)
    seen: set = set()
    order: list = []
    stack = list(outputs)[::-1]
    while stack:
        v = stack.pop()
        if id(v) in seen:
            continue
        seen.add(id(v))
        order.append(v)
        if v.owner is not None and v not in blockers:
            stack.extend(reversed(v.owner.inputs))
    return order


def graph_inputs(outputs: Iterable[Variable], blockers: Iterable[Variable] = ()) -> list[Variable]:
    """The ownerless variables (inputs, constants, shared) under `outputs`."""
    blockers = set(blockers)
    return [v for v in ancestors(outputs, blockers) if v.owner is None or v in blockers]


inputs = graph_inputs  # Theano's old name (theano.gof.graph.inputs)


def io_toposort(inputs: Iterable[Variable], outputs: Iterable[Variable]) -> list[Apply]:
    """Apply nodes between `inputs` and `outputs`, each after its inputs' owners."""
    stop = {id(v) for v in inputs}
    order: list[Apply] = []
    done: set = set()
    for out in outputs:
        stack = [(out, False)]
        while stack:
            v, expanded = stack.pop()
            node = v.owner
            if node is None or id(v) in stop:
                continue
            if expanded:
                if id(node) not in done:
                    done.add(id(node))
                    order.append(node)
                continue
            if id(node) in done:
                continue
            stack.append((v, True))
            for i in reversed(node.inputs):
                if i.owner is not None and id(i.owner) not in done and id(i) not in stop:
                    stack.append((i, False))
    return order


def applys_between(ins: Iterable[Variable], outs: Iterable[Variable]) -> list[Apply]:
    return io_toposort(ins, outs)


def clone_get_equiv(inputs: Sequence[Variable], outputs: Sequence[Variable],
                    copy_inputs: bool = True, memo: dict | None = None) -> dict:
    """Clone the graph between inputs and outputs; return {old: new} for all."""
    memo = {} if memo is None else memo
    for v in inputs:
        if v not in memo:
            memo[v] = v.clone() if copy_inputs else v
    for node in io_toposort(inputs, outputs):
        for i in node.inputs:
            if i not in memo:
                memo[i] = i.clone() if (copy_inputs and not isinstance(i, Constant)) else i
        new_node = node.clone_with_new_inputs([memo[i] for i in node.inputs])
        memo[node] = new_node
        for o, no in zip(node.outputs, new_node.outputs):
            memo.setdefault(o, no)
    for o in outputs:
        if o not in memo:
            memo[o] = o.clone() if copy_inputs else o
    return memo


def clone_replace(outputs, replace: dict | None = None, share_inputs: bool = True):
    """Copy the graph of `outputs`, substituting variables per `replace`.

    `theano.clone(output, replace={x: y})`: the returned graph computes what
    `output` computed, with `y` wherever `x` was used.
    """
    single = isinstance(outputs, Variable)
    outs = [outputs] if single else list(outputs)
    replace = dict(replace or {})
    if isinstance(replace, (list, tuple)):
        replace = dict(replace)
    memo: dict = {}
    for old, new in replace.items():
        memo[old] = new
    # inputs of the original graph that are not replaced stay shared (or are copied)
    for v in graph_inputs(outs, blockers=list(replace)):
        if v not in memo:
            memo[v] = v if share_inputs or isinstance(v, Constant) else v.clone()
    for node in io_toposort(list(memo), outs):
        new_inputs = [memo.get(i, i) for i in node.inputs]
        if all(a is b for a, b in zip(new_inputs, node.inputs)):
            for o in node.outputs:
                memo.setdefault(o, o)
            continue
        new_node = node.clone_with_new_inputs(new_inputs, strict=False)
        for o, no in zip(node.outputs, new_node.outputs):
            memo.setdefault(o, no)
    result = [memo.get(o, o) for o in outs]
    return result[0] if single else result


def equal_computations(xs: Sequence[Variable], ys: Sequence[Variable],
                       in_xs: Sequence[Variable] | None = None,
                       in_ys: Sequence[Variable] | None = None) -> bool:
    """Whether `xs` and `ys` compute the same thing from corresponding inputs."""
    if len(xs) != len(ys):
        return False
    pairs: dict = {}
    for a, b in zip(in_xs or [], in_ys or []):
        pairs[id(a)] = b

    def same(a, b):
        if id(a) in pairs:
            return pairs[id(a)] is b
        if a is b:
            return True
        if isinstance(a, Constant) and isinstance(b, Constant):
            return a.equals(b)
        if a.owner is None or b.owner is None:
            return False
        if a.index != b.index or a.owner.op != b.owner.op or len(a.owner.inputs) != len(b.owner.inputs):
            return False
        ok = all(same(i, j) for i, j in zip(a.owner.inputs, b.owner.inputs))
        if ok:
            pairs[id(a)] = b
        return ok

    return all(same(a, b) for a, b in zip(xs, ys))


def is_same_graph(var1: Variable, var2: Variable, givens: dict | None = None) -> bool:
    """Whether two variables compute the same thing (after substituting `givens`)."""
    givens = dict(givens or {})
    if givens:
        var1 = clone_replace(var1, givens)
        var2 = clone_replace(var2, givens)
    return equal_computations([var1], [var2])
