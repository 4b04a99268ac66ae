"""debugprint: a graph as an indented tree, one line per variable (Theano's format).

    Elemwise{mul} [id A] ''
     |Elemwise{add} [id B] ''
     | |x [id C]
     | |y [id D]
     |x [id C]

An op's output line is `Op[.k] [id X] <type> 'name'` (`.k` only for ops with
several outputs; for a compiled function the node's position in the
execution order follows); an input line is `name [id X] <type>`, with
`<shared>` after shared variables. A node met again prints only its line:
its id refers back to where its inputs were printed.
"""
from __future__ import annotations

import io
import sys
from typing import Any

from ..graph.basic import Apply, Variable

__all__ = ["debugprint", "char_from_number"]


def char_from_number(number: int) -> str:
    """Theano's letter ids: 0 -> 'A', 25 -> 'Z', 26 -> 'BA' (base 26, A = 0)."""
    if number == 0:
        return "A"
    out = ""
    while number:
        number, rem = divmod(number, 26)
        out = chr(ord("A") + rem) + out
    return out


class _Context:
    """What is known about the graph a root belongs to (a compiled function's extras)."""

    def __init__(self, order=None, clients=None, storage=None, profile=None, notes=None):
        self.order = {node: k for k, node in enumerate(order)} if order else {}
        self.clients = clients or {}
        self.storage = storage or {}
        self.profile = profile
        self.notes = notes or {}  # root position -> text appended to its line
        self._total_time: dict = {}

    def timing(self, node) -> str:
        prof = self.profile
        if prof is None or node not in prof.node_time:
            return ""
        total = sum(prof.node_time.values()) or 1e-12
        own = prof.node_time[node]
        if node not in self._total_time:  # the node plus every node it depends on
            seen, stack, acc = set(), [node], 0.0
            while stack:
                n = stack.pop()
                if id(n) in seen:
                    continue
                seen.add(id(n))
                acc += prof.node_time.get(n, 0.0)
                stack.extend(i.owner for i in n.inputs if i.owner is not None)
            self._total_time[node] = acc
        tot = self._total_time[node]
        return f" --> {own:8.2e}s {100 * own / total:4.1f}% {tot:8.2e}s {100 * tot / total:4.1f}%"


