"""The prose test document tests/data/documents/style-notes.md (issue 12): every digraph
in it compiles, and each gets the warnings its slips and repeats call for.

The document embeds digraphs in prose as the seed documents do: blocks called by short
names (found by the caller's initials, or bound by shape), a label missing its ``]``, a
misspelt symbol (``BatchSise``), one block pasted twice the same, two different digraphs
under one name, and a model drawn in two parts.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("torch")

from dotnet import compile_spec
from dotnet.reading.sources import read_source
from dotnet.runtime import instantiate, smoke_run
from dotnet.tools.check import check_source
from tests.conftest import REPO, run_cli

DOCUMENT = REPO / "tests" / "data" / "documents" / "style-notes.md"
BLOCK_SIZES = {"BlockIn": 3, "BlockOut": 8}
"""Constructor values for the blocks, compiled on their own."""

EXPECTED = {
    # --graph: (class, parameters, warning codes)
    "SmallAutoEncoder@14": (
        "SmallAutoEncoder",
        2_841,
        ["repeated-graph", "unclosed-bracket", "block-by-shape", "block-by-shape", "activation-range"],
    ),
    "SAEConvBlock@18": ("SAEConvBlock", 240, ["repeated-graph"]),
    "SAEDeconvBlock@22": ("SAEDeconvBlock", 240, []),
    "SAEConvBlock@26": ("SAEConvBlock", 240, ["repeated-graph"]),
    "Classifier@32": ("Classifier", 650, ["duplicate-graph"]),
    "Classifier@36": ("Classifier", 2_212, ["duplicate-graph", "symbol-typo"]),
    "TinyMLPEncoder@42": ("TinyMLPEncoder", 336, []),
    "TinyMLPHead@44": ("TinyMLPHead", 85, []),
    "TinyMLPEncoder+TinyMLPHead": ("TinyMLP", 421, []),
}


def test_the_cases_cover_every_digraph_of_the_document() -> None:
    graphs = read_source(DOCUMENT).graphs
    assert {f"{g.name}@{g.location.line}" for g in graphs} == {k for k in EXPECTED if "+" not in k}


@pytest.mark.parametrize("graph", list(EXPECTED))
def test_every_digraph_compiles_with_its_warnings(graph: str) -> None:
    class_name, parameters, warnings = EXPECTED[graph]
    params = BLOCK_SIZES if "Block" in graph else None
    compiled = compile_spec(DOCUMENT, graph, params)
    assert compiled.class_name == class_name
    assert [d.code for d in compiled.report.diagnostics] == warnings
    assert all(d.severity == "warning" for d in compiled.report.diagnostics)
    model = instantiate(compiled)
    assert sum(p.numel() for p in model.parameters()) == parameters
    smoke_run(compiled, model)  # one forward pass on inputs of the declared shapes


def test_check_shows_every_warning_once_and_no_error() -> None:
    found = check_source(DOCUMENT, {})
    assert [(d.severity, d.code, d.location.line) for d in found if d.location] == [
        ("warning", "block-by-shape", 14),
        ("warning", "unclosed-bracket", 14),
        ("warning", "block-by-shape", 14),
        ("warning", "activation-range", 14),
        ("warning", "repeated-graph", 26),
        ("warning", "duplicate-graph", 36),
        ("warning", "symbol-typo", 36),
    ]
    [typo] = [d for d in found if d.code == "symbol-typo"]
    assert typo.message == (
        "node 'oup': symbol 'BatchSise' appears nowhere else and is one edit from 'BatchSize'; read as 'BatchSize'"
    )


def test_the_document_compiles_on_the_command_line(tmp_path: Path) -> None:
    result = run_cli("compile", DOCUMENT, "--graph", "SmallAutoEncoder", cwd=tmp_path)
    assert result.code == 0, result.stderr
    assert result.stdout.splitlines()[0] == "SmallAutoEncoder: 2,841 parameters on cpu"
    assert "self.conv1 = SAEConvBlock(block_in=3, block_out=8)" in (tmp_path / "SmallAutoEncoder.py").read_text()
    assert "self.upconv2 = SAEDeconvBlock(block_in=16, block_out=8)" in (tmp_path / "SmallAutoEncoder.py").read_text()
    ambiguous = run_cli("compile", DOCUMENT, "--graph", "Classifier", cwd=tmp_path)
    assert ambiguous.code == 1
    assert ambiguous.stderr == (
        f"{DOCUMENT}:1:1: error: digraph 'Classifier' is defined 2 times, differently (lines 32, 36); "
        "pick one with --graph Classifier@32 or --graph Classifier@36 [duplicate-graph]\n"
    )
