"""Fault: the real backend restarts while the konnector is syncing.

Everything on the provider side is the real thing here, not the ``env.py`` stand-in: a dedicated
provider control plane (so the session provider's aggregated registration is not disturbed), the
``kube-bind-backend`` process on Postgres registered as its ``v1alpha2.kube-bind.io`` APIService,
a CLI login against the embedded OIDC issuer, ``POST /api/bind``, the export request turned into
an APIServiceExport and BoundSchema by the backend's controllers, and the consumer bound with the
kubeconfig the backend minted. The backend is then restarted in the middle of a burst of creates:
the konnector's watches on the kube-bind kinds break (503 from the aggregator while it is down)
and must resume by themselves; every object is synced exactly once, status still flows back, and
the heartbeat reaches the restarted backend.
"""

from __future__ import annotations

import asyncio
import base64
import ssl
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx
import pytest
import yaml

from konnector import kinds
from kubebind.apis import conditions, constants
from kubebind.kube.client import ApiClient
from kubebind.localcluster.cluster import ClusterPair
from kubebind.localcluster.postgres import Postgres
from tests import harness
from tests.aggregated.backend import KubeBindBackend
from tests.harness import Cluster
from tests.konnector import env as envmod
from tests.konnector.conftest import Binder, KonnectorRunner, drop_crd, get_or_none, wait_for
from tests.service.conftest import cli_login, template
from tests.service.helpers import bind_body, request_export

pytestmark = [pytest.mark.cluster, pytest.mark.postgres, pytest.mark.timeout(300)]

COWBOYS = envmod.COWBOYS
TEMPLATES = kinds.ref_for("APIServiceExportTemplate")
BURST = 120


@dataclass(frozen=True)
class Minted:
    kubeconfig: bytes


@pytest.fixture
async def real_backend(
    extra_cluster: Callable[[str], Cluster],
    cluster_pair: ClusterPair,
    postgres_server: Postgres,
    tmp_path: Path,
) -> AsyncIterator[tuple[KubeBindBackend, dict[str, str]]]:
    provider = await asyncio.to_thread(extra_cluster, "kbrestart")
    backend = KubeBindBackend(provider, cluster_pair.clusters[provider.name], tmp_path / "backend")
    (tmp_path / "backend").mkdir(exist_ok=True)
    env = {"KUBE_BIND_OIDC_CA_FILE": str(backend.ca_file), "KUBE_BIND_HEARTBEAT_CHECK_SECONDS": "2"}
    await asyncio.to_thread(backend.register)
    url = postgres_server.create_database(f"restart_{uuid.uuid4().hex[:10]}")
    try:
        await asyncio.to_thread(backend.start, url, env)
        yield backend, env
    finally:
        await asyncio.to_thread(backend.stop)
        await asyncio.to_thread(backend.unregister)


