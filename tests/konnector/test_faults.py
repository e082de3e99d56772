"""Faults: objects deleted behind the konnector's back, token rotation mid-sync, leader failover."""

from __future__ import annotations

import asyncio

import pytest

from kubebind.apis import constants
from kubebind.kube.client import ApiClient
from kubebind.kube.resources import SECRETS
from tests.konnector import env as envmod
from tests.konnector.conftest import Binder, KonnectorRunner, get_or_none, wait_for

pytestmark = pytest.mark.cluster

COWBOYS = envmod.COWBOYS


async def _count(client: ApiClient, namespace: str) -> int:
    items, _ = await client.list_all(COWBOYS, namespace=namespace)
    return len(items)


async def _ready_binding(
    penv: envmod.ProviderEnv, bind: Binder, admin_consumer: ApiClient, name: str
) -> None:
    await bind(penv, name)

    async def established() -> bool:
        crd = await get_or_none(admin_consumer, envmod.CUSTOM_RESOURCE_DEFINITIONS, "cowboys.wildwest.dev")
        return bool(crd) and any(
            c["type"] == "Established" and c["status"] == "True"
            for c in ((crd or {}).get("status") or {}).get("conditions") or []
        )

    await wait_for(established, what="cowboys CRD")


async def test_provider_copy_deleted_behind_the_back_is_recreated(
    penv: envmod.ProviderEnv,
    run_konnector: KonnectorRunner,
    bind: Binder,
    admin_consumer: ApiClient,
    admin_provider: ApiClient,
    consumer_namespace: str,
) -> None:
    name = envmod.unique("cowboys")
    await penv.export(name, [envmod.cowboy_crd()])
    await run_konnector()
    await _ready_binding(penv, bind, admin_consumer, name)
    await admin_consumer.create(
        COWBOYS, {"metadata": {"name": "jesse"}, "spec": {"intent": "ride"}}, namespace=consumer_namespace
    )
    provider_ns = f"{penv.cluster_namespace}-{consumer_namespace}"
    first = await wait_for(lambda: get_or_none(admin_provider, COWBOYS, "jesse", provider_ns), what="copy")
    await admin_provider.delete(COWBOYS, "jesse", namespace=provider_ns)

    async def recreated() -> bool:
        p = await get_or_none(admin_provider, COWBOYS, "jesse", provider_ns)
        return p is not None and p["metadata"]["uid"] != first["metadata"]["uid"]

    await wait_for(recreated, what="provider copy recreated")
    c = await admin_consumer.get(COWBOYS, "jesse", namespace=consumer_namespace)
    assert constants.FINALIZER_SYNCER in c["metadata"]["finalizers"]


async def test_token_rotation_mid_sync(
    penv: envmod.ProviderEnv,
    run_konnector: KonnectorRunner,
    bind: Binder,
    admin_consumer: ApiClient,
    admin_provider: ApiClient,
    consumer_namespace: str,
) -> None:
    """The backend rotates the token and revokes the old one; sync continues without restarts."""
    await penv.rotate_token(bound_secret="token-1")
    name = envmod.unique("cowboys")
    await penv.export(name, [envmod.cowboy_crd()])
    k = await run_konnector()
    await _ready_binding(penv, bind, admin_consumer, name)
    provider_ns = f"{penv.cluster_namespace}-{consumer_namespace}"

    async def create_many(prefix: str, n: int) -> None:
        for i in range(n):
            await admin_consumer.create(
                COWBOYS,
                {"metadata": {"name": f"{prefix}-{i}"}, "spec": {"intent": "x"}},
                namespace=consumer_namespace,
            )
            await asyncio.sleep(0.02)

    writer = asyncio.create_task(create_many("before", 40))
    await asyncio.sleep(0.3)
    await penv.rotate_token(bound_secret="token-2")
    await admin_provider.delete(SECRETS, "token-1", namespace=penv.cluster_namespace)  # revokes the old token
    await writer
    await create_many("after", 20)
    await wait_for(
        lambda: _eq(_count(admin_provider, provider_ns), 60), timeout=60, what="60 provider copies"
    )

    async def consumer_secret_rotated() -> bool:
        s = await admin_consumer.get(SECRETS, "kubeconfig-provider", namespace=consumer_namespace)
        return envmod.base64.b64decode(s["data"]["kubeconfig"]) == penv.kubeconfig

    await wait_for(consumer_secret_rotated, what="consumer secret updated by heartbeat")
    provider = next(iter(k.providers.values()))
    assert provider.client.config.bearer_token() == penv.token
    # One connection kept throughout: the provider was never restarted.
    assert len(k.providers) == 1


async def test_two_replicas_only_leader_writes_and_fails_over(
    penv: envmod.ProviderEnv,
    run_konnector: KonnectorRunner,
    bind: Binder,
    admin_consumer: ApiClient,
    admin_provider: ApiClient,
    consumer_namespace: str,
) -> None:
    name = envmod.unique("cowboys")
    await penv.export(name, [envmod.cowboy_crd()])
    a = await run_konnector(identity="replica-a")
    b = await run_konnector(identity="replica-b")
    await _ready_binding(penv, bind, admin_consumer, name)
    await wait_for(lambda: _true(a.leading or b.leading), what="a leader")
    leader, standby = (a, b) if a.leading else (b, a)
    assert not standby.leading and not standby.providers
    provider_ns = f"{penv.cluster_namespace}-{consumer_namespace}"
    await admin_consumer.create(
        COWBOYS, {"metadata": {"name": "one"}, "spec": {"intent": "x"}}, namespace=consumer_namespace
    )
    await wait_for(lambda: get_or_none(admin_provider, COWBOYS, "one", provider_ns), what="synced by leader")
    # Only the leader holds provider connections (and therefore writes).
    assert leader.providers and not standby.providers
    # Take the leader down hard: no lease release (as if the process died).
    await run_konnector.stop(leader, release_lease=False)
    started = asyncio.get_running_loop().time()
    await wait_for(lambda: _true(standby.leading), timeout=20, what="standby takes over")
    took = asyncio.get_running_loop().time() - started
    assert took <= standby.options.lease_duration + 3 * standby.options.retry_period + 1, took
    await admin_consumer.create(
        COWBOYS, {"metadata": {"name": "two"}, "spec": {"intent": "y"}}, namespace=consumer_namespace
    )
    await wait_for(
        lambda: get_or_none(admin_provider, COWBOYS, "two", provider_ns), what="synced by new leader"
    )


async def _true(value: bool) -> bool:
    return value


async def _eq(value: object, want: object) -> bool:
    return (await value) == want  # type: ignore[misc]
