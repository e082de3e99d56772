"""kubectl through the provider apiserver against the aggregated kube-bind.io API."""

from __future__ import annotations

import json
import subprocess
import time
import uuid

import pytest
import yaml

from tests.aggregated.backend import KubeBindBackend
from tests.harness import kubectl_binary, wait_for

pytestmark = pytest.mark.cluster


def _template(name: str) -> dict[str, object]:
    return {
        "apiVersion": "kube-bind.io/v1alpha2",
        "kind": "APIServiceExportTemplate",
        "metadata": {"name": name},
        "spec": {
            "scope": "Namespaced",
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


def test_apply_get_describe_conflict_delete(kube_bind_backend: KubeBindBackend) -> None:
    provider = kube_bind_backend.provider
    name = f"cowboys-{uuid.uuid4().hex[:6]}"
    out = provider.kubectl("apply", "-f", "-", input=yaml.safe_dump(_template(name)))
    assert "created" in out.stdout
    # Table output with the reference's printer columns.
    table = provider.kubectl("get", "apiserviceexporttemplates", name).stdout
    header = table.splitlines()[0].split()
    assert header == ["NAME", "RESOURCES", "PERMISSIONCLAIMS", "AGE"], table
    row = table.splitlines()[1].split()
    assert row[0] == name and row[1] == "wildwest.dev" and row[2] == "secrets"
    got = yaml.safe_load(provider.kubectl("get", "apiserviceexporttemplate", name, "-o", "yaml").stdout)
    assert got["spec"]["schemaUpdatePolicy"] == "Never"  # schema default
    assert got["metadata"]["generation"] == 1 and got["metadata"]["uid"]
    described = provider.kubectl("describe", "apiserviceexporttemplate", name).stdout
    assert "wildwest.dev" in described and name in described
    # kubectl apply again with a change: merge patch path (kubectl uses a merge patch for aggregated kinds).
    changed = _template(name)
    changed["spec"]["description"] = "Cowboys on the range"  # type: ignore[index]
    assert "configured" in provider.kubectl("apply", "-f", "-", input=yaml.safe_dump(changed)).stdout
    again = yaml.safe_load(provider.kubectl("get", "apiserviceexporttemplate", name, "-o", "yaml").stdout)
    assert again["spec"]["description"] == "Cowboys on the range"
    assert again["metadata"]["generation"] == 2
    # edit-style replace with a stale resourceVersion -> Conflict
    stale = dict(got)
    stale["spec"] = dict(got["spec"], description="stale writer")
    res = provider.kubectl("replace", "-f", "-", input=yaml.safe_dump(stale), check=False)
    assert res.returncode != 0 and "the object has been modified" in res.stderr, res.stderr
    # categories work
    assert name in provider.kubectl("get", "kube-bind").stdout
    assert "deleted" in provider.kubectl("delete", "apiserviceexporttemplate", name).stdout
    res = provider.kubectl("get", "apiserviceexporttemplate", name, check=False)
    assert res.returncode != 0 and "NotFound" in res.stderr


def test_get_watch_sees_added_modified_deleted(kube_bind_backend: KubeBindBackend) -> None:
    provider = kube_bind_backend.provider
    name = f"watched-{uuid.uuid4().hex[:6]}"
    proc = subprocess.Popen(
        [
            kubectl_binary(),
            f"--kubeconfig={provider.kubeconfig}",
            "get",
            "apiserviceexporttemplates",
            "-w",
            "--output-watch-events",
            "-o",
            "json",
            "--request-timeout=60s",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(1.5)
        provider.kubectl("apply", "-f", "-", input=yaml.safe_dump(_template(name)))
        provider.kubectl(
            "patch", "apiserviceexporttemplate", name, "--type=merge", "-p", '{"spec":{"description":"x"}}'
        )
        provider.kubectl("delete", "apiserviceexporttemplate", name)
        time.sleep(1.5)
    finally:
        proc.terminate()
        stdout, stderr = proc.communicate(timeout=10)
    decoder = json.JSONDecoder()
    events = []
    pos = 0
    text = stdout.strip()
    while pos < len(text):
        obj, end = decoder.raw_decode(text, pos)
        events.append(obj)
        pos = end
        while pos < len(text) and text[pos].isspace():
            pos += 1
    mine = [e["type"] for e in events if e["object"]["metadata"]["name"] == name]
    assert mine[0] == "ADDED" and mine[-1] == "DELETED" and "MODIFIED" in mine, (mine, stderr)


def test_explain_and_discovery(kube_bind_backend: KubeBindBackend) -> None:
    provider = kube_bind_backend.provider
    resources = provider.kubectl("api-resources", "--api-group=kube-bind.io", "-o", "wide").stdout
    assert "boundschemas" in resources and "bs" in resources and "kube-bindings" in resources

    # kube-apiserver downloads the aggregated OpenAPI asynchronously after the APIService appears.
    def explained() -> str | None:
        out = provider.kubectl("explain", "apiserviceexporttemplates.spec", check=False)
        return out.stdout if out.returncode == 0 else None

    explain = wait_for(explained, timeout=90, interval=2, what="kubectl explain via aggregated OpenAPI v3")
    assert "resources" in explain and "scope" in explain, explain
