"""Permission claims: consumer-owned Secrets go up, provider-owned ConfigMaps come down."""

from __future__ import annotations

import base64

import pytest

from kubebind.apis import constants
from kubebind.kube.client import ApiClient
from kubebind.kube.resources import CONFIGMAPS, SECRETS
from tests.konnector import env as envmod
from tests.konnector.conftest import Binder, KonnectorRunner, get_or_none, wait_for

pytestmark = pytest.mark.cluster

COWBOYS = envmod.COWBOYS


async def test_claimed_objects_sync_both_ways(
    penv: envmod.ProviderEnv,
    run_konnector: KonnectorRunner,
    bind: Binder,
    admin_consumer: ApiClient,
    admin_provider: ApiClient,
    consumer_namespace: str,
) -> None:
    claims = [
        {
            "group": "",
            "resource": "secrets",
            "selector": {
                "labelSelector": {"matchLabels": {"wildwest.dev/claimed": "true"}},
                "references": [
                    {"group": "wildwest.dev", "resource": "cowboys", "jsonPath": {"name": "spec.secretRef"}}
                ],
            },
        },
        {"group": "", "resource": "configmaps", "selector": {"namedResources": [{"name": "town-map"}]}},
    ]
    name = envmod.unique("cowboys")
    await penv.export(name, [envmod.cowboy_crd()], claims=claims)
    await run_konnector()
    await bind(penv, name)
    provider_ns = f"{penv.cluster_namespace}-{consumer_namespace}"

    # Consumer-owned, selected by label.
    await admin_consumer.create(
        SECRETS,
        {
            "metadata": {"name": "saddle-bag", "labels": {"wildwest.dev/claimed": "true"}},
            "stringData": {"gold": "42"},
        },
        namespace=consumer_namespace,
    )
    up = await wait_for(
        lambda: get_or_none(admin_provider, SECRETS, "saddle-bag", provider_ns), what="claimed secret up"
    )
    assert base64.b64decode(up["data"]["gold"]) == b"42"
    assert up["metadata"]["labels"][constants.LABEL_OWNER] == constants.OWNER_CONSUMER
    assert up["metadata"]["annotations"][constants.ANNOTATION_CONSUMER_NAMESPACE] == consumer_namespace
    # An unlabelled, unreferenced Secret is not claimed.
    await admin_consumer.create(
        SECRETS, {"metadata": {"name": "private"}, "stringData": {"x": "y"}}, namespace=consumer_namespace
    )

    # Updates follow.
    await admin_consumer.patch(
        SECRETS, "saddle-bag", {"stringData": {"gold": "43"}}, namespace=consumer_namespace
    )

    async def updated() -> bool:
        s = await admin_provider.get(SECRETS, "saddle-bag", namespace=provider_ns)
        return base64.b64decode(s["data"]["gold"]) == b"43"

    await wait_for(updated, what="claimed secret update")

    # Selected by reference from a Cowboy.
    await admin_consumer.create(
        SECRETS, {"metadata": {"name": "colt"}, "stringData": {"a": "b"}}, namespace=consumer_namespace
    )
    await admin_consumer.create(
        COWBOYS,
        {"metadata": {"name": "doc"}, "spec": {"intent": "duel", "secretRef": "colt"}},
        namespace=consumer_namespace,
    )
    await wait_for(
        lambda: get_or_none(admin_provider, SECRETS, "colt", provider_ns), what="referenced secret up"
    )

    # Provider-owned, selected by name, comes down.
    await admin_provider.create(
        CONFIGMAPS, {"metadata": {"name": "town-map"}, "data": {"saloon": "north"}}, namespace=provider_ns
    )
    down = await wait_for(
        lambda: get_or_none(admin_consumer, CONFIGMAPS, "town-map", consumer_namespace),
        what="claimed configmap down",
    )
    assert down["data"] == {"saloon": "north"}
    assert down["metadata"]["labels"][constants.LABEL_OWNER] == constants.OWNER_PROVIDER
    assert down["metadata"]["annotations"][constants.ANNOTATION_PROVIDER_NAMESPACE] == provider_ns

    assert await get_or_none(admin_provider, SECRETS, "private", provider_ns) is None

    # Deletion follows ownership.
    await admin_consumer.delete(SECRETS, "saddle-bag", namespace=consumer_namespace)

    async def gone(client: ApiClient, ref: object, n: str, ns: str) -> bool:
        return await get_or_none(client, ref, n, ns) is None

    await wait_for(
        lambda: gone(admin_provider, SECRETS, "saddle-bag", provider_ns), what="claimed secret deleted up"
    )
    await admin_provider.delete(CONFIGMAPS, "town-map", namespace=provider_ns)
    await wait_for(
        lambda: gone(admin_consumer, CONFIGMAPS, "town-map", consumer_namespace),
        what="configmap deleted down",
    )
