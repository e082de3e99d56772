"""Bundles, namespace lifecycle, schema updates and status written back to the provider."""

from __future__ import annotations

import copy

import pytest

from konnector import kinds
from kubebind.apis import conditions, constants
from kubebind.kube.client import ApiClient
from kubebind.kube.resources import CUSTOM_RESOURCE_DEFINITIONS, NAMESPACES
from tests.konnector import env as envmod
from tests.konnector.conftest import Binder, KonnectorRunner, get_or_none, wait_for

pytestmark = pytest.mark.cluster


async def test_bundle_creates_and_deletes_bindings(
    penv: envmod.ProviderEnv,
    run_konnector: KonnectorRunner,
    bind: Binder,
    admin_consumer: ApiClient,
    admin_provider: ApiClient,
    consumer_namespace: str,
) -> None:
    name = envmod.unique("cowboys")
    await penv.export(name, [envmod.cowboy_crd()])
    await run_konnector()
    # The bind fixture writes the Secret; the bundle references it (no binding created by hand).
    await bind(penv, "unused-" + name)
    await admin_consumer.delete(kinds.API_SERVICE_BINDINGS, "unused-" + name)
    bundle = envmod.unique("bundle")
    await admin_consumer.create(
        kinds.API_SERVICE_BINDING_BUNDLES,
        {
            "metadata": {"name": bundle},
            "spec": {
                "kubeconfigSecretRef": {
                    "namespace": consumer_namespace,
                    "name": "kubeconfig-provider",
                    "key": constants.KUBECONFIG_SECRET_KEY,
                }
            },
        },
    )
    try:
        b = await wait_for(
            lambda: get_or_none(admin_consumer, kinds.API_SERVICE_BINDINGS, name), what="bundle binding"
        )
        owner = b["metadata"]["ownerReferences"][0]
        assert (owner["kind"], owner["name"]) == ("APIServiceBindingBundle", bundle)

        async def synced() -> bool:
            o = await admin_consumer.get(kinds.API_SERVICE_BINDING_BUNDLES, bundle)
            return conditions.is_true(o, constants.CONDITION_SYNCED) and conditions.is_true(
                o, constants.CONDITION_SECRET_VALID
            )

        await wait_for(synced, what="bundle Synced")

        async def binding_ready() -> bool:
            o = await admin_consumer.get(kinds.API_SERVICE_BINDINGS, name)
            return conditions.is_true(o, constants.CONDITION_READY)

        await wait_for(binding_ready, what="bundle binding Ready")
        # The export goes away on the provider → the bundle's binding is deleted (clean unbind).
        await admin_provider.delete(kinds.API_SERVICE_EXPORTS, name, namespace=penv.cluster_namespace)

        async def binding_gone() -> bool:
            return await get_or_none(admin_consumer, kinds.API_SERVICE_BINDINGS, name) is None

        await wait_for(binding_gone, timeout=60, what="bundle binding deleted")
    finally:
        await admin_consumer.delete(kinds.API_SERVICE_BINDING_BUNDLES, bundle)


