"""``compile``, ``extract`` and ``render`` write their files by one rule (dotnet/writing.py).

Atomically, through a temporary file beside the target; only a regular file or a new path
is written; a symbolic link is followed, so the file it points to is replaced and the link
stays; a device, folder or FIFO is refused with exit 1 and left as it was. A folder given
where a spec file is wanted says that ``dotnet check`` takes folders.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest

from tests.conftest import REPO, run_cli

SPEC = REPO / "specs" / "LeNet.dot"
DOCUMENT = REPO / "tests" / "data" / "documents" / "style-notes.md"
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")


def hidden(folder: Path) -> list[str]:
    """Temporary files (``.NAME.XXXX``) left in ``folder``."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def linked(tmp_path: Path, name: str, content: str = "old\n") -> tuple[Path, Path]:
    """``tmp_path/name``, a link to ``tmp_path/shared/name``, a regular file of mode 0640."""
    (tmp_path / "shared").mkdir(exist_ok=True)
    real = tmp_path / "shared" / name
    real.write_text(content, encoding="utf-8")
    real.chmod(0o640)
    link = tmp_path / name
    link.symlink_to(Path("shared") / name)
    return link, real


def assert_link_kept(link: Path, real: Path) -> None:
    assert link.is_symlink() and link.resolve() == real.resolve()
    assert stat.S_IMODE(real.stat().st_mode) == 0o640
    assert hidden(real.parent) == [] and hidden(link.parent) == []


# -- symbolic links: the file they point to is written -------------------------------------


def test_compile_to_a_link_writes_the_file_it_points_to(tmp_path: Path) -> None:
    link, real = linked(tmp_path, "LeNet.py")
    result = run_cli("compile", SPEC, "-o", "LeNet.py", "--no-run", cwd=tmp_path)
    assert result.code == 0, result.stderr
    assert_link_kept(link, real)
    assert real.read_text(encoding="utf-8").startswith('"""LeNet: a PyTorch module compiled from its diagram.')


def test_compile_to_a_link_that_points_nowhere_creates_its_file(tmp_path: Path) -> None:
    (tmp_path / "shared").mkdir()
    (tmp_path / "LeNet.py").symlink_to(Path("shared") / "model.py")
    result = run_cli("compile", SPEC, "-o", "LeNet.py", "--no-run", cwd=tmp_path)
    assert result.code == 0, result.stderr
    assert (tmp_path / "LeNet.py").is_symlink()
    assert "class LeNet(nn.Module):" in (tmp_path / "shared" / "model.py").read_text(encoding="utf-8")


def test_a_loop_of_links_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.py").symlink_to("b.py")
    (tmp_path / "b.py").symlink_to("a.py")
    result = run_cli("compile", SPEC, "-o", "a.py", "--no-run", cwd=tmp_path)
    assert result.code == 1
    assert result.stderr.splitlines() == [
        "error: -o a.py: cannot write the file: Too many levels of symbolic links [io-error]"
    ]


def test_a_link_to_a_device_is_refused_and_the_device_stays(tmp_path: Path) -> None:
    (tmp_path / "LeNet.py").symlink_to("/dev/null")
    result = run_cli("compile", SPEC, "-o", "LeNet.py", "--no-run", cwd=tmp_path)
    assert result.code == 1
    assert result.stderr.splitlines() == [
        "error: -o LeNet.py: cannot write the file: it is a character device, not a regular file [io-error]"
    ]
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    assert (tmp_path / "LeNet.py").is_symlink()


def test_extract_writes_through_a_link(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    link, real = linked(tmp_path / "out", "TinyMLPHead.dot")
    result = run_cli("extract", DOCUMENT, "-o", "out", cwd=tmp_path)
    assert result.code == 0, result.stderr
    assert_link_kept(link, real)
    assert "digraph TinyMLPHead" in real.read_text(encoding="utf-8")


@needs_dot
def test_render_writes_through_a_link(tmp_path: Path) -> None:
    link, real = linked(tmp_path, "lenet.svg")
    result = run_cli("render", SPEC, "-o", "lenet.svg", cwd=tmp_path)
    assert result.code == 0, result.stderr
    assert_link_kept(link, real)
    assert real.read_text(encoding="utf-8").lstrip().startswith("<?xml")


# -- devices, pipes and folders are refused ------------------------------------------------


@needs_dot
def test_render_to_a_device_is_refused_and_the_device_stays(tmp_path: Path) -> None:
    (tmp_path / "null.svg").symlink_to("/dev/null")
    result = run_cli("render", SPEC, "-o", "null.svg", cwd=tmp_path)
    assert result.code == 1
    assert result.stderr.splitlines() == [
        "error: -o null.svg: cannot write the file: it is a character device, not a regular file [io-error]"
    ]
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    assert hidden(tmp_path) == []


@needs_dot
def test_render_to_a_folder_exits_1(tmp_path: Path) -> None:
    (tmp_path / "out.svg").mkdir()
    result = run_cli("render", SPEC, "-o", "out.svg", cwd=tmp_path)
    assert result.code == 1
    assert result.stderr.splitlines() == [
        "error: -o out.svg: cannot write the file: it is a folder, not a regular file [io-error]"
    ]
    assert list((tmp_path / "out.svg").iterdir()) == []


@pytest.mark.parametrize("kind", ["a character device", "a named pipe"])
def test_extract_refuses_a_device_or_pipe_where_a_file_goes(tmp_path: Path, kind: str) -> None:
    out = tmp_path / "out"
    out.mkdir()
    target = out / "TinyMLPHead.dot"
    if kind == "a named pipe":
        os.mkfifo(target)
    else:
        target.symlink_to("/dev/null")
    result = run_cli("extract", DOCUMENT, "-o", "out", cwd=tmp_path)
    assert result.code == 1
    assert result.stderr.splitlines()[-1] == (
        f"error: cannot write out/TinyMLPHead.dot: it is {kind}, not a regular file [io-error]"
    )
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    assert target.is_symlink() or stat.S_ISFIFO(target.stat().st_mode)
    assert hidden(out) == []


def test_extract_writes_atomically(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A write that fails leaves the old file as it was and no temporary file."""
    from click.testing import CliRunner

    from dotnet import writing
    from dotnet.cli import main

    out = tmp_path / "out"
    out.mkdir()
    (out / "TinyMLP.dot").write_text("old\n", encoding="utf-8")

    def full_disk(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(writing.os, "replace", full_disk)
    result = CliRunner().invoke(main, ["extract", str(DOCUMENT), "-o", str(out)])
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        f"error: cannot write {out / 'SmallAutoEncoder.dot'}: No space left on device [io-error]"
    )
    assert (out / "TinyMLP.dot").read_text(encoding="utf-8") == "old\n"
    assert hidden(out) == []


# -- a folder where a spec file is wanted --------------------------------------------------


@pytest.mark.parametrize("command", [["compile"], ["shapes"], ["summary"], ["render", "-o", "x.svg"]])
def test_a_folder_as_spec_suggests_check(tmp_path: Path, command: list[str]) -> None:
    (tmp_path / "specs").mkdir()
    result = run_cli(command[0], "specs", *command[1:], cwd=tmp_path)
    assert result.code == 1
    assert result.stderr.splitlines() == [
        "specs:1:1: error: cannot read the file: it is a folder, not a regular file; "
        "dotnet check takes folders: dotnet check specs [io-error]"
    ]
    assert list(tmp_path.iterdir()) == [tmp_path / "specs"]
