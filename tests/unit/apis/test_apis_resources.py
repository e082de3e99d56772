"""The kind registry matches the reference's CRD inventory (§2.0)."""

from __future__ import annotations

import pytest

from kubebind.apis import resources
from kubebind.apis import v1alpha2 as api

INVENTORY = {
    # kind: (plural, scope, shortNames, category, side)
    "APIServiceBinding": ("apiservicebindings", "Cluster", ("sb",), "kube-bindings", "consumer"),
    "APIServiceBindingBundle": ("apiservicebindingbundles", "Cluster", ("sbb",), "kube-bindings", "consumer"),
    "APIServiceExport": ("apiserviceexports", "Namespaced", (), "kube-bindings", "provider"),
    "APIServiceExportRequest": ("apiserviceexportrequests", "Namespaced", (), "kube-bindings", "provider"),
    "APIServiceNamespace": ("apiservicenamespaces", "Namespaced", (), "kube-bindings", "provider"),
    "ClusterBinding": ("clusterbindings", "Namespaced", (), "kube-bindings", "provider"),
    "BoundSchema": ("boundschemas", "Namespaced", ("bs",), "kube-bindings", "provider"),
    "APIServiceExportTemplate": ("apiserviceexporttemplates", "Cluster", (), "kube-bind", "provider"),
    "Collection": ("collections", "Cluster", (), "kube-bind", "provider"),
    "Cluster": ("clusters", "Cluster", (), "kube-bind", "provider"),
    "BindableResourcesRequest": ("bindableresourcesrequests", "Namespaced", (), "kube-bindings", "provider"),
}


def test_inventory_complete() -> None:
    assert {i.kind for i in resources.ALL} == set(INVENTORY)


@pytest.mark.parametrize("kind", sorted(INVENTORY))
def test_inventory_entry(kind: str) -> None:
    plural, scope, short, category, side = INVENTORY[kind]
    info = resources.by_kind(kind)
    assert info.plural == plural
    assert info.scope.value == scope
    assert info.short_names == short
    assert info.categories == (category,)
    assert info.side.value == side
    assert info.status_subresource
    assert info.list_kind == f"{kind}List"
    assert info.model.KIND == kind
    assert resources.by_plural(plural) is info
    assert info.printer_columns[-1].name == "Age"


def test_lookup_variants() -> None:
    assert resources.get("sb") is resources.by_kind("APIServiceBinding")
    assert resources.get("bs") is resources.by_kind("BoundSchema")
    assert resources.get("apiserviceexports.kube-bind.io") is resources.by_kind("APIServiceExport")
    assert resources.get("clusterbinding") is resources.by_kind("ClusterBinding")
    assert resources.get("nope") is None
    with pytest.raises(KeyError):
        resources.by_plural("nope")


def test_model_classes() -> None:
    assert resources.by_kind("ClusterBinding").model is api.ClusterBinding
    assert resources.by_kind("APIServiceBinding").crd_name == "apiservicebindings.kube-bind.io"


def test_columns_per_reference() -> None:
    def names(kind: str) -> list[str]:
        return [c.name for c in resources.by_kind(kind).printer_columns]

    assert names("Collection") == ["Description", "Templates", "Age"]
    assert names("APIServiceExportRequest") == ["Ready", "Age"]
    assert names("APIServiceExport") == ["Established", "Age"]
    assert names("APIServiceNamespace") == ["Namespace", "Age"]
    assert names("ClusterBinding") == ["Konnector Version", "Last Heartbeat", "Ready", "Age"]
    assert names("BindableResourcesRequest") == ["Template", "Phase", "Age"]
    ready = resources.by_kind("ClusterBinding").printer_columns[2]
    assert ready.json_path == '.status.conditions[?(@.type=="Ready")].status'
    assert resources.by_kind("ClusterBinding").printer_columns[1].type == "date"


def test_discovery_verbs_match_a_crd() -> None:
    # order as kube-apiserver 1.36 lists them for a CRD
    assert resources.by_kind("Collection").verbs == (
        "delete",
        "deletecollection",
        "get",
        "list",
        "patch",
        "create",
        "update",
        "watch",
    )
    assert resources.STATUS_VERBS == ("get", "patch", "update")
