"""Import generated source, instantiate the model on a device, and run it once.

This is the only module that imports torch, and only when called.
"""

from __future__ import annotations

import importlib.util
import linecache
import sys
import types
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dotnet import codes
from dotnet.budget import available_ram, check_budget, memory_budget
from dotnet.compiler import Compiled, raise_if_missing
from dotnet.diagnostics import error

if TYPE_CHECKING:
    import torch
    from torch import nn


@dataclass(frozen=True)
class RunSummary:
    """What one forward pass on random inputs showed."""

    class_name: str
    parameters: int
    device: str
    inputs: list[tuple[str, tuple[int, ...]]]
    outputs: list[tuple[str, tuple[int, ...]]]


def require_torch() -> types.ModuleType:
    try:
        import torch
    except ImportError:
        raise error(codes.DEVICE, "compiling needs PyTorch: pip install torch") from None
    return torch


def check_device(device: str) -> None:
    """An error unless PyTorch can use ``device`` here."""
    torch = require_torch()
    if device == "cuda" and not torch.cuda.is_available():
        raise error(codes.DEVICE, "--device cuda: PyTorch finds no CUDA device on this machine (use --device cpu)")
    if device not in ("cpu", "cuda"):
        raise error(codes.DEVICE, f"unknown device {device!r}: use cpu or cuda")


def available_memory(device: str) -> int:
    """Bytes free for new tensors on ``device``: the machine's memory, or the GPU's."""
    if device == "cuda":
        free, _ = require_torch().cuda.mem_get_info()
        return int(free)
    return available_ram()


def load_module(source: str, name: str, path: Path | None = None, module_name: str | None = None) -> types.ModuleType:
    """Import generated source as a module (from ``path`` when given, so tracebacks show it)."""
    module_name = module_name or f"dotnet_generated_{name}"
    if path is not None:
        spec = importlib.util.spec_from_file_location(module_name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
        return module
    module = types.ModuleType(module_name)
    sys.modules[module_name] = module
    filename = f"<dotnet {name}>"
    # inspect reads source through linecache: TorchScript needs it, and so do tracebacks.
    linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
    exec(compile(source, filename, "exec"), module.__dict__)  # our generated code, never label text
    return module


def instantiate(
    compiled: Compiled, device: str = "cpu", path: Path | None = None, memory_limit: str | None = None
) -> nn.Module:
    """Build the compiled model on ``device`` with its default constructor arguments.

    Refused before anything is allocated when building it and running it once would
    need more than the memory budget (:mod:`dotnet.budget`; ``memory_limit`` such as ``8G``).
    """
    check_buildable(compiled, device, memory_limit)
    module = load_module(compiled.source, compiled.class_name, path)
    model_class = getattr(module, compiled.class_name)
    model: nn.Module = model_class().to(device)
    return model


def instantiate_class(
    compiled: Compiled, model_class: type[nn.Module], device: str = "cpu", memory_limit: str | None = None
) -> nn.Module:
    """An instance of ``compiled``'s class, already imported, checked as :func:`instantiate` checks."""
    check_buildable(compiled, device, memory_limit)
    model: nn.Module = model_class().to(device)
    return model


def check_buildable(compiled: Compiled, device: str, memory_limit: str | None = None) -> None:
    """An error unless every size has a value, ``device`` is usable and the memory budget allows the model."""
    raise_if_missing(compiled)
    check_device(device)
    try:
        budget = memory_budget(memory_limit, available_memory(device))
    except ValueError as exc:
        raise error(codes.BAD_PARAM, f"--memory-limit {memory_limit}: {exc}") from None
    check_budget(compiled, budget)


def example_inputs(compiled: Compiled, device: str = "cpu") -> list[torch.Tensor]:
    """Random inputs of the declared shapes (integer ids where the spec says so)."""
    torch = require_torch()
    tensors = []
    for spec in compiled.inputs:
        size = tuple(compiled.example_size(axis.size) for axis in spec.shape)
        if spec.integer:
            high = compiled.example_size(spec.high) if spec.high is not None else 2
            tensors.append(torch.randint(0, high, size, device=device))
        else:
            tensors.append(torch.randn(size, device=device))
    return tensors


def smoke_run(compiled: Compiled, model: nn.Module, device: str = "cpu") -> RunSummary:
    """One forward pass in eval mode; its output shapes are checked against the inferred ones."""
    torch = require_torch()
    inputs = example_inputs(compiled, device)
    model.eval()
    with torch.no_grad():
        result = model(*inputs)
    outputs = list(result) if isinstance(result, tuple) else [result]
    analysis = compiled.analysis
    out_shapes = []
    for name, tensor in zip(analysis.outputs, outputs):
        expected = tuple(compiled.example_size(a.size) for a in analysis.shapes[name])
        if tuple(tensor.shape) != expected:
            raise error(
                codes.RUNTIME,
                f"output {name!r} has shape {tuple(tensor.shape)} but the spec says {expected}",
                analysis.graph.location,
            )
        out_shapes.append((name, expected))
    return RunSummary(
        compiled.class_name,
        sum(p.numel() for p in model.parameters()),
        device,
        [(s.name, tuple(t.shape)) for s, t in zip(compiled.inputs, inputs)],
        out_shapes,
    )
