"""Lines and columns are right whichever line breaks a file uses: LF, CRLF or CR alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from dotnet.reading.sources import read_source
from dotnet.tools.check import check_source
from dotnet.tools.extract import extract

BREAKS = {"LF": "\n", "CRLF": "\r\n", "CR": "\r"}

# A '//' comment and a '#' line must end at the line break, whatever it is, not swallow the rest.
SPEC_LINES = [
    "// a spec whose output is declared with the wrong width",
    "digraph ShapeError {",
    "# a preprocessor-style line",
    '    inp [label="输入\\n[BatchSize, NIn]", shape="Mrecord"]',
    '    lin [label="Linear\\n[NIn, NOut]"]',
    '    oup [label="输出\\n[BatchSize, NHidden]", shape="Mrecord"]',
    "    inp -> lin -> oup",
    "}",
]


@pytest.mark.parametrize("kind", BREAKS)
def test_diagnostics_have_the_same_line_and_column(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "spec.dot"
    path.write_bytes(BREAKS[kind].join(SPEC_LINES).encode())
    [found] = check_source(path, {})
    assert (found.code, found.location.line, found.location.col) == ("shape-mismatch", 6, 5)
    assert found.message == "node 'oup': declared [BatchSize, NHidden] but 'lin' produces [BatchSize, NOut]"


@pytest.mark.parametrize("kind", BREAKS)
def test_a_syntax_error_is_located_on_its_line(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "spec.dot"
    path.write_bytes(BREAKS[kind].join(["digraph G {", "  a -> b", "  c -> ;", "}"]).encode())
    [found] = check_source(path, {})
    assert (found.code, found.location.line, found.location.col) == ("syntax-error", 3, 8)


@pytest.mark.parametrize("kind", BREAKS)
def test_bad_utf8_is_located_on_its_line(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "spec.dot"
    path.write_bytes(BREAKS[kind].join(["digraph G {", "  a -> b", '  c [label="\xff"]', "}"]).encode("latin-1"))
    [found] = check_source(path, {})
    assert (found.code, found.location.line) == ("io-error", 3)


@pytest.mark.parametrize("kind", BREAKS)
def test_a_document_reports_its_own_lines(tmp_path: Path, kind: str) -> None:
    prose = ["Some prose.", "", "The model:", "", *SPEC_LINES[1:], "", "More prose."]
    path = tmp_path / "doc.md"
    path.write_bytes(BREAKS[kind].join(prose).encode())
    [found] = check_source(path, {})
    assert (found.code, found.location.line, found.location.col) == ("shape-mismatch", 9, 5)
    [written], problems = extract(path, tmp_path / "out")
    assert problems == []
    assert written.line == 5
    text = written.path.read_bytes().decode()
    assert text.startswith(f"// extracted by dotnet from {path}, line 5\n")
    assert text.endswith(BREAKS[kind].join(SPEC_LINES[1:]) + "\n")


@pytest.mark.parametrize("kind", BREAKS)
def test_a_line_continuation_inside_a_string_joins_the_lines(tmp_path: Path, kind: str) -> None:
    lines = ['digraph G { inp [label="输入\\n[BatchSize, \\', ' NIn]", shape="Mrecord"]', " inp -> x }"]
    path = tmp_path / "spec.dot"
    path.write_bytes(BREAKS[kind].join(lines).encode())
    [graph] = read_source(path).graphs
    assert graph.nodes["inp"].attrs["label"] == "输入\\n[BatchSize,  NIn]"
    assert graph.nodes["x"].location.line == 3
