"""Per-provider APIServiceBinding controller: CRDs from BoundSchemas, syncers, status both ways.

Reference §6.5 and §6.6 in one reconcile per binding (the binding name equals the export name):

1. Find ``APIServiceExport <binding>`` (else ``Connected=False``, with the request's terminal
   message if the APIServiceExportRequest failed).
2. For each exported resource fetch BoundSchema ``<resource>.<group|core>``, install it as the
   consumer CRD owned by the binding (refuse a CRD owned by someone else), update it when the
   schema changes.
3. Once the CRD is Established start (or restart on a change) the resource syncer, and the claim
   syncers for the export's permission claims.
4. Mirror the consumer CRD's conditions into the BoundSchema status; write ``Connected`` and
   ``ConsumerInSync`` on the export; write ``Connected``/``SchemaInSync``/``boundSchemas``/
   ``permissionClaims``/``providerPrettyName`` on the binding.

A deleting binding (finalizer ``kubebind.io/syncer``) runs the clean unbind: its instances are
deleted through the still-running syncers (provider copies go first, finalizers are released),
then the syncers stop, the CRDs are deleted and the finalizer is removed.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from konnector import committer, crd, kinds
from konnector.engine.controller import Requeue
from konnector.sync import isolation
from konnector.sync.claims import ClaimSyncer
from konnector.sync.resource import ResourceSyncer
from kubebind.apis import conditions, constants
from kubebind.kube import errors
from kubebind.kube.client import PatchType
from kubebind.kube.resources import CUSTOM_RESOURCE_DEFINITIONS, Object, ObjectKey, ResourceRef

if TYPE_CHECKING:
    from konnector.provider import Provider, SyncerEntry

__all__ = ["reconcile"]

log = logging.getLogger(__name__)


def bound_schema_name(resource: dict[str, Any]) -> str:
    return f"{resource.get('resource')}.{resource.get('group') or constants.CORE_GROUP_NAME}"


async def reconcile(p: Provider, name: str) -> None:
    binding = p.owner.bindings.get(ObjectKey("", name))
    if binding is None or name not in p.bindings:
        await p.stop_syncers(name)
        return
    if (binding.get("metadata") or {}).get("deletionTimestamp"):
        await _unbind(p, binding)
        return
    await _ensure_finalizer(p, binding)

    export = p.exports.get(ObjectKey(p.namespace, name))
    errs: list[tuple[str, str, str]] = []  # (condition, reason, message)
    # Not failures, just not usable yet (CRD being established, informers listing): Ready stays
    # False so that "Ready" means objects of the bound kinds can be created and are synced.
    pending: list[tuple[str, str]] = []  # (reason, message)
    bound: list[dict[str, str]] = []
    crd_conditions: dict[str, Object] = {}
    wanted_syncers: set[str] = set()
    if export is None:
        reason, message = (
            constants.REASON_API_SERVICE_EXPORT_NOT_FOUND,
            f"APIServiceExport {name} not found on the provider",
        )
        try:
            req = await p.client.get(kinds.API_SERVICE_EXPORT_REQUESTS, name, namespace=p.namespace)
            if (req.get("status") or {}).get("phase") == "Failed":
                reason = constants.REASON_API_SERVICE_EXPORT_FAILED
                message = str((req.get("status") or {}).get("terminalMessage") or "export request failed")
        except errors.ApiError:
            pass
        errs.append((constants.CONDITION_CONNECTED, reason, message))
        await p.stop_syncers(name)
    else:
        espec = export.get("spec") or {}
        isolation_mode = str(espec.get("isolation") or isolation.NONE)
        informer_scope = str(espec.get("informerScope") or "Namespaced")
        for res in espec.get("resources") or []:
            bs_name = bound_schema_name(res)
            bs = p.bound_schemas.get(ObjectKey(p.namespace, bs_name))
            if bs is None:
                errs.append(
                    (
                        constants.CONDITION_CONNECTED,
                        constants.REASON_BOUND_SCHEMA_FETCH_FAILED,
                        f"BoundSchema {bs_name} not found",
                    )
                )
                continue
            entry = {"group": str(res.get("group") or ""), "resource": str(res.get("resource"))}
            if entry not in bound:
                bound.append(entry)
            current = await _install_crd(p, binding, bs, errs)
            if current is None:
                continue
            crd_conditions[bs_name] = current
            await _mirror_bound_schema_status(p, bs, current)
            crd_name = str(current["metadata"]["name"])
            if not crd.established(current):
                pending.append(
                    (
                        constants.REASON_CRD_NOT_ESTABLISHED,
                        f"waiting for CustomResourceDefinition {crd_name} to be established",
                    )
                )
                continue
            running = await _ensure_syncer(p, binding, export, bs, isolation_mode, informer_scope)
            wanted_syncers.add(_syncer_name(name, bs_name))
            if running is not None and not running.syncer.synced():
                pending.append(
                    (
                        constants.REASON_INFORMERS_SYNCING,
                        f"waiting for the informers of {crd_name} to list consumer and provider objects",
                    )
                )
        claims = espec.get("permissionClaims") or []
        for claim in claims:
            if (str(claim.get("group") or ""), str(claim.get("resource"))) not in constants.CLAIMABLE_APIS:
                continue
            claim_name = await _ensure_claim_syncer(p, binding, export, claim)
            wanted_syncers.add(claim_name)
        await p.stop_syncers(name, keep=wanted_syncers)

    await _write_binding_status(p, name, export, errs, bound, pending)
    if export is not None:
        await _write_export_status(p, export, errs)
    for cond, reason, message in errs:
        await p.events.warning(binding, reason, message)
        log.info(
            "binding not ready binding=%s condition=%s reason=%s message=%s", name, cond, reason, message
        )
    if errs:
        raise Requeue(5.0, "binding has errors")
    if pending:
        raise Requeue(0.5, pending[0][1])


def _syncer_name(binding: str, bs_name: str) -> str:
    return f"{binding}.{bs_name}"


async def _ensure_finalizer(p: Provider, binding: Object) -> None:
    meta = binding.get("metadata") or {}
    finalizers = list(meta.get("finalizers") or [])
    if constants.FINALIZER_SYNCER in finalizers:
        return
    await p.consumer.patch(
        kinds.API_SERVICE_BINDINGS,
        str(meta["name"]),
        {
            "metadata": {
                "finalizers": [*finalizers, constants.FINALIZER_SYNCER],
                "resourceVersion": meta.get("resourceVersion"),
            }
        },
    )


async def _install_crd(
    p: Provider, binding: Object, bs: Object, errs: list[tuple[str, str, str]]
) -> Object | None:
    desired = crd.bound_schema_to_crd(bs, binding)
    name = desired["metadata"]["name"]
    try:
        current = await p.consumer.get(CUSTOM_RESOURCE_DEFINITIONS, name)
    except errors.ApiError as exc:
        if not errors.is_not_found(exc):
            raise
        try:
            created = await p.consumer.create(CUSTOM_RESOURCE_DEFINITIONS, desired)
            log.info("installed CRD name=%s binding=%s", name, binding["metadata"]["name"])
            return created
        except errors.ApiError as cexc:
            if errors.is_invalid(cexc) or cexc.code == 400:
                errs.append(
                    (
                        constants.CONDITION_CONNECTED,
                        constants.REASON_CRD_CREATE_FAILED,
                        f"CRD {name}: {cexc.message}",
                    )
                )
                return None
            raise
    if not crd.is_owned_by(current, binding):
        errs.append(
            (
                constants.CONDITION_CONNECTED,
                constants.REASON_FOREIGN_CRD,
                f"CustomResourceDefinition {name} exists and is not owned by this APIServiceBinding",
            )
        )
        return None
    if _spec_differs(current.get("spec") or {}, desired["spec"]):
        body = copy.deepcopy(current)
        body["spec"] = desired["spec"]
        try:
            current = await p.consumer.update(CUSTOM_RESOURCE_DEFINITIONS, body)
            log.info("updated CRD name=%s", name)
        except errors.ApiError as exc:
            if errors.is_conflict(exc):
                raise
            errs.append(
                (
                    constants.CONDITION_SCHEMA_IN_SYNC,
                    constants.REASON_CRD_UPDATE_FAILED,
                    f"CRD {name}: {exc.message}",
                )
            )
    return current


def _spec_differs(current: dict[str, Any], desired: dict[str, Any]) -> bool:
    """Compare only what we set (the server adds defaults such as conversion/strategy)."""
    for key in ("group", "scope"):
        if current.get(key) != desired.get(key):
            return True
    cur_names = current.get("names") or {}
    for k, v in (desired.get("names") or {}).items():
        if cur_names.get(k) != v:
            return True
    cur_versions = {v.get("name"): v for v in current.get("versions") or []}
    if set(cur_versions) != {v.get("name") for v in desired.get("versions") or []}:
        return True
    for ver in desired.get("versions") or []:
        cur = cur_versions[ver.get("name")]
        for k, v in ver.items():
            if cur.get(k) != v:
                return True
    return False


async def _mirror_bound_schema_status(p: Provider, bs: Object, current_crd: Object) -> None:
    crd_status = current_crd.get("status") or {}
    status: dict[str, Any] = copy.deepcopy(bs.get("status") or {})
    conds: list[dict[str, Any]] = list(status.get("conditions") or [])
    for c in crd_status.get("conditions") or []:
        if c.get("type") == constants.CONDITION_READY:
            continue
        if c.get("status") == constants.STATUS_TRUE:
            new = conditions.true_condition(str(c["type"]))
        else:
            new = conditions.false_condition(
                str(c["type"]),
                str(c.get("reason") or ""),
                constants.SEVERITY_ERROR,
                str(c.get("message") or ""),
            )
        conds = conditions.set_in_list(conds, new)
    holder: dict[str, Any] = {"status": {"conditions": conds}}
    conditions.set_summary(holder)
    status["conditions"] = holder["status"]["conditions"]
    if (crd_status.get("acceptedNames") or {}).get("kind"):
        status["acceptedNames"] = crd_status["acceptedNames"]
    if crd_status.get("storedVersions"):
        status["storedVersions"] = crd_status["storedVersions"]
    if status == (bs.get("status") or {}):
        return
    body = copy.deepcopy(bs)
    body["status"] = status
    try:
        await p.client.update_status(kinds.BOUND_SCHEMAS, body, namespace=p.namespace)
    except errors.ApiError as exc:
        if not (errors.is_conflict(exc) or errors.is_not_found(exc)):
            log.info("cannot update BoundSchema status name=%s error=%s", bs["metadata"]["name"], exc.message)


async def _ensure_syncer(
    p: Provider, binding: Object, export: Object, bs: Object, isolation_mode: str, informer_scope: str
) -> SyncerEntry | None:
    """The running syncer of one BoundSchema, (re)started when its inputs changed; None if the
    schema names no resource to sync."""
    bname = str(binding["metadata"]["name"])
    bs_name = str(bs["metadata"]["name"])
    name = _syncer_name(bname, bs_name)
    refs = crd.sync_refs(bs, isolation_mode)
    if refs is None:
        return None
    consumer_ref, provider_ref, has_status = refs
    emeta = export.get("metadata") or {}
    fingerprint: tuple[object, ...] = (
        emeta.get("uid"),
        emeta.get("generation"),
        consumer_ref,
        provider_ref,
        has_status,
        isolation_mode,
        informer_scope,
        (binding.get("metadata") or {}).get("uid"),
    )
    async with p._syncer_lock:
        entry = p.syncers.get(name)
        if entry is not None and entry.fingerprint == fingerprint:
            return entry
        if entry is not None:
            p.syncers.pop(name)
            await entry.syncer.stop()
        strategy = isolation.Strategy(
            cluster_namespace=p.namespace,
            cluster_namespace_uid=await p.cluster_namespace_uid(),
            consumer_namespaced=consumer_ref.namespaced,
            isolation=isolation_mode,
            namespaces=p.namespace_lookup,
        )

        async def ensure_ns(ns: str) -> None:
            await p.ensure_service_namespace(ns, export)

        syncer = ResourceSyncer(
            name=f"{p.key}:{name}",
            consumer=p.consumer,
            provider=p.client,
            consumer_ref=consumer_ref,
            provider_ref=provider_ref,
            strategy=strategy,
            informer_scope=informer_scope,
            export_name=str(emeta.get("name")),
            export_uid=str(emeta.get("uid")),
            ensure_service_namespace=ensure_ns,
            has_status_subresource=has_status,
            metrics=p.metrics,
            resync=p.options.resync_period,
            workers=p.options.sync_workers,
            events=p.events,
        )
        from konnector.provider import SyncerEntry

        entry = p.syncers[name] = SyncerEntry(fingerprint, syncer, binding=bname)
        await syncer.start()
        return entry


async def _ensure_claim_syncer(p: Provider, binding: Object, export: Object, claim: dict[str, Any]) -> str:
    bname = str(binding["metadata"]["name"])
    name = f"{bname}.claim.{claim.get('resource')}.{claim.get('group') or constants.CORE_GROUP_NAME}"
    emeta = export.get("metadata") or {}
    fingerprint: tuple[object, ...] = (emeta.get("uid"), emeta.get("generation"), repr(claim))
    async with p._syncer_lock:
        entry = p.syncers.get(name)
        if entry is not None and entry.fingerprint == fingerprint and isinstance(entry.syncer, ClaimSyncer):
            _attach_references(p, bname, entry.syncer)
            return name
        if entry is not None:
            p.syncers.pop(name)
            await entry.syncer.stop()

        async def ensure_ns(ns: str) -> None:
            await p.ensure_service_namespace(ns, export)

        def references(group: str, resource: str) -> list[Object] | None:
            for entry in p.syncers.values():
                target = entry.syncer
                if entry.binding != bname or not isinstance(target, ResourceSyncer):
                    continue
                ref = target.ctx.consumer_ref
                if (ref.group, ref.resource) == (group, resource):
                    return target.consumer_objects()
            return None

        syncer = ClaimSyncer(
            name=f"{p.key}:{name}",
            consumer=p.consumer,
            provider=p.client,
            claim=claim,
            cluster_namespace=p.namespace,
            namespaces=p.namespace_lookup,
            informer_scope=str((export.get("spec") or {}).get("informerScope") or "Namespaced"),
            ensure_service_namespace=ensure_ns,
            metrics=p.metrics,
            resync=p.options.resync_period,
            references=references,
        )
        _attach_references(p, bname, syncer)
        from konnector.provider import SyncerEntry

        p.syncers[name] = SyncerEntry(fingerprint, syncer, binding=bname)
        await syncer.start()
    return name


def _attach_references(p: Provider, binding: str, claim_syncer: ClaimSyncer) -> None:
    """Re-check claims when objects of the binding's resources change (their references may move)."""
    for entry in p.syncers.values():
        target = entry.syncer
        if (
            entry.binding == binding
            and isinstance(target, ResourceSyncer)
            and target.name not in claim_syncer.attached
        ):
            claim_syncer.attached.add(target.name)
            target.consumer_informer.add_handler(claim_syncer.on_reference_change, replay=True)


