"""A DOT parser that keeps source positions.

pydot's parser records no line numbers and takes seconds on large files, so
dotnet reads DOT itself: the grammar is small (graphviz.org/doc/info/lang.html).
What comes out is raw: node ids, attributes, and edges in file order, each with
its location. Meaning is given to labels later (see :mod:`dotnet.reading.labels`).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from typing import NamedTuple

from dotnet import codes
from dotnet.diagnostics import Diagnostic, Location, SpecError, error
from dotnet.limits import MAX_EDGES, MAX_NODES

MAX_SUBGRAPH_DEPTH = 100
"""Deepest nesting of subgraphs accepted; deeper is rejected before Python's stack runs out."""
MAX_ID_LENGTH = 20_000
"""Longest id or quoted string accepted; a longer one is rejected, not parsed."""

_TOKEN = re.compile(
    r"""
    (?:[ \t\r\n\f\v]+|//[^\r\n]*|/\*.*?\*/|(?<![^\r\n])\#[^\r\n]*)*  # space, comments, '#' lines: skipped
    (?:
      (?P<edgeop>->|--)
    | (?P<number>-?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?))
    | (?P<id>[A-Za-z_\u0080-\U0010ffff][A-Za-z_0-9\u0080-\U0010ffff]*)
    | (?P<string>"(?:[^"\\]|\\.)*")
    | (?P<html><)
    | (?P<punct>[{}\[\];,=:+])
    )?
    """,
    re.VERBOSE | re.DOTALL,
)
_CONTINUATION = re.compile(r"\\(?:\r\n|\r|\n)")
"""A backslash that ends a line inside a quoted string: the string goes on on the next line."""
_KEYWORDS = {"strict", "graph", "digraph", "subgraph", "node", "edge"}


@dataclass
class DotNode:
    """A node: its id, merged attributes, and where it is first defined."""

    id: str
    attrs: dict[str, str]
    location: Location
    declared: bool = False
    """A node statement names it; otherwise it only appears in edges."""


@dataclass(frozen=True)
class DotEdge:
    """An edge ``src -> dst`` where the file writes it."""

    src: str
    dst: str
    location: Location
    output: str | None = None
    """Which output of ``src`` the edge carries: its ``label`` attribute or the tail port (``lstm:h -> dec``)."""


@dataclass
class DotGraph:
    """One parsed ``digraph``: nodes in order of first appearance, edges in file order."""

    name: str
    location: Location
    attrs: dict[str, str] = field(default_factory=dict)
    nodes: dict[str, DotNode] = field(default_factory=dict)
    edges: list[DotEdge] = field(default_factory=list)
    clusters: list[tuple[str, list[str]]] = field(default_factory=list)
    span: tuple[int, int] = (0, 0)
    """Start and end offsets of the digraph in the text it was read from."""
    end: Location | None = None
    """Where the digraph's closing brace is."""


@dataclass(frozen=True)
class BrokenGraph:
    """A digraph that does not parse: the name it is written with ("" if unreadable), and why."""

    name: str
    location: Location
    diagnostics: tuple[Diagnostic, ...]


class _Token(NamedTuple):
    kind: str  # id, string, html, number, eof, or the punctuation or edge operator itself
    text: str
    offset: int


LINE_BREAK = re.compile(r"\r\n|\r|\n")
"""A line break as DOT files write it: LF (Unix), CRLF (Windows) or CR alone (classic Mac)."""


class _Lines:
    """Maps offsets to 1-based line and column numbers, whichever line breaks the text uses."""

    def __init__(self, text: str) -> None:
        self._starts = [0] + [m.end() for m in LINE_BREAK.finditer(text)]

    def location(self, file: str, offset: int) -> Location:
        line = bisect.bisect_right(self._starts, offset)
        return Location(file, line, offset - self._starts[line - 1] + 1)


