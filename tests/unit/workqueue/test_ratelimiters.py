"""Retry policies: per-item exponential (with bounded jitter), token bucket, max-of, and the queue."""

from __future__ import annotations

import asyncio

import pytest

from kubebind.runtime.clock import FakeClock
from kubebind.workqueue import (
    BucketRateLimiter,
    ItemExponentialFailureRateLimiter,
    MaxOfRateLimiter,
    RateLimitingQueue,
    default_controller_rate_limiter,
)

pytestmark = pytest.mark.timeout(10)


def test_exponential_doubles_per_item_and_caps() -> None:
    rl: ItemExponentialFailureRateLimiter[str] = ItemExponentialFailureRateLimiter(0.01, 0.1)
    assert [rl.when("a") for _ in range(6)] == pytest.approx([0.01, 0.02, 0.04, 0.08, 0.1, 0.1])
    assert rl.when("b") == pytest.approx(0.01), "items back off independently"
    assert rl.num_requeues("a") == 6
    rl.forget("a")
    assert rl.num_requeues("a") == 0
    assert rl.when("a") == pytest.approx(0.01)


def test_exponential_survives_huge_failure_counts() -> None:
    rl: ItemExponentialFailureRateLimiter[str] = ItemExponentialFailureRateLimiter(0.005, 1000)
    for _ in range(1100):
        delay = rl.when("a")
    assert delay == 1000


def test_exponential_jitter_is_bounded_and_capped() -> None:
    rl = ItemExponentialFailureRateLimiter[str](1.0, 5.0, jitter=0.5, rand=lambda: 1.0)
    assert [rl.when("a") for _ in range(4)] == pytest.approx([1.5, 3.0, 5.0, 5.0])
    rl0 = ItemExponentialFailureRateLimiter[str](1.0, 5.0, jitter=0.5, rand=lambda: 0.0)
    assert rl0.when("a") == pytest.approx(1.0)


def test_invalid_parameters_are_rejected() -> None:
    with pytest.raises(ValueError):
        ItemExponentialFailureRateLimiter[str](0, 1)
    with pytest.raises(ValueError):
        ItemExponentialFailureRateLimiter[str](2, 1)
    with pytest.raises(ValueError):
        BucketRateLimiter[str](0, 1)
    with pytest.raises(ValueError):
        MaxOfRateLimiter[str]()


def test_bucket_allows_burst_then_spaces_at_qps() -> None:
    clock = FakeClock()
    rl: BucketRateLimiter[str] = BucketRateLimiter(qps=10, burst=3, clock=clock)
    assert [rl.when(str(i)) for i in range(3)] == [0, 0, 0]
    assert rl.when("x") == pytest.approx(0.1)
    assert rl.when("y") == pytest.approx(0.2)
    clock.step(1.0)  # refills 10 tokens, but never beyond the burst
    assert [rl.when(str(i)) for i in range(3)] == [0, 0, 0]
    assert rl.when("z") == pytest.approx(0.1)
    assert rl.num_requeues("z") == 0


def test_max_of_takes_the_longest_delay() -> None:
    clock = FakeClock()
    rl = MaxOfRateLimiter[str](
        ItemExponentialFailureRateLimiter(1.0, 100.0), BucketRateLimiter(qps=1, burst=1, clock=clock)
    )
    assert rl.when("a") == 1.0  # exponential 1, bucket 0
    assert rl.when("a") == 2.0  # exponential 2, bucket 1
    assert rl.num_requeues("a") == 2
    rl.forget("a")
    assert rl.num_requeues("a") == 0


def test_default_controller_limiter_matches_client_go() -> None:
    rl: MaxOfRateLimiter[str] = default_controller_rate_limiter(clock=FakeClock())
    assert rl.when("a") == pytest.approx(0.005)
    assert rl.when("a") == pytest.approx(0.01)


async def test_rate_limiting_queue_retries_after_limiter_delay() -> None:
    clock = FakeClock()
    q = RateLimitingQueue[str]("t", rate_limiter=ItemExponentialFailureRateLimiter(1.0, 60.0), clock=clock)
    q.add("a")
    item = await q.get()
    q.add_rate_limited(item)
    q.done(item)
    assert q.num_requeues("a") == 1
    await clock.advance(0.5)
    assert len(q) == 0
    await clock.advance(0.5)
    for _ in range(10):
        await asyncio.sleep(0)
    assert len(q) == 1
    q.done(await q.get())
    q.add_rate_limited("a")
    assert q.num_requeues("a") == 2
    q.forget("a")
    assert q.num_requeues("a") == 0
    q.shut_down()
