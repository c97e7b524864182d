"""``dotnet summary``: costs from the shapes alone agree with the instantiated modules."""

from __future__ import annotations

import subprocess
import sys

import pytest

from dotnet.compiler import compile_spec, missing_values
from dotnet.tools.summary import format_table, summarize
from tests.conftest import REPO, SPECS, run_cli
from tests.golden_files import specs

torch = pytest.importorskip("torch")

import dotnet  # noqa: E402
from dotnet.runtime import example_inputs  # noqa: E402

SLOW = {"AlexNet", "VGG11"}
MULT_ADDS_CHECKED = {"LeNet", "AlexNet", "VGG11", "NiN", "GoogLeNet", "ResNet18", "ConvAutoEncoder"}
"""Specs whose multiply-adds all come from convolutions and Linear layers, which hooks can count."""


def _values(spec) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """A value for every constructor symbol the spec leaves open, and a batch of one."""
    compiled = compile_spec(spec)
    values = {s: 4 for s in missing_values(compiled)}
    if "BatchSize" in compiled.analysis.graph.symbol_order:
        values["BatchSize"] = 1
    return values


def _hooked_mult_adds(model: torch.nn.Module, inputs: list[torch.Tensor]) -> int:
    """Multiply-adds of every Conv2d and Linear, counted from the tensors of a real forward pass."""
    total = 0

    def count(module: torch.nn.Module, args: tuple, out: torch.Tensor) -> None:  # type: ignore[type-arg]
        nonlocal total
        if isinstance(module, torch.nn.Conv2d):
            kh, kw = module.kernel_size
            total += out.numel() * module.in_channels // module.groups * kh * kw
        elif isinstance(module, torch.nn.Linear):
            total += out.numel() * module.in_features

    for m in model.modules():
        m.register_forward_hook(count)
    with torch.no_grad():
        model.eval()(*inputs)
    return total


def _cases() -> list:
    return [pytest.param(p, id=p.stem, marks=[pytest.mark.slow] if p.stem in SLOW else []) for p in specs()]


@pytest.mark.parametrize("spec", _cases())
def test_summary_totals_agree_with_the_built_module(spec) -> None:  # type: ignore[no-untyped-def]
    values = _values(spec)
    summary = summarize(spec, params=values)
    model = dotnet.build(spec, params=values)
    assert summary.parameters.int_value() == sum(p.numel() for p in model.parameters())
    if spec.stem in MULT_ADDS_CHECKED:
        inputs = example_inputs(compile_spec(spec, params=values))
        assert summary.mult_adds.int_value() == _hooked_mult_adds(model, inputs)


def test_summary_table_of_lenet() -> None:
    table = format_table(summarize(SPECS / "LeNet.dot"))
    lines = table.splitlines()
    assert lines[0] == "LeNet (InC=1, NClasses=10, NHidden1=120, NHidden2=84, BatchSize=1)"
    assert lines[1].split() == ["node", "op", "output", "shape", "params", "mult-adds"]
    conv1 = next(line for line in lines if line.startswith("conv1 "))
    assert conv1.split()[-6:] == ["(1,", "6,", "28,", "28)", "156", "117,600"]
    assert lines[-1].split() == ["total", "61,706", "416,520"]


def test_summary_keeps_open_symbols_symbolic() -> None:
    summary = summarize(SPECS / "ResNet18ConvBlock.dot")
    assert str(summary.parameters) == "BlockC*6+BlockC*BlockC*18"
    assert str(summarize(SPECS / "ResNet18ConvBlock.dot", params={"BlockC": 64}).parameters) == "74112"


def test_summary_command() -> None:
    result = run_cli("summary", SPECS / "ResNet18.dot", "--param", "BatchSize=2")
    assert result.code == 0, result.stderr
    assert result.stdout.splitlines()[0] == "ResNet18 (InC=1, NClasses=10, BatchSize=2)"
    assert result.stdout.splitlines()[-1].split() == ["total", "11,178,378", "637,315,072"]


def test_summary_reports_spec_errors_as_diagnostics(tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "Bad.dot"
    bad.write_text('digraph Bad {\n x [label="[BatchSize, 3]", shape=Mrecord]\n c [label="Concat"]\n x -> c\n}\n')
    result = run_cli("summary", bad)
    assert result.code == 1
    assert "Bad.dot:3:" in result.stderr and "[bad-edge]" in result.stderr and "Traceback" not in result.stderr


def test_summary_does_not_import_torch() -> None:
    code = (
        "import sys; from dotnet.tools.summary import summarize; "
        f"summarize({str(SPECS / 'GoogLeNet.dot')!r}); assert 'torch' not in sys.modules, 'torch imported'"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
