"""OpenAPI v3 schemas and CRD manifests for the kube-bind kinds, generated from the models.

Why generated: the models are the single source of truth. A hand-kept schema would drift from the
pydantic classes; instead each field's Python type gives the structural type, and the
:func:`kubebind.apis.v1alpha2.base.k8s` metadata on the field gives patterns, minItems, defaults
and list-map keys. The result is a *structural* schema (every node typed; ``metadata`` left as
``type: object`` as the apiserver requires), used three ways:

* :func:`crd_manifest` renders an ``apiextensions.k8s.io/v1`` CustomResourceDefinition: the
  konnector installs the consumer CRDs with it, tests serve the provider kinds as CRDs;
* :func:`openapi_v3_schema` / :func:`definitions` feed the aggregated server's ``/openapi/v3`` and
  ``/openapi/v2``;
* ``kubebind.apis.validation`` walks the same schema to validate, default, and find or prune
  unknown fields, so the aggregated API behaves like a CRD-backed one.
"""

from __future__ import annotations

import copy
import functools
import types
import typing
from datetime import datetime
from enum import Enum
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from kubebind.apis import constants, resources
from kubebind.apis.v1alpha2 import base

__all__ = [
    "crd_manifest",
    "crd_manifests",
    "definition_name",
    "definitions",
    "find_unknown_fields",
    "model_schema",
    "openapi_v3_schema",
    "prune",
    "schema_view",
]

_PRESERVE = "x-kubernetes-preserve-unknown-fields"


# --- schema generation ---------------------------------------------------------------------------


def _unwrap_optional(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return _unwrap_optional(args[0])
    if origin is typing.Annotated:
        return _unwrap_optional(typing.get_args(annotation)[0])
    return annotation


def _type_schema(annotation: Any) -> dict[str, Any]:
    ann = _unwrap_optional(annotation)
    origin = typing.get_origin(ann)
    if ann is typing.Any:
        return {_PRESERVE: True}
    if isinstance(ann, type):
        if issubclass(ann, BaseModel):
            return model_schema(ann)
        if issubclass(ann, Enum):
            return {"type": "string", "enum": [m.value for m in ann]}
        if issubclass(ann, bool):
            return {"type": "boolean"}
        if issubclass(ann, int):
            return {"type": "integer", "format": "int64"}
        if issubclass(ann, float):
            return {"type": "number"}
        if issubclass(ann, str):
            return {"type": "string"}
        if issubclass(ann, bytes):
            return {"type": "string", "format": "byte"}
        if issubclass(ann, datetime):
            return {"type": "string", "format": "date-time"}
    if origin is typing.Literal:
        return {"type": "string", "enum": list(typing.get_args(ann))}
    if origin is list:
        (item,) = typing.get_args(ann)
        return {"type": "array", "items": _type_schema(item)}
    if origin is dict:
        _, value = typing.get_args(ann)
        if _unwrap_optional(value) is typing.Any:
            return {"type": "object", _PRESERVE: True}
        return {"type": "object", "additionalProperties": _type_schema(value)}
    raise TypeError(f"no OpenAPI mapping for {annotation!r}")


def _k8s_extra(info: FieldInfo) -> dict[str, Any]:
    extra = info.json_schema_extra
    if isinstance(extra, dict):
        value = extra.get(base.K8S_EXTRA_KEY)
        if isinstance(value, dict):
            return dict(value)
    return {}


def _field_schema(info: FieldInfo) -> dict[str, Any]:
    schema = _type_schema(info.annotation)
    extra = _k8s_extra(info)
    if extra.get(_PRESERVE) and schema.get("type") == "object":
        schema.pop("additionalProperties", None)
    schema.update(extra)
    if info.description and "description" not in schema:
        schema["description"] = info.description
    return schema


@functools.cache
def _model_schema_cached(model: type[BaseModel]) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    required: list[str] = []
    for name, info in model.model_fields.items():
        key = info.alias or name
        properties[key] = _field_schema(info)
        if info.is_required():
            required.append(key)
    schema: dict[str, Any] = {"type": "object"}
    if properties:
        schema["properties"] = properties
    if required:
        schema["required"] = required
    return schema


def model_schema(model: type[BaseModel]) -> dict[str, Any]:
    """Structural OpenAPI v3 schema of a (sub-)model; a fresh copy callers may edit."""
    return copy.deepcopy(_model_schema_cached(model))


@functools.cache
def _top_schema(kind: str) -> dict[str, Any]:
    info = resources.by_kind(kind)
    schema = model_schema(info.model)
    props = schema.setdefault("properties", {})
    props["apiVersion"] = {
        "type": "string",
        "description": "APIVersion defines the versioned schema of this representation of an object.",
    }
    props["kind"] = {
        "type": "string",
        "description": "Kind is a string value representing the REST resource this object represents.",
    }
    props["metadata"] = {"type": "object"}
    schema["required"] = [
        r for r in schema.get("required", []) if r not in ("apiVersion", "kind", "metadata")
    ]
    if not schema["required"]:
        del schema["required"]
    if info.description:
        schema["description"] = info.description
    if info.model.ROOT_RULES:
        schema["x-kubernetes-validations"] = [dict(r) for r in info.model.ROOT_RULES]
    return schema


def schema_view(kind: str) -> dict[str, Any]:
    """The cached ``openAPIV3Schema`` of a kind, shared: callers must not modify it (use
    :func:`openapi_v3_schema` for a private copy)."""
    return _top_schema(kind)


def openapi_v3_schema(kind: str) -> dict[str, Any]:
    """The CRD ``openAPIV3Schema`` of a registered kind (a fresh copy)."""
    return copy.deepcopy(_top_schema(kind))


def crd_manifest(kind: str) -> dict[str, Any]:
    """A complete ``apiextensions.k8s.io/v1`` CustomResourceDefinition for a registered kind."""
    info = resources.by_kind(kind)
    names: dict[str, Any] = {
        "kind": info.kind,
        "listKind": info.list_kind,
        "plural": info.plural,
        "singular": info.singular,
        "categories": list(info.categories),
    }
    if info.short_names:
        names["shortNames"] = list(info.short_names)
    version: dict[str, Any] = {
        "name": constants.VERSION,
        "served": True,
        "storage": True,
        "schema": {"openAPIV3Schema": openapi_v3_schema(kind)},
        "additionalPrinterColumns": [c.to_crd() for c in info.printer_columns],
    }
    if info.status_subresource:
        version["subresources"] = {"status": {}}
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": info.crd_name},
        "spec": {
            "group": constants.GROUP,
            "names": names,
            "scope": info.scope.value,
            "versions": [version],
        },
    }


