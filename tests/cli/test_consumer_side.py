"""The consumer-side effects of kubectl bind (reference §7.4) against the real consumer apiserver.

What needs the backend (a request reaching ``Succeeded``) is covered by tests/e2e; here the
paths that only touch the consumer are exercised for real: ``cluster-identity``, ``deploy`` (the
backend-only flow: namespace, CRDs, labelled kubeconfig Secret reused per provider host+namespace,
konnector with least-privilege RBAC), ``unbind`` cleanup, and a provider-side failure that must
leave no binding behind.
"""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from pathlib import Path
from typing import Any

import kubernetes.client
import pytest
import yaml

from kubebind.kube import ApiClient
from kubectl_bind.binder import Binder, BinderOptions
from tests.cli.conftest import RunCLI, binding_response, cowboys_request, provider_kubeconfig
from tests.harness import Cluster

pytestmark = pytest.mark.cluster


def _secrets_for(consumer: Cluster, namespace: str) -> list[Any]:
    core = kubernetes.client.CoreV1Api(consumer.api())
    out = []
    for secret in core.list_namespaced_secret(
        "kube-bind", label_selector="kube-bind.io/provider-kubeconfig=true"
    ).items:
        data = (
            yaml.safe_load(base64.b64decode((secret.data or {}).get("kubeconfig", "")).decode() or "{}") or {}
        )
        if data.get("contexts", [{}])[0].get("context", {}).get("namespace") == namespace:
            out.append(secret)
    return out


def _write_response(tmp_path: Path, namespace: str, server: str = "https://provider.invalid:6443") -> Path:
    path = tmp_path / f"{namespace}.json"
    path.write_text(json.dumps(binding_response(provider_kubeconfig(server, namespace))))
    return path


def test_cluster_identity_is_the_kube_system_uid(run_cli: RunCLI, consumer: Cluster) -> None:
    proc = run_cli("cluster-identity", "--kubeconfig", str(consumer.kubeconfig))
    assert proc.returncode == 0, proc.stderr
    uid = kubernetes.client.CoreV1Api(consumer.api()).read_namespace("kube-system").metadata.uid
    assert proc.stdout.strip() == uid
    missing = run_cli("cluster-identity", "--kubeconfig", str(consumer.kubeconfig), "-n", "does-not-exist")
    assert missing.returncode == 1 and missing.stderr.startswith("error: namespace does-not-exist not found")


def test_deploy_creates_the_consumer_side_and_reuses_the_secret(
    run_cli: RunCLI, consumer: Cluster, tmp_path: Path
) -> None:
    ns_a, ns_b = f"kube-bind-{uuid.uuid4().hex[:8]}", f"kube-bind-{uuid.uuid4().hex[:8]}"
    kubeconfig = str(consumer.kubeconfig)
    try:
        first = run_cli(
            "deploy",
            "-f",
            str(_write_response(tmp_path, ns_a)),
            "--kubeconfig",
            kubeconfig,
            "--konnector-image",
            "registry.local/konnector:test",
        )
        assert first.returncode == 0, first.stderr
        assert len(_secrets_for(consumer, ns_a)) == 1
        again = run_cli("deploy", "-f", str(_write_response(tmp_path, ns_a)), "--kubeconfig", kubeconfig)
        assert again.returncode == 0, again.stderr
        assert len(_secrets_for(consumer, ns_a)) == 1, "same provider host+namespace must reuse the Secret"
        assert "konnector already deployed (registry.local/konnector:test)" in again.stderr
        other = run_cli("deploy", "-f", str(_write_response(tmp_path, ns_b)), "--kubeconfig", kubeconfig)
        assert other.returncode == 0, other.stderr
        assert len(_secrets_for(consumer, ns_b)) == 1 and len(_secrets_for(consumer, ns_a)) == 1

        consumer.kubectl(
            "get", "crd", "apiservicebindings.kube-bind.io", "apiservicebindingbundles.kube-bind.io"
        )
        deployment = yaml.safe_load(
            consumer.kubectl("get", "deploy", "konnector", "-n", "kube-bind", "-o", "yaml").stdout
        )
        assert deployment["spec"]["replicas"] == 2
        assert (
            deployment["spec"]["template"]["spec"]["containers"][0]["image"]
            == "registry.local/konnector:test"
        )
        sa = "system:serviceaccount:kube-bind:konnector"

        def can(*args: str) -> str:
            return consumer.kubectl("auth", "can-i", *args, "--as", sa, check=False).stdout.strip()

        assert can("list", "apiservicebindings.kube-bind.io") == "yes"
        assert can("update", "leases", "-n", "kube-bind") == "yes"
        assert can("get", "secrets", "-n", "kube-bind") == "yes"
        assert can("get", "secrets", "-n", "default") == "yes"  # the konnector's Secret informer
        assert can("update", "secrets", "-n", "default") == "no"
        assert can("delete", "customresourcedefinitions") == "no"
        assert can("create", "deployments", "-n", "default") == "no"
    finally:
        core = kubernetes.client.CoreV1Api(consumer.api())
        for secret in _secrets_for(consumer, ns_a) + _secrets_for(consumer, ns_b):
            core.delete_namespaced_secret(secret.metadata.name, "kube-bind")