def _tokenize(text: str, start: int, file: str, lines: _Lines) -> list[_Token]:
    """Split ``text[start:]`` into tokens, stopping after the brace that closes the first graph.

    Punctuation and edge operators are their own kind (``"{"``, ``"->"``), so the
    parser tells them from a quoted ``"{"`` by kind alone.
    """
    tokens: list[_Token] = []
    pos, depth, n = start, 0, len(text)
    match = _TOKEN.match
    while True:
        m = match(text, pos)
        assert m is not None  # the pattern always matches, if only the empty string
        kind = m.lastgroup
        if kind is None:
            pos = m.end()
            if pos >= n:
                break
            if text.startswith("/*", pos):
                raise error(codes.SYNTAX, "unterminated comment", lines.location(file, pos))
            if text[pos] == '"':
                raise error(codes.SYNTAX, "unterminated string", lines.location(file, pos))
            raise error(codes.SYNTAX, f"unexpected character {text[pos]!r}", lines.location(file, pos))
        offset = m.start(kind)
        if kind == "string":
            token = _Token("string", _unescape(m.group(kind)[1:-1]), offset)
            pos = m.end()
        elif kind == "html":
            pos = _html_end(text, offset, file, lines)
            token = _Token("html", text[offset + 1 : pos - 1], offset)
        elif kind in ("punct", "edgeop"):
            value = m.group(kind)
            token = _Token(value, value, offset)
            pos = m.end()
        else:
            token = _Token(kind, m.group(kind), offset)
            pos = m.end()
        tokens.append(token)
        if len(token.text) > MAX_ID_LENGTH:
            raise error(
                codes.TOO_LARGE,
                f"a quoted string or id of {len(token.text)} characters exceeds the limit of {MAX_ID_LENGTH}",
                lines.location(file, offset),
            )
        if kind == "punct":
            if token.text == "{":
                depth += 1
            elif token.text == "}":
                depth -= 1
                if depth == 0:
                    break
    tokens.append(_Token("eof", "", pos))
    return tokens


def _unescape(raw: str) -> str:
    """Undo DOT's escaped quotes and line continuations; keep label escapes like ``\\n``."""
    return _CONTINUATION.sub("", raw).replace('\\"', '"')


def _html_end(text: str, pos: int, file: str, lines: _Lines) -> int:
    depth = 0
    for i in range(pos, len(text)):
        if text[i] == "<":
            depth += 1
        elif text[i] == ">":
            depth -= 1
            if depth == 0:
                return i + 1
    raise error(codes.SYNTAX, "unterminated HTML string", lines.location(file, pos))


