"""Create/update validation and defaulting of kube-bind objects, as plain dicts.

Why: the backend serves the provider kinds from a database, not from CRDs, yet clients (including
the Go konnector and CLI) must see exactly what a CRD-backed apiserver would do: defaults filled
in, ``422 Invalid`` with Kubernetes ``StatusCause`` s for bad input, immutable fields refused. So
this module reproduces the apiserver's CRD behaviour from the same generated schema the CRDs use
(``kubebind.apis.openapi``), plus the rules kube-bind expresses as CEL or in code:

* schema: types, required, enums, patterns, minItems, minLength, list-map key uniqueness;
* metadata: name (DNS-1123 subdomain; DNS-1123 label where the name becomes a namespace or label),
  namespace presence by scope, label/annotation/finalizer syntax, owner references;
* kinds: ClusterBinding must be named ``cluster``; BoundSchema ``conversion.webhook`` iff strategy
  Webhook; immutable specs of APIServiceExportRequest and APIServiceExport and the kubeconfig
  secret refs of ClusterBinding, APIServiceBinding and APIServiceBindingBundle.

Immutability is stricter than the Go CRDs on purpose: their CEL transition rules do not fire when
a field is added or removed, so e.g. adding ``permissionClaims`` later slipped through. Here an
absent list and an empty list count as equal; anything else is a change.

Order of use in a server, as in kube-apiserver: ``strategy.prepare_for_create`` (drops a client's
``status``) → :func:`apply_defaults` → :func:`validate_create`; for updates
``strategy.prepare_for_update``/``prepare_for_status_update`` → defaults → :func:`validate_update`.

Errors are :class:`FieldError` values whose ``type`` strings are Kubernetes'
``field.ErrorType`` (``FieldValueRequired``, ``FieldValueInvalid`` …) and whose messages follow
``field.Error.ErrorBody``, so the server can put them into a ``Status`` unchanged.
"""

from __future__ import annotations

import base64
import binascii
import copy
import functools
import json
import re
from typing import Any

from kubebind.apis import constants, fielderrors, objectmeta, openapi, resources
from kubebind.apis.fielderrors import OMITTED, ErrorType, FieldError
from kubebind.apis.v1alpha2 import base, boundschema, servicenamespace

__all__ = [
    "ErrorType",
    "FieldError",
    "apply_defaults",
    "find_unknown_fields",
    "immutable_paths",
    "invalid_message",
    "is_dns1123_label",
    "is_dns1123_subdomain",
    "is_qualified_name",
    "is_valid_label_value",
    "prune_unknown_fields",
    "validate_create",
    "validate_object_meta",
    "validate_update",
]

#: Re-exported for callers that only import this module.
invalid_message = fielderrors.invalid_message
validate_object_meta = objectmeta.validate_object_meta
is_dns1123_label = objectmeta.is_dns1123_label
is_dns1123_subdomain = objectmeta.is_dns1123_subdomain
is_qualified_name = objectmeta.is_qualified_name
is_valid_label_value = objectmeta.is_valid_label_value

#: Kinds whose names must be DNS-1123 labels: the name becomes a namespace name (APIServiceNamespace)
#: or an object name that is validated as a label (BindableResourcesRequest, reference §2.13).
_LABEL_NAMED_KINDS = frozenset({"APIServiceNamespace", "BindableResourcesRequest"})


# --- schema validation -----------------------------------------------------------------------------

_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
}


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _check_type(schema: dict[str, Any], value: Any, path: str) -> FieldError | None:
    expected = schema.get("type")
    if not expected:
        return None
    ok = isinstance(value, _JSON_TYPES.get(expected, (object,)))
    if ok and expected in ("integer", "number") and isinstance(value, bool):
        ok = False
    if ok:
        return None
    actual = _type_name(value)
    return FieldError(
        ErrorType.TYPE_INVALID,
        path,
        f"{path} in body must be of type {expected}: {json.dumps(actual)}",
        actual,
    )


def _check_format(fmt: Any, value: str, path: str) -> FieldError | None:
    if fmt == "date-time":
        try:
            base.parse_time(value)
            ok = "T" in value.upper()
        except ValueError:
            ok = False
    elif fmt == "byte":
        try:
            base64.b64decode(value.encode("ascii"), validate=True)
            ok = True
        except (ValueError, binascii.Error):
            ok = False
    else:
        return None
    if ok:
        return None
    # kube-openapi names only the property, not the full path, in format errors.
    name = path.rsplit(".", 1)[-1]
    return FieldError(
        ErrorType.TYPE_INVALID, path, f"{name} in body must be of type {fmt}: {json.dumps(value)}", value
    )


