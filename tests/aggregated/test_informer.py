"""Informer behaviour (list, then watch from the list's resourceVersion) across restarts and replicas.

Every change must be seen exactly once: no gap after a backend restart (the watch resumes from the
last seen version through the change log) and none when the write goes through another replica
(Postgres NOTIFY, or the change-log poll on SQLite).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any

import httpx
import pytest

from tests.aggregated.backend import GROUP_VERSION, KubeBindBackend
from tests.harness import wait_for

pytestmark = pytest.mark.cluster

COLLECTIONS = f"{GROUP_VERSION}/collections"


class Informer:
    """List + watch from the list's version; re-watch from the last seen version on disconnect."""

    def __init__(self, client_factory: Any, selector: str) -> None:
        self._factory = client_factory
        self._selector = selector
        self.events: list[tuple[str, str, str]] = []  # (type, name, rv)
        self.rv = ""
        self.relists = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        with self._factory() as c:
            listing = c.get(COLLECTIONS, params={"labelSelector": self._selector}).json()
        self.rv = listing["metadata"]["resourceVersion"]
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=20)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with (
                    self._factory() as c,
                    c.stream(
                        "GET",
                        COLLECTIONS,
                        params={
                            "watch": "true",
                            "resourceVersion": self.rv,
                            "allowWatchBookmarks": "true",
                            "labelSelector": self._selector,
                            "timeoutSeconds": "5",
                        },
                        timeout=httpx.Timeout(30, read=10),
                    ) as r,
                ):
                    if r.status_code != 200:
                        time.sleep(0.2)
                        continue
                    for line in r.iter_lines():
                        if not line:
                            continue
                        ev = json.loads(line)
                        if ev["type"] == "ERROR":
                            raise AssertionError(f"watch error (would re-list): {ev}")
                        meta = ev["object"]["metadata"]
                        self.rv = meta["resourceVersion"]
                        if ev["type"] != "BOOKMARK":
                            self.events.append((ev["type"], meta["name"], meta["resourceVersion"]))
                        if self._stop.is_set():
                            return
            except (httpx.HTTPError, OSError):
                time.sleep(0.2)


def _collection(name: str, label: str) -> dict[str, Any]:
    return {
        "apiVersion": "kube-bind.io/v1alpha2",
        "kind": "Collection",
        "metadata": {"name": name, "labels": {"run": label}},
        "spec": {"templates": [{"name": "cowboys"}]},
    }


def _delete_run(backend: KubeBindBackend, label: str) -> None:
    """Remove this test's collections: the session's backend (and its database) is shared, and
    other packages list the provider's collections."""
    with backend.provider_client() as c:
        r = c.delete(COLLECTIONS, params={"labelSelector": f"run={label}"})
        assert r.status_code == 200, r.text


def test_exactly_once_across_restart(kube_bind_backend: KubeBindBackend) -> None:
    label = uuid.uuid4().hex[:8]
    informer = Informer(kube_bind_backend.provider_client, f"run={label}")
    informer.start()
    expected: list[tuple[str, str, str]] = []
    try:
        with kube_bind_backend.provider_client() as c:
            for i in range(5):
                r = c.post(COLLECTIONS, json=_collection(f"c-{label}-{i}", label))
                assert r.status_code == 201, r.text
                expected.append(
                    ("ADDED", r.json()["metadata"]["name"], r.json()["metadata"]["resourceVersion"])
                )
        kube_bind_backend.restart()
        with kube_bind_backend.provider_client() as c:
            for i in range(5):
                r = c.patch(
                    f"{COLLECTIONS}/c-{label}-{i}",
                    json={"spec": {"description": f"round {i}"}},
                    headers={"Content-Type": "application/merge-patch+json"},
                )
                assert r.status_code == 200, r.text
                expected.append(
                    ("MODIFIED", r.json()["metadata"]["name"], r.json()["metadata"]["resourceVersion"])
                )
            r = c.delete(f"{COLLECTIONS}/c-{label}-0")
            assert r.status_code == 200
            expected.append(("DELETED", f"c-{label}-0", r.json()["metadata"]["resourceVersion"]))
        wait_for(lambda: len(informer.events) >= len(expected), timeout=30, what="all events")
        time.sleep(1)
    finally:
        informer.stop()
        _delete_run(kube_bind_backend, label)
    assert informer.events == expected


def test_watch_sees_writes_through_another_replica(kube_bind_backend: KubeBindBackend) -> None:
    label = uuid.uuid4().hex[:8]
    informer = Informer(kube_bind_backend.provider_client, f"run={label}")
    informer.start()
    port = kube_bind_backend.add_replica()
    expected = []
    try:
        with kube_bind_backend.direct_client(port, cert=kube_bind_backend.admin_cert) as other:
            for i in range(5):
                r = other.post(COLLECTIONS, json=_collection(f"r-{label}-{i}", label))
                assert r.status_code == 201, r.text
                expected.append(
                    ("ADDED", r.json()["metadata"]["name"], r.json()["metadata"]["resourceVersion"])
                )
        wait_for(
            lambda: len(informer.events) >= len(expected), timeout=30, what="events from the other replica"
        )
        time.sleep(0.5)
    finally:
        informer.stop()
        kube_bind_backend.stop_replicas()  # no stray process (nor Lease contender) for later tests
        _delete_run(kube_bind_backend, label)
    assert informer.events == expected
