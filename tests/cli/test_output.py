"""Tables and ages like kubectl; manifests are least-privilege."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from kubectl_bind import manifests, output
from tests.cli.conftest import cowboys_request


def test_age_like_kubectl() -> None:
    now = datetime(2030, 1, 1, tzinfo=UTC)

    def ago(**kw: float) -> str:
        return output.age((now - timedelta(**kw)).strftime("%Y-%m-%dT%H:%M:%SZ"), now)

    assert ago(seconds=42) == "42s"
    assert ago(minutes=5) == "5m"
    assert ago(hours=3) == "3h"
    assert ago(days=4) == "4d"
    assert output.age(None) == "<unknown>"


def test_render_table_aligns_columns() -> None:
    text = output.render_table([["cowboys", "wildwest.dev"], ["a", ""]], ["NAME", "RESOURCES"])
    assert text.splitlines() == ["NAME      RESOURCES", "cowboys   wildwest.dev", "a         <none>"]


def _rules(objs: list[dict]) -> list[dict]:  # type: ignore[type-arg]
    return [r for o in objs if o["kind"] in ("ClusterRole", "Role") for r in o["rules"]]


def test_konnector_rbac_has_no_wildcards_and_binding_rbac_is_exact() -> None:
    for rule in _rules(manifests.konnector_manifests()):
        for key in ("apiGroups", "resources", "verbs"):
            assert "*" not in rule[key], rule
    objs = manifests.konnector_manifests()
    (cluster_role,) = [o for o in objs if o["kind"] == "ClusterRole"]
    (role,) = [o for o in objs if o["kind"] == "Role"]
    cluster_secrets = [r["verbs"] for r in cluster_role["rules"] if "secrets" in r["resources"]]
    assert cluster_secrets == [["get", "list", "watch"]], "Secret writes only in kube-bind"
    assert next(r for r in role["rules"] if "secrets" in r["resources"])["verbs"][-2:] == ["update", "patch"]
    per_binding = manifests.binding_rbac("cowboys", cowboys_request()["spec"])
    rules = _rules(per_binding)
    assert {
        "apiGroups": ["wildwest.dev"],
        "resources": ["cowboys"],
        "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"],
    } in rules
    crd_rule = next(r for r in rules if r["resources"] == ["customresourcedefinitions"])
    assert crd_rule["resourceNames"] == ["cowboys.wildwest.dev"]
    assert any(r["resources"] == ["secrets"] and r["apiGroups"] == [""] for r in rules)
    deployment = next(o for o in manifests.konnector_manifests() if o["kind"] == "Deployment")
    assert deployment["spec"]["replicas"] == 2
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
