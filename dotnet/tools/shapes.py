"""``dotnet shapes``: every tensor's inferred shape as a table, and the constraints recorded.

One row per node in the order the shape pass visits them: tensor nodes show the
shape they declare (proved equal to what flows in), op nodes the shape they produce,
in the diagram's notation (``[BatchSize, W=BlockW/2, ...]``) and PyTorch's
(``(BatchSize, C, H, W)``). Symbolic sizes stay symbolic, but for the symbols given
values (``dotnet shapes --param BlockW=64``).
"""

from __future__ import annotations

from collections.abc import Mapping

from dotnet.analysis.infer import Analysis
from dotnet.analysis.ir import OpNode, TensorNode
from dotnet.reading.shape import Axis, Shape, diagram_text, torch_text
from dotnet.reading.symbolic import Dim

HEADERS = ("NODE", "KIND", "DIAGRAM", "PYTORCH")


def _kind(analysis: Analysis, node_id: str) -> str:
    node = analysis.graph.nodes[node_id]
    if isinstance(node, OpNode):
        return node.describe()
    for kind, members in (("input", analysis.inputs), ("output", analysis.outputs), ("param", analysis.params)):
        if node_id in members:
            return kind
    return "tensor"


def shape_rows(analysis: Analysis, values: Mapping[str, int] | None = None) -> list[tuple[str, str, str, str]]:
    """``(node, kind, diagram shape, PyTorch shape)`` for every node, ``values`` put in."""
    bindings = {name: Dim.const(value) for name, value in (values or {}).items()}
    rows = []
    for node_id in analysis.order:
        shape = _valued(analysis.shapes[node_id], bindings)
        node = analysis.graph.nodes[node_id]
        like = node.label.dims if isinstance(node, TensorNode) else None
        rows.append((node_id, _kind(analysis, node_id), diagram_text(shape, like), torch_text(shape)))
    return rows


def _valued(shape: Shape, bindings: Mapping[str, Dim]) -> Shape:
    return tuple(Axis(a.name, a.size.substitute(bindings)) for a in shape) if bindings else shape


def shape_table(analysis: Analysis, values: Mapping[str, int] | None = None) -> list[str]:
    """The table as aligned text lines, then one line per recorded constraint."""
    rows = [HEADERS, *shape_rows(analysis, values)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADERS) - 1)]
    lines = ["  ".join([*(cell.ljust(w) for cell, w in zip(row, widths)), row[-1]]).rstrip() for row in rows]
    graph = analysis.graph
    given = "".join(f", {name}={value}" for name, value in (values or {}).items())
    lines.insert(0, f"digraph {graph.name} ({graph.location}{given})")
    lines.append("constraints:" if analysis.constraints else "constraints: none")
    lines += [f"  {c.describe()}  (node {c.node!r}, {c.location})" for c in analysis.constraints]
    return lines
