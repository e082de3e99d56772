"""Fixtures of the aggregated API tests; importable by other test packages.

``kube_bind_backend`` (session, parametrised ``[sqlite, postgres]``): a :class:`KubeBindBackend`
running the real ``kube-bind-backend`` process, registered once per session as the provider's
``v1alpha2.kube-bind.io`` APIService. Use ``.kubeconfig`` (provider admin, through aggregation),
``.url`` / ``.direct_client()`` (the backend itself), ``.restart()``, ``.add_replica()``.
Other packages: ``from tests.aggregated.conftest import kube_bind_backend, kube_bind_registration``
in their ``conftest.py``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from kubebind.localcluster.cluster import ClusterPair
from kubebind.localcluster.postgres import Postgres
from tests.aggregated.backend import KubeBindBackend
from tests.harness import Cluster


@pytest.fixture(scope="session")
def kube_bind_registration(
    provider: Cluster, cluster_pair: ClusterPair, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[KubeBindBackend]:
    backend = KubeBindBackend(provider, cluster_pair.provider, tmp_path_factory.mktemp("kube-bind-backend"))
    backend.register()
    try:
        yield backend
    finally:
        backend.stop()
        backend.unregister()


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def kube_bind_backend(
    request: pytest.FixtureRequest,
    kube_bind_registration: KubeBindBackend,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[KubeBindBackend]:
    backend = kube_bind_registration
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('sqlite') / 'kube-bind.db'}"
    else:
        server: Postgres = request.getfixturevalue("postgres_server")
        url = server.create_database(f"agg_{uuid.uuid4().hex[:10]}")
    backend.stop()
    backend.start(url)
    try:
        yield backend
    finally:
        backend.stop()
