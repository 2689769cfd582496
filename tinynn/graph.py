"""Export the autograd graph behind a tensor as Graphviz DOT text.

    dot = tinynn.to_dot(loss, params=dict(model.named_parameters()))
    open("graph.dot", "w").write(dot)      # render with: dot -Tpng graph.dot -o graph.png

Needs no Graphviz install to build the text; only rendering it does.
"""
from .engine import Node

__all__ = ["to_dot"]


def to_dot(output, params=None):
    """DOT text of the graph that produced ``output``: one box per op, one ellipse per leaf.

    ``params`` (name -> tensor, e.g. ``dict(model.named_parameters())``) labels the leaves.
    Must be called before ``backward()`` frees the graph, or with ``retain_graph=True``.
    """
    names = {id(t): name for name, t in (params or {}).items()}
    lines = ["digraph autograd {", '  node [fontname="Helvetica", fontsize=10];']
    ids = {}

    def node_id(obj):
        if id(obj) not in ids:
            ids[id(obj)] = f"n{len(ids)}"
            if isinstance(obj, Node):
                lines.append(f'  {ids[id(obj)]} [label="{obj.name}", shape=box];')
            else:
                label = names.get(id(obj), "leaf")
                lines.append(f'  {ids[id(obj)]} [label="{label}\\n{list(obj.shape)}", '
                             f'shape=ellipse, style=filled, fillcolor=lightblue];')
        return ids[id(obj)]

    root = output.grad_fn
    if root is None:
        node_id(output)
    else:
        out_id = "output"
        lines.append(f'  {out_id} [label="output\\n{list(output.shape)}", shape=ellipse, '
                     f'style=filled, fillcolor=darkolivegreen1];')
        lines.append(f"  {node_id(root)} -> {out_id};")
        stack, seen = [root], {id(root)}
        while stack:  # iterative: deep graphs never reach the recursion limit
            fn = stack.pop()
            for edge in fn._edges:
                if edge is None:
                    continue
                lines.append(f"  {node_id(edge)} -> {node_id(fn)};")
                if isinstance(edge, Node) and id(edge) not in seen:
                    seen.add(id(edge))
                    stack.append(edge)
    lines.append("}")
    return "\n".join(lines) + "\n"
