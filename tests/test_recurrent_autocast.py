"""Under autocast (mixed precision), every cell's scan trains as its per-step forward does in float32.

Autocast gives each matrix product a lower-precision dtype (bfloat16 on CPU, float16 on CUDA)
while the gates' element-wise maths stay in float32. The scan's own backward
(``RecurrentScan``, ``ScanProjection``) runs under the forward's autocast, as
``torch.amp.custom_bwd`` does, so its products meet gradients and weights of the dtypes the
forward's met; without that, the seed GRU's backward multiplied a bfloat16 gradient by a
float32 weight and raised. Under autocast the products are torch.mm's, in autocast's dtype,
also where oneDNN would serve in float32.
"""

from __future__ import annotations

import contextlib

import pytest
import torch
from torch import nn

import dotnet
from tests.conftest import SPECS
from tests.test_recurrent_scan import CELLS, stepped

SIZES = [(3, 4, 5), (64, 64, 256)]
"""``(batch, NIn, NOut)``: products by torch.mm, and of the sizes where oneDNN serves float32."""
T = 6
LOWER_PRECISION = 0.05
"""Largest relative error of a gradient under bfloat16 autocast against float32 (0.4-2.2% here)."""


def _gradients(
    model: nn.Module, xs: torch.Tensor, run, forward_context=contextlib.nullcontext
) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """``run(xs)`` and the gradients of one fixed float32 loss over it, whatever the output's dtype.

    ``run`` runs in ``forward_context()``, the backward outside it, as torch's autocast recipe has it.
    """
    model.zero_grad()
    xs = xs.detach().requires_grad_(True)
    with forward_context():
        out = run(xs)
    weights = torch.randn(out.shape, generator=torch.Generator().manual_seed(1)).to(out.device)
    (out.float() * weights).sum().backward()
    return out.detach(), [xs.grad, *(p.grad for p in model.parameters())]


def _relative_error(got: torch.Tensor, want: torch.Tensor) -> float:
    return ((got.float() - want).norm() / want.norm()).item()


def _check_autocast_training(spec: str, n_states: int, size: tuple[int, int, int], device: str, dtype) -> None:
    batch, n_in, n_out = size
    torch.manual_seed(0)
    cell = dotnet.build(SPECS / f"{spec}.dot", params={"NIn": n_in, "NOut": n_out}, quiet=True).to(device)
    xs = torch.randn(batch, T, n_in, device=device)
    want_out, full = _gradients(cell, xs, cell.scan)
    _, stepped_full = _gradients(cell, xs, lambda x: stepped(cell, x, n_states))
    out, mixed = _gradients(cell, xs, cell.scan, lambda: torch.autocast(device, dtype=dtype))
    assert [g.dtype for g in mixed] == [torch.float32] * len(mixed)  # each its parameter's
    assert _relative_error(out, want_out) < LOWER_PRECISION
    errors = [_relative_error(got, want) for got, want in zip(mixed, stepped_full, strict=True)]
    assert max(errors) < LOWER_PRECISION, errors


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize(("spec", "n_states"), CELLS)
def test_a_scan_trains_under_cpu_autocast_as_in_float32(spec, n_states, size):
    _check_autocast_training(spec, n_states, size, "cpu", torch.bfloat16)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize(("spec", "n_states"), CELLS)
def test_a_scan_trains_under_cuda_autocast_as_in_float32(spec, n_states):
    _check_autocast_training(spec, n_states, SIZES[1], "cuda", torch.float16)


def test_under_autocast_the_scan_multiplies_in_autocasts_dtype():
    """oneDNN would compute this scan's products in float32; autocast's bfloat16 is asked for."""
    torch.manual_seed(0)
    cell = dotnet.build(SPECS / "RNNCell.dot", params={"NIn": 64, "NOut": 256}, quiet=True)
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        assert cell.scan(torch.randn(64, T, 64)).dtype == torch.bfloat16


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize(("spec", "n_states"), CELLS)
def test_a_stacked_recurrent_model_trains_under_cpu_autocast(spec, n_states, size):
    """TimeRNN: the second layer scans the first's output (in autocast's dtype), then a Linear head."""
    batch, n_in, n_out = size
    torch.manual_seed(0)
    params = {"NFeature": n_in, "NHidden": n_out, "NLayers": 2, "NLabels": 3}
    model = dotnet.build(SPECS / "TimeRNN.dot", params=params, blocks={"RNNCell": spec}, quiet=True)
    xs = torch.randn(batch, T, n_in)
    want_out, full = _gradients(model, xs, model)
    out, mixed = _gradients(model, xs, model, lambda: torch.autocast("cpu", dtype=torch.bfloat16))
    assert out.dtype == torch.bfloat16  # the head's product
    assert _relative_error(out, want_out) < LOWER_PRECISION
    errors = [_relative_error(got, want) for got, want in zip(mixed, full, strict=True)]
    assert max(errors) < LOWER_PRECISION, errors
