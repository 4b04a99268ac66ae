"""What a lowering sees: its node, the names of its values, and a place to write code.

Inside a native segment every tensor is a Numba value: an array when it has
dimensions, a plain scalar of its dtype when it has none (Numba computes with
scalars far better than with 0-d arrays; the segment's boundary converts).
A lowering writes statements that assign each of the node's outputs; an
output of an op without a `view_map` must be a fresh array (callers rely on
an output never aliasing an input unless the graph says it is a view).
"""
from __future__ import annotations

import ast
import math
from contextlib import contextmanager

import numpy as np

from ...graph.basic import Constant

#: dtypes Numba computes with natively (float16 is not among them)
NATIVE_DTYPES = frozenset(["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
                           "float32", "float64", "complex64", "complex128"])


def dtype_expr(dtype: str) -> str:
    """The Numba-visible name of a NumPy dtype: 'np.float32', 'np.bool_'."""
    return "np.bool_" if dtype == "bool" else f"np.{dtype}"


def scalar_literal(value) -> str | None:
    """Source text for a single-element constant of its exact dtype, or None (complex: use a global)."""
    v = np.asarray(value).reshape(())
    dt = v.dtype
    if dt.kind == "b":
        return "True" if bool(v) else "False"
    if dt.kind in "iu":
        return f"np.{dt.name}({int(v)})"
    if dt.kind == "f":
        f = float(v)
        if math.isnan(f):
            text = "np.nan"
        elif math.isinf(f):
            text = "np.inf" if f > 0 else "-np.inf"
        else:
            text = repr(f)
        return f"np.{dt.name}({text})"
    return None


class SourceWriter:
    """Indented lines of one generated function body."""

    def __init__(self, indent: int = 1):
        self.lines: list[str] = []
        self.indent = indent
        #: the check written last (NodeContext.check): (lines then, helper, indent, condition, comment)
        self.last_check: tuple | None = None

    def emit(self, line: str) -> None:
        self.lines.append("    " * self.indent + line)

    @contextmanager
    def block(self, header: str):
        self.emit(header)
        self.indent += 1
        try:
            yield
        finally:
            self.indent -= 1


class Namespace:
    """The globals of the generated code: np, math and the objects lowerings hand it."""

    def __init__(self, base: dict | None = None):
        self.values: dict = {"np": np, "math": math}
        if base:
            self.values.update(base)
        self._by_id: dict[int, str] = {}
        self._count = 0

    def glob(self, obj, hint: str = "g") -> str:
        name = self._by_id.get(id(obj))
        if name is None:
            self._count += 1
            name = f"_{hint}{self._count}"
            self.values[name] = obj
            self._by_id[id(obj)] = name
        return name


class Names:
    """Fresh local names."""

    def __init__(self):
        self._counts: dict[str, int] = {}

    def fresh(self, hint: str = "t") -> str:
        k = self._counts.get(hint, 0)
        self._counts[hint] = k + 1
        return f"{hint}_{k}"


#: the compiled helper (kernels.py) raising each error class a check may raise
_CHECK_HELPERS = {"ValueError": "check_value", "IndexError": "check_index"}


def _eager_condition(condition: str) -> str | None:
    """`condition` without short-circuit evaluation (`a or b` -> `(a) | (b)`), or None when that is not
    known to be safe: only comparisons of names, numbers, `.shape` entries and their sums and products
    qualify (evaluating one needlessly then reads no memory and divides by nothing the other guarded)."""
    try:
        tree = ast.parse(condition, mode="eval").body
    except SyntaxError:
        return None
    terms = _or_terms(tree)
    if terms is None:
        return None
    return " | ".join(f"({ast.unparse(t)})" for t in terms)


def _or_terms(node) -> list | None:
    if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or):
        terms = []
        for value in node.values:
            sub = _or_terms(value)
            if sub is None:
                return None
            terms.extend(sub)
        return terms
    if isinstance(node, ast.Compare) and all(_safe_operand(x) for x in [node.left, *node.comparators]):
        return [node]
    return None


