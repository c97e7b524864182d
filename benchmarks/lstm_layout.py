"""What a diagram's per-gate LSTM parameters cost torch's LSTM kernel, one layer's training step.

A cell drawn with one ``W``, ``U`` and ``b`` per gate (specs/LSTMCell.dot) keeps twelve
``nn.Parameter``s, named after the diagram; ``torch.lstm`` takes four fused tensors. The
generated ``_torch_scan`` stacks the twelve into torch's layout at each call. This times one
layer's forward and backward (``torch.lstm``, oneDNN on CPU) with its weights given as:

- ``fused``: four persistent tensors, as ``nn.LSTM`` holds them (the floor);
- ``stacked``: the generated code's way, ``torch.cat`` of the per-gate parameters (each stored
  transposed, so the stacking is a plain copy), the bias a ``cat(...)[0]``;
- ``stacked_view``: the same with the bias as ``.view(-1)`` and one zero bias made once;
- ``function``: one ``torch.autograd.Function`` that stacks all twelve in its forward and
  hands back views of the fused gradients in its backward;
- ``aliased``: the twelve parameters as views of one fused storage each, passed to the kernel
  through an autograd Function that returns that storage (no copy) and splits the gradients.

All runs take turns, in both orders; the ratio is each round's time over ``fused``'s.

    python benchmarks/lstm_layout.py                      # batch 16, 32 steps, hidden 128
    python benchmarks/lstm_layout.py --batch 64 --steps 128 --hidden 512 --rounds 20
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch
from torch import nn


class Stack(torch.autograd.Function):
    """Twelve per-gate parameters into torch's layout in one node; views of the gradients back."""

    @staticmethod
    def forward(ctx, *gates: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        w, u, b = gates[0:4], gates[4:8], gates[8:12]
        return torch.cat([g.T for g in w]), torch.cat([g.T for g in u]), torch.cat(b, dim=1).view(-1)

    @staticmethod
    def backward(ctx, d_w: torch.Tensor, d_u: torch.Tensor, d_b: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return (*(g.T for g in d_w.chunk(4)), *(g.T for g in d_u.chunk(4)), *(g[None] for g in d_b.chunk(4)))


class Alias(torch.autograd.Function):
    """The fused storages the per-gate parameters are views of, as the kernel's weights."""

    @staticmethod
    def forward(
        ctx, w: torch.Tensor, u: torch.Tensor, b: torch.Tensor, *gates: torch.Tensor
    ) -> tuple[torch.Tensor, ...]:
        return w, u, b

    @staticmethod
    def backward(ctx, d_w: torch.Tensor, d_u: torch.Tensor, d_b: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        return (None, None, None, *Stack.backward(ctx, d_w, d_u, d_b))


def runs(xs: torch.Tensor, hidden: int) -> tuple[dict[str, Callable[[], torch.Tensor]], list[torch.Tensor]]:
    """The five ways to give torch.lstm its weights, and every leaf tensor they train."""
    batch, features = xs.shape[0], xs.shape[2]
    reference = nn.LSTM(features, hidden, batch_first=True)
    fused = [p.detach().clone().requires_grad_() for p in reference.parameters()]
    w, u, b_ih, b_hh = (p.detach() for p in fused)
    bias = (b_ih + b_hh).contiguous()
    per_gate = [nn.Parameter(g.clone().T) for g in (*w.chunk(4), *u.chunk(4))]  # stored transposed
    per_gate += [nn.Parameter(g[None].clone()) for g in bias.chunk(4)]
    storage = [w.clone(), u.clone(), bias.clone()]
    views = [nn.Parameter(g.T) for g in (*storage[0].chunk(4), *storage[1].chunk(4))]
    views += [nn.Parameter(g[None]) for g in storage[2].chunk(4)]
    zeros = torch.zeros(4 * hidden)

    def lstm(weights: list[torch.Tensor]) -> torch.Tensor:
        state = (xs.new_zeros(1, batch, hidden), xs.new_zeros(1, batch, hidden))
        return torch.lstm(xs, state, weights, True, 1, 0.0, True, False, True)[0]

    def stacked() -> torch.Tensor:
        w_ih = torch.cat([g.T for g in per_gate[0:4]])
        w_hh = torch.cat([g.T for g in per_gate[4:8]])
        b = torch.cat(per_gate[8:12], dim=1)[0]
        return lstm([w_ih, w_hh, b, torch.zeros_like(b)])

    def stacked_view() -> torch.Tensor:
        w_ih = torch.cat([g.T for g in per_gate[0:4]])
        w_hh = torch.cat([g.T for g in per_gate[4:8]])
        return lstm([w_ih, w_hh, torch.cat(per_gate[8:12], dim=1).view(-1), zeros])

    options = {
        "fused": lambda: lstm(fused),
        "stacked": stacked,
        "stacked_view": stacked_view,
        "function": lambda: lstm([*Stack.apply(*per_gate), zeros]),
        "aliased": lambda: lstm([*Alias.apply(*storage, *views), zeros]),
    }
    with torch.no_grad():
        want = options["fused"]()
        for name, run in options.items():
            torch.testing.assert_close(run(), want, msg=f"{name} differs from fused")
    return options, [*fused, *per_gate, *views]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--steps", type=int, default=32)
    parser.add_argument("--features", type=int, default=64)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=300)
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    xs = torch.randn(args.batch, args.steps, args.features)
    options, leaves = runs(xs, args.hidden)

    def step(run: Callable[[], torch.Tensor]) -> float:
        for p in leaves:
            p.grad = None
        start = time.process_time()
        run().square().mean().backward()
        return time.process_time() - start

    times: dict[str, list[float]] = {name: [] for name in options}
    for k in range(args.rounds + 2):
        order = list(options.items())
        for name, run in order if k % 2 else order[::-1]:
            took = step(run)
            if k >= 2:
                times[name].append(took)
    print(
        f"batch={args.batch} steps={args.steps} features={args.features} hidden={args.hidden} "
        f"rounds={args.rounds} torch={torch.__version__}, one thread, CPU time"
    )
    print("| weights | ms per step | / fused (IQR) |\n|---|---:|---:|")
    for name, t in times.items():
        ratios = sorted(a / b for a, b in zip(t, times["fused"]))
        quarter = len(ratios) // 4
        spread = f"{statistics.median(ratios):.3f} ({ratios[quarter]:.3f}-{ratios[-quarter - 1]:.3f})"
        print(f"| {name} | {statistics.median(t) * 1e3:.2f} | {spread} |")


if __name__ == "__main__":
    main()
