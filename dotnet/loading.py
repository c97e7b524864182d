"""``dotnet.load``: a spec's class, compiled once and cached on disk by content hash.

A request (spec file, digraph, ``--param`` values, ``--block`` bindings) is keyed by
the hash of the spec's bytes, the request itself and the generator (dotnet's own
code and templates). Its record lists every other file the compile looked at (the
blocks beside the spec, and the names it looked for and did not find) with their
hashes; a change to any of them, or a new file where none was, compiles again.

The generated source is stored once per content, as ``<cache>/modules/<hash>/<Class>.py``,
and imported as the module ``<Class>``: the name a ``torch.save``-d model records, so
it loads in any process that has that file (or ``dotnet compile``'s ``<Class>.py``)
on its path, or that calls :func:`load` on the same spec first.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import sys
import tempfile
import types
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dotnet.codegen.source import template_dir
from dotnet.compiler import Compiled, compile_spec
from dotnet.progress import Progress

if TYPE_CHECKING:
    from torch import nn

CACHE_ENV = "DOTNET_CACHE_DIR"
"""Environment variable that moves the cache (any absolute folder)."""


def cache_dir() -> Path:
    """Where compiled modules are kept: ``$DOTNET_CACHE_DIR``, else the platform's user cache.

    Linux and other Unixes: ``$XDG_CACHE_HOME/dotnet`` (``~/.cache/dotnet``);
    macOS: ``~/Library/Caches/dotnet``; Windows: ``%LOCALAPPDATA%\\dotnet\\Cache``.
    """
    explicit = os.environ.get(CACHE_ENV)
    if explicit:
        return Path(explicit)
    if sys.platform == "win32":
        local = os.environ.get("LOCALAPPDATA")
        return (Path(local) if local else Path.home() / "AppData" / "Local") / "dotnet" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "dotnet"
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    return (Path(xdg) if os.path.isabs(xdg) else Path.home() / ".cache") / "dotnet"


@dataclass(frozen=True)
class Request:
    """What to compile: the same arguments as :func:`dotnet.compile_spec`."""

    spec: Path
    graph: str | None = None
    params: tuple[tuple[str, int], ...] = ()
    blocks: tuple[tuple[str, str], ...] = ()
    name: str | None = None
    """The class's name (``--name``); None: the digraph's."""

    def key(self) -> str:
        """The hash of the request, the spec's bytes and the generator."""
        text = json.dumps(
            {
                "generator": generator_fingerprint(),
                "spec": str(self.spec),
                "spec_hash": file_hash(self.spec),
                "graph": self.graph,
                "params": self.params,
                "blocks": self.blocks,
                "name": self.name,
            }
        )
        return hashlib.sha256(text.encode()).hexdigest()


def load(
    spec: str | Path,
    graph: str | None = None,
    params: dict[str, int] | None = None,
    blocks: dict[str, str] | None = None,
    name: str | None = None,
    progress: Progress | None = None,
) -> type[nn.Module]:
    """The model class compiled from ``spec``, from the cache when nothing it depends on changed.

    ``name`` names the class (as ``--name``); ``progress`` shows a compile that takes
    long. Raises :class:`dotnet.SpecError` on a bad spec. Needs torch (the class is imported).
    """
    request = Request(
        Path(spec).resolve(),
        graph,
        tuple(sorted((params or {}).items())),
        tuple(sorted((blocks or {}).items())),
        name,
    )
    key = request.key()
    record = _read_record(key)
    if record is None:
        with (progress or Progress()).step(f"compiling {Path(spec).name}"):
            compiled = compile_spec(spec, graph, params, blocks, name)
        module = import_compiled(compiled)
        depends = {str(path.resolve()): file_hash(path) for path in compiled.sibling_files}
        try:
            _write_record(key, {"class": compiled.class_name, "module": module.__file__, "depends": depends})
        except OSError:
            pass  # an unwritable cache only costs a compile next time
        return _model_class(module, compiled.class_name)
    return _model_class(_import_file(Path(record["module"]), record["class"]), record["class"])


def _model_class(module: types.ModuleType, name: str) -> type[nn.Module]:
    """The class ``name`` of a generated module."""
    model_class: type[nn.Module] = getattr(module, name)
    return model_class


def import_compiled(compiled: Compiled) -> types.ModuleType:
    """Store ``compiled``'s source in the cache (once per content) and import it as ``<Class>``.

    Where the cache cannot be written, the module is imported from memory instead:
    the model still works and pickles, but only this process can unpickle it.
    """
    digest = hashlib.sha256(compiled.source.encode()).hexdigest()
    path = cache_dir() / "modules" / digest[:32] / f"{compiled.class_name}.py"
    try:
        if not path.is_file() or path.read_text(encoding="utf-8") != compiled.source:
            _write_atomically(path, compiled.source)
    except OSError:
        from dotnet.runtime import load_module

        return load_module(compiled.source, compiled.class_name, module_name=compiled.class_name)
    return _import_file(path, compiled.class_name)


def file_hash(path: Path) -> str | None:
    """The SHA-256 of a file's bytes; None when there is no such file."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return None


@cache
def generator_fingerprint() -> str:
    """A hash of dotnet's own code and templates: a new dotnet compiles everything again."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent
    files = sorted(package.rglob("*.py")) + sorted(template_dir().glob("*.jinja"))
    for path in files:
        digest.update(path.relative_to(path.parent if path.suffix == ".jinja" else package).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _read_record(key: str) -> dict[str, Any] | None:
    """The record of an earlier compile of this request, if all it depended on is unchanged."""
    try:
        record = json.loads(_record_path(key).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or not all(isinstance(record.get(k), str) for k in ("class", "module")):
        return None  # not a record this version wrote
    depends = record.get("depends", {})
    if any(file_hash(Path(name)) != digest for name, digest in depends.items()):
        return None
    if not Path(record["module"]).is_file():
        return None
    return record


def _write_record(key: str, record: dict[str, Any]) -> None:
    _write_atomically(_record_path(key), json.dumps(record, indent=1, ensure_ascii=False))


def _record_path(key: str) -> Path:
    return cache_dir() / "requests" / f"{key[:32]}.json"


def _write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file, so no reader sees half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


_imported: dict[Path, types.ModuleType] = {}
"""Every cached module imported in this process, so each file is executed once."""


def _import_file(path: Path, name: str) -> types.ModuleType:
    """The module at ``path``, registered as ``sys.modules[name]`` (where pickle looks for it).

    Two variants of one digraph share the name: the one loaded last is registered.
    """
    if path in _imported:
        sys.modules[name] = _imported[path]
        return _imported[path]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    _imported[path] = module
    return module
