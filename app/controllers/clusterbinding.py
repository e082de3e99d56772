"""ClusterBinding: heartbeat health, credential rotation, unbind on deletion (reference §5.2, fixed).

* **Health** — ``Healthy`` from ``status.lastHeartbeatTime``/``heartbeatInterval`` written by the
  konnector: no heartbeat → ``FirstHeartbeatPending``; no interval → ``HeartbeatIntervalMissing``;
  older than 2 x interval → ``HeartbeatTimeout`` (Error); more than 10 s *in the future* →
  ``HeartbeatTimeDrift`` (Warning; the Go check is inverted); else True. Written through the
  status subresource (the Go controller's writes never persist) and re-evaluated every
  ``heartbeat_check_seconds``, so a konnector that stops is noticed without any event.
* **Rotation** — when half of the kubeconfig token's lifetime has passed, a new TokenRequest token
  is minted and the ClusterBinding's kubeconfig Secret rewritten; the konnector copies it to the
  consumer on its next heartbeat.
* **Unbind** — when the ClusterBinding is deleted, the consumer's ServiceAccount (so every token
  at once), provider namespaces, cluster-wide RBAC and its cluster namespace are removed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from app.controllers.status import patch_status
from app.credentials import naming as cred_naming
from app.credentials import refs
from app.credentials.mint import Minter
from app.handshake.metrics import ServiceMetrics
from app.handshake.settings import ServiceSettings
from kubebind.apis import conditions, constants
from kubebind.apis.duration import parse_duration
from kubebind.apis.v1alpha2 import parse_time
from kubebind.cache import SharedInformerFactory
from kubebind.kube import ApiClient, errors
from kubebind.kube.resources import Object, ObjectKey
from kubebind.runtime import Controller

__all__ = ["ClusterBindingReconciler", "health_condition"]

log = logging.getLogger(__name__)
_DRIFT = timedelta(seconds=10)


def health_condition(status: dict[str, Any], now: datetime) -> dict[str, Any]:
    last = status.get("lastHeartbeatTime")
    if not last:
        return conditions.false_condition(
            constants.CONDITION_HEALTHY,
            constants.REASON_FIRST_HEARTBEAT_PENDING,
            constants.SEVERITY_INFO,
            "waiting for the first konnector heartbeat",
        )
    interval_text = status.get("heartbeatInterval")
    try:
        interval = parse_duration(interval_text) if interval_text else timedelta(0)
    except ValueError:
        interval = timedelta(0)
    if interval <= timedelta(0):
        return conditions.false_condition(
            constants.CONDITION_HEALTHY,
            constants.REASON_HEARTBEAT_INTERVAL_MISSING,
            constants.SEVERITY_WARNING,
            "the konnector reports no heartbeat interval",
        )
    try:
        at = parse_time(str(last))
    except ValueError:
        at = datetime.min.replace(tzinfo=now.tzinfo)
    age = now - at
    if age > 2 * interval:
        return conditions.false_condition(
            constants.CONDITION_HEALTHY,
            constants.REASON_HEARTBEAT_TIMEOUT,
            constants.SEVERITY_ERROR,
            f"no heartbeat for {int(age.total_seconds())}s (interval {interval_text})",
        )
    if -age > _DRIFT:
        return conditions.false_condition(
            constants.CONDITION_HEALTHY,
            constants.REASON_HEARTBEAT_TIME_DRIFT,
            constants.SEVERITY_WARNING,
            "heartbeat is in the future: clocks are off by more than 10s",
        )
    return conditions.true_condition(constants.CONDITION_HEALTHY)


class ClusterBindingReconciler:
    def __init__(
        self,
        client: ApiClient,
        settings: ServiceSettings,
        minter: Minter,
        clock: Callable[[], datetime],
        metrics: ServiceMetrics | None = None,
    ) -> None:
        self.client = client
        self.settings = settings
        self.minter = minter
        self.clock = clock
        self.metrics = metrics

    def setup(self, factory: SharedInformerFactory, controller: Controller) -> None:
        controller.watch(factory.informer_for(refs.CLUSTER_BINDINGS))

    async def reconcile(self, key: ObjectKey) -> float | None:
        if key.name != constants.CLUSTER_BINDING_NAME:
            return None
        try:
            cb = await self.client.get(refs.CLUSTER_BINDINGS, key.name, namespace=key.namespace)
        except errors.NotFoundError:
            await self._unbind(key.namespace)
            return None
        if (cb.get("metadata") or {}).get("deletionTimestamp"):
            return None
        now = self.clock()
        status = dict(cb.get("status") or {})
        holder: dict[str, Any] = {"status": {"conditions": list(status.get("conditions") or [])}}
        conditions.set(holder, health_condition(status, now), clock=self.clock)
        conditions.set_summary(holder, clock=self.clock)
        await patch_status(
            self.client, refs.CLUSTER_BINDINGS, cb, {"conditions": holder["status"]["conditions"]}
        )
        next_rotation = await self._rotate_if_due(cb, now)
        return max(min(self.settings.heartbeat_check_seconds, next_rotation), 0.5)

    async def _rotate_if_due(self, cb: Object, now: datetime) -> float:
        ns = cb["metadata"]["namespace"]
        name = ((cb.get("spec") or {}).get("kubeconfigSecretRef") or {}).get(
            "name"
        ) or constants.KUBECONFIG_SECRET_NAME
        try:
            secret = await self.client.get(refs.SECRETS, name, namespace=ns)
        except errors.NotFoundError:
            return self.settings.heartbeat_check_seconds
        annotations = (secret.get("metadata") or {}).get("annotations") or {}
        try:
            issued = parse_time(annotations[cred_naming.ANNOTATION_TOKEN_ISSUED])
            expires = parse_time(annotations[cred_naming.ANNOTATION_TOKEN_EXPIRES])
        except (KeyError, ValueError):
            return self.settings.heartbeat_check_seconds
        due = issued + (expires - issued) / 2
        if now < due:
            return (due - now).total_seconds()
        try:
            await self.client.get(refs.SERVICE_ACCOUNTS, cred_naming.BINDER_NAME, namespace=ns)
        except errors.NotFoundError:
            return self.settings.heartbeat_check_seconds
        new_expiry = await self.minter.rotate(ns)
        if self.metrics is not None:
            self.metrics.rotations.inc()
        return max((new_expiry - now).total_seconds() / 2, 1.0)

    async def _unbind(self, ns: str) -> None:
        try:
            namespace = await self.client.get(refs.NAMESPACES, ns)
        except errors.NotFoundError:
            return
        meta = namespace.get("metadata") or {}
        if meta.get("deletionTimestamp") or constants.ANNOTATION_IDENTITY not in (
            meta.get("annotations") or {}
        ):
            return
        log.info("ClusterBinding deleted: unbinding namespace=%s", ns)
        await self.minter.unbind(ns)
        if self.metrics is not None:
            self.metrics.unbinds.inc()
