"""``/openapi/v2`` and ``/openapi/v3`` documents of the kube-bind.io/v1alpha2 group.

kube-apiserver aggregates them into the cluster's OpenAPI, which ``kubectl explain``, client-side
validation (``kubectl apply --validate``) and typed clients read. Schemas come from
``kubebind.apis.openapi`` (the same ones the CRDs would use); ``metadata`` refers to a
``io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta`` definition included here, as kube-apiserver
does for CRDs.
"""

from __future__ import annotations

import copy
import functools
import hashlib
from typing import Any

import orjson

from kubebind.apis import constants, openapi, resources

OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
LIST_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta"
STATUS = "io.k8s.apimachinery.pkg.apis.meta.v1.Status"

_STR = {"type": "string"}
_STR_MAP = {"type": "object", "additionalProperties": {"type": "string"}}
_ANY_OBJ = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}


def _meta_definitions(ref_prefix: str) -> dict[str, Any]:
    return {
        OBJECT_META: {
            "description": "ObjectMeta is metadata that all persisted resources must have.",
            "type": "object",
            "properties": {
                "name": {**_STR, "description": "Name must be unique within a namespace."},
                "generateName": {**_STR, "description": "Optional prefix used to generate a unique name."},
                "namespace": {
                    **_STR,
                    "description": "Namespace defines the space within which each name must be unique.",
                },
                "uid": _STR,
                "resourceVersion": _STR,
                "generation": {"type": "integer", "format": "int64"},
                "creationTimestamp": {**_STR, "format": "date-time"},
                "deletionTimestamp": {**_STR, "format": "date-time"},
                "deletionGracePeriodSeconds": {"type": "integer", "format": "int64"},
                "labels": {
                    **_STR_MAP,
                    "description": "Map of string keys and values to organize and select objects.",
                },
                "annotations": {
                    **_STR_MAP,
                    "description": "Unstructured key value map set by external tools.",
                },
                "finalizers": {"type": "array", "items": _STR},
                "ownerReferences": {"type": "array", "items": _ANY_OBJ},
                "managedFields": {"type": "array", "items": _ANY_OBJ},
                "selfLink": _STR,
            },
        },
        LIST_META: {
            "type": "object",
            "properties": {
                "resourceVersion": _STR,
                "continue": _STR,
                "remainingItemCount": {"type": "integer", "format": "int64"},
                "selfLink": _STR,
            },
        },
        STATUS: {
            "type": "object",
            "properties": {
                "apiVersion": _STR,
                "kind": _STR,
                "status": _STR,
                "message": _STR,
                "reason": _STR,
                "code": {"type": "integer", "format": "int32"},
                "details": _ANY_OBJ,
                "metadata": {"$ref": f"{ref_prefix}{LIST_META}"},
            },
            "x-kubernetes-group-version-kind": [{"group": "", "version": "v1", "kind": "Status"}],
        },
    }


def _schemas(kinds: tuple[resources.ResourceInfo, ...], ref_prefix: str) -> dict[str, Any]:
    served = {i.kind for i in kinds} | {i.list_kind for i in kinds}
    defs = {k: v for k, v in openapi.definitions().items() if k.rsplit(".", 1)[-1] in served}
    out: dict[str, Any] = {}
    for name, schema in defs.items():
        schema = copy.deepcopy(schema)
        props = schema.get("properties") or {}
        if "metadata" in props:
            is_list = "items" in props
            props["metadata"] = {"$ref": f"{ref_prefix}{LIST_META if is_list else OBJECT_META}"}
            if not is_list:
                props["metadata"] = (
                    {
                        "description": "Standard object's metadata.",
                        "allOf": [{"$ref": f"{ref_prefix}{OBJECT_META}"}],
                    }
                    if ref_prefix.startswith("#/components")
                    else {"$ref": f"{ref_prefix}{OBJECT_META}"}
                )
        items = props.get("items")
        if isinstance(items, dict) and isinstance(items.get("items"), dict) and "$ref" in items["items"]:
            items["items"]["$ref"] = items["items"]["$ref"].replace("#/definitions/", ref_prefix)
        out[name] = schema
    out.update(_meta_definitions(ref_prefix))
    return out


