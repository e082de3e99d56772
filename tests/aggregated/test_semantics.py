"""Kubernetes API semantics of the aggregated kinds, through the provider apiserver."""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from typing import Any

import pytest
import yaml

from tests.aggregated.backend import GROUP_VERSION, KubeBindBackend
from tests.harness import kubectl_binary, wait_for

pytestmark = pytest.mark.cluster

TEMPLATES = f"{GROUP_VERSION}/apiserviceexporttemplates"
COLLECTIONS = f"{GROUP_VERSION}/collections"
MERGE = {"Content-Type": "application/merge-patch+json"}


def _template(name: str, **meta: Any) -> dict[str, Any]:
    return {
        "apiVersion": "kube-bind.io/v1alpha2",
        "kind": "APIServiceExportTemplate",
        "metadata": {"name": name, **meta},
        "spec": {"scope": "Namespaced", "resources": [{"group": "wildwest.dev", "resource": "cowboys"}]},
    }


def _collection(name: str, **meta: Any) -> dict[str, Any]:
    return {
        "apiVersion": "kube-bind.io/v1alpha2",
        "kind": "Collection",
        "metadata": {"name": name, **meta},
        "spec": {"templates": [{"name": "cowboys"}]},
    }


def test_status_subresource_and_generation(kube_bind_backend: KubeBindBackend) -> None:
    name = f"gen-{uuid.uuid4().hex[:6]}"
    with kube_bind_backend.provider_client() as c:
        created = c.post(TEMPLATES, json=_template(name) | {"status": {"conditions": []}}).json()
        assert "status" not in created or not created["status"].get("conditions")
        assert created["metadata"]["generation"] == 1
        cond = {"type": "Ready", "status": "True", "lastTransitionTime": "2026-01-01T00:00:00Z"}
        # status through the main resource is ignored ...
        r = c.patch(f"{TEMPLATES}/{name}", json={"status": {"conditions": [cond]}}, headers=MERGE)
        assert r.status_code == 200 and not (r.json().get("status") or {}).get("conditions")
        assert r.json()["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]  # no-op
        # ... and written through /status, without a generation bump; spec changes there are ignored.
        r = c.patch(
            f"{TEMPLATES}/{name}/status",
            json={"status": {"conditions": [cond]}, "spec": {"description": "ignored"}},
            headers=MERGE,
        )
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["status"]["conditions"][0]["type"] == "Ready"
        assert body["metadata"]["generation"] == 1 and "description" not in body["spec"]
        r = c.patch(f"{TEMPLATES}/{name}", json={"spec": {"description": "new"}}, headers=MERGE)
        assert r.json()["metadata"]["generation"] == 2 and r.json()["status"]["conditions"]
        got = c.get(f"{TEMPLATES}/{name}/status").json()
        assert got["spec"]["description"] == "new"
        # PUT with the current resourceVersion works; JSON patch too.
        current = c.get(f"{TEMPLATES}/{name}").json()
        current["spec"]["description"] = "put"
        assert c.put(f"{TEMPLATES}/{name}", json=current).status_code == 200
        jp = c.patch(
            f"{TEMPLATES}/{name}",
            json=[{"op": "replace", "path": "/spec/description", "value": "json-patched"}],
            headers={"Content-Type": "application/json-patch+json"},
        )
        assert jp.status_code == 200 and jp.json()["spec"]["description"] == "json-patched"
        assert jp.json()["metadata"]["generation"] == 4
        c.delete(f"{TEMPLATES}/{name}")


def test_finalizers_and_deletion_timestamp(kube_bind_backend: KubeBindBackend) -> None:
    name = f"fin-{uuid.uuid4().hex[:6]}"
    with kube_bind_backend.provider_client() as c:
        c.post(TEMPLATES, json=_template(name, finalizers=["example.com/hold"]))
        r = c.delete(f"{TEMPLATES}/{name}")
        assert r.status_code == 200 and r.json()["metadata"]["deletionTimestamp"]
        still = c.get(f"{TEMPLATES}/{name}")
        assert still.status_code == 200 and still.json()["metadata"]["deletionTimestamp"]
        r = c.patch(
            f"{TEMPLATES}/{name}",
            json={"metadata": {"finalizers": ["example.com/hold", "x.io/new"]}},
            headers=MERGE,
        )
        assert r.status_code == 422
        r = c.patch(f"{TEMPLATES}/{name}", json={"metadata": {"finalizers": None}}, headers=MERGE)
        assert r.status_code == 200
        assert c.get(f"{TEMPLATES}/{name}").status_code == 404


def test_delete_preconditions_and_dry_run(kube_bind_backend: KubeBindBackend) -> None:
    name = f"pre-{uuid.uuid4().hex[:6]}"
    with kube_bind_backend.provider_client() as c:
        obj = c.post(TEMPLATES, json=_template(name)).json()
        body = {"kind": "DeleteOptions", "apiVersion": "v1", "preconditions": {"uid": "wrong"}}
        r = c.request("DELETE", f"{TEMPLATES}/{name}", json=body)
        assert r.status_code == 409 and r.json()["reason"] == "Conflict"
        body = {"preconditions": {"resourceVersion": "1"}}
        assert c.request("DELETE", f"{TEMPLATES}/{name}", json=body).status_code == 409
        assert c.delete(f"{TEMPLATES}/{name}", params={"dryRun": "All"}).status_code == 200
        assert c.get(f"{TEMPLATES}/{name}").status_code == 200
        body = {
            "preconditions": {
                "uid": obj["metadata"]["uid"],
                "resourceVersion": obj["metadata"]["resourceVersion"],
            }
        }
        assert c.request("DELETE", f"{TEMPLATES}/{name}", json=body).status_code == 200
        assert c.get(f"{TEMPLATES}/{name}").status_code == 404


def _owned(name: str, owner: dict[str, Any]) -> dict[str, Any]:
    ref = {
        "apiVersion": "kube-bind.io/v1alpha2",
        "kind": "APIServiceExportTemplate",
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
    }
    return _collection(name, ownerReferences=[ref])


def test_owner_references_garbage_collection(kube_bind_backend: KubeBindBackend) -> None:
    suffix = uuid.uuid4().hex[:6]
    with kube_bind_backend.provider_client() as c:
        # Background (default): dependents go after the owner.
        owner = c.post(TEMPLATES, json=_template(f"owner-{suffix}")).json()
        for i in range(3):
            assert c.post(COLLECTIONS, json=_owned(f"dep-{suffix}-{i}", owner)).status_code == 201
        c.delete(f"{TEMPLATES}/owner-{suffix}")
        wait_for(
            lambda: all(c.get(f"{COLLECTIONS}/dep-{suffix}-{i}").status_code == 404 for i in range(3)),
            timeout=20,
            what="background garbage collection",
        )
        # Foreground: the owner waits for its dependents.
        owner = c.post(TEMPLATES, json=_template(f"fg-{suffix}")).json()
        c.post(COLLECTIONS, json=_owned(f"fgdep-{suffix}", owner))
        r = c.request("DELETE", f"{TEMPLATES}/fg-{suffix}", json={"propagationPolicy": "Foreground"})
        assert r.status_code == 200
        wait_for(lambda: c.get(f"{TEMPLATES}/fg-{suffix}").status_code == 404, timeout=20, what="foreground")
        assert c.get(f"{COLLECTIONS}/fgdep-{suffix}").status_code == 404
        # Orphan: dependents stay, without the owner reference.
        owner = c.post(TEMPLATES, json=_template(f"or-{suffix}")).json()
        c.post(COLLECTIONS, json=_owned(f"ordep-{suffix}", owner))
        c.request("DELETE", f"{TEMPLATES}/or-{suffix}", json={"propagationPolicy": "Orphan"})
        wait_for(lambda: c.get(f"{TEMPLATES}/or-{suffix}").status_code == 404, timeout=20, what="orphan")
        dep = c.get(f"{COLLECTIONS}/ordep-{suffix}")
        assert dep.status_code == 200 and not dep.json()["metadata"].get("ownerReferences")
        c.delete(f"{COLLECTIONS}/ordep-{suffix}")


def test_selectors_paging_generate_name_deletecollection(kube_bind_backend: KubeBindBackend) -> None:
    run = uuid.uuid4().hex[:6]
    with kube_bind_backend.provider_client() as c:
        names = []
        for i in range(7):
            r = c.post(
                COLLECTIONS,
                json=_collection("", generateName=f"gen-{run}-", labels={"run": run, "i": str(i % 2)}),
            )
            assert r.status_code == 201, r.text
            names.append(r.json()["metadata"]["name"])
        assert len(set(names)) == 7 and all(n.startswith(f"gen-{run}-") for n in names)
        odd = c.get(COLLECTIONS, params={"labelSelector": f"run={run},i=1"}).json()["items"]
        assert len(odd) == 3
        one = c.get(COLLECTIONS, params={"fieldSelector": f"metadata.name={names[0]}"}).json()["items"]
        assert [o["metadata"]["name"] for o in one] == [names[0]]
        seen: list[str] = []
        token = None
        pages = 0
        while True:
            params = {"labelSelector": f"run={run}", "limit": "3"}
            if token:
                params["continue"] = token
            page = c.get(COLLECTIONS, params=params).json()
            seen += [i["metadata"]["name"] for i in page["items"]]
            pages += 1
            token = page["metadata"].get("continue")
            if not token:
                break
        assert sorted(seen) == sorted(names) and pages == 3
        r = c.delete(COLLECTIONS, params={"labelSelector": f"run={run}"})
        assert r.status_code == 200 and len(r.json()["items"]) == 7
        assert c.get(COLLECTIONS, params={"labelSelector": f"run={run}"}).json()["items"] == []


def test_watch_protocol(kube_bind_backend: KubeBindBackend) -> None:
    run = uuid.uuid4().hex[:6]
    with kube_bind_backend.provider_client() as c:
        c.post(COLLECTIONS, json=_collection(f"w-{run}", labels={"run": run}))
        # sendInitialEvents: ADDED for the state, then a bookmark marking the end.
        params = {
            "watch": "true",
            "sendInitialEvents": "true",
            "resourceVersionMatch": "NotOlderThan",
            "allowWatchBookmarks": "true",
            "labelSelector": f"run={run}",
            "timeoutSeconds": "3",
        }
        with c.stream("GET", COLLECTIONS, params=params) as r:
            events = [json.loads(line) for line in r.iter_lines() if line]
        assert events[0]["type"] == "ADDED" and events[0]["object"]["metadata"]["name"] == f"w-{run}"
        assert events[1]["type"] == "BOOKMARK"
        assert events[1]["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"] == "true"
        # a label change out of the selection is a DELETED for this watcher
        rv = c.get(COLLECTIONS, params={"labelSelector": f"run={run}"}).json()["metadata"]["resourceVersion"]
        c.patch(f"{COLLECTIONS}/w-{run}", json={"metadata": {"labels": {"run": "elsewhere"}}}, headers=MERGE)
        params = {
            "watch": "true",
            "resourceVersion": rv,
            "labelSelector": f"run={run}",
            "timeoutSeconds": "2",
        }
        with c.stream("GET", COLLECTIONS, params=params) as r:
            events = [json.loads(line) for line in r.iter_lines() if line]
        assert [e["type"] for e in events] == ["DELETED"]
        c.delete(f"{COLLECTIONS}/w-{run}")


def test_compacted_version_is_410_gone(kube_bind_backend: KubeBindBackend) -> None:
    run = uuid.uuid4().hex[:6]
    with kube_bind_backend.provider_client() as c:
        old = c.get(COLLECTIONS).json()["metadata"]["resourceVersion"]
        for i in range(3):
            c.post(COLLECTIONS, json=_collection(f"gone-{run}-{i}"))
        # A replica with an aggressive retention compacts the shared change log.
        kube_bind_backend.add_replica(
            {
                "KUBE_BIND_CHANGELOG_RETENTION_SECONDS": "0.01",
                "KUBE_BIND_CHANGELOG_MIN_ENTRIES": "0",
                "KUBE_BIND_COMPACTION_INTERVAL_SECONDS": "0.2",
            }
        )
        try:

            def expired() -> dict[str, Any] | None:
                params = {"watch": "true", "resourceVersion": old, "timeoutSeconds": "1"}
                with c.stream("GET", COLLECTIONS, params=params) as r:
                    for line in r.iter_lines():
                        if line:
                            event: dict[str, Any] = json.loads(line)
                            return event if event["type"] == "ERROR" else None
                return None

            event = wait_for(expired, timeout=20, what="410 after compaction")
            assert event["object"]["code"] == 410 and event["object"]["reason"] == "Expired"
            # a fresh list + watch works again
            rv = c.get(COLLECTIONS).json()["metadata"]["resourceVersion"]
            params = {"watch": "true", "resourceVersion": rv, "timeoutSeconds": "1"}
            with c.stream("GET", COLLECTIONS, params=params) as r:
                assert r.status_code == 200
                assert not [line for line in r.iter_lines() if line and '"ERROR"' in line]
        finally:
            kube_bind_backend.stop_replicas()
            for i in range(3):
                c.delete(f"{COLLECTIONS}/gone-{run}-{i}")


def test_server_side_apply_and_table_watch(kube_bind_backend: KubeBindBackend) -> None:
    provider = kube_bind_backend.provider
    name = f"ssa-{uuid.uuid4().hex[:6]}"
    doc = yaml.safe_dump(_template(name))
    assert "serverside-applied" in provider.kubectl("apply", "--server-side", "-f", "-", input=doc).stdout
    changed = _template(name)
    changed["spec"]["description"] = "applied twice"
    provider.kubectl("apply", "--server-side", "-f", "-", input=yaml.safe_dump(changed))
    got = json.loads(provider.kubectl("get", "apiserviceexporttemplate", name, "-o", "json").stdout)
    assert got["spec"]["description"] == "applied twice"
    proc = subprocess.Popen(
        [
            kubectl_binary(),
            f"--kubeconfig={provider.kubeconfig}",
            "get",
            "apiserviceexporttemplates",
            name,
            "-w",
            "--request-timeout=30s",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(1.5)
        provider.kubectl("delete", "apiserviceexporttemplate", name)
        time.sleep(1.5)
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=10)
    lines = [line.split() for line in out.splitlines() if line.strip()]
    assert lines[0] == ["NAME", "RESOURCES", "PERMISSIONCLAIMS", "AGE"], (out, err)
    assert sum(1 for line in lines[1:] if line[0] == name) >= 1, out


def test_aggregated_discovery_and_categories(kube_bind_backend: KubeBindBackend) -> None:
    with kube_bind_backend.provider_client() as c:
        r = c.get(
            "/apis",
            headers={"Accept": "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"},
        )
        assert r.status_code == 200
        groups = {g["metadata"]["name"]: g for g in r.json()["items"]}
        version = groups["kube-bind.io"]["versions"][0]
        resources = {res["resource"]: res for res in version["resources"]}
        assert resources["boundschemas"]["shortNames"] == ["bs"]
        assert resources["apiserviceexports"]["subresources"][0]["subresource"] == "status"
        assert resources["apiserviceexporttemplates"]["scope"] == "Cluster"
        legacy = c.get(GROUP_VERSION).json()
        assert any(res["name"] == "clusterbindings/status" for res in legacy["resources"])


def test_namespace_deletion_removes_objects(kube_bind_backend: KubeBindBackend) -> None:
    """kube-controller-manager's namespace controller empties our namespaced kinds too."""
    provider = kube_bind_backend.provider
    ns = f"gone-{uuid.uuid4().hex[:6]}"
    provider.kubectl("create", "namespace", ns)
    with kube_bind_backend.provider_client() as c:
        base = f"{GROUP_VERSION}/namespaces/{ns}/apiserviceexportrequests"
        body = {
            "apiVersion": "kube-bind.io/v1alpha2",
            "kind": "APIServiceExportRequest",
            "metadata": {"name": "req"},
            "spec": {
                "resources": [{"group": "wildwest.dev", "resource": "cowboys", "versions": ["v1alpha1"]}]
            },
        }
        assert c.post(base, json=body).status_code == 201
        meta = c.get(
            base, headers={"Accept": "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"}
        )
        assert meta.json()["kind"] == "PartialObjectMetadataList"
        assert meta.json()["items"][0]["metadata"]["name"] == "req"
        provider.kubectl("delete", "namespace", ns, "--wait=false")
        wait_for(
            lambda: c.get(f"{base}/req").status_code == 404, timeout=60, what="namespace controller cleanup"
        )
        wait_for(
            lambda: provider.kubectl("get", "namespace", ns, check=False).returncode != 0,
            timeout=60,
            what="namespace to finish terminating",
        )
