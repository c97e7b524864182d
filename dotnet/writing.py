"""Writing a generated module: atomically, and only once it has imported and run.

The one write step of ``dotnet compile`` and ``dotnet.compile_spec(..., out=PATH)``:
the target is checked, the file gets a sensible mode, every OS failure is an
``io-error`` naming the path, and no temporary file outlives the call.
"""

from __future__ import annotations

import os
import signal
import stat
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from dotnet import codes
from dotnet.diagnostics import SpecError, error
from dotnet.progress import Progress

if TYPE_CHECKING:
    from dotnet.compiler import Compiled
    from dotnet.runtime import RunSummary


def write_checked(
    compiled: Compiled,
    target: Path,
    device: str = "cpu",
    flag: str = "",
    memory_limit: str | None = None,
    run: bool = True,
    progress: Progress | None = None,
) -> RunSummary | None:
    """Write to a temporary file beside ``target``, prove it imports and runs, then rename it.

    Self-contained, so the API can share it: the target is refused (an ``io-error``
    naming it and the cause) unless it is a regular file or new; every OS failure
    (read-only or missing folder, full disk, over-long name) is such an error; the
    temporary file never outlives the call, not even on SIGINT or SIGTERM; the file
    written gets the mode a new file gets under the umask, or the mode of the file
    it replaces. ``flag`` (``"-o"``) is named in errors when the user chose the path;
    ``memory_limit`` (``8G``) bounds what building and running the model may need.
    With ``run`` false the module is written without being imported, built or run
    (``compile --no-run``), and nothing is returned. ``progress`` shows the build
    and the first forward pass when they take long (:mod:`dotnet.progress`).
    """
    from dotnet.compiler import raise_if_missing
    from dotnet.runtime import check_device, instantiate, smoke_run

    if run:
        raise_if_missing(compiled)
        check_device(device)
    progress = progress or Progress()

    def refuse(cause: str) -> SpecError:
        return cannot_write(target, flag, cause)

    def interrupted(signum: int, frame: object) -> None:
        raise Interrupted(signum)

    folder = require_folder(target, flag)
    try:
        existing = target.stat()
    except FileNotFoundError:
        existing = None
    except OSError as exc:
        raise refuse(_os_cause(exc)) from None
    if existing is not None and not stat.S_ISREG(existing.st_mode):
        raise refuse(f"it is {_file_kind(existing.st_mode)}, not a regular file")
    mode = stat.S_IMODE(existing.st_mode) if existing is not None else _new_file_mode()
    watched = (signal.SIGINT, signal.SIGTERM) if threading.current_thread() is threading.main_thread() else ()
    previous = {s: signal.signal(s, interrupted) for s in watched}  # only the main thread may set handlers
    temp: Path | None = None
    try:
        signal.pthread_sigmask(signal.SIG_BLOCK, watched)  # a signal now waits until `temp` is known
        try:
            fd, temp_name = tempfile.mkstemp(prefix=f".{target.stem[:100]}.", suffix=".py", dir=folder)
            temp = Path(temp_name)
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, watched)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            os.fchmod(f.fileno(), mode)
            f.write(compiled.source)
        summary = None
        try:
            if run:
                with progress.step(f"building {compiled.class_name} on {device}"):
                    model = instantiate(compiled, device, temp, memory_limit)
                with progress.step(f"running {compiled.class_name} once"):
                    summary = smoke_run(compiled, model, device)
        except SpecError:
            raise
        except Exception as exc:
            raise error(
                codes.RUNTIME, f"the generated {compiled.class_name} failed to run: {type(exc).__name__}: {exc}"
            ) from None
        os.replace(temp, target)
    except OSError as exc:
        raise refuse(_os_cause(exc)) from None
    finally:
        if temp is not None:
            temp.unlink(missing_ok=True)
        for s, handler in previous.items():
            signal.signal(s, handler)
    return summary


class Interrupted(BaseException):
    """SIGINT or SIGTERM arrived while a file was being written; carries the signal."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def require_folder(target: Path, flag: str) -> Path:
    """The folder ``target`` would be written into; an ``io-error`` unless it exists."""
    folder = target.parent if str(target.parent) else Path(".")
    try:
        is_folder = stat.S_ISDIR(folder.stat().st_mode)
    except FileNotFoundError:
        raise cannot_write(target, flag, f"folder {folder} does not exist") from None
    except NotADirectoryError:
        is_folder = False
    except OSError as exc:
        raise cannot_write(target, flag, _os_cause(exc)) from None
    if not is_folder:
        raise cannot_write(target, flag, f"{folder} is not a folder")
    return folder


def cannot_write(target: Path, flag: str, cause: str) -> SpecError:
    """``-o out/M.py: cannot write the file: CAUSE``, or ``cannot write M.py: CAUSE`` when no flag chose it."""
    what = f"{flag} {target}: cannot write the file" if flag else f"cannot write {target}"
    return error(codes.IO_ERROR, f"{what}: {cause}")


def _os_cause(exc: OSError) -> str:
    """``Permission denied``: what the OS says went wrong, without the path it names."""
    return exc.strerror or type(exc).__name__


def _file_kind(mode: int) -> str:
    """``a folder``, ``a character device``...: what a path that is not a regular file is."""
    kinds = [
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISFIFO, "a named pipe"),
        (stat.S_ISSOCK, "a socket"),
    ]
    return next((kind for test, kind in kinds if test(mode)), "not a file")


def _new_file_mode() -> int:
    """The mode ``open()`` gives a new file: 0o666 less the process's umask."""
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask
