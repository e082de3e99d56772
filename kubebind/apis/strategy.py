"""Create/update preparation that a Kubernetes apiserver applies to kinds with a status subresource.

Why here: clients rely on these rules (the Go CLI creates an APIServiceExportRequest and expects the
server, not itself, to own ``status``; the konnector writes ``/status`` and expects its spec to be
untouched), and the aggregated server must apply them exactly as it does for CRDs:

* create: ``status`` is dropped (defaults then re-add ``{phase: Pending}`` where declared) and
  ``metadata.generation`` starts at 1;
* update of the main resource: ``status`` is kept from the old object; ``generation`` is bumped
  when anything outside ``metadata`` and ``status`` changed;
* update of ``/status``: the old object is kept with only ``status`` taken from the new one
  (and its ``managedFields``).

All functions work on plain dicts, return the prepared object and never touch their inputs' other
objects (the old object is deep-copied where it is reused).
"""

from __future__ import annotations

import copy
from typing import Any

from kubebind.apis import resources

__all__ = ["prepare_for_create", "prepare_for_status_update", "prepare_for_update", "spec_changed"]

_NOT_SPEC = ("metadata", "status", "apiVersion", "kind")


def _meta(obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        meta = {}
        obj["metadata"] = meta
    return meta


def spec_changed(new: dict[str, Any], old: dict[str, Any]) -> bool:
    """True when anything but metadata/status/apiVersion/kind differs (what bumps generation)."""
    strip_new = {k: v for k, v in new.items() if k not in _NOT_SPEC}
    strip_old = {k: v for k, v in old.items() if k not in _NOT_SPEC}
    return strip_new != strip_old


def prepare_for_create(kind: str, obj: dict[str, Any]) -> dict[str, Any]:
    """Drop ``status`` (kinds with a status subresource) and set ``generation`` 1, in place."""
    if resources.by_kind(kind).status_subresource:
        obj.pop("status", None)
    _meta(obj)["generation"] = 1
    return obj


def prepare_for_update(kind: str, new: dict[str, Any], old: dict[str, Any]) -> dict[str, Any]:
    """Main-resource update: keep the old ``status``, maintain ``generation``; edits ``new`` in place."""
    if resources.by_kind(kind).status_subresource:
        if "status" in old:
            new["status"] = copy.deepcopy(old["status"])
        else:
            new.pop("status", None)
    old_generation = int((old.get("metadata") or {}).get("generation") or 1)
    _meta(new)["generation"] = old_generation + 1 if spec_changed(new, old) else old_generation
    return new


def prepare_for_status_update(kind: str, new: dict[str, Any], old: dict[str, Any]) -> dict[str, Any]:
    """``/status`` update: a copy of ``old`` carrying ``new``'s status and managedFields."""
    resources.by_kind(kind)  # unknown kinds raise KeyError like the other helpers
    result = copy.deepcopy(old)
    if "status" in new:
        result["status"] = copy.deepcopy(new["status"])
    else:
        result.pop("status", None)
    managed = (new.get("metadata") or {}).get("managedFields")
    if managed is not None:
        _meta(result)["managedFields"] = copy.deepcopy(managed)
    return result
