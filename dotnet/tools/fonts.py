"""Which characters of a picture's labels no installed font can draw.

Graphviz finds fonts through fontconfig and draws a character no font has as an
empty box (tofu). ``fc-list`` answers, for a set of characters, which fonts hold
them all; the characters are asked for by script, so a label in Chinese costs one
question however long it is.
"""

from __future__ import annotations

import shutil
import subprocess
import unicodedata
from functools import cache

FONT_HINTS = {
    "CJK": "a CJK font (Debian: apt-get install fonts-noto-cjk; macOS has one)",
    "HIRAGANA": "a CJK font (Debian: apt-get install fonts-noto-cjk)",
    "KATAKANA": "a CJK font (Debian: apt-get install fonts-noto-cjk)",
    "HANGUL": "a CJK font (Debian: apt-get install fonts-noto-cjk)",
}
"""What to install for a script, where it is known; other scripts get a general hint."""


def script_of(char: str) -> str:
    """The script a character belongs to, as the first word of its Unicode name (``CJK``)."""
    name = unicodedata.name(char, "")
    return name.split(" ", 1)[0] if name else f"U+{ord(char):04X}"


def missing_scripts(text: str) -> dict[str, str]:
    """Each script of ``text`` that no installed font draws, with its characters in order.

    Empty when every script has a font, and when fontconfig's ``fc-list`` is not
    installed (then nothing can be told). ASCII is never asked about.
    """
    by_script: dict[str, str] = {}
    for char in dict.fromkeys(text):
        if ord(char) > 0x7E and char.isprintable() and not char.isspace():
            script = script_of(char)
            by_script[script] = by_script.get(script, "") + char
    return {script: chars for script, chars in by_script.items() if not has_font(chars)}


@cache
def has_font(chars: str) -> bool:
    """Whether some installed font holds every one of ``chars`` (True where fc-list is missing)."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return True
    charset = " ".join(f"{ord(c):x}" for c in sorted(set(chars)))
    try:
        proc = subprocess.run([fc_list, f":charset={charset}", "family"], capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return True
    return proc.returncode != 0 or bool(proc.stdout.strip())


def install_hint(script: str) -> str:
    """What to install so that ``script`` is drawn."""
    return FONT_HINTS.get(script, f"a font with {script.lower()} characters (Debian: fonts-noto)")
