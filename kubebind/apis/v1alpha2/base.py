"""Base pydantic machinery shared by every kube-bind model.

Why this exists: backend, konnector and CLI all read and write the same JSON, so the models must
agree on three things no matter who uses them:

* **Wire names.** Python attributes are snake_case; JSON is camelCase (an alias generator, plus an
  explicit alias where Go's tag is not plain camelCase). Construction accepts either name.
* **Unknown fields are kept, not dropped.** ``extra="allow"`` keeps them in ``model_extra`` so a
  caller can detect them (:func:`unknown_fields`) - the aggregated API server needs that for
  ``fieldValidation=Strict`` - and a client round-trips objects written by a newer peer intact.
* **Serialisation.** :func:`to_dict` is ``by_alias=True, exclude_none=True`` in JSON mode, so an
  unset optional never appears as ``null`` (Go's ``omitempty``), while raw passthrough values
  (schemas, parameters) keep their nulls.

Constraints Kubernetes enforces (patterns, minItems, enums, defaults, list-map keys) are attached to
fields as metadata via :func:`k8s` and are *not* enforced by pydantic: parsing stays lenient so a
konnector never crashes on an object an older server accepted. ``kubebind.apis.openapi`` turns the
metadata into the CRD schema and ``kubebind.apis.validation`` enforces it on plain dicts.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer
from pydantic.alias_generators import to_camel

from kubebind.apis import constants

__all__ = [
    "IMMUTABLE_MESSAGE",
    "Base64Bytes",
    "KubeModel",
    "KubeObject",
    "ListMeta",
    "ManagedFieldsEntry",
    "ObjectList",
    "ObjectMeta",
    "OwnerReference",
    "Time",
    "format_time",
    "k8s",
    "parse_time",
    "to_dict",
    "unknown_fields",
]

K8S_EXTRA_KEY = "k8s"
#: Message of every immutability error (CEL rule and Python validator alike).
IMMUTABLE_MESSAGE = "field is immutable"


def k8s(
    *,
    pattern: str | None = None,
    min_length: int | None = None,
    min_items: int | None = None,
    default: Any = None,
    has_default: bool = False,
    list_type: str | None = None,
    list_map_keys: list[str] | None = None,
    preserve_unknown: bool = False,
    fmt: str | None = None,
    description: str | None = None,
    immutable: bool = False,
    rules: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    """Kubernetes schema constraints for one field, stored as pydantic ``json_schema_extra``.

    ``rules`` are extra CEL ``x-kubernetes-validations`` (``{"rule", "message"}``) for the CRD; the
    Python validator implements each of them by hand. ``default`` is only recorded when
    ``has_default`` is true (``None`` is a legal default value of nothing here, but being explicit
    avoids confusing "no default" with "default null").
    """
    out: dict[str, Any] = {}
    if pattern is not None:
        out["pattern"] = pattern
    if min_length is not None:
        out["minLength"] = min_length
    if min_items is not None:
        out["minItems"] = min_items
    if has_default:
        out["default"] = default
    if list_type is not None:
        out["x-kubernetes-list-type"] = list_type
    if list_map_keys is not None:
        out["x-kubernetes-list-map-keys"] = list_map_keys
    if preserve_unknown:
        out["x-kubernetes-preserve-unknown-fields"] = True
    if fmt is not None:
        out["format"] = fmt
    if description is not None:
        out["description"] = description
    if immutable:
        # A CEL transition rule, as the Go CRDs carry; kubebind.apis.validation enforces the same
        # (more strictly: it also refuses adding or removing the field).
        out["x-kubernetes-validations"] = [{"rule": "self == oldSelf", "message": IMMUTABLE_MESSAGE}]
    if rules:
        out.setdefault("x-kubernetes-validations", []).extend(dict(r) for r in rules)
    return {K8S_EXTRA_KEY: out}


# --- scalar wire types ---------------------------------------------------------------------------


def format_time(value: datetime) -> str:
    """RFC 3339 in UTC with second precision, as ``metav1.Time`` marshals (``2026-01-01T00:00:00Z``)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: str) -> datetime:
    """Parse an RFC 3339 timestamp (``Z`` or offset) into an aware UTC datetime."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _time_in(value: Any) -> Any:
    if isinstance(value, str):
        return parse_time(value)
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


#: ``metav1.Time``: an aware datetime in Python, an RFC 3339 second-precision string on the wire.
Time = Annotated[datetime, BeforeValidator(_time_in), PlainSerializer(format_time, return_type=str)]


def _b64_in(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return base64.b64decode(value.encode("ascii"), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError(f"invalid base64: {exc}") from exc
    return value


def _b64_out(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


#: Go ``[]byte``: raw bytes in Python, standard padded base64 on the wire.
Base64Bytes = Annotated[bytes, BeforeValidator(_b64_in), PlainSerializer(_b64_out, return_type=str)]


# --- base model ----------------------------------------------------------------------------------


class KubeModel(BaseModel):
    """Base of all kube-bind models: camelCase aliases, names or aliases accepted, extras kept."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="allow",
        use_enum_values=True,
        validate_assignment=False,
    )


