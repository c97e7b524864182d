"""Read spec sources: ``.dot`` files and prose documents that embed digraphs."""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from dotnet import codes
from dotnet.diagnostics import Location, SpecError, error
from dotnet.reading.dot import DotGraph, find_digraphs, parse_dot

DOT_SUFFIXES = (".dot", ".gv")
MAX_SOURCE_BYTES = 64 * 1024 * 1024
"""Largest file read: far above any diagram, low enough to fail fast on a wrong path."""
_LINE_BREAK_BYTES = re.compile(rb"\r\n|\r|\n")


@dataclass
class Source:
    """One file and the digraphs read from it, in file order."""

    path: Path
    display: str
    """The path as the user wrote it; diagnostics name the file this way."""
    graphs: list[DotGraph]
    is_document: bool
    text: str = ""
    """The decoded text the graphs were read from (their spans index into it)."""

    def graph_named(self, name: str) -> DotGraph | None:
        return next((g for g in self.graphs if g.name == name), None)


def read_source(path: str | Path, display: str | None = None) -> Source:
    """Read and parse a file; a prose document yields the digraphs embedded in it."""
    path = Path(path)
    display = display if display is not None else str(path)
    text = decode(read_regular_file(path, display), display)
    is_document = path.suffix.lower() not in DOT_SUFFIXES
    graphs = find_digraphs(text, display) if is_document else parse_dot(text, display)
    if not graphs:
        what = "document" if is_document else "file"
        raise error(codes.NO_DIGRAPH, f"the {what} holds no digraph", Location(display, 1, 1))
    seen: dict[str, DotGraph] = {}
    for g in graphs:
        if g.name in seen:
            raise error(
                codes.DUPLICATE_GRAPH,
                f"digraph {g.name!r} is defined twice (first at line {seen[g.name].location.line})",
                g.location,
            )
        seen[g.name] = g
    return Source(path, display, graphs, is_document, text)


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
        if not stat.S_ISREG(info.st_mode):
            kind = "a folder" if stat.S_ISDIR(info.st_mode) else "a device, pipe or socket"
            raise error(codes.IO_ERROR, f"cannot read the file: it is {kind}, not a regular file", start)
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
    """The digraph to compile: ``name``, the only one, or the only one no other calls.

    ``callees`` maps each digraph's name to the names of the digraphs it calls.
    """
    if name is not None:
        graph = source.graph_named(name)
        if graph is None:
            raise error(
                codes.GRAPH_NOT_FOUND,
                f"--graph {name}: no digraph named {name!r}; the file holds {_names(source.graphs)}",
                Location(source.display, 1),
            )
        return graph
    if len(source.graphs) == 1:
        return source.graphs[0]
    called = set().union(*callees.values())
    roots = [g for g in source.graphs if g.name not in called]
    if len(roots) == 1:
        return roots[0]
    choices = roots or source.graphs
    raise SpecError(
        [
            error(
                codes.GRAPH_CHOICE,
                f"the file holds {len(source.graphs)} digraphs; pick one with --graph NAME: {_names(choices)}",
                Location(source.display, 1),
            ).diagnostics[0]
        ]
    )


def _names(graphs: list[DotGraph]) -> str:
    return ", ".join(f"{g.name} (line {g.location.line})" for g in graphs)
