"""Fixtures of the service-side tests: kube-bind kinds in the provider, running backends, logins.

* ``kube_bind_kinds``: makes the kube-bind.io/v1alpha2 kinds servable in the session
  provider. If an ``APIService v1alpha2.kube-bind.io`` is registered (issue 3's aggregated backend,
  possibly by another test package in the same session) that API wins and nothing is installed;
  otherwise the CRDs from ``kubebind.apis.openapi.crd_manifest`` are created and awaited. The
  backend code under test only talks to the provider API, so it runs unchanged on either.
* ``exported_crds``: the reference's ``cowboys.wildwest.dev`` (namespaced) and
  ``sheriffs.wildwest.dev`` (cluster-scoped) CRDs labelled ``kube-bind.io/exported=true``, plus
  templates ``cowboys``/``sheriffs`` and collection ``all``.
* ``start_backend``: starts a real uvicorn server (in the test loop) for given settings; stopped
  at the end of the test. ``backend`` is one with SQLite and the embedded dev issuer.
* ``cli_login(base)``: a full OIDC login through the embedded issuer over HTTP, as the CLI does it
  (authorize → issuer login form → callback → loopback redirect); returns the query the loopback
  receives.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import pytest
import uvicorn

from app.credentials import refs
from app.handshake.service import create_service_app
from app.handshake.settings import ServiceSettings
from kubebind.apis import openapi, resources
from kubebind.kube import ApiClient, errors
from kubebind.localcluster.ports import free_port
from tests import harness
from tests.harness import Cluster

PROVIDER_KINDS = [i.kind for i in resources.ALL if i.side is not resources.Side.CONSUMER]


async def _wait_established(client: ApiClient, name: str, within: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while asyncio.get_running_loop().time() < deadline:
        crd = await client.get(refs.CRDS, name)
        conds = (crd.get("status") or {}).get("conditions") or []
        if any(c.get("type") == "Established" and c.get("status") == "True" for c in conds):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"CRD {name} not established after {within}s")


async def _ensure_crd(client: ApiClient, manifest: dict[str, Any]) -> None:
    with contextlib.suppress(errors.AlreadyExistsError):
        await client.create(refs.CRDS, manifest)
    await _wait_established(client, manifest["metadata"]["name"])


@pytest.fixture(scope="session")
async def admin(provider: Cluster) -> AsyncIterator[ApiClient]:
    async with ApiClient.from_kubeconfig(provider.kubeconfig) as client:
        yield client


async def _apiservice_available(admin: ApiClient, within: float = 60.0) -> bool:
    """False if no APIService is registered; True once it is Available; fails if it never is."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        try:
            svc = await admin.get(refs.API_SERVICES, "v1alpha2.kube-bind.io")
        except errors.NotFoundError:
            return False
        conds = (svc.get("status") or {}).get("conditions") or []
        if any(c.get("type") == "Available" and c.get("status") == "True" for c in conds):
            return True
        if loop.time() > deadline:
            pytest.fail(
                "APIService v1alpha2.kube-bind.io is registered but not Available: the aggregated "
                f"backend of another test package is down ({conds})",
                pytrace=False,
            )
        await asyncio.sleep(0.25)


@pytest.fixture
async def kube_bind_kinds(admin: ApiClient) -> str:
    """``"aggregated"`` if an APIService serves kube-bind.io/v1alpha2, else ``"crds"``.

    Per test, because the aggregated backend of ``tests/aggregated`` may be registered, restarted
    or switched to another database at any point of a shared session: when an APIService exists
    it takes precedence over CRDs, so it is used (after waiting until it is Available); otherwise
    the CRDs are installed (idempotent, cheap once present).
    """
    if await _apiservice_available(admin):
        return "aggregated"
    for kind in PROVIDER_KINDS:
        await _ensure_crd(admin, openapi.crd_manifest(kind))
    return "crds"


def _wildwest_crd(plural: str, kind: str, scope: str) -> dict[str, Any]:
    return harness.wildwest_crd(plural, kind, scope)


