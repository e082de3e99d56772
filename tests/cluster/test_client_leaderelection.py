"""Leader election with two electors on a real Lease: one leader at a time, hand-over on release,
take-over after expiry when the leader vanishes, and step-down when the lease is stolen."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from kubebind.kube import client as kclient
from kubebind.kube import errors
from kubebind.kube.resources import LEASES
from kubebind.runtime.leaderelection import LeaderElectionConfig, LeaderElector
from tests.harness import Cluster

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(90)]


@pytest.fixture
async def api(provider: Cluster) -> AsyncIterator[kclient.ApiClient]:
    async with kclient.ApiClient.from_kubeconfig(provider.kubeconfig) as client:
        yield client


async def eventually(predicate: Callable[[], Any], within: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within}s waiting for {what}")
        await asyncio.sleep(0.05)


class Candidate:
    def __init__(self, api: kclient.ApiClient, ns: str, lease: str, identity: str, **kw: Any) -> None:
        self.identity = identity
        self.leading = asyncio.Event()
        self.stopped = 0
        self.leaders: list[str] = []
        config = LeaderElectionConfig(
            ns, lease, identity, lease_duration=3.0, renew_deadline=2.0, retry_period=0.4, **kw
        )
        self.elector = LeaderElector(
            api,
            config,
            on_started_leading=self._lead,
            on_stopped_leading=self._stop,
            on_new_leader=self.leaders.append,
        )
        self.task: asyncio.Task[None] | None = None

    async def _lead(self) -> None:
        self.leading.set()
        await asyncio.Event().wait()  # lead until cancelled

    def _stop(self) -> None:
        self.stopped += 1
        self.leading.clear()

    def start(self) -> None:
        self.task = asyncio.create_task(self.elector.run(), name=f"elector:{self.identity}")

    async def cancel(self) -> None:
        assert self.task is not None
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


async def test_one_leader_and_hand_over_on_release(api: kclient.ApiClient, provider_namespace: str) -> None:
    lease = f"lock-{uuid.uuid4().hex[:6]}"
    a = Candidate(api, provider_namespace, lease, "a")
    a.start()
    async with asyncio.timeout(10):
        await a.leading.wait()
    b = Candidate(api, provider_namespace, lease, "b")
    b.start()
    await asyncio.sleep(2.0)  # several retry periods: b must not take a lease a keeps renewing
    assert a.elector.is_leader() and not b.elector.is_leader()
    assert b.leaders == ["a"]
    obj = await api.get(LEASES, lease, namespace=provider_namespace)
    assert obj["spec"]["holderIdentity"] == "a" and obj["spec"]["leaseDurationSeconds"] == 3

    released_at = time.monotonic()
    await a.cancel()
    assert a.stopped == 1 and not a.elector.is_leader()
    async with asyncio.timeout(10):
        await b.leading.wait()
    assert time.monotonic() - released_at < 2.5, "a released lease is taken without waiting for expiry"
    obj = await api.get(LEASES, lease, namespace=provider_namespace)
    assert obj["spec"]["holderIdentity"] == "b"
    assert obj["spec"]["leaseTransitions"] == 0, "taking a released lease is not a transition from a holder"
    await b.cancel()
    obj = await api.get(LEASES, lease, namespace=provider_namespace)
    assert obj["spec"]["holderIdentity"] == ""


async def test_take_over_after_expiry_when_the_leader_vanishes(
    api: kclient.ApiClient, provider_namespace: str
) -> None:
    lease = f"lock-{uuid.uuid4().hex[:6]}"
    a = Candidate(api, provider_namespace, lease, "a", release_on_cancel=False)
    a.start()
    async with asyncio.timeout(10):
        await a.leading.wait()
    b = Candidate(api, provider_namespace, lease, "b")
    b.start()
    await asyncio.sleep(0.5)
    vanished_at = time.monotonic()
    await a.cancel()  # no release: b must wait for the lease to expire
    async with asyncio.timeout(15):
        await b.leading.wait()
    waited = time.monotonic() - vanished_at
    assert waited >= 2.0, f"took over after {waited:.1f}s, before the 3s lease could expire"
    obj = await api.get(LEASES, lease, namespace=provider_namespace)
    assert obj["spec"]["holderIdentity"] == "b" and obj["spec"]["leaseTransitions"] == 1
    await b.cancel()


async def test_leader_steps_down_when_it_cannot_renew(
    api: kclient.ApiClient, provider_namespace: str
) -> None:
    lease = f"lock-{uuid.uuid4().hex[:6]}"
    a = Candidate(api, provider_namespace, lease, "a")
    a.start()
    async with asyncio.timeout(10):
        await a.leading.wait()
    for _ in range(10):  # races with a's renewals
        obj = await api.get(LEASES, lease, namespace=provider_namespace)
        obj["spec"]["holderIdentity"] = "intruder"
        obj["spec"]["leaseDurationSeconds"] = 60
        try:
            await api.update(LEASES, obj)
            break
        except errors.ConflictError:
            continue
    else:
        raise AssertionError("could not steal the lease")
    assert a.task is not None
    async with asyncio.timeout(10):
        await a.task  # run() returns once leadership is lost
    assert a.stopped == 1 and not a.leading.is_set() and not a.elector.is_leader()
    obj = await api.get(LEASES, lease, namespace=provider_namespace)
    assert obj["spec"]["holderIdentity"] == "intruder", (
        "a deposed leader must not release someone else's lease"
    )


async def test_only_one_of_many_racing_electors_leads(
    api: kclient.ApiClient, provider_namespace: str
) -> None:
    lease = f"lock-{uuid.uuid4().hex[:6]}"
    candidates = [Candidate(api, provider_namespace, lease, f"c{i}") for i in range(4)]
    for c in candidates:
        c.start()
    await eventually(lambda: any(c.leading.is_set() for c in candidates), what="a leader")
    await asyncio.sleep(1.5)
    assert sum(c.elector.is_leader() for c in candidates) == 1
    for c in candidates:
        await c.cancel()
