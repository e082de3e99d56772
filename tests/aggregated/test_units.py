"""Pure logic of the aggregated API: patch math, JSONPath cells, ages, negotiation, selectors."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from app.aggregated import discovery, patch, table
from app.registry.rest import FieldSelector
from app.storage import errors
from app.storage.objects import decode_continue, encode_continue
from kubebind.apis import duration, resources


def test_merge_patch_rfc7386() -> None:
    target = {"a": "b", "c": {"d": "e", "f": "g"}}
    assert patch.merge_patch(target, {"a": "z", "c": {"f": None}}) == {"a": "z", "c": {"d": "e"}}
    assert patch.merge_patch({"a": [1, 2]}, {"a": [3]}) == {"a": [3]}
    assert patch.merge_patch(target, {"new": {"x": 1}})["new"] == {"x": 1}
    assert target == {"a": "b", "c": {"d": "e", "f": "g"}}  # input untouched


def test_json_patch_rfc6902() -> None:
    doc: dict[str, Any] = {"spec": {"list": [1, 2], "x": "y"}}
    out = patch.json_patch(
        doc,
        [
            {"op": "add", "path": "/spec/list/-", "value": 3},
            {"op": "replace", "path": "/spec/x", "value": "z"},
            {"op": "copy", "from": "/spec/x", "path": "/spec/copy"},
            {"op": "move", "from": "/spec/copy", "path": "/spec/moved"},
            {"op": "remove", "path": "/spec/list/0"},
            {"op": "test", "path": "/spec/moved", "value": "z"},
            {"op": "add", "path": "/metadata~1x", "value": 1},
        ],
    )
    assert out == {"spec": {"list": [2, 3], "x": "z", "moved": "z"}, "metadata/x": 1}
    assert doc == {"spec": {"list": [1, 2], "x": "y"}}
    with pytest.raises(errors.Invalid):
        patch.json_patch(doc, [{"op": "test", "path": "/spec/x", "value": "nope"}])
    with pytest.raises(errors.Invalid):
        patch.json_patch(doc, [{"op": "remove", "path": "/spec/missing"}])
    with pytest.raises(errors.BadRequest):
        patch.json_patch(doc, {"op": "add"})


def test_printer_columns_and_ages() -> None:
    obj = {
        "metadata": {"name": "cowboys", "creationTimestamp": "2020-01-01T00:00:00Z"},
        "spec": {
            "resources": [{"group": "wildwest.dev"}, {"group": "sheriff.dev"}],
            "permissionClaims": [{"resource": "secrets"}],
        },
        "status": {"conditions": [{"type": "Other", "status": "False"}, {"type": "Ready", "status": "True"}]},
    }
    assert table.jsonpath(obj, ".spec.resources[*].group") == ["wildwest.dev", "sheriff.dev"]
    assert table.jsonpath(obj, '.status.conditions[?(@.type=="Ready")].status') == ["True"]
    assert table.jsonpath(obj, ".metadata.annotations.kube-bind\\.io/resources") == []
    t = table.table(resources.by_kind("APIServiceExportTemplate"), [obj])
    assert [c["name"] for c in t["columnDefinitions"]] == ["Name", "Resources", "PermissionClaims", "Age"]
    cells = t["rows"][0]["cells"]
    assert cells[:3] == ["cowboys", "wildwest.dev,sheriff.dev", "secrets"] and "y" in cells[3]
    assert [
        duration.human_duration(timedelta(seconds=s)) for s in (5, 119, 150, 3600, 3 * 86400, 400 * 86400)
    ] == [
        "5s",
        "119s",
        "2m30s",
        "60m",
        "3d",
        "400d",
    ]


def test_negotiation() -> None:
    assert table.negotiate("application/json;as=Table;v=v1;g=meta.k8s.io,application/json") == "Table"
    assert table.negotiate("application/json") == ""
    pom = (
        "application/vnd.kubernetes.protobuf;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,"
        "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json"
    )
    assert table.negotiate(pom) == "PartialObjectMetadata"
    assert discovery.negotiate_aggregated(discovery.AGGREGATED_V2 + ",application/json") == "v2"
    assert discovery.negotiate_aggregated("application/json") is None


def test_field_selector_and_continue_token() -> None:
    sel = FieldSelector.parse(
        "metadata.name=a,metadata.namespace!=b", {"metadata.name", "metadata.namespace"}
    )
    assert sel.matches({"metadata.name": "a", "metadata.namespace": "c"})
    assert not sel.matches({"metadata.name": "a", "metadata.namespace": "b"})
    with pytest.raises(errors.BadRequest):
        FieldSelector.parse("spec.x=1", {"metadata.name"})
    token = encode_continue(42, "ns", "name")
    assert decode_continue(token) == (42, "ns", "name")
    with pytest.raises(errors.BadRequest):
        decode_continue("garbage!")
