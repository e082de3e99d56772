"""Progress for everything the CLI waits on: a spinner on a terminal, plain lines otherwise.

Why: binding waits on things the user cannot see (the browser callback, the provider reconciling a
request, the konnector installing CRDs). Each wait names what it waits for, shows elapsed time and
ends with ``✓``/``✗`` so a stuck step is obvious. On a non-terminal stderr (CI, pipes) it prints one
line when the wait starts and one when it ends, so logs stay readable. Output goes to stderr;
stdout is kept for data (tables, YAML) that scripts parse.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

__all__ = ["Progress", "info", "waiting"]

_FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


class Progress:
    """One wait; ``update(detail)`` changes the detail shown after the message."""

    def __init__(self, message: str, stream: TextIO, *, interactive: bool) -> None:
        self.message = message
        self.detail = ""
        self._stream = stream
        self._interactive = interactive
        self._started = time.monotonic()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self._started

    def update(self, detail: str) -> None:
        with self._lock:
            changed = detail != self.detail
            self.detail = detail
        if changed and not self._interactive and detail:
            self._stream.write(f"  … {detail}\n")
            self._stream.flush()

    def _line(self, mark: str) -> str:
        detail = f" ({self.detail})" if self.detail else ""
        return f"{mark} {self.message}{detail} [{self.elapsed:.0f}s]"

    def _spin(self) -> None:
        index = 0
        while not self._stop.wait(0.1):
            with self._lock:
                line = self._line(_FRAMES[index % len(_FRAMES)])
            self._stream.write(f"\r\x1b[K{line}")
            self._stream.flush()
            index += 1

    def start(self) -> None:
        if self._interactive:
            self._thread = threading.Thread(target=self._spin, name="progress", daemon=True)
            self._thread.start()
        else:
            self._stream.write(f"… {self.message}\n")
            self._stream.flush()

    def finish(self, ok: bool) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        mark = "✓" if ok else "✗"
        prefix = "\r\x1b[K" if self._interactive else ""
        with self._lock:
            self._stream.write(f"{prefix}{self._line(mark)}\n")
        self._stream.flush()


@contextmanager
def waiting(message: str, *, stream: TextIO | None = None, quiet: bool = False) -> Iterator[Progress]:
    """Show progress for the duration of the ``with`` block (``quiet`` shows nothing)."""
    out = stream or sys.stderr
    interactive = not quiet and out.isatty()
    progress = Progress(message, out, interactive=interactive)
    if quiet:
        yield progress
        return
    progress.start()
    ok = False
    try:
        yield progress
        ok = True
    finally:
        progress.finish(ok)


def info(message: str, *, stream: TextIO | None = None) -> None:
    """A status line for the user (stderr)."""
    out = stream or sys.stderr
    out.write(f"{message}\n")
    out.flush()
