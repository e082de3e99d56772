"""Resident memory and CPU time of a process, read from ``/proc`` (Linux)."""

from __future__ import annotations

import os
from pathlib import Path


def rss_mib(pid: int) -> float:
    """Resident set size in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it (e.g. a database server's per-connection processes)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    found, frontier = [pid], [pid]
    while frontier:
        frontier = [child for child, parent in parents.items() if parent in frontier]
        found += frontier
    return found


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of ``pid`` and its live descendants."""
    total = 0.0
    for p in descendants(pid):
        try:
            total += cpu_seconds(p)
        except (OSError, ValueError, IndexError):
            continue
    return total


class CpuMeter:
    """CPU seconds used by named processes between :meth:`start` and :meth:`stop`.

    Processes named in ``trees`` are counted with their descendants (a database server's
    per-connection processes).
    """

    def __init__(self, pids: dict[str, int], *, trees: tuple[str, ...] = ()) -> None:
        self.pids = {name: pid for name, pid in pids.items() if pid}
        self._trees = trees
        self._start: dict[str, float] = {}
        self.used: dict[str, float] = {}

    def start(self) -> None:
        self._start = {name: self._cpu(name, pid) for name, pid in self.pids.items()}

    def _cpu(self, name: str, pid: int) -> float:
        return tree_cpu_seconds(pid) if name in self._trees else cpu_seconds(pid)

    def stop(self) -> dict[str, float]:
        self.used = {name: self._cpu(name, pid) - self._start[name] for name, pid in self.pids.items()}
        return self.used
