"""Session-wide fixtures: real provider/consumer control planes, Postgres, per-test namespaces.

Everything here is real (see ../../shared/docs/testing.md). A component that is missing makes the
tests that need it *fail* with how to get it — nothing is skipped. The control planes start once
per session (about 3 s) and tests isolate themselves by namespace.

Fixtures:
- ``cluster_pair`` (session): :class:`kubebind.localcluster.cluster.ClusterPair`.
- ``provider`` / ``consumer`` (session): :class:`tests.harness.Cluster` — admin kubeconfig path,
  ``api()`` (kubernetes ApiClient), ``kubectl(...)``, ``create_namespace()``.
- ``provider_namespace`` / ``consumer_namespace``: a fresh namespace, deleted afterwards.
- ``extra_cluster``: factory for one more control plane on the same etcd (own PKI and issuer).
- ``postgres_server`` (session): :class:`kubebind.localcluster.postgres.Postgres`.
- ``database_url``: parametrised ``[sqlite, postgres]`` — a fresh, empty database per test.
- ``kube_bind_backend`` / ``kube_bind_registration`` (session): the aggregated backend registered as
  the provider's ``v1alpha2.kube-bind.io`` APIService (plugin ``tests.aggregated.fixtures``; request
  them by name, never import them: an imported copy is a second definition, i.e. a second backend).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from kubebind.localcluster.build import BuildError
from kubebind.localcluster.cluster import ClusterPair
from kubebind.localcluster.postgres import Postgres
from kubebind.localcluster.process import ProcessError
from tests.harness import Cluster

pytest_plugins = ["tests.aggregated.fixtures"]


@pytest.fixture(scope="session")
def cluster_pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterPair]:
    pair = ClusterPair(tmp_path_factory.mktemp("clusters"))
    try:
        pair.start()
    except (BuildError, ProcessError) as exc:
        pytest.fail(f"cannot start the local control planes: {exc}", pytrace=False)
    try:
        yield pair
    finally:
        pair.stop()


@pytest.fixture(scope="session")
def provider(cluster_pair: ClusterPair) -> Cluster:
    return Cluster(cluster_pair.provider)


@pytest.fixture(scope="session")
def consumer(cluster_pair: ClusterPair) -> Cluster:
    return Cluster(cluster_pair.consumer)


@pytest.fixture
def extra_cluster(cluster_pair: ClusterPair) -> Iterator[Callable[[str], Cluster]]:
    """Factory for additional control planes on the session etcd, stopped after the test.

    For tests that must not disturb the shared provider/consumer: restarting an apiserver,
    installing APIs that would clash with the aggregated kube-bind.io group, and so on.
    """
    names: list[str] = []

    def make(prefix: str = "extra") -> Cluster:
        name = f"{prefix}{uuid.uuid4().hex[:6]}"
        try:
            cluster_pair.add_cluster(name)
        except (BuildError, ProcessError) as exc:
            pytest.fail(f"cannot start an extra control plane: {exc}", pytrace=False)
        names.append(name)
        return Cluster(cluster_pair.clusters[name])

    yield make
    for name in names:
        cluster_pair.remove_cluster(name)


@pytest.fixture
def provider_namespace(provider: Cluster) -> Iterator[str]:
    with provider.temporary_namespace() as name:
        yield name


@pytest.fixture
def consumer_namespace(consumer: Cluster) -> Iterator[str]:
    with consumer.temporary_namespace() as name:
        yield name


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Postgres]:
    # Its own world-traversable temp dir: as root the server runs as the `postgres` user, which
    # cannot enter pytest's 0700 tmp directories.
    try:
        server = Postgres().start()
    except ProcessError as exc:
        pytest.fail(f"cannot start Postgres: {exc}", pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh empty database, once on SQLite and once on Postgres."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'kube-bind.db'}"
    server: Postgres = request.getfixturevalue("postgres_server")
    return server.create_database(f"t_{uuid.uuid4().hex[:12]}")
