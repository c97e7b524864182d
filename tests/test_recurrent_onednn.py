"""On CPU in float32, a generic cell's scan multiplies by oneDNN, and still trains as its forward.

torch's CPU products are MKL's, which on AMD CPUs take up to 2.5x oneDNN's time at recurrent
sizes (benchmarks/RESULTS.md), so the scan's own forward and backward, and the input
projection, go through oneDNN's inner product where it serves (``scan_matmul``,
``ScanProjection``). oneDNN has no float64: there, as under autograd, products stay torch.mm's,
which the exactness tests of test_recurrent_scan.py compare at 1e-10.
"""

from __future__ import annotations

import sys

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

import dotnet
from tests.conftest import SPECS
from tests.test_recurrent_scan import GENERIC, gradients, stepped

pytestmark = pytest.mark.skipif(not torch.backends.mkldnn.is_available(), reason="torch built without oneDNN")

B, T, NIN, NOUT = 64, 6, 64, 256
"""Sizes at which every product of the scan has oneDNN's 2**22 multiply-adds or more."""
FLOAT32 = {"rtol": 1e-4, "atol": 1e-5}
ONEDNN = torch.ops.mkldnn._linear_pointwise
PACKS = torch.ops.mkldnn._reorder_linear_weight
TORCH_PRODUCTS = (torch.ops.aten.mm, torch.ops.aten.addmm, torch.ops.aten.bmm, torch.ops.aten.matmul)


class _Products(TorchDispatchMode):
    """How many matrix products oneDNN and torch's own kernels computed."""

    def __init__(self) -> None:
        super().__init__()
        self.onednn = self.torch = self.packs = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.onednn += func.overloadpacket is ONEDNN
        self.packs += func.overloadpacket is PACKS
        self.torch += func.overloadpacket in TORCH_PRODUCTS
        return func(*args, **(kwargs or {}))


STEP_PRODUCTS = {"RNNCell": 0, "SeedLSTMCell": 0, "GRUCell": 1}
"""Products a step computes itself, torch's: the seed GRU's ``(H[t-1] * R[t]) @ U[h]``."""


def _cell(spec: str, dtype: torch.dtype, n_in: int = NIN, n_out: int = NOUT) -> torch.nn.Module:
    torch.manual_seed(0)
    cell = dotnet.build(SPECS / f"{spec}.dot", params={"NIn": n_in, "NOut": n_out})
    with torch.no_grad():
        for p in cell.parameters():  # far from the initial values, and no gate saturated
            p.normal_(0, n_out**-0.5)
    return cell.to(dtype)


@pytest.mark.parametrize(("spec", "n_states"), GENERIC)
def test_a_float32_training_scan_multiplies_by_onednn(spec, n_states):
    """Projection, every step's recurrent product and the backward's: all oneDNN's.

    The products a step computes itself, and their gradients, stay torch's (one each per step).
    """
    cell = _cell(spec, torch.float32)
    xs = torch.randn(B, T, NIN)
    with _Products() as products:
        got_out, got_grads = gradients(cell, xs, cell.scan)
    assert products.torch == 2 * T * STEP_PRODUCTS[spec]
    assert products.onednn >= 2 * T  # a product per step forward and backward, at least
    want_out, want_grads = gradients(cell, xs, lambda x: stepped(cell, x, n_states))
    torch.testing.assert_close(got_out, want_out, **FLOAT32)
    for got, want in zip(got_grads, want_grads, strict=True):
        torch.testing.assert_close(got, want, **FLOAT32)


@pytest.mark.parametrize(("spec", "n_states"), GENERIC)
def test_a_float32_inference_scan_multiplies_by_onednn(spec, n_states):
    cell = _cell(spec, torch.float32)
    xs = torch.randn(B, T, NIN)
    with torch.no_grad(), _Products() as products:
        got = cell.scan(xs)
    assert products.torch == T * STEP_PRODUCTS[spec]
    assert products.onednn >= T
    with torch.no_grad():
        torch.testing.assert_close(got, stepped(cell, xs, n_states), **FLOAT32)


