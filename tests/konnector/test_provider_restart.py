"""Fault: the provider kube-apiserver restarts in the middle of a sync.

The session's provider is shared, so this test starts a dedicated kube-apiserver (its own name,
etcd prefix and PKI) on the session etcd, points the consumer's binding at it, and restarts it
while objects are being created. The konnector must finish the sync without manual action.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from kubebind.kube.client import ApiClient
from kubebind.localcluster.apiserver import KubeAPIServer
from kubebind.localcluster.cluster import ClusterPair
from tests.konnector import env as envmod
from tests.konnector.conftest import Binder, KonnectorRunner, get_or_none, wait_for

pytestmark = pytest.mark.cluster

COWBOYS = envmod.COWBOYS


@dataclass
class _Endpoint:
    url: str
    ca_file: Path


@pytest.fixture
async def dedicated_provider(cluster_pair: ClusterPair, tmp_path: Path) -> AsyncIterator[KubeAPIServer]:
    assert cluster_pair.etcd is not None
    name = f"provider-restart-{uuid.uuid4().hex[:6]}"
    server = KubeAPIServer(
        name,
        cluster_pair.provider.apiserver.binary,
        tmp_path / name,
        cluster_pair.etcd.endpoint,
        service_cidr="10.42.0.0/24",
    ).start()
    try:
        await asyncio.to_thread(server.wait_ready, 90)
        yield server
    finally:
        server.stop()


async def test_provider_apiserver_restart_mid_sync(
    dedicated_provider: KubeAPIServer,
    run_konnector: KonnectorRunner,
    bind: Binder,
    admin_consumer: ApiClient,
    consumer_namespace: str,
    tmp_path: Path,
) -> None:
    server = dedicated_provider
    admin = ApiClient.from_kubeconfig(str(server.admin_kubeconfig), qps=500, burst=1000)
    try:
        await envmod.ensure_provider_kinds(admin)
        await envmod.ensure_crd(admin, envmod.cowboy_crd())
        penv = envmod.ProviderEnv(
            admin, _Endpoint(server.url, server.pki.ca.cert), envmod.unique("kube-bind"), tmp_path
        )
        await penv.setup()
        name = envmod.unique("cowboys")
        await penv.export(name, [envmod.cowboy_crd()])
        await run_konnector()
        await bind(penv, name)

        async def established() -> bool:
            crd = await get_or_none(
                admin_consumer, envmod.CUSTOM_RESOURCE_DEFINITIONS, "cowboys.wildwest.dev"
            )
            conds = ((crd or {}).get("status") or {}).get("conditions") or []
            return any(c["type"] == "Established" and c["status"] == "True" for c in conds)

        await wait_for(established, what="CRD")
        provider_ns = f"{penv.cluster_namespace}-{consumer_namespace}"
        total = 100

        async def create_all() -> None:
            for i in range(total):
                await admin_consumer.create(
                    COWBOYS,
                    {"metadata": {"name": f"r-{i:03d}"}, "spec": {"intent": "x"}},
                    namespace=consumer_namespace,
                )
                await asyncio.sleep(0.03)

        writer = asyncio.create_task(create_all())

        async def count() -> int:
            items, _ = await admin.list_all(COWBOYS, namespace=provider_ns)
            return len(items)

        await wait_for(lambda: _ge(count(), 10), timeout=60, what="sync under way")
        await asyncio.to_thread(server.stop)
        await asyncio.sleep(2.0)
        server.start()
        await asyncio.to_thread(server.wait_ready, 90)
        await writer
        await wait_for(
            lambda: _ge(count(), total), timeout=120, interval=0.5, what="all synced after restart"
        )
        # Status still flows after the restart (watches re-established).
        await admin.patch(
            COWBOYS, "r-099", {"status": {"result": "back"}}, namespace=provider_ns, subresource="status"
        )

        async def status_back() -> bool:
            o = await admin_consumer.get(COWBOYS, "r-099", namespace=consumer_namespace)
            return o.get("status") == {"result": "back"}

        await wait_for(status_back, timeout=60, what="status after restart")
        await admin_consumer.delete_collection(COWBOYS, namespace=consumer_namespace)

        async def drained() -> bool:
            items, _ = await admin_consumer.list_all(COWBOYS, namespace=consumer_namespace)
            return not items

        await wait_for(drained, timeout=60, what="instances deleted")
    finally:
        await admin.aclose()


async def _ge(value: object, want: int) -> bool:
    return (await value) >= want  # type: ignore[misc]
