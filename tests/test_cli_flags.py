"""Every error that comes from a command-line value names the flag it came from."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import REPO, run_cli

CAE = REPO / "specs" / "ConvAutoEncoder.dot"


@pytest.mark.parametrize("command", ["compile", "check", "shapes", "summary"])
@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            'CAEConvBlock=__import__("os").system("id")',
            'Invalid value for --block: \'CAEConvBlock=__import__("os").system("id")\': '
            "the digraph name '__import__(\"os\").system(\"id\")' may hold only letters, digits and '_'",
        ),
        (
            "CAE.ConvBlock=CAEConvBlock",
            "Invalid value for --block: 'CAE.ConvBlock=CAEConvBlock': "
            "the op name 'CAE.ConvBlock' may hold only letters, digits and '_'",
        ),
    ],
)
def test_a_code_shaped_block_value_is_a_usage_error_naming_the_flag(
    command: str, value: str, message: str, tmp_path: Path
) -> None:
    result = run_cli(command, CAE, "--block", value, cwd=tmp_path)
    assert result.code == 2
    assert result.stderr.splitlines()[-1] == f"Error: {message}"
    assert list(tmp_path.iterdir()) == []


def test_an_unknown_graph_names_the_flag(tmp_path: Path) -> None:
    result = run_cli("shapes", CAE, "--graph", "Nope", cwd=tmp_path)
    assert result.code == 1
    assert result.stderr == (
        f"{CAE}:1:1: error: --graph Nope: no digraph named 'Nope'; the file holds ConvAutoEncoder (line 10) "
        "[graph-not-found]\n"
    )


def test_extract_into_a_device_names_the_flag(tmp_path: Path) -> None:
    result = run_cli("extract", REPO / "README.md", "-o", "/dev/null", cwd=tmp_path)
    assert result.code == 1
    assert result.stderr == "error: -o /dev/null: cannot write into it: it is not a folder [io-error]\n"


def test_extract_into_an_unmakeable_folder_names_the_flag(tmp_path: Path) -> None:
    folder = "x" * 300
    result = run_cli("extract", REPO / "README.md", "-o", folder, cwd=tmp_path)
    assert result.code == 1
    assert result.stderr == f"error: -o {folder}: cannot make the folder: File name too long [io-error]\n"


def test_render_into_a_missing_folder_names_the_flag(tmp_path: Path) -> None:
    result = run_cli("render", CAE, "-o", "missing/cae.svg", cwd=tmp_path)
    assert result.code == 1
    assert result.stderr == (
        "error: -o missing/cae.svg: cannot write the file: folder missing does not exist [io-error]\n"
    )


def test_compile_into_an_over_long_folder_name_names_the_flag(tmp_path: Path) -> None:
    target = "x" * 300 + "/LeNet.py"
    result = run_cli("compile", REPO / "specs" / "LeNet.dot", "-o", target, cwd=tmp_path)
    assert result.code == 1
    assert result.stderr == f"error: -o {target}: cannot write the file: File name too long [io-error]\n"
