"""APIServiceBindingBundle controller: one APIServiceBinding per APIServiceExport (reference §6.2 (3)).

Validates the bundle's kubeconfig Secret (``SecretValid``), lists the APIServiceExports in the
provider namespace with that credential, creates a binding named like each export (same Secret
reference, controller ownerRef → bundle) and deletes the bundle's bindings whose export is gone.
``Synced`` reports the outcome. Bundles are re-checked every ``--provider-polling-interval``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from konnector import committer, kinds
from konnector.controllers.binding import KubeconfigError, parse_secret_kubeconfig, secret_ref
from kubebind.apis import conditions, constants
from kubebind.kube import errors
from kubebind.kube.client import ApiClient
from kubebind.kube.resources import Object, ObjectKey

if TYPE_CHECKING:
    from konnector.konnector import Konnector

__all__ = ["reconcile"]

log = logging.getLogger(__name__)


async def reconcile(k: Konnector, name: str) -> None:
    bundle = k.bundles.get(ObjectKey("", name))
    if bundle is None or (bundle.get("metadata") or {}).get("deletionTimestamp"):
        return
    try:
        await _sync(k, bundle)
    finally:
        k.bundle_controller.enqueue_after(name, k.options.provider_polling_interval)


async def _sync(k: Konnector, bundle: Object) -> None:
    name = str(bundle["metadata"]["name"])
    ref = secret_ref(bundle)
    problems: list[tuple[str, str, str]] = []
    exports: list[Object] = []
    if ref is None:
        problems.append(
            (
                constants.CONDITION_SECRET_VALID,
                constants.REASON_KUBECONFIG_SECRET_INVALID,
                "spec.kubeconfigSecretRef is incomplete",
            )
        )
    else:
        ns, sname, key = ref
        try:
            parsed = parse_secret_kubeconfig(k.secrets.get(ObjectKey(ns, sname)), ns, sname, key)
        except KubeconfigError as exc:
            problems.append((constants.CONDITION_SECRET_VALID, exc.reason, exc.message))
        else:
            try:
                async with ApiClient(
                    parsed.config, qps=5, burst=10, user_agent="kube-bind-konnector"
                ) as client:
                    listing = await client.list(kinds.API_SERVICE_EXPORTS, namespace=parsed.namespace)
                exports = list(listing.get("items") or [])
            except errors.ApiError as exc:
                problems.append(
                    (constants.CONDITION_SYNCED, constants.REASON_LIST_EXPORTS_FAILED, exc.message)
                )
            except Exception as exc:
                problems.append(
                    (constants.CONDITION_SYNCED, constants.REASON_PROVIDER_CLIENT_ERROR, repr(exc))
                )
    sync_errors: list[str] = []
    if ref is not None and not problems:
        wanted = {str(e["metadata"]["name"]) for e in exports}
        bmeta = bundle["metadata"]
        owner = {
            "apiVersion": constants.API_VERSION,
            "kind": "APIServiceBindingBundle",
            "name": bmeta["name"],
            "uid": bmeta["uid"],
            "controller": True,
        }
        for export_name in sorted(wanted):
            existing = k.bindings.get(ObjectKey("", export_name))
            if existing is not None:
                continue
            body: Object = {
                "metadata": {"name": export_name, "ownerReferences": [owner]},
                "spec": {"kubeconfigSecretRef": {"namespace": ref[0], "name": ref[1], "key": ref[2]}},
            }
            try:
                await k.consumer.create(kinds.API_SERVICE_BINDINGS, body)
                log.info("bundle created binding bundle=%s binding=%s", name, export_name)
            except errors.ApiError as exc:
                if not errors.is_already_exists(exc):
                    sync_errors.append(f"create {export_name}: {exc.message}")
        for binding in k.bindings.list():
            bm = binding.get("metadata") or {}
            owned = any(r.get("uid") == bundle["metadata"]["uid"] for r in bm.get("ownerReferences") or [])
            if owned and bm.get("name") not in wanted and not bm.get("deletionTimestamp"):
                try:
                    await k.consumer.delete(kinds.API_SERVICE_BINDINGS, str(bm["name"]))
                    log.info(
                        "bundle deleted binding of vanished export bundle=%s binding=%s", name, bm["name"]
                    )
                except errors.ApiError as exc:
                    if not errors.is_not_found(exc):
                        sync_errors.append(f"delete {bm['name']}: {exc.message}")
        if sync_errors:
            problems.append(
                (constants.CONDITION_SYNCED, constants.REASON_SYNC_ERRORS, "; ".join(sync_errors))
            )

    def mutate(obj: Object) -> None:
        failed = {c for c, _, _ in problems}
        for cond, reason, message in problems:
            conditions.mark_false(obj, cond, reason, constants.SEVERITY_ERROR, message)
        if constants.CONDITION_SECRET_VALID not in failed:
            conditions.mark_true(obj, constants.CONDITION_SECRET_VALID)
        if constants.CONDITION_SYNCED not in failed:
            if problems:
                conditions.mark_false(
                    obj,
                    constants.CONDITION_SYNCED,
                    problems[0][1],
                    constants.SEVERITY_WARNING,
                    problems[0][2],
                )
            else:
                conditions.mark_true(obj, constants.CONDITION_SYNCED)

    await committer.update_status(k.consumer, kinds.API_SERVICE_BINDING_BUNDLES, name, mutate)
    for _, reason, message in problems:
        await k.events.warning(bundle, reason, message)
