"""``dotnet check`` over a folder reports every file, whatever one file does: a file that
breaks dotnet gets its own error and the others are still checked; JSON is always valid and
text and github output keep one diagnostic per line, whatever the file names hold."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from dotnet.cli import main
from dotnet.diagnostics import Diagnostic, Location, printable
from dotnet.tools.lint import Linter
from dotnet.tools.report_formats import format_github, format_json
from tests.conftest import REPO, run_cli

SHAPE_ERROR = (REPO / "tests" / "data" / "check" / "shape_error.dot").read_text(encoding="utf-8")
MISMATCH = "node 'oup': declared [BatchSize, NHidden] but 'lin' produces [BatchSize, NOut]"


def nested_blocks(depth: int) -> str:
    """A document of ``depth`` digraphs, each calling the next as a block: deeper than Python's stack."""
    callees = [f"B{i}" for i in range(1, depth)] + ["Relu"]
    graphs = [
        f'digraph B{i} {{ inp [label="[N, C]", shape="Mrecord"]; op [label="{callee}"];'
        f' oup [label="[N, C]", shape="Mrecord"]; inp -> op -> oup }}'
        for i, callee in enumerate(callees)
    ]
    return "\n".join(graphs)


def test_a_file_nested_too_deeply_gets_its_own_error_and_json_stays_whole(tmp_path: Path) -> None:
    (tmp_path / "a.dot").write_text(SHAPE_ERROR, encoding="utf-8")
    (tmp_path / "deep.dot").write_text(nested_blocks(2000), encoding="utf-8")
    (tmp_path / "z.dot").write_text(SHAPE_ERROR, encoding="utf-8")
    result = run_cli("check", "--format", "json", tmp_path)
    assert result.code == 1, result.stderr
    found = [(Path(d["file"]).name, d["line"], d["code"], d["message"]) for d in json.loads(result.stdout)]
    assert [f for f in found if f[0] != "deep.dot"] == [
        ("a.dot", 4, "shape-mismatch", MISMATCH),
        ("z.dot", 4, "shape-mismatch", MISMATCH),
    ]
    deep = [f for f in found if f[0] == "deep.dot"]  # the block-nesting limit, at each 64th call
    assert deep[0] == ("deep.dot", 64, "too-large", "node 'op': calling B64 here nests block calls more than 64 deep")
    assert {f[2] for f in deep} == {"too-large"}


def test_a_bug_on_one_file_is_reported_on_it_and_the_others_are_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lint = Linter.lint

    def broken_on_boom(self: Linter, dot):  # type: ignore[no-untyped-def]
        if dot.name == "Boom":
            raise ValueError("a bug")
        return lint(self, dot)

    monkeypatch.setattr(Linter, "lint", broken_on_boom)
    (tmp_path / "a.dot").write_text(SHAPE_ERROR, encoding="utf-8")
    (tmp_path / "boom.dot").write_text(SHAPE_ERROR.replace("ShapeError", "Boom"), encoding="utf-8")
    (tmp_path / "z.dot").write_text(SHAPE_ERROR, encoding="utf-8")
    result = CliRunner().invoke(main, ["check", "--format", "json", str(tmp_path)])
    assert result.exit_code == 3  # a bug in dotnet, after every file is reported
    found = [(Path(d["file"]).name, d["code"], d["message"]) for d in json.loads(result.stdout)]
    assert found == [
        ("a.dot", "shape-mismatch", MISMATCH),
        (
            "boom.dot",
            "internal-error",
            "dotnet failed on this file: ValueError: a bug (please report it with the file)",
        ),
        ("z.dot", "shape-mismatch", MISMATCH),
    ]


@pytest.fixture
def awkward_names(tmp_path: Path) -> Path:
    """A folder of one spec under three names: plain, with a line break, with a byte that is not UTF-8."""
    folder = tmp_path / "specs"
    folder.mkdir()
    for name in (b"a.dot", b"b\nc.dot", b"d\xffe.dot"):
        with open(os.path.join(os.fsencode(folder), name), "w", encoding="utf-8") as f:
            f.write(SHAPE_ERROR)
    return folder


def test_json_is_valid_whatever_the_file_names(awkward_names: Path) -> None:
    result = run_cli("check", "--format", "json", awkward_names)
    assert result.code == 1
    assert [Path(d["file"]).name for d in json.loads(result.stdout)] == ["a.dot", "b\nc.dot", "d\\xffe.dot"]


def test_text_has_one_line_per_diagnostic_whatever_the_file_names(awkward_names: Path) -> None:
    result = run_cli("check", awkward_names)
    assert result.code == 1
    assert result.stderr.splitlines() == [
        f"{awkward_names}/{name}:4:5: error: {MISMATCH} [shape-mismatch]"
        for name in ("a.dot", "b\\nc.dot", "d\\xffe.dot")
    ] + ["Found 3 errors (checked 3 files)"]


def test_github_has_one_line_per_diagnostic_whatever_the_file_names(awkward_names: Path) -> None:
    result = run_cli("check", "--format", "github", awkward_names)
    assert result.code == 1
    files = [line.split(",")[0] for line in result.stdout.splitlines()]
    assert files == [f"::error file={awkward_names}/{name}" for name in ("a.dot", "b%0Ac.dot", "d\\xffe.dot")]


def test_messages_are_kept_on_one_line_and_encodable() -> None:
    d = Diagnostic("error", "bad-label", "line\nbreak\r, bell\x07, \u2028, \u202e, \udcff", Location("f.dot", 1))
    assert d.format_text() == "f.dot:1:1: error: line\\nbreak\\r, bell\\x07, \\u2028, \\u202e, \\xff [bad-label]"
    assert format_github([d]) == [
        "::error file=f.dot,line=1,col=1,title=bad-label::line%0Abreak%0D, bell\\x07, \\u2028, \\u202e, \\xff"
    ]
    [data] = json.loads(format_json([d]))
    assert data["message"] == "line\nbreak\r, bell\x07, \u2028, \u202e, \\xff"
    assert printable("tab\tstays, 漢字 stay") == "tab\tstays, 漢字 stay"


def test_compiling_a_file_nested_too_deeply_is_a_located_error(tmp_path: Path) -> None:
    (tmp_path / "deep.dot").write_text(nested_blocks(2000), encoding="utf-8")
    result = run_cli("compile", "deep.dot", "--graph", "B0", cwd=tmp_path)
    assert result.code == 1
    assert result.stderr == (
        "deep.dot:64:54: error: node 'op': calling B64 here nests block calls more than 64 deep [too-large]\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deep.dot"]


def test_a_path_too_long_to_exist_is_an_error_on_that_path(tmp_path: Path) -> None:
    path = "x" * 300 + "/a.dot"
    result = run_cli("check", path, cwd=tmp_path)
    assert result.code == 1
    assert result.stderr.splitlines()[0] == f"{path}:1:1: error: cannot read the file: File name too long [io-error]"


def test_an_op_name_too_long_for_a_file_name_is_an_unknown_op(tmp_path: Path) -> None:
    name = "X" * 300
    spec = SHAPE_ERROR.replace('"Linear\\n[NIn, NOut]"', f'"{name}"')
    (tmp_path / "long.dot").write_text(spec, encoding="utf-8")
    result = run_cli("check", "long.dot", cwd=tmp_path)
    assert result.code == 1
    assert [line.rsplit(" ", 1)[-1] for line in result.stderr.splitlines()[:-1]] == ["[unknown-op]"]
