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
