"""Diagnostics as values: a location, a severity, a stable code and a message.

Every stage reports problems by raising :class:`SpecError` (one or more errors) or
by appending warnings to a :class:`Report`. Nothing here knows about torch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["error", "warning", "note"]

_UNPRINTABLE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
"""What would break a diagnostic over lines, reorder it on screen, or not encode: controls but tab,
line and paragraph separators, bidi overrides, and lone surrogates (undecodable bytes of a file name)."""
_SURROGATE = re.compile("[\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\r": "\\r"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    if char in _NAMED:
        return _NAMED[char]
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8, as Python keeps it in a file name
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` on one line and encodable: ``\\n``, ``\\r``, ``\\xNN`` and ``\\uNNNN`` for what would not be."""
    return _UNPRINTABLE.sub(_escape, text)


def encodable(text: str) -> str:
    """``text`` with only its undecodable bytes (lone surrogates) escaped, as JSON needs."""
    return _SURROGATE.sub(_escape, text)


@dataclass(frozen=True)
class Location:
    """A place in a source file; ``line`` and ``col`` count from 1."""

    file: str
    line: int
    col: int = 1

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True)
class Diagnostic:
    """One finding about a spec, tied to a file position and, where known, a node."""

    severity: Severity
    code: str
    message: str
    location: Location | None = None
    node: str | None = None

    def format_text(self) -> str:
        """Render as ``file:line:col: severity: message [code]``, always on one line."""
        where = f"{self.location}: " if self.location else ""
        return printable(f"{where}{self.severity}: {self.message} [{self.code}]")

    def to_json(self) -> dict[str, object]:
        """A JSON-ready dict with one key per field (undecodable bytes of names escaped)."""
        loc = self.location
        return {
            "file": encodable(loc.file) if loc else None,
            "line": loc.line if loc else None,
            "col": loc.col if loc else None,
            "severity": self.severity,
            "code": self.code,
            "message": encodable(self.message),
            "node": encodable(self.node) if self.node is not None else None,
        }


class SpecError(Exception):
    """A spec cannot be compiled; carries every error found, in source order."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        super().__init__("\n".join(d.format_text() for d in diagnostics))
        self.diagnostics = diagnostics


def error(code: str, message: str, location: Location | None = None, node: str | None = None) -> SpecError:
    """Build a :class:`SpecError` holding a single error diagnostic."""
    return SpecError([Diagnostic("error", code, message, location, node)])


@dataclass
class Report:
    """Warnings and notes gathered while a spec is read and checked."""

    diagnostics: list[Diagnostic] = field(default_factory=list)

    def warn(self, code: str, message: str, location: Location | None = None, node: str | None = None) -> None:
        """Record a warning (once, however often it is found)."""
        self._add(Diagnostic("warning", code, message, location, node))

    def _add(self, diagnostic: Diagnostic) -> None:
        if diagnostic not in self.diagnostics:
            self.diagnostics.append(diagnostic)
