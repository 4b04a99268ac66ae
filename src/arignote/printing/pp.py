"""pp / pprint: a graph as math-like text, e.g. ``((x * y) + z)``.

Which text a node gets is decided by a small table of printers, as in Theano:
`pprint.assign(condition, printer)` where the condition is an Op instance, an
Op class, a scalar function (a row of the scalar table, or its name, for
Elemwise nodes) or a predicate `(pstate, var) -> bool` (or `(var) -> bool`).
A printer is any object with `process(var, pstate) -> str` that prints its
inputs by calling `pstate.pprinter.process(input, pstate)`.

Lookup for a variable: a named one that is not the variable asked for prints
its name; then the assigned predicates (newest first); then the op instance;
then the op's class and its bases; else `str(op)(inputs)`.

    >>> import arignote.tensor as T
    >>> x, y, z = T.dvectors('x', 'y', 'z')
    >>> pp(x * y + T.exp(z))
    '((x * y) + exp(z))'

Every operator application is parenthesised (as Theano does), so the text
never depends on precedence rules: ``(x + y + z)``, ``(-x)``, ``(x ** y)``.
Unnamed intermediate results are expanded; a named intermediate prints its
name; leaves print as `str(var)` (``x``, ``TensorConstant{2.0}``).
"""
from __future__ import annotations

import inspect
from typing import Any, Callable

from ..graph.basic import Apply, Op, Variable

__all__ = ["pp", "pprint", "PPrinter", "PrinterState", "OperatorPrinter", "PatternPrinter",
           "FunctionPrinter", "IgnorePrinter", "LeafPrinter", "DefaultPrinter", "DimShufflePrinter",
           "ElemwisePrinter", "ReducePrinter", "SubtensorPrinter", "MakeVectorPrinter",
           "default_printer", "leaf_printer"]


class PrinterState:
    """What printers share while printing one expression.

    `memo` maps each variable already printed to its text (a graph is a DAG:
    a shared subexpression is worked out once, even if it is written out
    several times); `pprinter` is the PPrinter in use; `root` is the variable
    asked for (it is expanded even when it has a name).
    """

    def __init__(self, props: dict | None = None, **more_props):
        if isinstance(props, PrinterState):
            self.__dict__.update(props.__dict__)
        elif props:
            self.__dict__.update(props)
        self.__dict__.update(more_props)
        self.memo: dict = {}


def _process_inputs(node: Apply, pstate: PrinterState) -> list[str]:
    return [pstate.pprinter.process(i, pstate) for i in node.inputs]


def _owner_or_error(output: Variable, what: str) -> Apply:
    if output.owner is None:
        raise TypeError(f"{what} cannot print {output}: it is not the result of an operation")
    return output.owner


class OperatorPrinter:
    """Infix (`(a + b + c)`) or, for one input, prefix (`(-a)`) notation."""

    def __init__(self, operator: str, precedence: float = 0, assoc: str = "left"):
        if assoc not in ("left", "right", "either"):
            raise ValueError(f"assoc must be 'left', 'right' or 'either', got {assoc!r}")
        self.operator, self.precedence, self.assoc = operator, precedence, assoc

    def process(self, output: Variable, pstate: PrinterState) -> str:
        if output in pstate.memo:
            return pstate.memo[output]
        node = _owner_or_error(output, f"operator {self.operator}")
        args = _process_inputs(node, pstate)
        body = self.operator + args[0] if len(args) == 1 else f" {self.operator} ".join(args)
        pstate.memo[output] = r = f"({body})"
        return r


class PatternPrinter:
    """A %-pattern over the inputs, per output: `PatternPrinter('|%(0)s|')`."""

    def __init__(self, *patterns):
        self.patterns = [p if isinstance(p, str) else p[0] for p in patterns]

    def process(self, output: Variable, pstate: PrinterState) -> str:
        if output in pstate.memo:
            return pstate.memo[output]
        node = _owner_or_error(output, f"pattern {self.patterns}")
        args = _process_inputs(node, pstate)
        r = self.patterns[node.outputs.index(output)] % {str(i): a for i, a in enumerate(args)}
        pstate.memo[output] = r
        return r


