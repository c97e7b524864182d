"""The Python API: compile to source and build an instance, without the command line."""

from __future__ import annotations

import pytest
import torch

import dotnet
from tests.conftest import SPECS


def test_compile_to_source_returns_the_module_text():
    source = dotnet.compile_to_source(SPECS / "ConvAutoEncoder.dot")
    assert "class ConvAutoEncoder(nn.Module):" in source
    assert (
        source.index("class CAEConvBlock")
        < source.index("class CAEDeconvBlock")
        < source.index("class ConvAutoEncoder")
    )
    compile(source, "ConvAutoEncoder.py", "exec")


def test_build_returns_a_model_on_the_device():
    model = dotnet.build(SPECS / "ConvAutoEncoder.dot", device="cpu")
    assert isinstance(model, torch.nn.Module)
    assert next(model.parameters()).device.type == "cpu"
    assert model.eval()(torch.zeros(1, 3, 256, 256)).shape == (1, 3, 256, 256)


def test_build_with_params_for_a_block():
    model = dotnet.build(SPECS / "CAEConvBlock.dot", params={"BlockIn": 2, "BlockOut": 5})
    assert model.eval()(torch.zeros(3, 2, 10, 12)).shape == (3, 5, 5, 6)


def test_spec_errors_are_values():
    with pytest.raises(dotnet.SpecError) as info:
        dotnet.compile_to_source(SPECS / "CAEConvBlock.dot", graph="Missing")
    (diagnostic,) = info.value.diagnostics
    assert diagnostic.code == "graph-not-found"
    assert diagnostic.location is not None and diagnostic.location.line == 1


def test_importing_dotnet_does_not_import_torch():
    import subprocess
    import sys

    from tests.conftest import REPO

    code = "import sys, dotnet, dotnet.cli, dotnet.compiler; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


CELL_WITHOUT_EDGE = """digraph Cell {
    NIn=4; NOut=4
    x [label="X[t](输入)\\n[B, NIn]", shape=Mrecord]
    his [label="H[t-1](历史)\\n[B, NOut]", shape=Mrecord]
    calc [label="tanh(X[t] @ W + H[t-1] @ U + b)"%s]
    h [label="H[t](输出)\\n[B, NOut]", shape=Mrecord]
    x -> calc -> h
}
"""


def test_compile_reports_and_silences_warnings_as_check_does(tmp_path):
    from dotnet.tools.check import check_source

    loud, quiet = tmp_path / "Loud.dot", tmp_path / "Quiet.dot"
    loud.write_text(CELL_WITHOUT_EDGE % "", encoding="utf-8")
    quiet.write_text(CELL_WITHOUT_EDGE % ', dotnet_ignore="formula-no-edge"', encoding="utf-8")
    for spec, expected in ((loud, ["formula-no-edge"]), (quiet, [])):
        compiled = [d.code for d in dotnet.compile_spec(spec).report.diagnostics]
        checked = [d.code for d in check_source(spec, {})]
        assert compiled == checked == expected


def test_compile_spec_writes_out_as_the_command_line_does(tmp_path):
    target = tmp_path / "block.py"
    compiled = dotnet.compile_spec(SPECS / "CAEConvBlock.dot", params={"BlockIn": 2, "BlockOut": 5}, out=target)
    assert target.read_text(encoding="utf-8") == compiled.source
    assert [p.name for p in tmp_path.iterdir()] == ["block.py"]  # no temporary file left beside it


def test_compile_spec_out_leaves_no_file_when_the_model_cannot_be_built(tmp_path):
    target = tmp_path / "block.py"
    with pytest.raises(dotnet.SpecError) as info:
        dotnet.compile_spec(SPECS / "CAEConvBlock.dot", out=target)  # BlockIn and BlockOut have no values
    assert [d.code for d in info.value.diagnostics] == ["unbound-symbol"]
    assert list(tmp_path.iterdir()) == []


def test_a_default_before_a_symbol_without_one_makes_keyword_only_arguments(tmp_path):
    spec = tmp_path / "Half.dot"
    spec.write_text(
        'digraph Half { NIn=8 x [label="[BatchSize, NIn]", shape="Mrecord"] lin [label="Linear[NIn, NOut]"] '
        'y [label="[BatchSize, NOut]", shape="Mrecord"] x -> lin -> y }',
        encoding="utf-8",
    )
    source = dotnet.compile_to_source(spec)
    assert "def __init__(self, *, n_in: int = 8, n_out: int) -> None:" in source
    namespace: dict[str, object] = {}
    exec(compile(source, "Half.py", "exec"), namespace)  # our generated code
    model = namespace["Half"](n_out=3)
    assert model.lin.in_features == 8 and model.lin.out_features == 3
