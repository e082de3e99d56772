"""Runs the provider-side controllers of the service and the one-off OIDC RBAC setup.

All controllers are idempotent and level-triggered, so several replicas may run them at once
without harm (writes are create-if-absent, server-side apply, or conditional patches). Leader
election (``kubebind.runtime``) will narrow this to one active replica once it lands.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from app.controllers.clusterbinding import ClusterBindingReconciler
from app.controllers.exportrequest import ExportRequestReconciler
from app.controllers.oidcrbac import ensure_oidc_user_rbac
from app.controllers.servicenamespace import ServiceNamespaceReconciler

if TYPE_CHECKING:
    from app.handshake.context import ServiceContext

__all__ = ["run"]

log = logging.getLogger(__name__)


async def run(ctx: ServiceContext, stop: asyncio.Event) -> None:
    client, settings = ctx.provider, ctx.settings
    while not stop.is_set():
        try:
            await ensure_oidc_user_rbac(client, settings)
            break
        except Exception as exc:
            log.warning("cannot ensure OIDC user RBAC yet error=%s", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 2.0)
    controllers = [
        ExportRequestReconciler(client, settings).controller,
        ServiceNamespaceReconciler(client, settings).controller,
        ClusterBindingReconciler(client, settings, ctx.minter, ctx.clock).controller,
    ]
    async with asyncio.TaskGroup() as group:
        for controller in controllers:
            group.create_task(controller.run(), name=f"controller-{controller.name}")
        group.create_task(_housekeeping(ctx, stop), name="session-housekeeping")
        await stop.wait()
        for controller in controllers:
            controller.shut_down()
        raise asyncio.CancelledError


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
