"""The compiled model on a CUDA device; skipped cleanly where there is none."""

from __future__ import annotations

import pytest
import torch

import dotnet
from tests.conftest import SPECS, run_cli
from tests.reference_cae import ConvAutoEncoder as Reference

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine"),
]


def test_compile_with_device_cuda(tmp_path):
    result = run_cli("compile", SPECS / "ConvAutoEncoder.dot", "--device", "cuda", cwd=tmp_path)
    assert result.code == 0, result.stderr
    assert "ConvAutoEncoder: 28,905 parameters on cuda" in result.stdout


def test_cuda_outputs_match_the_cpu_reference():
    torch.manual_seed(0)
    reference = Reference().eval()
    model = dotnet.build(SPECS / "ConvAutoEncoder.dot", device="cuda")
    model.load_state_dict(reference.state_dict())
    x = torch.randn(2, 3, 256, 256)
    torch.testing.assert_close(model.eval()(x.cuda()).cpu(), reference(x), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("cell", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cuda_training_scan_matches_the_cpu_reference(cell):
    """The same generated scan (RecurrentScan in training) on CUDA and on the CPU, float64."""
    torch.manual_seed(0)
    params = {"NFeature": 4, "NHidden": 8, "NLayers": 2, "NLabels": 3}
    cpu = dotnet.build(SPECS / "TimeRNN.dot", params=params, blocks={"RNNCell": cell}).double()
    gpu = dotnet.build(SPECS / "TimeRNN.dot", params=params, blocks={"RNNCell": cell}, device="cuda").double()
    gpu.load_state_dict(cpu.state_dict())
    xs = torch.randn(3, 9, 4, dtype=torch.float64)
    outputs = []
    for model, x in ((cpu, xs), (gpu, xs.cuda())):
        out = model(x)
        out.square().sum().backward()
        outputs.append([out.detach().cpu(), *(p.grad.cpu() for p in model.parameters())])
    for got, want in zip(outputs[1], outputs[0], strict=True):
        torch.testing.assert_close(got, want, rtol=1e-9, atol=1e-9)
