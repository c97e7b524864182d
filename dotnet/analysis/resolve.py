"""The library of digraphs a compile can reach, and what each op node's name means.

A name in an op label resolves, in this order, to: a block bound with
``--block NAME=GRAPH``; a digraph of that name in the same document; a built-in
op; a file ``NAME.dot`` next to the spec; then the same with the calling
digraph's name or initials as a prefix (``ConvBlock`` in ``VGG16`` is
``VGG16ConvBlock``, in ``ConvAutoEncoder`` ``CAEConvBlock``). ``ConvBlock1`` is
tried as written, then without its instance number (``ConvBlock``). A name that
none of these finds may still bind by shape (:class:`~dotnet.analysis.blocks.UnresolvedCall`).
"""

from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path
from typing import Any

from dotnet import codes
from dotnet.analysis.blocks import BlockCall, UnresolvedCall
from dotnet.analysis.frontend import build_graph
from dotnet.analysis.infer import Analysis, infer_graph
from dotnet.analysis.ir import Graph, OpNode
from dotnet.analysis.view import GraphView
from dotnet.diagnostics import Report, SpecError, error
from dotnet.ops import Op, lookup
from dotnet.ops.formula import FormulaOp
from dotnet.reading.dot import DotGraph
from dotnet.reading.labels import FormulaLabel, OpCall
from dotnet.reading.sources import Source, ambiguous_graph, read_source
from dotnet.reading.symbolic import Dim, parse_rate


def _result(value: Analysis | SpecError) -> Analysis:
    """A cached analysis, or its errors raised afresh."""
    if isinstance(value, SpecError):
        raise SpecError(value.diagnostics)
    return value


_INSTANCE_NUMBER = re.compile(r"^(.*?\D)\d+$")
_INITIAL = re.compile(r"[A-Z]|\d+")


def initials(name: str) -> str:
    """``CAE`` for ``ConvAutoEncoder``: the capitals and numbers of a name."""
    return "".join(_INITIAL.findall(name))


def candidate_names(name: str) -> list[str]:
    """``['ConvBlock1', 'ConvBlock']`` for an op name with an instance number."""
    m = _INSTANCE_NUMBER.match(name)
    return [name, m.group(1)] if m else [name]


