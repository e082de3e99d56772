"""CLI verbs against the real backend (one dev environment for the module): catalog tables,
``apiservice --template-name`` (dry run and real), request ``Succeeded`` on the provider, unbind.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubebind.localcluster import paths
from kubebind.localcluster.ports import free_port
from kubectl_bind import config
from kubectl_bind.dev import setup
from tests.harness import kubectl_binary

pytestmark = pytest.mark.cluster

BIN = Path(sys.prefix) / "bin"


class Env:
    def __init__(self, home: Path) -> None:
        self.env = {k: v for k, v in os.environ.items() if k not in ("KUBECONFIG", "BROWSER")}
        self.env.update(
            HOME=str(home),
            KUBE_BIND_CONFIG=str(home / ".kube-bind" / "config"),
            KUBE_BIND_DEV_DIR=str(home / "dev"),
            KUBE_BIND_CACHE=str(paths.cache_root()),
            BROWSER="false",
        )
        self.state: dict[str, Any] = {}

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [str(BIN / "kubectl-bind"), *args], capture_output=True, text=True, timeout=300, env=self.env
        )
        if check:
            assert proc.returncode == 0, f"kubectl bind {' '.join(args)}: {proc.stderr}"
        return proc

    def kubectl(self, side: str, *args: str, input: str | None = None) -> str:
        kubeconfig = self.state["clusters"][side]["kubeconfig"]
        proc = subprocess.run(
            [kubectl_binary(), f"--kubeconfig={kubeconfig}", *args],
            capture_output=True,
            text=True,
            timeout=60,
            input=input,
        )
        assert proc.returncode == 0, proc.stderr
        return proc.stdout


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    env = Env(tmp_path_factory.mktemp("home"))
    try:
        env.cli("dev", "up", "--timeout", "240")
        env.state = json.loads(env.cli("dev", "status", "-o", "json").stdout)
        backend = env.state["backend"]
        server = asyncio.run(setup.password_login(backend["url"], backend["caFile"]))
        cfg = config.Config.load(Path(env.env["KUBE_BIND_CONFIG"]))
        cfg.set_server(server)
        cfg.save()
        env.kubectl("provider", "apply", "-f", str(paths.repo_root() / "examples" / "collection.yaml"))
        yield env
    finally:
        env.cli("dev", "down", check=False)


def test_templates_and_collections_tables(dev: Env) -> None:
    table = dev.cli("templates").stdout.splitlines()
    assert table[0].split() == ["NAME", "SCOPE", "RESOURCES", "PERMISSION", "CLAIMS", "DESCRIPTION", "AGE"]
    assert table[1].split()[:4] == ["cowboys", "Namespaced", "cowboys.wildwest.dev", "secrets"]
    as_json = json.loads(dev.cli("templates", "-o", "json").stdout)
    assert as_json["kind"] == "APIServiceExportTemplateList"
    assert as_json["items"][0]["spec"]["resources"][0]["resource"] == "cowboys"
    as_yaml = list(yaml.safe_load_all(dev.cli("collections", "-o", "yaml").stdout))
    assert [c["metadata"]["name"] for c in as_yaml] == ["wild-west"]
    collections = dev.cli("collections").stdout.splitlines()
    assert collections[1].split()[0] == "wild-west" and "cowboys" in collections[1]


def test_apiservice_dry_run_mints_nothing_and_touches_no_cluster(dev: Env, tmp_path: Path) -> None:
    dead = tmp_path / "dead"
    dead.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "x",
                "clusters": [{"name": "x", "cluster": {"server": f"https://127.0.0.1:{free_port()}"}}],
                "contexts": [{"name": "x", "context": {"cluster": "x", "user": "x"}}],
                "users": [{"name": "x", "user": {}}],
            }
        )
    )
    before = dev.kubectl("provider", "get", "namespaces", "-o", "name")
    proc = dev.cli(
        "apiservice", "--template-name", "cowboys", "--name", "dry", "--dry-run", "--kubeconfig", str(dead)
    )
    docs = list(yaml.safe_load_all(proc.stdout))
    request = next(d for d in docs if d["kind"] == "APIServiceExportRequest")
    assert request["metadata"]["name"] == "dry"
    assert request["spec"]["resources"] == [
        {"group": "wildwest.dev", "resource": "cowboys", "versions": ["v1alpha1"]}
    ]
    assert [d["metadata"]["name"] for d in docs if d["kind"] == "APIServiceBinding"] == ["dry"]
    assert dev.kubectl("provider", "get", "namespaces", "-o", "name") == before, "dry run must mint nothing"
    missing = dev.cli("apiservice", "--template-name", "nope", "--dry-run", check=False)
    assert missing.returncode == 1 and "template 'nope' not found" in missing.stderr


def test_apiservice_template_binds_and_unbind_cleans_the_provider(dev: Env) -> None:
    consumer = dev.state["clusters"]["consumer"]["kubeconfig"]
    out = dev.cli(
        "apiservice",
        "--template-name",
        "cowboys",
        "--name",
        "herd",
        "--kubeconfig",
        consumer,
        "--skip-konnector",
        "-o",
        "json",
    ).stdout
    (binding,) = json.loads(out)["items"]
    assert binding["metadata"]["name"] == "herd"
    secret = binding["spec"]["kubeconfigSecretRef"]
    assert secret["namespace"] == "kube-bind" and secret["key"] == "kubeconfig"
    requests = json.loads(dev.kubectl("provider", "get", "apiserviceexportrequests", "-A", "-o", "json"))[
        "items"
    ]
    (request,) = [r for r in requests if r["metadata"]["name"] == "herd"]
    assert request["status"]["phase"] == "Succeeded"
    # The same bind again is idempotent (same Secret, same request).
    again = json.loads(
        dev.cli(
            "apiservice",
            "--template-name",
            "cowboys",
            "--name",
            "herd",
            "--kubeconfig",
            consumer,
            "--skip-konnector",
            "-o",
            "json",
        ).stdout
    )["items"][0]
    assert again["spec"]["kubeconfigSecretRef"] == secret
    dev.cli("unbind", "herd", "--kubeconfig", consumer, "--timeout", "30")
    requests = json.loads(dev.kubectl("provider", "get", "apiserviceexportrequests", "-A", "-o", "json"))[
        "items"
    ]
    assert not [r for r in requests if r["metadata"]["name"] == "herd"]
