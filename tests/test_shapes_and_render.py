"""``dotnet shapes`` prints every tensor's shape; ``dotnet render`` draws them with Graphviz."""

from __future__ import annotations

import shutil
from pathlib import Path
from xml.etree import ElementTree

import pytest
from click.testing import CliRunner

from dotnet.cli import main
from tests.conftest import REPO, run_cli

SVG = "{http://www.w3.org/2000/svg}"
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")


def test_shapes_of_a_block_stay_symbolic_with_its_constraints() -> None:
    result = run_cli("shapes", "specs/CAEConvBlock.dot", cwd=REPO)
    assert result.code == 0, result.stderr
    assert result.stdout.splitlines() == [
        "digraph CAEConvBlock (specs/CAEConvBlock.dot:4:1)",
        "NODE       KIND                                        "
        "DIAGRAM                                          PYTORCH",
        "inp        input                                       [BatchSize, W=BlockW, H=BlockH, C=BlockIn]       "
        "(BatchSize, BlockIn, BlockH, BlockW)",
        "conv       Conv2D[K=3, P=1, In=BlockIn, Out=BlockOut]  [BatchSize, W=BlockW, H=BlockH, C=BlockOut]      "
        "(BatchSize, BlockOut, BlockH, BlockW)",
        "batchnorm  BatchNorm(BlockOut)                         [BatchSize, W=BlockW, H=BlockH, C=BlockOut]      "
        "(BatchSize, BlockOut, BlockH, BlockW)",
        "relu       Relu                                        [BatchSize, W=BlockW, H=BlockH, C=BlockOut]      "
        "(BatchSize, BlockOut, BlockH, BlockW)",
        "maxpool    MaxPool2D[K=2, S=2]                         [BatchSize, W=BlockW/2, H=BlockH/2, C=BlockOut]  "
        "(BatchSize, BlockOut, BlockH/2, BlockW/2)",
        "oup        output                                      [BatchSize, W=BlockW/2, H=BlockH/2, C=BlockOut]  "
        "(BatchSize, BlockOut, BlockH/2, BlockW/2)",
        "constraints:",
        "  BlockH even  (node 'maxpool', specs/CAEConvBlock.dot:18:5)",
        "  BlockW even  (node 'maxpool', specs/CAEConvBlock.dot:18:5)",
    ]


def test_shapes_of_a_spec_with_errors_prints_the_errors() -> None:
    result = run_cli("shapes", "tests/data/check/shape_error.dot", cwd=REPO)
    assert result.code == 1
    assert result.stdout == ""
    assert "[shape-mismatch]" in result.stderr


@needs_dot
def test_render_labels_every_edge_and_draws_blocks_as_clusters(tmp_path: Path) -> None:
    out = tmp_path / "cae.svg"
    result = run_cli("render", "specs/ConvAutoEncoder.dot", "-o", out, cwd=REPO)
    assert result.code == 0, result.stderr
    svg = out.read_text(encoding="utf-8")
    assert svg.count('class="cluster"') == 6
    assert "[BatchSize, W=128, H=128, C=16]" in svg  # a caller's edge
    assert "[BatchSize, W=BlockW/2, H=BlockH/2, C=BlockOut]" in svg  # an edge inside a block
    edges = [g for g in ElementTree.fromstring(svg).iter(f"{SVG}g") if g.get("class") == "edge"]
    assert len(edges) == 13 + 6 * 5  # the caller's edges, then five inside each block
    assert all(any((t.text or "").startswith("[") for t in g.iter(f"{SVG}text")) for g in edges)


@needs_dot
def test_render_marks_nodes_with_errors_and_exits_1(tmp_path: Path) -> None:
    out = tmp_path / "bad.png"
    result = run_cli("render", "tests/data/check/shape_error.dot", "-o", out, cwd=REPO)
    assert result.code == 1
    assert out.read_bytes().startswith(b"\x89PNG")
    svg_out = tmp_path / "bad.svg"
    run_cli("render", "tests/data/check/shape_error.dot", "-o", svg_out, cwd=REPO)
    svg = svg_out.read_text(encoding="utf-8")
    assert "error: shape&#45;mismatch" in svg
    assert 'stroke="#c0392b"' in svg


def test_render_without_graphviz_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    result = CliRunner().invoke(
        main, ["render", str(REPO / "specs" / "ConvAutoEncoder.dot"), "-o", str(tmp_path / "x.svg")]
    )
    assert result.exit_code == 1
    assert "apt-get install graphviz" in result.output
    assert "[graphviz-missing]" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_render_only_writes_svg_or_png(tmp_path: Path) -> None:
    result = run_cli("render", "specs/ConvAutoEncoder.dot", "-o", tmp_path / "x.pdf", cwd=REPO)
    assert result.code == 2
    assert "write a .svg or .png file" in result.stderr
