"""An installed, non-editable wheel finds its templates and compiles a spec from anywhere."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import REPO, SPECS


@pytest.mark.slow
def test_installed_wheel_compiles_from_another_folder(tmp_path):
    pytest.importorskip("build")
    dist = tmp_path / "dist"
    built = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(REPO)], capture_output=True, text=True
    )
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    (wheel,) = dist.glob("dotnet-*.whl")

    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(wheel)], check=True
    )
    assert (site / "dotnet" / "templates" / "module.py.jinja").is_file()

    work = tmp_path / "work"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"PYTHONPATH": str(site)}
    result = subprocess.run(
        [sys.executable, "-m", "dotnet", "compile", str(SPECS / "ConvAutoEncoder.dot")],
        cwd=work, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "wrote ConvAutoEncoder.py" in result.stdout
    where = subprocess.run(
        [sys.executable, "-c", "import dotnet.codegen.source as r; print(r.template_dir())"],
        cwd=work, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert where.stdout.strip().startswith(str(site))
