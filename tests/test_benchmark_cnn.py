"""The CNN benchmark runs and prints a ratio per model (a smoke test; timings are not asserted)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import REPO

pytest.importorskip("torch")


def test_benchmark_prints_a_row_per_model() -> None:
    command = [sys.executable, str(REPO / "benchmarks" / "cnn.py"), "--models", "LeNet", "--batch", "2"]
    proc = subprocess.run(command + ["--repeat", "1", "--warmup", "0"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    row = proc.stdout.splitlines()[-1].split()
    assert row[0] == "LeNet" and row[1] == "2" and row[-1] == "yes"
    assert float(row[4]) > 0 and float(row[5]) > 0


def test_benchmark_rejects_an_unknown_model() -> None:
    command = [sys.executable, str(REPO / "benchmarks" / "cnn.py"), "--models", "Nope"]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0 and "unknown model(s) Nope" in proc.stderr
