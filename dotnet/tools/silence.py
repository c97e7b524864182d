"""Silencing warnings: ``--ignore CODE`` for a run, ``dotnet_ignore`` inside a spec.

A digraph attribute silences codes for everything located in that digraph::

    digraph ConvAutoEncoder { dotnet_ignore="activation-range" ... }

and a node attribute for that node only::

    his_c [label="C[t-1](长期历史)\\n[BatchSize, NOut]", shape="Mrecord", dotnet_ignore="isolated-node"]

Only warnings and notes can be silenced: an error means the spec does not compile.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from dotnet import codes
from dotnet.diagnostics import Diagnostic, Location
from dotnet.reading.dot import DotGraph

IGNORE_ATTR = "dotnet_ignore"
"""The digraph or node attribute that lists codes to silence, separated by commas or spaces."""


def split_codes(text: str) -> list[str]:
    """``"a, b c"`` -> ``["a", "b", "c"]``."""
    return [c for c in re.split(r"[\s,]+", text.strip()) if c]


class Silencer:
    """Decides which diagnostics a run reports, given ``--ignore`` and the specs' own attributes."""

    def __init__(self, ignore: Iterable[str], graphs: Iterable[DotGraph]) -> None:
        self.ignore = frozenset(ignore)
        self.graphs = list(graphs)

    def problems(self) -> list[Diagnostic]:
        """Warnings for codes in ``dotnet_ignore`` attributes that do not exist."""
        found: list[Diagnostic] = []
        for g in self.graphs:
            found += _unknown(g.attrs.get(IGNORE_ATTR, ""), f"digraph {g.name!r}", g.location)
            for node in g.nodes.values():
                found += _unknown(node.attrs.get(IGNORE_ATTR, ""), f"node {node.id!r}", node.location, node.id)
        return found

    def allows(self, d: Diagnostic) -> bool:
        """False when ``d`` is a warning or note that the run or its spec silences."""
        if d.severity == "error":
            return True
        if d.code in self.ignore:
            return False
        graph = self._graph_at(d.location)
        if graph is None:
            return True
        if d.code in split_codes(graph.attrs.get(IGNORE_ATTR, "")):
            return False
        node = graph.nodes.get(d.node) if d.node else None
        return node is None or d.code not in split_codes(node.attrs.get(IGNORE_ATTR, ""))

    def _graph_at(self, location: Location | None) -> DotGraph | None:
        return graph_at(self.graphs, location)


def graph_at(graphs: Iterable[DotGraph], location: Location | None) -> DotGraph | None:
    """The digraph whose text holds ``location``, if any."""
    if location is None:
        return None
    here = (location.line, location.col)
    for g in graphs:
        end = g.end or g.location
        if g.location.file == location.file and (g.location.line, g.location.col) <= here <= (end.line, end.col):
            return g
    return None


def _unknown(text: str, owner: str, location: Location, node: str | None = None) -> list[Diagnostic]:
    return [
        Diagnostic(
            "warning",
            codes.UNKNOWN_CODE,
            f"{owner}: {IGNORE_ATTR} names {code!r}, which is no diagnostic code",
            location,
            node,
        )
        for code in split_codes(text)
        if code not in codes.REGISTRY
    ]
