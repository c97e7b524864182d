"""``dotnet check``: exact diagnostics for each case in tests/data/check, formats, exit codes, silencing.

Each case file lists the diagnostics it must produce after the digraph, one per
``// expect: LINE:COL: severity: message [code]`` comment (mypy's test-data style).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dotnet import codes
from dotnet.diagnostics import Diagnostic, Location
from dotnet.tools.check import check_paths, check_source
from dotnet.tools.report_formats import format_github, summary
from tests.conftest import REPO, run_cli

CASES = REPO / "tests" / "data" / "check"
RELU_TANH = """digraph ReluTanh {
    inp [label="[BatchSize, N]", shape="Mrecord"]
    relu [label="Relu"]
    tanh [label="Tanh"]
    oup [label="[BatchSize, N]", shape="Mrecord"]
    inp -> relu -> tanh -> oup
}
"""


def expected(case: Path) -> list[str]:
    prefix = "// expect: "
    return [line[len(prefix) :] for line in case.read_text(encoding="utf-8").splitlines() if line.startswith(prefix)]


@pytest.mark.parametrize("case", sorted(CASES.glob("*.dot")), ids=lambda p: p.stem)
def test_case_diagnostics_exactly(case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    display = f"tests/data/check/{case.name}"
    found = [d.format_text() for d in check_source(Path(display), {})]
    assert found == [f"{display}:{line}" for line in expected(case)]


def test_cli_text_goes_to_stderr_with_a_summary() -> None:
    result = run_cli("check", "tests/data/check/shape_error.dot", cwd=REPO)
    assert result.code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "tests/data/check/shape_error.dot:4:5: error: node 'oup': declared [BatchSize, NHidden] "
        "but 'lin' produces [BatchSize, NOut] [shape-mismatch]",
        "Found 1 error (checked 1 file)",
    ]


def test_cli_json_is_one_object_per_diagnostic() -> None:
    result = run_cli("check", "--format", "json", "tests/data/check/cell_names.dot", cwd=REPO)
    assert result.code == 0, result.stderr
    data = json.loads(result.stdout)
    assert [(d["line"], d["col"], d["severity"], d["code"]) for d in data] == [
        (3, 1, "warning", "cell-name"),
        (15, 1, "warning", "cell-name"),
    ]
    assert data[0]["file"] == "tests/data/check/cell_names.dot"
    assert set(data[0]) == {"file", "line", "col", "severity", "code", "message", "node"}


def test_cli_github_annotations() -> None:
    result = run_cli("check", "--format", "github", "tests/data/check/shape_error.dot", cwd=REPO)
    assert result.code == 1
    assert result.stdout.splitlines() == [
        "::error file=tests/data/check/shape_error.dot,line=4,col=5,title=shape-mismatch::"
        "node 'oup': declared [BatchSize, NHidden] but 'lin' produces [BatchSize, NOut]"
    ]


def test_github_escapes_what_would_end_a_command() -> None:
    d = Diagnostic("note", "bad-label", "a: 100%\nnext", Location("dir,x/a:b.dot", 2, 3))
    assert format_github([d]) == ["::notice file=dir%2Cx/a%3Ab.dot,line=2,col=3,title=bad-label::a: 100%25%0Anext"]


def test_warnings_pass_unless_strict(tmp_path: Path) -> None:
    spec = tmp_path / "ReluTanh.dot"
    spec.write_text(RELU_TANH, encoding="utf-8")
    assert run_cli("check", spec).code == 0
    strict = run_cli("check", "--strict", spec)
    assert strict.code == 1
    assert "[activation-range]" in strict.stderr


def test_ignore_on_the_command_line(tmp_path: Path) -> None:
    spec = tmp_path / "ReluTanh.dot"
    spec.write_text(RELU_TANH, encoding="utf-8")
    result = run_cli("check", "--strict", "--ignore", "isolated-node,activation-range", spec)
    assert result.code == 0, result.stderr
    assert result.stderr == "Success: no problems found (checked 1 file)\n"


def test_ignoring_an_unknown_code_is_a_usage_error() -> None:
    result = run_cli("check", "--ignore", "no-such-code", "tests/data/check/isolated.dot", cwd=REPO)
    assert result.code == 2
    assert "no diagnostic code 'no-such-code'" in result.stderr


def test_errors_cannot_be_ignored() -> None:
    result = check_paths([CASES / "shape_error.dot"], {}, [codes.SHAPE_MISMATCH])
    assert [d.code for d in result.diagnostics] == [codes.SHAPE_MISMATCH]


def test_a_folder_means_every_dot_file_inside_it(tmp_path: Path) -> None:
    (tmp_path / "nested" / "deeper").mkdir(parents=True)
    (tmp_path / ".hidden").mkdir()
    (tmp_path / "nested" / "deeper" / "ReluTanh.dot").write_text(RELU_TANH, encoding="utf-8")
    (tmp_path / "nested" / "Broken.gv").write_text("digraph Broken { a -> }", encoding="utf-8")
    (tmp_path / ".hidden" / "Skipped.dot").write_text("not dot at all", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("digraph NotChecked { a -> }", encoding="utf-8")
    result = check_paths([tmp_path], {})
    assert result.files == 2
    assert [(Path(d.location.file).name, d.code) for d in result.diagnostics if d.location] == [
        ("Broken.gv", "syntax-error"),
        ("ReluTanh.dot", "activation-range"),
    ]
    assert summary(result.diagnostics, result.files) == "Found 1 error and 1 warning (checked 2 files)"


def test_an_empty_folder_is_an_error(tmp_path: Path) -> None:
    result = run_cli("check", tmp_path)
    assert result.code == 1
    assert f"{tmp_path}:1:1: error: the folder holds no .dot or .gv file [no-digraph]" in result.stderr


def test_the_readmes_ci_command_passes_on_the_repository_specs() -> None:
    result = run_cli("check", "--strict", "--format", "github", "specs/", cwd=REPO)
    assert (result.code, result.stdout) == (0, ""), result.stdout + result.stderr


def test_a_block_problem_is_reported_once(tmp_path: Path) -> None:
    (tmp_path / "Inner.dot").write_text(
        'digraph Inner { i [label="[B, N]", shape="Mrecord"] r [label="Relu"] '
        'o [label="[B, N", shape="Mrecord"] i -> r -> o }',
        encoding="utf-8",
    )
    (tmp_path / "Outer.dot").write_text(
        'digraph Outer { i [label="[B, N]", shape="Mrecord"] c [label="Inner"] '
        'o [label="[B, N]", shape="Mrecord"] i -> c -> o }',
        encoding="utf-8",
    )
    result = check_paths([tmp_path], {})
    assert [d.code for d in result.diagnostics] == ["unclosed-bracket"]


def test_warnings_from_any_stage_are_silenced_on_their_node(tmp_path: Path) -> None:
    """Not only review warnings: a warning the label reader gives (or an op, such as a
    formula's reference without an edge) is silenced by the node's dotnet_ignore too."""
    spec = tmp_path / "A.dot"
    spec.write_text(
        'digraph A { a [label="[N", shape=Mrecord, dotnet_ignore="unclosed-bracket"] '
        'b [label="[N", shape=Mrecord] r [label="Relu"] s [label="Relu"] o [label="[N]", shape=Mrecord] '
        'p [label="[N]", shape=Mrecord] a -> r -> o  b -> s -> p }',
        encoding="utf-8",
    )
    assert [(d.node, d.code) for d in check_source(spec, {})] == [("b", "unclosed-bracket")]
