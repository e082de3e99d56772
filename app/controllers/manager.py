"""Runs the provider-side controllers of the service, leader-elected, plus the OIDC RBAC setup.

Wiring only (sample-controller's ``main.go`` role): one :class:`~kubebind.cache.SharedInformerFactory`
on the provider client, one :class:`~kubebind.runtime.Controller` per reconciler, all started
together once this replica holds the Lease ``<leader_election_lease>`` in
``<leader_election_namespace>`` (``kubebind.runtime.LeaderElector``). Reconcilers are idempotent
and level-triggered, so a hand-over between replicas loses nothing; with leader election off every
replica reconciles (still safe, just more API traffic).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Protocol

from app.controllers.clusterbinding import ClusterBindingReconciler
from app.controllers.exportrequest import ExportRequestReconciler
from app.controllers.oidcrbac import ensure_oidc_user_rbac
from app.controllers.servicenamespace import ServiceNamespaceReconciler
from kubebind.cache import SharedInformerFactory
from kubebind.kube.resources import ObjectKey
from kubebind.runtime import (
    Controller,
    LeaderElectionConfig,
    LeaderElector,
    PrometheusControllerMetrics,
    Result,
    default_identity,
)

if TYPE_CHECKING:
    from app.handshake.context import ServiceContext

__all__ = ["run"]

log = logging.getLogger(__name__)


class Reconciler(Protocol):
    async def reconcile(self, key: ObjectKey) -> float | None: ...

    def setup(self, factory: SharedInformerFactory, controller: Controller) -> None: ...


def _adapt(
    reconcile: Callable[[ObjectKey], Awaitable[float | None]],
) -> Callable[[ObjectKey], Awaitable[Result | None]]:
    async def run(key: ObjectKey) -> Result | None:
        after = await reconcile(key)
        return None if after is None else Result(requeue_after=max(after, 0.05))

    return run


async def _controllers(ctx: ServiceContext) -> None:
    client, settings = ctx.provider, ctx.settings
    while True:
        try:
            await ensure_oidc_user_rbac(client, settings)
            break
        except Exception as exc:
            log.warning("cannot ensure OIDC user RBAC yet error=%s", exc)
            await asyncio.sleep(2.0)
    factory = SharedInformerFactory(client, resync_period=settings.resync_seconds)
    metrics = PrometheusControllerMetrics(ctx.metrics.registry, prefix="kube_bind_service_controller")
    reconcilers: dict[str, Reconciler] = {
        "exportrequest": ExportRequestReconciler(client, settings),
        "servicenamespace": ServiceNamespaceReconciler(client, settings),
        "clusterbinding": ClusterBindingReconciler(client, settings, ctx.minter, ctx.clock, ctx.metrics),
    }
    controllers = []
    for name, reconciler in reconcilers.items():
        controller = Controller(name, _adapt(reconciler.reconcile), metrics=metrics)
        reconciler.setup(factory, controller)
        controllers.append(controller)
    async with asyncio.TaskGroup() as group:
        group.create_task(factory.run(), name="service-informers")
        for controller in controllers:
            group.create_task(controller.run(), name=f"controller-{controller.name}")


async def run(ctx: ServiceContext, stop: asyncio.Event) -> None:
    """Run until ``stop`` is set: housekeeping always, controllers while leading."""
    settings = ctx.settings
    async with asyncio.TaskGroup() as group:
        group.create_task(_housekeeping(ctx, stop), name="session-housekeeping")
        if settings.leader_elect:
            config = LeaderElectionConfig(
                lease_namespace=settings.leader_election_namespace,
                lease_name=settings.leader_election_lease,
                identity=default_identity(),
            )
            leading = group.create_task(_lead_forever(ctx, config, stop), name="service-leader-election")
        else:
            leading = group.create_task(_controllers(ctx), name="service-controllers")
        await stop.wait()
        leading.cancel()


async def _lead_forever(ctx: ServiceContext, config: LeaderElectionConfig, stop: asyncio.Event) -> None:
    while not stop.is_set():
        elector = LeaderElector(ctx.provider, config, on_started_leading=lambda: _controllers(ctx))
        try:
            await elector.run()
        except Exception as exc:
            log.warning("leader election failed error=%s", exc)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 1.0)


async def _housekeeping(ctx: ServiceContext, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            removed = await ctx.store.purge_expired()
            if removed:
                log.info("purged expired login records count=%d", removed)
        except Exception as exc:
            log.warning("purging expired login records failed error=%s", exc)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 300.0)