class FunctionPrinter:
    """Function-call notation: `FunctionPrinter('exp')` prints `exp(x)` (one name per output)."""

    def __init__(self, *names: str):
        self.names = names

    def process(self, output: Variable, pstate: PrinterState) -> str:
        if output in pstate.memo:
            return pstate.memo[output]
        node = _owner_or_error(output, f"function {self.names}")
        idx = node.outputs.index(output)
        name = self.names[idx] if idx < len(self.names) else f"{self.names[0]}.{idx}"
        pstate.memo[output] = r = f"{name}({', '.join(_process_inputs(node, pstate))})"
        return r


class IgnorePrinter:
    """Print the node as its first input (for ops that change nothing visible)."""

    def process(self, output: Variable, pstate: PrinterState) -> str:
        if output in pstate.memo:
            return pstate.memo[output]
        node = _owner_or_error(output, "IgnorePrinter")
        pstate.memo[output] = r = pstate.pprinter.process(node.inputs[0], pstate)
        return r


class LeafPrinter:
    """A variable by its name (or `str`: `TensorConstant{2}`, `<TensorType(float64, (?,))>`)."""

    def process(self, output: Variable, pstate: PrinterState) -> str:
        if output in pstate.memo:
            return pstate.memo[output]
        pstate.memo[output] = r = str(output)
        return r


leaf_printer = LeafPrinter()


class DefaultPrinter:
    """`str(op)(inputs)`; `.k` marks output k of an op with several outputs."""

    def process(self, output: Variable, pstate: PrinterState) -> str:
        if output in pstate.memo:
            return pstate.memo[output]
        node = output.owner
        if node is None:
            return leaf_printer.process(output, pstate)
        idx = f".{node.outputs.index(output)}" if len(node.outputs) > 1 else ""
        pstate.memo[output] = r = f"{node.op}{idx}({', '.join(_process_inputs(node, pstate))})"
        return r


default_printer = DefaultPrinter()


class DimShufflePrinter:
    """Theano's view of a DimShuffle: added broadcast dims in front are not shown,
    a full reversal is `x.T`, anything else `DimShuffle{1,x,0}(x)`."""

    def process(self, output: Variable, pstate: PrinterState) -> str:
        if output in pstate.memo:
            return pstate.memo[output]
        node = output.owner
        order = list(node.op.new_order)
        while order and order[0] == "x":
            order.pop(0)
        ndim = node.inputs[0].ndim
        inner = pstate.pprinter.process(node.inputs[0], pstate)
        if order == list(range(ndim)):
            r = inner
        elif order == list(range(ndim - 1, -1, -1)):
            r = f"{inner}.T"
        else:
            r = f"{node.op}({inner})"
        pstate.memo[output] = r
        return r


class ElemwisePrinter:
    """Dispatch an Elemwise node on its scalar function.

    Order: a printer assigned to the scalar function (by name), then a cast
    (`float32(x)`), then the function's infix symbol (`(x + y)`), then
    `name(args)` (with Theano's `fill` for `second`).
    """

    def __init__(self, scalar_printers: dict[str, Any]):
        self.scalar_printers = scalar_printers

    def process(self, output: Variable, pstate: PrinterState) -> str:
        op = output.owner.op
        fn = getattr(op, "scalar_fn", None)
        name = getattr(fn, "name", None)
        if name is None:
            return default_printer.process(output, pstate)
        if getattr(op, "out_dtype", None) is not None:
            return FunctionPrinter(str(op.out_dtype)).process(output, pstate)
        printer = self.scalar_printers.get(name)
        if printer is None:
            symbol = getattr(fn, "symbol", None)
            printer = OperatorPrinter(symbol) if symbol else FunctionPrinter(name)
        return printer.process(output, pstate)


class ReducePrinter:
    """`sum(x)` for a reduction over every axis, else `Sum{axis=[0]}(x)`."""

    def process(self, output: Variable, pstate: PrinterState) -> str:
        if output in pstate.memo:
            return pstate.memo[output]
        node = output.owner
        op = node.op
        x = node.inputs[0]
        inner = pstate.pprinter.process(x, pstate)
        if tuple(op.axis) == tuple(range(x.ndim)):
            r = f"{op.kind}({inner})"
        else:
            r = f"{op}({inner})"
        pstate.memo[output] = r
        return r


