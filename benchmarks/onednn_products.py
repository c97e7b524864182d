"""torch.mm against oneDNN's inner product, unpacked and packed, at a scan's product shapes: the data behind its floors.

The generated scan multiplies by oneDNN (``torch.ops.mkldnn._linear_pointwise``) where
``onednn_serves`` says it is the faster (2**22 multiply-adds or more), and packs its
recurrent weight (``_reorder_linear_weight``) when a scan has 2**27 or more. Both floors
depend on the CPU: this times each way of computing ``a @ b`` at the shapes of one recurrent
step and of the products after the loop, one thread, best of five runs, and the cost of
packing ``b`` once, so that the floors can be checked on a new machine.

    python benchmarks/onednn_products.py
    python benchmarks/onednn_products.py --shape 16,128,512 --shape 64,512,2048
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import torch

SHAPES = [
    (16, 128, 128),  # one RNN step at the small size
    (16, 128, 512),  # one LSTM step at the small size
    (64, 128, 512),
    (16, 512, 2048),
    (64, 512, 2048),  # one LSTM step at the size
    (128, 512, 512),  # the recurrent weight's gradient at the small size
    (512, 128, 512),  # the input projection at the small size
]
"""``(m, k, n)`` of ``[m, k] @ [k, n]``."""


def products(a: torch.Tensor, b: torch.Tensor) -> dict[str, Callable[[], torch.Tensor]]:
    """``a @ b`` each way the scan may compute it."""
    weight = b.T.contiguous()  # oneDNN's inner product takes a @ weight.T
    packed = torch.ops.mkldnn._reorder_linear_weight(weight, a.shape[0])
    return {
        "torch.mm": lambda: torch.mm(a, b),
        "oneDNN": lambda: torch.ops.mkldnn._linear_pointwise(a, weight, None, "none", [], None),
        "oneDNN packed": lambda: torch.ops.mkldnn._linear_pointwise(a, packed, None, "none", [], None),
        "packing": lambda: torch.ops.mkldnn._reorder_linear_weight(weight, a.shape[0]),
    }


def best_microseconds(run: Callable[[], object]) -> float:
    """The best of five timings of about 50 ms each, per call."""
    run()
    start = time.perf_counter()
    run()
    calls = max(5, int(0.05 / max(time.perf_counter() - start, 1e-7)))
    timings = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(calls):
            run()
        timings.append((time.perf_counter() - start) / calls * 1e6)
    return min(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shape", action="append", help="m,k,n (repeatable; default: a scan's shapes)")
    args = parser.parse_args()
    shapes = [tuple(int(d) for d in s.split(",")) for s in args.shape] if args.shape else SHAPES
    torch.set_num_threads(1)
    print("| `[m, k] @ [k, n]` | multiply-adds | torch.mm us | oneDNN us | oneDNN packed us | packing us |")
    print("|---|---:|---:|---:|---:|---:|")
    for m, k, n in shapes:
        times = {name: best_microseconds(run) for name, run in products(torch.randn(m, k), torch.randn(k, n)).items()}
        cells = " | ".join(f"{t:.1f}" for t in times.values())
        print(f"| `[{m}, {k}] @ [{k}, {n}]` | 2**{(m * k * n).bit_length() - 1} | {cells} |")


if __name__ == "__main__":
    main()