async def test_backend_restart_mid_sync(
    real_backend: tuple[KubeBindBackend, dict[str, str]],
    admin_consumer: ApiClient,
    consumer_namespace: str,
    run_konnector: KonnectorRunner,
    bind: Binder,
) -> None:
    backend, env = real_backend
    admin_p = ApiClient.from_kubeconfig(str(backend.kubeconfig), http2=False)
    consumer_client: ApiClient | None = None
    try:
        # Provider: the exported Cowboys CRD and its template, the template through the aggregated API.
        await envmod.ensure_crd(admin_p, harness.wildwest_crd())
        await admin_p.create(TEMPLATES, template("cowboys", "cowboys", "Namespaced"))

        # Consumer admin: log in and bind, as `kubectl bind apiservice` does.
        verify = ssl.create_default_context(cafile=str(backend.ca_file))
        token = (await cli_login(backend.url, verify=verify))["access_token"]
        async with httpx.AsyncClient(
            base_url=backend.url, verify=verify, headers={"Authorization": f"Bearer {token}"}, timeout=60
        ) as http:
            r = await http.post("/api/bind", json=bind_body("cowboys", "cowboys", f"restart-{uuid.uuid4()}"))
        assert r.status_code == 200, r.text
        response = r.json()
        raw_kubeconfig = base64.b64decode(response["kubeconfig"])
        cluster_ns = yaml.safe_load(raw_kubeconfig)["contexts"][0]["context"]["namespace"]
        consumer_client = ApiClient.from_kubeconfig(raw_kubeconfig, http2=False)
        req = await request_export(consumer_client, cluster_ns, response)
        assert req["status"]["phase"] == "Succeeded", req["status"]
        binding_name = str(req["metadata"]["name"])

        # Consumer cluster: konnector, kubeconfig Secret and APIServiceBinding.
        await run_konnector()
        await bind(Minted(raw_kubeconfig), binding_name, secret_name="kubeconfig-restart")

        async def ready() -> bool:
            b = await admin_consumer.get(kinds.API_SERVICE_BINDINGS, binding_name)
            return conditions.is_true(b, constants.CONDITION_READY)

        await wait_for(ready, timeout=60, what="binding Ready through the real backend")
        pns = f"{cluster_ns}-{consumer_namespace}"

        # A burst of creates; the backend restarts in the middle of it.
        names = [f"cowboy-{i:03d}" for i in range(BURST)]

        async def create_all() -> None:
            for i, name in enumerate(names):
                await admin_consumer.create(
                    COWBOYS,
                    {"metadata": {"name": name}, "spec": {"intent": f"ride-{i}"}},
                    namespace=consumer_namespace,
                )
                await asyncio.sleep(0.02)

        creator = asyncio.create_task(create_all())
        await asyncio.sleep(0.5)
        restarted_at = datetime.now().astimezone()
        await asyncio.to_thread(backend.restart, env)
        await creator

        async def all_synced() -> bool:
            items, _ = await admin_p.list_all(COWBOYS, namespace=pns)
            return len(items) >= BURST

        await wait_for(
            all_synced, timeout=120, interval=0.5, what=f"{BURST} provider copies after the restart"
        )
        items, _ = await admin_p.list_all(COWBOYS, namespace=pns)
        assert sorted(o["metadata"]["name"] for o in items) == names, "exactly one copy per consumer object"
        for o in items:
            i = int(o["metadata"]["name"].split("-")[1])
            assert o["spec"]["intent"] == f"ride-{i}"

        # Status still flows back after the restart.
        await admin_p.patch(
            COWBOYS, names[-1], {"status": {"result": "after-restart"}}, namespace=pns, subresource="status"
        )

        async def status_back() -> bool:
            obj = await admin_consumer.get(COWBOYS, names[-1], namespace=consumer_namespace)
            return (obj.get("status") or {}).get("result") == "after-restart"

        await wait_for(status_back, timeout=30, what="status written on the provider reaches the consumer")

        # The heartbeat reaches the restarted backend (ClusterBinding served from its database).
        async def heartbeat_after_restart() -> bool:
            cb = await admin_p.get(
                kinds.CLUSTER_BINDINGS, constants.CLUSTER_BINDING_NAME, namespace=cluster_ns
            )
            beat = (cb.get("status") or {}).get("lastHeartbeatTime")
            return bool(beat) and datetime.fromisoformat(beat.replace("Z", "+00:00")) >= restarted_at

        await wait_for(heartbeat_after_restart, timeout=30, what="a heartbeat after the backend restart")

        # A clean unbind through the restarted backend (the bind fixture cleans up on failure).
        await admin_consumer.delete(kinds.API_SERVICE_BINDINGS, binding_name)

        async def unbound() -> bool:
            return await get_or_none(admin_consumer, kinds.API_SERVICE_BINDINGS, binding_name) is None

        await wait_for(unbound, timeout=60, what="clean unbind")
    finally:
        await drop_crd(admin_consumer, "cowboys.wildwest.dev")
        if consumer_client is not None:
            await consumer_client.aclose()
        await admin_p.aclose()
