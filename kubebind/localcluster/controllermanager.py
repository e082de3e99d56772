"""kube-controller-manager with just the controllers a control plane without nodes needs.

Namespace deletion, ownerReference garbage collection, the ``default`` ServiceAccount and
``kube-root-ca.crt`` in new namespaces, and the aggregated admin/edit/view roles all come from it.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from kubebind.localcluster import kubeconfig
from kubebind.localcluster.apiserver import KubeAPIServer
from kubebind.localcluster.ports import free_port
from kubebind.localcluster.process import ManagedProcess, ProcessError

CONTROLLERS = (
    "namespace-controller",
    "garbage-collector-controller",
    "serviceaccount-controller",
    "serviceaccount-token-controller",
    "clusterrole-aggregation-controller",
    "root-ca-certificate-publisher-controller",
)


class KubeControllerManager:
    def __init__(self, binary: Path, apiserver: KubeAPIServer) -> None:
        self.binary = binary
        self.apiserver = apiserver
        self.port = free_port()
        self.process: ManagedProcess | None = None
        cm = apiserver.pki.controller_manager
        self.kubeconfig = kubeconfig.write_kubeconfig(
            apiserver.workdir / "kube-controller-manager.kubeconfig",
            kubeconfig.build_kubeconfig(
                name=apiserver.name,
                server=apiserver.url,
                ca_pem=apiserver.pki.ca.cert_pem(),
                user=kubeconfig.client_cert_user(cm.cert_pem(), cm.key_pem()),
            ),
        )

    def start(self) -> KubeControllerManager:
        pki = self.apiserver.pki
        argv = [
            str(self.binary),
            f"--kubeconfig={self.kubeconfig}",
            f"--authentication-kubeconfig={self.kubeconfig}",
            f"--authorization-kubeconfig={self.kubeconfig}",
            "--bind-address=127.0.0.1",
            f"--secure-port={self.port}",
            f"--cert-dir={self.apiserver.workdir / 'pki' / 'kcm-generated'}",
            f"--controllers={','.join(CONTROLLERS)}",
            "--leader-elect=false",
            "--use-service-account-credentials=true",
            f"--service-account-private-key-file={pki.service_account.key}",
            f"--root-ca-file={pki.ca.cert}",
            "--concurrent-namespace-syncs=4",
            "--concurrent-gc-syncs=20",
            "--v=1",
        ]
        self.process = ManagedProcess(
            f"kube-controller-manager[{self.apiserver.name}]",
            argv,
            self.apiserver.workdir / "logs" / "kube-controller-manager.log",
        ).start()
        return self

    def wait_ready(self, timeout: float = 60.0) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        # The controller-manager serves /healthz with a certificate it made itself at start-up.
        with httpx.Client(verify=False, timeout=2.0) as http:
            while time.monotonic() < deadline:
                self.process.check_alive()
                try:
                    if http.get(f"https://127.0.0.1:{self.port}/healthz").status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                time.sleep(0.2)
        raise ProcessError(
            f"kube-controller-manager[{self.apiserver.name}] not healthy after {timeout}s:\n"
            f"{self.process.log_tail()}"
        )

    def stop(self) -> None:
        if self.process:
            self.process.stop()
