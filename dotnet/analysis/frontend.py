"""Turn a raw parsed digraph into the IR: classify nodes and parse every label."""

from __future__ import annotations

import re

from dotnet import codes
from dotnet.analysis.ir import Edge, Graph, Node, OpNode, TensorNode
from dotnet.analysis.references import resolve_references
from dotnet.analysis.slips import Defaults, mend_symbol_slips, warn_boxed
from dotnet.analysis.view import FULL_WIDTH, GraphView, full_width_marks, label_text
from dotnet.diagnostics import Diagnostic, Report, SpecError
from dotnet.limits import LimitError, whole_number
from dotnet.ops.base import declaration_of
from dotnet.reading.dot import DotGraph
from dotnet.reading.labels import FormulaLabel, OpCall, normalize, quote
from dotnet.reading.symbolic import parse_rate

"""Graphviz node shapes that mark a tensor node (spec language, section 2)."""

_SYMBOL = re.compile(r"#?[A-Za-z_]\w*")
"""A symbol in dim text; ``#Layer``, a repetition's index, is found so that it can be skipped."""


def build_graph(dot: DotGraph, report: Report) -> Graph:
    """The IR of ``dot`` from its graph view; every bad label is reported, not just the first."""
    view = GraphView.of(dot)
    errors: list[Diagnostic] = []
    nodes: dict[str, Node] = {}
    defaults = Defaults()
    for raw in dot.nodes.values():
        label = label_text(raw.attrs, raw.id)
        if marks := full_width_marks(raw.attrs, raw.id):
            read = ", ".join(f"{m!r} as {FULL_WIDTH[m]!r}" for m in marks)
            report.warn(
                codes.FULL_WIDTH, f"node {raw.id!r}: full-width punctuation read as ASCII: {read}", raw.location, raw.id
            )
        if raw.id in view.failures:
            failure = view.failures[raw.id]
            errors.append(Diagnostic("error", failure.code, f"node {raw.id!r}: {failure}", raw.location, raw.id))
        elif raw.id in view.tensors:
            tensor = view.tensors[raw.id]
            nodes[raw.id] = TensorNode(raw.id, raw.location, tensor)
            if raw.id in view.boxed:
                warn_boxed(raw.id, label, raw.location, report)
            if tensor.unclosed:
                report.warn(
                    codes.UNCLOSED_BRACKET,
                    f"node {raw.id!r}: shape {quote(normalize(label))} lacks its closing ']'",
                    raw.location,
                    raw.id,
                )
            defaults.add(raw.id, raw.location, tensor.defaults, errors)
        else:
            call = view.ops[raw.id]
            nodes[raw.id] = OpNode(raw.id, raw.location, call)
            if isinstance(call, OpCall) and call.unclosed:
                report.warn(
                    codes.UNCLOSED_BRACKET,
                    f"node {raw.id!r}: label {quote(normalize(label))} lacks its closing ']'",
                    raw.location,
                    raw.id,
                )
            if isinstance(call, OpCall | FormulaLabel):
                defaults.add(raw.id, raw.location, call.defaults, errors)
    if errors:
        raise SpecError(errors)
    nodes, view.fixes = mend_symbol_slips(dot, nodes, report)
    for node_id in view.fixes:  # the view holds the labels as read, for every reader (lint, render)
        node = nodes[node_id]
        if isinstance(node, TensorNode):
            view.tensors[node_id] = node.label
        else:
            view.ops[node_id] = node.call
    symbols = _symbol_order(nodes)
    check_symbol_defaults(dot, symbols)
    edges = [Edge(e.src, e.dst, e.location, e.output) for e in dot.edges]
    graph = Graph(dot.name, dot.location, nodes, edges, view, dict(dot.attrs), list(dot.clusters), symbols)
    view.refs = resolve_references(graph, report)
    graph.defaults = dict(defaults.values)
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


def _size_texts(call: OpCall) -> list[str]:
    """The texts of a call's values that may name size symbols.

    A registered op's arguments of another kind are words, not sizes: ``Bias=False``,
    ``P=same``, ``dim=C``, ``approximate=tanh``. A block call's arguments are all sizes.
    """
    declaration = declaration_of(call.name)
    args = declaration.args if declaration is not None else ()
    spellings = {s.lower(): a for a in args for s in a.accepted()}
    given = [*zip(args, call.positional), *((spellings.get(k.lower()), v) for k, v in call.keywords)]
    if declaration is None:
        given = [(None, v) for v in (*call.positional, *(v for _, v in call.keywords))]
    texts = []
    for arg, value in given:
        if isinstance(value, float) or (arg is not None and arg.kind not in ("size", "padding")):
            continue
        if arg is not None and arg.kind == "padding" and str(value).lower() in ("same", "valid"):
            continue
        texts.append(str(value))
    return texts


def _symbol_order(nodes: dict[str, Node]) -> list[str]:
    """Size symbols in order of first appearance: dims of tensor nodes, size args of op nodes."""
    seen: dict[str, None] = {}
    for node in nodes.values():
        texts: list[str] = []
        if isinstance(node, TensorNode):
            texts = [d.text.split("=", 1)[-1] for d in node.label.dims]
        elif isinstance(node.call, OpCall):
            texts = _size_texts(node.call)
            if node.call.times is not None:
                texts.append(str(node.call.times))
        for text in texts:
            for name in _SYMBOL.findall(text):
                if not name.startswith("#"):
                    seen.setdefault(name, None)
    return list(seen)
