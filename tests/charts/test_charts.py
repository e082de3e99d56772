"""Helm charts: lint and render with real Helm; rendered manifests accepted by the real apiservers.

Rendering is checked for what operators rely on (no wildcard RBAC, non-root read-only pods,
settings mapped to the backend's environment, invalid combinations refused). Then every rendered
object is applied server-side to the real provider (backend chart) or consumer (konnector chart)
in a fresh namespace under a unique release name, and removed again. The APIService itself is
applied with ``--dry-run=server``: registering ``v1alpha2.kube-bind.io`` for real would hijack the
group the backend tests serve on the shared provider.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import yaml

from kubebind.apis import openapi
from tests.charts.conftest import CHARTS, Helm
from tests.harness import Cluster

BACKEND = str(CHARTS / "backend")
KONNECTOR = str(CHARTS / "konnector")
PROD = "values-production.yaml"


def render(helm: Helm, chart: str, release: str, namespace: str, *args: str) -> list[dict[str, Any]]:
    out = helm("template", release, chart, "--namespace", namespace, *args).stdout
    return [d for d in yaml.safe_load_all(out) if d]


def by_kind(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [d for d in docs if d["kind"] == kind]


def env_of(deployment: dict[str, Any]) -> dict[str, Any]:
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}


@pytest.mark.parametrize("chart", [BACKEND, KONNECTOR])
@pytest.mark.parametrize("values", [None, PROD])
def test_helm_lint(helm: Helm, chart: str, values: str | None) -> None:
    args = ["lint", chart, "--strict"] + (["-f", f"{chart}/{values}"] if values else [])
    proc = helm(*args)
    assert "0 chart(s) failed" in proc.stdout


@pytest.mark.parametrize("values", [None, PROD])
def test_backend_renders_least_privilege_hardened_pods(helm: Helm, values: str | None) -> None:
    docs = render(helm, BACKEND, "kb", "kube-bind", *(["-f", f"{BACKEND}/{values}"] if values else []))
    for role in by_kind(docs, "ClusterRole") + by_kind(docs, "Role"):
        for rule in role["rules"]:
            assert "*" not in rule.get("verbs", []) + rule.get("resources", []) + rule.get("apiGroups", []), (
                rule
            )
    (deployment,) = by_kind(docs, "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["livenessProbe"] and container["readinessProbe"]
    (apiservice,) = by_kind(docs, "APIService")
    assert apiservice["metadata"]["name"] == "v1alpha2.kube-bind.io"
    assert apiservice["spec"]["service"] == {"name": "kb-backend", "namespace": "kube-bind", "port": 443}
    assert apiservice["spec"]["caBundle"]
    env = env_of(deployment)
    if values is None:
        assert deployment["spec"]["replicas"] == 1
        assert env["KUBE_BIND_DATABASE_URL"].startswith("sqlite+aiosqlite:///")
        assert env["KUBE_BIND_OIDC_ISSUER_URL"] == ""  # embedded dev issuer
        assert env["KUBE_BIND_OIDC_CA_FILE"] == "/etc/kube-bind/serving/ca.crt"  # it calls itself over TLS
        (serving,) = [s for s in by_kind(docs, "Secret") if s["metadata"]["name"] == "kb-backend-serving"]
        assert serving["data"]["ca.crt"] == apiservice["spec"]["caBundle"]
    else:
        assert deployment["spec"]["replicas"] == 3
        assert env["KUBE_BIND_DATABASE_URL"] == {"secretKeyRef": {"name": "kube-bind-database", "key": "url"}}
        assert env["KUBE_BIND_OIDC_CLIENT_SECRET"] == {
            "secretKeyRef": {"name": "kube-bind-oidc", "key": "client-secret"}
        }
        assert env["KUBE_BIND_OIDC_ALLOWED_GROUPS"] == '["platform-consumers"]'
        assert env["KUBE_BIND_EXTERNAL_ADDRESS"] == "https://api.provider.example.com:6443"
        assert env["KUBE_BIND_CREDENTIAL_LIFETIME_SECONDS"] == "7200"
        assert env["KUBE_BIND_HEARTBEAT_CHECK_SECONDS"] == "20"
        assert by_kind(docs, "PodDisruptionBudget")
        assert not [s for s in by_kind(docs, "Secret") if s["metadata"]["name"].endswith("-serving")]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--set", "replicaCount=2"], "SQLite supports a single replica only"),
        (["--set", "oidc.issuerUrl=https://idp.example.com"], "needs oidc.clientSecret.existingSecret"),
        (
            ["--set", "oidc.issuerUrl=https://idp", "--set", "oidc.clientSecret.existingSecret=s"],
            "needs oidc.allowedUsers or oidc.allowedGroups",
        ),
        (["--set", "database.url=postgresql://x", "--set", "replicaCount=2"], "embedded dev OIDC issuer"),
        (["--set", "isolation=Bogus"], "isolation must be"),
        (["--set", "apiService.certSecretName=mine"], "needs apiService.caBundle"),
    ],
)
def test_backend_refuses_invalid_settings(helm: Helm, args: list[str], message: str) -> None:
    proc = helm("template", "kb", BACKEND, *args, check=False)
    assert proc.returncode != 0
    assert message in proc.stderr


@pytest.mark.parametrize("values", [None, PROD])
def test_konnector_renders_leader_elected_least_privilege(helm: Helm, values: str | None) -> None:
    docs = render(helm, KONNECTOR, "kn", "kube-bind", *(["-f", f"{KONNECTOR}/{values}"] if values else []))
    (deployment,) = by_kind(docs, "Deployment")
    assert deployment["spec"]["replicas"] == 2
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert "--lease-namespace=$(POD_NAMESPACE)" in container["args"]
    assert [p["name"] for p in container["ports"]] == ["http"]
    assert "--server-address=:8090" in container["args"]
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    for role in by_kind(docs, "ClusterRole") + by_kind(docs, "Role"):
        for rule in role["rules"]:
            assert "*" not in rule.get("verbs", []) + rule.get("resources", []) + rule.get("apiGroups", []), (
                rule
            )
    (cluster_role,) = by_kind(docs, "ClusterRole")
    secret_rules = [r for r in cluster_role["rules"] if "secrets" in r["resources"]]
    assert secret_rules == [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list", "watch"]}]
    if values == PROD:
        (bundle,) = by_kind(docs, "APIServiceBindingBundle")
        assert bundle["spec"]["kubeconfigSecretRef"] == {
            "name": "provider-kubeconfig",
            "namespace": "kube-bind",
            "key": "kubeconfig",
        }


def test_konnector_chart_crds_are_generated_from_the_models() -> None:
    for kind, name in (
        ("APIServiceBinding", "apiservicebindings"),
        ("APIServiceBindingBundle", "apiservicebindingbundles"),
    ):
        on_disk = yaml.safe_load((CHARTS / "konnector" / "crds" / f"{name}.yaml").read_text())
        assert on_disk == openapi.crd_manifest(kind), "stale: run charts/konnector/hack/generate_crds.py"


def _apply(cluster: Cluster, docs: list[dict[str, Any]], *extra: str) -> None:
    cluster.kubectl(
        "apply",
        "--server-side",
        "--force-conflicts",
        "--field-manager=chart-test",
        *extra,
        "-f",
        "-",
        input=yaml.safe_dump_all(docs),
    )


def _delete(cluster: Cluster, docs: list[dict[str, Any]]) -> None:
    cluster.kubectl(
        "delete", "--ignore-not-found", "--wait=false", "-f", "-", input=yaml.safe_dump_all(docs), check=False
    )


@pytest.mark.cluster
@pytest.mark.parametrize("values", [None, PROD])
def test_backend_manifests_are_accepted_by_the_provider(
    helm: Helm, provider: Cluster, provider_namespace: str, values: str | None
) -> None:
    release = f"kb{uuid.uuid4().hex[:6]}"
    docs = render(
        helm, BACKEND, release, provider_namespace, *(["-f", f"{BACKEND}/{values}"] if values else [])
    )
    apiservices = by_kind(docs, "APIService")
    rest = [d for d in docs if d["kind"] != "APIService"]
    try:
        _apply(provider, rest)
        _apply(provider, apiservices, "--dry-run=server")
        got = provider.kubectl(
            "get", "deployment", f"{release}-backend", "-n", provider_namespace, "-o", "yaml"
        )
        assert (
            yaml.safe_load(got.stdout)["spec"]["template"]["spec"]["containers"][0]["securityContext"][
                "readOnlyRootFilesystem"
            ]
            is True
        )
        # The backend's RBAC really grants what it needs (and not more): ask the apiserver.
        sa = f"system:serviceaccount:{provider_namespace}:{release}-backend"
        can = provider.kubectl(
            "auth", "can-i", "create", "serviceaccounts/token", "--as", sa, "-A", check=False
        )
        assert can.stdout.strip() == "yes"
        cannot = provider.kubectl(
            "auth", "can-i", "delete", "customresourcedefinitions", "--as", sa, check=False
        )
        assert cannot.stdout.strip() == "no"
    finally:
        _delete(provider, rest)


@pytest.mark.cluster
@pytest.mark.parametrize("values", [None, PROD])
def test_konnector_manifests_are_accepted_by_the_consumer(
    helm: Helm, consumer: Cluster, consumer_namespace: str, values: str | None
) -> None:
    release = f"kn{uuid.uuid4().hex[:6]}"
    args = ["--include-crds", "--set", f"serviceAccount.name={release}"]
    docs = render(
        helm,
        KONNECTOR,
        release,
        consumer_namespace,
        *args,
        *(["-f", f"{KONNECTOR}/{values}"] if values else []),
    )
    crds = by_kind(docs, "CustomResourceDefinition")
    rest = [d for d in docs if d["kind"] != "CustomResourceDefinition"]
    _apply(consumer, crds)
    consumer.kubectl(
        "wait", "--for=condition=Established", "crd/apiservicebindingbundles.kube-bind.io", "--timeout=30s"
    )
    try:
        _apply(consumer, rest)
        sa = f"system:serviceaccount:{consumer_namespace}:{release}"
        assert (
            consumer.kubectl(
                "auth", "can-i", "update", "leases", "-n", consumer_namespace, "--as", sa, check=False
            ).stdout.strip()
            == "yes"
        )
        assert (
            consumer.kubectl(
                "auth", "can-i", "update", "secrets", "-n", "default", "--as", sa, check=False
            ).stdout.strip()
            == "no"
        )
        if values == PROD:
            consumer.kubectl("get", "apiservicebindingbundle", "example-provider")
    finally:
        _delete(consumer, rest)


# --- the charts speak the components' real configuration -------------------------------------------


@pytest.mark.parametrize("values", [None, PROD])
def test_backend_env_names_are_settings_of_the_backend(helm: Helm, values: str | None) -> None:
    """Every KUBE_BIND_* the chart sets is a field the backend reads (no silently ignored typo),
    and the plain values parse (types, enums, lists)."""
    from app.handshake.settings import ServiceSettings
    from app.settings import Settings

    docs = render(helm, BACKEND, "kb", "kube-bind", *(["-f", f"{BACKEND}/{values}"] if values else []))
    (deployment,) = by_kind(docs, "Deployment")
    env = env_of(deployment)
    known = {
        f"KUBE_BIND_{name.upper()}" for model in (Settings, ServiceSettings) for name in model.model_fields
    }
    ours = {k for k in env if k.startswith("KUBE_BIND_")}
    assert ours - known == set()
    plain = {k: v for k, v in env.items() if k in ours and isinstance(v, str)}
    for model in (Settings, ServiceSettings):
        fields = {f"KUBE_BIND_{n.upper()}" for n in model.model_fields}
        parsed = model(
            **{k.removeprefix("KUBE_BIND_").lower(): _env_value(v) for k, v in plain.items() if k in fields}
        )
        assert parsed is not None


def _env_value(value: str) -> object:
    """What pydantic-settings does with an env string for complex fields: JSON when it looks like it."""
    import json

    if value.startswith("["):
        return json.loads(value)
    return value


@pytest.mark.parametrize("values", [None, PROD])
def test_konnector_args_are_flags_of_the_konnector(helm: Helm, values: str | None) -> None:
    from konnector import options

    docs = render(helm, KONNECTOR, "kn", "kube-bind", *(["-f", f"{KONNECTOR}/{values}"] if values else []))
    (deployment,) = by_kind(docs, "Deployment")
    args = [
        a.replace("$(POD_NAMESPACE)", "kube-bind")
        for a in deployment["spec"]["template"]["spec"]["containers"][0]["args"]
    ]
    parsed = options.parse(args)
    assert parsed.lease_namespace == "kube-bind"
    assert parsed.server_address == ":8090"


def test_cli_konnector_deployment_args_are_flags_of_the_konnector() -> None:
    from konnector import options
    from kubectl_bind import manifests

    deployment = manifests.konnector_deployment("img")
    options.parse(deployment["spec"]["template"]["spec"]["containers"][0]["args"])
