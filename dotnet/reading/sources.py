"""Read spec sources: ``.dot`` files and prose documents that embed digraphs."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from dotnet import codes
from dotnet.diagnostics import Diagnostic, Location, SpecError, error
from dotnet.reading.dot import BrokenGraph, DotGraph, read_digraphs

DOT_SUFFIXES = (".dot", ".gv")
MAX_SOURCE_BYTES = 64 * 1024 * 1024
"""Largest file read: far above any diagram, low enough to fail fast on a wrong path."""
_LINE_BREAK_BYTES = re.compile(rb"\r\n|\r|\n")


@dataclass
class Source:
    """One file and the digraphs read from it, in file order (repeated names included)."""

    path: Path
    display: str
    """The path as the user wrote it; diagnostics name the file this way."""
    graphs: list[DotGraph]
    is_document: bool
    text: str = ""
    """The decoded text the graphs were read from (their spans index into it)."""
    broken: list[BrokenGraph] = field(default_factory=list)
    """Digraphs that do not parse; the others are read all the same."""

    @cached_property
    def _by_name(self) -> dict[str, list[DotGraph]]:
        found: dict[str, list[DotGraph]] = {}
        for g in self.graphs:
            found.setdefault(g.name, []).append(g)
        return found

    def graph_named(self, name: str) -> DotGraph | None:
        """The first digraph called ``name``."""
        copies = self._by_name.get(name)
        return copies[0] if copies else None

    def copies(self, name: str) -> list[DotGraph]:
        """Every digraph called ``name``, in file order."""
        return list(self._by_name.get(name, []))

    def differing(self, name: str) -> bool:
        """Whether the document writes ``name`` more than once, not the same each time."""
        copies = self._by_name.get(name, [])
        return any(not same_graph(copies[0], g) for g in copies[1:])

    def broken_named(self, name: str) -> BrokenGraph | None:
        return next((b for b in self.broken if b.name == name), None)


def same_graph(a: DotGraph, b: DotGraph) -> bool:
    """Whether two digraphs say the same: name, attributes, nodes and edges, wherever written."""

    def content(g: DotGraph) -> tuple[object, ...]:
        nodes = [(n.id, sorted(n.attrs.items())) for n in g.nodes.values()]
        return g.name, sorted(g.attrs.items()), nodes, [(e.src, e.dst) for e in g.edges], g.clusters

    return content(a) == content(b)


def read_source(path: str | Path, display: str | None = None) -> Source:
    """Read and parse a file; a prose document yields the digraphs embedded in it.

    A digraph that does not parse is kept aside (``Source.broken``) when others do;
    a file where none does is an error.
    """
    path = Path(path)
    display = display if display is not None else str(path)
    text = decode(read_regular_file(path, display), display)
    is_document = path.suffix.lower() not in DOT_SUFFIXES
    graphs, broken = read_digraphs(text, display, prose=is_document)
    if not graphs and broken:
        raise SpecError([d for b in broken for d in b.diagnostics])
    if not graphs:
        what = "document" if is_document else "file"
        raise error(codes.NO_DIGRAPH, f"the {what} holds no digraph", Location(display, 1, 1))
    return Source(path, display, graphs, is_document, text, broken)


def duplicate_warnings(source: Source, names: Iterable[str] | None = None) -> list[Diagnostic]:
    """A warning on each repeated digraph (of ``names``, or of all): the same again, or a different one."""
    found = []
    wanted = set(names) if names is not None else None
    for name in dict.fromkeys(g.name for g in source.graphs):
        first, *others = source.copies(name)
        if not others or (wanted is not None and name not in wanted):
            continue
        for g in others:
            if same_graph(first, g):
                message = f"digraph {name!r} is written again, the same as at line {first.location.line}: one digraph"
                found.append(Diagnostic("warning", codes.REPEATED_GRAPH, message, g.location))
            else:
                message = (
                    f"digraph {name!r} is defined again, differently from line {first.location.line}; "
                    f"a call or --graph {name} is then an error: pick one with --graph {name}@{g.location.line}"
                )
                found.append(Diagnostic("warning", codes.DUPLICATE_GRAPH, message, g.location))
    return found


def read_regular_file(path: Path, display: str) -> bytes:
    """The bytes of ``path``, which must be a regular file of at most :data:`MAX_SOURCE_BYTES`.

    The file is opened without blocking and checked before anything is read, so a
    FIFO cannot hang the run and ``/dev/zero`` cannot fill the memory.
    """
    start = Location(display, 1, 1)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise error(codes.IO_ERROR, f"cannot read the file: {exc.strerror or exc}", start) from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            hint = f"; dotnet check takes folders: dotnet check {display}"
            raise error(codes.IO_ERROR, f"cannot read the file: it is a folder, not a regular file{hint}", start)
        if not stat.S_ISREG(info.st_mode):
            raise error(
                codes.IO_ERROR, "cannot read the file: it is a device, pipe or socket, not a regular file", start
            )
        if info.st_size > MAX_SOURCE_BYTES:
            raise error(codes.TOO_LARGE, f"the file is larger than {MAX_SOURCE_BYTES // (1024 * 1024)} MiB", start)
        chunks: list[bytes] = []
        size = 0
        while size <= MAX_SOURCE_BYTES and (chunk := os.read(fd, MAX_SOURCE_BYTES + 1 - size)):
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise error(codes.IO_ERROR, f"cannot read the file: {exc.strerror or exc}", start) from None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > MAX_SOURCE_BYTES:  # it grew while it was read
        raise error(codes.TOO_LARGE, f"the file is larger than {MAX_SOURCE_BYTES // (1024 * 1024)} MiB", start)
    return data


def decode(data: bytes, display: str) -> str:
    """UTF-8 text, or an error that says where the bytes stop being text."""
    if b"\x00" in data:
        offset = data.index(b"\x00")
        raise error(
            codes.IO_ERROR, f"binary data (a NUL byte at offset {offset}), not a text file", Location(display, 1)
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = len(_LINE_BREAK_BYTES.findall(data, 0, exc.start)) + 1
        raise error(
            codes.IO_ERROR,
            f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})",
            Location(display, line),
        ) from None


def choose_graph(source: Source, name: str | None, callees: dict[str, set[str]]) -> DotGraph:
    """The digraph to compile: ``name`` (``NAME@LINE`` for one of several so named), the only
    one, or the only one no other calls.

    ``callees`` maps each digraph's name to the names of the digraphs it calls.
    """
    if name is not None:
        return graph_by_choice(source, name, "--graph")
    if source.broken:
        raise SpecError([d for b in source.broken for d in b.diagnostics])
    names = list(dict.fromkeys(g.name for g in source.graphs))
    if len(names) == 1:
        return graph_by_choice(source, names[0], "the file's digraph")
    called = set().union(*callees.values())
    roots = [n for n in names if n not in called]
    if len(roots) == 1:
        return graph_by_choice(source, roots[0], "the digraph no other calls")
    choices = [g for g in source.graphs if g.name in roots] or source.graphs
    raise SpecError(
        [
            error(
                codes.GRAPH_CHOICE,
                f"the file holds {len(source.graphs)} digraphs; pick one with --graph NAME: {_names(choices)}",
                Location(source.display, 1),
            ).diagnostics[0]
        ]
    )


def graph_by_choice(source: Source, choice: str, flag: str) -> DotGraph:
    """The digraph ``NAME`` or ``NAME@LINE`` names; an error if it is missing, broken or ambiguous."""
    name, at, line_text = choice.partition("@")
    where = Location(source.display, 1)
    copies = source.copies(name)
    if at:
        line = int(line_text) if line_text.isdigit() else None
        chosen = next((g for g in copies if g.location.line == line), None)
        if chosen is not None:
            return chosen
        lines = ", ".join(str(g.location.line) for g in copies)
        found = f"it starts on line {lines}" if len(copies) == 1 else f"they start on lines {lines}"
        if not copies:
            found = f"the file holds {_names(source.graphs)}"
        message = f"{flag} {choice}: no digraph {name!r} starts on line {line_text}; {found}"
        raise error(codes.GRAPH_NOT_FOUND, message, where)
    broken = source.broken_named(name)
    if not copies and broken is not None:
        raise SpecError(list(broken.diagnostics))
    if not copies:
        raise error(
            codes.GRAPH_NOT_FOUND,
            f"{flag} {name}: no digraph named {name!r}; the file holds {_names(source.graphs)}",
            where,
        )
    if source.differing(name):
        raise ambiguous_graph(source, name, where)
    return copies[0]


def ambiguous_graph(source: Source, name: str, where: Location | None, node: str | None = None) -> SpecError:
    """The error for a name the document defines more than once, differently."""
    copies = source.copies(name)
    lines = ", ".join(str(g.location.line) for g in copies)
    choices = " or ".join(f"--graph {name}@{g.location.line}" for g in copies)
    prefix = f"node {node!r}: " if node else ""
    return error(
        codes.DUPLICATE_GRAPH,
        f"{prefix}digraph {name!r} is defined {len(copies)} times, differently (lines {lines}); "
        f"pick one with {choices}",
        where,
        node,
    )


def _names(graphs: list[DotGraph]) -> str:
    return ", ".join(f"{g.name} (line {g.location.line})" for g in graphs)