def _validate_schema(
    schema: dict[str, Any], value: Any, path: str, errs: list[FieldError], top: bool
) -> None:
    if value is None:
        return
    type_err = _check_type(schema, value, path)
    if type_err is not None:
        errs.append(type_err)
    if "enum" in schema and value not in schema["enum"]:
        # Reported even after a type error, as the apiserver does.
        supported = ", ".join(json.dumps(v) for v in schema["enum"])
        errs.append(FieldError(ErrorType.NOT_SUPPORTED, path, f"supported values: {supported}", value))
        return
    if type_err is not None:
        return
    if isinstance(value, str):
        format_err = _check_format(schema.get("format"), value, path)
        if format_err is not None:
            errs.append(format_err)
        min_len = schema.get("minLength")
        if min_len is not None and len(value) < min_len:
            errs.append(
                FieldError(
                    ErrorType.INVALID, path, f"{path} in body should be at least {min_len} chars long", value
                )
            )
        pattern = schema.get("pattern")
        if pattern is not None and not re.search(pattern, value):
            errs.append(
                FieldError(ErrorType.INVALID, path, f"{path} in body should match '{pattern}'", value)
            )
    elif isinstance(value, list):
        min_items = schema.get("minItems")
        if min_items is not None and len(value) < min_items:
            errs.append(
                # the apiserver reports the item count as the value
                FieldError(
                    ErrorType.INVALID,
                    path,
                    f"{path} in body should have at least {min_items} items",
                    len(value),
                )
            )
        items = schema.get("items")
        if isinstance(items, dict):
            for i, item in enumerate(value):
                _validate_schema(items, item, f"{path}[{i}]", errs, False)
        _validate_list_type(schema, value, path, errs)
    elif isinstance(value, dict):
        for key in schema.get("required", []):
            if value.get(key) is None:
                errs.append(FieldError(ErrorType.REQUIRED, f"{path}.{key}" if path else key))
        if schema.get("x-kubernetes-preserve-unknown-fields") and "properties" not in schema:
            return
        props = schema.get("properties") or {}
        addl = schema.get("additionalProperties")
        for key, sub_value in value.items():
            if top and key == "metadata":
                continue
            sub_path = f"{path}.{key}" if path else key
            if key in props:
                _validate_schema(props[key], sub_value, sub_path, errs, False)
            elif isinstance(addl, dict):
                _validate_schema(addl, sub_value, sub_path, errs, False)


def _validate_list_type(schema: dict[str, Any], value: list[Any], path: str, errs: list[FieldError]) -> None:
    list_type = schema.get("x-kubernetes-list-type")
    if list_type == "map":
        keys = schema.get("x-kubernetes-list-map-keys") or []
        defaults = {
            k: (schema.get("items") or {}).get("properties", {}).get(k, {}).get("default") for k in keys
        }
        seen: set[str] = set()
        for i, item in enumerate(value):
            if not isinstance(item, dict):
                continue
            key_values = {k: item.get(k, defaults[k]) for k in keys}
            marker = json.dumps(key_values, sort_keys=True)
            if marker in seen:
                errs.append(FieldError(ErrorType.DUPLICATE, f"{path}[{i}]", "", key_values))
            seen.add(marker)
    elif list_type == "set":
        seen_set: set[str] = set()
        for i, item in enumerate(value):
            marker = json.dumps(item, sort_keys=True)
            if marker in seen_set:
                errs.append(FieldError(ErrorType.DUPLICATE, f"{path}[{i}]", "", item))
            seen_set.add(marker)


# --- defaults and unknown fields ------------------------------------------------------------------


def _default_walk(schema: dict[str, Any], value: Any) -> None:
    if isinstance(value, dict) and schema.get("type") == "object":
        props = schema.get("properties") or {}
        for key, sub in props.items():
            if key == "metadata":
                continue
            if value.get(key) is None and "default" in sub:
                value[key] = copy.deepcopy(sub["default"])
            if key in value:
                _default_walk(sub, value[key])
        addl = schema.get("additionalProperties")
        if isinstance(addl, dict):
            for key, sub_value in value.items():
                if key not in props:
                    _default_walk(addl, sub_value)
    elif isinstance(value, list) and schema.get("type") == "array":
        items = schema.get("items")
        if isinstance(items, dict):
            for item in value:
                _default_walk(items, item)


def apply_defaults(kind: str, obj: dict[str, Any]) -> dict[str, Any]:
    """Fill schema defaults in place, as the apiserver does before validation; returns ``obj``.

    Examples: ``schemaUpdatePolicy: Never``, APIServiceExportRequest ``status: {phase: Pending}``,
    BoundSchema ``versions[].served: true``, GroupResource ``group: ""``. ``apiVersion``/``kind``
    are filled when missing.
    """
    info = resources.by_kind(kind)
    obj.setdefault("apiVersion", info.api_version)
    obj.setdefault("kind", info.kind)
    _default_walk(openapi.schema_view(kind), obj)
    return obj


def find_unknown_fields(kind: str, obj: dict[str, Any]) -> list[str]:
    """Paths of fields the kind's schema does not declare (for ``fieldValidation=Strict/Warn``)."""
    return openapi.find_unknown_fields(openapi.schema_view(kind), obj)


def prune_unknown_fields(kind: str, obj: dict[str, Any]) -> dict[str, Any]:
    """Drop undeclared fields in place, as structural pruning does; returns ``obj``."""
    result: dict[str, Any] = openapi.prune(openapi.schema_view(kind), obj)
    return result


