"""Writing conditions/phase through the ``status`` subresource, only when something changed."""

from __future__ import annotations

import copy
from typing import Any

from kubebind.kube import ApiClient
from kubebind.kube.resources import Object, ResourceRef

__all__ = ["patch_status"]


def _strip_times(conditions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in c.items() if k != "lastTransitionTime"} for c in conditions]


async def patch_status(client: ApiClient, ref: ResourceRef, obj: Object, new_status: dict[str, Any]) -> bool:
    """Merge-patch ``status`` with ``new_status`` if it differs; True when written."""
    old = copy.deepcopy(obj.get("status") or {})
    merged = {**old, **new_status}
    if merged == old:
        return False
    old_cmp = {**old, "conditions": _strip_times(old.get("conditions") or [])}
    new_cmp = {**merged, "conditions": _strip_times(merged.get("conditions") or [])}
    if old_cmp == new_cmp and old.get("conditions"):
        return False
    meta = obj["metadata"]
    await client.patch(
        ref, meta["name"], {"status": new_status}, namespace=meta.get("namespace"), subresource="status"
    )
    return True
