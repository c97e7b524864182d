"""Prose documents: ``dotnet extract`` slices each digraph out byte for byte, and
checking or compiling a document reports line numbers in that document."""

from __future__ import annotations

from pathlib import Path

import pytest

from dotnet import compile_spec
from dotnet.diagnostics import SpecError
from dotnet.reading.sources import read_source
from dotnet.tools.check import check_source
from tests.conftest import run_cli

DOCUMENT = """A design note with two diagrams.

The block, first:

digraph Block { i [label="[B, N]", shape=Mrecord] r [label="Relu"] o [label="[B, N]", shape=Mrecord] i -> r -> o }

and the model, over
several lines:
digraph Model {
    inp [label="输入\\n[B, N]", shape="Mrecord"]
    blk [label="Block"]
    oup [label="输出\\n[B, M]", shape="Mrecord"]
    inp -> blk -> oup
}
The end.
"""


@pytest.fixture
def document(tmp_path: Path) -> Path:
    path = tmp_path / "note.md"
    path.write_text(DOCUMENT, encoding="utf-8")
    return path


def test_extract_writes_each_digraph_byte_for_byte(document: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_cli("extract", document, "-o", out)
    assert result.code == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"wrote {out / 'Block.dot'} (digraph Block, line 5)",
        f"wrote {out / 'Model.dot'} (digraph Model, line 9)",
    ]
    model = (out / "Model.dot").read_bytes()
    header, body = model.split(b"\n", 1)
    assert header == f"// extracted by dotnet from {document}, line 9".encode()
    start = DOCUMENT.index("digraph Model")
    assert body == DOCUMENT[start : DOCUMENT.index("}\nThe end") + 1].encode() + b"\n"
    extracted = read_source(out / "Model.dot").graphs[0]
    original = read_source(document).graph_named("Model")
    assert original is not None
    assert extracted.nodes.keys() == original.nodes.keys()
    assert [(e.src, e.dst) for e in extracted.edges] == [(e.src, e.dst) for e in original.edges]


def test_extract_names_unnamed_and_unsafe_digraphs_by_position(tmp_path: Path) -> None:
    doc = tmp_path / "doc.txt"
    doc.write_text('one: digraph { a -> b }\ntwo: digraph "../x" { c -> d }\n', encoding="utf-8")
    result = run_cli("extract", doc, "-o", tmp_path / "out")
    assert result.code == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["digraph1.dot", "digraph2.dot"]


def test_extract_of_a_file_without_digraphs_fails_cleanly(tmp_path: Path) -> None:
    doc = tmp_path / "empty.txt"
    doc.write_text("no diagrams here\n", encoding="utf-8")
    result = run_cli("extract", doc, "-o", tmp_path / "out")
    assert result.code == 1
    assert result.stderr == f"{doc}:1:1: error: the document holds no digraph [no-digraph]\n"


def test_checking_a_document_reports_its_own_line_numbers(document: Path) -> None:
    found = check_source(document, {})
    assert [d.format_text() for d in found] == [
        f"{document}:12:5: error: node 'oup': declared [B, M] but 'blk' produces [B, N] [shape-mismatch]"
    ]
    line = DOCUMENT.splitlines()[11]
    assert line[4:].startswith("oup ")


def test_compiling_a_document_reports_its_own_line_numbers(document: Path) -> None:
    with pytest.raises(SpecError) as caught:
        compile_spec(document, "Model")
    (d,) = caught.value.diagnostics
    assert (d.location.file, d.location.line, d.location.col, d.node) == (str(document), 12, 5, "oup")


def test_a_block_on_one_line_of_prose_reports_columns_in_that_line(tmp_path: Path) -> None:
    doc = tmp_path / "doc.txt"
    doc.write_text('Intro.\nSee digraph A { x [label="[N]", shape="Mrecord"] y [label="Nope"] x -> y } here.\n')
    (d,) = check_source(doc, {})
    line = doc.read_text().splitlines()[1]
    assert (d.location.line, d.location.col, d.code) == (2, line.index('y [label="Nope"]') + 1, "unknown-op")
