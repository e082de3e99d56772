"""Benchmark: kube-bind.io kinds served by the backend (aggregation) vs. the same kinds as CRDs.

Both paths run side by side in one run against the same local provider kube-apiserver:

* (a) ``kube-bind.io/v1alpha2`` served by ``kube-bind-backend`` through an APIService;
* (b) the same schemas installed as CRDs in the group ``crd.kube-bind.io`` (one apiserver cannot
  serve one group both ways), served by kube-apiserver from etcd.

Figures: p50/p99 of get, list of 1,000 and 10,000 objects, create throughput with 8 concurrent
clients, watch delivery latency (p50/p99) with 100 concurrent watchers, backend RSS. Run:

    .venv/bin/python benchmarks/aggregated_vs_crd.py [--database sqlite|postgres] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import copy
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import orjson
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import procstat
from kubebind.apis import openapi
from kubebind.kube import http11
from kubebind.localcluster import pki
from kubebind.localcluster.cluster import ClusterPair
from kubebind.localcluster.ports import free_port
from kubebind.localcluster.postgres import Postgres
from kubebind.localcluster.process import ManagedProcess
from kubebind.localcluster.tls import client_context
from tests.harness import Cluster, wait_for

CRD_GROUP = "crd.kube-bind.io"
KIND = "Collection"
PLURAL = "collections"


def _profiled(path: str) -> str:
    # uvicorn re-raises SIGTERM after its graceful shutdown; exit normally so cProfile writes.
    return (
        "import signal, sys, cProfile; signal.signal(signal.SIGTERM, lambda *a: sys.exit(0)); "
        f"cProfile.run('from app.main import cli; cli()', {path!r})"
    )


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def body(group: str, name: str, labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": f"{group}/v1alpha2",
        "kind": KIND,
        "metadata": {"name": name, "labels": labels or {}},
        "spec": {"templates": [{"name": "cowboys"}], "description": "benchmark"},
    }


class Path_:
    def __init__(self, label: str, group: str) -> None:
        self.label = label
        self.group = group
        self.base = f"/apis/{group}/v1alpha2/{PLURAL}"


async def create_many(client: httpx.AsyncClient, p: Path_, count: int, label: str, workers: int = 8) -> float:
    names = iter(range(count))
    start = time.perf_counter()

    async def worker() -> None:
        for i in names:
            r = await client.post(p.base, json=body(p.group, f"{label}-{i:06d}", {"set": label}))
            if r.status_code != 201:
                raise RuntimeError(f"{p.label} create failed: {r.status_code} {r.text[:200]}")

    await asyncio.gather(*(worker() for _ in range(workers)))
    return count / (time.perf_counter() - start)


async def _wait_count(client: httpx.AsyncClient, p: Path_, count: int) -> None:
    """Until a list returns ``count`` objects (deletions are immediate without finalizers)."""
    for _ in range(300):
        if len((await client.get(p.base)).json()["items"]) == count:
            return
        await asyncio.sleep(0.1)
    raise RuntimeError(f"{p.label}: never got to {count} objects")


async def timed(fn: Any, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        await fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


async def watch_latency(
    client_factory: Any, endpoint: http11.Endpoint, p: Path_, watchers: int, events: int
) -> list[float]:
    """Watchers read through the lean HTTP/1.1 stream (:mod:`kubebind.kube.http11`): 100 events
    arrive at once per write, and a heavier client would mostly measure its own decoding queue."""
    rv = (await client_factory().get(p.base, params={"limit": "1"})).json()["metadata"]["resourceVersion"]
    latencies: list[float] = []
    ready = 0
    run = uuid.uuid4().hex[:6]
    pool = http11.ConnectionPool(endpoint, max_connections=1, timeout=130, connect_timeout=10)

    async def one() -> None:
        nonlocal ready
        params = {
            "watch": "true",
            "resourceVersion": rv,
            "labelSelector": f"wl={run}",
            "timeoutSeconds": "120",
        }
        stream = await pool.stream("GET", p.base, params=params, headers={}, read_timeout=130)
        try:
            ready += 1
            got = 0
            async for line in stream.lines():
                ev = orjson.loads(line)
                if ev["type"] != "ADDED":
                    continue
                sent = float(ev["object"]["metadata"]["annotations"]["sent"])
                latencies.append((time.time() - sent) * 1000)
                got += 1
                if got >= events:
                    return
        finally:
            await stream.aclose()

    tasks = [asyncio.create_task(one()) for _ in range(watchers)]
    while ready < watchers:  # noqa: ASYNC110 - a counter of opened streams, polled briefly
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.5)
    writer = client_factory()
    for i in range(events):
        b = body(p.group, f"wl-{run}-{i}", {"wl": run})
        b["metadata"]["annotations"] = {"sent": repr(time.time())}
        await writer.post(p.base, json=b)
        await asyncio.sleep(0.05)
    await asyncio.wait_for(asyncio.gather(*tasks), 60)
    await writer.aclose()
    await pool.aclose()
    return latencies


def _turn(paths: tuple[Path_, Path_], i: int) -> tuple[Path_, Path_]:
    """The two paths in turn i: A B, then B A, then A B … (neither always goes first)."""
    return paths if i % 2 == 0 else (paths[1], paths[0])


async def measure(
    paths: tuple[Path_, Path_],
    factory: Any,
    endpoint: http11.Endpoint,
    sizes: list[int],
    gets: int,
    creates: int,
    pids: dict[str, int],
    rounds: int = 4,
) -> dict[str, dict[str, Any]]:
    """Both paths, interleaved: creates in alternating rounds (A B B A …), gets and lists one
    request each in turn, so a slow spell of this shared machine hits both paths alike."""
    res: dict[str, dict[str, Any]] = {p.label: {} for p in paths}
    c = factory()
    label = f"c{uuid.uuid4().hex[:4]}"
    # Warm both paths the same way first: a just-established CRD is slow for its first writes,
    # and so is a backend's first use of each database connection.
    for p in paths:
        await create_many(c, p, 200, f"{label}w")
    per_round = creates // rounds
    elapsed = dict.fromkeys(res, 0.0)
    cpu: dict[str, dict[str, float]] = {k: {} for k in res}
    for r in range(rounds):
        for p in _turn(paths, r):
            meter = procstat.CpuMeter({**pids, "client": os.getpid()}, trees=("postgres",))
            meter.start()
            elapsed[p.label] += per_round / await create_many(c, p, per_round, f"{label}r{r}")
            for proc, used in meter.stop().items():
                cpu[p.label][proc] = cpu[p.label].get(proc, 0.0) + used
    created = per_round * rounds
    for p in paths:
        res[p.label]["create_per_s"] = created / elapsed[p.label]
        res[p.label]["create_cpu_ms"] = {k: v * 1000 / created for k, v in cpu[p.label].items()}
        gone = await c.delete(p.base, params={"labelSelector": f"set={label}w"})  # deletecollection
        if gone.status_code != 200:
            raise RuntimeError(f"{p.label} deletecollection failed: {gone.status_code} {gone.text[:200]}")
        await _wait_count(c, p, created)
    name = f"{label}r0-000000"
    for p in paths:
        res[p.label]["get"] = []
    for i in range(gets):
        for p in _turn(paths, i):
            res[p.label]["get"] += await timed(lambda p=p: c.get(f"{p.base}/{name}"), 1)
    for size in sizes:
        if created < size:
            for p in paths:
                await create_many(c, p, size - created, f"{label}x{size}")
            created = size
        lat: dict[str, list[float]] = {p.label: [] for p in paths}
        for i in range(5 if size >= 10000 else 20):
            for p in _turn(paths, i):
                lat[p.label] += await timed(lambda p=p: c.get(p.base), 1)
        for p in paths:
            n = len((await c.get(p.base)).json()["items"])
            res[p.label][f"list_{size}"] = (lat[p.label], n)
    for p in paths:
        res[p.label]["watch"] = await watch_latency(factory, endpoint, p, 100, 50)
    await c.aclose()
    return res


async def main_async(args: argparse.Namespace) -> None:
    work = Path(tempfile.mkdtemp(prefix="kb-bench-"))
    pair = ClusterPair(work / "clusters", names=("provider",))
    pg: Postgres | None = None
    backend: ManagedProcess | None = None
    pair.start()
    try:
        provider = Cluster(pair.provider)
        local = pair.provider
        if args.database == "postgres":
            pg = Postgres().start()
            db_url = pg.create_database(f"bench_{uuid.uuid4().hex[:8]}")
        else:
            db_url = f"sqlite+aiosqlite:///{work / 'bench.db'}"
        ca = pki.create_ca(work, "bench-ca", "bench-ca")
        serving = pki.issue_cert(
            ca,
            work,
            "backend",
            "backend",
            dns_names=("kube-bind-backend.kube-system.svc", "localhost"),
            ip_addresses=("127.0.0.1",),
            server=True,
        )
        port = free_port()
        env = dict(os.environ)
        env.update(
            {
                "KUBE_BIND_DATABASE_URL": db_url,
                "KUBE_BIND_PORT": str(port),
                "KUBE_BIND_TLS_CERT_FILE": str(serving.cert),
                "KUBE_BIND_TLS_KEY_FILE": str(serving.key),
                "KUBE_BIND_PROVIDER_KUBECONFIG": str(local.kubeconfig),
                "KUBE_BIND_LOG_LEVEL": "WARNING",
            }
        )
        backend = ManagedProcess(
            "kube-bind-backend",
            [sys.executable, "-c", _profiled(args.profile)]
            if args.profile
            else [sys.executable, "-m", "app.main"],
            work / "backend.log",
            env=env,
            cwd=Path(__file__).resolve().parents[1],  # noqa: ASYNC240 - once, at start-up
        ).start()
        provider.apply(
            [
                {
                    "apiVersion": "v1",
                    "kind": "Service",
                    "metadata": {"name": "kube-bind-backend", "namespace": "kube-system"},
                    "spec": {"type": "ExternalName", "externalName": "localhost"},
                },
                {
                    "apiVersion": "apiregistration.k8s.io/v1",
                    "kind": "APIService",
                    "metadata": {"name": "v1alpha2.kube-bind.io"},
                    "spec": {
                        "group": "kube-bind.io",
                        "version": "v1alpha2",
                        "groupPriorityMinimum": 1000,
                        "versionPriority": 15,
                        "service": {"name": "kube-bind-backend", "namespace": "kube-system", "port": port},
                        "caBundle": base64.b64encode(ca.cert_pem()).decode(),
                    },
                },
            ]
        )
        crd = copy.deepcopy(openapi.crd_manifest(KIND))
        crd["metadata"]["name"] = f"{PLURAL}.{CRD_GROUP}"
        crd["spec"]["group"] = CRD_GROUP
        provider.kubectl("apply", "-f", "-", input=yaml.safe_dump(crd))
        provider.kubectl("wait", "--for=condition=Established", "--timeout=60s", f"crd/{PLURAL}.{CRD_GROUP}")
        verify = client_context(
            local.ca_file, (local.apiserver.pki.admin.cert, local.apiserver.pki.admin.key)
        )

        def factory() -> httpx.AsyncClient:
            return httpx.AsyncClient(
                base_url=provider.url, verify=verify, timeout=120, limits=httpx.Limits(max_connections=200)
            )

        endpoint = http11.Endpoint.from_url(provider.url, verify)

        def ok() -> bool:
            assert backend is not None
            backend.check_alive()
            with httpx.Client(base_url=provider.url, verify=verify) as c:
                return c.get("/apis/kube-bind.io/v1alpha2/collections").status_code == 200

        wait_for(ok, timeout=60, what="aggregated API available")
        sizes = [1000] if args.quick else [1000, 10000]
        creates = 300 if args.quick else 1000
        gets = 200 if args.quick else 500
        agg = Path_("aggregated", "kube-bind.io")
        crdp = Path_("crd", CRD_GROUP)
        pids = {
            "kube-apiserver": local.apiserver.process.pid if local.apiserver.process else 0,
            "etcd": pair.etcd.process.pid if pair.etcd and pair.etcd.process else 0,
            "backend": backend.pid or 0,
            "postgres": pg.process.pid or 0 if pg is not None and pg.process is not None else 0,
        }
        results = await measure((crdp, agg), factory, endpoint, sizes, gets, creates, pids)
        rss = procstat.rss_mib(backend.pid or 0)
        print(f"\nkube-bind aggregated API vs CRD — database={args.database}, same provider kube-apiserver")
        print(f"{'metric':34} {'CRD':>12} {'aggregated':>12} {'ratio':>8}")

        def row(metric: str, a: float, b: float, unit: str) -> None:
            ratio = b / a if a else float("nan")
            print(f"{metric:34} {a:>10.2f}{unit:2} {b:>10.2f}{unit:2} {ratio:>7.2f}x")

        c, g = results["crd"], results["aggregated"]
        row("get p50", pct(c["get"], 50), pct(g["get"], 50), "ms")
        row("get p99", pct(c["get"], 99), pct(g["get"], 99), "ms")
        for size in sizes:
            row(
                f"list {size} p50 (n={g[f'list_{size}'][1]})",
                pct(c[f"list_{size}"][0], 50),
                pct(g[f"list_{size}"][0], 50),
                "ms",
            )
            row(f"list {size} p99", pct(c[f"list_{size}"][0], 99), pct(g[f"list_{size}"][0], 99), "ms")
        row("create/s, 8 clients (higher=better)", c["create_per_s"], g["create_per_s"], "/s")
        row("watch delivery p50, 100 watchers", pct(c["watch"], 50), pct(g["watch"], 50), "ms")
        row("watch delivery p99, 100 watchers", pct(c["watch"], 99), pct(g["watch"], 99), "ms")
        print(f"{'backend RSS':34} {'':>12} {rss:>10.1f}MiB")
        print("CPU ms per create, by process (2 cores shared by all of them):")
        for proc in c["create_cpu_ms"]:
            print(f"  {proc:32} {c['create_cpu_ms'][proc]:>10.2f}ms {g['create_cpu_ms'][proc]:>10.2f}ms")
        c_total, g_total = sum(c["create_cpu_ms"].values()), sum(g["create_cpu_ms"].values())
        print(f"  {'total':32} {c_total:>10.2f}ms {g_total:>10.2f}ms {g_total / c_total:>7.2f}x")
        print(
            f"watch events measured: crd={len(c['watch'])} aggregated={len(g['watch'])}; "
            "create p50 not shown (throughput instead); "
            f"mean get aggregated={statistics.mean(g['get']):.2f} ms"
        )
    finally:
        if backend is not None:
            backend.stop()
        if pg is not None:
            pg.stop()
        pair.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--quick", action="store_true", help="1,000 objects only, fewer samples")
    parser.add_argument("--profile", help="write a cProfile of the backend to this file")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
