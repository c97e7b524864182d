"""dotnet: compile Graphviz diagrams of neural networks into PyTorch modules.

The Python API mirrors the command line::

    import dotnet
    source = dotnet.compile_to_source("specs/ConvAutoEncoder.dot")
    model = dotnet.build("specs/ConvAutoEncoder.dot", device="cpu")
    LeNet = dotnet.load("specs/LeNet.dot")      # the class, compiled once and cached

Importing dotnet does not import torch; only :func:`build`, :func:`load` and
``compile_spec(..., out=PATH)`` do.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from dotnet import compiler
from dotnet.compiler import Compiled
from dotnet.diagnostics import Diagnostic, SpecError
from dotnet.import_hook import install_import_hook, uninstall_import_hook

if TYPE_CHECKING:
    from torch import nn

__all__ = [
    "Compiled",
    "Diagnostic",
    "SpecError",
    "build",
    "compile_spec",
    "compile_to_source",
    "install_import_hook",
    "load",
    "uninstall_import_hook",
]
__version__ = "0.1.0"


def compile_spec(
    spec: str | Path,
    graph: str | None = None,
    params: Mapping[str, int | float] | None = None,
    blocks: dict[str, str] | None = None,
    out: str | Path | None = None,
    device: str = "cpu",
    name: str | None = None,
) -> Compiled:
    """Compile ``spec``; raises :class:`SpecError` on a bad spec. A ``params`` decimal is a rate (``CompRate=0.5``).

    ``graph`` is ``NAME``, ``NAME@LINE`` or parts ``A+B+C``; ``name`` names the class.
    With ``out``, the module is also written there as ``dotnet compile`` writes it:
    atomically, and only once it has imported and run one forward pass on ``device``
    (this needs torch).
    """
    compiled = compiler.compile_spec(spec, graph, params, blocks, name)
    if out is not None:
        from dotnet.writing import write_checked

        write_checked(compiled, Path(out), device)
    return compiled


def compile_to_source(
    spec: str | Path,
    graph: str | None = None,
    params: Mapping[str, int | float] | None = None,
    blocks: dict[str, str] | None = None,
    name: str | None = None,
) -> str:
    """The generated Python source for ``spec``; raises :class:`SpecError` on a bad spec."""
    return compile_spec(spec, graph, params, blocks, name=name).source


def build(
    spec: str | Path,
    graph: str | None = None,
    params: Mapping[str, int | float] | None = None,
    blocks: dict[str, str] | None = None,
    device: str = "cpu",
    name: str | None = None,
    quiet: bool = False,
) -> nn.Module:
    """Compile ``spec`` and return an instance of its model on ``device``.

    ``graph`` is ``NAME``, ``NAME@LINE`` or parts ``A+B+C``; ``name`` names the class.
    The class is imported from the cache (see :func:`load`), so ``torch.save(model)``
    loads wherever the generated module can be imported. On a terminal, compiling
    or building that takes over a second says so on stderr, as ``dotnet compile``
    does (not in CI, where ``$CI`` is set, nor with ``quiet``).
    """
    from dotnet.loading import import_compiled
    from dotnet.progress import Progress
    from dotnet.runtime import instantiate_class

    progress = Progress.for_terminal(quiet)
    with progress.step(f"compiling {Path(spec).name}"):
        compiled = compile_spec(spec, graph, params, blocks, name=name)
    model_class = getattr(import_compiled(compiled), compiled.class_name)
    with progress.step(f"building {compiled.class_name} on {device}"):
        return instantiate_class(compiled, model_class, device)


def load(
    spec: str | Path,
    graph: str | None = None,
    params: dict[str, int] | None = None,
    blocks: dict[str, str] | None = None,
    name: str | None = None,
    quiet: bool = False,
) -> type[nn.Module]:
    """The model class compiled from ``spec``: compiled once, then taken from the cache.

    The cache is keyed by the request (``name`` included: the class's name, as
    ``--name``) and the content of the spec and of every block file it uses; a change
    to any of them compiles again. Where it lives: :func:`dotnet.loading.cache_dir`.
    A compile that takes over a second says so on a terminal, as :func:`build` does.
    """
    from dotnet.loading import load as load_class
    from dotnet.progress import Progress

    return load_class(spec, graph, params, blocks, name, Progress.for_terminal(quiet))
