"""Credential rotation at half-life, heartbeat health, and two replicas sharing one Postgres."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import yaml

from app.credentials import naming as cred_naming
from app.credentials import refs
from kubebind.apis import constants
from kubebind.apis.v1alpha2 import format_time, parse_time
from kubebind.kube import ApiClient
from kubebind.localcluster.postgres import Postgres
from tests.service.conftest import Backend, ShiftedClock, StartBackend, cli_login
from tests.service.helpers import bind, eventually

pytestmark = pytest.mark.cluster


async def test_token_is_rotated_at_half_life(start_backend: StartBackend, admin: ApiClient) -> None:
    clock = ShiftedClock()
    backend = await start_backend(clock=clock, credential_lifetime_seconds=600)
    token = (await cli_login(backend.url))["access_token"]
    bound = await bind(backend, token)
    secret = await admin.get(refs.SECRETS, "kubeconfig", namespace=bound.namespace)
    ann = secret["metadata"]["annotations"]
    issued, expires = (
        parse_time(ann[cred_naming.ANNOTATION_TOKEN_ISSUED]),
        parse_time(ann[cred_naming.ANNOTATION_TOKEN_EXPIRES]),
    )
    assert timedelta(seconds=590) <= expires - issued <= timedelta(seconds=610)
    clock.offset = timedelta(seconds=301)

    async def rotated() -> dict[str, object] | None:
        s = await admin.get(refs.SECRETS, "kubeconfig", namespace=bound.namespace)
        return s if s["data"]["kubeconfig"] != secret["data"]["kubeconfig"] else None

    new = await eventually(rotated, what="kubeconfig Secret rewritten")
    cfg = yaml.safe_load(base64.b64decode(new["data"]["kubeconfig"]))
    assert cfg["users"][0]["user"]["token"] != bound.kubeconfig["users"][0]["user"]["token"]
    assert cfg["contexts"][0]["context"]["namespace"] == bound.namespace
    async with ApiClient.from_kubeconfig(cfg, http2=False) as fresh:
        await fresh.get(refs.CLUSTER_BINDINGS, "cluster", namespace=bound.namespace)
    await bound.client.aclose()


async def test_heartbeat_health_conditions(backend: Backend, admin: ApiClient) -> None:
    token = (await cli_login(backend.url))["access_token"]
    bound = await bind(backend, token)

    async def healthy(reason: str | None) -> bool:
        cb = await admin.get(refs.CLUSTER_BINDINGS, "cluster", namespace=bound.namespace)
        conds = {c["type"]: c for c in (cb.get("status") or {}).get("conditions") or []}
        h = conds.get(constants.CONDITION_HEALTHY)
        if h is None:
            return False
        return h.get("reason") == reason if reason else h["status"] == "True"

    await eventually(lambda: healthy(constants.REASON_FIRST_HEARTBEAT_PENDING), what="FirstHeartbeatPending")
    # the konnector's heartbeat, through the consumer's own credential (its RBAC allows status patches)
    now = datetime.now(UTC)
    await bound.client.patch(
        refs.CLUSTER_BINDINGS,
        "cluster",
        {"status": {"lastHeartbeatTime": format_time(now), "heartbeatInterval": "5s"}},
        namespace=bound.namespace,
        subresource="status",
    )
    await eventually(lambda: healthy(None), what="Healthy=True after a heartbeat")
    await eventually(lambda: healthy(constants.REASON_HEARTBEAT_TIMEOUT), within=30, what="HeartbeatTimeout")
    await bound.client.aclose()


async def test_login_on_one_replica_bind_on_another(
    start_backend: StartBackend, postgres_server: Postgres
) -> None:
    url = postgres_server.create_database(f"svc_{uuid.uuid4().hex[:10]}")
    prefix = f"kb-{uuid.uuid4().hex[:4]}-"
    a = await start_backend(database_url=url, namespace_prefix=prefix)
    # replica B: another process-equivalent app on another port, same database, same public URL
    b = await start_backend(
        database_url=url, namespace_prefix=prefix, public_url=a.url.replace("127.0.0.1", "localhost")
    )
    token = (await cli_login(a.url))["access_token"]
    async with b.client(token) as http:
        assert (await http.get("/api/ping")).status_code == 200
    bound = await bind(b, token)
    assert bound.namespace.startswith(prefix)
    # logout on B ends the session on A as well
    async with b.client(token) as http:
        assert (await http.post("/api/logout")).status_code == 200
    async with a.client(token) as http:
        assert (await http.get("/api/ping")).status_code == 401
    await bound.client.aclose()