class _Parser:
    """Recursive descent over one graph's tokens."""

    def __init__(self, tokens: list[_Token], file: str, lines: _Lines) -> None:
        self.tokens = tokens
        self.i = 0
        self.file = file
        self.lines = lines
        self.depth = 0

    # -- token helpers -------------------------------------------------
    def peek(self, ahead: int = 0) -> _Token:
        if ahead == 0:
            return self.tokens[self.i]  # take() never moves past the final eof token
        return self.tokens[min(self.i + ahead, len(self.tokens) - 1)]

    def take(self) -> _Token:
        tok = self.tokens[self.i]
        if tok.kind != "eof":  # the final token; never move past it
            self.i += 1
        return tok

    def at(self, text: str) -> bool:
        return self.tokens[self.i].kind == text

    def keyword(self, word: str) -> bool:
        tok = self.peek()
        return tok.kind == "id" and tok.text.lower() == word

    def loc(self, tok: _Token) -> Location:
        return self.lines.location(self.file, tok.offset)

    def fail(self, expected: str) -> SpecError:
        tok = self.peek()
        found = "end of input" if tok.kind == "eof" else repr(tok.text[:40])
        return error(codes.SYNTAX, f"expected {expected}, found {found}", self.loc(tok))

    def expect(self, text: str) -> _Token:
        if not self.at(text):
            raise self.fail(repr(text))
        return self.take()

    def ident(self, what: str) -> str:
        tok = self.peek()
        if tok.kind not in ("id", "string", "html", "number") or (tok.kind == "id" and tok.text.lower() in _KEYWORDS):
            raise self.fail(what)
        self.take()
        text = tok.text
        while tok.kind == "string" and self.at("+") and self.peek(1).kind == "string":
            self.take()
            tok = self.take()
            text += tok.text
        return text

    # -- grammar -------------------------------------------------------
    def graph(self) -> DotGraph:
        start = self.peek()
        if self.keyword("strict"):
            self.take()
        if self.keyword("graph"):
            raise error(codes.SYNTAX, "an undirected 'graph' is not a spec: write 'digraph'", self.loc(self.peek()))
        if not self.keyword("digraph"):
            raise self.fail("'digraph'")
        self.take()
        name = "" if self.at("{") else self.ident("a digraph name")
        g = DotGraph(name=name, location=self.loc(start))
        self.expect("{")
        self.stmt_list(g, {}, None)
        end = self.expect("}")
        g.span = (start.offset, end.offset + 1)
        g.end = self.loc(end)
        return g

    def stmt_list(self, g: DotGraph, node_defaults: dict[str, str], members: dict[str, None] | None) -> None:
        node_defaults = dict(node_defaults)
        while not self.at("}"):
            if self.peek().kind == "eof":
                raise self.fail("'}'")
            self.stmt(g, node_defaults, members)
            if self.at(";"):
                self.take()

    def stmt(self, g: DotGraph, node_defaults: dict[str, str], members: dict[str, None] | None) -> None:
        tok = self.peek()
        if tok.kind == "id" and tok.text.lower() in ("graph", "node", "edge") and self.peek(1).kind == "[":
            self.take()
            attrs = self.attr_lists()
            if tok.text.lower() == "node":
                node_defaults.update(attrs)
            elif tok.text.lower() == "graph" and members is None:
                g.attrs.update(attrs)
            return
        if self.peek(1).kind == "=" and not self.at("{"):
            key = self.ident("an attribute name")
            self.take()
            value = self.ident("an attribute value")
            if members is None:
                g.attrs[key] = value
            return
        first = self.operand(g, node_defaults, members)
        if not self.at("->") and not self.at("--"):
            attrs = self.attr_lists() if self.at("[") else {}
            if len(first) == 1 and first[0][1]:
                self.define_node(g, first[0][0], attrs, node_defaults, members, tok, stmt=True)
            return
        chain = [first]
        ops: list[_Token] = []
        while self.at("->") or self.at("--"):
            op = self.take()
            if op.text == "--":
                raise error(codes.SYNTAX, "'--' is an undirected edge: a digraph uses '->'", self.loc(op))
            ops.append(op)
            chain.append(self.operand(g, node_defaults, members))
        label = self.attr_lists().get("label") if self.at("[") else None  # the rest is styling
        count = sum(len(left) * len(right) for left, right in zip(chain, chain[1:]))
        if len(g.edges) + count > MAX_EDGES:  # checked before a {a b} -> {c d} product is expanded
            raise error(
                codes.TOO_LARGE,
                f"digraph {g.name!r}: this statement makes {count:,} edges; a digraph may have at most {MAX_EDGES:,}",
                self.loc(ops[0]),
            )
        for left, right, op in zip(chain, chain[1:], ops):
            for src, _, port in left:
                for dst, _, _ in right:
                    g.edges.append(DotEdge(src, dst, self.loc(op), label if label is not None else port))

    def operand(
        self, g: DotGraph, node_defaults: dict[str, str], members: dict[str, None] | None
    ) -> list[tuple[str, bool, str | None]]:
        """A node id or a subgraph: the node ids it stands for, whether it was a plain id, and its port."""
        if self.at("{") or self.keyword("subgraph"):
            return [(n, False, None) for n in self.subgraph(g, node_defaults, members)]
        tok = self.peek()
        node_id = self.ident("a node id")
        port = None
        if self.at(":"):  # a port names an output when the edge leaves here; compass points are layout
            self.take()
            port = self.ident("a port")
            if self.at(":"):
                self.take()
                self.ident("a compass point")
        self.define_node(g, node_id, {}, node_defaults, members, tok, stmt=False)
        return [(node_id, True, port)]

    def subgraph(self, g: DotGraph, node_defaults: dict[str, str], members: dict[str, None] | None) -> list[str]:
        name = ""
        if self.keyword("subgraph"):
            self.take()
            if not self.at("{"):
                name = self.ident("a subgraph name")
        opening = self.expect("{")
        if self.depth >= MAX_SUBGRAPH_DEPTH:
            raise error(codes.TOO_LARGE, f"subgraphs nested deeper than {MAX_SUBGRAPH_DEPTH}", self.loc(opening))
        self.depth += 1
        inner: dict[str, None] = {}  # an ordered set: subgraphs may list thousands of nodes
        self.stmt_list(g, node_defaults, inner)
        self.expect("}")
        self.depth -= 1
        if name.startswith("cluster"):
            g.clusters.append((name, list(inner)))
        if members is not None:
            members.update(inner)
        return list(inner)

    def define_node(
        self,
        g: DotGraph,
        node_id: str,
        attrs: dict[str, str],
        node_defaults: dict[str, str],
        members: dict[str, None] | None,
        tok: _Token,
        stmt: bool,
    ) -> None:
        node = g.nodes.get(node_id)
        if node is None:
            if len(g.nodes) >= MAX_NODES:
                raise error(
                    codes.TOO_LARGE,
                    f"node {node_id[:40]!r}: digraph {g.name!r} has more than {MAX_NODES:,} nodes",
                    self.loc(tok),
                    node_id,
                )
            node = DotNode(node_id, dict(node_defaults), self.loc(tok))
            g.nodes[node_id] = node
        elif stmt and "label" in attrs:
            node.location = self.loc(tok)
        node.declared = node.declared or stmt
        node.attrs.update(attrs)
        if members is not None:
            members[node_id] = None

    def attr_lists(self) -> dict[str, str]:
        attrs: dict[str, str] = {}
        while self.at("["):
            self.take()
            while not self.at("]"):
                key = self.ident("an attribute name")
                value = "true"
                if self.at("="):
                    self.take()
                    value = self.ident("an attribute value")
                attrs[key] = value
                if self.at(",") or self.at(";"):
                    self.take()
            self.expect("]")
        return attrs


