"""``dotnet extract``: write each digraph of a document to its own ``.dot`` file.

Each file holds a one-line header comment naming the source and line, then the
digraph exactly as the document writes it (a byte-exact slice of its text).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from dotnet import codes
from dotnet.diagnostics import error
from dotnet.reading.sources import read_source


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


def extract(document: Path, folder: Path) -> list[Extracted]:
    """Write every digraph of ``document`` to ``folder/<Name>.dot``."""
    source = read_source(document)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise error(codes.IO_ERROR, f"-o {folder}: cannot write into it: it is not a folder") from None
    except OSError as exc:
        raise error(codes.IO_ERROR, f"-o {folder}: cannot make the folder: {exc.strerror or exc}") from None
    written: list[Extracted] = []
    for index, graph in enumerate(source.graphs, start=1):
        start, end = graph.span
        path = folder / f"{file_stem(graph.name, index)}.dot"
        where = " ".join(source.display.split())  # a name with a line break would end the comment
        header = f"// extracted by dotnet from {where}, line {graph.location.line}\n"
        try:
            path.write_text(header + source.text[start:end] + "\n", encoding="utf-8", newline="")
        except OSError as exc:
            raise error(codes.IO_ERROR, f"-o {folder}: cannot write {path}: {exc.strerror or exc}") from None
        written.append(Extracted(graph.name, path, graph.location.line))
    return written
