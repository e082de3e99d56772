"""The kube-bind.io kinds as CRDs on a real apiserver: the Go-compatible way to serve them.

The manifests come from :func:`kubebind.apis.openapi.crd_manifest`. The konnector installs
the consumer-side ones; serving the provider-side ones as CRDs is what the Go backend does, so these
tests prove our schemas, CEL rules and printer columns are accepted by kube-apiserver as they are.
They run on an extra control plane so the shared provider stays free for our aggregated API.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from kubebind.apis import openapi, resources
from tests.harness import Cluster

pytestmark = pytest.mark.cluster


def test_all_kinds_install_as_structural_crds(extra_cluster: Callable[[str], Cluster]) -> None:
    cluster = extra_cluster("crds")
    manifests = [openapi.crd_manifest(info.kind) for info in resources.ALL]
    assert len(manifests) == 11
    cluster.apply(manifests)
    names = [m["metadata"]["name"] for m in manifests]
    cluster.kubectl("wait", "--for=condition=Established", "--timeout=60s", *[f"crd/{n}" for n in names])
    for name in names:
        crd = json.loads(cluster.kubectl("get", "crd", name, "-o", "json").stdout)
        conditions = {c["type"]: c["status"] for c in crd["status"]["conditions"]}
        assert conditions.get("NonStructuralSchema", "False") == "False", name
        assert conditions["NamesAccepted"] == "True", name

    # The seed walkthrough's template is accepted and printed with the reference's columns.
    template = {
        "apiVersion": "kube-bind.io/v1alpha2",
        "kind": "APIServiceExportTemplate",
        "metadata": {"name": "cowboys"},
        "spec": {
            "scope": "Namespaced",
            "resources": [{"group": "wildwest.dev", "resource": "cowboys", "versions": ["v1alpha1"]}],
            "permissionClaims": [
                {
                    "group": "",
                    "resource": "secrets",
                    "selector": {"labelSelector": {"matchLabels": {"a": "b"}}},
                }
            ],
        },
    }
    cluster.apply(template)
    table = cluster.kubectl("get", "apiserviceexporttemplates").stdout.splitlines()
    assert table[0].split() == ["NAME", "RESOURCES", "PERMISSIONCLAIMS", "AGE"]
    assert table[1].split()[:3] == ["cowboys", "wildwest.dev", "secrets"]

    # A ClusterBinding not named `cluster` is refused by the CRD's validation rule.
    with cluster.temporary_namespace("kb") as ns:
        bad = {
            "apiVersion": "kube-bind.io/v1alpha2",
            "kind": "ClusterBinding",
            "metadata": {"name": "not-cluster", "namespace": ns},
            "spec": {
                "kubeconfigSecretRef": {"name": "kubeconfig", "key": "kubeconfig"},
                "providerPrettyName": "p",
            },
        }
        proc = cluster.kubectl("create", "-f", "-", input=json.dumps(bad), check=False)
        assert proc.returncode != 0 and "Invalid" in proc.stderr, proc.stderr


def test_extra_cluster_apiserver_restart_keeps_data(extra_cluster: Callable[[str], Cluster]) -> None:
    cluster = extra_cluster("restart")
    cluster.kubectl("create", "configmap", "survivor", "-n", "default", "--from-literal=k=v")
    cluster.local.apiserver.restart()
    out = cluster.kubectl("get", "configmap", "survivor", "-n", "default", "-o", "jsonpath={.data.k}").stdout
    assert out == "v"