class _TreePrinter:
    def __init__(self, file, ids: str, print_type: bool, stop_on_name: bool, done: dict,
                 print_destroy_map: bool, print_view_map: bool, print_clients: bool):
        if ids not in ("CHAR", "int", "id", ""):
            raise ValueError(f"debugprint: ids must be 'CHAR', 'int', 'id' or '', got {ids!r}")
        self.file, self.ids, self.print_type, self.stop_on_name = file, ids, print_type, stop_on_name
        self.done = done  # object -> id text, for nodes whose inputs were printed
        self.used_ids = dict(done)  # object -> id text, for all objects referred to so far
        self.print_destroy_map, self.print_view_map = print_destroy_map, print_view_map
        self.print_clients = print_clients
        self.inner_ops: list = []  # nodes whose ops hold an inner graph, printed at the end

    def id_str(self, obj, printed: bool = True) -> str:
        if isinstance(obj, str):  # the fgraph's "output" client marker: not a node, takes no id
            return obj
        if obj in self.used_ids:
            text = self.used_ids[obj]
        elif self.ids == "id":
            text = f"[id {id(obj)}]"
        elif self.ids == "int":
            text = f"[id {len(self.used_ids)}]"
        elif self.ids == "CHAR":
            text = f"[id {char_from_number(len(self.used_ids))}]"
        else:
            text = ""
        if printed:
            self.done[obj] = text
        self.used_ids[obj] = text
        return text

    def _line(self, r: Variable, prefix: str, ctx: _Context, note: str) -> bool:
        """Write r's line; say whether its inputs still have to be printed."""
        type_str = f" <{r.type}>" if self.print_type else ""
        node = r.owner
        if node is None:
            from ..compile.sharedvalue import SharedVariable

            shared = " <shared>" if isinstance(r, SharedVariable) else ""
            data = f" {ctx.storage[r]}" if r in ctx.storage else ""
            print(f"{prefix}{r} {self.id_str(r)}{type_str}{shared}{data}{note}", file=self.file)
            return False
        already = node in self.done
        node_id = self.id_str(node)  # before the clients', so that ids follow the printing order
        idx = f".{node.outputs.index(r)}" if len(node.outputs) > 1 else ""
        name = r.name if r.name is not None else ""
        dmap = vmap = ""
        if self.print_destroy_map and getattr(node.op, "destroy_map", None):
            dmap = f"d={node.op.destroy_map}"
        if self.print_view_map and getattr(node.op, "view_map", None):
            vmap = f"v={node.op.view_map}"
        order = str(ctx.order[node]) if node in ctx.order else ""
        data = f" {ctx.storage[node.outputs[0]]}" if node.outputs[0] in ctx.storage else ""
        clients = ""
        users = ctx.clients.get(r, [])
        if self.print_clients and len(users) > 1:
            clients = " clients:" + str([(self.id_str(c, printed=False), ctx.order.get(c, ""))
                                         for c, _ in users])
        line = (f"{prefix}{node.op}{idx} {node_id}{type_str} '{name}' {dmap} {vmap} "
                f"{order}{data}{clients}{ctx.timing(node)}{note}")
        print(line, file=self.file)
        if not already and _inner_graph(node.op) is not None:
            self.inner_ops.append(node)
        return not already

    def tree(self, root: Variable, depth: int, ctx: _Context, prefix: str = "", prefix_child: str | None = None,
             note: str = "") -> None:
        # an explicit stack: graphs thousands of nodes deep must not hit the recursion limit
        stack = [(root, depth, prefix, prefix if prefix_child is None else prefix_child, note)]
        while stack:
            r, d, pre, pre_child, note = stack.pop()
            if d == 0:
                continue
            expand = self._line(r, pre, ctx, note)
            if not expand or (self.stop_on_name and r.name is not None and r is not root):
                continue
            inputs = r.owner.inputs
            children = []
            for k, i in enumerate(inputs):
                last = k == len(inputs) - 1
                children.append((i, d - 1, pre_child + " |", pre_child + ("  " if last else " |"), ""))
            stack.extend(reversed(children))

    def inner_graphs(self, depth: int) -> None:
        if not self.inner_ops:
            return
        print("", file=self.file)
        print("Inner graphs:", file=self.file)
        k = 0
        while k < len(self.inner_ops):  # inner graphs may hold further inner graphs
            node = self.inner_ops[k]
            k += 1
            print("", file=self.file)
            self._line(node.outputs[0], "", _Context(), "")
            for out in _inner_graph(node.op)[1]:
                self.tree(out, depth, _Context(), prefix=" >", prefix_child=" >")


def _inner_graph(op):
    """(inputs, outputs) of an op that carries an inner graph (scan-like ops), else None."""
    fg = getattr(op, "fgraph", None)
    if fg is not None and hasattr(fg, "outputs"):
        return list(fg.inputs), list(fg.outputs)
    outs = getattr(op, "inner_outputs", None)
    if outs is None and isinstance(getattr(op, "inner_output", None), Variable):
        outs = [op.inner_output]
    if isinstance(outs, (list, tuple)) and outs and all(isinstance(o, Variable) for o in outs):
        return list(getattr(op, "inner_inputs", [])), list(outs)
    return None


def _function_roots(f, print_storage: bool) -> tuple[list, _Context]:
    maker = f.maker
    fg = maker.fgraph
    n_explicit = len(maker.inputs)
    notes = {}
    for implicit_pos, out_pos in getattr(maker, "update_positions", []):
        notes[out_pos] = f"update of {fg.inputs[n_explicit + implicit_pos]}"
    for in_pos, out_pos in getattr(maker, "input_update_positions", []):
        notes[out_pos] = f"update of input {fg.inputs[in_pos]}"
    storage = {}
    if print_storage:
        for var, cell in zip(fg.inputs, getattr(f, "_input_cells", [])):
            storage[var] = cell
        for var, cell in zip(fg.outputs, getattr(f, "_output_cells", [])):
            storage[var] = cell
    profile = f.profile if getattr(f.profile, "node_time", None) else None
    ctx = _Context(order=fg.toposort(), clients=fg.clients, storage=storage, profile=profile, notes=notes)
    return list(fg.outputs), ctx


