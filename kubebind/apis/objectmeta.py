"""Name syntax and ``metadata`` validation, as the apiserver applies to every object.

Why separate: the rules (RFC 1123 labels/subdomains, qualified names, label values) are needed
beyond kube-bind objects too - the backend names provider namespaces and the CLI checks binding
names - and they are independent of any schema.
"""

from __future__ import annotations

import re
from typing import Any

from kubebind.apis.fielderrors import OMITTED, ErrorType, FieldError

__all__ = [
    "is_dns1123_label",
    "is_dns1123_subdomain",
    "is_qualified_name",
    "is_valid_label_value",
    "validate_object_meta",
]

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