def _safe_operand(node) -> bool:
    if isinstance(node, (ast.Name, ast.Constant)):
        return True
    if isinstance(node, ast.UnaryOp):
        return _safe_operand(node.operand)
    if isinstance(node, ast.BinOp):  # (not / or %: `n == 0 or size % n != 0` must keep its guard)
        return isinstance(node.op, (ast.Add, ast.Sub, ast.Mult)) and _safe_operand(node.left) \
            and _safe_operand(node.right)
    if isinstance(node, ast.Attribute):  # x.shape, x.size, x.ndim
        return isinstance(node.value, ast.Name) and node.attr in ("shape", "size", "ndim")
    if isinstance(node, ast.Subscript):  # x.shape[d]
        return (isinstance(node.value, ast.Attribute) and _safe_operand(node.value) and node.value.attr == "shape"
                and isinstance(node.slice, ast.Constant))
    if isinstance(node, ast.Tuple):
        return all(_safe_operand(e) for e in node.elts)
    return False


class NodeContext:
    """The lowering's view of one node: value names, types and the code writer."""

    def __init__(self, node, inputs: list[str], outputs: list[str], writer: SourceWriter, namespace: Namespace,
                 names: Names):
        self.node = node
        self.inputs = inputs
        self.outputs = outputs
        self.writer = writer
        self.namespace = namespace
        self.names = names

    # -- writing ---------------------------------------------------------------------------
    def emit(self, line: str) -> None:
        self.writer.emit(line)

    def block(self, header: str):
        return self.writer.block(header)

    def fresh(self, hint: str = "t") -> str:
        return self.names.fresh(hint)

    def glob(self, obj, hint: str = "g") -> str:
        return self.namespace.glob(obj, hint)

    def check(self, failure_condition: str, message: str, error: str = "ValueError") -> None:
        """Raise `error` (ValueError, IndexError) when `failure_condition` holds at run time.

        The check is one statement, a helper of kernels.py given the code of
        `message`, not `if ...: raise ...(message)`: that branch and raise
        cost Numba ~0.1 s each in a big segment (the helper writes the same
        compare and branch into LLVM's code, past Numba's own passes). A check
        right after another of the same error joins it (the conditions or-ed
        without short-circuit where evaluating them is safe, the messages
        joined).
        """
        helper = _CHECK_HELPERS.get(error)
        if helper is None:
            with self.block(f"if {failure_condition}:"):
                self.emit(f"raise {error}({message!r})")
            return
        from . import kernels

        name = kernels.register(self, getattr(kernels, helper))
        condition = _eager_condition(failure_condition)
        message = " ".join(message.split())
        w = self.writer
        last = w.last_check
        if condition is not None and last is not None and last[:3] == (len(w.lines), name, w.indent):
            condition = f"{last[3]} | {condition}"
            message = f"{last[4]}; {message}"
            w.lines.pop()
        shown = condition if condition is not None else failure_condition
        w.emit(f"{name}({shown}, {kernels.message_code(message)})  # {message}")
        w.last_check = (len(w.lines), name, w.indent, condition, message) if condition is not None else None

    def message_code(self, message: str) -> int:
        """The code of `message` for a helper that raises it (kernels.py)."""
        from . import kernels

        return kernels.message_code(" ".join(message.split()))

    # -- types -----------------------------------------------------------------------------------
    def in_dtype(self, k: int) -> str:
        return self.node.inputs[k].type.dtype

    def out_dtype(self, k: int = 0) -> str:
        return self.node.outputs[k].type.dtype

    def in_ndim(self, k: int) -> int:
        return self.node.inputs[k].type.ndim

    def out_ndim(self, k: int = 0) -> int:
        return self.node.outputs[k].type.ndim

    def constant(self, k: int):
        """Input k's value if it is a constant, else None."""
        v = self.node.inputs[k]
        return v.data if isinstance(v, Constant) else None

    def where(self) -> str:
        """Where the user built this node (for error messages)."""
        out = self.node.outputs[0] if self.node.outputs else None
        return getattr(out, "creation_line", "?") if out is not None else "?"


class NativeSource:
    """Source of a helper function the generated code calls (e.g. a loop's body), compiled with it.

    Lowering must stay cheap and Numba-free (it runs at function() time), so a
    lowering that needs a compiled helper puts this in the namespace; compile.py
    turns it into a Numba dispatcher before compiling the code that calls it.
    """

    def __init__(self, name: str, source: str):
        self.name = name
        self.source = source