_TIMING_HEADER = """
Timing Info
-----------
--> <time> <% time> - <total time> <% total time>

<time>         computation time for this node
<% time>       fraction of total computation time for this node
<total time>   time for this node + total times for this node's ancestors
<% total time> total time for this node over total computation time
"""


def debugprint(obj, depth: int = -1, print_type: bool = False, file=None, ids: str = "CHAR",
               stop_on_name: bool = False, done: dict | None = None, print_storage: bool = False,
               print_clients: bool = False, used_ids: dict | None = None, print_destroy_map: bool = False,
               print_view_map: bool = False) -> Any:
    """Print a graph as an indented tree of its nodes, one line per variable.

    obj: a Variable, an Apply, a compiled Function, a FunctionGraph, In/Out,
    or a list of these. depth: how many levels to print (-1: all).
    print_type: add each variable's type. file: None prints to stdout;
    'str' returns the text; else a file-like object to write to. ids: how
    nodes are identified: 'CHAR' (A, B, ...), 'int', 'id' (Python ids) or ''.
    stop_on_name: do not print below a named variable. done: a dict shared
    between calls keeps ids consistent across them. print_storage: for a
    Function, show the values held in its input and output storage.
    Returns the text if file == 'str', else `file`.

    For a compiled function the outputs are printed, then each update, its
    line ending with `update of W`; node lines end with their position in
    the execution order and shared variables are marked `<shared>`.

    >>> import arignote.tensor as T
    >>> x, y = T.dvectors('x', 'y')
    >>> [line.rstrip() for line in debugprint(x + y, file='str').splitlines()]
    ["Elemwise{add} [id A] ''", ' |x [id B]', ' |y [id C]']
    """
    if not isinstance(depth, int) or isinstance(depth, bool):
        raise TypeError(f"debugprint: depth must be an int, got {depth!r}")
    if file == "str":
        out = io.StringIO()
    elif file is None:
        out = sys.stdout
    else:
        out = file
    from ..compile.io import In, Out

    done = {} if done is None else done
    printer = _TreePrinter(out, ids, print_type, stop_on_name, done, print_destroy_map, print_view_map,
                           print_clients)
    if used_ids:
        printer.used_ids.update(used_ids)
    roots: list = []  # (variable, context, note)
    for item in (obj if isinstance(obj, (list, tuple, set)) else [obj]):
        if isinstance(item, Variable):
            roots.append((item, _Context(), ""))
        elif isinstance(item, Apply):
            roots.extend((o, _Context(), "") for o in item.outputs)
        elif hasattr(item, "maker") and hasattr(item.maker, "fgraph"):
            outs, ctx = _function_roots(item, print_storage)
            roots.extend((o, ctx, ctx.notes.get(k, "")) for k, o in enumerate(outs))
        elif hasattr(item, "outputs") and hasattr(item, "toposort") and hasattr(item, "clients"):
            ctx = _Context(order=item.toposort(), clients=item.clients)
            roots.extend((o, ctx, "") for o in item.outputs)
        elif isinstance(item, (In, Out)):
            roots.append((item.variable, _Context(), ""))
        elif isinstance(item, (int, float)) or type(item).__module__ == "numpy":
            print(item, file=out)
        else:
            raise TypeError(f"debugprint cannot print a {type(item).__name__}; give it a variable, an Apply "
                            "node, a compiled function, a FunctionGraph or a list of these")
    if any(ctx.profile is not None for _, ctx, _ in roots):
        print(_TIMING_HEADER, file=out)
    for r, ctx, note in roots:
        printer.tree(r, depth, ctx, note=f"   ({note})" if note else "")
    printer.inner_graphs(depth)
    if file == "str":
        return out.getvalue()
    if file is not None:
        out.flush()
    return file
