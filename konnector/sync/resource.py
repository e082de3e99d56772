"""One bound resource's syncer: consumer + provider informers and the spec and status controllers.

Why per resource: each bound GVR has its own scope, isolation and provider namespaces; starting and
stopping them independently (when an export or BoundSchema changes) keeps the others running.
Provider-side watches are as narrow as the issued credentials allow: per assigned provider
namespace for namespaced resources with informer scope ``Namespaced``, the cluster namespace for
``Namespaced`` isolation, cluster-wide otherwise.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from konnector.engine.controller import Controller
from konnector.engine.informer import Informer, MultiNamespaceInformer
from konnector.events import EventRecorder
from konnector.metrics import Metrics
from konnector.sync import isolation, spec, status
from konnector.sync.context import SyncContext
from kubebind.kube import errors
from kubebind.kube.client import ApiClient
from kubebind.kube.resources import Object, ObjectKey, ResourceRef, object_key

__all__ = ["ResourceSyncer"]

log = logging.getLogger(__name__)


class ResourceSyncer:
    def __init__(
        self,
        *,
        name: str,
        consumer: ApiClient,
        provider: ApiClient,
        consumer_ref: ResourceRef,
        provider_ref: ResourceRef,
        strategy: isolation.Strategy,
        informer_scope: str,
        export_name: str,
        export_uid: str,
        ensure_service_namespace: Callable[[str], object],
        has_status_subresource: bool,
        metrics: Metrics,
        resync: float,
        workers: int,
        events: EventRecorder | None = None,
    ) -> None:
        self.name = name
        self.events = events
        self.metrics = metrics
        self.strategy = strategy
        gvr = str(consumer_ref)
        self.consumer_informer = Informer(
            consumer,
            consumer_ref,
            resync=resync,
            name=f"consumer:{gvr}",
            metric_name=f"consumer:{gvr}",
            on_created=metrics.track,
        )
        self.provider_informer: Informer | MultiNamespaceInformer
        pname = f"provider:{gvr}"
        if strategy.consumer_namespaced and informer_scope != "Cluster":
            self.provider_informer = MultiNamespaceInformer(
                lambda ns: Informer(
                    provider,
                    provider_ref,
                    namespace=ns,
                    resync=resync,
                    name=f"{pname}@{ns}",
                    metric_name=pname,
                    on_created=metrics.track,
                )
            )
        elif not strategy.consumer_namespaced and strategy.isolation == isolation.NAMESPACED:
            self.provider_informer = Informer(
                provider,
                provider_ref,
                namespace=strategy.cluster_namespace,
                resync=resync,
                name=pname,
                metric_name=pname,
                on_created=metrics.track,
            )
        else:
            self.provider_informer = Informer(
                provider, provider_ref, resync=resync, name=pname, metric_name=pname, on_created=metrics.track
            )
        self.ctx = SyncContext(
            consumer=consumer,
            provider=provider,
            consumer_ref=consumer_ref,
            provider_ref=provider_ref,
            consumer_cache=self.consumer_informer,
            provider_cache=self.provider_informer,
            strategy=strategy,
            export_name=export_name,
            export_uid=export_uid,
            ensure_service_namespace=ensure_service_namespace,
            has_status_subresource=has_status_subresource,
            observe=lambda direction, seconds: metrics.sync_latency.labels(gvr, direction).observe(seconds),
        )
        self.spec_controller: Controller[ObjectKey] = Controller(
            f"spec:{name}",
            self._reconcile_spec,
            workers=workers,
            metrics=metrics.queue_metrics,
            on_result=metrics.on_result,
        )
        self.status_controller: Controller[ObjectKey] = Controller(
            f"status:{name}",
            self._reconcile_status,
            workers=workers,
            metrics=metrics.queue_metrics,
            on_result=metrics.on_result,
        )
        self._started = False

    async def _reconcile_spec(self, key: ObjectKey) -> None:
        try:
            await spec.reconcile_spec(self.ctx, key)
        except spec.ForeignObjectError as exc:
            await self._report(key, "ProviderObjectConflict", str(exc))
            raise
        except errors.ApiError as exc:
            # The provider rejected the object (validation, quota, admission): say so on the object.
            if exc.code in (400, 403, 409, 422) and not errors.is_conflict(exc):
                await self._report(key, "ProviderRejected", f"provider rejected {key}: {exc.message}")
            raise

    async def _report(self, key: ObjectKey, reason: str, message: str) -> None:
        obj = self.consumer_informer.get(key)
        if obj is not None and self.events is not None:
            await self.events.warning(obj, reason, message)

    async def _reconcile_status(self, key: ObjectKey) -> None:
        await status.reconcile_status(self.ctx, key)

    def _on_consumer(self, event: str, obj: Object) -> None:
        key = object_key(obj)
        if event == "DELETED":
            self.ctx.meta_written.pop(key, None)
        else:
            self.ctx.mark_seen(spec.SPEC, key)
            # Also on MODIFIED: the status reconcile waits for the spec reconcile's finalizer write.
            self.status_controller.enqueue(key)
        self.spec_controller.enqueue(key)

    def _on_provider(self, event: str, obj: Object) -> None:
        self.ctx.forget_created(object_key(obj))
        key = self.strategy.to_consumer(obj)
        if key is None:
            return
        if event == "MODIFIED":
            self.ctx.mark_seen(status.STATUS, key)
        self.status_controller.enqueue(key)
        self.spec_controller.enqueue(key)

    def service_namespaces_changed(self) -> None:
        """APIServiceNamespaces changed: watch newly assigned namespaces, retry waiting keys."""
        if isinstance(self.provider_informer, MultiNamespaceInformer):
            self.provider_informer.set_namespaces(self.strategy.namespaces.provider_namespaces())
        if self.strategy.consumer_namespaced:
            for key in self.consumer_informer.keys():
                self.spec_controller.enqueue(key)

    async def start(self, sync_timeout: float = 60.0) -> None:
        self.consumer_informer.add_handler(self._on_consumer)
        self.provider_informer.add_handler(self._on_provider)
        self.consumer_informer.start()
        self.provider_informer.start()
        self.service_namespaces_changed()
        ok = await self.consumer_informer.wait_synced(sync_timeout)
        ok = await self.provider_informer.wait_synced(sync_timeout) and ok
        if not ok:
            log.warning("informers not synced in time syncer=%s; starting anyway", self.name)
        self.spec_controller.start()
        self.status_controller.start()
        self._started = True
        log.info("syncer started syncer=%s", self.name)

    def synced(self) -> bool:
        """Both informers have listed once: the bound kind is served and its objects are known."""
        return self._started and self.consumer_informer.has_synced() and self.provider_informer.has_synced()

    async def stop(self) -> None:
        await asyncio.gather(
            self.spec_controller.stop(),
            self.status_controller.stop(),
            self.consumer_informer.stop(),
            self.provider_informer.stop(),
            return_exceptions=True,
        )
        log.info("syncer stopped syncer=%s", self.name)

    def consumer_objects(self) -> list[Object]:
        return self.consumer_informer.list()
