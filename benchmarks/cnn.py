"""Time forward plus backward of each generated CNN against its hand-written reference.

    python benchmarks/cnn.py [--device cpu|cuda] [--models LeNet,ResNet18] [--repeat 7] [--threads 1]

Both models of a pair get the same weights and the same batch, in training mode.
Their steps are timed alternately (generated, reference, generated, ...) so that
load from elsewhere on the machine falls on both alike. Two ratios are printed,
generated over reference: of the medians, and of the best (fastest) steps, which
load disturbs least; 1.0 means the generated code costs nothing extra. The last
column says whether one profiled step of each runs the same multiset of aten ops,
forward and backward: where it does, a ratio away from 1.0 is noise, not code.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import torch
from torch.nn import functional as F
from torch.profiler import ProfilerActivity, profile

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import dotnet  # noqa: E402
from tests.cnn_references import REFERENCES, copy_weights  # noqa: E402

DEFAULT_BATCH = {"LeNet": 256, "AlexNet": 8, "VGG11": 4, "NiN": 8, "GoogLeNet": 16, "ResNet18": 16}
"""Batch sizes that keep one CPU step well under a second or two."""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu", help="where to run [cpu]")
    parser.add_argument("--models", default=",".join(REFERENCES), help="comma-separated spec names [all six]")
    parser.add_argument("--batch", type=int, help="batch size for every model [per-model default]")
    parser.add_argument("--repeat", type=int, default=7, help="timed steps per model [7]")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps per model first [2]")
    parser.add_argument("--threads", type=int, help="torch intra-op threads [torch's default]")
    return parser.parse_args()


def step_timer(model: torch.nn.Module, images: torch.Tensor, labels: torch.Tensor, device: str) -> Callable[[], float]:
    """A function that runs one forward and backward pass and returns its seconds."""

    def run() -> float:
        if device == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        model.zero_grad(set_to_none=True)
        F.cross_entropy(model(images), labels).backward()
        if device == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - start

    return run


def aten_ops(model: torch.nn.Module, images: torch.Tensor, labels: torch.Tensor) -> Counter[str]:
    """How often each op runs in one forward and backward pass, from the profiler."""
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        F.cross_entropy(model(images), labels).backward()
    return Counter({event.key: event.count for event in prof.key_averages()})


@dataclass(frozen=True)
class Result:
    generated: list[float]
    reference: list[float]
    same_ops: bool


def compare(name: str, batch: int, repeat: int, warmup: int, device: str) -> Result:
    """Seconds per step of the generated model and of its reference, timed alternately."""
    build_reference, size = REFERENCES[name]
    torch.manual_seed(0)
    reference = build_reference().to(device).train()
    generated = dotnet.build(ROOT / "specs" / f"{name}.dot", device=device).train()
    copy_weights(reference, generated)
    images = torch.randn(batch, 1, size, size, device=device)
    labels = torch.randint(0, 10, (batch,), device=device)
    timers = [step_timer(generated, images, labels, device), step_timer(reference, images, labels, device)]
    for _ in range(warmup):
        for timer in timers:
            timer()
    times: list[list[float]] = [[], []]
    for i in range(repeat):
        order = (0, 1) if i % 2 == 0 else (1, 0)  # alternate who goes first
        for j in order:
            times[j].append(timers[j]())
    same = aten_ops(generated, images[:1], labels[:1]) == aten_ops(reference, images[:1], labels[:1])
    return Result(times[0], times[1], same)


def cpu_name() -> str:
    """The CPU model from /proc/cpuinfo where there is one, else the architecture."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    return platform.machine()


def main() -> None:
    args = parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        sys.exit("--device cuda: no CUDA device here")
    if args.threads:
        torch.set_num_threads(args.threads)
    names = [n.strip() for n in args.models.split(",") if n.strip()]
    unknown = [n for n in names if n not in REFERENCES]
    if unknown:
        sys.exit(f"unknown model(s) {', '.join(unknown)}; choose from {', '.join(REFERENCES)}")
    where = torch.cuda.get_device_name() if args.device == "cuda" else cpu_name()
    threads = torch.get_num_threads()
    print(f"# {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, torch {torch.__version__}, {args.device} ({where}),")
    print(f"# {threads} threads, forward+backward, median of {args.repeat} alternating steps")
    print(f"{'model':<10} {'batch':>5} {'generated ms':>13} {'reference ms':>13} {'median':>7} {'best':>6}  same ops")
    for name in names:
        batch = args.batch or DEFAULT_BATCH[name]
        r = compare(name, batch, args.repeat, args.warmup, args.device)
        gen, ref = statistics.median(r.generated), statistics.median(r.reference)
        best = min(r.generated) / min(r.reference)
        print(
            f"{name:<10} {batch:>5} {gen * 1e3:>13.1f} {ref * 1e3:>13.1f} {gen / ref:>7.3f} {best:>6.3f}"
            f"  {'yes' if r.same_ops else 'NO'}"
        )


if __name__ == "__main__":
    main()
