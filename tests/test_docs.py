"""docs/diagnostics.md lists every registered code, and its examples print what they show."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dotnet import codes
from dotnet.tools.check import check_source
from tests.conftest import REPO

DOC = REPO / "docs" / "diagnostics.md"
_HEADING = re.compile(r"^### `([a-z-]+)` \((error|warning|note)\)$", re.MULTILINE)


def sections() -> dict[str, str]:
    """Each code's section of the page, by code."""
    text = DOC.read_text(encoding="utf-8")
    heads = list(_HEADING.finditer(text))
    ends = [h.start() for h in heads[1:]] + [len(text)]
    return {h.group(1): text[h.end() : end] for h, end in zip(heads, ends)}


def block(section: str, language: str) -> str | None:
    m = re.search(rf"```{language}\n(.*?)```", section, re.DOTALL)
    return m.group(1) if m else None


def test_every_code_is_documented_and_every_documented_code_exists() -> None:
    assert list(sections()) == list(codes.REGISTRY)


@pytest.mark.parametrize("code", list(codes.REGISTRY))
def test_each_section_states_the_summary_and_shows_an_example(code: str) -> None:
    section = sections()[code]
    assert codes.REGISTRY[code].summary.lower() in section.lower()
    assert any(block(section, language) for language in ("dot", "text", "console")), f"no example for {code}"


@pytest.mark.parametrize("code", [c for c, s in sections().items() if block(s, "dot") is not None])
def test_spec_examples_print_what_the_page_shows(code: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    section = sections()[code]
    spec, shown = block(section, "dot"), block(section, "text")
    assert spec is not None and shown is not None
    (tmp_path / "example.dot").write_text(spec, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    printed = [d.format_text() for d in check_source(Path("example.dot"), {})]
    for line in shown.splitlines():
        assert line in printed
