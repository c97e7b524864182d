"""The generated code for every spec matches its reviewed golden copy, and passes ruff."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from tests.golden_files import GOLDEN, generate, golden_path, specs


@pytest.mark.parametrize("spec", specs(), ids=lambda p: p.stem)
def test_generated_code_matches_golden(spec):
    expected = golden_path(spec)
    assert expected.is_file(), f"no golden copy for {spec.name}: run python -m tests.golden_files"
    assert generate(spec) == expected.read_text(encoding="utf-8"), (
        f"generated code for {spec.name} changed: review, then run python -m tests.golden_files"
    )


def test_every_golden_file_has_a_spec():
    assert sorted(p.stem for p in GOLDEN.glob("*.py")) == sorted(p.stem for p in specs())


def test_golden_files_pass_ruff():
    ruff = shutil.which("ruff") or shutil.which("ruff", path=str(__import__("pathlib").Path(sys.executable).parent))
    if ruff is None:
        pytest.skip("ruff is not installed")
    result = subprocess.run(
        [ruff, "check", "--no-cache", "--isolated", "--select", "E,F,W", str(GOLDEN)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