def test_deploy_reads_a_backend_only_secret(
    run_cli: RunCLI, consumer: Cluster, consumer_namespace: str
) -> None:
    ns = f"kube-bind-{uuid.uuid4().hex[:8]}"
    payload = json.dumps(
        {
            "kind": "BindingResourceResponse",
            "apiVersion": "kube-bind.io/v1alpha2",
            "kubeconfig": base64.b64encode(provider_kubeconfig("https://p.invalid", ns).encode()).decode(),
        }
    )
    consumer.kubectl(
        "create",
        "secret",
        "generic",
        "resp",
        "-n",
        consumer_namespace,
        f"--from-literal=binding-response={payload}",
    )
    try:
        proc = run_cli(
            "deploy",
            "--secret",
            f"{consumer_namespace}/resp",
            "--skip-konnector",
            "--kubeconfig",
            str(consumer.kubeconfig),
        )
        assert proc.returncode == 0, proc.stderr
        assert len(_secrets_for(consumer, ns)) == 1
        bad = run_cli(
            "deploy",
            "--secret",
            f"{consumer_namespace}/resp",
            "--secret-key",
            "nope",
            "--kubeconfig",
            str(consumer.kubeconfig),
        )
        assert bad.returncode == 1 and "has none of the keys nope" in bad.stderr
    finally:
        for secret in _secrets_for(consumer, ns):
            kubernetes.client.CoreV1Api(consumer.api()).delete_namespaced_secret(
                secret.metadata.name, "kube-bind"
            )


def test_provider_failure_leaves_no_binding(
    run_cli: RunCLI, consumer: Cluster, provider: Cluster, tmp_path: Path
) -> None:
    ns = f"kube-bind-{uuid.uuid4().hex[:8]}"
    remote = tmp_path / "remote"
    remote.write_text(
        provider_kubeconfig(provider.url, ns, token="not-a-valid-token", ca_pem=provider.ca_file.read_bytes())
    )
    request = tmp_path / "request.yaml"
    name = f"c-{uuid.uuid4().hex[:6]}"
    request.write_text(yaml.safe_dump(cowboys_request(name)))
    try:
        proc = run_cli(
            "apiservice",
            "-f",
            str(request),
            "--remote-kubeconfig",
            str(remote),
            "--skip-konnector",
            "--kubeconfig",
            str(consumer.kubeconfig),
        )
        assert proc.returncode == 1
        last = proc.stderr.strip().splitlines()[-1]
        assert (
            last.startswith("error: creating the APIServiceExportRequest on the provider:") and "401" in last
        )
        assert consumer.kubectl("get", "apiservicebinding", name, check=False).returncode != 0
    finally:
        for secret in _secrets_for(consumer, ns):
            kubernetes.client.CoreV1Api(consumer.api()).delete_namespaced_secret(
                secret.metadata.name, "kube-bind"
            )


def test_unbind_removes_binding_grants_and_unused_secret(
    run_cli: RunCLI, consumer: Cluster, tmp_path: Path
) -> None:
    ns = f"kube-bind-{uuid.uuid4().hex[:8]}"
    assert (
        run_cli(
            "deploy",
            "-f",
            str(_write_response(tmp_path, ns)),
            "--skip-konnector",
            "--kubeconfig",
            str(consumer.kubeconfig),
        ).returncode
        == 0
    )
    (secret,) = _secrets_for(consumer, ns)
    one, two = f"b1-{uuid.uuid4().hex[:6]}", f"b2-{uuid.uuid4().hex[:6]}"

    async def bind_both() -> None:
        async with ApiClient.from_kubeconfig(consumer.kubeconfig) as client:
            binder = Binder(client, BinderOptions(quiet=True))
            for name in (one, two):
                await binder.ensure_binding(name, secret.metadata.name, cowboys_request()["spec"])

    asyncio.run(bind_both())
    consumer.kubectl("get", "clusterrole", f"kube-bind-konnector-{one}")
    ready = yaml.safe_load(consumer.kubectl("get", "apiservicebinding", one, "-o", "yaml").stdout)
    assert ready["status"]["conditions"][0]["reason"] == "Pending"

    first = run_cli("unbind", one, "--kubeconfig", str(consumer.kubeconfig))
    assert first.returncode == 0, first.stderr
    assert consumer.kubectl("get", "apiservicebinding", one, check=False).returncode != 0
    assert consumer.kubectl("get", "clusterrole", f"kube-bind-konnector-{one}", check=False).returncode != 0
    assert len(_secrets_for(consumer, ns)) == 1, "the Secret is still used by the second binding"

    second = run_cli("unbind", two, "--kubeconfig", str(consumer.kubeconfig))
    assert second.returncode == 0, second.stderr
    assert _secrets_for(consumer, ns) == [], "the last binding's Secret is removed"
    missing = run_cli("unbind", two, "--kubeconfig", str(consumer.kubeconfig))
    assert missing.returncode == 1 and f"APIServiceBinding {two} not found" in missing.stderr
