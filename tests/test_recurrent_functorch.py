"""Under torch.func's transforms (grad, vmap, per-sample gradients) every cell's scan trains as under autograd.

The scan's own autograd functions (``RecurrentScan``, ``ScanProjection``) keep values outside
the arguments torch.func sees, so under a transform the scan steps its cell by plain autograd
ops instead (``loop``), which every transform knows; before, torch.func.grad raised "In order
to use an autograd.Function with functorch transforms ..., it must override the setup_context
staticmethod". LSTMCell's scan is torch.lstm's and took the transforms already.
"""

from __future__ import annotations

import pytest
import torch
from torch.func import functional_call, grad, vmap

import dotnet
from tests.conftest import SPECS
from tests.test_recurrent_scan import CELLS

TOL = {"rtol": 1e-10, "atol": 1e-10}


def _model(spec: str, n_feature: int = 3, n_hidden: int = 4) -> torch.nn.Module:
    torch.manual_seed(0)
    params = {"NFeature": n_feature, "NHidden": n_hidden, "NLayers": 2, "NLabels": 2}
    return dotnet.build(SPECS / "TimeRNN.dot", params=params, blocks={"RNNCell": spec}, quiet=True)


def _loss(model: torch.nn.Module, params: dict[str, torch.Tensor], xs: torch.Tensor) -> torch.Tensor:
    return functional_call(model, params, (xs,)).square().sum()


def _autograd(model: torch.nn.Module, xs: torch.Tensor) -> list[torch.Tensor]:
    model.zero_grad()
    model(xs).square().sum().backward()
    return [p.grad for p in model.parameters()]


@pytest.mark.parametrize(("spec", "n_states"), CELLS)
def test_torch_func_grad_equals_autograd(spec, n_states):
    model = _model(spec).double()
    xs = torch.randn(2, 5, 3, dtype=torch.float64)
    got = grad(lambda p: _loss(model, p, xs))(dict(model.named_parameters()))
    for g, want in zip(got.values(), _autograd(model, xs), strict=True):
        torch.testing.assert_close(g, want, **TOL)


@pytest.mark.parametrize(("spec", "n_states"), CELLS)
def test_per_sample_gradients_by_vmap_equal_one_backward_per_sample(spec, n_states):
    model = _model(spec).double()
    xs = torch.randn(3, 5, 3, dtype=torch.float64)
    params = {k: p.detach() for k, p in model.named_parameters()}
    per_sample = vmap(grad(lambda p, x: _loss(model, p, x[None])), in_dims=(None, 0))(params, xs)
    for i in range(xs.shape[0]):
        for name, want in zip(params, _autograd(model, xs[i : i + 1]), strict=True):
            torch.testing.assert_close(per_sample[name][i], want, **TOL)


def test_at_sizes_where_onednn_serves_torch_func_grad_equals_autograd():
    """float32 products of 2**22 multiply-adds or more: under the transform they stay torch.mm's."""
    model = _model("SeedLSTMCell", n_feature=64, n_hidden=256)
    xs = torch.randn(64, 6, 64)
    got = grad(lambda p: _loss(model, p, xs))(dict(model.named_parameters()))
    for g, want in zip(got.values(), _autograd(model, xs), strict=True):
        torch.testing.assert_close(g, want, rtol=1e-4, atol=1e-4)
