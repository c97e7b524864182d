"""Peak activation memory of one inference pass: each generated CNN against its reference.

    python benchmarks/memory.py [--device cpu|cuda] [--models LeNet,ResNet18] [--batch 32]

Both models of a pair get the same weights and the same batch and run once in eval
mode under ``torch.no_grad()``. On the CPU the peak is counted exactly: a dispatch
mode sees every tensor an op creates and adds its storage's bytes while any tensor
still uses that storage (parameters, buffers and the input are not counted). On CUDA
it is ``torch.cuda.max_memory_allocated`` above what was allocated before the pass.
The ratio is generated over reference; 1.0 means the generated forward holds no more
activations than the hand-written one. A spec with another way to write its reference
(``OTHER_REFERENCES``) gets a second row against that one.
"""

from __future__ import annotations

import argparse
import sys
import weakref
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import dotnet  # noqa: E402
from benchmarks.cnn import cpu_name  # noqa: E402
from tests import (  # noqa: E402
    dialect_references,
    fresh_references,
    graph_references,
    layer_references,
    style_references,  # noqa: E402
)
from tests.cnn_references import REFERENCES, copy_weights  # noqa: E402
from tests.reference_cae import ConvAutoEncoder  # noqa: E402

MODELS: dict[str, tuple[Callable[[], torch.nn.Module], tuple[int, ...]]] = {
    **{name: (build, (1, size, size)) for name, (build, size) in REFERENCES.items()},
    "ConvAutoEncoder": (ConvAutoEncoder, (3, 256, 256)),
    "AlexNetParts": (REFERENCES["AlexNet"][0], (1, 224, 224)),
    "LeNet5": (dialect_references.LeNet5, (1, 32, 32)),
    "VGG16": (style_references.vgg16, (1, 224, 224)),
    "ResNet50": (layer_references.ResNet50, (3, 224, 224)),
    "MobileNetV2": (layer_references.MobileNetV2, (3, 224, 224)),
    "DenseNet121": (dialect_references.densenet121, (3, 224, 224)),
    "UNet": (layer_references.UNet, (3, 64, 64)),
    "ViT": (graph_references.ViT, (3, 32, 32)),
    "AudioM5": (layer_references.M5, (1, 8000)),
    "SoftmaxRegression": (dialect_references.softmax_regression, (1, 28, 28)),
    "MobileNetV1": (fresh_references.mobilenet_v1_by_pairs, (3, 224, 224)),
    "SqueezeNet": (fresh_references.squeezenet1_1, (3, 224, 224)),
    "ResNet20": (fresh_references.resnet20, (3, 32, 32)),
}
"""Spec name -> (reference builder, the input's shape after the batch: channels, height, width)."""
OTHER_REFERENCES: dict[str, tuple[str, Callable[[], torch.nn.Module]]] = {
    "MobileNetV1/flat": ("MobileNetV1", fresh_references.mobilenet_v1),
}
"""Row -> (spec name, another way to write its reference), measured after the spec's own row:
MobileNetV1's reference builds a Sequential per layer pair, as hand-written ones do; the flat
one (every layer in one Sequential) frees each pair's input earlier (benchmarks/RESULTS.md)."""
MIB = 1024 * 1024


class LiveActivations(TorchDispatchMode):
    """Counts the bytes of the storages ops create, while any tensor still uses them."""

    def __init__(self, excluded: list[torch.Tensor]) -> None:
        super().__init__()
        self.excluded = {t.untyped_storage().data_ptr() for t in excluded}
        self.users: dict[int, int] = {}
        self.sizes: dict[int, int] = {}
        self.current = 0
        self.peak = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # noqa: ANN001, ANN204
        result = func(*args, **(kwargs or {}))
        for tensor in tree_leaves(result):
            if isinstance(tensor, torch.Tensor):
                self._track(tensor)
        return result

    def _track(self, tensor: torch.Tensor) -> None:
        storage = tensor.untyped_storage()
        key = storage.data_ptr()
        if key == 0 or key in self.excluded:
            return
        if key not in self.users:
            self.users[key] = 0
            self.sizes[key] = storage.nbytes()
            self.current += storage.nbytes()
            self.peak = max(self.peak, self.current)
        self.users[key] += 1
        weakref.finalize(tensor, self._release, key)

    def _release(self, key: int) -> None:
        self.users[key] -= 1
        if self.users[key] == 0:
            del self.users[key]
            self.current -= self.sizes.pop(key)


def peak_bytes(model: torch.nn.Module, images: torch.Tensor) -> int:
    """Peak activation bytes of ``model(images)`` in inference."""
    with torch.no_grad():
        if images.is_cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            before = torch.cuda.memory_allocated()
            output = model(images)
            torch.cuda.synchronize()
            return torch.cuda.max_memory_allocated() - before
        held = [*model.parameters(), *model.buffers(), images]
        with LiveActivations(held) as counter:
            output = model(images)
        del output
        return counter.peak


def compare(
    name: str, batch: int, device: str, build_reference: Callable[[], torch.nn.Module] | None = None
) -> tuple[int, int]:
    """Peak activation bytes of the generated model and of its reference (``MODELS``' unless given)."""
    default, chw = MODELS[name]
    torch.manual_seed(0)
    reference = (build_reference or default)().to(device).eval()
    generated = dotnet.build(ROOT / "specs" / f"{name}.dot", device=device).eval()
    copy_weights(reference, generated)
    images = torch.randn(batch, *chw, device=device)
    for model in (generated, reference):  # warm up: first calls may allocate workspaces
        with torch.no_grad():
            model(images[:1])
    return peak_bytes(generated, images), peak_bytes(reference, images)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu", help="where to run [cpu]")
    parser.add_argument("--models", default=",".join(MODELS), help="comma-separated spec names [all]")
    parser.add_argument("--batch", type=int, default=32, help="batch size [32]")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        sys.exit("--device cuda: no CUDA device here")
    names = [n.strip() for n in args.models.split(",") if n.strip()]
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        sys.exit(f"unknown model(s) {', '.join(unknown)}; choose from {', '.join(MODELS)}")
    where = torch.cuda.get_device_name() if args.device == "cuda" else cpu_name()
    print(f"# {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, torch {torch.__version__}, {args.device} ({where})")
    print(f"# peak activation memory of one inference pass, batch {args.batch}")
    print(f"{'model':<16} {'generated MiB':>14} {'reference MiB':>14} {'ratio':>6}")
    rows: list[tuple[str, str, Callable[[], torch.nn.Module] | None]] = []
    for name in names:
        rows.append((name, name, None))
        rows += [(row, name, build) for row, (spec, build) in OTHER_REFERENCES.items() if spec == name]
    for row, name, build in rows:
        generated, reference = compare(name, args.batch, args.device, build)
        print(f"{row:<16} {generated / MIB:>14.1f} {reference / MIB:>14.1f} {generated / reference:>6.3f}")


if __name__ == "__main__":
    main()