def template(
    name: str, resource: str, scope: str, claims: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    return {
        "apiVersion": "kube-bind.io/v1alpha2",
        "kind": "APIServiceExportTemplate",
        "metadata": {"name": name},
        "spec": {
            "description": f"{resource} from the wild west",
            "scope": scope,
            "resources": [{"group": "wildwest.dev", "resource": resource, "versions": ["v1alpha1"]}],
            "permissionClaims": claims or [],
        },
    }


COWBOY_CLAIMS = [
    {"group": "", "resource": "secrets", "selector": {"labelSelector": {"matchLabels": {"app": "cowboy"}}}}
]


@pytest.fixture
async def exported_crds(admin: ApiClient, kube_bind_kinds: str) -> list[str]:
    """Exported CRDs and the catalog (ensured per test: the catalog lives wherever the kube-bind
    kinds are currently served, which can change between tests of a shared session)."""
    await _ensure_crd(admin, _wildwest_crd("cowboys", "Cowboy", "Namespaced"))
    await _ensure_crd(admin, _wildwest_crd("sheriffs", "Sheriff", "Cluster"))
    for body in (
        template("cowboys", "cowboys", "Namespaced", COWBOY_CLAIMS),
        template("sheriffs", "sheriffs", "Cluster"),
        {
            "apiVersion": "kube-bind.io/v1alpha2",
            "kind": "Collection",
            "metadata": {"name": "all"},
            "spec": {"description": "Everything", "templates": [{"name": "cowboys"}, {"name": "sheriffs"}]},
        },
    ):
        ref = refs.TEMPLATES if body["kind"] == "APIServiceExportTemplate" else refs.COLLECTIONS
        with contextlib.suppress(errors.AlreadyExistsError):
            await admin.create(ref, body)
    return ["cowboys.wildwest.dev", "sheriffs.wildwest.dev"]


class ShiftedClock:
    """Wall clock plus an offset the test can advance (rotation, expiry)."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


@dataclass
class Backend:
    url: str
    settings: ServiceSettings
    clock: ShiftedClock
    app: Any

    def client(self, token: str | None = None, **kw: Any) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.AsyncClient(base_url=self.url, headers=headers, timeout=30.0, **kw)


StartBackend = Callable[..., Awaitable[Backend]]


@pytest.fixture
async def start_backend(
    provider: Cluster, exported_crds: list[str], tmp_path: Path
) -> AsyncIterator[StartBackend]:
    servers: list[tuple[uvicorn.Server, asyncio.Task[None]]] = []

    async def start(clock: ShiftedClock | None = None, port: int | None = None, **overrides: Any) -> Backend:
        port = port or free_port()
        url = f"http://127.0.0.1:{port}"
        values: dict[str, Any] = {
            "provider_kubeconfig": str(provider.kubeconfig),
            "database_url": f"sqlite+aiosqlite:///{tmp_path / 'backend.db'}",
            "public_url": url,
            "namespace_prefix": f"kb-{uuid.uuid4().hex[:4]}-",
            "heartbeat_check_seconds": 1.0,
            # its own Lease: other backends of the session (aggregated tests) must not lead for it
            "leader_election_lease": f"kb-test-{uuid.uuid4().hex[:8]}",
        }
        values.update(overrides)
        settings = ServiceSettings(**values)
        clock = clock or ShiftedClock()
        app = await create_service_app(settings, clock=clock)
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
        )
        task = asyncio.create_task(server.serve(), name=f"backend-{port}")
        deadline = asyncio.get_running_loop().time() + 20
        while not server.started:
            if task.done():
                task.result()
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError("backend did not start within 20s")
            await asyncio.sleep(0.02)
        servers.append((server, task))
        return Backend(url=url, settings=settings, clock=clock, app=app)

    yield start
    for server, _task in servers:
        server.should_exit = True
    for server, task in servers:
        try:
            await asyncio.wait_for(task, 15)
        except TimeoutError:
            server.force_exit = True
            task.cancel()


@pytest.fixture
async def backend(start_backend: StartBackend) -> Backend:
    return await start_backend()


LOOPBACK = "http://127.0.0.1:45871/callback"


async def login_flow(
    base: str,
    *,
    client_type: str = "cli",
    redirect_url: str = LOOPBACK,
    session_id: str = "test-session",
    username: str = "kube-bind",
    password: str = "kube-bind",
    cluster_id: str = "",
    verify: Any = True,
) -> httpx.Response:
    """Run authorize → dev-issuer login → callback; return the callback's answer (a 302 normally)."""
    async with httpx.AsyncClient(timeout=30.0, verify=verify) as http:
        params = {"redirect_url": redirect_url, "session_id": session_id, "client_type": client_type}
        if cluster_id:
            params["cluster_id"] = cluster_id
        r = await http.get(f"{base}/api/authorize", params=params)
        assert r.status_code == 302, r.text
        issuer_url = r.headers["location"]
        page = await http.get(issuer_url)
        assert page.status_code == 200, page.text
        query = {k: v[0] for k, v in parse_qs(urlsplit(issuer_url).query).items()}
        form = {
            k: query.get(k, "")
            for k in (
                "client_id",
                "redirect_uri",
                "state",
                "nonce",
                "code_challenge",
                "code_challenge_method",
            )
        }
        form.update(username=username, password=password)
        r = await http.post(urljoin(issuer_url, "authorize"), data=form)
        assert r.status_code == 302, r.text
        callback = r.headers["location"]
        assert callback.startswith(f"{base}/api/callback?"), callback
        return await http.get(callback)


async def cli_login(base: str, **kw: Any) -> dict[str, str]:
    r = await login_flow(base, **kw)
    assert r.status_code == 302, r.text
    location = r.headers["location"]
    assert location.startswith(LOOPBACK + "?"), location
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
