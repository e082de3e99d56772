"""Bad input gets the right 4xx Status and never changes stored data."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.aggregated.backend import GROUP_VERSION, KubeBindBackend

pytestmark = pytest.mark.cluster

TEMPLATES = f"{GROUP_VERSION}/apiserviceexporttemplates"


def _template(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "kube-bind.io/v1alpha2",
        "kind": "APIServiceExportTemplate",
        "metadata": {"name": name},
        "spec": {"scope": "Namespaced", "resources": [{"group": "wildwest.dev", "resource": "cowboys"}]},
    }


def _request(ns: str) -> dict[str, Any]:
    return {
        "apiVersion": "kube-bind.io/v1alpha2",
        "kind": "APIServiceExportRequest",
        "metadata": {"name": "req"},
        "spec": {"resources": [{"group": "wildwest.dev", "resource": "cowboys", "versions": ["v1alpha1"]}]},
    }


def _status(r: httpx.Response, code: int, reason: str) -> dict[str, Any]:
    assert r.status_code == code, r.text
    body: dict[str, Any] = r.json()
    assert body["kind"] == "Status" and body["reason"] == reason and body["code"] == code, body
    return body


def test_bad_input(kube_bind_backend: KubeBindBackend) -> None:
    name = f"t-{uuid.uuid4().hex[:6]}"
    with kube_bind_backend.provider_client() as c:
        created = c.post(TEMPLATES, json=_template(name))
        assert created.status_code == 201, created.text
        before = c.get(f"{TEMPLATES}/{name}").json()
        hdr = {"Content-Type": "application/json"}
        _status(c.post(TEMPLATES, content=b"{not json", headers=hdr), 400, "BadRequest")
        _status(c.put(f"{TEMPLATES}/{name}", content=b"[1,2", headers=hdr), 400, "BadRequest")
        wrong_kind = _template("other") | {"kind": "Collection"}
        _status(c.post(TEMPLATES, json=wrong_kind), 400, "BadRequest")
        wrong_version = _template("other") | {"apiVersion": "kube-bind.io/v1alpha1"}
        _status(c.post(TEMPLATES, json=wrong_version), 400, "BadRequest")
        missing = _template("missing")
        del missing["spec"]["scope"]
        missing["spec"]["resources"] = []
        body = _status(c.post(TEMPLATES, json=missing), 422, "Invalid")
        fields = {cause["field"] for cause in body["details"]["causes"]}
        assert {"spec.scope", "spec.resources"} <= fields, body
        _status(c.post(TEMPLATES, json=_template("Not_A_DNS_Name")), 422, "Invalid")
        enum = _template("enum")
        enum["spec"]["scope"] = "Galaxy"
        _status(c.post(TEMPLATES, json=enum), 422, "Invalid")
        unknown = _template("unknown")
        unknown["spec"]["bogus"] = 1
        _status(c.post(f"{TEMPLATES}?fieldValidation=Strict", json=unknown), 400, "BadRequest")
        warned = c.post(TEMPLATES, json=unknown)  # default Warn: pruned, with a warning header
        assert warned.status_code == 201 and "bogus" in warned.headers.get("warning", "")
        assert "bogus" not in warned.json()["spec"]
        huge = _template("huge")
        huge["metadata"]["annotations"] = {"x": "y" * (4 * 1024 * 1024)}
        _status(c.post(TEMPLATES, json=huge), 413, "RequestEntityTooLarge")
        smp = c.patch(
            f"{TEMPLATES}/{name}",
            content=b'{"spec":{"description":"x"}}',
            headers={"Content-Type": "application/strategic-merge-patch+json"},
        )
        _status(smp, 415, "UnsupportedMediaType")
        no_rv = dict(before)
        no_rv["metadata"] = {k: v for k, v in before["metadata"].items() if k != "resourceVersion"}
        _status(c.put(f"{TEMPLATES}/{name}", json=no_rv), 422, "Invalid")
        _status(c.post(TEMPLATES, json=_template(name)), 409, "AlreadyExists")
        _status(c.get(f"{TEMPLATES}/does-not-exist"), 404, "NotFound")
        _status(c.get(f"{GROUP_VERSION}/nonsense"), 404, "NotFound")
        _status(
            c.get(
                f"{TEMPLATES}?labelSelector=a%20in%20(",
            ),
            400,
            "BadRequest",
        )
        _status(c.get(f"{TEMPLATES}?fieldSelector=spec.scope%3DCluster"), 400, "BadRequest")
        # JSON patch with a failing test op: nothing is written.
        jp = c.patch(
            f"{TEMPLATES}/{name}",
            json=[
                {"op": "test", "path": "/spec/scope", "value": "Cluster"},
                {"op": "remove", "path": "/spec"},
            ],
            headers={"Content-Type": "application/json-patch+json"},
        )
        _status(jp, 422, "Invalid")
        after = c.get(f"{TEMPLATES}/{name}").json()
        assert after == before
        # dry run creates nothing
        dry = c.post(f"{TEMPLATES}?dryRun=All", json=_template("dry"))
        assert dry.status_code == 201
        _status(c.get(f"{TEMPLATES}/dry"), 404, "NotFound")
        for leftover in ("unknown",):
            c.delete(f"{TEMPLATES}/{leftover}")
        c.delete(f"{TEMPLATES}/{name}")


def test_immutable_and_name_rules(kube_bind_backend: KubeBindBackend) -> None:
    provider = kube_bind_backend.provider
    with provider.temporary_namespace("imm") as ns, kube_bind_backend.provider_client() as c:
        base = f"{GROUP_VERSION}/namespaces/{ns}"
        r = c.post(f"{base}/apiserviceexportrequests", json=_request(ns))
        assert r.status_code == 201, r.text
        obj = r.json()
        assert obj["status"]["phase"] == "Pending"  # schema default
        obj["spec"]["resources"][0]["resource"] = "sheriffs"
        body = _status(c.put(f"{base}/apiserviceexportrequests/req", json=obj), 422, "Invalid")
        assert any(cause["field"] == "spec.resources" for cause in body["details"]["causes"]), body
        merge = c.patch(
            f"{base}/apiserviceexportrequests/req",
            json={"spec": {"permissionClaims": [{"resource": "secrets", "selector": {}}]}},
            headers={"Content-Type": "application/merge-patch+json"},
        )
        _status(merge, 422, "Invalid")
        assert (
            c.get(f"{base}/apiserviceexportrequests/req").json()["metadata"]["resourceVersion"]
            == r.json()["metadata"]["resourceVersion"]
        )
        binding: dict[str, Any] = {
            "apiVersion": "kube-bind.io/v1alpha2",
            "kind": "ClusterBinding",
            "metadata": {"name": "not-cluster"},
            "spec": {
                "providerPrettyName": "p",
                "kubeconfigSecretRef": {"name": "kubeconfig", "key": "kubeconfig"},
            },
        }
        _status(c.post(f"{base}/clusterbindings", json=binding), 422, "Invalid")
        binding["metadata"]["name"] = "cluster"
        ok = c.post(f"{base}/clusterbindings", json=binding)
        assert ok.status_code == 201, ok.text
        missing_ns = f"{GROUP_VERSION}/namespaces/no-such-{uuid.uuid4().hex[:6]}/clusterbindings"
        _status(c.post(missing_ns, json=binding), 404, "NotFound")