async def test_namespace_lifecycle_and_status_on_provider(
    penv: envmod.ProviderEnv,
    run_konnector: KonnectorRunner,
    bind: Binder,
    admin_consumer: ApiClient,
    admin_provider: ApiClient,
    consumer_namespace: str,
) -> None:
    name = envmod.unique("cowboys")
    await penv.export(name, [envmod.cowboy_crd()])
    seeded = envmod.unique("seeded")
    # A provider-owned (template-seeded) APIServiceNamespace → the consumer namespace appears.
    await admin_provider.create(
        kinds.API_SERVICE_NAMESPACES,
        {
            "metadata": {
                "name": seeded,
                "namespace": penv.cluster_namespace,
                "labels": {constants.LABEL_OWNER: constants.OWNER_PROVIDER},
            },
            "spec": {},
        },
        namespace=penv.cluster_namespace,
    )
    await run_konnector()
    await bind(penv, name)
    try:
        ns = await wait_for(
            lambda: get_or_none(admin_consumer, NAMESPACES, seeded), what="seeded consumer namespace"
        )
        assert ns["metadata"]["labels"][constants.LABEL_OWNER] == constants.OWNER_PROVIDER
        # A consumer namespace with objects gets an APIServiceNamespace; deleting it removes that.
        temp = envmod.unique("temp")
        await admin_consumer.create(NAMESPACES, {"metadata": {"name": temp}})

        async def established() -> bool:
            crd = await get_or_none(admin_consumer, CUSTOM_RESOURCE_DEFINITIONS, "cowboys.wildwest.dev")
            conds = ((crd or {}).get("status") or {}).get("conditions") or []
            return any(c["type"] == "Established" and c["status"] == "True" for c in conds)

        await wait_for(established, what="CRD")
        await admin_consumer.create(
            envmod.COWBOYS, {"metadata": {"name": "x"}, "spec": {"intent": "y"}}, namespace=temp
        )
        await wait_for(
            lambda: get_or_none(admin_provider, kinds.API_SERVICE_NAMESPACES, temp, penv.cluster_namespace),
            what="APIServiceNamespace for the new namespace",
        )
        await wait_for(
            lambda: get_or_none(admin_provider, envmod.COWBOYS, "x", f"{penv.cluster_namespace}-{temp}"),
            what="synced",
        )
        await admin_consumer.delete(NAMESPACES, temp)

        async def sns_gone() -> bool:
            return (
                await get_or_none(admin_provider, kinds.API_SERVICE_NAMESPACES, temp, penv.cluster_namespace)
                is None
            )

        await wait_for(sns_gone, timeout=60, what="APIServiceNamespace deleted with its consumer namespace")

        # Status written back to the provider: BoundSchema mirrors the CRD, export is Connected.
        async def bound_schema_established() -> bool:
            bs = await admin_provider.get(
                kinds.BOUND_SCHEMAS, "cowboys.wildwest.dev", namespace=penv.cluster_namespace
            )
            return conditions.is_true(bs, constants.CONDITION_ESTABLISHED) and conditions.is_true(
                bs, constants.CONDITION_READY
            )

        await wait_for(bound_schema_established, what="BoundSchema status")
        export = await admin_provider.get(kinds.API_SERVICE_EXPORTS, name, namespace=penv.cluster_namespace)
        assert conditions.is_true(export, constants.CONDITION_CONNECTED)
        assert conditions.is_true(export, constants.CONDITION_CONSUMER_IN_SYNC)
    finally:
        await admin_consumer.delete(NAMESPACES, seeded)


async def test_schema_update_reaches_the_consumer_crd(
    penv: envmod.ProviderEnv,
    run_konnector: KonnectorRunner,
    bind: Binder,
    admin_consumer: ApiClient,
    admin_provider: ApiClient,
) -> None:
    name = envmod.unique("cowboys")
    await penv.export(name, [envmod.cowboy_crd()])
    await run_konnector()
    await bind(penv, name)

    async def crd_has(field: str) -> bool:
        crd = await get_or_none(admin_consumer, CUSTOM_RESOURCE_DEFINITIONS, "cowboys.wildwest.dev")
        if crd is None:
            return False
        props = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]
        return field in props

    await wait_for(lambda: crd_has("intent"), what="CRD installed")
    bs = await admin_provider.get(
        kinds.BOUND_SCHEMAS, "cowboys.wildwest.dev", namespace=penv.cluster_namespace
    )
    spec = copy.deepcopy(bs["spec"])
    spec["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["horse"] = {
        "type": "string"
    }
    # A merge patch of the spec: the konnector writes the status concurrently.
    await admin_provider.patch(
        kinds.BOUND_SCHEMAS, "cowboys.wildwest.dev", {"spec": spec}, namespace=penv.cluster_namespace
    )
    await wait_for(lambda: crd_has("horse"), what="schema update on the consumer CRD")
