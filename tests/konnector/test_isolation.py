"""Cluster-scoped kinds in each isolation mode, and the "never touch what is not ours" rule."""

from __future__ import annotations

import asyncio

import pytest

from kubebind.apis import constants
from kubebind.kube.client import ApiClient
from kubebind.kube.resources import CUSTOM_RESOURCE_DEFINITIONS, EVENTS, ResourceRef
from tests.konnector import env as envmod
from tests.konnector.conftest import Binder, KonnectorRunner, get_or_none, wait_for

pytestmark = pytest.mark.cluster

SHERIFF_CRD = envmod.cowboy_crd(plural="sheriffs", kind="Sheriff", scope="Cluster")
SHERIFFS = ResourceRef("wildwest.dev", "v1alpha1", "sheriffs", False, "Sheriff")
DEPUTY_CRD = envmod.cowboy_crd(plural="deputies", kind="Deputy", scope="Namespaced")
DEPUTIES_CONSUMER = ResourceRef("wildwest.dev", "v1alpha1", "deputies", False, "Deputy")
DEPUTIES_PROVIDER = ResourceRef("wildwest.dev", "v1alpha1", "deputies", True, "Deputy")


@pytest.mark.parametrize("mode", ["None", "Prefixed", "Namespaced"])
async def test_cluster_scoped_isolation(
    mode: str,
    penv: envmod.ProviderEnv,
    run_konnector: KonnectorRunner,
    bind: Binder,
    admin_consumer: ApiClient,
    admin_provider: ApiClient,
) -> None:
    ns = penv.cluster_namespace
    if mode == "Namespaced":
        crd, consumer_ref, provider_ref = DEPUTY_CRD, DEPUTIES_CONSUMER, DEPUTIES_PROVIDER
        await envmod.ensure_crd(admin_provider, crd)
        await penv.export(envmod.unique("deputies"), [crd], isolation=mode, consumer_scope="Cluster")
    else:
        crd, consumer_ref, provider_ref = SHERIFF_CRD, SHERIFFS, SHERIFFS
        await envmod.ensure_crd(admin_provider, crd)
        name = envmod.unique("sheriffs")
        await penv.export(name, [crd], isolation=mode)
    export_name = (await admin_provider.list(envmod.kinds.API_SERVICE_EXPORTS, namespace=ns))["items"][0][
        "metadata"
    ]["name"]
    await run_konnector()
    await bind(penv, export_name)
    crd_name = crd["metadata"]["name"]

    async def established() -> bool:
        c = await get_or_none(admin_consumer, CUSTOM_RESOURCE_DEFINITIONS, crd_name)
        return bool(c) and any(
            x["type"] == "Established" and x["status"] == "True"
            for x in ((c or {}).get("status") or {}).get("conditions") or []
        )

    await wait_for(established, what="consumer CRD")
    consumer_crd = await admin_consumer.get(CUSTOM_RESOURCE_DEFINITIONS, crd_name)
    assert consumer_crd["spec"]["scope"] == "Cluster"
    obj_name = envmod.unique("wyatt")
    await admin_consumer.create(consumer_ref, {"metadata": {"name": obj_name}, "spec": {"intent": "guard"}})
    if mode == "None":
        pname, pns = obj_name, None
    elif mode == "Prefixed":
        pname, pns = f"{ns}-{obj_name}", None
    else:
        pname, pns = obj_name, ns
    copy = await wait_for(
        lambda: get_or_none(admin_provider, provider_ref, pname, pns), what=f"provider copy ({mode})"
    )
    assert copy["spec"] == {"intent": "guard"}
    assert copy["metadata"]["annotations"][constants.ANNOTATION_CLUSTER_NAMESPACE] == ns
    if mode != "Namespaced":
        owner = copy["metadata"]["ownerReferences"][0]
        assert (owner["kind"], owner["name"]) == ("Namespace", ns)
    await admin_provider.patch(
        provider_ref, pname, {"status": {"result": "on duty"}}, namespace=pns, subresource="status"
    )

    async def status_back() -> bool:
        o = await admin_consumer.get(consumer_ref, obj_name)
        return o.get("status") == {"result": "on duty"}

    await wait_for(status_back, what="status back")
    await admin_consumer.delete(consumer_ref, obj_name)

    async def gone() -> bool:
        return await get_or_none(admin_provider, provider_ref, pname, pns) is None

    await wait_for(gone, what="provider copy deleted")
    with_cleanup = await admin_provider.list_all(provider_ref)
    assert all(o["metadata"]["name"] != pname for o in with_cleanup[0])


async def test_foreign_provider_objects_are_never_touched(
    penv: envmod.ProviderEnv,
    run_konnector: KonnectorRunner,
    bind: Binder,
    admin_consumer: ApiClient,
    admin_provider: ApiClient,
) -> None:
    """Isolation None: a provider-side Sheriff of the same name that we did not create survives."""
    await envmod.ensure_crd(admin_provider, SHERIFF_CRD)
    name = envmod.unique("sheriffs")
    await penv.export(name, [SHERIFF_CRD], isolation="None")
    foreign = envmod.unique("foreign")
    await admin_provider.create(
        SHERIFFS, {"metadata": {"name": foreign}, "spec": {"intent": "provider's own"}}
    )
    try:
        await run_konnector()
        await bind(penv, name)
        await wait_for(
            lambda: get_or_none(admin_consumer, CUSTOM_RESOURCE_DEFINITIONS, "sheriffs.wildwest.dev"),
            what="CRD",
        )
        await asyncio.sleep(1.0)
        # Same name in the consumer: the konnector refuses to adopt the provider's object.
        await wait_for(
            lambda: _create_ok(
                admin_consumer, SHERIFFS, {"metadata": {"name": foreign}, "spec": {"intent": "mine"}}
            ),
            what="consumer create",
        )

        async def warned() -> bool:
            events = await admin_consumer.list(EVENTS, namespace="default")
            return any(
                e.get("reason") == "ProviderObjectConflict" and e["regarding"]["name"] == foreign
                for e in events["items"]
            )

        await wait_for(warned, what="conflict event")
        p = await admin_provider.get(SHERIFFS, foreign)
        assert p["spec"] == {"intent": "provider's own"}
        assert constants.ANNOTATION_CLUSTER_NAMESPACE not in (p["metadata"].get("annotations") or {})
        # Deleting the consumer object must not delete the provider's object.
        await admin_consumer.delete(SHERIFFS, foreign)
        await wait_for(lambda: _absent(admin_consumer, SHERIFFS, foreign), what="consumer object gone")
        assert await get_or_none(admin_provider, SHERIFFS, foreign) is not None
    finally:
        await admin_provider.delete(SHERIFFS, foreign)


async def _create_ok(client: ApiClient, ref: ResourceRef, body: dict[str, object]) -> bool:
    await client.create(ref, body)
    return True


async def _absent(client: ApiClient, ref: ResourceRef, name: str) -> bool:
    return await get_or_none(client, ref, name) is None
