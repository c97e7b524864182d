"""The op registry and every op family; importing this package registers them all."""

from __future__ import annotations

import importlib
import pkgutil

from dotnet.ops.base import CodeWriter, Op, known_names, lookup, register

for _module in pkgutil.iter_modules(__path__):
    if _module.name != "base":
        importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["CodeWriter", "Op", "known_names", "lookup", "register"]