class MakeVectorPrinter:
    """`[a, b, c]`."""

    def process(self, output: Variable, pstate: PrinterState) -> str:
        if output in pstate.memo:
            return pstate.memo[output]
        pstate.memo[output] = r = f"[{', '.join(_process_inputs(output.owner, pstate))}]"
        return r


def _index_entry_text(entry, symbolic: list[str]) -> str:
    """One entry of an `idx_list` (see tensor/subtensor.py): an int, a slice, None
    (a new axis) or a Type standing for the next symbolic index input."""
    from ..graph.basic import Type

    def part(p):
        if p is None:
            return ""
        if isinstance(p, Type):
            return symbolic.pop(0)
        return str(p)

    if isinstance(entry, slice):
        start, stop, step = part(entry.start), part(entry.stop), part(entry.step)
        text = f"{start}:{stop}"
        return f"{text}:{step}" if step else text
    if entry is None:
        return "None"
    return part(entry)


class SubtensorPrinter:
    """Indexing as Python writes it: `x[0]`, `x[1:3]`, `x[i, ::2]`, `x[iv]`, and
    `set_subtensor(x[1:], y)` / `inc_subtensor(x[i], y)` for the writing ops.

    Reads the op's `idx_list` (ints, slices, None, and Types standing for the
    index inputs that follow `x`, or `x` and `y` for ops with a
    `set_instead_of_inc` flag); an op without one (`AdvancedSubtensor1`) has
    all its index inputs printed in order. What it cannot read falls back to
    the default printer.
    """

    def process(self, output: Variable, pstate: PrinterState) -> str:
        if output in pstate.memo:
            return pstate.memo[output]
        node = output.owner
        op = node.op
        writes = hasattr(op, "set_instead_of_inc")
        first_index = 2 if writes else 1
        if len(node.inputs) < first_index:
            return default_printer.process(output, pstate)
        pprinter = pstate.pprinter
        symbolic = [pprinter.process(i, pstate) for i in node.inputs[first_index:]]
        idx_list = getattr(op, "idx_list", None)
        if idx_list is None:
            entries = symbolic
        else:
            try:
                entries = [_index_entry_text(e, symbolic) for e in idx_list]
            except (IndexError, TypeError):
                return default_printer.process(output, pstate)
            if symbolic:  # inputs left over: the op keeps its indices some other way
                return default_printer.process(output, pstate)
        if not entries:
            return default_printer.process(output, pstate)
        r = f"{pprinter.process(node.inputs[0], pstate)}[{', '.join(entries)}]"
        if writes:
            fn = "set_subtensor" if op.set_instead_of_inc else "inc_subtensor"
            r = f"{fn}({r}, {pprinter.process(node.inputs[1], pstate)})"
        pstate.memo[output] = r
        return r


_OPTIONAL_PRINTERS = [("..tensor.subtensor", name, SubtensorPrinter())
                      for name in ("Subtensor", "IncSubtensor", "AdvancedSubtensor1", "AdvancedIncSubtensor1",
                                   "AdvancedSubtensor", "AdvancedIncSubtensor")]
_OPTIONAL_PRINTERS += [("..tensor.blas", "Dot", FunctionPrinter("dot")),
                       ("..tensor.blas", "MatMul", FunctionPrinter("matmul"))]


def _as_predicate(fn: Callable) -> Callable:
    """Accept Theano's `(pstate, var)` predicates and plain `(var)` ones."""
    try:
        n = len([p for p in inspect.signature(fn).parameters.values()
                 if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)])
    except (TypeError, ValueError):
        n = 2
    return (lambda pstate, r: fn(r)) if n == 1 else fn


