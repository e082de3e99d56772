"""Generated OpenAPI schemas and CRD manifests are structural and carry the reference's metadata."""

from __future__ import annotations

from typing import Any

import pytest

from kubebind.apis import openapi, resources

KINDS = [info.kind for info in resources.ALL]
PRESERVE = "x-kubernetes-preserve-unknown-fields"
ALLOWED_TYPES = {"object", "array", "string", "integer", "number", "boolean"}


def structural_problems(schema: dict[str, Any], path: str = "") -> list[str]:
    """The structural-schema rules an apiserver enforces on a CRD, restated independently."""
    problems: list[str] = []
    typ = schema.get("type")
    if typ is None and not schema.get(PRESERVE) and not schema.get("x-kubernetes-int-or-string"):
        problems.append(f"{path or '<root>'}: no type")
    if typ is not None and typ not in ALLOWED_TYPES:
        problems.append(f"{path}: bad type {typ}")
    for forbidden in ("$ref", "anyOf", "oneOf", "allOf", "definitions", "nullable"):
        if forbidden in schema:
            problems.append(f"{path}: uses {forbidden}")
    props = schema.get("properties")
    if props is not None:
        if typ != "object":
            problems.append(f"{path}: properties on non-object")
        if "additionalProperties" in schema:
            problems.append(f"{path}: properties and additionalProperties")
        for key, sub in props.items():
            problems.extend(structural_problems(sub, f"{path}.{key}"))
    for req in schema.get("required", []):
        if req not in (props or {}):
            problems.append(f"{path}: required {req} not a property")
    if typ == "array":
        items = schema.get("items")
        if not isinstance(items, dict):
            problems.append(f"{path}: array without items")
        else:
            problems.extend(structural_problems(items, f"{path}[*]"))
            if schema.get("x-kubernetes-list-type") == "map":
                item_props = items.get("properties", {})
                for key in schema.get("x-kubernetes-list-map-keys", []):
                    if key not in item_props:
                        problems.append(f"{path}: map key {key} not a property")
                    elif key not in items.get("required", []) and "default" not in item_props[key]:
                        problems.append(f"{path}: map key {key} neither required nor defaulted")
    addl = schema.get("additionalProperties")
    if isinstance(addl, dict):
        problems.extend(structural_problems(addl, f"{path}.*"))
    return problems


@pytest.mark.parametrize("kind", KINDS)
def test_schema_is_structural(kind: str) -> None:
    schema = openapi.openapi_v3_schema(kind)
    assert structural_problems(schema) == []
    assert schema["type"] == "object"
    assert schema["properties"]["metadata"] == {"type": "object"}
    assert schema["properties"]["apiVersion"]["type"] == "string"
    assert schema["properties"]["kind"]["type"] == "string"


def test_the_checker_catches_problems() -> None:
    assert structural_problems({"type": "object", "properties": {"a": {}}}) == [".a: no type"]
    assert structural_problems(
        {
            "type": "array",
            "items": {"type": "object", "properties": {"k": {"type": "string"}}},
            "x-kubernetes-list-type": "map",
            "x-kubernetes-list-map-keys": ["k"],
        }
    ) == [": map key k neither required nor defaulted"]


@pytest.mark.parametrize("kind", KINDS)
def test_crd_manifest(kind: str) -> None:
    info = resources.by_kind(kind)
    crd = openapi.crd_manifest(kind)
    assert crd["apiVersion"] == "apiextensions.k8s.io/v1"
    assert crd["kind"] == "CustomResourceDefinition"
    assert crd["metadata"]["name"] == f"{info.plural}.kube-bind.io"
    spec = crd["spec"]
    assert spec["group"] == "kube-bind.io"
    assert spec["scope"] == info.scope.value
    assert spec["names"]["kind"] == kind
    assert spec["names"]["listKind"] == f"{kind}List"
    assert spec["names"]["plural"] == info.plural
    assert spec["names"]["singular"] == info.singular
    assert spec["names"]["categories"] == list(info.categories)
    assert spec["names"].get("shortNames", []) == list(info.short_names)
    (version,) = spec["versions"]
    assert version["name"] == "v1alpha2"
    assert version["served"] is True and version["storage"] is True
    assert version["subresources"] == {"status": {}}
    assert structural_problems(version["schema"]["openAPIV3Schema"]) == []
    assert version["additionalPrinterColumns"][-1] == {
        "name": "Age",
        "type": "date",
        "jsonPath": ".metadata.creationTimestamp",
        "description": (
            "CreationTimestamp is a timestamp representing the server time when this object was created."
        ),
    }


