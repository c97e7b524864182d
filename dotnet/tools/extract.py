"""``dotnet extract``: write each digraph of a document to its own ``.dot`` file.

Each file holds a one-line header comment naming the source and line, then the
digraph exactly as the document writes it (a byte-exact slice of its text), each
written atomically, as ``compile`` writes a module (:mod:`dotnet.writing`). A
digraph written twice the same is written once; one written again differently goes
to ``<Name>-line<N>.dot``; one that does not parse is reported and the others are
written all the same.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from dotnet import codes
from dotnet.diagnostics import Diagnostic, error
from dotnet.reading.sources import duplicate_warnings, read_source, same_graph
from dotnet.writing import write_atomically


@dataclass(frozen=True)
class Extracted:
    """One digraph written out: its name, the file written, and where it came from."""

    name: str
    path: Path
    line: int


def file_stem(name: str, index: int) -> str:
    """A safe file name for a digraph: its name, or ``digraph<N>`` when it has none or it is unsafe."""
    if re.fullmatch(r"\w[\w.-]*", name) and len(name) <= 200:
        return name
    return f"digraph{index}"


def extract(document: Path, folder: Path) -> tuple[list[Extracted], list[Diagnostic]]:
    """Write every digraph of ``document`` to ``folder/<Name>.dot``; also what was not written and why."""
    source = read_source(document)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise error(codes.IO_ERROR, f"-o {folder}: cannot write into it: it is not a folder") from None
    except OSError as exc:
        raise error(codes.IO_ERROR, f"-o {folder}: cannot make the folder: {exc.strerror or exc}") from None
    written: list[Extracted] = []
    for index, graph in enumerate(source.graphs, start=1):
        first = source.graph_named(graph.name)
        assert first is not None
        stem = file_stem(graph.name, index)
        if first is not graph:
            if same_graph(first, graph):
                continue
            stem = f"{stem}-line{graph.location.line}"
        start, end = graph.span
        path = folder / f"{stem}.dot"
        where = " ".join(source.display.split())  # a name with a line break would end the comment
        header = f"// extracted by dotnet from {where}, line {graph.location.line}\n"
        write_atomically(path, (header + source.text[start:end] + "\n").encode("utf-8"))
        written.append(Extracted(graph.name, path, graph.location.line))
    problems = [d for b in source.broken for d in b.diagnostics] + duplicate_warnings(source)
    return written, sorted(problems, key=lambda d: d.location.line if d.location else 0)
