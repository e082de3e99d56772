"""Read-modify-write of an object's status with optimistic concurrency (the reference's committer).

Why: several konnector controllers write conditions on the same APIServiceBinding (secret
validation, CRD installation, heartbeat). Each one re-reads the object, applies its own change and
writes ``/status`` with the resourceVersion it read; on a conflict it re-reads and re-applies, so
nobody's conditions are lost. Nothing is written when the change is a no-op. ``Ready`` is
recomputed on every write; an APIServiceBinding's needs all of ``BINDING_READY_REQUIRES`` reported,
so a first write by one controller (say ``SecretValid``) cannot make it Ready early.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

from konnector import kinds
from kubebind.apis import conditions, constants
from kubebind.kube import errors
from kubebind.kube.client import ApiClient
from kubebind.kube.resources import Object, ResourceRef

__all__ = ["update_status"]

_READY_REQUIRES: dict[ResourceRef, tuple[str, ...]] = {
    kinds.API_SERVICE_BINDINGS: constants.BINDING_READY_REQUIRES,
}


async def update_status(
    client: ApiClient,
    ref: ResourceRef,
    name: str,
    mutate: Callable[[Object], None],
    *,
    namespace: str | None = None,
    attempts: int = 5,
    summary: bool = True,
) -> Object | None:
    """Apply ``mutate`` to a fresh copy and write the status if it changed; ``None`` if gone."""
    for attempt in range(attempts):
        try:
            current = await client.get(ref, name, namespace=namespace)
        except errors.ApiError as exc:
            if errors.is_not_found(exc):
                return None
            raise
        desired = copy.deepcopy(current)
        desired.setdefault("status", {})
        mutate(desired)
        if summary:
            conditions.set_summary(desired, required=_READY_REQUIRES.get(ref, ()))
        if desired.get("status") == (current.get("status") or {}):
            return current
        try:
            return await client.update_status(ref, desired, namespace=namespace)
        except errors.ApiError as exc:
            if errors.is_conflict(exc) and attempt < attempts - 1:
                continue
            if errors.is_not_found(exc):
                return None
            raise
    return None
