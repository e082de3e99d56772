"""Konnector sync benchmark: latency, cold-sync time, RSS and CPU, each beside a floor.

Usage (from the repository root, with the venv):

    .venv/bin/python -m benchmarks.konnector_sync --sizes 1000 10000 --rate 100 --sample 1000

For each size N it starts from an empty binding on a fresh local provider/consumer pair:

1. **Cold sync**: N Cowboys are created in the consumer while the konnector is stopped, then the
   konnector process starts; measured: time until all N provider copies exist and all N consumer
   objects carry the syncer finalizer (the konnector's work is done), followed by watches.
   Floor: the same N creates done directly against the provider apiserver (same client, same
   concurrency).
2. **Spec-sync latency** at a steady ``--rate`` objects/s on top of the N objects: time from the
   consumer create call to the provider copy's ADDED watch event. Floor: the same writes made
   directly at the same rate, one after the other — a consumer create (of an unbound copy of the
   CRD, so no konnector acts on it) then the provider create — timed to the provider watch event.
   Also printed: the provider create alone (a lower bound that skips the consumer write).
3. **Status-sync latency** at the same rate: provider status write → consumer watch event showing
   the status. Floor: the provider status write then the consumer status write, timed to the
   consumer watch event; and the provider write alone → provider watch event.
4. Konnector **RSS** (VmRSS) and **CPU seconds** (utime+stime) of the process at the end.

Provider-side state is minted with least-privilege credentials exactly as the konnector tests do
(``tests/konnector/env.py``). Figures are printed, not asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from benchmarks import procstat
from konnector import kinds
from kubebind.apis import constants
from kubebind.kube import errors
from kubebind.kube.client import ApiClient
from kubebind.kube.resources import CUSTOM_RESOURCE_DEFINITIONS, NAMESPACES, SECRETS, ResourceRef
from kubebind.localcluster.cluster import ClusterPair
from kubebind.localcluster.ports import free_port
from kubebind.localcluster.process import ManagedProcess
from tests.konnector import env as envmod

COWBOYS = envmod.COWBOYS
#: An unbound copy of the Cowboy CRD on the consumer, for the floor's consumer-side writes.
FLOOR_COWBOYS = ResourceRef("floor.bench.kube-bind.io", COWBOYS.version, "cowboys", True, "Cowboy")


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    idx = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[idx]


def proc_stats(pid: int) -> tuple[float, float]:
    """(RSS MiB, CPU seconds) of a process."""
    return procstat.rss_mib(pid), procstat.cpu_seconds(pid)


async def create_many(client: ApiClient, namespace: str, names: list[str], concurrency: int = 32) -> float:
    sem = asyncio.Semaphore(concurrency)
    started = time.monotonic()

    async def one(n: str) -> None:
        async with sem:
            await client.create(
                COWBOYS, {"metadata": {"name": n}, "spec": {"intent": "ride"}}, namespace=namespace
            )

    await asyncio.gather(*(one(n) for n in names))
    return time.monotonic() - started


class Watcher:
    """Records the first time each object name is seen matching a predicate on a watch."""

    def __init__(
        self, client: ApiClient, namespace: str, predicate: Any, resource: ResourceRef = COWBOYS
    ) -> None:
        self.client = client
        self.resource = resource
        self.namespace = namespace
        self.predicate = predicate
        self.seen: dict[str, float] = {}
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        listing = await self.client.list(self.resource, namespace=self.namespace, limit=1)
        rv = listing["metadata"]["resourceVersion"]
        self.task = asyncio.create_task(self._run(rv))

    async def _run(self, rv: str) -> None:
        while True:
            try:
                async with self.client.watch(
                    self.resource, namespace=self.namespace, resource_version=rv
                ) as w:
                    async for etype, obj in w:
                        rv = obj.get("metadata", {}).get("resourceVersion") or rv
                        if etype in ("ADDED", "MODIFIED") and self.predicate(obj):
                            self.seen.setdefault(obj["metadata"]["name"], time.monotonic())
            except errors.GoneError:
                listing = await self.client.list(self.resource, namespace=self.namespace, limit=1)
                rv = listing["metadata"]["resourceVersion"]

    async def wait(self, names: list[str], within: float) -> None:
        deadline = time.monotonic() + within
        pending = list(names)
        while time.monotonic() < deadline:
            pending = [n for n in pending if n not in self.seen]
            if not pending:
                return
            await asyncio.sleep(0.05)

    async def stop(self) -> None:
        if self.task:
            self.task.cancel()
            try:
                await self.task
            except (asyncio.CancelledError, Exception):
                pass


async def paced(names: list[str], rate: float, action: Any) -> dict[str, float]:
    """Run ``action(name)`` at ``rate``/s; return the start time of each call."""
    starts: dict[str, float] = {}
    interval = 1.0 / rate
    t0 = time.monotonic()
    tasks = []
    for i, n in enumerate(names):
        delay = t0 + i * interval - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        starts[n] = time.monotonic()
        tasks.append(asyncio.create_task(action(n)))
    await asyncio.gather(*tasks)
    return starts


def latencies(starts: dict[str, float], seen: dict[str, float]) -> list[float]:
    return [seen[n] - s for n, s in starts.items() if n in seen]


def konnector_process(
    consumer_kubeconfig: Path, lease_ns: str, workdir: Path, extra: list[str], port: int | None = None
) -> ManagedProcess:
    return ManagedProcess(
        "konnector-bench",
        [
            sys.executable,
            "-m",
            "konnector.main",
            f"--kubeconfig={consumer_kubeconfig}",
            f"--lease-namespace={lease_ns}",
            f"--server-address=127.0.0.1:{port or free_port()}",
            "--heartbeat-interval=30s",
            "--log-level=WARNING",
            *extra,
        ],
        workdir / f"konnector-{uuid.uuid4().hex[:6]}.log",
    ).start()


async def run_size(
    pair: ClusterPair, n: int, rate: float, sample: int, workdir: Path, extra: list[str]
) -> dict[str, Any]:
    admin_p = ApiClient.from_kubeconfig(str(pair.provider.kubeconfig), qps=2000, burst=4000, http2=False)
    admin_c = ApiClient.from_kubeconfig(str(pair.consumer.kubeconfig), qps=2000, burst=4000, http2=False)
    out: dict[str, Any] = {"n": n}
    try:
        await envmod.ensure_provider_kinds(admin_p)
        await envmod.ensure_crd(admin_p, envmod.cowboy_crd())
        penv = envmod.ProviderEnv(admin_p, pair.provider, envmod.unique("kube-bind"), workdir)
        await penv.setup()
        name = envmod.unique("cowboys")
        await penv.export(name, [envmod.cowboy_crd()])
        cns = f"bench-{uuid.uuid4().hex[:6]}"
        await admin_c.create(NAMESPACES, {"metadata": {"name": cns}})
        await admin_c.create(
            SECRETS,
            {
                "metadata": {"name": "kubeconfig"},
                "data": {"kubeconfig": base64.b64encode(penv.kubeconfig).decode()},
            },
            namespace=cns,
        )
        # Install the CRD and the namespace mapping with a first konnector run, then stop it.
        proc = konnector_process(pair.consumer.kubeconfig, cns, workdir, extra)
        await _wait_crd(admin_c, "apiservicebindings.kube-bind.io")
        await admin_c.create(
            kinds.API_SERVICE_BINDINGS,
            {
                "metadata": {"name": name},
                "spec": {
                    "kubeconfigSecretRef": {"namespace": cns, "name": "kubeconfig", "key": "kubeconfig"}
                },
            },
        )
        pns = f"{penv.cluster_namespace}-{cns}"
        await _wait_crd(admin_c, "cowboys.wildwest.dev")
        await admin_c.create(
            COWBOYS, {"metadata": {"name": "warmup"}, "spec": {"intent": "x"}}, namespace=cns
        )
        await _wait_count(admin_p, pns, 1, 120)
        # The floor's consumer-side writes go to an unbound copy of the Cowboy CRD (same schema,
        # another group) in a namespace of their own: the same write, with no konnector behind it.
        bound = await admin_c.get(CUSTOM_RESOURCE_DEFINITIONS, "cowboys.wildwest.dev")
        floor_crd = {
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": f"cowboys.{FLOOR_COWBOYS.group}"},
            "spec": {**bound["spec"], "group": FLOOR_COWBOYS.group},
        }
        await admin_c.create(CUSTOM_RESOURCE_DEFINITIONS, floor_crd)
        await _wait_crd(admin_c, f"cowboys.{FLOOR_COWBOYS.group}")
        cscratch = f"floor-{uuid.uuid4().hex[:6]}"
        await admin_c.create(NAMESPACES, {"metadata": {"name": cscratch}})
        proc.stop()
        await asyncio.sleep(1)

        # 1. cold sync of N pre-existing objects
        names = [f"cold-{i:05d}" for i in range(n)]
        await create_many(admin_c, cns, names)
        scratch = f"floor-{uuid.uuid4().hex[:6]}"
        await admin_p.create(NAMESPACES, {"metadata": {"name": scratch}})
        out["cold_floor_s"] = await create_many(admin_p, scratch, [f"f-{i:05d}" for i in range(n)])
        # Progress is followed with watches, not by listing: listing 10,000 objects a few times a
        # second costs the apiservers more CPU than the sync being measured.
        copies = Watcher(admin_p, pns, lambda o: True)
        finalized = Watcher(
            admin_c,
            cns,
            lambda o: constants.FINALIZER_SYNCER in (o["metadata"].get("finalizers") or []),
        )
        await copies.start()
        await finalized.start()
        started = time.monotonic()
        metrics_port = free_port()
        proc = konnector_process(pair.consumer.kubeconfig, cns, workdir, extra, metrics_port)
        await copies.wait(names, 900)
        await finalized.wait(names, 900)
        out["cold_sync_s"] = time.monotonic() - started
        await copies.stop()
        await finalized.stop()
        # and a list confirms it (the watches only saw the names they waited for)
        await _wait_count(admin_p, pns, n + 1, 60)
        await _wait_finalized(admin_c, cns, n + 1, 60)
        out["settle_s"] = await _settle(admin_c, admin_p, cns, pns)

        # 2. spec latency at a steady rate
        sample_names = [f"s-{i:05d}" for i in range(sample)]
        w = Watcher(admin_p, pns, lambda o: True)
        await w.start()

        create_s: list[float] = []

        async def consumer_create(nm: str) -> None:
            t0 = time.monotonic()
            await admin_c.create(
                COWBOYS, {"metadata": {"name": nm}, "spec": {"intent": "steady"}}, namespace=cns
            )
            create_s.append(time.monotonic() - t0)

        before = await scrape(metrics_port)
        starts = await paced(sample_names, rate, consumer_create)
        await w.wait(sample_names, 120)
        await w.stop()
        out["spec"] = latencies(starts, w.seen)
        out["consumer_create"] = create_s
        after = await scrape(metrics_port)
        out["spec_internals"] = internals(before, after)
        out["spec_requests"] = request_counts(before, after, len(sample_names))
        wf = Watcher(admin_p, scratch, lambda o: True)
        await wf.start()
        floor_names = [f"sf-{i:05d}" for i in range(sample)]

        async def provider_create(nm: str) -> None:
            await admin_p.create(
                COWBOYS, {"metadata": {"name": nm}, "spec": {"intent": "steady"}}, namespace=scratch
            )

        fstarts = await paced(floor_names, rate, provider_create)
        await wf.wait(floor_names, 60)
        await wf.stop()
        out["spec_floor"] = latencies(fstarts, wf.seen)

        # The same writes as the synced path, made directly one after the other: the consumer
        # create, then the provider create; timed to the provider copy's watch event.
        chain_names = [f"sc-{i:05d}" for i in range(sample)]
        wc = Watcher(admin_p, scratch, lambda o: True)
        await wc.start()

        async def chained_create(nm: str) -> None:
            body = {"metadata": {"name": nm}, "spec": {"intent": "steady"}}
            await admin_c.create(FLOOR_COWBOYS, body, namespace=cscratch)
            await admin_p.create(COWBOYS, body, namespace=scratch)

        cstarts = await paced(chain_names, rate, chained_create)
        await wc.wait(chain_names, 60)
        await wc.stop()
        out["spec_chain"] = latencies(cstarts, wc.seen)

        # 3. status latency at a steady rate
        ws = Watcher(admin_c, cns, lambda o: (o.get("status") or {}).get("result") == "done")
        await ws.start()

        async def provider_status(nm: str) -> None:
            await admin_p.patch(
                COWBOYS, nm, {"status": {"result": "done"}}, namespace=pns, subresource="status"
            )

        before = await scrape(metrics_port)
        sstarts = await paced(sample_names, rate, provider_status)
        await ws.wait(sample_names, 120)
        await ws.stop()
        out["status"] = latencies(sstarts, ws.seen)
        after = await scrape(metrics_port)
        out["status_internals"] = internals(before, after)
        out["status_requests"] = request_counts(before, after, len(sample_names))
        wsf = Watcher(admin_p, scratch, lambda o: (o.get("status") or {}).get("result") == "done")
        await wsf.start()

        async def floor_status(nm: str) -> None:
            await admin_p.patch(
                COWBOYS, nm, {"status": {"result": "done"}}, namespace=scratch, subresource="status"
            )

        fsstarts = await paced(floor_names, rate, floor_status)
        await wsf.wait(floor_names, 60)
        await wsf.stop()
        out["status_floor"] = latencies(fsstarts, wsf.seen)

        # The same writes as the synced path: the provider status write, then the consumer status
        # write; timed to the consumer object's watch event.
        wsc = Watcher(
            admin_c, cscratch, lambda o: (o.get("status") or {}).get("result") == "done", FLOOR_COWBOYS
        )
        await wsc.start()

        async def chained_status(nm: str) -> None:
            status = {"status": {"result": "done"}}
            await admin_p.patch(COWBOYS, nm, status, namespace=scratch, subresource="status")
            await admin_c.patch(FLOOR_COWBOYS, nm, status, namespace=cscratch, subresource="status")

        csstarts = await paced(chain_names, rate, chained_status)
        await wsc.wait(chain_names, 60)
        await wsc.stop()
        out["status_chain"] = latencies(csstarts, wsc.seen)

        assert proc.pid is not None
        out["rss_mib"], out["cpu_s"] = proc_stats(proc.pid)
        proc.stop()
        # Clean up (no konnector: drop finalizers by deleting the namespaces' objects directly).
        await admin_p.delete(NAMESPACES, scratch)
        await admin_c.delete(NAMESPACES, cscratch)
    finally:
        await admin_p.aclose()
        await admin_c.aclose()
    return out


Sums = dict[str, tuple[float, float]]

#: Histograms whose mean over the spec phase shows where a sync's time goes inside the konnector.
INTERNALS = {
    "queue wait": "kube_bind_konnector_workqueue_queue_duration_seconds",
    "reconcile": "kube_bind_konnector_workqueue_work_duration_seconds",
    "consumer request": "kube_bind_konnector_consumer_client_request_duration_seconds",
    "provider request": "kube_bind_konnector_provider_client_request_duration_seconds",
    "rate limiter": "kube_bind_konnector_provider_client_rate_limiter_wait_seconds",
}


async def scrape(port: int) -> dict[str, tuple[float, float]]:
    """(sum, count) per histogram of the konnector's /metrics, summed over labels; counters of
    requests per side and verb as ``(value, 0)`` under ``<side> <VERB>``."""
    async with httpx.AsyncClient() as http:
        text = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
    totals: dict[str, list[float]] = {}
    for line in text.splitlines():
        if line.startswith("#") or " " not in line:
            continue
        name_labels, value = line.rsplit(" ", 1)
        name = name_labels.split("{", 1)[0]
        for suffix, idx in (("_sum", 0), ("_count", 1)):
            if name.endswith(suffix):
                totals.setdefault(name[: -len(suffix)], [0.0, 0.0])[idx] += float(value)
        for side in ("consumer", "provider"):
            if name == f"kube_bind_konnector_{side}_client_requests_total":
                verb = name_labels.split('verb="', 1)[1].split('"', 1)[0]
                totals.setdefault(f"{side} {verb}", [0.0, 0.0])[0] += float(value)
    return {k: (v[0], v[1]) for k, v in totals.items()}


def request_counts(before: Sums, after: Sums, objects: int) -> str:
    """Requests per synced object between two scrapes, per side and verb."""
    parts = []
    for key in sorted(after):
        if key.startswith(("consumer ", "provider ")) and key.split(" ", 1)[1].isupper():
            delta = after[key][0] - before.get(key, (0.0, 0.0))[0]
            if delta:
                parts.append(f"{key} {delta / objects:.2f}")
    return ", ".join(parts)


def internals(before: Sums, after: Sums) -> dict[str, float]:
    """Mean milliseconds per observation between two scrapes, for each of ``INTERNALS``."""
    out: dict[str, float] = {}
    for label, metric in INTERNALS.items():
        s0, c0 = before.get(metric, (0.0, 0.0))
        s1, c1 = after.get(metric, (0.0, 0.0))
        out[label] = (s1 - s0) / (c1 - c0) * 1000 if c1 > c0 else float("nan")
    return out


async def _wait_crd(client: ApiClient, crd_name: str) -> None:
    for _ in range(1200):
        try:
            crd = await client.get(CUSTOM_RESOURCE_DEFINITIONS, crd_name)
            if any(
                c["type"] == "Established" and c["status"] == "True"
                for c in ((crd or {}).get("status") or {}).get("conditions") or []
            ):
                return
        except errors.ApiError:
            pass
        await asyncio.sleep(0.1)
    raise SystemExit(f"consumer CRD {crd_name} not installed by the konnector")


async def _wait_count(client: ApiClient, namespace: str, n: int, within: float) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            items, _ = await client.list_all(COWBOYS, namespace=namespace, page_size=5000)
            if len(items) >= n:
                return
        except errors.ApiError:
            pass
        await asyncio.sleep(0.25)
    raise SystemExit(f"only partial sync in {namespace} after {within}s (wanted {n})")


async def _settle(admin_c: ApiClient, admin_p: ApiClient, cns: str, pns: str) -> float:
    """Wait until the konnector has drained the cold sync's event backlog (its own writes echo
    back as watch events): a probe object must reach the provider within 100 ms, twice in a row.
    Latency phases then measure the steady state, not the tail of the cold sync."""
    started = time.monotonic()
    fast = 0
    i = 0
    while fast < 2 and time.monotonic() - started < 300:
        name = f"probe-{i}"
        i += 1
        t0 = time.monotonic()
        await admin_c.create(
            COWBOYS, {"metadata": {"name": name}, "spec": {"intent": "probe"}}, namespace=cns
        )
        while time.monotonic() - t0 < 60:
            try:
                await admin_p.get(COWBOYS, name, namespace=pns)
                break
            except errors.ApiError:
                await asyncio.sleep(0.01)
        fast = fast + 1 if time.monotonic() - t0 < 0.1 else 0
        await asyncio.sleep(0.5)
    return time.monotonic() - started


async def _wait_finalized(client: ApiClient, namespace: str, n: int, within: float) -> None:
    """Cold sync is complete when every consumer object also carries the syncer finalizer."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        items, _ = await client.list_all(COWBOYS, namespace=namespace, page_size=5000)
        done = sum(1 for o in items if constants.FINALIZER_SYNCER in (o["metadata"].get("finalizers") or []))
        if done >= n:
            return
        await asyncio.sleep(0.25)
    raise SystemExit(f"consumer objects in {namespace} not all finalized after {within}s")


