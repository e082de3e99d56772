"""Session fixtures of the aggregated backend, shared by every test package (a pytest plugin).

``kube_bind_backend`` (session, parametrised ``[sqlite, postgres]``): a :class:`KubeBindBackend`
running the real ``kube-bind-backend`` process, registered once per session as the provider's
``v1alpha2.kube-bind.io`` APIService. Use ``.kubeconfig`` (provider admin, through aggregation),
``.url`` / ``.direct_client()`` (the backend itself), ``.restart()``, ``.add_replica()``.

Why a plugin (``pytest_plugins`` in ``tests/conftest.py``) and not a ``conftest.py``: a fixture
is cached per *definition*, so importing these functions into another ``conftest.py`` or test
module defines them a second time and a session running both packages gets a second backend.
Both register the one APIService and compete for the controllers' leader Lease: the second
registration re-points the APIService at its own process and database while the first process
may keep leading, its controllers watching the other database (export requests never
reconciled). Request the fixtures by name anywhere under ``tests/``; never import them.
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
