"""APIServiceNamespace → provider Namespace + per-namespace RBAC (reference §5.6, §5.4, fixed).

For ``APIServiceNamespace <name>`` in cluster namespace ``<ns>`` the provider namespace is always
``<ns>-<name>`` (never the shared consumer name of the Go ``None`` isolation), annotated
``kube-bind.io/api-service-namespace: <ns>/<name>`` and labelled with its cluster namespace so
unbind finds it. Role + RoleBinding ``kube-binder-exports`` grant *this* consumer's
ServiceAccount the exported and claimed resources of all its exports — in that namespace only;
``status.namespace`` is set once the namespace and that grant exist (it means "ready to use").
Export changes re-queue every APIServiceNamespace of the same cluster namespace. Deleting the
APIServiceNamespace deletes the provider namespace (if it is still the one we made for it).
"""

from __future__ import annotations

import logging
from typing import Any

from app.controllers.exportrequest import ensure_namespace_grant
from app.credentials import naming as cred_naming
from app.credentials import refs
from app.credentials.mint import is_consumer_namespace
from app.handshake.settings import ServiceSettings
from kubebind.apis import constants, naming
from kubebind.cache import SharedInformerFactory
from kubebind.kube import ApiClient, errors
from kubebind.kube.resources import Object, ObjectKey
from kubebind.runtime import Controller

__all__ = ["ServiceNamespaceReconciler"]

log = logging.getLogger(__name__)


class ServiceNamespaceReconciler:
    def __init__(self, client: ApiClient, settings: ServiceSettings) -> None:
        self.client = client
        self.settings = settings

    def setup(self, factory: SharedInformerFactory, controller: Controller) -> None:
        """Reconcile on APIServiceNamespace events, and all of a namespace's on export events."""
        namespaces = factory.informer_for(refs.SERVICE_NAMESPACES)
        controller.watch(namespaces)

        def same_namespace(export: Object) -> list[ObjectKey]:
            ns = (export.get("metadata") or {}).get("namespace") or ""
            return [k for k in namespaces.store.list_keys() if k.namespace == ns]

        controller.watch(factory.informer_for(refs.EXPORTS), key_func=same_namespace)

    async def reconcile(self, key: ObjectKey) -> float | None:
        target = naming.provider_namespace_name(key.namespace, key.name)
        annotation = naming.api_service_namespace_annotation(key.namespace, key.name)
        try:
            sns = await self.client.get(refs.SERVICE_NAMESPACES, key.name, namespace=key.namespace)
        except errors.NotFoundError:
            await self._delete_namespace(target, annotation)
            return None
        if (sns.get("metadata") or {}).get("deletionTimestamp"):
            await self._delete_namespace(target, annotation)
            return None
        if not await is_consumer_namespace(self.client, key.namespace):
            log.warning("APIServiceNamespace outside a consumer namespace ignored key=%s", key)
            return None
        target = (sns.get("status") or {}).get("namespace") or target
        await self._ensure_namespace(target, annotation, key.namespace)
        # Grant before publishing: ``status.namespace`` tells the konnector the namespace is
        # ready to write into, so its RBAC must already be there (no window of 403s).
        exports, _ = await self.client.list_all(refs.EXPORTS, namespace=key.namespace)
        await ensure_namespace_grant(self.client, key.namespace, target, exports)
        if (sns.get("status") or {}).get("namespace") != target:
            await self.client.patch(
                refs.SERVICE_NAMESPACES,
                key.name,
                {"status": {"namespace": target}},
                namespace=key.namespace,
                subresource="status",
            )
        return None

    async def _ensure_namespace(self, name: str, annotation: str, cluster_ns: str) -> None:
        body: dict[str, Any] = {
            "metadata": {
                "name": name,
                "annotations": {constants.ANNOTATION_API_SERVICE_NAMESPACE: annotation},
                "labels": {
                    cred_naming.LABEL_CLUSTER_NAMESPACE: cluster_ns,
                    cred_naming.LABEL_MANAGED_BY: cred_naming.MANAGED_BY_VALUE,
                },
            }
        }
        try:
            await self.client.create(refs.NAMESPACES, body)
            return
        except errors.AlreadyExistsError:
            pass
        existing = await self.client.get(refs.NAMESPACES, name)
        have = ((existing.get("metadata") or {}).get("annotations") or {}).get(
            constants.ANNOTATION_API_SERVICE_NAMESPACE
        )
        if have != annotation:
            raise RuntimeError(f"namespace {name} exists and is not the provider namespace of {annotation}")

    async def _delete_namespace(self, name: str, annotation: str) -> None:
        try:
            existing = await self.client.get(refs.NAMESPACES, name)
        except errors.NotFoundError:
            return
        have = ((existing.get("metadata") or {}).get("annotations") or {}).get(
            constants.ANNOTATION_API_SERVICE_NAMESPACE
        )
        if have == annotation and not (existing.get("metadata") or {}).get("deletionTimestamp"):
            await self.client.delete(refs.NAMESPACES, name)
            log.info("deleted provider namespace namespace=%s for=%s", name, annotation)