def report(results: list[dict[str, Any]], rate: float, sample: int, extra: list[str]) -> None:
    print(
        f"\nkonnector benchmark — steady rate {rate:.0f} obj/s, {sample} samples per latency, "
        f"flags {' '.join(extra)}"
    )
    print(
        "floor = the same writes made directly, one after the other (for spec: consumer create, then\n"
        "provider create; for status: provider status write, then consumer status write); the last\n"
        "column is the provider write alone, a lower bound no syncer can reach."
    )
    print(
        f"{'N':>7} {'metric':<24} {'konnector':>10} {'floor':>10} {'ratio':>6} {'one write':>10} {'ratio':>6}"
    )
    for r in results:
        rows = [
            ("spec p50 (ms)", r["spec"], r["spec_chain"], r["spec_floor"], 50),
            ("spec p99 (ms)", r["spec"], r["spec_chain"], r["spec_floor"], 99),
            ("status p50 (ms)", r["status"], r["status_chain"], r["status_floor"], 50),
            ("status p99 (ms)", r["status"], r["status_chain"], r["status_floor"], 99),
        ]
        for label, ours_s, chain_s, one_s, q in rows:
            ours, chain, one = (pct(v, q) * 1000 for v in (ours_s, chain_s, one_s))
            print(
                f"{r['n']:>7} {label:<24} {ours:>10.1f} {chain:>10.1f} {ours / chain:>6.2f} "
                f"{one:>10.1f} {ours / one:>6.2f}"
            )
        cold, cold_floor = r["cold_sync_s"], r["cold_floor_s"]
        print(
            f"{r['n']:>7} {'cold sync of ' + str(r['n']) + ' (s)':<24} {cold:>10.1f} {'':>10} {'':>6} "
            f"{cold_floor:>10.1f} {cold / cold_floor:>6.2f}"
        )
        print(f"{r['n']:>7} {'konnector RSS (MiB)':<28} {r['rss_mib']:>12.1f} {'':>12}")
        print(f"{r['n']:>7} {'konnector CPU (s)':<28} {r['cpu_s']:>12.1f} {'':>12}")
        print(f"{r['n']:>7} {'backlog drained after (s)':<28} {r['settle_s']:>12.1f} {'':>12}")
        cc = r["consumer_create"]
        print(
            f"{r['n']:>7} {'  of which consumer create':<28} "
            f"p50 {pct(cc, 50) * 1000:.1f} ms, p99 {pct(cc, 99) * 1000:.1f} ms"
            " (the first write of the spec path)"
        )
        for phase in ("spec", "status"):
            means = ", ".join(f"{k} {v:.1f}" for k, v in r[f"{phase}_internals"].items())
            print(f"{r['n']:>7} konnector means during the {phase} phase (ms): {means}")
            print(f"{r['n']:>7} konnector requests per object in the {phase} phase: {r[f'{phase}_requests']}")
        lost = sample - len(r["spec"]), sample - len(r["status"])
        if any(lost):
            print(f"{r['n']:>7} WARNING: unsynced samples spec={lost[0]} status={lost[1]}")