class Library:
    """Digraphs reachable from one source, with their IR and analyses cached."""

    def __init__(
        self,
        source: Source,
        bindings: dict[str, str] | None = None,
        report: Report | None = None,
        rates: dict[str, Fraction] | None = None,
        pinned: DotGraph | None = None,
    ) -> None:
        self.source = source
        self.bindings = dict(bindings or {})
        self.report = report or Report()
        self.rates = dict(rates or {})
        """Rates given for the whole compile (``--param CompRate=0.5``), for every digraph using them."""
        self._dot: dict[str, DotGraph] = {}
        for g in source.graphs:
            self._dot.setdefault(g.name, g)
        self._pinned: set[str] = set()
        """Names the document defines more than once, differently, with the copy chosen (``NAME@LINE``)."""
        if pinned is not None:
            self.pin(pinned)
        self._by_shape: dict[tuple[str, str], str] = {}
        """Calls bound by shape: (caller, call name) -> the digraph, so review and render see them too."""
        self._related: dict[str, list[str]] = {}
        """For a block found by prefix, the prefix; for a model joined from parts, the parts' names."""
        self._siblings_read: dict[str, DotGraph | None] = {}
        self._graphs: dict[str, Graph] = {}
        self._analyses: dict[str, Analysis | SpecError] = {}
        self._calls: dict[tuple[str, frozenset[tuple[str, Dim]]], tuple[Report, Analysis | SpecError]] = {}
        self._in_progress: list[str] = []

    # -- finding digraphs ----------------------------------------------
    def pin(self, graph: DotGraph) -> None:
        """Use ``graph`` wherever its name is asked for (one of several copies, or a joined model)."""
        self._dot[graph.name] = graph
        self._pinned.add(graph.name)

    def add(self, graph: DotGraph, related: list[str]) -> None:
        """Make a digraph built from others (a model joined from parts) available by its name."""
        self.pin(graph)
        self._related[graph.name] = related

    def related(self, name: str) -> list[str]:
        """The digraphs ``name`` was made from (parts, or the one renamed), or its prefix's."""
        return list(self._related.get(name, []))

    def ambiguous(self, name: str) -> bool:
        """Whether ``name`` means more than one different digraph, none of them chosen."""
        return name not in self._pinned and self.source.differing(name)

    def dot_graph(self, name: str) -> DotGraph | None:
        """The raw digraph ``name``: from the source itself, else ``NAME.dot`` beside it."""
        if name in self._dot:
            if self.ambiguous(name):
                raise ambiguous_graph(self.source, name, self.source.copies(name)[-1].location)
            return self._dot[name]
        if name not in self._siblings_read:
            self._siblings_read[name] = self._read_sibling(name)
        return self._siblings_read[name]

    def _read_sibling(self, name: str) -> DotGraph | None:
        if not re.fullmatch(r"\w+", name):
            return None
        path = self.source.path.parent / f"{name}.dot"
        try:
            if not path.is_file():
                return None
        except OSError:  # a name too long to be a file's is no sibling
            return None
        display = str(Path(self.source.display).parent / path.name)
        sibling = read_source(path, display)
        return sibling.graph_named(name)

    def read_graphs(self) -> list[DotGraph]:
        """Every raw digraph read so far: the source's own, then the sibling files used."""
        return list(self.source.graphs) + [g for g in self._siblings_read.values() if g is not None]

    def sibling_files(self) -> list[Path]:
        """Every ``NAME.dot`` beside the source looked for so far, found or not."""
        folder = self.source.path.parent
        return [folder / f"{name}.dot" for name in self._siblings_read if re.fullmatch(r"\w+", name)]

    def sibling_names(self) -> list[str]:
        """Blocks defined beside the source: each ``NAME.dot`` that holds a digraph ``NAME``."""
        folder = self.source.path.parent
        names = []
        for path in sorted(folder.glob("*.dot")) if folder.is_dir() else []:
            try:
                if self.dot_graph(path.stem) is not None:
                    names.append(path.stem)
            except SpecError:
                continue  # an unreadable neighbour is not a candidate
        return names

    def block_name(self, name: str, caller: str | None = None) -> str | None:
        """The digraph an op name calls in digraph ``caller``, if it calls one.

        Built-in ops shadow sibling files and names found by prefix.
        """
        for candidate in candidate_names(name):
            if candidate in self.bindings:
                target = self.bindings[candidate]
                if self.dot_graph(target) is None:
                    raise error(
                        codes.UNKNOWN_BLOCK,
                        f"--block {candidate}={target}: no digraph named {target!r} in {self.source.display} "
                        f"or as {target}.dot beside it",
                    )
                return target
            if candidate in self._dot:
                return candidate
            if lookup(candidate) is not None:
                return None
            if self.dot_graph(candidate) is not None:
                return candidate
        if caller is None:
            return None
        return self._prefixed(name, caller) or self._by_shape.get((caller, candidate_names(name)[-1]))

    def bind_by_shape(self, caller: str, name: str, target: str) -> None:
        """Remember that calls of ``name`` in ``caller`` run ``target``, found by their shapes."""
        self._by_shape[(caller, name)] = target

    def prefixes(self, caller: str) -> list[str]:
        """The prefixes a call inside ``caller`` is tried with: its name and initials, and its family's."""
        names = [caller, *self._related.get(caller, [])]
        found = [p for n in names for p in (n, initials(n))]
        return [p for p in dict.fromkeys(found) if len(p) > 1]

    def _prefixed(self, name: str, caller: str) -> str | None:
        for prefix in self.prefixes(caller):
            for candidate in candidate_names(name):
                target = prefix + candidate
                if target != caller and (target in self._dot or self.dot_graph(target) is not None):
                    self._related.setdefault(target, [prefix])
                    return target
        return None

    def callees(self) -> dict[str, set[str]]:
        """For each digraph of the source, the digraphs its op labels name."""
        result: dict[str, set[str]] = {}
        for g in self.source.graphs:
            names: set[str] = set()
            for call in GraphView.of(g).ops.values():
                if isinstance(call, OpCall):
                    try:
                        target = self.block_name(call.name, g.name)
                    except SpecError:
                        continue
                    if target in self._dot:
                        names.add(target)
            result[g.name] = names
        return result

    # -- IR and analyses -----------------------------------------------
    def view(self, dot: DotGraph) -> GraphView:
        """``dot``'s graph view as the IR read it (slips fixed, formula references resolved) when
        ``dot`` is the digraph its name means and its IR builds; else each label parsed on its own."""
        try:
            graph = self.graph(dot.name) if self.dot_graph(dot.name) is dot else None
        except SpecError:
            graph = None  # a label does not parse: each is parsed on its own
        return graph.view if graph is not None else GraphView.of(dot)

    def graph(self, name: str) -> Graph:
        """The IR of digraph ``name``."""
        if name not in self._graphs:
            dot = self.dot_graph(name)
            if dot is None:
                raise error(codes.GRAPH_NOT_FOUND, f"no digraph named {name!r}")
            self._graphs[name] = build_graph(dot, self.report)
        return self._graphs[name]

    def analysis(self, name: str) -> Analysis:
        """The shape analysis of digraph ``name`` on its own symbols (cached, errors too)."""
        if name not in self._analyses:
            graph = self.graph(name)
            if name in self._in_progress:
                chain = " -> ".join(self._in_progress[self._in_progress.index(name) :] + [name])
                raise error(codes.CYCLE, f"digraph {name!r} calls itself: {chain}", graph.location)
            self._in_progress.append(name)
            try:
                self._analyses[name] = infer_graph(graph, self, self.report, rates=self.graph_rates(graph))
            except SpecError as exc:
                self._analyses[name] = exc
            finally:
                self._in_progress.pop()
        return _result(self._analyses[name])

    def call_analysis(self, name: str, bindings: dict[str, Dim], report: Report, trail: tuple[str, ...]) -> Analysis:
        """The analysis of digraph ``name`` with its symbols bound as a call binds them.

        Each distinct (block, bindings) is analysed once per report, so blocks that call
        a block twice on every level cost one analysis per level, not one per path.
        Diagnostics name the trail of the first call that found them.
        """
        key = (name, frozenset(bindings.items()))
        cached = self._calls.get(key)
        if cached is None or cached[0] is not report:
            try:
                result: Analysis | SpecError = infer_graph(self.graph(name), self, report, bindings, trail)
            except SpecError as exc:
                result = exc
            cached = self._calls[key] = (report, result)
        return _result(cached[1])

    def nesting(self) -> int:
        """How many analyses of digraphs on their own symbols are under way, one inside the other."""
        return len(self._in_progress)

    def graph_rates(self, graph: Graph) -> dict[str, Dim]:
        """The rates a digraph uses: its attributes with a decimal value (``CompRate=0.5``), then ``--param``."""
        symbols = set(graph.symbol_order)
        found = {k: parse_rate(v) for k, v in graph.attrs.items() if k in symbols and parse_rate(v) is not None}
        found.update({k: v for k, v in self.rates.items() if k in symbols})
        return {k: Dim.const(v) for k, v in found.items() if v is not None}

    # -- ops ------------------------------------------------------------
    def make_op(self, node: OpNode, graph: Graph) -> Op[Any]:
        """The op an operation node runs."""
        call = node.call
        if isinstance(call, FormulaLabel):
            return FormulaOp(node, call)
        block = self.block_name(call.name, graph.name)
        if block is not None:
            if block == graph.name:
                raise error(codes.CYCLE, f"node {node.id!r}: digraph {block!r} calls itself", node.location, node.id)
            if self.ambiguous(block):
                raise ambiguous_graph(self.source, block, node.location, node.id)
            _check_qualifiers(node, call, f"a call of digraph {block!r}", ())
            return BlockCall(node, call, block, self)
        for candidate in candidate_names(call.name):
            broken = self.source.broken_named(candidate)
            if broken is not None and lookup(candidate) is None:
                raise error(
                    codes.UNKNOWN_BLOCK,
                    f"node {node.id!r}: digraph {candidate!r} (line {broken.location.line}) does not parse; "
                    "see the error there",
                    node.location,
                    node.id,
                )
        for candidate in candidate_names(call.name):
            op_class = lookup(candidate)
            if op_class is not None:
                declared = op_class.declaration
                _check_qualifiers(node, call, declared.name, tuple(q.word for q in declared.qualifiers))
                try:
                    return op_class(node, call)
                except SpecError:
                    raise
        usable = [n for n in dict.fromkeys(g.name for g in self.source.graphs) if not self.ambiguous(n)]
        others = [n for n in usable + self.sibling_names() if n != graph.name and n not in self._in_progress]
        document = [n for n in others if n in usable]
        return UnresolvedCall(node, call, candidate_names(call.name), list(dict.fromkeys(others)), document, self)


def _check_qualifiers(node: OpNode, call: OpCall, what: str, known: tuple[str, ...]) -> None:
    """A ``bad-label`` error for a word around the name that the op does not declare."""
    unknown = [w for w in call.qualifiers if w not in known]
    if unknown:
        reads = f"it reads {', '.join(known)}" if known else "it reads no such words"
        raise error(
            codes.BAD_LABEL,
            f"node {node.id!r}: {' '.join(unknown)!r} is not a word {what} reads beside its name ({reads}); "
            "write what it means as an argument",
            node.location,
            node.id,
        )
