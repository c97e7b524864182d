"""An opt-in import hook: a folder of ``.dot`` files imports as a package of model classes.

    import dotnet
    dotnet.install_import_hook()
    from specs import ConvAutoEncoder      # the class compiled from specs/ConvAutoEncoder.dot

A folder on ``sys.path`` (or inside such a package) that holds ``.dot`` files and no
``__init__.py`` imports as a package whose attributes are the classes compiled from
them, through :func:`dotnet.load` and its cache, with the digraphs' default sizes.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
import types
from collections.abc import Sequence
from pathlib import Path


class DotFolderFinder(importlib.abc.MetaPathFinder):
    """Finds packages that are folders of ``.dot`` files; every other import passes by."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: types.ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        leaf = fullname.rpartition(".")[2]
        for entry in sys.path if path is None else path:
            folder = Path(entry or ".") / leaf
            if _is_dot_folder(folder):
                spec = importlib.machinery.ModuleSpec(fullname, DotFolderLoader(folder), is_package=True)
                spec.submodule_search_locations = [str(folder)]
                return spec
        return None


class DotFolderLoader(importlib.abc.Loader):
    """Makes the package of one folder: each ``NAME.dot`` is the attribute ``NAME``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        return None  # the default module object

    def exec_module(self, module: types.ModuleType) -> None:
        folder = self.folder
        module.__doc__ = f"Model classes compiled from the .dot files in {folder}."

        def __getattr__(name: str) -> type:
            spec = folder / f"{name}.dot"
            if name.startswith("__") or not spec.is_file():
                raise AttributeError(f"module {module.__name__!r} has no attribute {name!r} (no {spec})")
            from dotnet.loading import load

            return load(spec)

        def __dir__() -> list[str]:
            return sorted(path.stem for path in folder.glob("*.dot") if path.stem.isidentifier())

        module.__getattr__ = __getattr__  # type: ignore[method-assign]
        module.__dir__ = __dir__  # type: ignore[method-assign]


def _is_dot_folder(folder: Path) -> bool:
    try:
        return folder.is_dir() and not (folder / "__init__.py").exists() and any(folder.glob("*.dot"))
    except OSError:
        return False


def install_import_hook() -> DotFolderFinder:
    """Let folders of ``.dot`` files be imported (idempotent); returns the finder installed.

    The finder goes just before Python's own path finder, so a real package of the
    same name still wins, and a folder of diagrams is not taken for a namespace package.
    """
    for finder in sys.meta_path:
        if isinstance(finder, DotFolderFinder):
            return finder
    finder = DotFolderFinder()
    position = next((i for i, f in enumerate(sys.meta_path) if f is importlib.machinery.PathFinder), len(sys.meta_path))
    sys.meta_path.insert(position, finder)
    return finder


def uninstall_import_hook() -> None:
    """Remove the finder :func:`install_import_hook` installed (packages imported stay)."""
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, DotFolderFinder)]
