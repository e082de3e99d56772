"""Spec sync consumer → provider for one object key (reference §6.7, with the design.md §4 fixes).

Order of a reconcile, level-triggered from both caches:

1. Map the consumer key to the provider key; for namespaced resources this needs the
   APIServiceNamespace's assigned provider namespace — create the APIServiceNamespace and requeue.
2. Consumer object gone → delete the provider copy **only if we created it** (``cluster-namespace``
   and ``consumer-uid`` annotations match); the finalizer normally prevents this case.
3. Consumer object deleting → delete the provider copy (UID precondition), release the finalizer.
4. Create the copy (trace annotations, isolation mutation); creates are idempotent by name, so a
   restart finds the copy again: exactly one provider copy per consumer object. A provider object
   with that name that is not ours is never touched: the reconcile fails with a clear error.
5. In one consumer write add finalizer ``kubebind.io/syncer`` and the provider trace annotations
   (see :func:`_ensure_consumer_meta` for why after the create is safe).
6. Afterwards server-side apply ``.spec``, labels and annotations with field manager
   ``kube-bind.io`` (force), so provider-side controllers keep their own fields; a field the
   consumer removed is removed with a follow-up update if apply could not drop it.
"""

from __future__ import annotations

import copy
import inspect
import logging
from typing import Any

from konnector.engine.controller import Requeue
from konnector.sync import isolation
from konnector.sync.context import SyncContext
from kubebind.apis import constants
from kubebind.kube import errors
from kubebind.kube.client import PatchType, Preconditions
from kubebind.kube.resources import Object, ObjectKey

__all__ = ["SPEC", "ForeignObjectError", "desired_provider_object", "reconcile_spec"]

log = logging.getLogger(__name__)

SPEC = "spec"
_SKIP_TOP = ("apiVersion", "kind", "metadata", "status")
_SKIP_ANNOTATIONS = ("kubectl.kubernetes.io/last-applied-configuration",)


class ForeignObjectError(Exception):
    """A provider object with the target name exists but was not created by this consumer."""


def _meta(obj: Object) -> dict[str, Any]:
    meta: dict[str, Any] = obj.get("metadata") or {}
    return meta


def deleting(obj: Object) -> bool:
    return bool(_meta(obj).get("deletionTimestamp"))


def desired_provider_object(ctx: SyncContext, obj: Object, pkey: ObjectKey) -> Object:
    meta = _meta(obj)
    annotations = {k: v for k, v in (meta.get("annotations") or {}).items() if k not in _SKIP_ANNOTATIONS}
    annotations[constants.ANNOTATION_CLUSTER_NAMESPACE] = ctx.strategy.cluster_namespace
    annotations[constants.ANNOTATION_CONSUMER_NAMESPACE] = str(meta.get("namespace") or "")
    annotations[constants.ANNOTATION_CONSUMER_UID] = str(meta.get("uid") or "")
    annotations.pop(constants.ANNOTATION_PROVIDER_NAMESPACE, None)
    annotations.pop(constants.ANNOTATION_PROVIDER_UID, None)
    body: Object = {
        "apiVersion": ctx.provider_ref.api_version,
        "kind": obj.get("kind") or ctx.provider_ref.kind,
        "metadata": {"annotations": annotations},
    }
    labels = meta.get("labels")
    if labels:
        body["metadata"]["labels"] = dict(labels)
    for key, value in obj.items():
        if key not in _SKIP_TOP:
            body[key] = copy.deepcopy(value)
    ctx.strategy.mutate(body, pkey)
    return body


def _needs_apply(desired: Object, current: Object) -> bool:
    for key, value in desired.items():
        if key in ("apiVersion", "kind", "metadata"):
            continue
        if current.get(key) != value:
            return True
    for key in current:
        if key not in _SKIP_TOP and key not in desired:
            return True
    cur_meta = _meta(current)
    want_meta = desired["metadata"]
    for field in ("labels", "annotations"):
        cur = cur_meta.get(field) or {}
        for k, v in (want_meta.get(field) or {}).items():
            if cur.get(k) != v:
                return True
    return False


async def _release(ctx: SyncContext, obj: Object) -> None:
    meta = _meta(obj)
    finalizers = list(meta.get("finalizers") or [])
    if constants.FINALIZER_SYNCER not in finalizers:
        return
    finalizers.remove(constants.FINALIZER_SYNCER)
    try:
        await ctx.consumer.patch(
            ctx.consumer_ref,
            str(meta["name"]),
            {"metadata": {"finalizers": finalizers or None, "resourceVersion": meta.get("resourceVersion")}},
            namespace=meta.get("namespace") or None,
        )
    except errors.ApiError as exc:
        if not errors.is_not_found(exc):
            raise


async def _ensure_consumer_meta(ctx: SyncContext, obj: Object, pobj: Object) -> Object:
    """One consumer write: our finalizer plus where the provider copy lives.

    The finalizer is added right after the provider copy exists (one write instead of two). A
    crash in between leaves a provider copy without a consumer finalizer; that is safe because
    copies are recognised by their ownership annotations: if the consumer object disappears,
    the orphaned copy is deleted by the next reconcile (also after a restart, from the lists).
    """
    meta = _meta(obj)
    pmeta = _meta(pobj)
    finalizers = list(meta.get("finalizers") or [])
    annotations = meta.get("annotations") or {}
    want = {
        constants.ANNOTATION_PROVIDER_NAMESPACE: str(
            pmeta.get("namespace") or ctx.strategy.cluster_namespace
        ),
        constants.ANNOTATION_PROVIDER_UID: str(pmeta.get("uid") or ""),
    }
    patch: dict[str, Any] = {}
    if constants.FINALIZER_SYNCER not in finalizers:
        patch["finalizers"] = [*finalizers, constants.FINALIZER_SYNCER]
    if any(annotations.get(k) != v for k, v in want.items()):
        patch["annotations"] = want
    key = ObjectKey(str(meta.get("namespace") or ""), str(meta["name"]))
    written = (str(meta.get("uid") or ""), want[constants.ANNOTATION_PROVIDER_UID])
    if not patch:
        ctx.meta_written.pop(key, None)
        return obj
    if ctx.meta_written.get(key) == written:
        return obj  # our write is on its way to the cache; its MODIFIED event reconciles again
    patch["resourceVersion"] = meta.get("resourceVersion")
    result: Object = await ctx.consumer.patch(
        ctx.consumer_ref, key.name, {"metadata": patch}, namespace=key.namespace or None
    )
    ctx.meta_written[key] = written
    return result


