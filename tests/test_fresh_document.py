"""The prose document tests/data/documents/fresh-models.md (issue 12): models drawn afresh in
the seed style, as another author would draw them, with that author's slips.

Every digraph compiles, and each gets exactly the warnings its slips call for: a tensor drawn
as a box, a label missing its ``]``, a block pasted twice, a full-width comma, a one-letter
symbol typo, an output used in an edge but never declared. One output is a record of fields.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("torch")

from dotnet import compile_spec  # noqa: E402
from dotnet.reading.sources import read_source  # noqa: E402
from dotnet.runtime import instantiate, smoke_run  # noqa: E402
from dotnet.tools.check import check_source  # noqa: E402
from tests.conftest import REPO, run_cli  # noqa: E402

DOCUMENT = REPO / "tests" / "data" / "documents" / "fresh-models.md"
BLOCK_SIZES = {"BlockIn": 8, "BlockOut": 4}
"""Constructor values for the up block, compiled on its own."""

EXPECTED = {
    # --graph: (parameters, warning codes)
    "StackedAutoEncoder@12": (435_536, ["tensor-shape"]),
    "DenoisingAutoEncoder@20": (209_968, ["unclosed-bracket"]),
    "DCGAN@47": (3_576_704, ["repeated-graph"]),
    "DCGANUpBlock@51": (520, ["repeated-graph"]),
    "DCGANUpBlock@55": (520, ["repeated-graph"]),
    "TextCNN@63": (794_502, ["full-width"]),
    "CVAE@71": (660_824, ["symbol-typo", "undeclared-output"]),
    "AttentionBlock@78": (49_984, []),
    "Discriminator@85": (167_168, []),
    "LSTMClassifier@107": (1_632_069, []),
    "TinyUNet@114": (6_930, []),
}


def test_the_cases_cover_every_digraph_of_the_document() -> None:
    graphs = read_source(DOCUMENT).graphs
    assert {f"{g.name}@{g.location.line}" for g in graphs} == set(EXPECTED)


@pytest.mark.parametrize("graph", list(EXPECTED))
def test_every_digraph_compiles_with_its_warnings(graph: str) -> None:
    parameters, warnings = EXPECTED[graph]
    compiled = compile_spec(DOCUMENT, graph, BLOCK_SIZES if graph.startswith("DCGANUpBlock") else None)
    assert compiled.class_name == graph.split("@")[0]
    assert [d.code for d in compiled.report.diagnostics] == warnings
    assert all(d.severity == "warning" for d in compiled.report.diagnostics)
    model = instantiate(compiled)
    assert sum(p.numel() for p in model.parameters()) == parameters
    smoke_run(compiled, model)


def test_check_names_each_slip_where_it_is() -> None:
    found = check_source(DOCUMENT, {})
    assert [(d.severity, d.code, d.location.line, d.message) for d in found if d.location] == [
        (
            "warning",
            "tensor-shape",
            12,
            "node 'oup': label 'output [BatchSize, NFeature]' is a tensor but the node is not drawn "
            "shape=Mrecord; read as a tensor",
        ),
        ("warning", "unclosed-bracket", 31, "node 'e2': label 'Linear#2 [128, 32' lacks its closing ']'"),
        (
            "warning",
            "repeated-graph",
            55,
            "digraph 'DCGANUpBlock' is written again, the same as at line 51: one digraph",
        ),
        ("warning", "full-width", 63, "node 'fc': full-width punctuation read as ASCII: '，' as ','"),
        (
            "warning",
            "symbol-typo",
            71,
            "node 'fc_lv': symbol 'NLatant' appears nowhere else and is one edit from 'NLatent'; read as 'NLatent'",
        ),
        (
            "warning",
            "undeclared-output",
            71,
            "node 'recon' is used in an edge but never declared; as the graph's only sink it is read as the "
            "output, of shape [BatchSize, NFeature]",
        ),
    ]


def test_the_document_compiles_on_the_command_line(tmp_path: Path) -> None:
    result = run_cli("compile", DOCUMENT, "--graph", "CVAE", cwd=tmp_path)
    assert result.code == 0, result.stderr
    assert result.stdout.splitlines()[0] == "CVAE: 660,824 parameters on cpu"
    source = (tmp_path / "CVAE.py").read_text()
    assert "torch.randn(" in source
    assert "def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:" in source
