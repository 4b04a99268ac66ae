"""pydotprint: draw a graph (a variable, a list of them, or a compiled function) with graphviz.

Variables are ellipses (inputs green, shared variables blue, outputs at the
bottom), operations are boxes; an edge from an input into an op is labelled
with the input's position when the op takes several. The picture is written
with pydot (and the `dot` program of graphviz for images); the format comes
from the file's extension (`.png`, `.svg`, `.pdf`, `.dot` for the source).
"""
from __future__ import annotations

import os

from ..graph.basic import Constant, Variable, io_toposort


def _pydot():
    try:
        import pydot
    except ImportError:
        raise ImportError("pydotprint needs pydot: pip install 'arignote[graph]' (and graphviz's `dot` program "
                          "for images, e.g. apt-get install graphviz)") from None
    return pydot


def _graph_of(obj):
    """(inputs, outputs, updates {output variable: shared name}) of what to draw."""
    from ..compile.function import Function

    if isinstance(obj, Function):
        fg = obj.maker.fgraph
        n_out = obj.maker.n_outputs
        updates = {}
        n_explicit = len(obj.maker.inputs)
        for shared_pos, out_pos in obj.maker.update_positions:
            updates[fg.outputs[out_pos]] = fg.inputs[n_explicit + shared_pos]
        return list(fg.inputs), list(fg.outputs[:n_out]) + list(updates), updates
    outputs = list(obj) if isinstance(obj, (list, tuple)) else [obj]
    for o in outputs:
        if not isinstance(o, Variable):
            raise TypeError(f"pydotprint draws variables or compiled functions, got {type(o).__name__}")
    from ..graph.basic import graph_inputs

    return graph_inputs(outputs), outputs, {}


def _var_label(var, var_with_name_simple: bool) -> str:
    if isinstance(var, Constant):
        from ..graph.basic import _short_data

        return f"constant {_short_data(var.data)}"
    name = var.name or ""
    if var_with_name_simple and name:
        return name
    return f"{name} {var.type}".strip()


def pydotprint(fct, outfile: str | None = None, compact: bool = True, format: str | None = None,
               with_ids: bool = False, high_contrast: bool = True, cond_highlight=None, colorCodes=None,
               max_label_size: int = 70, scan_graphs: bool = False, var_with_name_simple: bool = False,
               print_output_file: bool = True, return_image: bool = False):
    """Draw `fct` (a variable, a list of variables or a compiled Function) to `outfile`.

    >>> # pydotprint(f, outfile="f.png", var_with_name_simple=True)
    Returns the image bytes instead when `return_image=True`.
    """
    pydot = _pydot()
    inputs, outputs, updates = _graph_of(fct)
    if outfile is None:
        outfile = os.path.join(os.getcwd(), "pydotprint.png")
    fmt = format or os.path.splitext(outfile)[1].lstrip(".") or "png"
    graph = pydot.Dot(graph_type="digraph", rankdir="TB")
    ids: dict = {}

    def node_id(obj) -> str:
        if id(obj) not in ids:
            ids[id(obj)] = f"n{len(ids)}"
        return ids[id(obj)]

    def add_var(var):
        from ..compile.sharedvalue import SharedVariable

        style = dict(shape="ellipse")
        if var in outputs:
            style.update(style="filled", fillcolor="dodgerblue" if var in updates else "lightgrey")
        elif isinstance(var, SharedVariable) or (var in inputs and getattr(var.tag, "implicit_ok", False)):
            style.update(style="filled", fillcolor="cyan")
        elif var.owner is None and not isinstance(var, Constant):
            style.update(style="filled", fillcolor="limegreen")
        label = _var_label(var, var_with_name_simple)
        if var in updates:
            label = f"{label} (update of {updates[var]})"
        if with_ids:
            label = f"{label} id={node_id(var)}"
        graph.add_node(pydot.Node(node_id(var), label=f'"{_shorten(label, max_label_size)}"', **style))

    drawn = set()
    for node in io_toposort(inputs, outputs):
        op_label = _shorten(str(node.op), max_label_size)
        style = dict(shape="box")
        if getattr(node.op, "destroy_map", None):
            style.update(style="filled", fillcolor="red" if high_contrast else "salmon")
        elif getattr(node.op, "view_map", None):
            style.update(style="filled", fillcolor="yellow")
        graph.add_node(pydot.Node(node_id(node), label=f'"{op_label}"', **style))
        for pos, var in enumerate(node.inputs):
            if var.owner is None or var in outputs:
                if id(var) not in drawn:
                    add_var(var)
                    drawn.add(id(var))
                src = node_id(var)
            elif compact and var.name is None:
                src = node_id(var.owner)
            else:
                if id(var) not in drawn:
                    add_var(var)
                    drawn.add(id(var))
                    graph.add_edge(pydot.Edge(node_id(var.owner), node_id(var)))
                src = node_id(var)
            edge = dict(label=f'"{pos}"') if len(node.inputs) > 1 else {}
            graph.add_edge(pydot.Edge(src, node_id(node), **edge))
        for out in node.outputs:
            if out in outputs and id(out) not in drawn:
                add_var(out)
                drawn.add(id(out))
                graph.add_edge(pydot.Edge(node_id(node), node_id(out)))
    for out in outputs:  # outputs that are inputs or constants
        if id(out) not in drawn:
            add_var(out)
            drawn.add(id(out))
    if fmt == "dot":
        data = graph.to_string().encode()
    else:
        try:
            data = graph.create(format=fmt)
        except FileNotFoundError:
            raise RuntimeError("pydotprint needs graphviz's `dot` program to draw images (apt-get install "
                               "graphviz); use a .dot file name to write the graph's source instead") from None
    if return_image:
        return data
    with open(outfile, "wb") as f:
        f.write(data)
    if print_output_file:
        print("The output file is available at", outfile)
    return None


def _shorten(text: str, limit: int) -> str:
    text = text.replace('"', "'")
    return text if len(text) <= limit else text[: limit - 3] + "..."
