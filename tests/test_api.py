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
