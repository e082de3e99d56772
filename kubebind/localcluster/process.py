"""Child processes that cannot outlive the test run.

Each child gets ``PR_SET_PDEATHSIG=SIGKILL`` (Linux), so even a ``kill -9`` of pytest takes the
control planes down with it; an ``atexit`` hook and :meth:`ManagedProcess.stop` end them politely
(SIGTERM, then SIGKILL) in the normal case. Output goes to a log file whose tail is quoted in
errors, because "apiserver did not become ready" is useless without it.
"""

from __future__ import annotations

import atexit
import ctypes
import os
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

_PR_SET_PDEATHSIG = 1
_live: set[ManagedProcess] = set()
_live_lock = threading.Lock()


def _die_with_parent() -> None:  # runs in the child between fork and exec
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except OSError:
        pass


class ProcessError(RuntimeError):
    """A managed process failed to start or exited early; the message carries its log tail."""


class ManagedProcess:
    """One child process with a log file, stopped by PID on :meth:`stop` or interpreter exit."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        log_path: Path,
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        user: str | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        self._env = dict(env) if env is not None else None
        self._cwd = cwd
        self._user = user
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def start(self) -> ManagedProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        try:
            self._proc = subprocess.Popen(
                self.argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self._env,
                cwd=self._cwd,
                user=self._user,
                preexec_fn=_die_with_parent,
                start_new_session=True,
            )
        except FileNotFoundError as exc:
            raise ProcessError(f"{self.name}: cannot execute {self.argv[0]}: {exc}") from exc
        finally:
            log.close()
        with _live_lock:
            _live.add(self)
        return self

    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def check_alive(self) -> None:
        if self._proc is not None and self._proc.poll() is not None:
            raise ProcessError(
                f"{self.name} exited with code {self._proc.returncode}; last log lines "
                f"({self.log_path}):\n{self.log_tail()}"
            )

    def stop(self, timeout: float = 10.0) -> None:
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            deadline = time.monotonic() + timeout
            while proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait(timeout=5)
        with _live_lock:
            _live.discard(self)

    def kill(self) -> None:
        """SIGKILL at once (fault-injection tests)."""
        if self._proc is not None and self._proc.poll() is None:
            os.killpg(self._proc.pid, signal.SIGKILL)
            self._proc.wait(timeout=5)


def stop_all() -> None:
    with _live_lock:
        procs = list(_live)
    for proc in reversed(procs):
        proc.stop(timeout=5)


atexit.register(stop_all)
