"""The konnector as a real process: ``--help``, and kill -9 in the middle of 500 creates."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from kubebind.apis import constants
from kubebind.kube.client import ApiClient
from kubebind.localcluster.ports import free_port
from kubebind.localcluster.process import ManagedProcess
from tests.harness import Cluster
from tests.konnector import env as envmod
from tests.konnector.conftest import Binder, get_or_none, wait_for

pytestmark = pytest.mark.cluster

COWBOYS = envmod.COWBOYS


def test_help() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "konnector.main", "--help"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    for flag in (
        "--kubeconfig",
        "--heartbeat-interval",
        "--resync-period",
        "--qps",
        "--burst",
        "--lease-namespace",
        "--server-address",
    ):
        assert flag in out


def test_bad_flag_is_a_one_line_error() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "konnector.main", "--heartbeat-interval", "-5s"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 2
    assert "heartbeat" in proc.stderr


def _konnector(consumer: Cluster, lease_ns: str, log: Path, port: int, identity: str) -> ManagedProcess:
    return ManagedProcess(
        f"konnector[{identity}]",
        [
            sys.executable,
            "-m",
            "konnector.main",
            f"--kubeconfig={consumer.kubeconfig}",
            f"--lease-namespace={lease_ns}",
            f"--identity={identity}",
            f"--server-address=127.0.0.1:{port}",
            "--heartbeat-interval=10s",
            "--leader-elect-lease-duration=4s",
            "--leader-elect-renew-deadline=3s",
            "--leader-elect-retry-period=500ms",
            "--qps=300",
            "--burst=600",
            "--provider-qps=300",
            "--provider-burst=600",
        ],
        log,
    ).start()


async def _wait_healthy(port: int, proc: ManagedProcess, timeout: float = 60) -> None:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as http:
        while time.monotonic() < deadline:
            proc.check_alive()
            try:
                if (await http.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise AssertionError(f"konnector not ready:\n{proc.log_tail()}")


async def test_kill_9_mid_sync_loses_and_duplicates_nothing(
    penv: envmod.ProviderEnv,
    bind: Binder,
    admin_consumer: ApiClient,
    admin_provider: ApiClient,
    consumer: Cluster,
    consumer_namespace: str,
    tmp_path: Path,
) -> None:
    total = 500
    name = envmod.unique("cowboys")
    await penv.export(name, [envmod.cowboy_crd()])
    port = free_port()
    proc = _konnector(consumer, consumer_namespace, tmp_path / "k1.log", port, "konnector-1")
    second: ManagedProcess | None = None
    try:
        await _wait_healthy(port, proc)
        await bind(penv, name)

        async def established() -> bool:
            crd = await get_or_none(
                admin_consumer, envmod.CUSTOM_RESOURCE_DEFINITIONS, "cowboys.wildwest.dev"
            )
            conds = ((crd or {}).get("status") or {}).get("conditions") or []
            return any(c["type"] == "Established" and c["status"] == "True" for c in conds)

        await wait_for(established, what="CRD")
        provider_ns = f"{penv.cluster_namespace}-{consumer_namespace}"
        sem = asyncio.Semaphore(20)

        async def create(i: int) -> None:
            async with sem:
                await admin_consumer.create(
                    COWBOYS,
                    {"metadata": {"name": f"c-{i:04d}"}, "spec": {"intent": f"i{i}"}},
                    namespace=consumer_namespace,
                )

        writer = asyncio.gather(*(create(i) for i in range(total)))

        async def synced_at_least(n: int) -> bool:
            items, _ = await admin_provider.list_all(COWBOYS, namespace=provider_ns)
            return len(items) >= n

        await wait_for(lambda: synced_at_least(100), timeout=120, what="100 synced before the kill")
        proc.kill()  # SIGKILL, mid-sync
        await writer
        second = _konnector(consumer, consumer_namespace, tmp_path / "k2.log", free_port(), "konnector-2")

        async def all_synced() -> bool:
            items, _ = await admin_provider.list_all(COWBOYS, namespace=provider_ns)
            return len(items) == total

        await wait_for(all_synced, timeout=180, interval=0.5, what=f"{total} provider copies after restart")
        await asyncio.sleep(2)  # let stragglers show up if any duplicate were to be created
        consumer_items, _ = await admin_consumer.list_all(COWBOYS, namespace=consumer_namespace)
        provider_items, _ = await admin_provider.list_all(COWBOYS, namespace=provider_ns)
        assert len(consumer_items) == total and len(provider_items) == total
        uids = {o["metadata"]["name"]: o["metadata"]["uid"] for o in consumer_items}
        for p in provider_items:
            pname = p["metadata"]["name"]
            assert p["metadata"]["annotations"][constants.ANNOTATION_CONSUMER_UID] == uids[pname]
            assert p["spec"] == {"intent": f"i{int(pname.split('-')[1])}"}
            # Written exactly once: created with its spec, never re-created or re-written.
            assert p["metadata"]["generation"] == 1, p["metadata"]
        for c in consumer_items:
            assert constants.FINALIZER_SYNCER in c["metadata"]["finalizers"]
        # Clean up through the konnector (finalizers) before the binding goes.
        await admin_consumer.delete_collection(COWBOYS, namespace=consumer_namespace)

        async def drained() -> bool:
            items, _ = await admin_consumer.list_all(COWBOYS, namespace=consumer_namespace)
            return not items

        await wait_for(drained, timeout=120, interval=0.5, what="consumer cowboys deleted")
        assert not (await admin_provider.list_all(COWBOYS, namespace=provider_ns))[0]
        # Unbind while the konnector still runs (the fixture would otherwise wait for it).
        await admin_consumer.delete(envmod.kinds.API_SERVICE_BINDINGS, name)

        async def unbound() -> bool:
            return await get_or_none(admin_consumer, envmod.kinds.API_SERVICE_BINDINGS, name) is None

        await wait_for(unbound, timeout=60, what="clean unbind")
    finally:
        proc.stop()
        if second is not None:
            second.stop()
