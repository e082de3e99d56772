"""A provider and a consumer control plane on one etcd — the local stand-in for two real clusters.

``ClusterPair.start()`` starts etcd, both kube-apiservers and both kube-controller-managers in
parallel (about 3-5 s once binaries exist) and writes a ``state.json`` with the PIDs and admin
kubeconfigs, which ``kube-bind-localcluster status|down`` and ``kubectl bind dev`` read.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubebind.localcluster.apiserver import KubeAPIServer
from kubebind.localcluster.build import require_binaries
from kubebind.localcluster.controllermanager import KubeControllerManager
from kubebind.localcluster.etcd import Etcd

STATE_FILE = "state.json"


@dataclass
class LocalCluster:
    """One control plane: its apiserver, controller-manager and the files a client needs."""

    name: str
    apiserver: KubeAPIServer
    controller_manager: KubeControllerManager

    @property
    def url(self) -> str:
        return self.apiserver.url

    @property
    def kubeconfig(self) -> Path:
        return self.apiserver.admin_kubeconfig

    @property
    def ca_file(self) -> Path:
        return self.apiserver.pki.ca.cert

    @property
    def front_proxy_ca_file(self) -> Path:
        return self.apiserver.pki.front_proxy_ca.cert

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "url": self.url,
            "kubeconfig": str(self.kubeconfig),
            "caFile": str(self.ca_file),
            "frontProxyCAFile": str(self.front_proxy_ca_file),
            "serviceAccountIssuer": self.apiserver.issuer,
            "pids": {
                "kube-apiserver": self.apiserver.process.pid if self.apiserver.process else None,
                "kube-controller-manager": (
                    self.controller_manager.process.pid if self.controller_manager.process else None
                ),
            },
        }


class ClusterPair:
    """etcd + provider + consumer, started and stopped together."""

    def __init__(self, workdir: Path | None = None, names: tuple[str, ...] = ("provider", "consumer")):
        self._owns_workdir = workdir is None
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix="kube-bind-clusters-"))
        self.names = names
        self.etcd: Etcd | None = None
        self.clusters: dict[str, LocalCluster] = {}

    @property
    def provider(self) -> LocalCluster:
        return self.clusters["provider"]

    @property
    def consumer(self) -> LocalCluster:
        return self.clusters["consumer"]

    def start(self, timeout: float = 90.0) -> ClusterPair:
        binaries = require_binaries()
        started = time.monotonic()
        try:
            self.etcd = Etcd(binaries["etcd"], self.workdir).start()
            for index, name in enumerate(self.names):
                apiserver = KubeAPIServer(
                    name,
                    binaries["kube-apiserver"],
                    self.workdir / name,
                    self.etcd.endpoint,
                    service_cidr=f"10.{index}.0.0/24",
                ).start()
                kcm = KubeControllerManager(binaries["kube-controller-manager"], apiserver)
                self.clusters[name] = LocalCluster(name, apiserver, kcm)
            for cluster in self.clusters.values():
                cluster.apiserver.wait_ready(timeout)
                cluster.controller_manager.start()
            for cluster in self.clusters.values():
                cluster.controller_manager.wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - started
        self.write_state()
        return self

    def write_state(self) -> Path:
        state = {
            "workdir": str(self.workdir),
            "etcd": {
                "endpoint": self.etcd.endpoint if self.etcd else None,
                "pid": self.etcd.process.pid if self.etcd and self.etcd.process else None,
            },
            "clusters": {name: c.describe() for name, c in self.clusters.items()},
        }
        path = self.workdir / STATE_FILE
        path.write_text(json.dumps(state, indent=2))
        return path

    def stop(self) -> None:
        for cluster in self.clusters.values():
            cluster.controller_manager.stop()
        for cluster in self.clusters.values():
            cluster.apiserver.stop()
        if self.etcd:
            self.etcd.stop()
        if self._owns_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> ClusterPair:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def read_state(workdir: Path) -> dict[str, Any]:
    return dict(json.loads((workdir / STATE_FILE).read_text()))


def kill_from_state(workdir: Path) -> list[int]:
    """Stop, by PID, every process a detached ``up`` recorded (used by ``down``)."""
    state = read_state(workdir)
    pids: list[int] = []
    for cluster in state["clusters"].values():
        pids += [p for p in cluster["pids"].values() if p]
    if state["etcd"]["pid"]:
        pids.append(state["etcd"]["pid"])
    for pid in pids:
        try:
            os.killpg(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    return pids
