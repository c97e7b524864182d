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
def test_render_depth_1_draws_blocks_as_clusters(tmp_path: Path) -> None:
    out = tmp_path / "cae.svg"
    result = run_cli("render", "specs/ConvAutoEncoder.dot", "-o", out, "--depth", "1", cwd=REPO)
    assert result.code == 0, result.stderr
    svg = out.read_text(encoding="utf-8")
    assert svg.count('class="cluster"') == 6
    assert "[BatchSize, W=128, H=128, C=16]" in svg  # a caller's edge
    assert "[BatchSize, W=BlockW/2, H=BlockH/2, C=BlockOut]" in svg  # an edge inside a block
    edges = [g for g in ElementTree.fromstring(svg).iter(f"{SVG}g") if g.get("class") == "edge"]
    assert len(edges) == 13 + 6 * 5  # the caller's edges, then five inside each block
    assert all(any((t.text or "").startswith("[") for t in g.iter(f"{SVG}text")) for g in edges)


@needs_dot
def test_render_draws_each_call_as_one_box_with_its_concrete_shape_by_default(tmp_path: Path) -> None:
    out = tmp_path / "cae.svg"
    result = run_cli("render", "specs/ConvAutoEncoder.dot", "-o", out, cwd=REPO)
    assert result.code == 0, result.stderr
    svg = ElementTree.fromstring(out.read_text(encoding="utf-8"))
    assert not [g for g in svg.iter(f"{SVG}g") if g.get("class") == "cluster"]
    nodes = {
        g.findtext(f"{SVG}title"): [t.text for t in g.iter(f"{SVG}text")]
        for g in svg.iter(f"{SVG}g")
        if g.get("class") == "node"
    }
    assert len(nodes) == 14
    assert ["CAEConvBlock1", "[In=InC, Out=16]", "-> [BatchSize, W=128, H=128, C=16]"] in nodes.values()
    edges = [g for g in svg.iter(f"{SVG}g") if g.get("class") == "edge"]
    assert len(edges) == 13
    assert "BlockW" not in out.read_text(encoding="utf-8")


@needs_dot
def test_every_spec_is_drawn_under_2000_px_at_the_default_depth(tmp_path: Path) -> None:
    image = pytest.importorskip("PIL.Image")
    sizes = {}
    for spec in sorted((REPO / "specs").glob("*.dot")):
        out = tmp_path / f"{spec.stem}.png"
        result = run_cli("render", spec, "-o", out)
        assert result.code == 0, result.stderr
        with image.open(out) as picture:
            sizes[spec.stem] = max(picture.size)
    assert len(sizes) == 53  # every spec in specs/
    assert {name: size for name, size in sizes.items() if size >= 2000} == {}


@needs_dot
def test_render_warns_when_no_font_draws_a_script(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dotnet.tools import fonts

    monkeypatch.setattr(fonts, "has_font", lambda chars: chars.isascii())
    result = CliRunner().invoke(main, ["render", str(REPO / "specs/LeNet.dot"), "-o", str(tmp_path / "l.png")])
    assert result.exit_code == 0, result.output
    (warning,) = [line for line in result.output.splitlines() if "[missing-font]" in line]
    assert warning == (
        f"{REPO / 'specs/LeNet.dot'}:20:5: warning: node 'inp': no installed font draws the CJK characters of its "
        "label ('输入'), so the picture shows them as empty boxes: install a CJK font (Debian: apt-get install "
        "fonts-noto-cjk; macOS has one) [missing-font]"
    )
    svg = CliRunner().invoke(main, ["render", str(REPO / "specs/LeNet.dot"), "-o", str(tmp_path / "l.svg")])
    assert "[missing-font]" not in svg.output  # an SVG's viewer draws the glyphs with its own fonts


def test_missing_scripts_groups_characters_by_script(monkeypatch: pytest.MonkeyPatch) -> None:
    from dotnet.tools import fonts

    asked: list[str] = []
    monkeypatch.setattr(fonts, "has_font", lambda chars: asked.append(chars) or chars == "σ")
    assert fonts.missing_scripts("输入 [BatchSize, 10] σ(x) 输出") == {"CJK": "输入出"}
    assert asked == ["输入出", "σ"]  # one question per script, none for ASCII


def test_without_fontconfig_nothing_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    from dotnet.tools import fonts

    fonts.has_font.cache_clear()
    monkeypatch.setattr(fonts.shutil, "which", lambda name: None)
    assert fonts.missing_scripts("输入") == {}
    fonts.has_font.cache_clear()


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
