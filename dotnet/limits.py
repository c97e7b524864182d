"""dotnet's limits: how much work any one diagram may cause.

Each limit is far above what a real network diagram needs and low enough that
a hostile diagram is refused in well under a second, before the work that
grows with it starts. docs/spec-language.md ("Limits") lists them with their
reasons; a violation is a ``too-large`` error located at the node.
"""

from __future__ import annotations

import re

MAX_NODES = 50_000
"""Nodes in one digraph (the parse benchmark's largest spec has 10,000)."""
MAX_EDGES = 100_000
"""Edges in one digraph, counted before a ``{a b} -> {c d}`` product is expanded."""
MAX_REPEAT = 10_000
"""Largest ``x N`` repetition count (the deepest published networks repeat a block ~100 times)."""
MAX_BLOCK_DEPTH = 64
"""Deepest chain of block calls (a block calling a block ...)."""
MAX_OPERANDS = 256
"""Most operands of one ``+`` node; the generated sum stays code Python can compile."""
MAX_DIM_TERMS = 1_000
"""Most terms in one symbolic size, and in the product of two while it is multiplied out."""
MAX_DIGITS = 19
"""Most digits of a number given as a size: the length of the largest int64."""
MAX_SIZE = 2**63 - 1
"""Largest size: the largest int64, which is what PyTorch stores sizes in."""

_DIGITS = re.compile(r"[0-9]+")


class LimitError(ValueError):
    """A value is beyond one of dotnet's limits; the message says which and by how much."""


def whole_number(text: str) -> int:
    """``text`` as a whole number: ASCII digits only, at most :data:`MAX_DIGITS`, at most :data:`MAX_SIZE`.

    ``²``, ``٣`` (Unicode digits), signs, spaces inside and exponents are refused.
    """
    text = text.strip()
    if not _DIGITS.fullmatch(text):
        raise LimitError(f"{_shown(text)} is not a whole number: write ASCII digits 0-9")
    if len(text) > MAX_DIGITS:
        raise LimitError(f"a number of {len(text)} digits exceeds the limit of {MAX_DIGITS} digits")
    value = int(text)
    if value > MAX_SIZE:
        raise LimitError(f"{value} exceeds the largest size, 2**63-1 = {MAX_SIZE}")
    return value


def _shown(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")