def test_template_columns_and_schema_details() -> None:
    crd = openapi.crd_manifest("APIServiceExportTemplate")
    cols = [(c["name"], c["jsonPath"]) for c in crd["spec"]["versions"][0]["additionalPrinterColumns"]]
    assert cols == [
        ("Resources", ".spec.resources[*].group"),
        ("PermissionClaims", ".spec.permissionClaims[*].resource"),
        ("Age", ".metadata.creationTimestamp"),
    ]
    spec = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    assert spec["required"] == ["scope", "resources"]
    assert spec["properties"]["scope"]["enum"] == ["Cluster", "Namespaced"]
    assert spec["properties"]["resources"]["minItems"] == 1
    assert spec["properties"]["schemaUpdatePolicy"] == {
        "type": "string",
        "enum": ["Never", "Always"],
        "default": "Never",
    }
    resource = spec["properties"]["resources"]["items"]
    assert resource["properties"]["resource"]["pattern"] == "^[a-z][-a-z0-9]*[a-z0-9]$"
    assert resource["properties"]["group"]["default"] == ""


def test_request_schema_list_map_and_status_default() -> None:
    schema = openapi.openapi_v3_schema("APIServiceExportRequest")
    resources_schema = schema["properties"]["spec"]["properties"]["resources"]
    assert resources_schema["x-kubernetes-list-type"] == "map"
    assert resources_schema["x-kubernetes-list-map-keys"] == ["resource", "group"]
    immutable = [{"rule": "self == oldSelf", "message": "field is immutable"}]
    assert schema["properties"]["spec"]["properties"]["parameters"] == {
        "type": "object",
        PRESERVE: True,
        "x-kubernetes-validations": immutable,
    }
    for field in ("resources", "permissionClaims", "namespaces", "schemaUpdatePolicy"):
        assert schema["properties"]["spec"]["properties"][field]["x-kubernetes-validations"] == immutable
    status = schema["properties"]["status"]
    assert status["default"] == {}
    assert status["properties"]["phase"] == {
        "type": "string",
        "enum": ["Pending", "Failed", "Succeeded"],
        "default": "Pending",
    }
    assert schema["required"] == ["spec"]


def test_boundschema_schema() -> None:
    spec = openapi.openapi_v3_schema("BoundSchema")["properties"]["spec"]
    versions = spec["properties"]["versions"]
    assert versions["x-kubernetes-list-map-keys"] == ["name"]
    item = versions["items"]
    assert item["properties"]["name"]["pattern"] == "^v[1-9][0-9]*([a-z]+[1-9][0-9]*)?$"
    assert item["properties"]["served"]["default"] is True
    assert item["properties"]["schema"] == {"type": "object", PRESERVE: True}
    assert set(spec["required"]) == {"informerScope", "group", "names", "scope", "versions"}


def test_export_required_fields() -> None:
    spec = openapi.openapi_v3_schema("APIServiceExport")["properties"]["spec"]
    assert set(spec["required"]) == {"informerScope", "isolation", "resources"}
    assert spec["properties"]["isolation"]["enum"] == ["Prefixed", "Namespaced", "None"]