async def _write_binding_status(
    p: Provider,
    name: str,
    export: Object | None,
    errs: list[tuple[str, str, str]],
    bound: list[dict[str, str]],
    pending: Sequence[tuple[str, str]] = (),
) -> None:
    cb = p.cluster_bindings.get(ObjectKey(p.namespace, constants.CLUSTER_BINDING_NAME))
    pretty = str(((cb or {}).get("spec") or {}).get("providerPrettyName") or "")

    def mutate(obj: Object) -> None:
        status = obj["status"]
        failed = {c for c, _, _ in errs}
        for cond, reason, message in errs:
            conditions.mark_false(obj, cond, reason, constants.SEVERITY_ERROR, message)
        if constants.CONDITION_CONNECTED not in failed:
            conditions.mark_true(obj, constants.CONDITION_CONNECTED)
        if constants.CONDITION_SCHEMA_IN_SYNC not in failed:
            # Another condition failed (Warning), or the CRDs are not usable yet (Info), or in sync.
            not_in_sync = (
                (errs[0][1], constants.SEVERITY_WARNING, errs[0][2])
                if errs
                else (pending[0][0], constants.SEVERITY_INFO, pending[0][1])
                if pending
                else None
            )
            if not_in_sync is None:
                conditions.mark_true(obj, constants.CONDITION_SCHEMA_IN_SYNC)
            else:
                conditions.mark_false(obj, constants.CONDITION_SCHEMA_IN_SYNC, *not_in_sync)
        if export is not None:
            status["boundSchemas"] = bound
            claims = (export.get("spec") or {}).get("permissionClaims")
            if claims:
                status["permissionClaims"] = claims
            else:
                status.pop("permissionClaims", None)
        if pretty:
            status["providerPrettyName"] = pretty

    await committer.update_status(p.consumer, kinds.API_SERVICE_BINDINGS, name, mutate)


