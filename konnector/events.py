"""Kubernetes Events (``events.k8s.io/v1``) about konnector objects, for ``kubectl describe``.

Why: a failing binding (bad kubeconfig, foreign CRD, provider rejecting objects) should be visible
where users look, not only in logs. Repeated identical events within a minute are suppressed so a
hot retry loop does not flood the API server. Events of cluster-scoped objects go to ``default``.
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import UTC, datetime

from kubebind.kube.client import ApiClient
from kubebind.kube.resources import EVENTS, Object

__all__ = ["EventRecorder"]

log = logging.getLogger(__name__)


class EventRecorder:
    def __init__(
        self, client: ApiClient, *, instance: str, controller: str = "kube-bind.io/konnector"
    ) -> None:
        self.client = client
        self.instance = instance[:128]
        self.controller = controller
        self._recent: dict[tuple[str, str, str], float] = {}

    async def event(self, obj: Object, *, type_: str, reason: str, action: str, note: str) -> None:
        meta = obj.get("metadata") or {}
        dedupe = (str(meta.get("uid")), reason, note)
        now = time.monotonic()
        if now - self._recent.get(dedupe, -1e9) < 60:
            return
        self._recent[dedupe] = now
        if len(self._recent) > 4096:
            self._recent.clear()
        namespace = meta.get("namespace") or "default"
        body: Object = {
            "metadata": {"name": f"{meta.get('name')}.{uuid.uuid4().hex[:12]}", "namespace": namespace},
            "eventTime": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "reportingController": self.controller,
            "reportingInstance": self.instance,
            "action": action,
            "reason": reason,
            "type": type_,
            "note": note[:1024],
            "regarding": {
                "apiVersion": obj.get("apiVersion"),
                "kind": obj.get("kind"),
                "name": meta.get("name"),
                "namespace": meta.get("namespace"),
                "uid": meta.get("uid"),
                "resourceVersion": meta.get("resourceVersion"),
            },
        }
        try:
            await self.client.create(EVENTS, body, namespace=namespace)
        except Exception as exc:  # events are best effort
            log.info("cannot record event reason=%s error=%r", reason, exc)

    async def warning(self, obj: Object, reason: str, note: str, action: str = "Sync") -> None:
        await self.event(obj, type_="Warning", reason=reason, action=action, note=note)

    async def normal(self, obj: Object, reason: str, note: str, action: str = "Sync") -> None:
        await self.event(obj, type_="Normal", reason=reason, action=action, note=note)
