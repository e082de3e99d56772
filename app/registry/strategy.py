"""The Strategy protocol and the default strategy of a kube-bind kind served like a CRD.

Why a strategy per kind: the generic store (``app.registry.rest``) is the same for every kind;
what differs is scope, defaults, validation, which part of an object the main resource and the
``status`` subresource may write, and when ``metadata.generation`` moves. The default below
reproduces what kube-apiserver does for a CRD with a status subresource:

The status/generation rules themselves live in ``kubebind.apis.strategy`` (shared with anyone
who needs to predict the server's behaviour); this class adds system metadata and defaults:

* create: ``status`` is dropped (then schema defaults apply), ``generation`` = 1, system metadata
  (uid, creationTimestamp) set by the server, deletion fields cleared;
* update of the main resource: ``status`` is kept from the stored object, ``generation`` + 1 only
  when anything outside ``metadata`` and ``status`` changed;
* update of ``status``: only ``status`` is taken from the request;
* validation: ``kubebind.apis.validation`` (schema, metadata, names, kind rules, immutability).
"""

from __future__ import annotations

import copy
from typing import Any, Protocol

from kubebind.apis import resources, strategy, validation
from kubebind.apis.validation import FieldError

__all__ = ["KindStrategy", "Strategy"]

_SYSTEM_META = ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation")


class Strategy(Protocol):
    """What the generic store needs to know about one kind."""

    @property
    def info(self) -> resources.ResourceInfo: ...

    def prepare_for_create(self, obj: dict[str, Any]) -> None: ...

    def prepare_for_update(self, new: dict[str, Any], old: dict[str, Any]) -> None: ...

    def prepare_for_status_update(self, new: dict[str, Any], old: dict[str, Any]) -> dict[str, Any]: ...

    def validate_create(self, obj: dict[str, Any]) -> list[FieldError]: ...

    def validate_update(self, new: dict[str, Any], old: dict[str, Any]) -> list[FieldError]: ...

    def unknown_fields(self, obj: dict[str, Any]) -> list[str]: ...

    def prune(self, obj: dict[str, Any]) -> None: ...

    def selectable_fields(self, obj: dict[str, Any]) -> dict[str, str]: ...


class KindStrategy:
    """Default CRD-like behaviour for a registered kube-bind kind (see the module docstring)."""

    def __init__(self, info: resources.ResourceInfo) -> None:
        self._info = info

    @property
    def info(self) -> resources.ResourceInfo:
        return self._info

    def prepare_for_create(self, obj: dict[str, Any]) -> None:
        meta = obj.setdefault("metadata", {})
        for key in ("deletionTimestamp", "deletionGracePeriodSeconds", "managedFields", "resourceVersion"):
            meta.pop(key, None)
        strategy.prepare_for_create(self._info.kind, obj)
        validation.apply_defaults(self._info.kind, obj)

    def prepare_for_update(self, new: dict[str, Any], old: dict[str, Any]) -> None:
        new_meta = new.setdefault("metadata", {})
        old_meta = old.get("metadata") or {}
        for key in _SYSTEM_META:
            if key in old_meta:
                new_meta[key] = copy.deepcopy(old_meta[key])
            else:
                new_meta.pop(key, None)
        new_meta.pop("managedFields", None)
        # Defaults first, so that a client omitting a defaulted field does not bump generation.
        validation.apply_defaults(self._info.kind, new)
        strategy.prepare_for_update(self._info.kind, new, old)

    def prepare_for_status_update(self, new: dict[str, Any], old: dict[str, Any]) -> dict[str, Any]:
        out = strategy.prepare_for_status_update(self._info.kind, new, old)
        _meta = out.setdefault("metadata", {})
        _meta.pop("managedFields", None)
        validation.apply_defaults(self._info.kind, out)
        return out

    def validate_create(self, obj: dict[str, Any]) -> list[FieldError]:
        return validation.validate_create(self._info.kind, obj)

    def validate_update(self, new: dict[str, Any], old: dict[str, Any]) -> list[FieldError]:
        return validation.validate_update(self._info.kind, new, old)

    def unknown_fields(self, obj: dict[str, Any]) -> list[str]:
        return validation.find_unknown_fields(self._info.kind, obj)

    def prune(self, obj: dict[str, Any]) -> None:
        validation.prune_unknown_fields(self._info.kind, obj)

    def selectable_fields(self, obj: dict[str, Any]) -> dict[str, str]:
        meta = obj.get("metadata") or {}
        fields = {"metadata.name": str(meta.get("name") or "")}
        if self._info.namespaced:
            fields["metadata.namespace"] = str(meta.get("namespace") or "")
        return fields
