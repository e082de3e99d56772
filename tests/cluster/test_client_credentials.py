"""Credential swap on a live ApiClient with two TokenRequest tokens: later requests and the
reconnecting watches use the new token, and the informer keeps its progress (no re-list)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest

from kubebind.cache.informer import SharedInformer
from kubebind.cache.listwatch import ListWatch
from kubebind.kube import client as kclient
from kubebind.kube import errors, kubeconfig
from kubebind.kube.resources import CONFIGMAPS, SERVICE_ACCOUNTS, ResourceRef
from tests.harness import Cluster

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(120)]

ROLES = ResourceRef("rbac.authorization.k8s.io", "v1", "roles", kind="Role")
ROLE_BINDINGS = ResourceRef("rbac.authorization.k8s.io", "v1", "rolebindings", kind="RoleBinding")
SELF_SUBJECT_REVIEWS = ResourceRef(
    "authentication.k8s.io", "v1", "selfsubjectreviews", namespaced=False, kind="SelfSubjectReview"
)


async def eventually(predicate: Callable[[], Any], within: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within}s waiting for {what}")
        await asyncio.sleep(0.05)


async def whoami(api: kclient.ApiClient) -> str:
    review = await api.create(SELF_SUBJECT_REVIEWS, {})
    return str(review["status"]["userInfo"]["username"])


async def readers(admin: kclient.ApiClient, provider: Cluster, ns: str) -> tuple[str, str]:
    await admin.create(
        ROLES,
        {
            "metadata": {"name": "cm-reader"},
            "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list", "watch"]}],
        },
        namespace=ns,
    )
    tokens = []
    for sa in ("reader-a", "reader-b"):
        await admin.create(SERVICE_ACCOUNTS, {"metadata": {"name": sa}}, namespace=ns)
        await admin.create(
            ROLE_BINDINGS,
            {
                "metadata": {"name": sa},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "cm-reader"},
                "subjects": [{"kind": "ServiceAccount", "name": sa, "namespace": ns}],
            },
            namespace=ns,
        )
        tokens.append(await asyncio.to_thread(provider.create_token, ns, sa, 600))
    return tokens[0], tokens[1]


async def test_swap_token_keeps_informer_progress(provider: Cluster, provider_namespace: str) -> None:
    ns = provider_namespace
    admin_config = kubeconfig.load_kubeconfig(provider.kubeconfig)
    async with kclient.ApiClient(admin_config) as admin:
        token_a, token_b = await readers(admin, provider, ns)
        await admin.create(CONFIGMAPS, {"metadata": {"name": "before"}}, namespace=ns)

        async with kclient.ApiClient(admin_config.with_token(token_a)) as api:
            assert await whoami(api) == f"system:serviceaccount:{ns}:reader-a"
            informer = SharedInformer(ListWatch(api, CONFIGMAPS, ns))
            added: list[str] = []
            informer.add_event_handler(_Adds(added))
            task = asyncio.create_task(informer.run(), name="informer")
            try:
                async with asyncio.timeout(20):
                    await informer.wait_for_sync()
                await eventually(lambda: informer.reflector.watch_count >= 1, what="first watch")
                watches_before = informer.reflector.watch_count

                api.update_credentials(admin_config.with_token(token_b))
                assert await whoami(api) == f"system:serviceaccount:{ns}:reader-b"
                await eventually(lambda: informer.reflector.watch_count > watches_before, what="re-watch")

                # Revoke token A: only a watch opened with token B can still deliver events.
                await admin.delete(SERVICE_ACCOUNTS, "reader-a", namespace=ns)
                async with kclient.ApiClient(admin_config.with_token(token_a)) as old:

                    async def rejected() -> bool:
                        try:
                            await old.list(CONFIGMAPS, namespace=ns, limit=1)
                        except errors.UnauthorizedError:
                            return True
                        return False

                    deadline = time.monotonic() + 20
                    while not await rejected():
                        assert time.monotonic() < deadline, "token A still accepted after its SA was deleted"
                        await asyncio.sleep(0.2)

                await admin.create(CONFIGMAPS, {"metadata": {"name": "after"}}, namespace=ns)
                await eventually(lambda: "after" in added, what="event delivered on the new credential")
                assert informer.reflector.list_count == 1, "a credential swap must not force a re-list"
                assert sorted(k.name for k in informer.store.list_keys()) == [
                    "after",
                    "before",
                    "kube-root-ca.crt",
                ]
            finally:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)


async def test_swap_to_a_different_transport_builds_a_new_pool(
    provider: Cluster, provider_namespace: str
) -> None:
    admin_config = kubeconfig.load_kubeconfig(provider.kubeconfig)
    async with kclient.ApiClient(admin_config) as admin:
        token_a, _ = await readers(admin, provider, provider_namespace)
    async with kclient.ApiClient(admin_config.with_token(token_a)) as api:
        old_session = api._session
        stream = api.watch(CONFIGMAPS, namespace=provider_namespace, timeout_seconds=30)
        reader = asyncio.create_task(_drain(stream))
        await eventually(lambda: old_session.active == 1, what="watch holding the old pool")
        api.update_credentials(provider.kubeconfig)  # admin client certificate: new TLS identity
        assert api._session is not old_session
        async with asyncio.timeout(10):
            await reader  # the watch ended gracefully
        assert old_session.active == 0 and old_session.is_closed
        user = await whoami(api)
        assert user and not user.startswith("system:serviceaccount:"), user


async def _drain(stream: kclient.Watch) -> None:
    async with stream:
        async for _ in stream:
            pass


class _Adds:
    def __init__(self, names: list[str]) -> None:
        self.names = names

    def on_add(self, obj: dict[str, Any], is_in_initial_list: bool) -> None:
        self.names.append(obj["metadata"]["name"])

    def on_update(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        pass

    def on_delete(self, obj: object) -> None:
        pass
