"""Diagnostics as values: a location, a severity, a stable code and a message.

Every stage reports problems by raising :class:`SpecError` (one or more errors) or
by appending warnings to a :class:`Report`. Nothing here knows about torch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["error", "warning", "note"]


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
        """Render as ``file:line:col: severity: message [code]``."""
        where = f"{self.location}: " if self.location else ""
        return f"{where}{self.severity}: {self.message} [{self.code}]"

    def to_json(self) -> dict[str, object]:
        """A JSON-ready dict with one key per field."""
        loc = self.location
        return {
            "file": loc.file if loc else None,
            "line": loc.line if loc else None,
            "col": loc.col if loc else None,
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
            "node": self.node,
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
