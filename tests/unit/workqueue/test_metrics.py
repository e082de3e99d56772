"""Queue metrics reach a caller-owned Prometheus registry; nothing is registered at import time."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest
from prometheus_client import CollectorRegistry

from kubebind.runtime.clock import FakeClock
from kubebind.workqueue import PrometheusMetricsProvider, Queue, RateLimitingQueue
from kubebind.workqueue.ratelimiters import ItemExponentialFailureRateLimiter

pytestmark = pytest.mark.timeout(30)


def sample(registry: CollectorRegistry, metric: str, **labels: str) -> float | None:
    return registry.get_sample_value(metric, labels)


async def test_depth_adds_latency_work_and_retries_are_recorded() -> None:
    registry = CollectorRegistry()
    clock = FakeClock()
    provider = PrometheusMetricsProvider(registry)
    q = RateLimitingQueue[str](
        "bindings", metrics=provider, clock=clock, rate_limiter=ItemExponentialFailureRateLimiter(1, 10)
    )
    q.add("a")
    q.add("b")
    q.add("a")
    assert sample(registry, "kube_bind_workqueue_depth", name="bindings") == 2
    assert sample(registry, "kube_bind_workqueue_adds_total", name="bindings") == 2
    clock.step(3)
    item = await q.get()
    assert sample(registry, "kube_bind_workqueue_depth", name="bindings") == 1
    assert sample(registry, "kube_bind_workqueue_queue_duration_seconds_sum", name="bindings") == 3
    clock.step(2)
    q.update_unfinished_work()
    assert sample(registry, "kube_bind_workqueue_unfinished_work_seconds", name="bindings") == 2
    assert sample(registry, "kube_bind_workqueue_longest_running_processor_seconds", name="bindings") == 2
    q.add_rate_limited(item)
    q.done(item)
    assert sample(registry, "kube_bind_workqueue_work_duration_seconds_sum", name="bindings") == 2
    assert sample(registry, "kube_bind_workqueue_work_duration_seconds_count", name="bindings") == 1
    assert sample(registry, "kube_bind_workqueue_retries_total", name="bindings") == 1
    q.shut_down()
    await asyncio.sleep(0)


def test_providers_on_separate_registries_do_not_clash() -> None:
    a, b = CollectorRegistry(), CollectorRegistry()
    Queue[str]("same", metrics=PrometheusMetricsProvider(a)).add("x")
    Queue[str]("same", metrics=PrometheusMetricsProvider(b))
    assert sample(a, "kube_bind_workqueue_adds_total", name="same") == 1
    assert sample(b, "kube_bind_workqueue_adds_total", name="same") == 0


def test_importing_registers_nothing_globally() -> None:
    code = (
        "import prometheus_client, kubebind.workqueue, kubebind.cache, kubebind.runtime, kubebind.kube;"
        "names = [m.name for m in prometheus_client.REGISTRY.collect()];"
        "assert not [n for n in names if 'kube_bind' in n], names"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=25)
