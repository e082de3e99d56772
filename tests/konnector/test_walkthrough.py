"""The seed walkthrough (issue 5): bind Cowboys, sync billy-the-kid both ways, delete, unbind.

Runs an in-process konnector against the real consumer apiserver and the real provider apiserver,
with only the least-privilege token the backend would mint (tests/konnector/env.py).
"""

from __future__ import annotations

import httpx
import pytest

from konnector import kinds
from kubebind.apis import conditions, constants
from kubebind.kube.client import ApiClient
from kubebind.kube.resources import CUSTOM_RESOURCE_DEFINITIONS, SECRETS
from tests.konnector import env as envmod
from tests.konnector.conftest import Binder, KonnectorRunner, get_or_none, wait_for

pytestmark = pytest.mark.cluster

COWBOYS = envmod.COWBOYS


async def test_cowboys_walkthrough(
    penv: envmod.ProviderEnv,
    run_konnector: KonnectorRunner,
    bind: Binder,
    admin_consumer: ApiClient,
    admin_provider: ApiClient,
    consumer_namespace: str,
) -> None:
    name = envmod.unique("cowboys")
    await penv.export(name, [envmod.cowboy_crd()])
    k = await run_konnector()
    await bind(penv, name)

    # The consumer CRD is installed from the BoundSchema, owned by the binding.
    crd = await wait_for(
        lambda: get_or_none(admin_consumer, CUSTOM_RESOURCE_DEFINITIONS, "cowboys.wildwest.dev"),
        what="consumer CRD",
    )
    assert crd["metadata"]["ownerReferences"][0]["kind"] == "APIServiceBinding"
    assert crd["metadata"]["ownerReferences"][0]["name"] == name

    async def binding_ready() -> bool:
        b = await admin_consumer.get(kinds.API_SERVICE_BINDINGS, name)
        return conditions.is_true(b, constants.CONDITION_READY)

    await wait_for(binding_ready, what="binding Ready")
    b = await admin_consumer.get(kinds.API_SERVICE_BINDINGS, name)
    for ctype in (
        constants.CONDITION_SECRET_VALID,
        constants.CONDITION_CONNECTED,
        constants.CONDITION_SCHEMA_IN_SYNC,
    ):
        assert conditions.is_true(b, ctype), (ctype, b["status"])
    assert b["status"]["boundSchemas"] == [{"group": "wildwest.dev", "resource": "cowboys"}]
    assert b["status"]["providerPrettyName"] == "Wild West Inc."
    assert constants.FINALIZER_SYNCER in b["metadata"]["finalizers"]

    # Heartbeat on the provider's ClusterBinding.
    async def heartbeat() -> object:
        cb = await admin_provider.get(kinds.CLUSTER_BINDINGS, "cluster", namespace=penv.cluster_namespace)
        return cb.get("status", {}).get("lastHeartbeatTime") and cb

    cb = await wait_for(heartbeat, what="heartbeat")
    assert cb["status"]["heartbeatInterval"] == "4s"
    assert cb["status"]["konnectorVersion"].startswith("v")
    assert cb["status"]["consumerSecretRef"] == {
        "name": "kubeconfig-provider",
        "namespace": consumer_namespace,
    }
    assert conditions.is_true(cb, constants.CONDITION_SECRET_VALID)

    # kubectl-style create in the consumer.
    await admin_consumer.create(
        COWBOYS,
        {"metadata": {"name": "billy-the-kid", "labels": {"gang": "regulators"}}, "spec": {"intent": "ride"}},
        namespace=consumer_namespace,
    )
    provider_ns = f"{penv.cluster_namespace}-{consumer_namespace}"
    copy = await wait_for(
        lambda: get_or_none(admin_provider, COWBOYS, "billy-the-kid", provider_ns), what="provider copy"
    )

    async def finalized() -> object:
        o = await admin_consumer.get(COWBOYS, "billy-the-kid", namespace=consumer_namespace)
        return constants.FINALIZER_SYNCER in (o["metadata"].get("finalizers") or []) and o

    src = await wait_for(finalized, what="syncer finalizer on the consumer object")
    ann = copy["metadata"]["annotations"]
    assert ann[constants.ANNOTATION_CLUSTER_NAMESPACE] == penv.cluster_namespace
    assert ann[constants.ANNOTATION_CONSUMER_NAMESPACE] == consumer_namespace
    assert ann[constants.ANNOTATION_CONSUMER_UID] == src["metadata"]["uid"]
    assert copy["spec"] == {"intent": "ride"}
    assert copy["metadata"]["labels"] == {"gang": "regulators"}
    assert any(m["manager"] == constants.FIELD_MANAGER for m in copy["metadata"]["managedFields"])
    assert constants.FINALIZER_SYNCER in src["metadata"]["finalizers"]
    sns = await admin_provider.get(
        kinds.API_SERVICE_NAMESPACES, consumer_namespace, namespace=penv.cluster_namespace
    )
    assert sns["metadata"]["ownerReferences"][0]["kind"] == "APIServiceExport"

    # Provider writes status → appears in the consumer, with the provider trace annotations.
    await admin_provider.patch(
        COWBOYS,
        "billy-the-kid",
        {"status": {"result": "caught"}},
        namespace=provider_ns,
        subresource="status",
    )

    async def status_synced() -> bool:
        o = await admin_consumer.get(COWBOYS, "billy-the-kid", namespace=consumer_namespace)
        return o.get("status") == {"result": "caught"} and bool(o)

    await wait_for(status_synced, what="status in consumer")
    o = await admin_consumer.get(COWBOYS, "billy-the-kid", namespace=consumer_namespace)
    assert o["metadata"]["annotations"][constants.ANNOTATION_PROVIDER_NAMESPACE] == provider_ns
    assert o["metadata"]["annotations"][constants.ANNOTATION_PROVIDER_UID] == copy["metadata"]["uid"]

    # Spec edits propagate; a removed field is removed on the provider too.
    await admin_consumer.patch(
        COWBOYS,
        "billy-the-kid",
        {"spec": {"intent": "shoot", "secretRef": "x"}},
        namespace=consumer_namespace,
    )

    async def spec_is(want: dict[str, str]) -> bool:
        p = await admin_provider.get(COWBOYS, "billy-the-kid", namespace=provider_ns)
        return p.get("spec") == want

    await wait_for(lambda: spec_is({"intent": "shoot", "secretRef": "x"}), what="spec edit on provider")
    await admin_consumer.patch(
        COWBOYS, "billy-the-kid", {"spec": {"secretRef": None}}, namespace=consumer_namespace
    )
    await wait_for(lambda: spec_is({"intent": "shoot"}), what="removed field gone on provider")
    # Provider-side spec drift is corrected back to the consumer's intent.
    await admin_provider.patch(COWBOYS, "billy-the-kid", {"spec": {"intent": "hide"}}, namespace=provider_ns)
    await wait_for(lambda: spec_is({"intent": "shoot"}), what="drift corrected")

    # Metrics and health are served.
    async with httpx.AsyncClient() as http:
        health = await http.get(f"http://127.0.0.1:{k.health.port}/healthz")
        assert health.status_code == 200 and health.json()["ping"] == "ok"
        ready = await http.get(f"http://127.0.0.1:{k.health.port}/readyz")
        assert ready.status_code == 200
        metrics = (await http.get(f"http://127.0.0.1:{k.health.port}/metrics")).text
        assert (
            'kube_bind_konnector_sync_duration_seconds_count{direction="spec",gvr="cowboys.v1alpha1.wildwest.dev"}'
            in metrics
        )
        assert "kube_bind_konnector_workqueue_depth" in metrics
        for side in ("consumer", "provider"):
            assert f'kube_bind_konnector_{side}_client_requests_total{{code="201",verb="POST"}}' in metrics

    # Delete in the consumer removes both.
    await admin_consumer.delete(COWBOYS, "billy-the-kid", namespace=consumer_namespace)
    await wait_for(
        lambda: _gone(admin_provider, COWBOYS, "billy-the-kid", provider_ns), what="provider copy deleted"
    )
    await wait_for(
        lambda: _gone(admin_consumer, COWBOYS, "billy-the-kid", consumer_namespace),
        what="consumer object deleted",
    )

    # The consumer kubeconfig Secret is untouched by heartbeats while the provider's is unchanged.
    sec = await admin_consumer.get(SECRETS, "kubeconfig-provider", namespace=consumer_namespace)
    assert sec["data"][constants.KUBECONFIG_SECRET_KEY]