def parse_graph_at(text: str, offset: int, file: str, lines: _Lines | None = None) -> DotGraph:
    """Parse the one digraph that starts at ``offset`` of ``text``."""
    lines = lines or _Lines(text)
    tokens = _tokenize(text, offset, file, lines)
    return _Parser(tokens, file, lines).graph()


def parse_dot(text: str, file: str) -> list[DotGraph]:
    """Parse a whole ``.dot`` file: one or more digraphs and nothing else."""
    lines = _Lines(text)
    graphs: list[DotGraph] = []
    pos = 0
    while True:
        tokens = _tokenize(text, pos, file, lines)
        if tokens[0].kind == "eof":
            return graphs
        parser = _Parser(tokens, file, lines)
        graphs.append(parser.graph())
        pos = graphs[-1].span[1]


_DIGRAPH_IN_PROSE = re.compile(r"(?<![\w\"])(?:strict\s+)?digraph\b(?=\s*(?:[^\s{};\[\]]+\s*)?\{)", re.IGNORECASE)


def find_digraphs(text: str, file: str) -> list[DotGraph]:
    """Parse every digraph embedded in a prose document, with the document's line numbers."""
    lines = _Lines(text)
    graphs: list[DotGraph] = []
    pos = 0
    while (m := _DIGRAPH_IN_PROSE.search(text, pos)) is not None:
        graph = parse_graph_at(text, m.start(), file, lines)
        graphs.append(graph)
        pos = graph.span[1]
    return graphs


_DIGRAPH_NAME = re.compile(r"""(?:strict\s+)?digraph\s*"?([^\s{};\[\]"]*)""", re.IGNORECASE)


def read_digraphs(text: str, file: str, prose: bool) -> tuple[list[DotGraph], list[BrokenGraph]]:
    """Every digraph of a ``.dot`` file (``prose`` False) or a document, and those that do not parse.

    One digraph's syntax error does not hide the others: reading goes on at the next
    ``digraph`` keyword after the one that failed.
    """
    lines = _Lines(text)
    graphs: list[DotGraph] = []
    broken: list[BrokenGraph] = []
    pos = 0
    while True:
        if prose:
            m = _DIGRAPH_IN_PROSE.search(text, pos)
            if m is None:
                return graphs, broken
            pos = m.start()
        try:
            tokens = _tokenize(text, pos, file, lines)
            if tokens[0].kind == "eof":
                return graphs, broken
            graphs.append(_Parser(tokens, file, lines).graph())
            pos = graphs[-1].span[1]
        except SpecError as exc:
            at = _DIGRAPH_IN_PROSE.search(text, pos)
            start = at.start() if at is not None else pos
            name = _DIGRAPH_NAME.match(text, start)
            where = lines.location(file, start)
            broken.append(BrokenGraph(name.group(1) if name else "", where, tuple(exc.diagnostics)))
            if at is None:
                return graphs, broken
            pos = at.end()
            if not prose:  # a file: skip to the next digraph, or stop
                following = _DIGRAPH_IN_PROSE.search(text, pos)
                if following is None:
                    return graphs, broken
                pos = following.start()
