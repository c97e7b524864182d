"""The intermediate representation: a spec graph whose nodes have parsed labels.

Built from a raw :class:`~dotnet.reading.dot.DotGraph` by :func:`dotnet.analysis.frontend.build_graph`;
read by the shape pass and the code generator. Nodes keep their source location; the
graph keeps its :class:`~dotnet.analysis.view.GraphView`, whose order and inputs and
outputs every pass reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dotnet.analysis.view import GraphView
from dotnet.diagnostics import Location
from dotnet.reading.formulas import canonical_name
from dotnet.reading.labels import FormulaLabel, OpCall, TensorLabel
from dotnet.reading.symbolic import parse_rate


@dataclass(frozen=True)
class TensorNode:
    """A record-shaped node: a declared tensor (input, output, parameter or checkpoint)."""

    id: str
    location: Location
    label: TensorLabel

    @property
    def is_param(self) -> bool:
        return "param" in self.label.roles

    @property
    def is_random(self) -> bool:
        """``randn(...)``: drawn on each forward pass, neither an input nor a parameter."""
        return self.label.random


@dataclass(frozen=True)
class OpNode:
    """Any other node: an op, a block call, an operator or a formula."""

    id: str
    location: Location
    call: OpCall | FormulaLabel

    def describe(self) -> str:
        """The label rebuilt from parsed parts, safe to quote in generated code."""
        if isinstance(self.call, OpCall):
            return self.call.describe()
        return self.call.text


Node = TensorNode | OpNode


@dataclass(frozen=True)
class Edge:
    src: str
    dst: str
    location: Location
    output: str | None = None
    """The output of ``src`` the edge carries, when ``src`` has several (an edge label or tail port)."""


@dataclass
class Graph:
    """One digraph of a spec, ready for shape inference."""

    name: str
    location: Location
    nodes: dict[str, Node]
    edges: list[Edge]
    view: GraphView
    """The digraph's view: topological order, inputs and outputs, formula references."""
    attrs: dict[str, str] = field(default_factory=dict)
    """Digraph attributes; those named like symbols give their defaults."""
    clusters: list[tuple[str, list[str]]] = field(default_factory=list)
    symbol_order: list[str] = field(default_factory=list)
    """Symbols in order of first appearance in the file."""
    defaults: dict[str, int] = field(default_factory=dict)
    """Symbol defaults written in labels, ``NFeature(768)``."""

    def own_values(self) -> dict[str, int]:
        """Symbol values the digraph itself sets: label defaults (``NFeature(768)``), then whole-number
        attributes (``NHidden=128;``). A decimal attribute (``CompRate=0.5``) is a rate, not a value."""
        values = dict(self.defaults)
        symbols = set(self.symbol_order)
        for key, raw in self.attrs.items():
            if key in symbols and parse_rate(raw) is None:
                values[key] = int(raw)  # checked when the graph was built (frontend.check_symbol_defaults)
        return values

    def __post_init__(self) -> None:
        self._preds: dict[str, list[Edge]] = {n: [] for n in self.nodes}
        self._succs: dict[str, list[Edge]] = {n: [] for n in self.nodes}
        for e in self.edges:
            self._preds[e.dst].append(e)
            self._succs[e.src].append(e)
        self.titles: dict[str, str] = {}
        """Tensor nodes by their name (``H[t-1]``), whitespace removed; the first of a name wins."""
        for node in self.nodes.values():
            if isinstance(node, TensorNode) and node.label.title:
                self.titles.setdefault(canonical_name(node.label.title), node.id)

    @property
    def refs(self) -> dict[str, list[str]]:
        """For each formula node, the tensor nodes its names refer to (drawn edge or not)."""
        return self.view.refs

    @property
    def file(self) -> str:
        return self.location.file

    def preds(self, node_id: str) -> list[Edge]:
        """Incoming edges, in the order the file writes them."""
        return self._preds[node_id]

    def succs(self, node_id: str) -> list[Edge]:
        """Outgoing edges, in the order the file writes them."""
        return self._succs[node_id]

    def deps(self, node_id: str) -> list[str]:
        """Nodes whose value ``node_id`` needs: sources of its in-edges, then formula references."""
        return self.view.deps(node_id)
