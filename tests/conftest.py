"""Shared fixtures: paths to the repo's specs and the seed documents, and a CLI runner."""

from __future__ import annotations

import atexit
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import settings

# CI replays the same examples every run, so a red CI is reproducible and never a dice roll;
# a developer's run explores new examples each time.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

REPO = Path(__file__).resolve().parent.parent
SPECS = REPO / "specs"
SEEDS = REPO.parent / "shared" / "seeds"
SEED_DOCUMENT = SEEDS / "000_ca368239ef12f29f.txt"
CNN_DOCUMENT = SEEDS / "003_3137d31b0d265de7.txt"


CACHE = Path(tempfile.mkdtemp(prefix="dotnet-test-cache-"))
os.environ["DOTNET_CACHE_DIR"] = str(CACHE)  # tests never write into the user's cache
atexit.register(shutil.rmtree, CACHE, ignore_errors=True)


def load_benchmark(name: str) -> ModuleType:
    """The module ``benchmarks/<name>.py``; a benchmark importing a sibling needs ``benchmarks/`` on sys.path."""
    spec = importlib.util.spec_from_file_location(name, REPO / "benchmarks" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str


def run_cli(*args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None) -> CliResult:
    """Run ``python -m dotnet ARGS`` as a user would, in a separate process."""
    full_env = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    proc = subprocess.run(
        [sys.executable, "-m", "dotnet", *map(str, args)],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def seed_document() -> Path:
    if not SEED_DOCUMENT.is_file():
        pytest.skip("the seed documents (../shared/seeds) are not beside this checkout")
    return SEED_DOCUMENT


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> Generator[None, None, None]:
    """Just above pytest's last line, how many tests skipped for each reason (a plain clone skips some)."""
    yield
    reasons: dict[str, int] = {}
    for report in terminalreporter.stats.get("skipped", []):
        if isinstance(report.longrepr, tuple):
            reason = report.longrepr[2].removeprefix("Skipped: ")
            reasons[reason] = reasons.get(reason, 0) + 1
    if reasons:
        terminalreporter.write_sep("-", "skipped, by reason")
        for reason, count in sorted(reasons.items(), key=lambda item: -item[1]):
            terminalreporter.write_line(f"{count:4} {reason}")