def test_consumer_crds_for_konnector() -> None:
    names = [crd["metadata"]["name"] for crd in openapi.crd_manifests(resources.Side.CONSUMER)]
    assert names == ["apiservicebindings.kube-bind.io", "apiservicebindingbundles.kube-bind.io"]
    binding = openapi.crd_manifests(resources.Side.CONSUMER)[0]
    assert binding["spec"]["scope"] == "Cluster"
    assert binding["spec"]["names"]["shortNames"] == ["sb"]
    cols = [c["name"] for c in binding["spec"]["versions"][0]["additionalPrinterColumns"]]
    assert cols == ["Provider", "Resources", "Ready", "Message", "Age"]


def test_schema_copies_are_independent() -> None:
    a = openapi.openapi_v3_schema("Collection")
    a["properties"]["spec"]["mutated"] = True
    assert "mutated" not in openapi.openapi_v3_schema("Collection")["properties"]["spec"]


def test_definitions_carry_gvk() -> None:
    defs = openapi.definitions()
    d = defs["io.kube-bind.v1alpha2.APIServiceExport"]
    assert d["x-kubernetes-group-version-kind"] == [
        {"group": "kube-bind.io", "version": "v1alpha2", "kind": "APIServiceExport"}
    ]
    lst = defs["io.kube-bind.v1alpha2.APIServiceExportList"]
    assert (
        lst["properties"]["items"]["items"]["$ref"] == "#/definitions/io.kube-bind.v1alpha2.APIServiceExport"
    )
    assert len(defs) == 2 * len(resources.ALL)


def test_find_unknown_and_prune() -> None:
    schema = openapi.openapi_v3_schema("APIServiceExportRequest")
    obj = {
        "apiVersion": "kube-bind.io/v1alpha2",
        "kind": "APIServiceExportRequest",
        "metadata": {"name": "x", "whatever": 1},
        "spec": {
            "parameters": {"free": {"form": True}},
            "resources": [{"group": "g", "resource": "r", "bogus": 1}],
            "extra": "x",
        },
        "status": {"phase": "Pending", "nope": 1},
        "top": 1,
    }
    assert openapi.find_unknown_fields(schema, obj) == [
        "spec.resources[0].bogus",
        "spec.extra",
        "status.nope",
        "top",
    ]
    openapi.prune(schema, obj)
    assert obj == {
        "apiVersion": "kube-bind.io/v1alpha2",
        "kind": "APIServiceExportRequest",
        "metadata": {"name": "x", "whatever": 1},
        "spec": {"parameters": {"free": {"form": True}}, "resources": [{"group": "g", "resource": "r"}]},
        "status": {"phase": "Pending"},
    }
    assert openapi.find_unknown_fields(schema, obj) == []


def test_label_maps_typed() -> None:
    schema = openapi.openapi_v3_schema("APIServiceExportTemplate")
    selector = schema["properties"]["spec"]["properties"]["permissionClaims"]["items"]["properties"][
        "selector"
    ]
    match_labels = selector["properties"]["labelSelector"]["properties"]["matchLabels"]
    assert match_labels == {"type": "object", "additionalProperties": {"type": "string"}}


def test_cel_rules() -> None:
    cb = openapi.openapi_v3_schema("ClusterBinding")
    assert cb["x-kubernetes-validations"] == [
        {"rule": "self.metadata.name == 'cluster'", "message": "ClusterBinding name must be 'cluster'"}
    ]
    assert cb["properties"]["spec"]["properties"]["kubeconfigSecretRef"]["x-kubernetes-validations"] == [
        {"rule": "self == oldSelf", "message": "field is immutable"}
    ]
    conv = openapi.openapi_v3_schema("BoundSchema")["properties"]["spec"]["properties"]["conversion"]
    assert conv["x-kubernetes-validations"][0]["rule"] == (
        "self.strategy == 'Webhook' ? has(self.webhook) : !has(self.webhook)"
    )
    assert "x-kubernetes-validations" not in openapi.openapi_v3_schema("APIServiceExportTemplate")
