"""Golden copies of the code generated for every spec in specs/.

Refresh them after an intended change to the generated code with::

    python -m tests.golden_files

and review the diff like any other change.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden"
SPECS = ROOT / "specs"


def specs() -> list[Path]:
    """Every spec file in specs/, sorted."""
    return sorted(SPECS.glob("*.dot"))


def golden_path(spec: Path) -> Path:
    return GOLDEN / f"{spec.stem}.py"


def generate(spec: Path) -> str:
    """The generated source for ``spec``, compiled as ``dotnet compile specs/NAME.dot`` does."""
    import os

    from dotnet import compile_to_source

    cwd = os.getcwd()
    os.chdir(ROOT)  # diagnostics and comments name the spec relative to the repo
    try:
        return compile_to_source(Path("specs") / spec.name)
    finally:
        os.chdir(cwd)


def refresh() -> None:
    GOLDEN.mkdir(exist_ok=True)
    for old in GOLDEN.glob("*.py"):
        old.unlink()
    for spec in specs():
        golden_path(spec).write_text(generate(spec), encoding="utf-8")
        print(f"wrote {golden_path(spec).relative_to(ROOT)}")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    refresh()
