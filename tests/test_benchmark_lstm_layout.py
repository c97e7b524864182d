"""benchmarks/lstm_layout.py times five ways to give torch.lstm its weights; they must be one LSTM.

The timings compare like with like only if every layout computes the same outputs and hands
each parameter the same gradient (timings themselves are not asserted).
"""

from __future__ import annotations

import subprocess
import sys

import torch

from tests.conftest import REPO, load_benchmark

HIDDEN = 5


def _benchmark():
    return load_benchmark("lstm_layout")


def test_every_layout_trains_its_parameters_as_the_fused_lstm() -> None:
    torch.manual_seed(0)
    xs = torch.randn(3, 4, 2)
    options, leaves = _benchmark().runs(xs, HIDDEN)
    fused, per_gate, views = leaves[:4], leaves[4:16], leaves[16:]
    grads = {}
    for name, run in options.items():
        for p in leaves:
            p.grad = None
        run().square().mean().backward()
        gates = {"fused": fused, "aliased": views}.get(name, per_gate)
        grads[name] = [p.grad.clone() for p in gates]
    w, u, b_ih, b_hh = grads.pop("fused")
    torch.testing.assert_close(b_ih, b_hh)
    want = [*(g.T for g in w.chunk(4)), *(g.T for g in u.chunk(4)), *(g[None] for g in b_ih.chunk(4))]
    assert set(grads) == {"stacked", "stacked_view", "function", "aliased"}
    for name, got in grads.items():
        assert len(got) == 12
        for g, ref in zip(got, want, strict=True):
            torch.testing.assert_close(g, ref, msg=name)


def test_the_benchmark_prints_a_row_per_layout() -> None:
    command = [sys.executable, str(REPO / "benchmarks" / "lstm_layout.py"), "--hidden", "8", "--rounds", "2"]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    rows = [line.split(" | ")[0].strip("| ") for line in proc.stdout.splitlines() if line.startswith("| ")]
    assert rows == ["weights", "fused", "stacked", "stacked_view", "function", "aliased"]
