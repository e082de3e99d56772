"""APIServiceExportRequest → BoundSchemas + APIServiceExport (reference §5.5, with its oddities fixed).

For a ``Pending`` request in a consumer's cluster namespace:

1. **validate** against the provider CRDs labelled ``kube-bind.io/exported=true``: every resource
   must be exported (``SchemaNotFound``), requested versions must exist (``SchemaNotFound``), no
   resource twice (``DuplicateResource``), all of one scope (``DifferentScopes``); claims must be
   claimable (``InvalidPermissionClaim``) and unique (``DuplicatePermissionClaim``). Any violation
   is terminal: ``phase=Failed`` with ``terminalMessage`` and ``ExportsReady=False``.
2. create the **APIServiceExport** named like the request (informer scope and isolation from the
   backend settings, ``kube-bind.io/source-spec-hash`` of its schemas);
3. create one **BoundSchema** ``<plural>.<group>`` per resource (``{"openAPIV3Schema": …}`` form,
   requested versions only, controller owner = the export);
4. create pre-seeded **APIServiceNamespaces** (``kube-bind.io/owner=provider``), grant exported
   resources in the cluster namespace (Namespaced isolation) or cluster-wide for cluster-scoped
   CRDs (a ClusterRole bound to this consumer only);
5. ``phase=Succeeded`` — also when the export already existed (the Go backend then never moves the
   phase) and regardless of the request's age.

``schemaUpdatePolicy: Always`` re-derives BoundSchemas whenever an exported CRD changes (CRD
events re-queue every request) and on the schema sync interval.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any, Final

from app.controllers.status import patch_status
from app.credentials import naming as cred_naming
from app.credentials import rbac, refs
from app.handshake.settings import ServiceSettings
from kubebind.apis import boundschema, conditions, constants, naming
from kubebind.apis.v1alpha2 import to_dict
from kubebind.cache import SharedInformer, SharedInformerFactory
from kubebind.kube import ApiClient, errors
from kubebind.kube.resources import Object, ObjectKey
from kubebind.runtime import Controller

__all__ = ["REASON_DUPLICATE_RESOURCE", "ExportRequestReconciler", "ValidationFailure", "validate"]

log = logging.getLogger(__name__)

#: Not in the Go reference (which silently dedups); our reason for a resource listed twice.
REASON_DUPLICATE_RESOURCE: Final = "DuplicateResource"


class ValidationFailure(Exception):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def _crd_index(crds: Iterable[Object]) -> dict[tuple[str, str], Object]:
    out: dict[tuple[str, str], Object] = {}
    for crd in crds:
        spec = crd.get("spec") or {}
        out[(str(spec.get("group") or ""), str((spec.get("names") or {}).get("plural") or ""))] = crd
    return out


def validate(spec: dict[str, Any], crds: dict[tuple[str, str], Object]) -> list[Object]:
    """The exported CRDs for ``spec.resources`` in order, or raise :class:`ValidationFailure`."""
    resources = spec.get("resources") or []
    if not resources:
        raise ValidationFailure(constants.REASON_SCHEMA_NOT_FOUND, "the request names no resources")
    if not crds:
        raise ValidationFailure(constants.REASON_SCHEMA_NOT_FOUND, "the provider exports no schemas")
    seen: set[tuple[str, str]] = set()
    found: list[Object] = []
    for res in resources:
        key = (str(res.get("group") or ""), str(res.get("resource") or ""))
        label = naming.resource_group_name(key[1], key[0])
        if key in seen:
            raise ValidationFailure(REASON_DUPLICATE_RESOURCE, f"resource {label} is requested twice")
        seen.add(key)
        crd = crds.get(key)
        if crd is None:
            raise ValidationFailure(
                constants.REASON_SCHEMA_NOT_FOUND,
                f"resource {label} is not exported by the provider "
                f"(no CRD labelled {constants.LABEL_EXPORTED})",
            )
        available = {v.get("name") for v in (crd.get("spec") or {}).get("versions") or [] if v.get("served")}
        missing = [v for v in res.get("versions") or [] if v not in available]
        if missing:
            raise ValidationFailure(
                constants.REASON_SCHEMA_NOT_FOUND,
                f"resource {label} has no served version(s) {', '.join(missing)}",
            )
        found.append(crd)
    scopes = {str((c.get("spec") or {}).get("scope")) for c in found}
    if len(scopes) > 1:
        raise ValidationFailure(
            constants.REASON_DIFFERENT_SCOPES, "all resources of one request must have the same scope"
        )
    claims_seen: set[tuple[str, str]] = set()
    for claim in spec.get("permissionClaims") or []:
        pair = (str(claim.get("group") or ""), str(claim.get("resource") or ""))
        label = naming.resource_group_name(pair[1], pair[0])
        if pair not in constants.CLAIMABLE_APIS:
            raise ValidationFailure(
                constants.REASON_INVALID_PERMISSION_CLAIM,
                f"permission claim {label} is not claimable (only configmaps, secrets, serviceaccounts)",
            )
        if pair in claims_seen:
            raise ValidationFailure(
                constants.REASON_DUPLICATE_PERMISSION_CLAIM, f"permission claim {label} is duplicated"
            )
        claims_seen.add(pair)
    return found


def _only_versions(crd: Object, versions: list[str]) -> Object:
    if not versions:
        return crd
    out = dict(crd)
    spec = dict(out.get("spec") or {})
    spec["versions"] = [v for v in spec.get("versions") or [] if v.get("name") in versions]
    out["spec"] = spec
    return out


def _controller_owner(obj: Object) -> dict[str, Any]:
    return {
        "apiVersion": constants.API_VERSION,
        "kind": obj.get("kind") or "APIServiceExport",
        "name": obj["metadata"]["name"],
        "uid": obj["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


class ExportRequestReconciler:
    def __init__(self, client: ApiClient, settings: ServiceSettings) -> None:
        self.client = client
        self.settings = settings
        self._crds: SharedInformer | None = None

    def setup(self, factory: SharedInformerFactory, controller: Controller) -> None:
        """Reconcile on request events, and every request on exported-CRD events (schema sync)."""
        requests = factory.informer_for(refs.EXPORT_REQUESTS)
        controller.watch(requests)
        crds = factory.informer_for(refs.CRDS, label_selector=f"{constants.LABEL_EXPORTED}=true")
        self._crds = crds
        controller.watch(crds, key_func=lambda _crd: requests.store.list_keys())

    async def _exported_crds(self, *, live: bool = False) -> dict[tuple[str, str], Object]:
        """Exported CRDs from the informer cache (a CRD list is the slowest call on the path:
        ~50 ms), or from the API server when ``live`` or without a synced cache."""
        if not live and self._crds is not None and self._crds.has_synced():
            return _crd_index(self._crds.store.list())
        items, _ = await self.client.list_all(refs.CRDS, label_selector=f"{constants.LABEL_EXPORTED}=true")
        return _crd_index(items)

    async def reconcile(self, key: ObjectKey) -> float | None:
        try:
            req = await self.client.get(refs.EXPORT_REQUESTS, key.name, namespace=key.namespace)
        except errors.NotFoundError:
            return None
        if (req.get("metadata") or {}).get("deletionTimestamp"):
            return None
        spec = req.get("spec") or {}
        phase = (req.get("status") or {}).get("phase") or "Pending"
        if phase == "Failed":
            return None
        always = spec.get("schemaUpdatePolicy") == "Always"
        crds = await self._exported_crds()
        try:
            try:
                found = validate(spec, crds)
            except ValidationFailure as exc:
                if exc.reason != constants.REASON_SCHEMA_NOT_FOUND:
                    raise
                # Failing is terminal: confirm against the API server, not a possibly stale cache.
                crds = await self._exported_crds(live=True)
                found = validate(spec, crds)
        except ValidationFailure as exc:
            if phase == "Succeeded":
                log.warning("exported schema vanished request=%s reason=%s", key, exc.message)
                return self.settings.schema_sync_seconds if always else None
            await self._fail(req, exc)
            return None
        export = await self._ensure_export(req, spec, found)
        await self._ensure_bound_schemas(req, spec, found, export, update=always or phase == "Pending")
        await self._ensure_namespaces(req, spec, export)
        await self._ensure_export_rbac(key.namespace, export, found)
        status = dict(req.get("status") or {})
        conditions.mark_true(status_obj := {"status": status}, constants.CONDITION_EXPORTS_READY)
        conditions.set_summary(status_obj)
        await patch_status(
            self.client,
            refs.EXPORT_REQUESTS,
            req,
            {"phase": "Succeeded", "conditions": status_obj["status"]["conditions"]},
        )
        if phase == "Pending":
            log.info("export request succeeded request=%s resources=%d", key, len(found))
        return self.settings.schema_sync_seconds if always else None

    async def _fail(self, req: Object, exc: ValidationFailure) -> None:
        status_obj: dict[str, Any] = {"status": dict(req.get("status") or {})}
        conditions.mark_false(
            status_obj, constants.CONDITION_EXPORTS_READY, exc.reason, constants.SEVERITY_ERROR, exc.message
        )
        conditions.set_summary(status_obj)
        await patch_status(
            self.client,
            refs.EXPORT_REQUESTS,
            req,
            {
                "phase": "Failed",
                "terminalMessage": exc.message,
                "conditions": status_obj["status"]["conditions"],
            },
        )
        log.info(
            "export request failed request=%s/%s reason=%s",
            req["metadata"]["namespace"],
            req["metadata"]["name"],
            exc.reason,
        )

    def _schemas(self, ns: str, spec: dict[str, Any], found: list[Object]) -> list[Any]:
        out = []
        for res, crd in zip(spec.get("resources") or [], found, strict=True):
            out.append(
                boundschema.crd_to_bound_schema(
                    _only_versions(crd, list(res.get("versions") or [])),
                    namespace=ns,
                    informer_scope=self.settings.consumer_scope,
                    isolation=self.settings.isolation,
                )
            )
        return out

    async def _ensure_export(self, req: Object, spec: dict[str, Any], found: list[Object]) -> Object:
        ns, name = req["metadata"]["namespace"], req["metadata"]["name"]
        try:
            return await self.client.get(refs.EXPORTS, name, namespace=ns)
        except errors.NotFoundError:
            pass
        schemas = self._schemas(ns, spec, found)
        body: dict[str, Any] = {
            "apiVersion": constants.API_VERSION,
            "kind": "APIServiceExport",
            "metadata": {
                "name": name,
                "namespace": ns,
                "annotations": {
                    constants.ANNOTATION_SOURCE_SPEC_HASH: boundschema.spec_hash(*(s.spec for s in schemas))
                },
            },
            "spec": {
                "resources": [
                    {
                        "group": r.get("group") or "",
                        "resource": r["resource"],
                        "versions": list(r.get("versions") or []),
                    }
                    for r in spec.get("resources") or []
                ],
                "permissionClaims": list(spec.get("permissionClaims") or []),
                "informerScope": self.settings.consumer_scope,
                "isolation": self.settings.isolation,
            },
        }
        try:
            return await self.client.create(refs.EXPORTS, body)
        except errors.AlreadyExistsError:
            return await self.client.get(refs.EXPORTS, name, namespace=ns)

    async def _ensure_bound_schemas(
        self, req: Object, spec: dict[str, Any], found: list[Object], export: Object, *, update: bool
    ) -> None:
        ns = req["metadata"]["namespace"]
        owner = _controller_owner({**export, "kind": "APIServiceExport"})
        for schema in self._schemas(ns, spec, found):
            body = to_dict(schema)
            body.update(apiVersion=constants.API_VERSION, kind="BoundSchema")
            body["metadata"]["ownerReferences"] = [owner]
            name = body["metadata"]["name"]
            try:
                existing = await self.client.get(refs.BOUND_SCHEMAS, name, namespace=ns)
            except errors.NotFoundError:
                try:
                    await self.client.create(refs.BOUND_SCHEMAS, body)
                except errors.AlreadyExistsError:
                    pass
                continue
            want_hash = body["metadata"]["annotations"][constants.ANNOTATION_SOURCE_SPEC_HASH]
            have_hash = ((existing.get("metadata") or {}).get("annotations") or {}).get(
                constants.ANNOTATION_SOURCE_SPEC_HASH
            )
            owners = (existing.get("metadata") or {}).get("ownerReferences") or []
            patch: dict[str, Any] = {}
            if not any(o.get("uid") == owner["uid"] for o in owners):
                patch.setdefault("metadata", {})["ownerReferences"] = [owner]
            if update and want_hash != have_hash:
                patch.setdefault("metadata", {})["annotations"] = {
                    constants.ANNOTATION_SOURCE_SPEC_HASH: want_hash
                }
                patch["spec"] = body["spec"]
            if patch:
                await self.client.patch(refs.BOUND_SCHEMAS, name, patch, namespace=ns)

    async def _ensure_namespaces(self, req: Object, spec: dict[str, Any], export: Object) -> None:
        ns = req["metadata"]["namespace"]
        owner = _controller_owner({**export, "kind": "APIServiceExport"})
        for entry in spec.get("namespaces") or []:
            body = {
                "apiVersion": constants.API_VERSION,
                "kind": "APIServiceNamespace",
                "metadata": {
                    "name": entry["name"],
                    "namespace": ns,
                    "labels": {constants.LABEL_OWNER: constants.OWNER_PROVIDER},
                    "ownerReferences": [owner],
                },
                "spec": {},
            }
            try:
                await self.client.create(refs.SERVICE_NAMESPACES, body)
            except errors.AlreadyExistsError:
                pass

    async def _ensure_export_rbac(self, ns: str, export: Object, found: list[Object]) -> None:
        """Grants that do not hang off an APIServiceNamespace: cluster ns (Namespaced isolation)
        and cluster-scoped CRDs. Each binding names only this consumer's ServiceAccount."""
        subject = [{"kind": "ServiceAccount", "name": cred_naming.BINDER_NAME, "namespace": ns}]
        cluster_scoped = [c for c in found if (c.get("spec") or {}).get("scope") == "Cluster"]
        labels = {
            cred_naming.LABEL_CLUSTER_NAMESPACE: ns,
            cred_naming.LABEL_MANAGED_BY: cred_naming.MANAGED_BY_VALUE,
        }
        if cluster_scoped:
            name = cred_naming.cluster_rbac_name(ns, export["metadata"]["name"])
            pairs = [(str(c["spec"]["group"]), str(c["spec"]["names"]["plural"])) for c in cluster_scoped]
            await _apply(
                self.client,
                refs.CLUSTER_ROLES,
                {"metadata": {"name": name, "labels": labels}, "rules": rbac.resource_rules(pairs)},
            )
            await _apply(
                self.client,
                refs.CLUSTER_ROLE_BINDINGS,
                {
                    "metadata": {"name": name, "labels": labels},
                    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
                    "subjects": subject,
                },
            )
        if self.settings.isolation == "Namespaced":
            exports, _ = await self.client.list_all(refs.EXPORTS, namespace=ns)
            await ensure_namespace_grant(self.client, ns, ns, exports)


async def _apply(client: ApiClient, ref: Any, body: dict[str, Any]) -> None:
    body = {"apiVersion": ref.api_version, "kind": ref.kind, **body}
    await client.apply(ref, body, field_manager="kube-bind-backend", force=True)


async def ensure_namespace_grant(
    client: ApiClient, cluster_ns: str, target_ns: str, exports: list[Object]
) -> None:
    """Role + RoleBinding ``kube-binder-exports`` in ``target_ns`` for the consumer of ``cluster_ns``."""
    await _apply(
        client,
        refs.ROLES,
        {
            "metadata": {"name": cred_naming.EXPORTS_ROLE_NAME, "namespace": target_ns},
            "rules": rbac.export_rules(exports),
        },
    )
    await _apply(
        client,
        refs.ROLE_BINDINGS,
        {
            "metadata": {"name": cred_naming.EXPORTS_ROLE_NAME, "namespace": target_ns},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "Role",
                "name": cred_naming.EXPORTS_ROLE_NAME,
            },
            "subjects": [
                {"kind": "ServiceAccount", "name": cred_naming.BINDER_NAME, "namespace": cluster_ns}
            ],
        },
    )
