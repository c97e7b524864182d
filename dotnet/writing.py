"""Writing files atomically: generated modules (only once they have imported and run), pictures, slices.

The one write step of ``dotnet compile``, ``dotnet.compile_spec(..., out=PATH)``,
``dotnet extract`` and ``dotnet render``: the target is checked (a regular file or
new; a symbolic link is followed to the file it names), the file gets a sensible
mode, every OS failure is an ``io-error`` naming the path, and no temporary file
outlives the call.
"""

from __future__ import annotations

import os
import signal
import stat
import tempfile
import threading
from collections.abc import Callable
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

    Self-contained, so the API can share it; the file is written as
    :func:`write_atomically` writes (the target's rules, modes, signals and errors).
    ``flag`` (``"-o"``) is named in errors when the user chose the path;
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
    summaries: list[RunSummary] = []

    def prove(temp: Path) -> None:
        try:
            with progress.step(f"building {compiled.class_name} on {device}"):
                model = instantiate(compiled, device, temp, memory_limit)
            with progress.step(f"running {compiled.class_name} once"):
                summaries.append(smoke_run(compiled, model, device))
        except SpecError:
            raise
        except Exception as exc:
            raise error(
                codes.RUNTIME, f"the generated {compiled.class_name} failed to run: {type(exc).__name__}: {exc}"
            ) from None

    write_atomically(target, compiled.source.encode("utf-8"), flag, prove if run else None, suffix=".py")
    return summaries[0] if summaries else None


def write_atomically(
    target: Path, data: bytes, flag: str = "", check: Callable[[Path], None] | None = None, suffix: str | None = None
) -> None:
    """Write ``data`` to a temporary file beside ``target``, run ``check`` on it, then rename it into place.

    The one write of ``compile``, ``extract`` and ``render``. The target must be a
    regular file or new: a folder, device, FIFO or socket is refused (an ``io-error``
    naming it and the cause). A symbolic link is followed: the file it points to is
    replaced, atomically, and the link stays (:func:`through_links`). Every OS failure
    (read-only or missing folder, full disk, over-long name) is such an error; the
    temporary file never outlives the call, not even on SIGINT or SIGTERM
    (:class:`Interrupted`); the file gets the mode a new file gets under the umask,
    or the mode of the file it replaces. ``flag`` (``"-o"``) is named in errors when
    the user chose the path; ``suffix`` is the temporary file's (``.py`` to import it;
    default the target's).
    """

    def refuse(cause: str) -> SpecError:
        return cannot_write(target, flag, cause)

    def interrupted(signum: int, frame: object) -> None:
        raise Interrupted(signum)

    path = through_links(target, flag)
    folder = require_folder(path, flag, shown=target)
    try:
        existing = path.stat()
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
            fd, temp_name = tempfile.mkstemp(
                prefix=f".{path.stem[:100]}.", suffix=path.suffix[:16] if suffix is None else suffix, dir=folder
            )
            temp = Path(temp_name)
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, watched)
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), mode)
            f.write(data)
        if check is not None:
            check(temp)
        os.replace(temp, path)
    except OSError as exc:
        raise refuse(_os_cause(exc)) from None
    finally:
        if temp is not None:
            temp.unlink(missing_ok=True)
        for s, handler in previous.items():
            signal.signal(s, handler)


def through_links(target: Path, flag: str) -> Path:
    """The file a write to ``target`` replaces: ``target`` itself, or the file its symbolic links end at.

    ``-o model.py`` where ``model.py`` links to ``shared/model.py`` writes
    ``shared/model.py`` and keeps the link, as ``echo > model.py`` does; a link that
    points nowhere yet creates the file it names. A loop of links is an ``io-error``.
    """
    try:
        if not stat.S_ISLNK(os.lstat(target).st_mode):
            return target
    except OSError:  # missing, or a path the OS refuses (too long): the write's checks say which
        return target
    try:
        return Path(os.path.realpath(target, strict=False))
    except OSError as exc:  # a loop of links (Python 3.13+ raises it here)
        raise cannot_write(target, flag, _os_cause(exc)) from None


class Interrupted(BaseException):
    """SIGINT or SIGTERM arrived while a file was being written; carries the signal."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def require_folder(target: Path, flag: str, shown: Path | None = None) -> Path:
    """The folder ``target`` would be written into; an ``io-error`` naming ``shown`` or ``target`` if none."""
    folder = target.parent if str(target.parent) else Path(".")
    named = shown or target
    try:
        is_folder = stat.S_ISDIR(folder.stat().st_mode)
    except FileNotFoundError:
        raise cannot_write(named, flag, f"folder {folder} does not exist") from None
    except NotADirectoryError:
        is_folder = False
    except OSError as exc:
        raise cannot_write(named, flag, _os_cause(exc)) from None
    if not is_folder:
        raise cannot_write(named, flag, f"{folder} is not a folder")
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
