"""Bad input gets a clear condition and does not stop other objects from syncing."""

from __future__ import annotations

import base64
import functools

import pytest

from konnector import kinds
from kubebind.apis import conditions, constants
from kubebind.kube import errors
from kubebind.kube.client import ApiClient
from kubebind.kube.resources import EVENTS, SECRETS, ResourceRef
from tests.konnector import env as envmod
from tests.konnector.conftest import Binder, KonnectorRunner, get_or_none, wait_for

pytestmark = pytest.mark.cluster

COWBOYS = envmod.COWBOYS
VAPS = ResourceRef(
    "admissionregistration.k8s.io", "v1", "validatingadmissionpolicies", False, "ValidatingAdmissionPolicy"
)
VAP_BINDINGS = ResourceRef(
    "admissionregistration.k8s.io",
    "v1",
    "validatingadmissionpolicybindings",
    False,
    "ValidatingAdmissionPolicyBinding",
)


async def _condition(client: ApiClient, name: str, ctype: str, reason: str) -> bool:
    b = await client.get(kinds.API_SERVICE_BINDINGS, name)
    return conditions.is_false(b, ctype) and conditions.get_reason(b, ctype) == reason


async def test_garbage_kubeconfig_secret(
    run_konnector: KonnectorRunner, admin_consumer: ApiClient, consumer_namespace: str
) -> None:
    await run_konnector()
    await admin_consumer.create(
        SECRETS,
        {"metadata": {"name": "garbage"}, "stringData": {"kubeconfig": "{{{ not yaml"}},
        namespace=consumer_namespace,
    )
    names = {"missing-secret": "nope", "garbage-secret": "garbage"}
    try:
        for bname, secret in names.items():
            await admin_consumer.create(
                kinds.API_SERVICE_BINDINGS,
                {
                    "metadata": {"name": envmod.unique(bname)},
                    "spec": {
                        "kubeconfigSecretRef": {
                            "namespace": consumer_namespace,
                            "name": secret,
                            "key": "kubeconfig",
                        }
                    },
                },
            )
        listing = await admin_consumer.list(kinds.API_SERVICE_BINDINGS)
        created = {
            b["metadata"]["name"]: b["spec"]["kubeconfigSecretRef"]["name"]
            for b in listing["items"]
            if b["spec"]["kubeconfigSecretRef"]["namespace"] == consumer_namespace
        }
        for bname, secret in created.items():
            reason = (
                constants.REASON_KUBECONFIG_SECRET_NOT_FOUND
                if secret == "nope"
                else constants.REASON_KUBECONFIG_SECRET_INVALID
            )
            await wait_for(
                functools.partial(
                    _condition, admin_consumer, bname, constants.CONDITION_SECRET_VALID, reason
                ),
                what=f"SecretValid=False {reason} on {bname}",
            )
            b = await admin_consumer.get(kinds.API_SERVICE_BINDINGS, bname)
            assert conditions.is_false(b, constants.CONDITION_READY)
            if secret == "nope":
                assert "Rerun kubectl bind for repair." in conditions.get_message(
                    b, constants.CONDITION_SECRET_VALID
                )
        # A kubeconfig without a context namespace is rejected with a precise message.
        no_ns = envmod.yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:1"}}],
                "users": [{"name": "u", "user": {"token": "t"}}],
                "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "x",
            }
        )
        await admin_consumer.patch(
            SECRETS,
            "garbage",
            {"data": {"kubeconfig": base64.b64encode(no_ns.encode()).decode()}},
            namespace=consumer_namespace,
        )
        garbage_binding = next(n for n, s in created.items() if s == "garbage")

        async def says_no_namespace() -> bool:
            b = await admin_consumer.get(kinds.API_SERVICE_BINDINGS, garbage_binding)
            return "has no namespace" in conditions.get_message(b, constants.CONDITION_SECRET_VALID)

        await wait_for(says_no_namespace, what="no-namespace message")
    finally:
        for bname in list(locals().get("created", {})):
            await admin_consumer.delete(kinds.API_SERVICE_BINDINGS, bname)


