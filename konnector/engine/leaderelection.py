"""Leader election with a ``coordination.k8s.io/v1`` Lease (client-go ``leaderelection`` semantics).

Why: the konnector runs with several replicas for availability, but only one may write (two
writers would race on finalizers and provider copies). Informers run on every replica; controllers
run only while :meth:`LeaderElector.run` reports leadership. Timing as the reference (§6.1):
lease duration 15 s, renew deadline 10 s, retry period 2 s; the lease is released on shutdown so a
standby takes over at once.

Acquisition: create the Lease if missing; otherwise take it when ``renewTime + leaseDuration`` has
passed (by our clock) or it is already ours or released (empty holder). Updates use the object's
resourceVersion, so two candidates can never both win one round.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any

from kubebind.kube import errors
from kubebind.kube.client import ApiClient
from kubebind.kube.resources import LEASES, Object

__all__ = ["LeaderElector"]

log = logging.getLogger(__name__)


def _now_micro() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse(ts: str | None) -> float:
    if not ts:
        return 0.0
    text = ts.rstrip("Z")
    fmt = "%Y-%m-%dT%H:%M:%S.%f" if "." in text else "%Y-%m-%dT%H:%M:%S"
    return datetime.strptime(text, fmt).replace(tzinfo=UTC).timestamp()


class LeaderElector:
    def __init__(
        self,
        client: ApiClient,
        *,
        name: str,
        namespace: str,
        identity: str,
        lease_duration: float = 15.0,
        renew_deadline: float = 10.0,
        retry_period: float = 2.0,
    ) -> None:
        self.client = client
        self.name = name
        self.namespace = namespace
        self.identity = identity
        self.lease_duration = lease_duration
        self.renew_deadline = renew_deadline
        self.retry_period = retry_period
        self.is_leader = False
        self.last_renew = 0.0

    def healthy(self) -> bool:
        """False when we believe we lead but have not renewed for longer than the lease (stuck)."""
        return not self.is_leader or time.monotonic() - self.last_renew < self.lease_duration + 5

    async def _try_acquire_or_renew(self) -> bool:
        now = _now_micro()
        try:
            lease = await self.client.get(LEASES, self.name, namespace=self.namespace)
        except errors.NotFoundError:
            body: Object = {
                "metadata": {"name": self.name, "namespace": self.namespace},
                "spec": {
                    "holderIdentity": self.identity,
                    "leaseDurationSeconds": int(self.lease_duration),
                    "acquireTime": now,
                    "renewTime": now,
                    "leaseTransitions": 0,
                },
            }
            try:
                await self.client.create(LEASES, body, namespace=self.namespace)
            except errors.ApiError as exc:
                if errors.is_already_exists(exc):
                    return False
                raise
            return True
        spec = lease.get("spec") or {}
        holder = spec.get("holderIdentity") or ""
        duration = float(spec.get("leaseDurationSeconds") or self.lease_duration)
        expired = _parse(spec.get("renewTime")) + duration < time.time()
        if holder and holder != self.identity and not expired:
            return False
        new_spec = dict(spec)
        if holder != self.identity:
            new_spec["acquireTime"] = now
            new_spec["leaseTransitions"] = int(spec.get("leaseTransitions") or 0) + 1
        new_spec["holderIdentity"] = self.identity
        new_spec["leaseDurationSeconds"] = int(self.lease_duration)
        new_spec["renewTime"] = now
        lease["spec"] = new_spec
        try:
            await self.client.update(LEASES, lease, namespace=self.namespace)
        except errors.ApiError as exc:
            if errors.is_conflict(exc):
                return False
            raise
        return True

    async def _attempt(self) -> bool:
        try:
            return await asyncio.wait_for(self._try_acquire_or_renew(), self.renew_deadline)
        except (TimeoutError, errors.ApiError, OSError) as exc:
            log.info("lease attempt failed lease=%s/%s error=%r", self.namespace, self.name, exc)
            return False
        except Exception as exc:  # httpx transport errors
            log.info("lease attempt failed lease=%s/%s error=%r", self.namespace, self.name, exc)
            return False

    async def run(self, lead: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Loop forever: acquire, run ``lead()`` while renewing, cancel it when leadership is lost."""
        while True:
            acquired = await self._attempt()
            while not acquired:
                await asyncio.sleep(self.retry_period)
                acquired = await self._attempt()
            self.is_leader = True
            self.last_renew = time.monotonic()
            log.info("became leader lease=%s/%s identity=%s", self.namespace, self.name, self.identity)
            work: asyncio.Task[None] = asyncio.ensure_future(lead())
            try:
                while not work.done():
                    await asyncio.sleep(self.retry_period)
                    if await self._attempt():
                        self.last_renew = time.monotonic()
                    elif time.monotonic() - self.last_renew > self.renew_deadline:
                        log.warning("lost leadership lease=%s/%s", self.namespace, self.name)
                        break
            finally:
                self.is_leader = False
                work.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await work
            if work.done() and not work.cancelled() and work.exception() is not None:
                log.error("leader work failed error=%r", work.exception())

    async def release(self) -> None:
        """Give up the lease (empty holder) if we hold it, so a standby can take over at once."""
        try:
            lease = await self.client.get(LEASES, self.name, namespace=self.namespace)
            spec = lease.get("spec") or {}
            if spec.get("holderIdentity") != self.identity:
                return
            spec["holderIdentity"] = ""
            spec["leaseDurationSeconds"] = 1
            lease["spec"] = spec
            await self.client.update(LEASES, lease, namespace=self.namespace)
        except Exception as exc:
            log.info("lease release failed error=%r", exc)
