"""A real kube-bind backend process registered as the provider's ``v1alpha2.kube-bind.io`` APIService.

Importable by other test packages: ``from tests.aggregated.backend import KubeBindBackend``; the
fixtures live in ``tests/aggregated/fixtures.py`` (``kube_bind_backend``), a plugin loaded by
``tests/conftest.py``: request them by name anywhere under ``tests/``, never import them (an
imported copy is a second fixture definition, hence a second backend competing for the APIService).

One APIService per provider apiserver: the registration (Service ``kube-bind-backend`` of type
ExternalName → localhost, APIService pointing at a fixed per-session port, caBundle of a
session serving CA) happens once; the backend process can be restarted, pointed at another
database, or joined by extra replicas on other ports.
"""

from __future__ import annotations

import base64
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from kubebind.localcluster import pki
from kubebind.localcluster.cluster import LocalCluster
from kubebind.localcluster.ports import free_port
from kubebind.localcluster.process import ManagedProcess
from kubebind.localcluster.tls import client_context
from tests.harness import Cluster, wait_for

SERVICE_NAME = "kube-bind-backend"
SERVICE_NAMESPACE = "kube-system"
APISERVICE = "v1alpha2.kube-bind.io"
GROUP_VERSION = "/apis/kube-bind.io/v1alpha2"


