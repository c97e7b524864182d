"""Slips a reader fixes are fixed once, in the graph view every tool reads (issue 12).

``BatchSise`` read as ``BatchSize`` and a label missing its last ``]`` are fixed where the
labels are parsed, so the model, the review warnings (lint) and the picture (render) all
read the same label, and a fixed slip gets its one warning, nothing more.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dotnet.analysis.resolve import Library
from dotnet.reading.sources import read_source
from dotnet.tools.check import check_source
from dotnet.tools.lint import Linter
from tests.conftest import run_cli

SPEC = """digraph Net {
    inp [label="输入\\n[BatchSize, 784]", shape=Mrecord]
    fc [label="Linear[784, 10]"]
    mid [label="[BatchSise, 10]", shape=Mrecord]
    act [label="Softmax"]
    oup [label="输出(概率)\\n[BatchSize, 10", shape=Mrecord]
    inp -> fc -> mid -> act -> oup
}
"""


@pytest.fixture
def path(tmp_path: Path) -> Path:
    spec = tmp_path / "Net.dot"
    spec.write_text(SPEC, encoding="utf-8")
    return spec


def test_each_fixed_slip_gets_its_one_warning_and_nothing_else(path: Path) -> None:
    assert [d.format_text().replace(str(path.parent) + "/", "") for d in check_source(path, {})] == [
        "Net.dot:4:5: warning: node 'mid': symbol 'BatchSise' appears nowhere else and is one edit from "
        "'BatchSize'; read as 'BatchSize' [symbol-typo]",
        "Net.dot:6:5: warning: node 'oup': shape '输出(概率) [BatchSize, 10' lacks its closing ']' [unclosed-bracket]",
    ]


def test_lint_reads_the_fixed_labels(path: Path) -> None:
    library = Library(read_source(path))
    dot = library.source.graph_named("Net")
    assert dot is not None
    view = Linter(library).view(dot)
    assert [str(d.size) for d in view.tensors["mid"].dims] == ["BatchSize", "10"]
    assert view.text_as_read("mid") == "[BatchSize, 10]"
    assert view.text_as_read("oup") == "输出(概率)\\n[BatchSize, 10]"
    assert Linter(library).lint(dot) == []  # the output is called probabilities and has its softmax


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_render_draws_the_labels_as_read(path: Path, tmp_path: Path) -> None:
    result = run_cli("render", path, "-o", tmp_path / "net.svg", cwd=tmp_path)
    assert result.code == 0, result.stderr
    drawn = (tmp_path / "net.svg").read_text(encoding="utf-8")
    assert "BatchSise" not in drawn.replace("symbol &#39;BatchSise&#39;", "")  # only the warning quotes it
    assert ">[BatchSize, 10]</text>" in drawn