# --- kind rules ------------------------------------------------------------------------------------


@functools.cache
def immutable_paths(kind: str) -> tuple[str, ...]:
    """Dotted paths whose schema carries the ``self == oldSelf`` CEL rule (e.g. ``spec.resources``)."""
    found: list[str] = []

    def walk(schema: dict[str, Any], path: str) -> None:
        for rule in schema.get("x-kubernetes-validations") or []:
            if rule.get("rule") == "self == oldSelf" and path:
                found.append(path)
        for key, sub in (schema.get("properties") or {}).items():
            if isinstance(sub, dict):
                walk(sub, f"{path}.{key}" if path else key)

    walk(openapi.schema_view(kind), "")
    return tuple(found)


def _lookup(obj: Any, path: str) -> Any:
    cur = obj
    for part in path.split("."):
        if not isinstance(cur, dict):
            return None
        cur = cur.get(part)
    return cur


def _meta_of(obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj.get("metadata")
    return meta if isinstance(meta, dict) else {}


def _empty_to_none(value: Any) -> Any:
    return None if value in ([], {}) else value


def _kind_rules(kind: str, obj: dict[str, Any]) -> list[FieldError]:
    errs: list[FieldError] = []
    meta = _meta_of(obj)
    if kind == "ClusterBinding":
        name = meta.get("name")
        if name != constants.CLUSTER_BINDING_NAME:
            errs.append(
                FieldError(
                    ErrorType.INVALID,
                    "metadata.name",
                    servicenamespace.NAME_MESSAGE,
                    name if name is not None else OMITTED,
                )
            )
    if kind == "BoundSchema":
        conversion = _lookup(obj, "spec.conversion")
        if isinstance(conversion, dict):
            has_webhook = conversion.get("webhook") is not None
            is_webhook = conversion.get("strategy") == "Webhook"
            if has_webhook != is_webhook:
                errs.append(
                    FieldError(
                        ErrorType.INVALID,
                        "spec.conversion",
                        boundschema.WEBHOOK_MESSAGE,
                        OMITTED,
                    )
                )
    return errs


def _validate(kind: str, obj: Any) -> list[FieldError]:
    info = resources.by_kind(kind)
    if not isinstance(obj, dict):
        return [FieldError(ErrorType.TYPE_INVALID, "", "body must be of type object", _type_name(obj))]
    errs: list[FieldError] = []
    api_version = obj.get("apiVersion")
    if api_version not in (None, "", info.api_version):
        errs.append(FieldError(ErrorType.INVALID, "apiVersion", f"must be {info.api_version}", api_version))
    if obj.get("kind") not in (None, "", info.kind):
        errs.append(FieldError(ErrorType.INVALID, "kind", f"must be {info.kind}", obj.get("kind")))
    errs.extend(
        validate_object_meta(
            obj.get("metadata"), namespaced=info.namespaced, label_name=info.kind in _LABEL_NAMED_KINDS
        )
    )
    _validate_schema(openapi.schema_view(kind), obj, "", errs, True)
    errs.extend(_kind_rules(kind, obj))
    return errs


def validate_create(kind: str, obj: dict[str, Any]) -> list[FieldError]:
    """All errors of ``obj`` as a new object of ``kind`` (call :func:`apply_defaults` first, as
    the apiserver does); an empty list means valid. ``kind`` must be registered."""
    return _validate(kind, obj)


def validate_update(kind: str, new: dict[str, Any], old: dict[str, Any]) -> list[FieldError]:
    """Errors of ``new`` replacing ``old``: everything :func:`validate_create` checks plus
    immutable metadata (name, namespace, uid, creationTimestamp) and immutable spec fields."""
    errs = _validate(kind, new)
    if not isinstance(new, dict) or not isinstance(old, dict):
        return errs
    new_meta = _meta_of(new)
    old_meta = _meta_of(old)
    for key in ("name", "namespace"):
        if (new_meta.get(key) or "") != (old_meta.get(key) or ""):
            errs.append(
                FieldError(ErrorType.INVALID, f"metadata.{key}", base.IMMUTABLE_MESSAGE, new_meta.get(key))
            )
    for key in ("uid", "creationTimestamp"):
        if new_meta.get(key) and old_meta.get(key) and new_meta[key] != old_meta[key]:
            errs.append(
                FieldError(ErrorType.INVALID, f"metadata.{key}", base.IMMUTABLE_MESSAGE, new_meta[key])
            )
    paths = immutable_paths(kind)
    if paths:
        new_d = apply_defaults(kind, copy.deepcopy(new))
        old_d = apply_defaults(kind, copy.deepcopy(old))
        for path in paths:
            new_value = _empty_to_none(_lookup(new_d, path))
            old_value = _empty_to_none(_lookup(old_d, path))
            if new_value != old_value:
                # As the apiserver reports a failed CEL rule: scalars with their value, others without.
                shown = new_value if isinstance(new_value, str | int | float | bool) else OMITTED
                errs.append(FieldError(ErrorType.INVALID, path, base.IMMUTABLE_MESSAGE, shown))
    return errs
