"""A/B two generated TimeRNN modules against each other and torch.nn, alternating in one process.

On a shared or noisy machine a change of a few percent in the generated scan is lost in
the drift between two benchmark runs. Here both versions (and the torch.nn layer of the same
sizes) run in one process, one step each in turn, for many rounds; the ratio of each round
is taken, and their median and quartiles reported. Before timing, the two modules are checked
to agree in float64 (outputs and every parameter's gradient).

    dotnet compile specs/TimeRNN.dot --block RNNCell=GRUCell --no-run -o /tmp/before.py
    # ... change dotnet, then
    dotnet compile specs/TimeRNN.dot --block RNNCell=GRUCell --no-run -o /tmp/after.py
    python benchmarks/recurrent_ab.py /tmp/before.py /tmp/after.py --layer GRU --rounds 60

With ``--inference`` the timed call is the forward alone under ``torch.inference_mode()``.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import torch
from recurrent import step_times  # this folder's benchmark: the same timed step
from torch import nn

LAYERS = {"RNN": nn.RNN, "LSTM": nn.LSTM, "GRU": nn.GRU}


def load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build(module: ModuleType, args: argparse.Namespace) -> nn.Module:
    torch.manual_seed(0)
    return module.TimeRNN(n_feature=args.features, n_hidden=args.hidden, n_layers=args.layers, n_labels=10)


def largest_gap(a: nn.Module, b: nn.Module, xs: torch.Tensor) -> float:
    """The largest difference between the two models' outputs and gradients, in float64."""
    a, b = a.double(), b.double()
    b.load_state_dict(a.state_dict())
    ya, yb = a(xs.double()), b(xs.double())
    ga = torch.autograd.grad(ya.square().mean(), list(a.parameters()))
    gb = torch.autograd.grad(yb.square().mean(), list(b.parameters()))
    return max([(ya - yb).abs().max().item(), *((p - q).abs().max().item() for p, q in zip(ga, gb))])


def forward_times(runs: dict[str, Callable[[], torch.Tensor]], rounds: int) -> dict[str, list[float]]:
    """CPU seconds of each run's forward under ``torch.inference_mode()``, taking turns, after two warm-up rounds."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    with torch.inference_mode():
        for k in range(rounds + 2):
            for name, run in runs.items():
                start = time.process_time()
                run()
                if k >= 2:
                    times[name].append(time.process_time() - start)
    return times


def quartiles(values: list[float]) -> str:
    v = sorted(values)
    return f"{statistics.median(v):.3f} (IQR {v[len(v) // 4]:.3f}-{v[3 * len(v) // 4]:.3f})"


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """The torch.nn layer to compare with, the TimeRNN's sizes (the small configuration by default), the rounds."""
    parser.add_argument("--layer", choices=list(LAYERS), required=True, help="the torch.nn layer to compare with")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--steps", type=int, default=32)
    parser.add_argument("--features", type=int, default=64)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("a", type=Path, help="generated module A (the baseline)")
    parser.add_argument("b", type=Path, help="generated module B")
    add_model_arguments(parser)
    parser.add_argument("--inference", action="store_true", help="time the forward under torch.inference_mode()")
    args = parser.parse_args()
    torch.set_num_threads(1)
    xs = torch.randn(args.batch, args.steps, args.features)
    first, second = load(args.a, "version_a"), load(args.b, "version_b")
    gap = largest_gap(build(first, args), build(second, args), xs)
    print(f"A and B in float64: largest difference of outputs and gradients {gap:.1e}")
    a, b = build(first, args), build(second, args)
    b.load_state_dict(a.state_dict())
    builtin = LAYERS[args.layer](args.features, args.hidden, args.layers, batch_first=True)
    runs: dict[str, Callable[[], torch.Tensor]] = {
        "A": lambda: a(xs),
        "B": lambda: b(xs),
        "torch": lambda: a.ll(builtin(xs)[0]),
    }
    params = [*a.parameters(), *b.parameters(), *builtin.parameters()]
    if args.inference:
        times = forward_times(runs, args.rounds)
    else:
        times = step_times(runs, "cpu", args.rounds, time.process_time, params)
    ms = ", ".join(f"{name} {statistics.median(t) * 1e3:.2f} ms" for name, t in times.items())
    ratios = {
        pair: [x / y for x, y in zip(times[pair[0]], times[pair[1]])]
        for pair in (("A", "torch"), ("B", "torch"), ("B", "A"))
    }
    what = "inference forward" if args.inference else "training step"
    print(f"CPU time per {what} (median of {args.rounds} rounds): {ms}")
    print(" ".join(f"{x}/{y} {quartiles(r)}" for (x, y), r in ratios.items()))


if __name__ == "__main__":
    main()
