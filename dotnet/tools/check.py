"""``dotnet check``: analyse every digraph of the given paths and collect diagnostics.

A path is a ``.dot``/``.gv`` file, a prose document that embeds digraphs, or a
folder (every ``.dot``/``.gv`` file inside it, recursively, hidden folders skipped).
Each file gets the shape pass, code generation (:mod:`dotnet.codegen.generate`, its
source discarded: whatever ``compile`` would refuse, ``check`` reports too) and
the review warnings of :mod:`dotnet.tools.lint`; warnings the run or the spec
silences (:mod:`dotnet.tools.silence`) are dropped.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from dotnet import codes
from dotnet.analysis.resolve import Library
from dotnet.codegen.generate import blocks_in_order, generate_source, graph_defaults
from dotnet.diagnostics import Diagnostic, Location, Report, SpecError
from dotnet.reading.dot import DotGraph
from dotnet.reading.sources import DOT_SUFFIXES, choose_graph, duplicate_warnings, read_source
from dotnet.tools.lint import Linter
from dotnet.tools.silence import Silencer


@dataclass
class CheckResult:
    """Everything one run found, and how many files it read."""

    diagnostics: list[Diagnostic]
    files: int

    def count(self, severity: str) -> int:
        return sum(d.severity == severity for d in self.diagnostics)


def spec_files(path: Path) -> list[Path]:
    """``path`` itself, or for a folder every spec file inside it, sorted."""
    try:
        is_folder = path.is_dir()
    except OSError:  # such as a name too long: reading it says so, on the file
        is_folder = False
    if not is_folder:
        return [path]
    found = [
        p
        for p in path.rglob("*")
        if p.suffix.lower() in DOT_SUFFIXES
        and p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(path).parts[:-1])
    ]
    return sorted(found)


def check_source(
    path: Path, blocks: dict[str, str], ignore: Iterable[str] = (), only: str | None = None
) -> list[Diagnostic]:
    """Diagnostics for every digraph in one file or document, in source order.

    With ``only``, for that digraph and the blocks it calls alone (``check --graph``).

    One digraph's problem never hides another's: a digraph that does not parse is
    reported and the others are checked; each copy of a name written twice,
    differently, is checked on its own.
    """
    report = Report()
    try:
        source = read_source(path)
    except SpecError as exc:
        return exc.diagnostics
    found: list[Diagnostic] = [d for b in source.broken for d in b.diagnostics] + duplicate_warnings(source)
    library = Library(source, blocks, report)
    if only is not None:
        try:
            return _check_one(library, choose_graph(source, only, {}), found, ignore)
        except SpecError as exc:
            return exc.diagnostics
    shared: list[DotGraph] = []
    """Digraphs checked in ``library``; a copy of a name written differently gets a library of its own."""
    own_libraries: list[tuple[Library, DotGraph]] = []
    for graph in source.graphs:
        if source.differing(graph.name):
            own = Library(source, blocks, report, pinned=graph)
            own_libraries.append((own, graph))
        elif source.graph_named(graph.name) is graph:
            own = library
            shared.append(graph)
        else:
            continue  # the same digraph again: checked once
        try:
            analysis = own.analysis(graph.name)
            generate_source(own, analysis, graph_defaults(analysis))
        except SpecError as exc:
            found.extend(exc.diagnostics)
    reviewed = review(library, shared, found + report.diagnostics, ignore)
    for own, graph in own_libraries:
        reviewed += review(own, [graph], [], ignore)
    return sorted(_unique(reviewed), key=_position)


def _check_one(library: Library, dot: DotGraph, found: list[Diagnostic], ignore: Iterable[str]) -> list[Diagnostic]:
    """``check --graph``: one digraph, and the review of it and of the blocks it calls."""
    reviewed = [dot]
    try:
        analysis = library.analysis(dot.name)
        generate_source(library, analysis, graph_defaults(analysis))
        reviewed += [b for b in map(library.dot_graph, blocks_in_order(library, analysis)) if b is not None]
    except SpecError as exc:
        found = found + exc.diagnostics
    return sorted(_unique(review(library, reviewed, found + library.report.diagnostics, ignore)), key=_position)


def review(
    library: Library, graphs: Iterable[DotGraph], found: list[Diagnostic], ignore: Iterable[str] = ()
) -> list[Diagnostic]:
    """``found`` plus the review warnings of ``graphs``, less what ``--ignore`` or the specs silence.

    Shared by ``dotnet check`` and ``dotnet compile``, so both report and silence alike.
    """
    linter = Linter(library)
    reviewed = found + [d for graph in graphs for d in linter.lint(graph)]
    silencer = Silencer(ignore, library.read_graphs())
    return [d for d in _unique(reviewed + silencer.problems()) if silencer.allows(d)]


def check_paths(
    paths: list[Path], blocks: dict[str, str], ignore: Iterable[str] = (), only: str | None = None
) -> CheckResult:
    """Diagnostics for every file under ``paths``, in the order given; each reported once."""
    ignore = frozenset(ignore)
    found: list[Diagnostic] = []
    files = 0
    for path in paths:
        targets = spec_files(path)
        if not targets:
            found.append(
                Diagnostic("error", codes.NO_DIGRAPH, "the folder holds no .dot or .gv file", Location(str(path), 1))
            )
        for target in targets:
            files += 1
            found += _check_contained(target, blocks, ignore, only)
    return CheckResult(_unique(found), files)


def _check_contained(
    path: Path, blocks: dict[str, str], ignore: Iterable[str], only: str | None = None
) -> list[Diagnostic]:
    """:func:`check_source`, but whatever happens checking one file, an error for that file."""
    start = Location(str(path), 1)
    try:
        return check_source(path, blocks, ignore, only)
    except RecursionError:
        return [Diagnostic("error", codes.TOO_LARGE, "the spec is nested too deeply to process", start)]
    except MemoryError:
        return [Diagnostic("error", codes.TOO_LARGE, "checking the spec ran out of memory", start)]
    except Exception as exc:  # a bug in dotnet: report it on the file, check the others
        message = f"dotnet failed on this file: {type(exc).__name__}: {exc} (please report it with the file)"
        return [Diagnostic("error", codes.INTERNAL, message, start)]


def _unique(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """Drop repeats (a block's problem is found again by each file that calls it), keeping order."""
    return list(dict.fromkeys(diagnostics))


def _position(d: Diagnostic) -> tuple[str, int, int]:
    return (d.location.file, d.location.line, d.location.col) if d.location else ("", 0, 0)
