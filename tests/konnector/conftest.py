"""Fixtures for konnector tests: provider-side state as the backend would mint it, konnectors.

* ``admin_provider`` / ``admin_consumer``: async admin :class:`ApiClient` per test.
* ``penv``: a :class:`tests.konnector.env.ProviderEnv` — a fresh consumer cluster namespace on the
  provider with least-privilege credentials (see env.py); torn down afterwards.
* ``run_konnector``: start an in-process konnector (asyncio task) with test-friendly timings;
  every konnector started is stopped at teardown.
* ``bind``: create the consumer kubeconfig Secret and the APIServiceBinding; the teardown deletes
  the binding and waits for the clean unbind (the consumer CRDs are cluster-wide, so the next
  test can bind the same CRD again).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol

import pytest

from konnector import kinds
from konnector.konnector import Konnector
from konnector.options import Options
from kubebind.apis import constants
from kubebind.kube import errors
from kubebind.kube.client import ApiClient
from kubebind.kube.resources import CUSTOM_RESOURCE_DEFINITIONS, SECRETS, Object
from kubebind.localcluster.ports import free_port
from tests.harness import Cluster
from tests.konnector import env as envmod

pytestmark = pytest.mark.cluster


@pytest.fixture
async def admin_provider(provider: Cluster) -> AsyncIterator[ApiClient]:
    client = ApiClient.from_kubeconfig(str(provider.kubeconfig), qps=500, burst=1000)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
async def admin_consumer(consumer: Cluster) -> AsyncIterator[ApiClient]:
    client = ApiClient.from_kubeconfig(str(consumer.kubeconfig), qps=500, burst=1000)
    try:
        yield client
    finally:
        await client.aclose()


_kinds_ready = False


@pytest.fixture
async def provider_kinds(admin_provider: ApiClient) -> None:
    global _kinds_ready
    if not _kinds_ready:
        await envmod.ensure_provider_kinds(admin_provider)
        await envmod.ensure_crd(admin_provider, envmod.cowboy_crd())
        _kinds_ready = True


@pytest.fixture
async def penv(
    provider_kinds: None, admin_provider: ApiClient, provider: Cluster, tmp_path: Path
) -> AsyncIterator[envmod.ProviderEnv]:
    e = envmod.ProviderEnv(admin_provider, provider, envmod.unique("kube-bind"), tmp_path)
    await e.setup()
    try:
        yield e
    finally:
        await e.teardown()


class KonnectorRunner:
    """Starts in-process konnectors (asyncio tasks) and stops them; all are stopped at teardown."""

    def __init__(self, consumer: Cluster, lease_namespace: str) -> None:
        self.consumer = consumer
        self.lease_namespace = lease_namespace
        self.running: dict[int, tuple[Konnector, asyncio.Task[None]]] = {}

    async def __call__(self, **overrides: Any) -> Konnector:
        opts = Options(
            kubeconfig=str(self.consumer.kubeconfig),
            lease_namespace=self.lease_namespace,
            lease_name="kube-bind",
            server_address=f"127.0.0.1:{free_port()}",
            heartbeat_interval=4.0,
            resync_period=30.0,
            provider_polling_interval=1.0,
            lease_duration=4.0,
            renew_deadline=3.0,
            retry_period=0.5,
            qps=200,
            burst=400,
            provider_qps=200,
            provider_burst=400,
        )
        for key, value in overrides.items():
            setattr(opts, key, value)
        k = Konnector(opts)
        task = asyncio.get_running_loop().create_task(k.run())
        self.running[id(k)] = (k, task)
        await asyncio.wait_for(k.started.wait(), 60)
        return k

    async def stop(self, k: Konnector, *, release_lease: bool = True) -> None:
        entry = self.running.pop(id(k), None)
        if entry is None:
            return
        if not release_lease:  # as if the process died: nobody releases the Lease
            k.elector.config = dataclasses.replace(k.elector.config, release_on_cancel=False)
        task = entry[1]
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        await k.aclose()

    async def stop_all(self) -> None:
        for k, _ in list(self.running.values()):
            await self.stop(k)


@pytest.fixture
async def run_konnector(consumer: Cluster, consumer_namespace: str) -> AsyncIterator[KonnectorRunner]:
    runner = KonnectorRunner(consumer, consumer_namespace)
    try:
        yield runner
    finally:
        await runner.stop_all()


async def wait_for(
    predicate: Callable[[], Awaitable[Any]],
    timeout: float = 30.0,  # noqa: ASYNC109 - a polling deadline, not an I/O timeout
    interval: float = 0.1,
    what: str = "condition",
) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = await predicate()
        except errors.ApiError as exc:
            last = exc
        else:
            if last:
                return last
        await asyncio.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


async def get_or_none(client: ApiClient, ref: Any, name: str, namespace: str | None = None) -> Object | None:
    try:
        return await client.get(ref, name, namespace=namespace)
    except errors.ApiError as exc:
        if errors.is_not_found(exc):
            return None
        raise


Binder = Callable[..., Awaitable[Object]]


class MintedKubeconfig(Protocol):
    """What :func:`bind` needs of a provider: the kubeconfig it minted for this consumer."""

    @property
    def kubeconfig(self) -> bytes: ...


@pytest.fixture
async def bind(admin_consumer: ApiClient, consumer_namespace: str) -> AsyncIterator[Binder]:
    created: list[str] = []

    async def do_bind(e: MintedKubeconfig, name: str, *, secret_name: str = "kubeconfig-provider") -> Object:
        data = {constants.KUBECONFIG_SECRET_KEY: base64.b64encode(e.kubeconfig).decode()}
        try:
            await admin_consumer.create(
                SECRETS,
                {"metadata": {"name": secret_name}, "type": "Opaque", "data": data},
                namespace=consumer_namespace,
            )
        except errors.ApiError as exc:
            if not errors.is_already_exists(exc):
                raise
        created.append(name)
        return await admin_consumer.create(
            kinds.API_SERVICE_BINDINGS,
            {
                "metadata": {"name": name},
                "spec": {
                    "kubeconfigSecretRef": {
                        "namespace": consumer_namespace,
                        "name": secret_name,
                        "key": constants.KUBECONFIG_SECRET_KEY,
                    }
                },
            },
        )

    try:
        yield do_bind
    finally:
        for name in created:
            with contextlib.suppress(errors.ApiError):
                await admin_consumer.delete(kinds.API_SERVICE_BINDINGS, name)
        for name in created:

            async def gone(name: str = name) -> bool:
                return await get_or_none(admin_consumer, kinds.API_SERVICE_BINDINGS, name) is None

            with contextlib.suppress(AssertionError):
                await wait_for(gone, timeout=30, interval=0.2, what=f"binding {name} unbound")
            b = await get_or_none(admin_consumer, kinds.API_SERVICE_BINDINGS, name)
            if b is not None:  # konnector already gone: drop the finalizer so the session stays clean
                with contextlib.suppress(errors.ApiError):
                    await admin_consumer.patch(
                        kinds.API_SERVICE_BINDINGS, name, {"metadata": {"finalizers": None}}
                    )


async def drop_crd(admin_consumer: ApiClient, name: str) -> None:
    with contextlib.suppress(errors.ApiError):
        await admin_consumer.delete(CUSTOM_RESOURCE_DEFINITIONS, name)
