"""Diagnostics formatted for people (text), programs (JSON) and GitHub Actions (annotations).

``text``: one ``file:line:col: severity: message [code]`` per line, then a summary.
``json``: one JSON array holding one object per diagnostic (see :meth:`Diagnostic.to_json`).
``github``: one workflow command per diagnostic, which GitHub shows on the pull request's
diff: ``::error file=specs/a.dot,line=3,col=5,title=shape-mismatch::node 'x': ...``.
"""

from __future__ import annotations

import json

from dotnet.diagnostics import Diagnostic, printable

FORMATS = ("text", "json", "github")
_GITHUB_LEVEL = {"error": "error", "warning": "warning", "note": "notice"}


def format_text(diagnostics: list[Diagnostic]) -> list[str]:
    """One line per diagnostic."""
    return [d.format_text() for d in diagnostics]


def summary(diagnostics: list[Diagnostic], files: int) -> str:
    """``Found 2 errors and 1 warning (checked 3 files)``, or that all is well."""
    checked = f"checked {files} file{'s' if files != 1 else ''}"
    errors = sum(d.severity == "error" for d in diagnostics)
    warnings = sum(d.severity == "warning" for d in diagnostics)
    if not errors and not warnings:
        return f"Success: no problems found ({checked})"
    parts = [_plural(errors, "error")] if errors else []
    parts += [_plural(warnings, "warning")] if warnings else []
    return f"Found {' and '.join(parts)} ({checked})"


def format_json(diagnostics: list[Diagnostic]) -> str:
    """A JSON array with one object per diagnostic."""
    return json.dumps([d.to_json() for d in diagnostics], ensure_ascii=False, indent=2)


def format_github(diagnostics: list[Diagnostic]) -> list[str]:
    """GitHub workflow commands (``::error file=...,line=...,col=...,title=CODE::message``)."""
    lines = []
    for d in diagnostics:
        props = []
        if d.location is not None:
            loc = d.location
            props += [f"file={_property(loc.file)}", f"line={loc.line}", f"col={loc.col}"]
        props.append(f"title={_property(d.code)}")
        lines.append(f"::{_GITHUB_LEVEL[d.severity]} {','.join(props)}::{_data(d.message)}")
    return lines


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


def _data(text: str) -> str:
    """Escape a workflow command's message, as GitHub's toolkit does; other controls as in text."""
    return printable(text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"))


def _property(text: str) -> str:
    """Escape a workflow command's property value."""
    return _data(text).replace(":", "%3A").replace(",", "%2C")
