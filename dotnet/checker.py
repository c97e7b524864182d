"""``dotnet check``: analyse every digraph of the given files and collect diagnostics."""

from __future__ import annotations

from pathlib import Path

from dotnet.diagnostics import Diagnostic, Report, SpecError
from dotnet.resolve import Library
from dotnet.sources import read_source


def check_source(path: Path, blocks: dict[str, str]) -> list[Diagnostic]:
    """Diagnostics for every digraph in one file or document."""
    report = Report()
    errors: list[Diagnostic] = []
    try:
        library = Library(read_source(path), blocks, report)
        for graph in library.source.graphs:
            try:
                library.analysis(graph.name)
            except SpecError as exc:
                errors.extend(d for d in exc.diagnostics if d not in errors)
    except SpecError as exc:
        errors.extend(exc.diagnostics)
    return sorted(errors + report.diagnostics, key=_position)


def check_paths(paths: list[Path], blocks: dict[str, str]) -> list[Diagnostic]:
    """Diagnostics for every file, in the order given."""
    return [d for path in paths for d in check_source(path, blocks)]


def _position(d: Diagnostic) -> tuple[int, int]:
    return (d.location.line, d.location.col) if d.location else (0, 0)
