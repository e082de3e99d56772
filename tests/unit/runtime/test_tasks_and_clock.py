"""Supervisor (named tasks, restart with backoff, stop) and the fake clock itself."""

from __future__ import annotations

import asyncio

import pytest

from kubebind.runtime.clock import Clock, FakeClock, RealClock
from kubebind.runtime.leaderelection import LeaderElectionConfig
from kubebind.runtime.tasks import Supervisor, cancel_and_wait

pytestmark = pytest.mark.timeout(10)


async def test_fake_clock_sleeps_until_stepped() -> None:
    clock = FakeClock()
    assert isinstance(clock, Clock) and isinstance(RealClock(), Clock)
    woke: list[str] = []

    async def sleeper(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append(name)

    tasks = [asyncio.create_task(sleeper("a", 5)), asyncio.create_task(sleeper("b", 2))]
    await asyncio.sleep(0)
    assert clock.waiters() == 2 and clock.next_deadline() == clock.now() + 2
    await clock.advance(1)
    assert woke == []
    await clock.advance(1)
    assert woke == ["b"]
    await clock.advance(10)
    assert woke == ["b", "a"]
    await asyncio.gather(*tasks)
    before = clock.utcnow()
    clock.step(90)
    assert (clock.utcnow() - before).total_seconds() == 90
    with pytest.raises(ValueError):
        clock.step(-1)


async def test_supervisor_runs_named_tasks_and_stops_them() -> None:
    async with Supervisor("sup") as sup:
        started = asyncio.Event()

        async def forever() -> None:
            started.set()
            await asyncio.Event().wait()

        task = sup.start("loop", forever)
        assert task.get_name() == "sup/loop"
        await started.wait()
        with pytest.raises(ValueError):
            sup.start("loop", forever)
        assert sup.names() == ["loop"] and sup.running("loop")
        await sup.stop("loop")
        assert task.cancelled() and not sup.running("loop")
        sup.start("loop", forever)  # the name is free again
    assert sup.names() == []


async def test_supervisor_records_failures_and_restarts_with_backoff() -> None:
    clock = FakeClock()
    sup = Supervisor("sup", clock=clock, backoff_initial=1.0, backoff_max=8.0)
    runs = 0

    async def flaky() -> None:
        nonlocal runs
        runs += 1
        if runs < 3:
            raise RuntimeError(f"fail {runs}")

    async def broken() -> None:
        raise RuntimeError("once")

    sup.start("flaky", flaky, restart=True)
    sup.start("broken", broken)
    for _ in range(5):
        await asyncio.sleep(0)
    assert runs == 1 and str(sup.failures["broken"]) == "once" and not sup.running("broken")
    for _ in range(10):
        await clock.advance(1)
    assert runs == 3
    for _ in range(5):
        await asyncio.sleep(0)
    assert not sup.running("flaky")
    await sup.stop_all()


async def test_cancel_and_wait_respects_grace() -> None:
    async def stubborn() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            await asyncio.sleep(0.2)

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    await cancel_and_wait([task], grace=0.01)
    assert not task.done()
    await task


def test_leader_election_config_is_validated() -> None:
    LeaderElectionConfig("ns", "lease", "me")
    with pytest.raises(ValueError):
        LeaderElectionConfig("ns", "lease", "")
    with pytest.raises(ValueError):
        LeaderElectionConfig("ns", "lease", "me", lease_duration=10, renew_deadline=10)
    with pytest.raises(ValueError):
        LeaderElectionConfig("ns", "lease", "me", renew_deadline=2, retry_period=2)


def test_default_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    from kubebind.runtime.leaderelection import default_identity

    monkeypatch.setenv("POD_NAME", "konnector-7d9f-abcde")
    assert default_identity() == "konnector-7d9f-abcde"
    monkeypatch.delenv("POD_NAME")
    first, second = default_identity(), default_identity()
    assert first != second and "_" in first
