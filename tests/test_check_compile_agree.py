"""``check`` reports every spec error ``compile`` reports, with the same code and location.

Both run the same generation step (:mod:`dotnet.codegen.generate`), so a digraph name that
cannot name a class or a bad digraph attribute is found by ``check`` too, not only
when compiling. Run over every bad spec, every spec in the repository, and specs
with reserved names in each place a name can come from.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

from dotnet.compiler import compile_spec
from dotnet.diagnostics import SpecError
from dotnet.tools.check import check_source
from tests.conftest import REPO, SPECS

BAD_SPECS = sorted((REPO / "tests" / "bad_specs").glob("*.dot"))
RESERVED = ["__class__", "__dict__", "__all__", "__builtins__", "reset_parameters", "scan", "forward", "print"]


def compile_errors(path: Path) -> set[tuple[str, str, int, int]]:
    try:
        compile_spec(path)
    except SpecError as exc:
        return {_key(d) for d in exc.diagnostics if d.severity == "error"}
    return set()


def check_errors(path: Path) -> set[tuple[str, str, int, int]]:
    return {_key(d) for d in check_source(path, {}) if d.severity == "error"}


def _key(d) -> tuple[str, str, int, int]:  # type: ignore[no-untyped-def]
    loc = d.location
    return (d.code, loc.file if loc else "", loc.line if loc else 0, loc.col if loc else 0)


@pytest.mark.parametrize("spec", BAD_SPECS + sorted(SPECS.glob("*.dot")), ids=lambda p: p.stem)
def test_check_reports_what_compile_reports(spec):
    assert compile_errors(spec) <= check_errors(spec)


@pytest.mark.parametrize("name", RESERVED)
@pytest.mark.parametrize("where", ["graph", "node", "symbol", "formula parameter"])
def test_reserved_names_are_refused_alike_or_compile_to_an_importable_module(tmp_path, name, where):
    """A reserved name is a located error for both commands, or mangled so that ``from m import *`` works."""
    cell = (SPECS / "LSTMCell.dot").read_text(encoding="utf-8")
    text = {
        "graph": cell.replace("digraph LSTMCell", f"digraph {name}"),
        "node": cell.replace("calc_f", name).replace("c_cand", name + "_c"),
        "symbol": cell.replace("NIn", name),
        "formula parameter": cell.replace("W[f]", f"{name}[f]").replace("U[i]", name),
    }[where]
    spec = tmp_path / "Spec.dot"
    spec.write_text(text, encoding="utf-8")
    compiled_errors, checked_errors = compile_errors(spec), check_errors(spec)
    assert compiled_errors <= checked_errors
    if compiled_errors:
        assert where == "graph" and (name.startswith("__") or name == "print"), compiled_errors
        assert {code for code, *_ in compiled_errors} == {"bad-name"}
        assert {(line, col) for _, _, line, col in compiled_errors} == {(8, 1)}
        return
    module = f"reserved_{where.replace(' ', '_')}_{name.strip('_')}"
    (tmp_path / f"{module}.py").write_text(compile_spec(spec).source, encoding="utf-8")
    namespace: dict[str, object] = {}
    sys.path.insert(0, str(tmp_path))
    try:
        exec(f"from {module} import *", namespace)  # the star import a user writes
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop(module, None)

    cls = namespace[name if where == "graph" else "LSTMCell"]
    model = cls()  # type: ignore[operator]
    assert model.scan(torch.zeros(2, 3, 8)).shape == (2, 3, 16)
    assert model(torch.zeros(2, 8), torch.zeros(2, 16), torch.zeros(2, 16))[0].shape == (2, 16)
