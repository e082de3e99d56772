"""Bind latency: p50/p99 of ``POST /api/bind`` and of APIServiceExportRequest → ``Succeeded``.

Runs against real local control planes (started here, stopped at the end) and a real backend
(uvicorn, SQLite, embedded dev issuer). Each figure is printed next to a floor measured in the
same run on the same apiserver:

* bind floor: the same seven sequential writes a bind performs (Namespace, ClusterBinding,
  ServiceAccount, Role, RoleBinding, TokenRequest, Secret) issued directly with the admin client —
  what minting costs without HTTP, auth, SAR and rollback bookkeeping;
* request→Succeeded floor: create an object and see it through a watch (the event latency any
  controller has to pay before it can act).

Usage: ``.venv/bin/python -m benchmarks.bind_latency [--binds N] [--requests N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import uvicorn

from app.credentials import refs
from app.handshake.service import create_service_app
from app.handshake.settings import ServiceSettings
from kubebind.apis import openapi, resources
from kubebind.kube import ApiClient, errors
from kubebind.localcluster.cluster import ClusterPair
from kubebind.localcluster.ports import free_port
from tests.service.conftest import COWBOY_CLAIMS, _ensure_crd, _wildwest_crd, cli_login, template
from tests.service.helpers import bind_body


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))] * 1000


def row(name: str, values: list[float], floor: list[float]) -> str:
    return (
        f"{name:<34} p50 {pct(values, 50):7.1f} ms  p99 {pct(values, 99):7.1f} ms   | floor p50 "
        f"{pct(floor, 50):7.1f} ms  p99 {pct(floor, 99):7.1f} ms  (n={len(values)})"
    )


async def floor_bind(admin: ApiClient, n: int) -> list[float]:
    out = []
    for _ in range(n):
        ns = f"floor-{uuid.uuid4().hex[:8]}"
        start = time.perf_counter()
        await admin.create(refs.NAMESPACES, {"metadata": {"name": ns}})
        await admin.create(
            refs.CLUSTER_BINDINGS,
            {
                "metadata": {"name": "cluster", "namespace": ns},
                "spec": {
                    "kubeconfigSecretRef": {"name": "kubeconfig", "key": "kubeconfig"},
                    "providerPrettyName": "x",
                },
            },
        )
        await admin.create(refs.SERVICE_ACCOUNTS, {"metadata": {"name": "sa", "namespace": ns}})
        await admin.create(refs.ROLES, {"metadata": {"name": "r", "namespace": ns}, "rules": []})
        await admin.create(
            refs.ROLE_BINDINGS,
            {
                "metadata": {"name": "r", "namespace": ns},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r"},
                "subjects": [{"kind": "ServiceAccount", "name": "sa", "namespace": ns}],
            },
        )
        await admin.create(
            refs.SERVICE_ACCOUNTS,
            {"spec": {"expirationSeconds": 3600}},
            namespace=ns,
            name="sa",
            subresource="token",
        )
        await admin.create(
            refs.SECRETS, {"metadata": {"name": "kubeconfig", "namespace": ns}, "stringData": {"k": "v"}}
        )
        out.append(time.perf_counter() - start)
        await admin.delete(refs.NAMESPACES, ns)
    return out


async def floor_watch(admin: ApiClient, ns: str, n: int) -> list[float]:
    out = []
    for i in range(n):
        name = f"floor-{i}"
        async with admin.watch(
            refs.SECRETS, namespace=ns, field_selector=f"metadata.name={name}", timeout_seconds=30
        ) as w:
            start = time.perf_counter()
            await admin.create(refs.SECRETS, {"metadata": {"name": name, "namespace": ns}})
            async for event in w:
                if event.type == "ADDED":
                    out.append(time.perf_counter() - start)
                    break
    return out


async def measure(binds: int, requests: int, workdir: Path) -> int:
    pair = ClusterPair(workdir / "clusters").start()
    try:
        async with ApiClient.from_kubeconfig(pair.provider.kubeconfig, http2=False) as admin:
            for info in resources.ALL:
                if info.side is not resources.Side.CONSUMER:
                    await _ensure_crd(admin, openapi.crd_manifest(info.kind))
            await _ensure_crd(admin, _wildwest_crd("cowboys", "Cowboy", "Namespaced"))
            await admin.create(refs.TEMPLATES, template("cowboys", "cowboys", "Namespaced", COWBOY_CLAIMS))
            port = free_port()
            settings = ServiceSettings(
                provider_kubeconfig=str(pair.provider.kubeconfig),
                database_url=f"sqlite+aiosqlite:///{workdir / 'bench.db'}",
                public_url=f"http://127.0.0.1:{port}",
            )
            app = await create_service_app(settings)
            server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
            task = asyncio.create_task(server.serve())
            for _ in range(1000):
                if server.started:
                    break
                await asyncio.sleep(0.02)
            try:
                token = (await cli_login(settings.public_url))["access_token"]
                bind_times: list[float] = []
                request_times: list[float] = []
                namespaces: list[str] = []
                async with httpx.AsyncClient(
                    base_url=settings.public_url, headers={"Authorization": f"Bearer {token}"}, timeout=60
                ) as http:
                    for i in range(binds):
                        start = time.perf_counter()
                        r = await http.post(
                            "/api/bind", json=bind_body("cowboys", "cowboys", f"bench-{i}-{uuid.uuid4()}")
                        )
                        bind_times.append(time.perf_counter() - start)
                        r.raise_for_status()
                        namespaces.append(r.json()["providerNamespace"])
                for i in range(requests):
                    ns = namespaces[i % len(namespaces)]
                    name = f"req-{i}"
                    body = {
                        "metadata": {"name": name, "namespace": ns},
                        "spec": {
                            "resources": [
                                {"group": "wildwest.dev", "resource": "cowboys", "versions": ["v1alpha1"]}
                            ]
                        },
                    }
                    async with admin.watch(
                        refs.EXPORT_REQUESTS,
                        namespace=ns,
                        field_selector=f"metadata.name={name}",
                        timeout_seconds=60,
                    ) as w:
                        start = time.perf_counter()
                        await admin.create(refs.EXPORT_REQUESTS, body)
                        async for event in w:
                            if (event.object.get("status") or {}).get("phase") == "Succeeded":
                                request_times.append(time.perf_counter() - start)
                                break
                if os.environ.get("KUBE_BIND_BENCH_METRICS"):
                    async with httpx.AsyncClient(base_url=settings.public_url) as raw:
                        text = (await raw.get("/metrics")).text
                    print(
                        "\n".join(
                            line
                            for line in text.splitlines()
                            if ("controller" in line and "_sum" in line)
                            or ("_count" in line and "controller" in line)
                        )
                    )
                floor_b = await floor_bind(admin, binds)
                floor_w = await floor_watch(admin, namespaces[0], requests)
            finally:
                server.should_exit = True
                await task
        print(f"bind latency benchmark ({binds} binds, {requests} export requests; one apiserver, SQLite)")
        print(row("POST /api/bind", bind_times, floor_b))
        print(row("APIServiceExportRequest→Succeeded", request_times, floor_w))
        return 0
    finally:
        pair.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--binds", type=int, default=30, help="number of binds (distinct consumers)")
    parser.add_argument("--requests", type=int, default=30, help="number of export requests")
    args = parser.parse_args(argv)
    if args.binds < 1 or args.requests < 1:
        parser.error("--binds and --requests must be at least 1")
    with tempfile.TemporaryDirectory(prefix="kube-bind-bench-") as tmp:
        try:
            return asyncio.run(measure(args.binds, args.requests, Path(tmp)))
        except errors.ApiError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1


if __name__ == "__main__":
    raise SystemExit(main())
