"""Kubernetes Events (``events.k8s.io/v1``) from controllers, like client-go's event recorder.

Why: operators look at ``kubectl describe`` / ``kubectl get events`` to learn why a binding is not
ready. Controllers record what they did or why they failed *on the object concerned*, without
slowing the reconcile down or flooding the API when the same failure repeats every retry.

Contract:

* :meth:`EventRecorder.event` is synchronous and never blocks or raises: it queues the event;
  :meth:`EventRecorder.run` (a long-running task) writes them. Events are best effort — when the
  buffer is full or the API refuses them, they are dropped and logged at debug level.
* Repeats of the same ``(object, type, reason, action, note)`` within ``series_window`` seconds
  do not create new Event objects; the existing one gets ``series.count``/``lastObservedTime``
  bumped (the events.k8s.io series semantics), so a failure retried every second is one object.
* Events land in the namespace of the object concerned (``default`` for cluster-scoped objects),
  with ``reportingController`` = ``controller`` and ``reportingInstance`` = ``instance``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kubebind.kube import errors
from kubebind.kube.client import ApiClient, PatchType
from kubebind.kube.resources import EVENTS, Object
from kubebind.runtime.clock import Clock, RealClock

__all__ = ["EventRecorder"]

log = logging.getLogger(__name__)

NORMAL = "Normal"
WARNING = "Warning"
_MAX_NOTE = 1024


def _micro_time(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class _Pending:
    key: tuple[str, ...]
    body: Object


@dataclass
class _Seen:
    name: str
    namespace: str
    count: int
    last: float


class EventRecorder:
    def __init__(
        self,
        client: ApiClient,
        *,
        controller: str,
        instance: str,
        clock: Clock | None = None,
        series_window: float = 360.0,
        buffer: int = 1000,
    ) -> None:
        self.client = client
        self.controller = controller
        self.instance = instance
        self._clock: Clock = clock or RealClock()
        self.series_window = series_window
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue(maxsize=buffer)
        self._seen: dict[tuple[str, ...], _Seen] = {}

    def event(
        self, regarding: Object, type_: str, reason: str, note: str, *, action: str = "Reconcile"
    ) -> None:
        """Queue an event about ``regarding`` (``type_`` is ``Normal`` or ``Warning``)."""
        if type_ not in (NORMAL, WARNING):
            raise ValueError(f"event type must be Normal or Warning, not {type_!r}")
        meta = regarding.get("metadata") or {}
        ref: dict[str, Any] = {
            "apiVersion": regarding.get("apiVersion", ""),
            "kind": regarding.get("kind", ""),
            "name": meta.get("name", ""),
            "uid": meta.get("uid", ""),
            "resourceVersion": meta.get("resourceVersion", ""),
        }
        if meta.get("namespace"):
            ref["namespace"] = meta["namespace"]
        note = note[:_MAX_NOTE]
        key = (
            ref["uid"] or f"{ref['kind']}/{ref.get('namespace', '')}/{ref['name']}",
            type_,
            reason,
            action,
            note,
        )
        body: Object = {
            "metadata": {"namespace": meta.get("namespace") or "default"},
            "regarding": {k: v for k, v in ref.items() if v},
            "type": type_,
            "reason": reason,
            "action": action,
            "note": note,
            "reportingController": self.controller,
            "reportingInstance": self.instance,
        }
        try:
            self._queue.put_nowait(_Pending(key, body))
        except asyncio.QueueFull:
            log.debug("event buffer full, dropping %s %s on %s", type_, reason, ref["name"])

    async def run(self) -> None:
        """Write queued events until cancelled."""
        while True:
            pending = await self._queue.get()
            try:
                await self._write(pending)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("dropping event %s: %s", pending.key[2], exc)

    async def flush(self) -> None:
        """Write everything queued so far (for tests and shutdown)."""
        while not self._queue.empty():
            pending = self._queue.get_nowait()
            with contextlib.suppress(errors.ApiError):
                await self._write(pending)

    async def _write(self, pending: _Pending) -> None:
        now = self._clock.now()
        stamp = _micro_time(self._clock.utcnow())
        seen = self._seen.get(pending.key)
        if seen is not None and now - seen.last < self.series_window:
            seen.count += 1
            seen.last = now
            patch = {"series": {"count": seen.count, "lastObservedTime": stamp}}
            try:
                await self.client.patch(
                    EVENTS, seen.name, patch, namespace=seen.namespace, patch_type=PatchType.MERGE
                )
                return
            except errors.NotFoundError:
                del self._seen[pending.key]  # expired or deleted: start a new event
        body = dict(pending.body)
        namespace = body["metadata"]["namespace"]
        regarding_name = body["regarding"].get("name", "event")
        # Named like client-go's (``<object>.<hex time>``); generateName would not validate.
        name = f"{regarding_name[:200]}.{time.time_ns():x}{uuid.uuid4().hex[:4]}"
        body["metadata"] = {"namespace": namespace, "name": name}
        body["eventTime"] = stamp
        created = await self.client.create(EVENTS, body, namespace=namespace)
        self._seen[pending.key] = _Seen(created["metadata"]["name"], namespace, 1, now)
        self._prune(now)

    def _prune(self, now: float) -> None:
        if len(self._seen) > 4096:
            for key in [k for k, v in self._seen.items() if now - v.last >= self.series_window]:
                del self._seen[key]
