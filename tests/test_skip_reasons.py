"""A run that skips tests says, just above its last line, how many skipped for which reason."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO


def test_skips_are_counted_by_reason_above_the_last_line(tmp_path: Path) -> None:
    (tmp_path / "test_some_skip.py").write_text(
        "import pytest\n"
        "def test_a(): pytest.skip('the seed documents are not beside this checkout')\n"
        "def test_b(): pytest.skip('the seed documents are not beside this checkout')\n"
        "def test_c(): pytest.importorskip('no_such_module_here')\n"
        "def test_d(): pass\n",
        encoding="utf-8",
    )
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "tests.conftest", "-p", "no:cacheprovider", "test_some_skip.py"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = proc.stdout.splitlines()
    assert proc.returncode == 0, proc.stdout
    assert lines[-4].startswith("-") and "skipped, by reason" in lines[-4]
    assert lines[-3:-1] == [
        "   2 the seed documents are not beside this checkout",
        "   1 could not import 'no_such_module_here': No module named 'no_such_module_here'",
    ]
    assert lines[-1].startswith("1 passed, 3 skipped")