class PPrinter:
    """The printer table; `pprint` (alias `pp`) is the default instance.

    `pp(var)` -> text; `pp(var, pstate)`; `pp(f)` for a compiled function
    (one line per output, then `W <- ...` per update); `pp(inputs, outputs,
    updates)` -> Theano's program-like listing.
    """

    max_length = 10_000_000  # characters of one subexpression's text before pp gives up

    def __init__(self):
        self.printers: list = []  # (predicate, printer), newest first
        self.printers_dict: dict = {}  # Op instance or Op class -> printer
        self.scalar_printers: dict[str, Any] = {}  # scalar function name -> printer (Elemwise)
        self._builtins_loaded = False

    def assign(self, condition, printer) -> None:
        """Use `printer` for variables matching `condition` (see the module docstring)."""
        if not isinstance(condition, (Op, type)) and isinstance(getattr(condition, "op", None), Op):
            condition = condition.op  # `T.add` is a function carrying its Elemwise op
        if isinstance(condition, str):
            self.scalar_printers[condition] = printer
        elif hasattr(condition, "nin") and hasattr(condition, "dtype_rule") and hasattr(condition, "name"):
            self.scalar_printers[condition.name] = printer  # a row of the scalar table
        elif isinstance(condition, (Op, type)):
            self.printers_dict[condition] = printer
        elif callable(condition):
            self.printers.insert(0, (_as_predicate(condition), printer))
        else:
            raise TypeError(f"pprint.assign: the condition must be an Op, an Op class, a scalar function "
                            f"(or its name) or a predicate, got {condition!r}")

    def _load_builtins(self) -> None:
        # late: the tensor package is built on modules that may print
        if self._builtins_loaded:
            return
        from ..tensor.elemwise import DimShuffle, Elemwise
        from ..tensor.reduce import Reduce
        from ..tensor.shape_ops import Alloc, MakeVector

        defaults = {Elemwise: ElemwisePrinter(self.scalar_printers), DimShuffle: DimShufflePrinter(),
                    Reduce: ReducePrinter(), MakeVector: MakeVectorPrinter(), Alloc: FunctionPrinter("alloc")}
        for cls, printer in defaults.items():
            self.printers_dict.setdefault(cls, printer)
        for name, printer in {"second": FunctionPrinter("fill"),
                              "abs": PatternPrinter("|%(0)s|")}.items():
            self.scalar_printers.setdefault(name, printer)
        # ops of modules that may still be missing pieces: registered when present
        import importlib

        for module, cls_name, printer in _OPTIONAL_PRINTERS:
            try:
                cls = getattr(importlib.import_module(module, __package__), cls_name, None)
            except ImportError:  # pragma: no cover
                continue
            if isinstance(cls, type):
                self.printers_dict.setdefault(cls, printer)
        self._builtins_loaded = True

    def _printer_for(self, r: Variable, pstate: PrinterState):
        node = r.owner
        if node is None:
            return leaf_printer
        if r is not getattr(pstate, "root", None) and r.name is not None:
            return leaf_printer
        for condition, printer in self.printers:  # assigned predicates win: they are the most specific wish
            if condition(pstate, r):
                return printer
        op = node.op
        try:
            printer = self.printers_dict.get(op)
        except TypeError:  # an op with unhashable props
            printer = None
        if printer is not None:
            return printer
        for cls in type(op).__mro__:
            printer = self.printers_dict.get(cls)
            if printer is not None:
                return printer
        return default_printer

    def process(self, r: Variable, pstate: PrinterState | dict | None = None) -> str:
        """The text of `r` (printers call this for their inputs, passing `pstate`)."""
        self._load_builtins()
        if pstate is None or isinstance(pstate, dict):
            pstate = PrinterState(pstate, pprinter=self, root=r)
            self._fill_bottom_up(r, pstate)
        elif not hasattr(pstate, "pprinter"):
            pstate.pprinter = self
        if r in pstate.memo:
            return pstate.memo[r]
        return self._printer_for(r, pstate).process(r, pstate)

    def _fill_bottom_up(self, root: Variable, pstate: PrinterState) -> None:
        """Print the subexpressions leaves-first, so that deep graphs (thousands of
        nested nodes) never recurse deeper than one level into the printers."""
        order, seen = [], set()
        stack = [(root, False)]
        while stack:
            v, expanded = stack.pop()
            if expanded:
                order.append(v)
                continue
            if id(v) in seen:
                continue
            seen.add(id(v))
            stack.append((v, True))
            if v.owner is not None and (v is root or v.name is None):
                stack.extend((i, False) for i in reversed(v.owner.inputs))
        for v in order[:-1]:
            if v not in pstate.memo:
                text = self._printer_for(v, pstate).process(v, pstate)
                # a subexpression used twice is written twice: a graph reusing results
                # layer after layer grows exponentially in text; stop before memory does
                if len(text) > self.max_length:
                    raise ValueError(
                        f"pp: the text of {root} would exceed {self.max_length} characters, as its graph "
                        "reuses subexpressions that pp writes out at each use; debugprint(var) prints "
                        "each node once (or raise pp.max_length)")

    def process_graph(self, inputs, outputs, updates=None, display_inputs: bool = False) -> str:
        """Theano's listing of a whole computation: `return expr`, `name = expr`, `W <- expr`."""
        inputs = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        outputs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
        updates = list(dict(updates or {}).items())
        lines = []
        if display_inputs:
            lines.append("inputs: " + ", ".join(map(str, inputs + [v for v, _ in updates])))
        for k, out in enumerate(outputs):
            if len(outputs) == 1:
                lines.append(f"return {self.process(out)}")
            else:
                lines.append(f"{out.name if out.name is not None else f'out[{k}]'} = {self.process(out)}")
        for var, expr in updates:
            lines.append(f"{var} <- {self.process(expr)}")
        return "\n".join(lines)

    def clone(self) -> "PPrinter":
        cp = PPrinter()
        self._load_builtins()
        cp.printers = list(self.printers)
        cp.printers_dict = dict(self.printers_dict)
        cp.scalar_printers = dict(self.scalar_printers)
        # the Elemwise printer must read the clone's own scalar table
        for key, printer in cp.printers_dict.items():
            if isinstance(printer, ElemwisePrinter) and printer.scalar_printers is self.scalar_printers:
                cp.printers_dict[key] = ElemwisePrinter(cp.scalar_printers)
        cp._builtins_loaded = True
        return cp

    def clone_assign(self, condition, printer) -> "PPrinter":
        cp = self.clone()
        cp.assign(condition, printer)
        return cp

    def _process_function(self, f) -> str:
        maker = f.maker
        fg = maker.fgraph
        n_out = getattr(maker, "n_outputs", len(fg.outputs))
        lines = [self.process(o) for o in fg.outputs[:n_out]]
        n_explicit = len(maker.inputs)
        for implicit_pos, out_pos in getattr(maker, "update_positions", []):
            target = fg.inputs[n_explicit + implicit_pos]
            lines.append(f"{target} <- {self.process(fg.outputs[out_pos])}")
        for in_pos, out_pos in getattr(maker, "input_update_positions", []):
            lines.append(f"{fg.inputs[in_pos]} <- {self.process(fg.outputs[out_pos])}")
        return "\n".join(lines)

    def __call__(self, *args) -> str:
        """`pp(var)`, `pp(var, pstate)`, `pp(function)`, `pp([vars])` or `pp(inputs, outputs, updates)`."""
        if len(args) == 1:
            obj = args[0]
            if isinstance(obj, Variable):
                return self.process(obj)
            if hasattr(obj, "maker") and hasattr(obj.maker, "fgraph"):
                return self._process_function(obj)
            if isinstance(obj, Apply):
                return "\n".join(self.process(o) for o in obj.outputs)
            if hasattr(obj, "outputs") and hasattr(obj, "toposort"):  # a FunctionGraph
                return "\n".join(self.process(o) for o in obj.outputs)
            if isinstance(obj, (list, tuple)) and all(isinstance(o, Variable) for o in obj):
                return "\n".join(self.process(o) for o in obj)
            raise TypeError(f"pp cannot print a {type(obj).__name__}; give it a variable, a list of "
                            "variables, an Apply node or a compiled function")
        if len(args) == 2 and isinstance(args[1], (PrinterState, dict)):
            return self.process(*args)
        if len(args) >= 2:
            return self.process_graph(*args)
        raise TypeError("pp takes at least one argument")


pprint = PPrinter()
pp = pprint