async def test_invalid_bound_schema_and_rejected_objects(
    penv: envmod.ProviderEnv,
    run_konnector: KonnectorRunner,
    bind: Binder,
    admin_consumer: ApiClient,
    admin_provider: ApiClient,
    consumer_namespace: str,
) -> None:
    # Export 1: a BoundSchema that is not a valid CRD (bad version name, bad scope).
    bad_crd = envmod.cowboy_crd(plural="outlaws", kind="Outlaw")
    bad_bs = envmod.bound_schema_for(bad_crd, namespace=penv.cluster_namespace, informer_scope="Namespaced")
    bad_bs["spec"]["versions"][0]["schema"] = {
        "openAPIV3Schema": {"type": "object", "properties": {"spec": {"type": "nonsense"}}}
    }
    bad_name = envmod.unique("outlaws")
    await penv.export(bad_name, [bad_crd], bound_schema_override=bad_bs)
    # Export 2: Cowboys, with a provider quota of one Cowboy so the second is rejected.
    good_name = envmod.unique("cowboys")
    await penv.export(good_name, [envmod.cowboy_crd()])
    await run_konnector()
    await bind(penv, bad_name)
    await bind(penv, good_name)

    await wait_for(
        lambda: _condition(
            admin_consumer, bad_name, constants.CONDITION_CONNECTED, constants.REASON_CRD_CREATE_FAILED
        ),
        what="CustomResourceDefinitionCreateFailed",
    )
    b = await admin_consumer.get(kinds.API_SERVICE_BINDINGS, bad_name)
    assert "outlaws.wildwest.dev" in conditions.get_message(b, constants.CONDITION_CONNECTED)

    async def good_ready() -> bool:
        g = await admin_consumer.get(kinds.API_SERVICE_BINDINGS, good_name)
        return conditions.is_true(g, constants.CONDITION_READY)

    await wait_for(good_ready, what="good binding Ready")
    provider_ns = f"{penv.cluster_namespace}-{consumer_namespace}"
    await admin_consumer.create(
        COWBOYS, {"metadata": {"name": "first"}, "spec": {"intent": "a"}}, namespace=consumer_namespace
    )
    await wait_for(lambda: get_or_none(admin_provider, COWBOYS, "first", provider_ns), what="first synced")
    policy = envmod.unique("no-outlaw-intent")
    await admin_provider.create(
        VAPS,
        {
            "metadata": {"name": policy},
            "spec": {
                "failurePolicy": "Fail",
                "matchConstraints": {
                    "resourceRules": [
                        {
                            "apiGroups": ["wildwest.dev"],
                            "apiVersions": ["*"],
                            "operations": ["CREATE", "UPDATE"],
                            "resources": ["cowboys"],
                        }
                    ]
                },
                "validations": [
                    {
                        "expression": "object.spec.intent != 'rob'",
                        "message": "the provider does not allow robbing",
                    }
                ],
            },
        },
    )
    await admin_provider.create(
        VAP_BINDINGS,
        {
            "metadata": {"name": policy},
            "spec": {
                "policyName": policy,
                "validationActions": ["Deny"],
                "matchResources": {
                    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": provider_ns}}
                },
            },
        },
    )

    async def policy_active() -> bool:
        try:
            await admin_provider.create(
                COWBOYS,
                {"metadata": {"name": "probe"}, "spec": {"intent": "rob"}},
                namespace=provider_ns,
                dry_run=True,
            )
        except errors.ApiError:
            return True
        return False

    await wait_for(policy_active, what="admission policy active")
    await admin_consumer.create(
        COWBOYS, {"metadata": {"name": "second"}, "spec": {"intent": "rob"}}, namespace=consumer_namespace
    )

    async def rejected_event() -> bool:
        events = await admin_consumer.list(EVENTS, namespace=consumer_namespace)
        return any(
            e.get("reason") == "ProviderRejected" and e["regarding"]["name"] == "second"
            for e in events["items"]
        )

    await wait_for(rejected_event, what="ProviderRejected event")
    # Other objects keep syncing.
    await admin_consumer.patch(
        COWBOYS, "first", {"spec": {"intent": "changed"}}, namespace=consumer_namespace
    )

    async def first_changed() -> bool:
        p = await admin_provider.get(COWBOYS, "first", namespace=provider_ns)
        return p["spec"]["intent"] == "changed"

    await wait_for(first_changed, what="first still syncing")
    # Once the provider allows it, the rejected object syncs without manual action.
    await admin_provider.delete(VAP_BINDINGS, policy)
    await admin_provider.delete(VAPS, policy)
    await wait_for(
        lambda: get_or_none(admin_provider, COWBOYS, "second", provider_ns), timeout=60, what="second synced"
    )