async def main_async(args: argparse.Namespace) -> None:
    extra = [
        f"--qps={args.qps}",
        f"--burst={args.qps * 2}",
        f"--provider-qps={args.qps}",
        f"--provider-burst={args.qps * 2}",
        f"--sync-workers={args.workers}",
        *(["--http2"] if args.http2 else []),
    ]
    results = []
    for n in args.sizes:
        with tempfile.TemporaryDirectory(prefix="kb-bench-") as tmp:
            pair = ClusterPair(Path(tmp) / "clusters")
            pair.start()
            try:
                results.append(await run_size(pair, n, args.rate, args.sample, Path(tmp), extra))
            finally:
                pair.stop()
        report(results[-1:], args.rate, args.sample, extra)
    print("\n=== summary ===")
    report(results, args.rate, args.sample, extra)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--rate", type=float, default=100.0, help="steady objects/s for latency phases")
    parser.add_argument(
        "--sample", type=int, default=1000, help="objects per latency phase (10 s at 100/s: a stable p99)"
    )
    parser.add_argument("--qps", type=int, default=500, help="konnector --qps/--provider-qps (burst = 2x)")
    parser.add_argument("--workers", type=int, default=16, help="konnector --sync-workers")
    parser.add_argument("--http2", action="store_true", help="konnector --http2")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
