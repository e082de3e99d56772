"""One etcd on 127.0.0.1 that serves every local cluster (each under its own key prefix)."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from kubebind.localcluster.ports import free_port
from kubebind.localcluster.process import ManagedProcess, ProcessError


class Etcd:
    def __init__(self, binary: Path, workdir: Path) -> None:
        self.binary = binary
        self.workdir = workdir
        self.client_port = free_port()
        self.peer_port = free_port()
        self.process: ManagedProcess | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.client_port}"

    def start(self, timeout: float = 30.0) -> Etcd:
        data = self.workdir / "etcd-data"
        data.mkdir(parents=True, exist_ok=True)
        argv = [
            str(self.binary),
            "--name=local",
            f"--data-dir={data}",
            f"--listen-client-urls={self.endpoint}",
            f"--advertise-client-urls={self.endpoint}",
            f"--listen-peer-urls=http://127.0.0.1:{self.peer_port}",
            f"--initial-advertise-peer-urls=http://127.0.0.1:{self.peer_port}",
            f"--initial-cluster=local=http://127.0.0.1:{self.peer_port}",
            "--unsafe-no-fsync",  # throw-away data: durability costs seconds per test run
            "--quota-backend-bytes=4294967296",
            "--log-level=warn",
        ]
        self.process = ManagedProcess("etcd", argv, self.workdir / "logs" / "etcd.log").start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.process.check_alive()
            try:
                if httpx.get(f"{self.endpoint}/health", timeout=1.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise ProcessError(f"etcd not healthy after {timeout}s:\n{self.process.log_tail()}")

    def stop(self) -> None:
        if self.process:
            self.process.stop()
