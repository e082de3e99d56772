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
        self._index = -1

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
            for name in self.names:
                self._launch(name, binaries)
            self._wait(list(self.clusters.values()), timeout)
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - started
        self.write_state()
        return self

    def add_cluster(self, name: str, timeout: float = 90.0) -> LocalCluster:
        """Start one more control plane on the same etcd (own prefix, PKI and issuer).

        For tests that must not disturb the shared provider/consumer, e.g. ones that restart an
        apiserver or install conflicting APIs. Stop it with :meth:`remove_cluster`.
        """
        if name in self.clusters:
            raise ValueError(f"cluster {name!r} exists already")
        cluster = self._launch(name, require_binaries())
        try:
            self._wait([cluster], timeout)
        except BaseException:
            self.remove_cluster(name)
            raise
        self.write_state()
        return cluster

    def remove_cluster(self, name: str) -> None:
        cluster = self.clusters.pop(name)
        cluster.controller_manager.stop()
        cluster.apiserver.stop()
        self.write_state()

    def _launch(self, name: str, binaries: dict[str, Path]) -> LocalCluster:
        assert self.etcd is not None
        if not name.isidentifier() or not name.islower():
            raise ValueError(f"cluster name must be a lowercase identifier, not {name!r}")
        self._index += 1
        apiserver = KubeAPIServer(
            name,
            binaries["kube-apiserver"],
            self.workdir / name,
            self.etcd.endpoint,
            service_cidr=f"10.{self._index}.0.0/24",
        ).start()
        cluster = LocalCluster(
            name, apiserver, KubeControllerManager(binaries["kube-controller-manager"], apiserver)
        )
        self.clusters[name] = cluster
        return cluster

    @staticmethod
    def _wait(clusters: list[LocalCluster], timeout: float) -> None:
        for cluster in clusters:
            cluster.apiserver.wait_ready(timeout)
            cluster.controller_manager.start()
        for cluster in clusters:
            cluster.controller_manager.wait_ready(timeout)

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
