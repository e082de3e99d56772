"""Starts and watches every process of the dev environment; stops them all on SIGTERM/SIGINT.

Order: build/find the Go binaries → provider+consumer control planes → the backend
(``kube-bind-backend``: SQLite in the workdir, embedded OIDC issuer, TLS from a dev CA, registered
as the provider's aggregated API through an ExternalName Service to ``localhost``) → the example
Cowboys CRD and template → with ``--bind T``: the binding and the konnector (a local process with
its own least-privilege token). Every child is a :class:`ManagedProcess` (dies with the supervisor,
even on SIGKILL); the backend and konnector are restarted with backoff if they exit. Progress and
the final state go to the state file, which ``dev up`` polls and ``dev status``/``down`` read.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import signal
import ssl
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from kubebind.kube import ApiClient
from kubebind.localcluster import build, pki
from kubebind.localcluster.cluster import ClusterPair
from kubebind.localcluster.ports import free_port
from kubebind.localcluster.process import ManagedProcess, ProcessError
from kubectl_bind import config
from kubectl_bind.dev import setup, state
from kubectl_bind.errors import CLIError

__all__ = ["DevOptions", "Supervisor"]

log = logging.getLogger("kubectl_bind.dev")

SERVICE_NAME = "kube-bind-backend"
SERVICE_NAMESPACE = "kube-bind"


@dataclass
class DevOptions:
    workdir: Path
    bind: str = ""
    backend_command: list[str] = field(default_factory=lambda: [_script("kube-bind-backend")])
    konnector_command: list[str] = field(default_factory=lambda: [_script("konnector")])
    ready_timeout: float = 120.0


def _script(name: str) -> str:
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.is_file() else (shutil.which(name) or name)


class _Restarting:
    """A ManagedProcess restarted with exponential backoff when it exits (max 5 restarts/10 min)."""

    def __init__(self, proc: ManagedProcess) -> None:
        self.proc = proc
        self.restarts: list[float] = []
        self.next_try = 0.0

    def check(self) -> None:
        if self.proc.running():
            return
        now = time.monotonic()
        self.restarts = [t for t in self.restarts if now - t < 600]
        if len(self.restarts) >= 5:
            raise ProcessError(f"{self.proc.name} keeps exiting; last log lines:\n{self.proc.log_tail()}")
        if now < self.next_try:
            return
        log.warning("restarting %s", self.proc.name)
        self.restarts.append(now)
        self.next_try = now + 2 ** len(self.restarts)
        self.proc.start()


class Supervisor:
    def __init__(self, options: DevOptions) -> None:
        self.options = options
        self.workdir = options.workdir.resolve()
        self.pair: ClusterPair | None = None
        self.backend: ManagedProcess | None = None
        self.konnector: ManagedProcess | None = None
        self.state: dict[str, Any] = {
            "supervisorPid": os.getpid(),
            "phase": "Starting",
            "workdir": str(self.workdir),
        }
        self._stop = threading.Event()

    # -- state -------------------------------------------------------------------------------------

    def _save(self, **changes: Any) -> None:
        self.state.update(changes)
        state.write(self.workdir, self.state)

    def _step(self, message: str) -> None:
        log.info("%s", message)
        self._save(step=message)

    # -- processes -----------------------------------------------------------------------------------

    def _start_clusters(self) -> None:
        self._step("building/finding the control-plane binaries")
        build.ensure_binaries()
        self._step("starting the provider and consumer control planes")
        self.pair = ClusterPair(self.workdir / "clusters").start()
        self._save(
            clusters={
                name: {"url": c.url, "kubeconfig": str(c.kubeconfig), **c.describe()["pids"]}
                for name, c in self.pair.clusters.items()
            },
            etcdPid=self.pair.etcd.process.pid if self.pair.etcd and self.pair.etcd.process else None,
        )

    def _backend_certs(self) -> tuple[pki.KeyPair, pki.KeyPair]:
        directory = self.workdir / "backend-pki"
        directory.mkdir(parents=True, exist_ok=True)
        ca = pki.create_ca(directory, "ca", "kube-bind-dev-backend-ca")
        serving = pki.issue_cert(
            ca,
            directory,
            "serving",
            "kube-bind-backend",
            dns_names=(f"{SERVICE_NAME}.{SERVICE_NAMESPACE}.svc", "localhost"),
            ip_addresses=("127.0.0.1",),
            server=True,
        )
        return ca, serving

    async def _prepare_provider(self) -> None:
        """The namespace of the backend's Service (its APIService registration needs it)."""
        assert self.pair is not None
        async with ApiClient.from_kubeconfig(self.pair.provider.kubeconfig) as provider:
            await setup.ensure_namespace(provider, SERVICE_NAMESPACE)

    def _start_backend(self) -> str:
        assert self.pair is not None
        asyncio.run(self._prepare_provider())
        self._step("starting the backend (SQLite, embedded OIDC issuer)")
        ca, serving = self._backend_certs()
        port = free_port()
        url = f"https://127.0.0.1:{port}"
        provider = self.pair.provider
        env = dict(os.environ)
        env.update(
            KUBE_BIND_DATABASE_URL=f"sqlite+aiosqlite:///{self.workdir / 'backend.db'}",
            KUBE_BIND_BIND_ADDRESS="127.0.0.1",
            KUBE_BIND_PORT=str(port),
            KUBE_BIND_TLS_CERT_FILE=str(serving.cert),
            KUBE_BIND_TLS_KEY_FILE=str(serving.key),
            KUBE_BIND_PROVIDER_KUBECONFIG=str(provider.kubeconfig),
            KUBE_BIND_REGISTER_APISERVICE="true",
            KUBE_BIND_SERVICE_NAME=SERVICE_NAME,
            KUBE_BIND_SERVICE_NAMESPACE=SERVICE_NAMESPACE,
            KUBE_BIND_SERVICE_EXTERNAL_NAME="localhost",
            KUBE_BIND_SERVICE_PORT=str(port),
            KUBE_BIND_APISERVICE_CA_FILE=str(ca.cert),
            KUBE_BIND_PUBLIC_URL=url,
            KUBE_BIND_OIDC_ISSUER_URL="",
            # The embedded issuer is reached over this TLS listener: trust the dev CA for it.
            KUBE_BIND_OIDC_CA_FILE=str(ca.cert),
            KUBE_BIND_EXTERNAL_ADDRESS=provider.url,
            KUBE_BIND_EXTERNAL_CA_FILE=str(provider.ca_file),
            KUBE_BIND_PRETTY_NAME="kube-bind dev provider",
        )
        self.backend = ManagedProcess(
            "kube-bind-backend",
            self.options.backend_command,
            self.workdir / "logs" / "backend.log",
            env=env,
            cwd=self.workdir,
        ).start()
        self._save(
            backend={
                "url": url,
                "pid": self.backend.pid,
                "caFile": str(ca.cert),
                "log": str(self.backend.log_path),
            }
        )
        context = ssl.create_default_context(cafile=str(ca.cert))
        deadline = time.monotonic() + self.options.ready_timeout
        last = ""
        while time.monotonic() < deadline and not self._stop.is_set():
            self.backend.check_alive()
            try:
                if httpx.get(f"{url}/healthz", verify=context, timeout=2).status_code == 200:
                    return url
            except httpx.HTTPError as exc:
                last = str(exc)
            time.sleep(0.3)
        raise CLIError(f"the backend did not become healthy at {url} ({last}); log: {self.backend.log_path}")

    async def _kube_setup(self) -> None:
        assert self.pair is not None
        async with ApiClient.from_kubeconfig(self.pair.provider.kubeconfig) as provider:
            self._step("exporting the Cowboys CRD and template on the provider")
            applied = await setup.apply_examples(provider, api_timeout=self.options.ready_timeout)
            self._save(examples=applied)
            if not self.options.bind:
                return
            self._step("logging in as the dev user")
            backend = self.state["backend"]
            server = await setup.password_login(backend["url"], backend["caFile"])
            cfg = config.Config.load()
            cfg.set_server(server)
            cfg.save()
            async with ApiClient.from_kubeconfig(self.pair.consumer.kubeconfig) as consumer:
                self._step(f"binding template {self.options.bind}")
                bindings = await setup.bind_template(backend["url"], server, consumer, self.options.bind)
                self._save(bindings=[b["metadata"]["name"] for b in bindings])
                await setup.konnector_kubeconfig(
                    consumer,
                    self.pair.consumer.url,
                    self.pair.consumer.ca_file.read_bytes(),
                    self.workdir / "konnector.kubeconfig",
                )

    def _start_konnector(self) -> None:
        self._step("starting the konnector")
        health = free_port()
        env = dict(os.environ)
        env.update(POD_NAME="konnector-dev", POD_NAMESPACE="kube-bind")
        self.konnector = ManagedProcess(
            "konnector",
            [
                *self.options.konnector_command,
                f"--kubeconfig={self.workdir / 'konnector.kubeconfig'}",
                "--lease-namespace=kube-bind",
                f"--server-address=127.0.0.1:{health}",
            ],
            self.workdir / "logs" / "konnector.log",
            env=env,
            cwd=self.workdir,
        ).start()
        self._save(
            konnector={
                "pid": self.konnector.pid,
                "health": f"http://127.0.0.1:{health}/healthz",
                "log": str(self.konnector.log_path),
            }
        )

    # -- lifecycle ------------------------------------------------------------------------------------

    def stop(self) -> None:
        for proc in (self.konnector, self.backend):
            if proc is not None:
                proc.stop()
        if self.pair is not None:
            self.pair.stop()

    def run(self) -> int:
        signal.signal(signal.SIGTERM, lambda *_: self._stop.set())
        signal.signal(signal.SIGINT, lambda *_: self._stop.set())
        error = ""
        try:
            self._start_clusters()
            self._save(backend={"url": ""})
            url = self._start_backend()
            asyncio.run(self._kube_setup())
            if self.options.bind:
                self._start_konnector()
            self._save(phase="Ready", step="ready", backendUrl=url)
            watched = [_Restarting(p) for p in (self.backend, self.konnector) if p is not None]
            while not self._stop.wait(1.0):
                for w in watched:
                    w.check()
                    if w.proc is self.backend:
                        self._save(backend={**self.state["backend"], "pid": w.proc.pid})
                    elif w.proc is self.konnector:
                        self._save(konnector={**self.state["konnector"], "pid": w.proc.pid})
                assert self.pair is not None
                for cluster in self.pair.clusters.values():
                    if cluster.apiserver.process is not None:
                        cluster.apiserver.process.check_alive()
            return 0
        except (CLIError, ProcessError, build.BuildError, OSError) as exc:
            log.error("dev environment failed: %s", exc)
            error = " ".join(str(exc).split())[:2000]
            return 1
        except Exception as exc:  # anything else: record it, never leave processes behind
            log.exception("dev environment failed")
            error = f"{type(exc).__name__}: {exc}"[:2000]
            return 1
        finally:
            self.stop()  # before reporting: `dev up` returns only once nothing is left running
            if error:
                self._save(phase="Failed", error=error)
            else:
                state.remove(self.workdir)
