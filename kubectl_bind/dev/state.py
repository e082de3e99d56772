"""The dev environment's state file (``<workdir>/dev-state.json``), written atomically.

Why a file: ``dev up`` returns once everything is ready while a detached supervisor keeps the
processes alive; ``status`` and ``down`` (other processes, maybe other terminals) find it here —
and ``down`` stops exactly the PIDs recorded, nothing found by name.
"""

from __future__ import annotations

import json
import os
import signal
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["STATE_FILE", "default_workdir", "pid_alive", "read", "write"]

STATE_FILE = "dev-state.json"


def default_workdir() -> Path:
    return Path(os.environ.get("KUBE_BIND_DEV_DIR", "~/.kube-bind/dev")).expanduser()


def read(workdir: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((workdir / STATE_FILE).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def write(workdir: Path, state: dict[str, Any]) -> None:
    workdir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".state-", dir=workdir)
    with os.fdopen(fd, "w") as handle:
        json.dump(state, handle, indent=2)
    os.replace(tmp, workdir / STATE_FILE)


def remove(workdir: Path) -> None:
    (workdir / STATE_FILE).unlink(missing_ok=True)


def pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def terminate(pid: int, sig: int = signal.SIGTERM) -> None:
    """Signal the process group ``pid`` leads (our children are session leaders)."""
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass
