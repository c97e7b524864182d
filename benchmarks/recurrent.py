"""Time a training step of the generated TimeRNN against hand-written and built-in recurrences.

For each cell (RNN, LSTM, GRU of specs/), in one run:

- ``generated``: TimeRNN compiled by dotnet with ``--block RNNCell=<cell>`` (its scan
  hoists the input projections and fuses the gates);
- ``naive``: the same weights run by a hand-written loop, one matmul per gate and step;
- ``torch``: ``nn.LSTM`` / ``nn.GRU`` of the same sizes (cuDNN on a GPU). nn.GRU places
  the reset gate after the recurrent matmul, the seed's GRU before it: same cost, other formula.

A step is forward and backward of ``mean(output ** 2)``. Ratios are times over the
generated model's (``naive / generated`` above 1: the generated one is faster).

    python benchmarks/recurrent.py                 # cuda when available, else cpu
    python benchmarks/recurrent.py --device cpu --hidden 128 --repeats 5
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import dotnet  # noqa: E402  (the checkout's dotnet, not an installed one)

CELLS = {"RNN": "RNNCell", "LSTM": "LSTMCell", "GRU": "GRUCell"}


def naive_rnn(cell: nn.Module, xs: torch.Tensor) -> torch.Tensor:
    h = xs.new_zeros(xs.shape[0], cell.w_h.shape[0])
    outputs = []
    for t in range(xs.shape[1]):
        h = torch.sigmoid(xs[:, t] @ cell.w_x + h @ cell.w_h + cell.b)
        outputs.append(h)
    return torch.stack(outputs, dim=1)


def naive_lstm(cell: nn.Module, xs: torch.Tensor) -> torch.Tensor:
    h = c = xs.new_zeros(xs.shape[0], cell.U_f.shape[0])
    outputs = []
    for t in range(xs.shape[1]):
        x = xs[:, t]
        f = torch.sigmoid(x @ cell.W_f + h @ cell.U_f + cell.b_f)
        i = torch.sigmoid(x @ cell.W_i + h @ cell.U_i + cell.b_i)
        cand = torch.tanh(x @ cell.W_c + h @ cell.U_c + cell.b_c)
        o = torch.sigmoid(x @ cell.W_o + h @ cell.U_o + cell.b_o)
        c = f * c + i * cand
        h = o * torch.tanh(c)
        outputs.append(h)
    return torch.stack(outputs, dim=1)


def naive_gru(cell: nn.Module, xs: torch.Tensor) -> torch.Tensor:
    h = xs.new_zeros(xs.shape[0], cell.U_z.shape[0])
    outputs = []
    for t in range(xs.shape[1]):
        x = xs[:, t]
        z = torch.sigmoid(x @ cell.W_z + h @ cell.U_z + cell.b_z)
        r = torch.sigmoid(x @ cell.W_r + h @ cell.U_r + cell.b_r)
        cand = torch.tanh(x @ cell.W_h + (h * r) @ cell.U_h + cell.b_h)
        h = (1 - z) * h + z * cand
        outputs.append(h)
    return torch.stack(outputs, dim=1)


NAIVE = {"RNN": naive_rnn, "LSTM": naive_lstm, "GRU": naive_gru}


def time_steps(runs: dict[str, Callable[[], torch.Tensor]], device: str, repeats: int) -> dict[str, float]:
    """Median seconds of one forward and backward pass of each run, after two warm-up passes.

    The runs take turns, so a change in the machine's load during the benchmark
    affects all of them alike rather than whichever happened to run then.
    """
    times: dict[str, list[float]] = {name: [] for name in runs}
    for k in range(repeats + 2):
        for name, run in runs.items():
            if device == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
            run().square().mean().backward()
            if device == "cuda":
                torch.cuda.synchronize()
            if k >= 2:
                times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def bench_cell(label: str, cell: str, xs: torch.Tensor, sizes: dict[str, int], args: argparse.Namespace) -> str:
    """One line of the table: the timings of one cell and their ratios."""
    device = args.device
    model = dotnet.build(ROOT / "specs" / "TimeRNN.dot", params=sizes, blocks={"RNNCell": cell}, device=device)
    layers = [model.rnn1, *model.rnn_rest]

    def naive() -> torch.Tensor:
        out = xs
        for layer in layers:
            out = NAIVE[label](layer, out)
        return model.ll(out)

    with torch.no_grad():
        gap = (model(xs) - naive()).abs().max().item()
    assert gap < 1e-3, f"{label}: generated and naive differ by {gap}"
    runs = {"generated": lambda: model(xs), "naive": naive}
    if label in ("LSTM", "GRU"):
        builtin = getattr(nn, label)(args.features, args.hidden, args.layers, batch_first=True).to(device)
        runs["torch"] = lambda: model.ll(builtin(xs)[0])
    t = time_steps(runs, device, args.repeats)
    line = f"{label:<5} {t['generated'] * 1e3:>13.1f} {t['naive'] * 1e3:>9.1f}"
    if "torch" not in t:
        return line + f" {'-':>9} {t['naive'] / t['generated']:>10.2f} {'-':>10}"
    return line + f" {t['torch'] * 1e3:>9.1f} {t['naive'] / t['generated']:>10.2f} {t['generated'] / t['torch']:>10.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=128)
    parser.add_argument("--features", type=int, default=64)
    parser.add_argument("--hidden", type=int, default=512)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = args.device
    torch.manual_seed(0)
    xs = torch.randn(args.batch, args.steps, args.features, device=device)
    sizes = {"NFeature": args.features, "NHidden": args.hidden, "NLayers": args.layers, "NLabels": 10}
    where = torch.cuda.get_device_name() if device == "cuda" else f"{torch.get_num_threads()} threads"
    print(
        f"device={device} ({where})"
        f" batch={args.batch} steps={args.steps} features={args.features} hidden={args.hidden}"
        f" layers={args.layers} torch={torch.__version__}"
    )
    print(f"{'cell':<5} {'generated ms':>13} {'naive ms':>9} {'torch ms':>9} {'naive/gen':>10} {'gen/torch':>10}")
    for label, cell in CELLS.items():
        print(bench_cell(label, cell, xs, sizes, args), flush=True)


if __name__ == "__main__":
    main()