async def _write_export_status(p: Provider, export: Object, errs: list[tuple[str, str, str]]) -> None:
    conds = list((export.get("status") or {}).get("conditions") or [])
    if errs:
        conds = conditions.set_in_list(
            conds,
            conditions.false_condition(
                constants.CONDITION_CONNECTED,
                constants.REASON_BOUND_SCHEMAS_NOT_VALID,
                constants.SEVERITY_ERROR,
                errs[0][2],
            ),
        )
        conds = conditions.set_in_list(
            conds,
            conditions.false_condition(
                constants.CONDITION_CONSUMER_IN_SYNC, errs[0][1], constants.SEVERITY_WARNING, errs[0][2]
            ),
        )
    else:
        conds = conditions.set_in_list(conds, conditions.true_condition(constants.CONDITION_CONNECTED))
        conds = conditions.set_in_list(conds, conditions.true_condition(constants.CONDITION_CONSUMER_IN_SYNC))
    holder: Object = {"status": {"conditions": conds}}
    conditions.set_summary(holder)
    conds = holder["status"]["conditions"]
    if conds == (export.get("status") or {}).get("conditions"):
        return
    try:
        await p.client.patch(
            kinds.API_SERVICE_EXPORTS,
            str(export["metadata"]["name"]),
            {"status": {"conditions": conds}},
            namespace=p.namespace,
            subresource="status",
            patch_type=PatchType.MERGE,
        )
    except errors.ApiError as exc:
        if not errors.is_not_found(exc):
            log.info(
                "cannot update export status export=%s error=%s", export["metadata"]["name"], exc.message
            )


