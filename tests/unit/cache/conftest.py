"""Informers built on a client that is never asked anything: unit tests drive the sink directly."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from kubebind.cache.informer import SharedInformer
from kubebind.cache.listwatch import ListWatch
from kubebind.kube.client import ApiClient
from kubebind.kube.kubeconfig import RestConfig
from kubebind.kube.resources import CONFIGMAPS


@pytest.fixture
async def idle_client() -> AsyncIterator[ApiClient]:
    """A client pointing at a closed port; tests using it must never await the network."""
    async with ApiClient(RestConfig(server="https://127.0.0.1:9")) as client:
        yield client


@pytest.fixture
def informer(idle_client: ApiClient) -> SharedInformer:
    return SharedInformer(ListWatch(idle_client, CONFIGMAPS, "ns"))
