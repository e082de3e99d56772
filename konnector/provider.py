"""One connection to one provider (the reference's per-kubeconfig "cluster controller", §6.3).

Why one object per provider: all bindings whose kubeconfig points at the same provider server and
cluster namespace share one API client (one connection pool, one QPS budget), one set of informers
on the cluster namespace and one heartbeat. Credential rotation swaps the client's token in place
(:meth:`update_credentials`): open watches end and resume from their last resourceVersion, so no
informer re-lists and no sync progress is lost.

Sub-controllers (each in :mod:`konnector.controllers`): heartbeat on ``ClusterBinding cluster``,
the per-binding controller (CRDs from BoundSchemas, syncers, binding/export/BoundSchema status) and
namespace lifecycle. They run only while this replica is the leader (the owner starts us then).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from konnector import kinds
from konnector.engine.controller import Controller
from konnector.engine.informer import Informer
from konnector.events import EventRecorder
from konnector.metrics import Metrics
from konnector.options import Options
from konnector.sync.claims import ClaimSyncer
from konnector.sync.isolation import NamespaceLookup
from konnector.sync.resource import ResourceSyncer
from kubebind.apis import constants
from kubebind.kube import errors
from kubebind.kube.client import ApiClient
from kubebind.kube.kubeconfig import RestConfig
from kubebind.kube.resources import NAMESPACES, Object, ObjectKey, ResourceRef

if TYPE_CHECKING:
    from konnector.konnector import Konnector

__all__ = ["Provider", "ProviderKey", "SecretRef"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProviderKey:
    """Identity of a provider connection: API server and cluster namespace (not the token)."""

    server: str
    namespace: str

    def __str__(self) -> str:
        return f"{self.server}#{self.namespace}"


@dataclass(frozen=True)
class SecretRef:
    namespace: str
    name: str
    key: str


@dataclass
class SyncerEntry:
    fingerprint: tuple[object, ...]
    syncer: ResourceSyncer | ClaimSyncer
    binding: str = ""
    extra: dict[str, object] = field(default_factory=dict)


class Provider:
    def __init__(
        self,
        owner: Konnector,
        key: ProviderKey,
        config: RestConfig,
        kubeconfig: bytes,
    ) -> None:
        self.owner = owner
        self.key = key
        self.namespace = key.namespace
        self.options: Options = owner.options
        self.metrics: Metrics = owner.metrics
        self.consumer: ApiClient = owner.consumer
        self.events: EventRecorder = owner.events
        self.kubeconfig = kubeconfig
        self.client = ApiClient(
            config,
            qps=self.options.provider_qps,
            burst=self.options.provider_burst,
            user_agent="kube-bind-konnector",
            http2=self.options.http2,
            metrics=self.metrics.provider_requests,
        )
        self.bindings: set[str] = set()
        self.secret_refs: set[SecretRef] = set()
        self.syncers: dict[str, SyncerEntry] = {}
        self._syncer_lock = asyncio.Lock()
        self.namespace_uid = ""
        resync = self.options.resync_period

        def informer(ref: ResourceRef, what: str) -> Informer:
            return Informer(
                self.client,
                ref,
                namespace=self.namespace,
                resync=resync,
                name=f"provider:{what}@{self.namespace}",
                metric_name=f"provider:{what}",
                on_created=self.metrics.track,
            )

        self.cluster_bindings = informer(kinds.CLUSTER_BINDINGS, "clusterbindings")
        self.exports = informer(kinds.API_SERVICE_EXPORTS, "apiserviceexports")
        self.service_namespaces = informer(kinds.API_SERVICE_NAMESPACES, "apiservicenamespaces")
        self.bound_schemas = informer(kinds.BOUND_SCHEMAS, "boundschemas")
        self.namespace_lookup = NamespaceLookup(lambda: self.service_namespaces.list(self.namespace))
        from konnector.controllers import clusterbinding, namespacelifecycle, servicebinding

        workers = self.options.workers
        self.heartbeat: Controller[str] = Controller(
            f"heartbeat:{key}",
            lambda _k: clusterbinding.reconcile(self),
            workers=1,
            metrics=self.metrics.queue_metrics,
            on_result=self.metrics.on_result,
        )
        self.binding_controller: Controller[str] = Controller(
            f"servicebinding:{key}",
            lambda name: servicebinding.reconcile(self, name),
            workers=workers,
            metrics=self.metrics.queue_metrics,
            on_result=self.metrics.on_result,
        )
        self.namespace_controller: Controller[str] = Controller(
            f"namespacelifecycle:{key}",
            lambda name: namespacelifecycle.reconcile(self, name),
            workers=workers,
            metrics=self.metrics.queue_metrics,
            on_result=self.metrics.on_result,
        )
        self._tasks: list[asyncio.Task[None]] = []

    # -- wiring ------------------------------------------------------------------------------------

    def update_credentials(self, config: RestConfig, kubeconfig: bytes) -> None:
        if kubeconfig == self.kubeconfig:
            return
        log.info("provider credentials rotated provider=%s", self.key)
        self.kubeconfig = kubeconfig
        self.client.update_credentials(config)

    def set_bindings(self, bindings: set[str], secret_refs: set[SecretRef]) -> None:
        added = bindings - self.bindings
        removed = self.bindings - bindings
        self.bindings = set(bindings)
        self.secret_refs = set(secret_refs)
        for name in added | removed:
            self.binding_controller.enqueue(name)
        if added:
            self.heartbeat.enqueue("cluster")

    def _on_export(self, event: str, obj: Object) -> None:
        name = str((obj.get("metadata") or {}).get("name"))
        if name in self.bindings:
            self.binding_controller.enqueue(name)

    def _on_bound_schema(self, event: str, obj: Object) -> None:
        for name in self.bindings:
            self.binding_controller.enqueue(name)

    def _on_service_namespace(self, event: str, obj: Object) -> None:
        for entry in list(self.syncers.values()):
            entry.syncer.service_namespaces_changed()
        self.namespace_controller.enqueue(str((obj.get("metadata") or {}).get("name")))

    def _on_cluster_binding(self, event: str, obj: Object) -> None:
        if event != "DELETED":
            self.heartbeat.enqueue("cluster")

    def on_consumer_namespace(self, event: str, obj: Object) -> None:
        self.namespace_controller.enqueue(str((obj.get("metadata") or {}).get("name")))

    def on_consumer_crd(self, event: str, obj: Object) -> None:
        for ref in (obj.get("metadata") or {}).get("ownerReferences") or []:
            if ref.get("kind") == "APIServiceBinding" and ref.get("name") in self.bindings:
                self.binding_controller.enqueue(str(ref["name"]))

    async def start(self) -> None:
        self.cluster_bindings.add_handler(self._on_cluster_binding)
        self.exports.add_handler(self._on_export)
        self.bound_schemas.add_handler(self._on_bound_schema)
        self.service_namespaces.add_handler(self._on_service_namespace)
        for inf in (self.cluster_bindings, self.exports, self.service_namespaces, self.bound_schemas):
            inf.start()
        self.heartbeat.start()
        self.binding_controller.start()
        self.namespace_controller.start()
        self.heartbeat.enqueue("cluster")
        for name in self.bindings:
            self.binding_controller.enqueue(name)
        log.info("provider connection started provider=%s", self.key)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(
            self.heartbeat.stop(),
            self.binding_controller.stop(),
            self.namespace_controller.stop(),
            *(e.syncer.stop() for e in self.syncers.values()),
            *(
                i.stop()
                for i in (self.cluster_bindings, self.exports, self.service_namespaces, self.bound_schemas)
            ),
            return_exceptions=True,
        )
        self.syncers.clear()
        with contextlib.suppress(Exception):
            await self.client.aclose()
        log.info("provider connection stopped provider=%s", self.key)

    async def wait_synced(self, timeout: float) -> bool:  # noqa: ASYNC109
        results = await asyncio.gather(
            *(
                i.wait_synced(timeout)
                for i in (self.cluster_bindings, self.exports, self.service_namespaces, self.bound_schemas)
            )
        )
        return all(results)

    # -- helpers used by controllers and syncers ----------------------------------------------------

    async def ensure_service_namespace(self, consumer_ns: str, export: Object) -> None:
        """Create ``APIServiceNamespace <consumer_ns>`` (owned by the export) if it does not exist."""
        if self.service_namespaces.get(ObjectKey(self.namespace, consumer_ns)) is not None:
            return
        meta = export.get("metadata") or {}
        body: Object = {
            "metadata": {
                "name": consumer_ns,
                "namespace": self.namespace,
                "ownerReferences": [
                    {
                        "apiVersion": constants.API_VERSION,
                        "kind": "APIServiceExport",
                        "name": meta.get("name"),
                        "uid": meta.get("uid"),
                        "controller": True,
                    }
                ],
            },
            "spec": {},
        }
        try:
            await self.client.create(kinds.API_SERVICE_NAMESPACES, body, namespace=self.namespace)
            log.info("created APIServiceNamespace provider=%s namespace=%s", self.key, consumer_ns)
        except errors.ApiError as exc:
            if not errors.is_already_exists(exc):
                raise

    async def cluster_namespace_uid(self) -> str:
        if not self.namespace_uid:
            try:
                ns = await self.client.get(NAMESPACES, self.namespace)
                self.namespace_uid = str((ns.get("metadata") or {}).get("uid") or "")
            except errors.ApiError as exc:
                log.info("cannot read cluster namespace provider=%s error=%s", self.key, exc.message)
        return self.namespace_uid

    async def stop_syncers(self, binding: str, keep: set[str] | None = None) -> None:
        async with self._syncer_lock:
            for name in [
                n for n, e in self.syncers.items() if e.binding == binding and n not in (keep or set())
            ]:
                entry = self.syncers.pop(name)
                await entry.syncer.stop()