async def _gone(client: ApiClient, ref: object, name: str, ns: str) -> bool:
    return await get_or_none(client, ref, name, ns) is None


async def test_unbind_is_clean(
    penv: envmod.ProviderEnv,
    run_konnector: KonnectorRunner,
    bind: Binder,
    admin_consumer: ApiClient,
    admin_provider: ApiClient,
    consumer_namespace: str,
) -> None:
    """Deleting the APIServiceBinding deletes instances and provider copies, then the CRD."""
    name = envmod.unique("cowboys")
    await penv.export(name, [envmod.cowboy_crd()])
    await run_konnector()
    await bind(penv, name)
    await wait_for(
        lambda: get_or_none(admin_consumer, CUSTOM_RESOURCE_DEFINITIONS, "cowboys.wildwest.dev"), what="CRD"
    )
    await wait_for(lambda: _established(admin_consumer), what="CRD established")
    for i in range(3):
        await admin_consumer.create(
            COWBOYS, {"metadata": {"name": f"c{i}"}, "spec": {"intent": "x"}}, namespace=consumer_namespace
        )
    provider_ns = f"{penv.cluster_namespace}-{consumer_namespace}"

    async def copies() -> int:
        items, _ = await admin_provider.list_all(COWBOYS, namespace=provider_ns)
        return len(items)

    await wait_for(lambda: _eq(copies(), 3), what="3 provider copies")
    await admin_consumer.delete(kinds.API_SERVICE_BINDINGS, name)
    await wait_for(lambda: _gone(admin_consumer, kinds.API_SERVICE_BINDINGS, name, ""), what="binding gone")
    assert await copies() == 0
    await wait_for(
        lambda: _gone(admin_consumer, CUSTOM_RESOURCE_DEFINITIONS, "cowboys.wildwest.dev", ""),
        what="CRD removed",
    )


async def _established(client: ApiClient) -> bool:
    crd = await client.get(CUSTOM_RESOURCE_DEFINITIONS, "cowboys.wildwest.dev")
    return any(
        c["type"] == "Established" and c["status"] == "True"
        for c in ((crd or {}).get("status") or {}).get("conditions") or []
    )


async def _eq(value: object, want: object) -> bool:
    return (await value) == want  # type: ignore[misc]
