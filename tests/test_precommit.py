"""The pre-commit hook runs dotnet check on .dot files, as pre-commit would call it."""

from __future__ import annotations

import re
import shlex

from tests.conftest import REPO, run_cli


def hook() -> dict[str, str]:
    """The one hook's keys and values (the file is flat YAML: PyYAML is not a dependency)."""
    fields: dict[str, str] = {}
    for line in (REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.strip().removeprefix("- ").partition(": ")
            fields[key] = value
    return fields


def test_the_hook_checks_dot_files_with_python() -> None:
    found = hook()
    assert found["id"] == "dotnet-check"
    assert found["language"] == "python"
    files = re.compile(found["files"])
    assert files.search("specs/ConvAutoEncoder.dot")
    assert not files.search("README.md")
    assert not files.search("specs/x.dot.bak")


def test_the_hook_entry_runs_as_pre_commit_runs_it() -> None:
    """pre-commit appends the staged file names to the entry."""
    argv = shlex.split(hook()["entry"])
    assert argv[:3] == ["python", "-m", "dotnet"]
    clean = run_cli(*argv[3:], "specs/CAEConvBlock.dot", "specs/CAEDeconvBlock.dot", cwd=REPO)
    assert clean.code == 0, clean.stderr
    failing = run_cli(*argv[3:], "tests/data/check/shape_error.dot", cwd=REPO)
    assert failing.code == 1