def to_dict(model: BaseModel) -> dict[str, Any]:
    """Wire form of a model: camelCase keys, no ``None`` fields, JSON-compatible values."""
    return model.model_dump(by_alias=True, exclude_none=True, mode="json")


def unknown_fields(model: BaseModel, prefix: str = "") -> list[str]:
    """Paths (``spec.resources[0].foo``) of every field the model did not declare.

    Raw passthrough fields (``dict``-typed, e.g. schemas and ``parameters``) are never reported:
    their content is unstructured by design.
    """
    found: list[str] = []
    extra = model.model_extra or {}
    for key in extra:
        found.append(f"{prefix}.{key}" if prefix else key)
    for name, info in type(model).model_fields.items():
        value = getattr(model, name, None)
        key = info.alias or name
        path = f"{prefix}.{key}" if prefix else key
        found.extend(_unknown_in_value(value, path))
    return found


def _unknown_in_value(value: Any, path: str) -> list[str]:
    if isinstance(value, BaseModel):
        return unknown_fields(value, path)
    if isinstance(value, list):
        out: list[str] = []
        for i, item in enumerate(value):
            out.extend(_unknown_in_value(item, f"{path}[{i}]"))
        return out
    return []


# --- metadata ------------------------------------------------------------------------------------


class OwnerReference(KubeModel):
    """``metav1.OwnerReference``."""

    api_version: str
    kind: str
    name: str
    uid: str
    controller: bool | None = None
    block_owner_deletion: bool | None = None


class ManagedFieldsEntry(KubeModel):
    """``metav1.ManagedFieldsEntry``; ``fieldsV1`` is passed through untouched."""

    manager: str | None = None
    operation: str | None = None
    api_version: str | None = None
    time: Time | None = None
    fields_type: str | None = None
    fields_v1: dict[str, Any] | None = Field(default=None, alias="fieldsV1")
    subresource: str | None = None


class ObjectMeta(KubeModel):
    """A light ``metav1.ObjectMeta``: what kube-bind objects and their servers actually use."""

    name: str | None = None
    generate_name: str | None = None
    namespace: str | None = None
    uid: str | None = None
    resource_version: str | None = None
    generation: int | None = None
    creation_timestamp: Time | None = None
    deletion_timestamp: Time | None = None
    deletion_grace_period_seconds: int | None = None
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None
    finalizers: list[str] | None = None
    owner_references: list[OwnerReference] | None = None
    managed_fields: list[ManagedFieldsEntry] | None = None


class ListMeta(KubeModel):
    """``metav1.ListMeta``."""

    resource_version: str | None = None
    continue_: str | None = Field(default=None, alias="continue")
    remaining_item_count: int | None = None


class KubeObject(KubeModel):
    """A top-level kind: ``apiVersion``, ``kind``, ``metadata``.

    Subclasses set ``KIND`` (and ``API_VERSION`` if not ``kube-bind.io/v1alpha2``) and declare
    ``kind``/``api_version`` defaults from them, so ``Model()`` produces a complete wire object.
    """

    KIND: ClassVar[str] = ""
    API_VERSION: ClassVar[str] = constants.API_VERSION
    #: CEL ``x-kubernetes-validations`` for the root of the kind's CRD schema.
    ROOT_RULES: ClassVar[tuple[dict[str, str], ...]] = ()

    api_version: str = ""
    kind: str = ""
    metadata: ObjectMeta = Field(default_factory=ObjectMeta)

    def model_post_init(self, context: Any, /) -> None:
        # Fill kind/apiVersion when a caller (or a Go client omitting them) left them empty.
        if not self.kind:
            self.kind = type(self).KIND
        if not self.api_version:
            self.api_version = type(self).API_VERSION


T = TypeVar("T", bound=KubeObject)


class ObjectList(KubeModel, Generic[T]):
    """``<Kind>List``: ``items`` of one kind plus list metadata."""

    api_version: str = constants.API_VERSION
    kind: str = ""
    metadata: ListMeta = Field(default_factory=ListMeta)
    items: list[T] = Field(default_factory=list)
