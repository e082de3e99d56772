"""Status sync provider → consumer for one object key (reference §6.8).

The provider side (its operators) owns ``.status``; the konnector copies it onto the consumer
object through the ``status`` subresource and records where the copy lives
(``kube-bind.io/provider-namespace``, ``kube-bind.io/provider-uid``). Only provider objects that
are ours (see :mod:`konnector.sync.isolation`) and belong to the current consumer object (same
``consumer-uid``) are copied. Deleting orphaned provider copies is the spec reconcile's job.
"""

from __future__ import annotations

import copy

from konnector.sync import isolation
from konnector.sync.context import SyncContext
from konnector.sync.spec import deleting
from kubebind.apis import constants
from kubebind.kube import errors
from kubebind.kube.resources import ObjectKey

__all__ = ["STATUS", "reconcile_status"]

STATUS = "status"


async def reconcile_status(ctx: SyncContext, key: ObjectKey) -> None:
    obj = ctx.consumer_cache.get(key)
    pkey = ctx.strategy.to_provider(key)
    if obj is None or pkey is None or deleting(obj):
        ctx.seen.pop((STATUS, key), None)
        return
    pobj = ctx.provider_cache.get(pkey)
    if pobj is None or not isolation.is_ours(pobj, ctx.strategy.cluster_namespace):
        ctx.seen.pop((STATUS, key), None)
        return
    pmeta = pobj.get("metadata") or {}
    meta = obj.get("metadata") or {}
    if (pmeta.get("annotations") or {}).get(constants.ANNOTATION_CONSUMER_UID) != meta.get("uid"):
        return
    wrote = False
    annotations = meta.get("annotations") or {}
    want = {
        constants.ANNOTATION_PROVIDER_NAMESPACE: str(
            pmeta.get("namespace") or ctx.strategy.cluster_namespace
        ),
        constants.ANNOTATION_PROVIDER_UID: str(pmeta.get("uid") or ""),
    }
    if any(annotations.get(k) != v for k, v in want.items()):
        if constants.FINALIZER_SYNCER not in (meta.get("finalizers") or []):
            # The spec reconcile writes finalizer and annotations together right after it created
            # the copy; this cached object predates that write, and patching it would conflict.
            # The write's MODIFIED event brings the status reconcile back.
            return
        obj = await ctx.consumer.patch(
            ctx.consumer_ref,
            key.name,
            {"metadata": {"annotations": want, "resourceVersion": meta.get("resourceVersion")}},
            namespace=key.namespace or None,
        )
        wrote = True
    if ctx.has_status_subresource and pobj.get("status") != obj.get("status"):
        body = copy.deepcopy(obj)
        if pobj.get("status") is None:
            body.pop("status", None)
        else:
            body["status"] = copy.deepcopy(pobj["status"])
        try:
            await ctx.consumer.update_status(ctx.consumer_ref, body, namespace=key.namespace or None)
        except errors.ApiError as exc:
            if errors.is_not_found(exc) and obj is not None and ctx.consumer_cache.get(key) is None:
                return
            raise
        wrote = True
    if wrote:
        ctx.observe_done(STATUS, key)
    else:
        ctx.seen.pop((STATUS, key), None)