def _paths(kinds: tuple[resources.ResourceInfo, ...], ref_prefix: str, v3: bool) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for info in kinds:
        gvk = {"group": constants.GROUP, "version": constants.VERSION, "kind": info.kind}
        base = f"/apis/{constants.GROUP}/{constants.VERSION}"
        coll = (
            f"{base}/namespaces/{{namespace}}/{info.plural}" if info.namespaced else f"{base}/{info.plural}"
        )
        item = f"{coll}/{{name}}"

        def resp(ref: str) -> dict[str, Any]:
            schema = {"$ref": f"{ref_prefix}{ref}"}
            if v3:
                return {"200": {"description": "OK", "content": {"application/json": {"schema": schema}}}}
            return {"200": {"description": "OK", "schema": schema}}

        def params(names: list[str]) -> list[dict[str, Any]]:
            out = []
            for n in names:
                p: dict[str, Any] = {"name": n, "in": "path", "required": True}
                if v3:
                    p["schema"] = {"type": "string"}
                else:
                    p["type"] = "string"
                out.append(p)
            return out

        ns = ["namespace"] if info.namespaced else []
        list_ref = openapi.definition_name(info.list_kind)
        obj_ref = openapi.definition_name(info.kind)
        paths[coll] = {
            "get": {
                "operationId": f"list{info.kind}",
                "tags": [f"kubeBind_{constants.VERSION}"],
                "responses": resp(list_ref),
                "x-kubernetes-action": "list",
                "x-kubernetes-group-version-kind": gvk,
            },
            "post": {
                "operationId": f"create{info.kind}",
                "tags": [f"kubeBind_{constants.VERSION}"],
                "responses": resp(obj_ref),
                "x-kubernetes-action": "post",
                "x-kubernetes-group-version-kind": gvk,
            },
            "parameters": params(ns),
        }
        ops = {}
        for method, action in (("get", "get"), ("put", "put"), ("patch", "patch"), ("delete", "delete")):
            ops[method] = {
                "operationId": f"{action}{info.kind}",
                "tags": [f"kubeBind_{constants.VERSION}"],
                "responses": resp(obj_ref if method != "delete" else STATUS),
                "x-kubernetes-action": action,
                "x-kubernetes-group-version-kind": gvk,
            }
        paths[item] = {**ops, "parameters": params([*ns, "name"])}
        if info.status_subresource:
            paths[f"{item}/status"] = {
                "get": {**ops["get"], "operationId": f"read{info.kind}Status"},
                "put": {**ops["put"], "operationId": f"replace{info.kind}Status"},
                "patch": {**ops["patch"], "operationId": f"patch{info.kind}Status"},
                "parameters": params([*ns, "name"]),
            }
    return paths


@functools.cache
def _v2(kinds: tuple[resources.ResourceInfo, ...]) -> bytes:
    doc = {
        "swagger": "2.0",
        "info": {"title": "kube-bind backend", "version": constants.VERSION},
        "paths": _paths(kinds, "#/definitions/", v3=False),
        "definitions": _schemas(kinds, "#/definitions/"),
    }
    return orjson.dumps(doc)


@functools.cache
def _v3_group(kinds: tuple[resources.ResourceInfo, ...]) -> bytes:
    doc = {
        "openapi": "3.0.0",
        "info": {"title": "kube-bind backend", "version": constants.VERSION},
        "paths": _paths(kinds, "#/components/schemas/", v3=True),
        "components": {"schemas": _schemas(kinds, "#/components/schemas/")},
    }
    return orjson.dumps(doc)


def v2_document(kinds: tuple[resources.ResourceInfo, ...]) -> bytes:
    return _v2(kinds)


def v3_group_document(kinds: tuple[resources.ResourceInfo, ...]) -> bytes:
    return _v3_group(kinds)


def v3_group_path() -> str:
    return f"apis/{constants.GROUP}/{constants.VERSION}"


def etag(data: bytes) -> str:
    return hashlib.sha512(data).hexdigest()[:32].upper()


def v3_index(kinds: tuple[resources.ResourceInfo, ...]) -> dict[str, Any]:
    digest = etag(v3_group_document(kinds))
    return {"paths": {v3_group_path(): {"serverRelativeURL": f"/openapi/v3/{v3_group_path()}?hash={digest}"}}}
