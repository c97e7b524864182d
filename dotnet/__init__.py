"""dotnet: compile Graphviz diagrams of neural networks into PyTorch modules.

The Python API mirrors the command line::

    import dotnet
    source = dotnet.compile_to_source("specs/ConvAutoEncoder.dot")
    model = dotnet.build("specs/ConvAutoEncoder.dot", device="cpu")

Importing dotnet does not import torch; only :func:`build` does.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from dotnet.compiler import Compiled, compile_spec
from dotnet.diagnostics import Diagnostic, SpecError

if TYPE_CHECKING:
    from torch import nn

__all__ = ["Compiled", "Diagnostic", "SpecError", "build", "compile_spec", "compile_to_source"]
__version__ = "0.1.0"


def compile_to_source(
    spec: str | Path,
    graph: str | None = None,
    params: dict[str, int | float] | None = None,
    blocks: dict[str, str] | None = None,
) -> str:
    """The generated Python source for ``spec``; raises :class:`SpecError` on a bad spec."""
    return compile_spec(spec, graph, params, blocks).source


def build(
    spec: str | Path,
    graph: str | None = None,
    params: dict[str, int | float] | None = None,
    blocks: dict[str, str] | None = None,
    device: str = "cpu",
) -> nn.Module:
    """Compile ``spec`` and return an instance of its model on ``device``."""
    from dotnet.runtime import instantiate

    return instantiate(compile_spec(spec, graph, params, blocks), device)
