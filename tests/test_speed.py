"""What makes ``dotnet check`` fast enough for CI, tested without timing anything:
it never imports torch, and the benchmark's specs are valid (benchmarks/RESULTS.md has the numbers)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dotnet.reading.dot import parse_dot
from dotnet.tools.check import check_source
from tests.conftest import REPO

PROBE = """
import sys
from dotnet.cli import main
for args in ({args}):
    try:
        main(list(args), standalone_mode=False)
    except SystemExit:
        pass
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "numpy", "pydot"))
print("imported:", heavy)
"""


@pytest.mark.parametrize(
    "args",
    [("check", "specs/"), ("check", "--format", "json", "specs/"), ("shapes", "specs/CAEConvBlock.dot")],
    ids=["check", "check-json", "shapes"],
)
def test_commands_that_read_specs_import_no_torch(args: tuple[str, ...]) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE.format(args=repr((args,)))],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(REPO), "PATH": ""},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "imported: []"


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_the_benchmark_specs_are_valid_and_read_alike_by_both_parsers(tmp_path: Path) -> None:
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        from parse_scaling import chain_spec
    finally:
        sys.path.remove(str(REPO / "benchmarks"))
    import pydot

    for nodes in (40, 41):
        text = chain_spec(nodes)
        path = tmp_path / f"Chain{nodes}.dot"
        path.write_text(text, encoding="utf-8")
        assert check_source(path, {}) == []
        (ours,) = parse_dot(text, str(path))
        (theirs,) = pydot.graph_from_dot_data(text)
        assert len(ours.nodes) == len([n for n in theirs.get_nodes() if n.get_name() not in ("node", "graph")])
        edges = [(e.get_source(), e.get_destination()) for e in theirs.get_edges()]
        assert [(e.src, e.dst) for e in ours.edges] == edges
