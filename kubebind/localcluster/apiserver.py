"""A real kube-apiserver with its PKI, service-account issuer and front-proxy settings.

Flags follow testing.md: RBAC on, TokenRequest working (own signing key and issuer per cluster),
``--endpoint-reconciler-type=none`` (loopback endpoints are rejected), and the requestheader
(front-proxy) flags so that aggregated APIs — our backend — can be registered with an
``APIService`` whose Service is ``ExternalName: localhost``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from kubebind.localcluster import kubeconfig, pki
from kubebind.localcluster.ports import free_port
from kubebind.localcluster.process import ManagedProcess, ProcessError
from kubebind.localcluster.tls import client_context

FRONT_PROXY_CLIENT_CN = "front-proxy-client"


@dataclass(frozen=True)
class ClusterPKI:
    ca: pki.KeyPair
    serving: pki.KeyPair
    admin: pki.KeyPair
    controller_manager: pki.KeyPair
    front_proxy_ca: pki.KeyPair
    front_proxy_client: pki.KeyPair
    service_account: pki.KeyPair

    @classmethod
    def create(cls, directory: Path, name: str) -> ClusterPKI:
        ca = pki.create_ca(directory, "ca", f"{name}-ca")
        fp_ca = pki.create_ca(directory, "front-proxy-ca", f"{name}-front-proxy-ca")
        return cls(
            ca=ca,
            serving=pki.issue_cert(
                ca,
                directory,
                "apiserver",
                "kube-apiserver",
                dns_names=(
                    "localhost",
                    "kubernetes",
                    "kubernetes.default",
                    "kubernetes.default.svc",
                    "kubernetes.default.svc.cluster.local",
                ),
                ip_addresses=("127.0.0.1", "10.0.0.1"),
                server=True,
            ),
            admin=pki.issue_cert(
                ca,
                directory,
                "admin",
                "kube-bind-admin",
                organizations=("system:masters",),
                client=True,
            ),
            controller_manager=pki.issue_cert(
                ca,
                directory,
                "kube-controller-manager",
                "system:kube-controller-manager",
                client=True,
            ),
            front_proxy_ca=fp_ca,
            front_proxy_client=pki.issue_cert(
                fp_ca, directory, "front-proxy-client", FRONT_PROXY_CLIENT_CN, client=True
            ),
            service_account=pki.create_service_account_keys(directory),
        )


class KubeAPIServer:
    def __init__(
        self, name: str, binary: Path, workdir: Path, etcd_endpoint: str, *, service_cidr: str
    ) -> None:
        self.name = name
        self.binary = binary
        self.workdir = workdir
        self.etcd_endpoint = etcd_endpoint
        self.service_cidr = service_cidr
        self.port = free_port()
        self.pki = ClusterPKI.create(workdir / "pki", name)
        self.issuer = f"https://{name}.kube-bind.test"
        self.process: ManagedProcess | None = None
        self.admin_kubeconfig = kubeconfig.write_kubeconfig(
            workdir / "admin.kubeconfig",
            kubeconfig.build_kubeconfig(
                name=name,
                server=self.url,
                ca_pem=self.pki.ca.cert_pem(),
                user=kubeconfig.client_cert_user(self.pki.admin.cert_pem(), self.pki.admin.key_pem()),
            ),
        )

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def argv(self) -> list[str]:
        p = self.pki
        return [
            str(self.binary),
            "--bind-address=127.0.0.1",
            "--advertise-address=127.0.0.1",
            f"--secure-port={self.port}",
            f"--etcd-servers={self.etcd_endpoint}",
            f"--etcd-prefix=/{self.name}",
            f"--cert-dir={self.workdir / 'pki' / 'generated'}",
            f"--tls-cert-file={p.serving.cert}",
            f"--tls-private-key-file={p.serving.key}",
            f"--client-ca-file={p.ca.cert}",
            "--authorization-mode=Node,RBAC",
            f"--service-account-issuer={self.issuer}",
            f"--service-account-key-file={p.service_account.cert}",
            f"--service-account-signing-key-file={p.service_account.key}",
            f"--service-cluster-ip-range={self.service_cidr}",
            "--endpoint-reconciler-type=none",
            "--enable-admission-plugins=NamespaceLifecycle,ServiceAccount",
            f"--requestheader-client-ca-file={p.front_proxy_ca.cert}",
            f"--requestheader-allowed-names={FRONT_PROXY_CLIENT_CN}",
            "--requestheader-username-headers=X-Remote-User",
            "--requestheader-group-headers=X-Remote-Group",
            "--requestheader-extra-headers-prefix=X-Remote-Extra-",
            f"--proxy-client-cert-file={p.front_proxy_client.cert}",
            f"--proxy-client-key-file={p.front_proxy_client.key}",
            "--profiling=false",
            "--v=1",
        ]

    def start(self) -> KubeAPIServer:
        self.process = ManagedProcess(
            f"kube-apiserver[{self.name}]", self.argv(), self.workdir / "logs" / "kube-apiserver.log"
        ).start()
        return self

    def wait_ready(self, timeout: float = 60.0) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        last = ""
        ctx = client_context(self.pki.ca.cert, (self.pki.admin.cert, self.pki.admin.key))
        with httpx.Client(verify=ctx, timeout=2.0) as http:
            while time.monotonic() < deadline:
                self.process.check_alive()
                try:
                    resp = http.get(f"{self.url}/readyz")
                    if resp.status_code == 200:
                        return
                    last = resp.text[-500:]
                except httpx.HTTPError as exc:
                    last = str(exc)
                time.sleep(0.2)
        raise ProcessError(
            f"kube-apiserver[{self.name}] not ready after {timeout}s ({last}):\n{self.process.log_tail()}"
        )

    def stop(self) -> None:
        if self.process:
            self.process.stop()

    def restart(self, timeout: float = 60.0) -> None:
        """Stop and start again on the same port with the same PKI (fault-injection tests)."""
        self.stop()
        self.start()
        self.wait_ready(timeout)