@pytest.mark.parametrize(("spec", "n_states"), GENERIC)
def test_float64_and_the_per_step_forward_stay_with_torch_products(spec, n_states):
    """oneDNN has no float64; ``forward`` (under autograd) is the plain reference, torch's products."""
    cell = _cell(spec, torch.float64)
    with _Products() as products:
        gradients(cell, torch.randn(B, T, NIN, dtype=torch.float64), cell.scan)
        gradients(cell.float(), torch.randn(B, T, NIN), lambda x: stepped(cell, x, n_states))
    assert products.onednn == 0
    assert products.torch > 0


@pytest.mark.parametrize(("spec", "n_states"), GENERIC)
def test_small_float32_products_stay_with_torch(spec, n_states):
    """Under 2**22 multiply-adds torch.mm is the faster: a oneDNN call costs 8-25 us more."""
    cell = _cell(spec, torch.float32, n_in=4, n_out=5)
    with _Products() as products:
        gradients(cell, torch.randn(3, T, 4), cell.scan)
    assert products.onednn == 0
    assert products.torch > 0


def test_with_onednn_disabled_every_product_is_torchs():
    """``torch.backends.mkldnn.flags(enabled=False)`` turns oneDNN off for the scan as for torch."""
    cell = _cell("SeedLSTMCell", torch.float32)
    xs = torch.randn(B, T, NIN)
    with torch.backends.mkldnn.flags(enabled=False), _Products() as products:
        got_out, got_grads = gradients(cell, xs, cell.scan)
    assert products.onednn == 0
    want_out, want_grads = gradients(cell, xs, lambda x: stepped(cell, x, 2))
    torch.testing.assert_close(got_out, want_out, **FLOAT32)
    for got, want in zip(got_grads, want_grads, strict=True):
        torch.testing.assert_close(got, want, **FLOAT32)


@pytest.mark.parametrize(("steps", "packs"), [(T, 0), (64, 2)])
def test_a_long_scan_packs_its_recurrent_weight_once_each_way(steps, packs):
    """Packing costs 3-20 products: a scan of 2**27 multiply-adds or more packs ``uw``, and ``uw.T``.

    RNNCell's product here is 2**22 multiply-adds a step: 6 steps stay unpacked, 64 pack, once
    for the forward and once for the backward, whatever the number of steps.
    """
    cell = _cell("RNNCell", torch.float32)
    xs = torch.randn(B, steps, NIN)
    with _Products() as products:
        got_out, got_grads = gradients(cell, xs, cell.scan)
    assert products.packs == packs
    want_out, want_grads = gradients(cell, xs, lambda x: stepped(cell, x, 1))
    torch.testing.assert_close(got_out, want_out, **FLOAT32)
    for got, want in zip(got_grads, want_grads, strict=True):  # torch.mm's scan: 2.5e-5 off at 64 steps
        torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("spec", ["RNNCell", "GRUCell", "SeedLSTMCell"])
@pytest.mark.parametrize("n_out", [8, NOUT])
def test_a_scan_asks_whether_onednn_serves_once_per_loop_not_per_step(spec, n_out, monkeypatch):
    """Asked at every step, the question cost 3-8% of a small training step (benchmarks/RESULTS.md).

    So a training step and an inference forward ask ``onednn_serves`` as often for 5 steps as
    for 7, at a size where oneDNN serves and at one where it does not. (At both lengths the
    answers are alike: the projection has 2**22 multiply-adds or more, and no scan has the
    2**27 at which it packs its weight.)
    """
    cell = _cell(spec, torch.float32, n_out=n_out)
    module = sys.modules[type(cell).__module__]
    asked = 0

    def counted(a: torch.Tensor, b: torch.Tensor) -> bool:
        nonlocal asked
        asked += 1
        return serves(a, b)

    serves = module.onednn_serves
    monkeypatch.setattr(module, "onednn_serves", counted)

    def questions(steps: int) -> tuple[int, int]:
        nonlocal asked
        xs = torch.randn(B, steps, NIN)
        asked = 0
        gradients(cell, xs, cell.scan)
        training = asked
        with torch.no_grad():
            cell.scan(xs)
        return training, asked - training

    assert questions(5) == questions(7)
