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

Errors are :class:`FieldError` values whose ``type`` strings are Kubernetes'
``field.ErrorType`` (``FieldValueRequired``, ``FieldValueInvalid`` …) and whose messages follow
``field.Error.ErrorBody``, so the server can put them into a ``Status`` unchanged.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from kubebind.apis import constants, openapi, resources

__all__ = [
    "ErrorType",
    "FieldError",
    "apply_defaults",
    "find_unknown_fields",
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


class ErrorType(StrEnum):
    """Kubernetes ``field.ErrorType`` (the ``reason`` of a ``StatusCause``)."""

    NOT_FOUND = "FieldValueNotFound"
    REQUIRED = "FieldValueRequired"
    DUPLICATE = "FieldValueDuplicate"
    INVALID = "FieldValueInvalid"
    NOT_SUPPORTED = "FieldValueNotSupported"
    FORBIDDEN = "FieldValueForbidden"
    TOO_LONG = "FieldValueTooLong"
    TOO_MANY = "FieldValueTooMany"
    INTERNAL = "InternalError"
    TYPE_INVALID = "FieldValueTypeInvalid"


_TYPE_TEXT = {
    ErrorType.NOT_FOUND: "Not found",
    ErrorType.REQUIRED: "Required value",
    ErrorType.DUPLICATE: "Duplicate value",
    ErrorType.INVALID: "Invalid value",
    ErrorType.NOT_SUPPORTED: "Unsupported value",
    ErrorType.FORBIDDEN: "Forbidden",
    ErrorType.TOO_LONG: "Too long",
    ErrorType.TOO_MANY: "Too many",
    ErrorType.INTERNAL: "Internal error",
    ErrorType.TYPE_INVALID: "Invalid value",
}
_NO_VALUE_TYPES = {ErrorType.REQUIRED, ErrorType.FORBIDDEN, ErrorType.TOO_LONG, ErrorType.INTERNAL}


class _Omitted:
    def __repr__(self) -> str:
        return "<omitted>"


OMITTED: Any = _Omitted()


def _value_text(value: Any) -> str:
    if isinstance(value, str | int | float | bool) or value is None:
        return json.dumps(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


@dataclass(frozen=True, slots=True)
class FieldError:
    """One field error: ``type``, dotted ``field`` path, human ``detail`` and the offending value."""

    type: ErrorType
    field: str
    detail: str = ""
    bad_value: Any = OMITTED

    @property
    def message(self) -> str:
        """``field.Error.ErrorBody()``: e.g. ``Invalid value: "Foo": should match …``."""
        text = _TYPE_TEXT[self.type]
        if self.type not in _NO_VALUE_TYPES and self.bad_value is not OMITTED:
            text = f"{text}: {_value_text(self.bad_value)}"
        if self.detail:
            text = f"{text}: {self.detail}"
        return text

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "type": self.type.value, "message": self.message}

    def to_status_cause(self) -> dict[str, str]:
        """JSON of a ``metav1.StatusCause`` (note: the type goes under ``reason``)."""
        return {"reason": self.type.value, "message": self.message, "field": self.field}

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


def invalid_message(kind: str, name: str, errors: list[FieldError]) -> str:
    """``Status.message`` of a 422, as ``apierrors.NewInvalid`` formats it."""
    if len(errors) == 1:
        agg = str(errors[0])
    else:
        agg = "[" + ", ".join(str(e) for e in errors) + "]"
    return f'{kind}.{constants.GROUP} "{name}" is invalid: {agg}'


# --- name syntax (k8s.io/apimachinery/pkg/util/validation) ----------------------------------------

_DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_LABEL_RE = re.compile(f"^{_DNS1123_LABEL_FMT}$")
_DNS1123_SUBDOMAIN_FMT = rf"{_DNS1123_LABEL_FMT}(\.{_DNS1123_LABEL_FMT})*"
_DNS1123_SUBDOMAIN_RE = re.compile(f"^{_DNS1123_SUBDOMAIN_FMT}$")
_QUALIFIED_NAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_QUALIFIED_NAME_RE = re.compile(f"^{_QUALIFIED_NAME_FMT}$")
_LABEL_VALUE_RE = re.compile(f"^({_QUALIFIED_NAME_FMT})?$")


def is_dns1123_label(value: str) -> list[str]:
    """Problems with ``value`` as an RFC 1123 label (namespace names); empty list if fine."""
    errs: list[str] = []
    if len(value) > 63:
        errs.append("must be no more than 63 characters")
    if not _DNS1123_LABEL_RE.match(value):
        errs.append(
            "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
            "and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', "
            f"regex used for validation is '{_DNS1123_LABEL_FMT}')"
        )
    return errs


def is_dns1123_subdomain(value: str) -> list[str]:
    """Problems with ``value`` as an RFC 1123 subdomain (most object names); empty list if fine."""
    errs: list[str] = []
    if len(value) > 253:
        errs.append("must be no more than 253 characters")
    if not _DNS1123_SUBDOMAIN_RE.match(value):
        errs.append(
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
            "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "
            f"for validation is '{_DNS1123_SUBDOMAIN_FMT}')"
        )
    return errs


def is_qualified_name(value: str) -> list[str]:
    """Problems with ``value`` as a label/annotation key or finalizer (``[prefix/]name``)."""
    parts = value.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            return ["prefix part must be non-empty"]
        errs = [f"prefix part {e}" for e in is_dns1123_subdomain(prefix)]
        if errs:
            return errs
    else:
        return [
            "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start "
            "and end with an alphanumeric character, with an optional DNS subdomain prefix and '/'"
        ]
    if not name:
        return ["name part must be non-empty"]
    errs = []
    if len(name) > 63:
        errs.append("name part must be no more than 63 characters")
    if not _QUALIFIED_NAME_RE.match(name):
        errs.append(
            "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
            f"with an alphanumeric character (regex used for validation is '{_QUALIFIED_NAME_FMT}')"
        )
    return errs


def is_valid_label_value(value: str) -> list[str]:
    errs: list[str] = []
    if len(value) > 63:
        errs.append("must be no more than 63 characters")
    if not _LABEL_VALUE_RE.match(value):
        errs.append(
            "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
            "'.', and must start and end with an alphanumeric character "
            f"(regex used for validation is '({_QUALIFIED_NAME_FMT})?')"
        )
    return errs


# --- metadata --------------------------------------------------------------------------------------

_TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024
#: Kinds whose names must be DNS-1123 labels: the name becomes a namespace name (APIServiceNamespace)
#: or an object name that is validated as a label (BindableResourcesRequest, reference §2.13).
_LABEL_NAMED_KINDS = frozenset({"APIServiceNamespace", "BindableResourcesRequest"})


def validate_object_meta(meta: Any, *, namespaced: bool, label_name: bool = False) -> list[FieldError]:
    """``ValidateObjectMeta``: name/generateName, namespace by scope, labels, annotations,
    finalizers and owner references."""
    errs: list[FieldError] = []
    if not isinstance(meta, dict):
        return [FieldError(ErrorType.REQUIRED, "metadata")]
    name_check = is_dns1123_label if label_name else is_dns1123_subdomain
    name = meta.get("name")
    generate_name = meta.get("generateName")
    if not name:
        if not generate_name:
            errs.append(FieldError(ErrorType.REQUIRED, "metadata.name", "name or generateName is required"))
        else:
            prefix = str(generate_name).rstrip("-")
            for msg in name_check(prefix) if prefix else []:
                errs.append(FieldError(ErrorType.INVALID, "metadata.generateName", msg, generate_name))
    elif not isinstance(name, str):
        errs.append(FieldError(ErrorType.TYPE_INVALID, "metadata.name", "must be of type string", name))
    else:
        for msg in name_check(name):
            errs.append(FieldError(ErrorType.INVALID, "metadata.name", msg, name))
    namespace = meta.get("namespace")
    if namespaced:
        if not namespace:
            errs.append(FieldError(ErrorType.REQUIRED, "metadata.namespace"))
        else:
            for msg in is_dns1123_label(str(namespace)):
                errs.append(FieldError(ErrorType.INVALID, "metadata.namespace", msg, namespace))
    elif namespace:
        errs.append(FieldError(ErrorType.FORBIDDEN, "metadata.namespace", "not allowed on this type"))
    labels = meta.get("labels") or {}
    if isinstance(labels, dict):
        for key, value in labels.items():
            for msg in is_qualified_name(str(key)):
                errs.append(FieldError(ErrorType.INVALID, "metadata.labels", msg, key))
            for msg in is_valid_label_value(str(value)):
                errs.append(FieldError(ErrorType.INVALID, f"metadata.labels.{key}", msg, value))
    annotations = meta.get("annotations") or {}
    if isinstance(annotations, dict):
        total = 0
        for key, value in annotations.items():
            for msg in is_qualified_name(str(key).lower()):
                errs.append(FieldError(ErrorType.INVALID, "metadata.annotations", msg, key))
            total += len(str(key)) + len(str(value))
        if total > _TOTAL_ANNOTATION_SIZE_LIMIT:
            errs.append(
                FieldError(
                    ErrorType.TOO_LONG,
                    "metadata.annotations",
                    f"may not be more than {_TOTAL_ANNOTATION_SIZE_LIMIT} bytes",
                )
            )
    for i, finalizer in enumerate(meta.get("finalizers") or []):
        for msg in is_qualified_name(str(finalizer)):
            errs.append(FieldError(ErrorType.INVALID, f"metadata.finalizers[{i}]", msg, finalizer))
    controllers = 0
    for i, ref in enumerate(meta.get("ownerReferences") or []):
        path = f"metadata.ownerReferences[{i}]"
        if not isinstance(ref, dict):
            errs.append(FieldError(ErrorType.INVALID, path, "must be an object", ref))
            continue
        for key in ("apiVersion", "kind", "name", "uid"):
            if not ref.get(key):
                errs.append(FieldError(ErrorType.REQUIRED, f"{path}.{key}"))
        if ref.get("controller"):
            controllers += 1
    if controllers > 1:
        errs.append(
            FieldError(
                ErrorType.INVALID,
                "metadata.ownerReferences",
                "Only one reference can have Controller set to true",
                OMITTED,
            )
        )
    return errs


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
    return FieldError(ErrorType.TYPE_INVALID, path, f"{path} in body must be of type {expected}: {json.dumps(actual)}", actual)


def _validate_schema(schema: dict[str, Any], value: Any, path: str, errs: list[FieldError], top: bool) -> None:
    if value is None:
        return
    type_err = _check_type(schema, value, path)
    if type_err is not None:
        errs.append(type_err)
        return
    if "enum" in schema and value not in schema["enum"]:
        supported = ", ".join(json.dumps(v) for v in schema["enum"])
        errs.append(FieldError(ErrorType.NOT_SUPPORTED, path, f"supported values: {supported}", value))
        return
    if isinstance(value, str):
        min_len = schema.get("minLength")
        if min_len is not None and len(value) < min_len:
            errs.append(
                FieldError(ErrorType.INVALID, path, f"{path} in body should be at least {min_len} chars long", value)
            )
        pattern = schema.get("pattern")
        if pattern is not None and not re.search(pattern, value):
            errs.append(FieldError(ErrorType.INVALID, path, f"{path} in body should match '{pattern}'", value))
    elif isinstance(value, list):
        min_items = schema.get("minItems")
        if min_items is not None and len(value) < min_items:
            errs.append(
                FieldError(ErrorType.INVALID, path, f"{path} in body should have at least {min_items} items", value)
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
    _default_walk(openapi.openapi_v3_schema(kind), obj)
    return obj


def find_unknown_fields(kind: str, obj: dict[str, Any]) -> list[str]:
    """Paths of fields the kind's schema does not declare (for ``fieldValidation=Strict/Warn``)."""
    return openapi.find_unknown_fields(openapi.openapi_v3_schema(kind), obj)


def prune_unknown_fields(kind: str, obj: dict[str, Any]) -> dict[str, Any]:
    """Drop undeclared fields in place, as structural pruning does; returns ``obj``."""
    result: dict[str, Any] = openapi.prune(openapi.openapi_v3_schema(kind), obj)
    return result


# --- kind rules ------------------------------------------------------------------------------------

#: Spec paths that may not change after create, per kind.
_IMMUTABLE: dict[str, tuple[str, ...]] = {
    "APIServiceExportRequest": (
        "spec.parameters",
        "spec.resources",
        "spec.permissionClaims",
        "spec.namespaces",
        "spec.schemaUpdatePolicy",
    ),
    "APIServiceExport": (
        "spec.resources",
        "spec.permissionClaims",
        "spec.informerScope",
        "spec.clusterScopedIsolation",
        "spec.isolation",
    ),
    "ClusterBinding": ("spec.kubeconfigSecretRef",),
    "APIServiceBinding": ("spec.kubeconfigSecretRef",),
    "APIServiceBindingBundle": ("spec.kubeconfigSecretRef",),
}


def _lookup(obj: Any, path: str) -> Any:
    cur = obj
    for part in path.split("."):
        if not isinstance(cur, dict):
            return None
        cur = cur.get(part)
    return cur


def _empty_to_none(value: Any) -> Any:
    return None if value in ([], {}) else value


def _kind_rules(kind: str, obj: dict[str, Any]) -> list[FieldError]:
    errs: list[FieldError] = []
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    assert isinstance(meta, dict)
    if kind == "ClusterBinding":
        name = meta.get("name")
        if name != constants.CLUSTER_BINDING_NAME:
            errs.append(
                FieldError(
                    ErrorType.INVALID,
                    "metadata.name",
                    f"ClusterBinding name must be '{constants.CLUSTER_BINDING_NAME}'",
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
                        "webhook must be set if and only if strategy is Webhook",
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
        errs.append(
            FieldError(ErrorType.INVALID, "apiVersion", f"must be {info.api_version}", api_version)
        )
    if obj.get("kind") not in (None, "", info.kind):
        errs.append(FieldError(ErrorType.INVALID, "kind", f"must be {info.kind}", obj.get("kind")))
    errs.extend(
        validate_object_meta(
            obj.get("metadata"), namespaced=info.namespaced, label_name=info.kind in _LABEL_NAMED_KINDS
        )
    )
    _validate_schema(openapi.openapi_v3_schema(kind), obj, "", errs, True)
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
    new_meta = new.get("metadata") if isinstance(new.get("metadata"), dict) else {}
    old_meta = old.get("metadata") if isinstance(old.get("metadata"), dict) else {}
    assert isinstance(new_meta, dict) and isinstance(old_meta, dict)
    for key in ("name", "namespace"):
        if (new_meta.get(key) or "") != (old_meta.get(key) or ""):
            errs.append(FieldError(ErrorType.INVALID, f"metadata.{key}", "field is immutable", new_meta.get(key)))
    for key in ("uid", "creationTimestamp"):
        if new_meta.get(key) and old_meta.get(key) and new_meta[key] != old_meta[key]:
            errs.append(FieldError(ErrorType.INVALID, f"metadata.{key}", "field is immutable", new_meta[key]))
    paths = _IMMUTABLE.get(kind, ())
    if paths:
        new_d = apply_defaults(kind, copy.deepcopy(new))
        old_d = apply_defaults(kind, copy.deepcopy(old))
        for path in paths:
            new_value = _empty_to_none(_lookup(new_d, path))
            old_value = _empty_to_none(_lookup(old_d, path))
            if new_value != old_value:
                errs.append(FieldError(ErrorType.INVALID, path, "field is immutable", OMITTED))
    return errs