async def _unbind(p: Provider, binding: Object) -> None:
    """Clean unbind: delete instances through the syncers, then CRDs, then drop the finalizer."""
    meta = binding.get("metadata") or {}
    name = str(meta["name"])
    if constants.FINALIZER_SYNCER not in (meta.get("finalizers") or []):
        await p.stop_syncers(name)
        return
    remaining = 0
    owned_crds: list[str] = []
    for entry in [e for e in p.syncers.values() if e.binding == name]:
        if not isinstance(entry.syncer, ResourceSyncer):
            continue
        syncer = entry.syncer
        objs = syncer.consumer_objects()
        remaining += len(objs)
        for obj in objs:
            ometa = obj.get("metadata") or {}
            if ometa.get("deletionTimestamp"):
                continue
            try:
                await p.consumer.delete(
                    syncer.ctx.consumer_ref, str(ometa["name"]), namespace=ometa.get("namespace")
                )
            except errors.ApiError as exc:
                if not errors.is_not_found(exc):
                    raise
    if remaining:
        raise Requeue(0.5, f"unbind {name}: waiting for {remaining} instances to be deleted")
    await p.stop_syncers(name)
    for status_ref in (binding.get("status") or {}).get("boundSchemas") or []:
        bs = p.bound_schemas.get(ObjectKey(p.namespace, bound_schema_name(status_ref)))
        if bs is not None:
            names = (bs.get("spec") or {}).get("names") or {}
            owned_crds.append(f"{names.get('plural')}.{(bs.get('spec') or {}).get('group')}")
    for crd_name in owned_crds:
        try:
            current = await p.consumer.get(CUSTOM_RESOURCE_DEFINITIONS, crd_name)
        except errors.ApiError as exc:
            if errors.is_not_found(exc):
                continue
            raise
        if crd.is_owned_by(current, binding):
            await _release_leftover_instances(p, current)
            try:
                await p.consumer.delete(CUSTOM_RESOURCE_DEFINITIONS, crd_name)
            except errors.ApiError as exc:
                if not errors.is_not_found(exc):
                    raise
    finalizers = [f for f in meta.get("finalizers") or [] if f != constants.FINALIZER_SYNCER]
    await p.consumer.patch(
        kinds.API_SERVICE_BINDINGS,
        name,
        {"metadata": {"finalizers": finalizers or None, "resourceVersion": meta.get("resourceVersion")}},
    )
    log.info("unbound binding=%s", name)


async def _release_leftover_instances(p: Provider, current_crd: Object) -> None:
    """Instances created while no syncer ran still carry our finalizer: release them."""
    spec = current_crd.get("spec") or {}
    served = [v for v in spec.get("versions") or [] if v.get("served")]
    if not served:
        return
    ref = ResourceRef(
        str(spec.get("group")),
        str(served[0].get("name")),
        str((spec.get("names") or {}).get("plural")),
        spec.get("scope") == "Namespaced",
        str((spec.get("names") or {}).get("kind")),
    )
    items, _ = await p.consumer.list_all(ref)
    for obj in items:
        meta = obj.get("metadata") or {}
        if constants.FINALIZER_SYNCER in (meta.get("finalizers") or []):
            finalizers = [f for f in meta["finalizers"] if f != constants.FINALIZER_SYNCER]
            try:
                await p.consumer.patch(
                    ref,
                    str(meta["name"]),
                    {"metadata": {"finalizers": finalizers or None}},
                    namespace=meta.get("namespace") or None,
                )
            except errors.ApiError as exc:
                if not errors.is_not_found(exc):
                    raise