def crd_manifests(side: resources.Side | None = None) -> list[dict[str, Any]]:
    """CRD manifests of all kinds, or of one side (consumer kinds for the konnector)."""
    return [crd_manifest(i.kind) for i in resources.ALL if side is None or i.side is side]


def definition_name(kind: str) -> str:
    """OpenAPI definition name as Kubernetes spells it: ``io.kube-bind.v1alpha2.<Kind>``."""
    return f"io.kube-bind.{constants.VERSION}.{kind}"


def definitions() -> dict[str, dict[str, Any]]:
    """Named schemas for ``/openapi/v2`` and ``/openapi/v3``, with the GVK extension kubectl needs."""
    out: dict[str, dict[str, Any]] = {}
    for info in resources.ALL:
        gvk = [{"group": constants.GROUP, "version": constants.VERSION, "kind": info.kind}]
        schema = openapi_v3_schema(info.kind)
        schema["x-kubernetes-group-version-kind"] = gvk
        out[definition_name(info.kind)] = schema
        out[definition_name(info.list_kind)] = {
            "type": "object",
            "description": f"{info.list_kind} is a list of {info.kind}.",
            "required": ["items"],
            "properties": {
                "apiVersion": {"type": "string"},
                "kind": {"type": "string"},
                "metadata": {"type": "object"},
                "items": {"type": "array", "items": {"$ref": f"#/definitions/{definition_name(info.kind)}"}},
            },
            "x-kubernetes-group-version-kind": [
                {"group": constants.GROUP, "version": constants.VERSION, "kind": info.list_kind}
            ],
        }
    return out


# --- structural walks ----------------------------------------------------------------------------


def _child_schema(schema: dict[str, Any], key: str) -> dict[str, Any] | None:
    props = schema.get("properties")
    if isinstance(props, dict) and key in props:
        sub = props[key]
        return sub if isinstance(sub, dict) else None
    addl = schema.get("additionalProperties")
    if isinstance(addl, dict):
        return addl
    return None


def find_unknown_fields(schema: dict[str, Any], obj: Any, path: str = "") -> list[str]:
    """Paths of fields in ``obj`` the structural ``schema`` does not declare (top-level
    ``metadata`` content is the apiserver's business and is not inspected)."""
    found: list[str] = []
    if schema.get(_PRESERVE):
        return found
    if isinstance(obj, dict) and schema.get("type") == "object":
        for key, value in obj.items():
            sub_path = f"{path}.{key}" if path else key
            if not path and key == "metadata":
                continue
            sub = _child_schema(schema, key)
            if sub is None:
                found.append(sub_path)
                continue
            found.extend(find_unknown_fields(sub, value, sub_path))
    elif isinstance(obj, list) and schema.get("type") == "array":
        items = schema.get("items")
        if isinstance(items, dict):
            for i, value in enumerate(obj):
                found.extend(find_unknown_fields(items, value, f"{path}[{i}]"))
    return found


def prune(schema: dict[str, Any], obj: Any, *, _top: bool = True) -> Any:
    """Drop fields the schema does not declare, in place (structural pruning); returns ``obj``."""
    if schema.get(_PRESERVE):
        return obj
    if isinstance(obj, dict) and schema.get("type") == "object":
        for key in list(obj):
            if _top and key == "metadata":
                continue
            sub = _child_schema(schema, key)
            if sub is None:
                del obj[key]
            else:
                prune(sub, obj[key], _top=False)
    elif isinstance(obj, list) and schema.get("type") == "array":
        items = schema.get("items")
        if isinstance(items, dict):
            for value in obj:
                prune(items, value, _top=False)
    return obj
