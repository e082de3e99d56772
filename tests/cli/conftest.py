"""Fixtures of the CLI tests: run the real ``kubectl-bind`` console script in a clean HOME.

``run_cli`` executes the installed entry point as a subprocess (exactly what a user runs), with
``HOME`` and ``KUBE_BIND_CONFIG`` pointing into the test's temp dir so the user's own
``~/.kube-bind`` is never read or written, and no browser is ever opened (``BROWSER`` is unset
to a failing command).
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubebind.localcluster import paths

CLI = str(Path(sys.prefix) / "bin" / "kubectl-bind")

RunCLI = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def cli_home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    return home


@pytest.fixture
def run_cli(cli_home: Path) -> RunCLI:
    if not Path(CLI).is_file():
        pytest.fail(f"{CLI} missing: `pip install -e .` in the venv installs the kubectl-bind console script")

    def run(
        *args: str, input: str | None = None, timeout: float = 60, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        full_env = {
            k: v for k, v in os.environ.items() if k not in ("KUBECONFIG", "KUBE_BIND_CONFIG", "BROWSER")
        }
        full_env.update(
            HOME=str(cli_home),
            KUBE_BIND_CONFIG=str(cli_home / ".kube-bind" / "config"),
            BROWSER="false",
            # The Go-built binaries stay where the session built them, not under the fake HOME.
            KUBE_BIND_CACHE=str(paths.cache_root()),
        )
        full_env.update(env or {})
        return subprocess.run(
            [CLI, *args], capture_output=True, text=True, input=input, timeout=timeout, env=full_env
        )

    return run


def provider_kubeconfig(
    server: str, namespace: str, *, token: str = "t0ken", ca_pem: bytes | None = None
) -> str:
    cluster: dict[str, Any] = {"server": server}
    if ca_pem:
        cluster["certificate-authority-data"] = base64.b64encode(ca_pem).decode()
    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "default", "cluster": cluster}],
            "contexts": [
                {
                    "name": "default",
                    "context": {"cluster": "default", "user": "default", "namespace": namespace},
                }
            ],
            "users": [{"name": "default", "user": {"token": token}}],
            "current-context": "default",
        }
    )


def binding_response(kubeconfig: str, requests: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "BindingResponse",
        "apiVersion": "kube-bind.io/v1alpha2",
        "authentication": {"oauth2CodeGrant": {"sid": "s1", "id": "https://issuer/user"}},
        "kubeconfig": base64.b64encode(kubeconfig.encode()).decode(),
    }
    if requests is not None:
        body["requests"] = requests
    return body


def cowboys_request(name: str = "cowboys") -> dict[str, Any]:
    return {
        "apiVersion": "kube-bind.io/v1alpha2",
        "kind": "APIServiceExportRequest",
        "metadata": {"name": name},
        "spec": {
            "resources": [{"group": "wildwest.dev", "resource": "cowboys", "versions": ["v1alpha1"]}],
            "permissionClaims": [
                {
                    "group": "",
                    "resource": "secrets",
                    "selector": {"labelSelector": {"matchLabels": {"app": "cowboy"}}},
                }
            ],
        },
    }
