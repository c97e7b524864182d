"""Turn a raw parsed digraph into the IR: classify nodes and parse every label."""

from __future__ import annotations

import re

from dotnet import codes
from dotnet.analysis.ir import Edge, Graph, Node, OpNode, TensorNode
from dotnet.analysis.references import resolve_references
from dotnet.analysis.slips import (
    Defaults,
    mend_symbol_slips,
    plainly_a_tensor,
    undeclared_only_sink,
    undeclared_output,
)
from dotnet.diagnostics import Diagnostic, Report, SpecError
from dotnet.limits import LimitError, whole_number
from dotnet.reading.dot import DotGraph
from dotnet.reading.labels import (
    FormulaLabel,
    LabelError,
    OpCall,
    normalize,
    parse_op_label,
    parse_tensor_label,
    quote,
)
from dotnet.reading.symbolic import parse_rate

TENSOR_NODE_SHAPES = frozenset({"mrecord", "record"})
"""Graphviz node shapes that mark a tensor node (spec language, section 2)."""

_SYMBOL = re.compile(r"#?[A-Za-z_]\w*")
"""A symbol in dim text; ``#Layer``, a repetition's index, is found so that it can be skipped."""


def build_graph(dot: DotGraph, report: Report) -> Graph:
    """Parse the labels of ``dot``; every bad label is reported, not just the first."""
    errors: list[Diagnostic] = []
    nodes: dict[str, Node] = {}
    defaults = Defaults()
    sink = undeclared_only_sink(dot)
    for raw in dot.nodes.values():
        label = raw.attrs.get("label", raw.id)
        shape = raw.attrs.get("shape", "").lower()
        try:
            if shape in TENSOR_NODE_SHAPES or plainly_a_tensor(raw.id, label, report, raw.location):
                tensor = parse_tensor_label(label)
                nodes[raw.id] = TensorNode(raw.id, raw.location, tensor)
                if tensor.unclosed:
                    report.warn(
                        codes.UNCLOSED_BRACKET,
                        f"node {raw.id!r}: shape {quote(normalize(label))} lacks its closing ']'",
                        raw.location,
                        raw.id,
                    )
                defaults.add(raw.id, raw.location, tensor.defaults, errors)
            elif raw.id == sink:
                nodes[raw.id] = undeclared_output(raw.id, raw.location)
            else:
                call = parse_op_label(label)
                nodes[raw.id] = OpNode(raw.id, raw.location, call)
                if isinstance(call, FormulaLabel):
                    defaults.add(raw.id, raw.location, call.defaults, errors)
                if isinstance(call, OpCall):
                    if call.unclosed:
                        report.warn(
                            codes.UNCLOSED_BRACKET,
                            f"node {raw.id!r}: label {quote(normalize(label))} lacks its closing ']'",
                            raw.location,
                            raw.id,
                        )
                    defaults.add(raw.id, raw.location, call.defaults, errors)
        except LabelError as exc:
            errors.append(Diagnostic("error", exc.code, f"node {raw.id!r}: {exc}", raw.location, raw.id))
    if errors:
        raise SpecError(errors)
    nodes = mend_symbol_slips(dot, nodes, report)
    symbols = _symbol_order(nodes)
    check_symbol_defaults(dot, symbols)
    edges = [Edge(e.src, e.dst, e.location) for e in dot.edges]
    graph = Graph(dot.name, dot.location, nodes, edges, dict(dot.attrs), list(dot.clusters), symbols)
    graph.defaults = dict(defaults.values)
    graph.refs = resolve_references(graph, report)
    return graph


def check_symbol_defaults(dot: DotGraph, symbols: list[str]) -> None:
    """Digraph attributes named like a symbol (``NHidden=64;``) must be whole sizes of at least 1."""
    errors = []
    for key, raw in dot.attrs.items():
        if key not in symbols or parse_rate(raw) is not None:  # a decimal is a rate (CompRate=0.5)
            continue
        try:
            problem = None if whole_number(raw) >= 1 else "a size must be at least 1"
        except LimitError as exc:
            problem = str(exc)
        if problem is not None:
            message = f"digraph {dot.name!r}: attribute {key}={quote(raw)}: {problem}"
            errors.append(Diagnostic("error", codes.BAD_PARAM, message, dot.location))
    if errors:
        raise SpecError(errors)


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
                if not name.startswith("#"):
                    seen.setdefault(name, None)
    return list(seen)
