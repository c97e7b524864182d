"""benchmarks/recurrent_products.py times a scan's matrix products alone: they must be all of them.

Its figure is a floor for the generated training step only if the recording holds every
product the step makes (one per layer and step, forward and backward, plus those outside the
loop) and the replay computes those very products again (timings themselves are not asserted).
"""

from __future__ import annotations

import pytest
import torch

import dotnet
from tests.conftest import REPO, SPECS, load_benchmark

LAYERS = 2


@pytest.fixture
def benchmark(monkeypatch):
    monkeypatch.syspath_prepend(str(REPO / "benchmarks"))  # it imports its sibling recurrent_ab
    return load_benchmark("recurrent_products")


def _recorded(benchmark, cell: str, steps: int):
    torch.manual_seed(0)
    params = {"NFeature": 3, "NHidden": 5, "NLayers": LAYERS, "NLabels": 2}
    model = dotnet.build(SPECS / "TimeRNN.dot", params=params, blocks={"RNNCell": cell}, quiet=True)
    return benchmark.record_products(model, torch.randn(2, steps, 3))


@pytest.mark.parametrize("cell", ["RNNCell", "SeedLSTMCell", "GRUCell"])
def test_each_step_adds_its_products_forward_and_backward_in_every_layer(benchmark, cell):
    """The seed GRU's step multiplies once more (``(H * R) @ U[h]``), and once more backward."""
    per_step = 2 * LAYERS * (2 if cell == "GRUCell" else 1)
    calls_4, _ = _recorded(benchmark, cell, 4)
    calls_5, _ = _recorded(benchmark, cell, 5)
    assert len(calls_5) - len(calls_4) == per_step


def test_the_replay_computes_the_recorded_products_again(benchmark):
    calls, results = _recorded(benchmark, "SeedLSTMCell", 4)
    replayed = benchmark.replay(calls)
    assert len(replayed) == len(results) > 0
    for got, want in zip(replayed, results, strict=True):
        assert torch.equal(got, want)


def test_every_way_the_onednn_benchmark_times_computes_the_same_product():
    """benchmarks/onednn_products.py compares torch.mm with oneDNN's product, unpacked and packed."""
    a, b = torch.randn(16, 32), torch.randn(32, 48)
    runs = load_benchmark("onednn_products").products(a, b)
    for name in ("torch.mm", "oneDNN", "oneDNN packed"):
        torch.testing.assert_close(runs[name](), a @ b, rtol=1e-5, atol=1e-5)
