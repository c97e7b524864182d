"""Progress for long steps: a line on the terminal once a step has run past a second.

``dotnet compile`` compiles the spec, builds the model and runs it once
(:func:`dotnet.build` and :func:`dotnet.load` do the first steps of that); for a
big model each can take seconds, and a silent terminal looks hung. A step that is
still running after :data:`DELAY` seconds prints what it is doing
(``building VGG11 on cpu...``) and, when it ends, how long it took. Nothing is
printed when stderr is not a terminal, when ``$CI`` is set (CI logs are not
terminals, but some CI systems fake one), or with ``--quiet`` (``quiet=True`` in
the API).
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from dotnet.diagnostics import printable

DELAY = 1.0
"""Seconds a step runs before its progress line appears."""


def is_terminal(stream: TextIO) -> bool:
    """Whether ``stream`` is an interactive terminal."""
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or unusual stream
        return False


def in_ci() -> bool:
    """Whether ``$CI`` says this is a CI run (``CI=true``, ``CI=1``; not ``CI=false`` or ``CI=0``)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


class Progress:
    """Shows long steps on ``stream``; silent unless ``enabled``."""

    def __init__(self, stream: TextIO | None = None, enabled: bool = False, delay: float | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self.delay = DELAY if delay is None else delay

    @classmethod
    def for_terminal(cls, quiet: bool = False, stream: TextIO | None = None) -> Progress:
        """Enabled when ``stream`` (stderr) is a terminal, not in CI, and not ``quiet``."""
        stream = stream if stream is not None else sys.stderr
        return cls(stream, enabled=not quiet and not in_ci() and is_terminal(stream))

    @contextmanager
    def step(self, what: str) -> Iterator[None]:
        """Run the ``with`` body as step ``what``: shown if it outlasts the delay, then timed."""
        if not self.enabled:
            yield
            return
        what = printable(what)  # a spec's name may hold control characters
        lock = threading.Lock()
        state = {"shown": False, "over": False}
        started = time.monotonic()

        def show() -> None:
            with lock:
                if not state["over"]:
                    self.stream.write(f"{what}...")
                    self.stream.flush()
                    state["shown"] = True

        timer = threading.Timer(self.delay, show)
        timer.daemon = True
        if self.delay <= 0:
            show()
        else:
            timer.start()
        outcome = "failed"
        try:
            yield
            outcome = f"done in {time.monotonic() - started:.1f} s"
        finally:
            timer.cancel()
            with lock:
                state["over"] = True
                if state["shown"]:
                    self.stream.write(f" {outcome}\n")
                    self.stream.flush()