class KubeBindBackend:
    """The backend as a subprocess (``kube-bind-backend``), reachable directly and via the provider."""

    #: Provider URL -> the instance whose registration is live. Two instances on one provider
    #: would re-point the single APIService at each other's process and database and compete for
    #: the controllers' leader Lease (controllers of one reconciling what the other serves).
    _registered: dict[str, KubeBindBackend] = {}

    def __init__(self, provider: Cluster, local: LocalCluster, workdir: Path) -> None:
        self.provider = provider
        self.local = local
        self.workdir = workdir
        self.port = free_port()
        ca = pki.create_ca(workdir, "backend-ca", "kube-bind-backend-ca")
        self.ca_file = ca.cert
        serving = pki.issue_cert(
            ca,
            workdir,
            "backend",
            "kube-bind-backend",
            dns_names=(f"{SERVICE_NAME}.{SERVICE_NAMESPACE}.svc", "localhost"),
            ip_addresses=("127.0.0.1",),
            server=True,
        )
        self.cert_file, self.key_file = serving.cert, serving.key
        self.admin_cert = (local.apiserver.pki.admin.cert, local.apiserver.pki.admin.key)
        self.front_proxy_client = (
            local.apiserver.pki.front_proxy_client.cert,
            local.apiserver.pki.front_proxy_client.key,
        )
        self.database_url: str | None = None
        self.process: ManagedProcess | None = None
        self.replicas: list[ManagedProcess] = []
        self._starts = 0

    # -- URLs and clients -----------------------------------------------------------------------

    @property
    def url(self) -> str:
        """Direct URL of the primary backend (bypassing kube-apiserver)."""
        return f"https://127.0.0.1:{self.port}"

    @property
    def kubeconfig(self) -> Path:
        """Admin kubeconfig of the provider (reaches the backend through aggregation)."""
        return self.provider.kubeconfig

    def direct_client(
        self, port: int | None = None, *, cert: tuple[Path, Path] | None = None, **kw: Any
    ) -> httpx.Client:
        return httpx.Client(
            base_url=f"https://127.0.0.1:{port or self.port}",
            verify=client_context(self.ca_file, cert),
            timeout=30,
            **kw,
        )

    def provider_client(self, **kw: Any) -> httpx.Client:
        """httpx client to the provider apiserver as the admin (client certificate)."""
        return httpx.Client(
            base_url=self.provider.url,
            verify=client_context(self.local.ca_file, self.admin_cert),
            timeout=30,
            **kw,
        )

    # -- registration ------------------------------------------------------------------------------

    def register(self) -> None:
        other = KubeBindBackend._registered.get(self.provider.url)
        if other is not None and other is not self:
            raise AssertionError(
                f"APIService {APISERVICE} is already registered by another KubeBindBackend "
                f"({other.workdir}): the kube_bind_backend fixtures were defined twice; request them "
                "by name (plugin tests.aggregated.fixtures), never import them into a test module "
                "or conftest.py"
            )
        KubeBindBackend._registered[self.provider.url] = self
        self.provider.apply(
            [
                {
                    "apiVersion": "v1",
                    "kind": "Service",
                    "metadata": {"name": SERVICE_NAME, "namespace": SERVICE_NAMESPACE},
                    "spec": {"type": "ExternalName", "externalName": "localhost"},
                },
                {
                    "apiVersion": "apiregistration.k8s.io/v1",
                    "kind": "APIService",
                    "metadata": {"name": APISERVICE},
                    "spec": {
                        "group": "kube-bind.io",
                        "version": "v1alpha2",
                        "groupPriorityMinimum": 1000,
                        "versionPriority": 15,
                        "service": {"name": SERVICE_NAME, "namespace": SERVICE_NAMESPACE, "port": self.port},
                        "caBundle": base64.b64encode(self.ca_file.read_bytes()).decode(),
                    },
                },
            ]
        )

    def unregister(self) -> None:
        if KubeBindBackend._registered.get(self.provider.url) is self:
            del KubeBindBackend._registered[self.provider.url]
        self.provider.kubectl("delete", "apiservice", APISERVICE, "--ignore-not-found", check=False)
        self.provider.kubectl(
            "delete", "service", "-n", SERVICE_NAMESPACE, SERVICE_NAME, "--ignore-not-found", check=False
        )

    # -- processes ----------------------------------------------------------------------------------

    def _env(self, database_url: str, port: int, extra: dict[str, str] | None) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "KUBE_BIND_DATABASE_URL": database_url,
                "KUBE_BIND_PORT": str(port),
                "KUBE_BIND_BIND_ADDRESS": "127.0.0.1",
                "KUBE_BIND_TLS_CERT_FILE": str(self.cert_file),
                "KUBE_BIND_TLS_KEY_FILE": str(self.key_file),
                "KUBE_BIND_PROVIDER_KUBECONFIG": str(self.provider.kubeconfig),
                "KUBE_BIND_WATCH_BOOKMARK_INTERVAL_SECONDS": "2",
                "KUBE_BIND_LOG_LEVEL": "INFO",
            }
        )
        env.update(extra or {})
        return env

    def _spawn(self, name: str, database_url: str, port: int, extra: dict[str, str] | None) -> ManagedProcess:
        self._starts += 1
        proc = ManagedProcess(
            name,
            [sys.executable, "-c", "from app.main import cli; cli()"],
            self.workdir / f"{name}-{self._starts}.log",
            env=self._env(database_url, port, extra),
            cwd=Path(__file__).resolve().parents[2],
        ).start()
        deadline = time.monotonic() + 60
        with self.direct_client(port) as http:
            while True:
                proc.check_alive()
                try:
                    if http.get("/readyz").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise AssertionError(f"{name} not ready in 60 s:\n{proc.log_tail()}")
                time.sleep(0.1)
        return proc

    def start(self, database_url: str, extra_env: dict[str, str] | None = None) -> None:
        self.database_url = database_url
        self.process = self._spawn("kube-bind-backend", database_url, self.port, extra_env)
        self.wait_available()

    def stop_replicas(self) -> None:
        for replica in self.replicas:
            replica.stop()
        self.replicas.clear()

    def stop(self) -> None:
        self.stop_replicas()
        if self.process is not None:
            self.process.stop()
            self.process = None

    def restart(self, extra_env: dict[str, str] | None = None) -> None:
        assert self.database_url is not None
        if self.process is not None:
            self.process.stop()
        self.process = self._spawn("kube-bind-backend", self.database_url, self.port, extra_env)
        self.wait_available()

    def add_replica(self, extra_env: dict[str, str] | None = None) -> int:
        """Another backend process on the same database (direct access only); returns its port."""
        assert self.database_url is not None
        port = free_port()
        self.replicas.append(
            self._spawn(
                f"kube-bind-backend-replica{len(self.replicas) + 1}", self.database_url, port, extra_env
            )
        )
        return port

    def log_tail(self) -> str:
        return self.process.log_tail(60) if self.process else "(not running)"

    def wait_available(self, timeout: float = 60) -> None:
        def available() -> bool:
            out = self.provider.kubectl("get", "apiservice", APISERVICE, "-o", "json", check=False)
            if out.returncode != 0:
                return False
            conditions = json.loads(out.stdout).get("status", {}).get("conditions", [])
            if not any(c["type"] == "Available" and c["status"] == "True" for c in conditions):
                return False
            with self.provider_client() as http:
                return http.get(GROUP_VERSION).status_code == 200

        wait_for(available, timeout=timeout, interval=0.25, what=f"APIService {APISERVICE} Available")
