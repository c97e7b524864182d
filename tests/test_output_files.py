"""``dotnet compile`` writing its module: environment problems exit 1 naming the path and the
cause, the target is only ever a regular file, no temporary file is left behind (not even on
SIGINT or SIGTERM), and the file written has the mode a new file gets, or the mode it replaces."""

from __future__ import annotations

import errno
import os
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from dotnet.cli import main
from tests.conftest import REPO, run_cli

SPEC = REPO / "specs" / "LeNet.dot"


def compile_in_process(*args: str | Path) -> tuple[int, str]:
    """Run ``dotnet compile SPEC ARGS`` in this process (so a test can patch the OS); exit code, stderr."""
    result = CliRunner().invoke(main, ["compile", str(SPEC), *map(str, args)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stderr


def temp_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


@pytest.fixture
def umask_027() -> Iterator[None]:
    previous = os.umask(0o027)
    yield
    os.umask(previous)


def test_a_device_as_output_is_refused_and_stays_a_device(tmp_path: Path) -> None:
    result = run_cli("compile", SPEC, "-o", "/dev/null", cwd=tmp_path)
    assert result.code == 1
    assert result.stderr.splitlines() == [
        "error: -o /dev/null: cannot write the file: it is a character device, not a regular file [io-error]"
    ]
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    assert list(tmp_path.iterdir()) == []


def test_a_folder_as_output_exits_1(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    result = run_cli("compile", SPEC, "-o", "out", cwd=tmp_path)
    assert result.code == 1
    assert result.stderr.splitlines() == [
        "error: -o out: cannot write the file: it is a folder, not a regular file [io-error]"
    ]


@pytest.mark.parametrize(
    ("target", "cause"),
    [
        ("missing/LeNet.py", "folder missing does not exist"),
        ("plain/LeNet.py", "plain is not a folder"),
        ("x" * 300 + ".py", "File name too long"),
    ],
)
def test_an_unwritable_path_names_itself_and_the_cause(tmp_path: Path, target: str, cause: str) -> None:
    (tmp_path / "plain").write_text("a file, not a folder")
    result = run_cli("compile", SPEC, "-o", target, cwd=tmp_path)
    assert result.code == 1
    assert result.stderr.splitlines() == [f"error: -o {target}: cannot write the file: {cause} [io-error]"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plain"]


def test_a_name_just_short_of_the_limit_is_written(tmp_path: Path) -> None:
    target = "x" * 252 + ".py"  # the longest name most file systems take; the temporary name is shorter
    result = run_cli("compile", SPEC, "-o", target, cwd=tmp_path)
    assert result.code == 0, result.stderr
    assert [p.name for p in tmp_path.iterdir()] == [target]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_folder_exits_1(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    result = run_cli("compile", SPEC, "-o", folder / "LeNet.py", cwd=tmp_path)
    assert result.code == 1
    assert result.stderr.splitlines() == [
        f"error: -o {folder / 'LeNet.py'}: cannot write the file: Permission denied [io-error]"
    ]


class _FullDisk:
    """A file whose writes fail as on a full disk."""

    def __init__(self, file: object) -> None:
        self._file = file

    def __enter__(self) -> _FullDisk:
        return self

    def __exit__(self, *exc: object) -> None:
        self._file.close()  # type: ignore[attr-defined]

    def fileno(self) -> int:
        return self._file.fileno()  # type: ignore[attr-defined]

    def write(self, text: str) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_a_full_disk_exits_1_and_leaves_no_temporary_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_fdopen = os.fdopen
    monkeypatch.setattr(os, "fdopen", lambda fd, *a, **k: _FullDisk(real_fdopen(fd, *a, **k)))
    code, stderr = compile_in_process("-o", tmp_path / "LeNet.py")
    assert code == 1
    assert stderr.splitlines() == [
        f"error: -o {tmp_path / 'LeNet.py'}: cannot write the file: No space left on device [io-error]"
    ]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("err", [errno.EACCES, errno.EROFS])
def test_a_folder_that_refuses_new_files_exits_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, err: int) -> None:
    def refuse(*args: object, **kwargs: object) -> tuple[int, str]:
        raise OSError(err, os.strerror(err))

    monkeypatch.setattr("tempfile.mkstemp", refuse)
    code, stderr = compile_in_process("-o", tmp_path / "LeNet.py")
    assert code == 1
    assert stderr.splitlines() == [
        f"error: -o {tmp_path / 'LeNet.py'}: cannot write the file: {os.strerror(err)} [io-error]"
    ]


def test_a_failed_rename_exits_1_and_leaves_no_temporary_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def cross_device(*args: object) -> None:
        raise OSError(errno.EXDEV, os.strerror(errno.EXDEV))

    monkeypatch.setattr(os, "replace", cross_device)
    code, stderr = compile_in_process("-o", tmp_path / "LeNet.py")
    assert code == 1
    assert stderr.splitlines()[-1].endswith(f"cannot write the file: {os.strerror(errno.EXDEV)} [io-error]")
    assert list(tmp_path.iterdir()) == []


def test_unreadable_input_exits_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_open = os.open

    def denied(path: str | Path, flags: int, *args: int, **kwargs: object) -> int:
        if Path(path) == Path(SPEC):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", denied)
    code, stderr = compile_in_process("-o", tmp_path / "LeNet.py")
    assert code == 1
    assert stderr == f"{SPEC}:1:1: error: cannot read the file: Permission denied [io-error]\n"


def test_a_new_file_gets_the_umask_mode(tmp_path: Path, umask_027: None) -> None:
    code, stderr = compile_in_process("-o", tmp_path / "LeNet.py")
    assert code == 0, stderr
    assert stat.S_IMODE((tmp_path / "LeNet.py").stat().st_mode) == 0o640


def test_a_replaced_file_keeps_its_mode(tmp_path: Path, umask_027: None) -> None:
    target = tmp_path / "LeNet.py"
    target.write_text("old")
    target.chmod(0o604)
    code, stderr = compile_in_process("-o", target)
    assert code == 0, stderr
    assert stat.S_IMODE(target.stat().st_mode) == 0o604
    assert "class LeNet(nn.Module)" in target.read_text()


# The compile below stops inside the smoke run, with the temporary module written, and says
# so on stderr; the test signals it there, so the window is certain, not a matter of timing.
_PAUSED_COMPILE = """
import signal, sys
import dotnet.runtime
def paused_smoke_run(*args):
    print("paused", file=sys.stderr, flush=True)
    signal.pause()
dotnet.runtime.smoke_run = paused_smoke_run
from dotnet.cli import main
main(["compile", sys.argv[1], "-o", "LeNet.py"])
"""


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_during_the_compile_removes_the_temporary_file(tmp_path: Path, signum: int) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", _PAUSED_COMPILE, str(SPEC)],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    try:
        assert proc.stderr.readline() == "paused\n"
        assert len(temp_files(tmp_path)) == 1  # the module, written and being run
        proc.send_signal(signum)
        stderr = proc.stderr.read()
        code = proc.wait(timeout=60)
    finally:
        proc.kill()
    name = signal.Signals(signum).name
    assert (code, stderr) == (128 + signum, f"interrupted by {name}: nothing was written\n")
    assert list(tmp_path.iterdir()) == []
