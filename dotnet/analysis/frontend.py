"""Turn a raw parsed digraph into the IR: classify nodes and parse every label."""

from __future__ import annotations

import re

from dotnet import codes
from dotnet.analysis.ir import Edge, Graph, Node, OpNode, TensorNode
from dotnet.analysis.references import resolve_references
from dotnet.diagnostics import Diagnostic, Report, SpecError
from dotnet.reading.dot import DotGraph
from dotnet.reading.labels import LabelError, OpCall, normalize, parse_op_label, parse_tensor_label, quote

TENSOR_NODE_SHAPES = frozenset({"mrecord", "record"})
"""Graphviz node shapes that mark a tensor node (spec language, section 2)."""

_SYMBOL = re.compile(r"[A-Za-z_]\w*")


def build_graph(dot: DotGraph, report: Report) -> Graph:
    """Parse the labels of ``dot``; every bad label is reported, not just the first."""
    errors: list[Diagnostic] = []
    nodes: dict[str, Node] = {}
    for raw in dot.nodes.values():
        label = raw.attrs.get("label", raw.id)
        shape = raw.attrs.get("shape", "").lower()
        try:
            if shape in TENSOR_NODE_SHAPES:
                tensor = parse_tensor_label(label)
                if tensor.init is not None and "param" not in tensor.roles:
                    raise LabelError(f"{tensor.init.kind} initialises a parameter, but this tensor is not one (param)")
                nodes[raw.id] = TensorNode(raw.id, raw.location, tensor)
                if tensor.unclosed:
                    report.warn(
                        codes.UNCLOSED_BRACKET,
                        f"node {raw.id!r}: shape {quote(normalize(label))} lacks its closing ']'",
                        raw.location,
                        raw.id,
                    )
            else:
                nodes[raw.id] = OpNode(raw.id, raw.location, parse_op_label(label))
        except LabelError as exc:
            errors.append(Diagnostic("error", codes.BAD_LABEL, f"node {raw.id!r}: {exc}", raw.location, raw.id))
    if errors:
        raise SpecError(errors)
    edges = [Edge(e.src, e.dst, e.location, e.output) for e in dot.edges]
    graph = Graph(dot.name, dot.location, nodes, edges, dict(dot.attrs), list(dot.clusters), _symbol_order(nodes))
    graph.refs = resolve_references(graph, report)
    return graph


def _symbol_order(nodes: dict[str, Node]) -> list[str]:
    """Symbols in order of first appearance: dims of tensor nodes, args of op nodes."""
    seen: dict[str, None] = {}
    for node in nodes.values():
        texts: list[str] = []
        if isinstance(node, TensorNode):
            texts = [d.text.split("=", 1)[-1] for d in node.label.dims]
        elif isinstance(node.call, OpCall):
            values = list(node.call.positional) + [v for _, v in node.call.keywords]
            texts = [str(v) for v in values if not isinstance(v, float)]
            if node.call.times is not None:
                texts.append(str(node.call.times))
        for text in texts:
            for name in _SYMBOL.findall(text):
                seen.setdefault(name, None)
    return list(seen)
