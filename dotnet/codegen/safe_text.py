"""The one way diagram text enters generated code: as inert text in comments and docstrings.

Every string that comes from a diagram (titles, node ids, labels, file names, shapes
written with the diagram's symbols) passes :func:`doc_text` on its way into a
generated module. What comes out cannot end a comment or a docstring, cannot form
an escape sequence (``\\N{...}``, ``\\x00``), and cannot reorder or hide what a
reader sees (bidi controls, zero-width characters: "Trojan Source").
"""

from __future__ import annotations

import unicodedata

_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
"""Control, format (bidi controls, zero-width characters), surrogate, private, unassigned, line breaks."""

_REPLACED = {'"': "'", "\\": "/"}
"""Characters kept as a look-alike: a double quote could end a docstring, a backslash starts an escape."""


def doc_text(text: str) -> str:
    """``text`` as one line of inert, printable text, safe in a ``#`` comment or a ``\"\"\"`` docstring.

    Double quotes become single quotes and backslashes slashes; whitespace of any kind
    becomes a space; control, format (bidi, zero-width), surrogate, private-use and
    unassigned characters are dropped. The result holds no double quote, no backslash and
    no line break.
    """
    kept = []
    for ch in text:
        if ch in _REPLACED:
            kept.append(_REPLACED[ch])
        elif ch.isspace():
            kept.append(" ")
        elif unicodedata.category(ch) not in _UNSAFE_CATEGORIES:
            kept.append(ch)
    return "".join(kept)
