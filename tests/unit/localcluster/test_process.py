"""Managed processes die with their parent, even when the parent is SIGKILLed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from kubebind.localcluster.process import ManagedProcess, ProcessError


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie awaiting its reaper counts as gone
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def test_children_die_when_parent_is_killed(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        from kubebind.localcluster.process import ManagedProcess
        p = ManagedProcess("sleeper", ["sleep", "300"], Path({str(tmp_path)!r}) / "sleep.log").start()
        print(p.pid, flush=True)
        time.sleep(300)
        """
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    child_pid = int(parent.stdout.readline())
    assert _alive(child_pid)
    parent.send_signal(signal.SIGKILL)
    parent.wait(timeout=10)
    deadline = time.monotonic() + 10
    while _alive(child_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child_pid), "child outlived its killed parent"


def test_stop_and_early_exit_reporting(tmp_path: Path) -> None:
    proc = ManagedProcess("sleeper", ["sleep", "300"], tmp_path / "s.log").start()
    pid = proc.pid
    assert pid is not None and proc.running()
    proc.stop()
    assert not proc.running()
    failing = ManagedProcess("failing", ["sh", "-c", "echo boom-detail; exit 3"], tmp_path / "f.log").start()
    time.sleep(0.3)
    try:
        failing.check_alive()
    except ProcessError as exc:
        assert "code 3" in str(exc) and "boom-detail" in str(exc)
    else:
        raise AssertionError("check_alive did not report the exit")


def test_missing_executable_is_a_clear_error(tmp_path: Path) -> None:
    try:
        ManagedProcess("ghost", [str(tmp_path / "nope")], tmp_path / "g.log").start()
    except ProcessError as exc:
        assert "cannot execute" in str(exc)
    else:
        raise AssertionError("expected ProcessError")
