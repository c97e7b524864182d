"""What a careful reader of the seed documents' style fills in, each with a warning.

A tensor drawn as a box, an output used in an edge but never declared, a symbol one edit
from the one meant (``BatchSise``), and sizes written with their defaults
(``NFeature(768)``), whose contradictions are errors. The frontend calls these while it
classifies nodes; docs/spec-language.md states each rule.
"""

from __future__ import annotations

from dataclasses import replace

from dotnet import codes
from dotnet.analysis.ir import Node, OpNode, TensorNode
from dotnet.analysis.view import symbol_word
from dotnet.diagnostics import Diagnostic, Location, Report
from dotnet.reading.dot import DotGraph
from dotnet.reading.labels import (
    ArgValue,
    AxisDim,
    OpCall,
    normalize,
    quote,
)
from dotnet.reading.symbolic import Dim


class Defaults:
    """Symbol defaults written in labels (``NFeature(768)``), with where each was first given."""

    def __init__(self) -> None:
        self.values: dict[str, int] = {}
        self.lines: dict[str, int] = {}

    def add(
        self, node_id: str, location: Location, found: tuple[tuple[str, int], ...], errors: list[Diagnostic]
    ) -> None:
        for symbol, value in found:
            if symbol in self.values and self.values[symbol] != value:
                errors.append(
                    Diagnostic(
                        "error",
                        codes.CONFLICTING_DEFAULT,
                        f"node {node_id!r}: {symbol}({value}) contradicts the default "
                        f"{symbol}({self.values[symbol]}) given at line {self.lines[symbol]}",
                        location,
                        node_id,
                    )
                )
            else:
                self.values.setdefault(symbol, value)
                self.lines.setdefault(symbol, location.line)


def warn_boxed(node_id: str, label: str, location: Location, report: Report) -> None:
    """The ``tensor-shape`` warning for a tensor drawn as a box."""
    report.warn(
        codes.TENSOR_SHAPE,
        f"node {node_id!r}: label {quote(normalize(label))} is a tensor but the node is not drawn "
        "shape=Mrecord; read as a tensor",
        location,
        node_id,
    )


def _node_symbols(node: Node) -> set[str]:
    values: list[Dim] = []
    if isinstance(node, TensorNode):
        values = [d.size for d in node.label.dims]
    elif isinstance(node.call, OpCall):
        values = [v for v in (*node.call.positional, *(v for _, v in node.call.keywords)) if isinstance(v, Dim)]
        values += [node.call.times] if node.call.times is not None else []
    return {s for v in values for s in v.symbols() if not s.startswith("#")}


Fixes = dict[str, tuple[tuple[str, str], ...]]
"""For each node whose label had a symbol slip: each (symbol written, symbol read)."""


def mend_symbol_slips(dot: DotGraph, nodes: dict[str, Node], report: Report) -> tuple[dict[str, Node], Fixes]:
    """``BatchSise`` beside ``BatchSize``: a symbol that only one node writes, not an input, and that
    is one edit from a symbol the graph binds (an input's, or one written in two nodes), is that
    symbol, with a warning. Anything less certain is left for the shape pass to report.

    Returns the nodes with their slips fixed, and the fixes made."""
    targets = {e.dst for e in dot.edges}
    used = {node_id: _node_symbols(node) for node_id, node in nodes.items()}
    writers: dict[str, list[str]] = {}
    for node_id, symbols in used.items():
        for symbol in symbols:
            writers.setdefault(symbol, []).append(node_id)

    def is_input(node_id: str) -> bool:
        return isinstance(nodes[node_id], TensorNode) and node_id not in targets

    bound = {s for s, ids in writers.items() if len(ids) > 1 or any(is_input(n) for n in ids)}
    mended = dict(nodes)
    fixes: Fixes = {}
    for symbol, ids in writers.items():
        if len(ids) != 1 or is_input(ids[0]) or len(symbol) < 4:
            continue
        close = [b for b in bound if b != symbol and _one_edit(symbol, b)]
        if len(close) != 1:
            continue
        (fix,) = close
        node = mended[ids[0]]
        mended[ids[0]] = _renamed(node, symbol, fix)
        fixes[node.id] = fixes.get(node.id, ()) + ((symbol, fix),)
        report.warn(
            codes.SYMBOL_TYPO,
            f"node {node.id!r}: symbol {symbol!r} appears nowhere else and is one edit from {fix!r}; read as {fix!r}",
            node.location,
            node.id,
        )
    return mended, fixes


def _one_edit(a: str, b: str) -> bool:
    """One insertion, deletion or substitution apart, and not only in digits (``NHidden1``, ``NHidden2``)."""
    if abs(len(a) - len(b)) > 1 or a == b:
        return False
    if a.rstrip("0123456789") == b.rstrip("0123456789"):
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b)) == 1
    short, long = sorted((a, b), key=len)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


def _renamed(node: Node, old: str, new: str) -> Node:
    """The node with symbol ``old`` read as ``new`` in its shape or args."""
    swap = {old: Dim.sym(new)}
    word = symbol_word(old)
    if isinstance(node, TensorNode):
        dims = tuple(AxisDim(d.axis, d.size.substitute(swap), word.sub(new, d.text)) for d in node.label.dims)
        return TensorNode(node.id, node.location, replace(node.label, dims=dims))
    call = node.call
    assert isinstance(call, OpCall)

    def fixed(value: ArgValue) -> ArgValue:
        return value.substitute(swap) if isinstance(value, Dim) else value

    return OpNode(
        node.id,
        node.location,
        replace(
            call,
            positional=tuple(fixed(v) for v in call.positional),
            keywords=tuple((k, fixed(v)) for k, v in call.keywords),
            times=call.times.substitute(swap) if call.times is not None else None,
        ),
    )