def _consumer_uid(pobj: Object) -> str:
    return str((_meta(pobj).get("annotations") or {}).get(constants.ANNOTATION_CONSUMER_UID) or "")


async def _delete_provider(ctx: SyncContext, pobj: Object) -> None:
    meta = _meta(pobj)
    try:
        await ctx.provider.delete(
            ctx.provider_ref,
            str(meta["name"]),
            namespace=meta.get("namespace") or None,
            preconditions=Preconditions(uid=str(meta.get("uid") or "")),
            propagation_policy="Background",
        )
    except errors.ApiError as exc:
        if not (errors.is_not_found(exc) or errors.is_conflict(exc)):
            raise


async def reconcile_spec(ctx: SyncContext, key: ObjectKey) -> None:
    obj = ctx.consumer_cache.get(key)
    pkey = ctx.strategy.to_provider(key)
    if pkey is None:
        if obj is None:
            return
        if deleting(obj):
            # The namespace was never mapped, so there is no provider copy to clean up.
            await _release(ctx, obj)
            return
        await _maybe_await(ctx.ensure_service_namespace(key.namespace))
        raise Requeue(0.5, f"waiting for the provider namespace of {key.namespace}")

    pobj = ctx.provider_cache.get(pkey)
    if obj is None:
        if (
            pobj is not None
            and isolation.is_ours(pobj, ctx.strategy.cluster_namespace)
            and not deleting(pobj)
        ):
            log.info("deleting orphaned provider copy key=%s provider=%s", key, pkey)
            await _delete_provider(ctx, pobj)
        return

    uid = str(_meta(obj).get("uid") or "")
    if deleting(obj):
        if pobj is None:
            # The cache may lag behind a create: check the server before releasing.
            try:
                pobj = await ctx.provider.get(ctx.provider_ref, pkey.name, namespace=pkey.namespace or None)
            except errors.ApiError as exc:
                if not errors.is_not_found(exc):
                    raise
        if pobj is not None and isolation.is_ours(pobj, ctx.strategy.cluster_namespace):
            if _consumer_uid(pobj) == uid and not deleting(pobj):
                await _delete_provider(ctx, pobj)
        await _release(ctx, obj)
        ctx.observe_done(SPEC, key)
        return

    desired = desired_provider_object(ctx, obj, pkey)
    if pobj is None:
        pobj = ctx.recently_created(pkey)
    if pobj is None:
        try:
            pobj = await ctx.provider.create(
                ctx.provider_ref,
                desired,
                namespace=pkey.namespace or None,
                field_manager=constants.FIELD_MANAGER,
            )
            ctx.remember_created(pkey, pobj)
            await _ensure_consumer_meta(ctx, obj, pobj)
            ctx.observe_done(SPEC, key)
            return
        except errors.ApiError as exc:
            if not errors.is_already_exists(exc):
                raise
            pobj = await ctx.provider.get(ctx.provider_ref, pkey.name, namespace=pkey.namespace or None)

    if not isolation.is_ours(pobj, ctx.strategy.cluster_namespace):
        raise ForeignObjectError(
            f"provider object {pkey} already exists and was not created by this consumer; not touching it"
        )
    if _consumer_uid(pobj) != uid:
        if deleting(pobj):
            raise Requeue(0.5, "stale provider copy is being deleted")
        # A provider copy of an earlier consumer object with the same name: replace it.
        log.info("replacing stale provider copy key=%s provider=%s", key, pkey)
        await _delete_provider(ctx, pobj)
        raise Requeue(0.2, "stale provider copy deleted")
    if deleting(pobj):
        raise Requeue(1.0, "provider copy is being deleted; will recreate")
    obj = await _ensure_consumer_meta(ctx, obj, pobj)

    if _needs_apply(desired, pobj):
        desired["metadata"]["resourceVersion"] = None
        desired["metadata"].pop("resourceVersion")
        result = await ctx.provider.patch(
            ctx.provider_ref,
            pkey.name,
            desired,
            namespace=pkey.namespace or None,
            patch_type=PatchType.APPLY,
            field_manager=constants.FIELD_MANAGER,
            force=True,
        )
        stale = [k for k in result if k not in _SKIP_TOP and k not in desired]
        if stale or any(
            result.get(k) != v for k, v in desired.items() if k not in ("apiVersion", "kind", "metadata")
        ):
            # Fields set at creation (an Update, not an Apply) are not dropped by apply: replace.
            for k in stale:
                result.pop(k, None)
            for k, v in desired.items():
                if k not in ("apiVersion", "kind", "metadata"):
                    result[k] = v
            await ctx.provider.update(ctx.provider_ref, result, namespace=pkey.namespace or None)
    ctx.observe_done(SPEC, key)


async def _maybe_await(value: object) -> None:
    if inspect.isawaitable(value):
        await value
