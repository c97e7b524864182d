"""What a generated scan's matrix products alone cost, against the torch.nn layer's whole training step.

A formula cell's training step is its matrix products (the input projection, every step's
recurrent product and the state's gradient through it, the weights' gradients after the loop)
and the element-wise gate maths between them. This records every product one training step of a
generated TimeRNN makes, with its very operands, then times replaying those products alone,
taking turns with the whole generated step and with the torch.nn layer's step (the same head on
both). The products' time over torch.nn's is a floor for any scan that multiplies with these
ops: where it is near 1, no work on the gate maths brings the step under the library kernel's.
(A cell that scans by a library kernel, LSTMCell by ``torch.lstm``, multiplies inside it, unseen.)

    dotnet compile specs/TimeRNN.dot --block RNNCell=SeedLSTMCell --no-run -o /tmp/seed.py
    python benchmarks/recurrent_products.py /tmp/seed.py --layer LSTM
    python benchmarks/recurrent_products.py /tmp/seed.py --layer LSTM --batch 64 --steps 128 --hidden 512 --rounds 5
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from recurrent_ab import LAYERS, add_model_arguments, build, load, quartiles  # this folder's benchmark
from torch.utils._python_dispatch import TorchDispatchMode

PRODUCTS = (
    torch.ops.aten.mm,
    torch.ops.aten.addmm,
    torch.ops.aten.bmm,
    torch.ops.aten.baddbmm,
    torch.ops.mkldnn._linear_pointwise,
    torch.ops.mkldnn._reorder_linear_weight,  # the packing a packed product needs
)
"""The ops that multiply matrices on CPU, as the generated code and torch's autograd call them."""

Call = tuple[Any, tuple[Any, ...], dict[str, Any]]


class _Recorder(TorchDispatchMode):
    """Every product dispatched while active: the op, its operands and its keyword arguments."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[Call] = []
        self.results: list[torch.Tensor] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        result = func(*args, **kwargs)
        if func.overloadpacket in PRODUCTS:
            self.calls.append((func, args, kwargs))
            self.results.append(result)
        return result


def record_products(model: torch.nn.Module, xs: torch.Tensor) -> tuple[list[Call], list[torch.Tensor]]:
    """The products of one training step of ``model`` on ``xs`` (the benchmark's loss), and their results."""
    with _Recorder() as recorder:
        model(xs).square().mean().backward()
    model.zero_grad(set_to_none=True)
    return recorder.calls, recorder.results


def replay(calls: list[Call]) -> list[torch.Tensor]:
    """The recorded products again, on the recorded operands, outside autograd."""
    with torch.no_grad():
        return [func(*args, **kwargs) for func, args, kwargs in calls]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", type=Path, help="a generated TimeRNN module")
    add_model_arguments(parser)
    args = parser.parse_args()
    torch.set_num_threads(1)
    xs = torch.randn(args.batch, args.steps, args.features)
    model = build(load(args.model, "generated"), args)
    builtin = LAYERS[args.layer](args.features, args.hidden, args.layers, batch_first=True)
    calls, _ = record_products(model, xs)
    print(f"one training step of {args.model.name}: {len(calls)} products recorded")
    runs: dict[str, Callable[[], object]] = {
        "generated": lambda: model(xs).square().mean().backward(),
        "torch": lambda: model.ll(builtin(xs)[0]).square().mean().backward(),
        "products": lambda: replay(calls),
    }
    params = [*model.parameters(), *builtin.parameters()]
    times: dict[str, list[float]] = {name: [] for name in runs}
    for k in range(args.rounds + 2):  # taking turns, after two warm-up rounds
        for name, run in runs.items():
            for p in params:
                p.grad = None
            start = time.process_time()
            run()
            if k >= 2:
                times[name].append(time.process_time() - start)
    ms = ", ".join(f"{name} {statistics.median(t) * 1e3:.2f} ms" for name, t in times.items())
    print(f"CPU time per training step (median of {args.rounds} rounds): {ms}")
    pairs = (("products", "torch"), ("generated", "torch"), ("products", "generated"))
    print(" ".join(f"{x}/{y} {quartiles([a / b for a, b in zip(times[x], times[y])])}" for x, y in pairs))


if __name__ == "__main__":
    main()
