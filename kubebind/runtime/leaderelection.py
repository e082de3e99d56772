"""Leader election on a ``coordination.k8s.io/v1`` Lease, like client-go's ``leaderelection``.

Why: several konnector (or backend controller) replicas may run for availability, but only one
may write at a time. Replicas race to hold a Lease; the holder renews it every ``retry_period`` and
the others take over once it has not been renewed for ``lease_duration``.

Contract:

* **Acquire**: create the Lease if missing, or take it when it is released (empty holder) or
  expired. Expiry is judged on the *local* clock from when this elector last saw the Lease record
  change — never by comparing ``renewTime`` with local wall time, so clock skew between machines
  does not matter. Writes carry the Lease's ``resourceVersion``: of two racing electors exactly one
  wins, the other gets a conflict and keeps waiting. Attempts are spaced ``retry_period`` * [1, 2.2).
* **Lead**: once acquired, ``on_started_leading()`` runs as a task. The lease is renewed every
  ``retry_period``; if no renewal succeeds for ``renew_deadline`` seconds, leadership is lost: the
  leading task is cancelled, ``on_stopped_leading()`` is called, and :meth:`LeaderElector.run`
  returns. (The process should then exit or start a new election; it must not keep writing.)
* **Release**: when :meth:`LeaderElector.run` is cancelled (or the leading task returns) while
  leading and ``release_on_cancel`` is set, the Lease is handed back (empty holder, 1 s duration)
  so a successor need not wait for expiry. An exception from the leading task is re-raised.
* ``on_new_leader(identity)`` is called whenever the observed holder changes.
* Constraints as in client-go: ``lease_duration > renew_deadline > retry_period * 1.2``.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import os
import random
import socket
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from kubebind.kube import errors
from kubebind.kube.client import ApiClient
from kubebind.kube.resources import LEASES, Object
from kubebind.runtime.clock import Clock, RealClock

__all__ = ["LeaderElectionConfig", "LeaderElector", "default_identity"]

log = logging.getLogger(__name__)

_JITTER = 1.2


@dataclass(frozen=True)
class LeaderElectionConfig:
    lease_namespace: str
    lease_name: str
    identity: str
    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0
    release_on_cancel: bool = True

    def __post_init__(self) -> None:
        if not self.identity:
            raise ValueError("leader election needs a non-empty identity")
        if self.lease_duration <= self.renew_deadline:
            raise ValueError("lease_duration must be greater than renew_deadline")
        if self.renew_deadline <= _JITTER * self.retry_period:
            raise ValueError("renew_deadline must be greater than retry_period * 1.2")
        if self.retry_period <= 0:
            raise ValueError("retry_period must be positive")


def default_identity() -> str:
    """``$POD_NAME`` when set (unique per replica in a Deployment), else ``<hostname>_<random>``."""
    pod = os.environ.get("POD_NAME")
    if pod:
        return pod
    return f"{socket.gethostname()}_{uuid.uuid4().hex[:8]}"


def _micro_time(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class LeaderElector:
    def __init__(
        self,
        client: ApiClient,
        config: LeaderElectionConfig,
        *,
        on_started_leading: Callable[[], Coroutine[Any, Any, None]],
        on_stopped_leading: Callable[[], None] | None = None,
        on_new_leader: Callable[[str], None] | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.client = client
        self.config = config
        self._on_started = on_started_leading
        self._on_stopped = on_stopped_leading
        self._on_new_leader = on_new_leader
        self._clock: Clock = clock or RealClock()
        self._observed_spec: dict[str, Any] | None = None
        self._observed_rv: str | None = None
        self._observed_time = 0.0
        self._reported_leader: str | None = None
        self._leading = False
        self._stopping = asyncio.Event()

    # -- state ---------------------------------------------------------------------------------

    def is_leader(self) -> bool:
        return self._leading

    @property
    def leader(self) -> str:
        """The holder identity last observed ("" when unknown or released)."""
        return str((self._observed_spec or {}).get("holderIdentity") or "")

    # -- main loop -----------------------------------------------------------------------------

    async def run(self) -> None:
        """Acquire, lead until the lease is lost or this is cancelled, then step down."""
        await self._acquire()
        self._leading = True
        log.info("leader election %s: %s became leader", self._lease_id(), self.config.identity)
        loop = asyncio.get_running_loop()
        leading = loop.create_task(self._on_started(), name=f"leading:{self._lease_id()}")
        renewing = loop.create_task(self._renew_loop(), name=f"lease-renew:{self._lease_id()}")
        lost = False
        try:
            await asyncio.wait({leading, renewing}, return_when=asyncio.FIRST_COMPLETED)
            lost = renewing.done()
        finally:
            leading.cancel()
            # Let the renew loop stop between requests rather than cancelling one in flight (the
            # server could apply a cancelled renewal after our release and re-take the lease).
            self._stopping.set()
            await asyncio.wait({renewing}, timeout=self.config.renew_deadline)
            renewing.cancel()
            await asyncio.gather(leading, renewing, return_exceptions=True)
            self._stopping.clear()
            self._leading = False
            if not lost and self.config.release_on_cancel:
                await self._release()
            log.info("leader election %s: %s stopped leading", self._lease_id(), self.config.identity)
            if self._on_stopped is not None:
                self._on_stopped()
        if leading.done() and not leading.cancelled():
            failure = leading.exception()
            if failure is not None:
                raise failure

    async def _acquire(self) -> None:
        while True:
            if await self.try_acquire_or_renew():
                return
            await self._clock.sleep(self.config.retry_period * (1 + _JITTER * random.random()))

    async def _pause(self, seconds: float) -> bool:
        """Sleep on the clock; ``True`` if asked to stop meanwhile."""
        if self._stopping.is_set():
            return True
        sleeper = asyncio.ensure_future(self._clock.sleep(seconds))
        stopper = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait({sleeper, stopper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            stopper.cancel()
        return self._stopping.is_set()

    async def _renew_loop(self) -> None:
        """Returns when the lease could not be renewed within ``renew_deadline`` or on stop."""
        cfg = self.config
        while True:
            deadline = self._clock.now() + cfg.renew_deadline
            renewed = False
            while self._clock.now() < deadline:
                remaining = deadline - self._clock.now()
                try:
                    async with asyncio.timeout(remaining):
                        renewed = await self.try_acquire_or_renew()
                except TimeoutError:
                    renewed = False
                if renewed:
                    break
                if await self._pause(min(cfg.retry_period, max(0.0, deadline - self._clock.now()))):
                    return
            if not renewed:
                log.warning(
                    "leader election %s: failed to renew within %.1fs", self._lease_id(), cfg.renew_deadline
                )
                return
            if await self._pause(cfg.retry_period):
                return

    # -- one attempt ---------------------------------------------------------------------------

    async def try_acquire_or_renew(self) -> bool:
        """One attempt to take or keep the lease; ``False`` on any failure (logged)."""
        try:
            return await self._try_acquire_or_renew()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.info("leader election %s: attempt failed: %s", self._lease_id(), exc)
            return False

    async def _try_acquire_or_renew(self) -> bool:
        cfg = self.config
        now = _micro_time(self._clock.utcnow())
        try:
            lease = await self.client.get(LEASES, cfg.lease_name, namespace=cfg.lease_namespace)
        except errors.NotFoundError:
            initial: dict[str, Any] = {
                "holderIdentity": cfg.identity,
                "leaseDurationSeconds": max(1, round(cfg.lease_duration)),
                "acquireTime": now,
                "renewTime": now,
                "leaseTransitions": 0,
            }
            body = {"metadata": {"name": cfg.lease_name, "namespace": cfg.lease_namespace}, "spec": initial}
            try:
                created = await self.client.create(LEASES, body, namespace=cfg.lease_namespace)
            except errors.ApiError as exc:
                if errors.is_already_exists(exc) or errors.is_conflict(exc):
                    return False
                raise
            self._observe(created)
            return True

        spec: dict[str, Any] = dict(lease.get("spec") or {})
        self._observe(lease)
        holder = str(spec.get("holderIdentity") or "")
        duration = float(spec.get("leaseDurationSeconds") or cfg.lease_duration)
        if holder and holder != cfg.identity and self._observed_time + duration > self._clock.now():
            return False  # held by someone else and not expired

        new_spec = dict(spec)
        if holder != cfg.identity:
            new_spec["acquireTime"] = now
            new_spec["leaseTransitions"] = int(spec.get("leaseTransitions") or 0) + (1 if holder else 0)
        new_spec["holderIdentity"] = cfg.identity
        new_spec["leaseDurationSeconds"] = max(1, round(cfg.lease_duration))
        new_spec["renewTime"] = now
        updated_body = copy.deepcopy(lease)
        updated_body["spec"] = new_spec
        try:
            updated = await self.client.update(LEASES, updated_body, namespace=cfg.lease_namespace)
        except errors.ConflictError:
            return False
        self._observe(updated)
        return True

    async def _release(self) -> None:
        """Hand the lease back if we still hold it. A renewal cancelled in flight may still land
        on the server after we read the lease, so conflicts are retried a few times."""
        cfg = self.config
        for _ in range(5):
            try:
                lease = await self.client.get(LEASES, cfg.lease_name, namespace=cfg.lease_namespace)
                spec = dict(lease.get("spec") or {})
                if spec.get("holderIdentity") != cfg.identity:
                    return
                now = _micro_time(self._clock.utcnow())
                spec.update(holderIdentity="", leaseDurationSeconds=1, renewTime=now, acquireTime=now)
                lease["spec"] = spec
                self._observe(await self.client.update(LEASES, lease, namespace=cfg.lease_namespace))
                log.info("leader election %s: released", self._lease_id())
                return
            except (errors.ConflictError, httpx.TransportError):
                continue
            except Exception as exc:
                log.warning("leader election %s: release failed: %r", self._lease_id(), exc)
                return
        log.warning("leader election %s: release kept conflicting; the lease will expire", self._lease_id())

    def _observe(self, lease: Object) -> None:
        spec = dict(lease.get("spec") or {})
        rv = (lease.get("metadata") or {}).get("resourceVersion")
        if spec != self._observed_spec or rv != self._observed_rv:
            if self._observed_spec is None or spec != self._observed_spec:
                self._observed_time = self._clock.now()
            self._observed_spec = spec
            self._observed_rv = rv
        holder = str(spec.get("holderIdentity") or "")
        if holder != self._reported_leader:
            self._reported_leader = holder
            if holder and self._on_new_leader is not None:
                try:
                    self._on_new_leader(holder)
                except Exception:
                    log.exception("leader election %s: on_new_leader failed", self._lease_id())

    def _lease_id(self) -> str:
        return f"{self.config.lease_namespace}/{self.config.lease_name}"
