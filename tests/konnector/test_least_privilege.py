"""The konnector works on the consumer with only the RBAC of konnector/rbac.py — not ``*/*/*``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import yaml

from konnector import kinds, rbac
from kubebind.apis import conditions, constants
from kubebind.kube import errors
from kubebind.kube.client import ApiClient
from kubebind.kube.resources import SECRETS, SERVICE_ACCOUNTS, ResourceRef
from kubebind.localcluster import kubeconfig as kubeconfig_files
from tests.harness import Cluster
from tests.konnector import env as envmod
from tests.konnector.conftest import Binder, KonnectorRunner, get_or_none, wait_for

pytestmark = pytest.mark.cluster

COWBOYS = envmod.COWBOYS
_REFS = {
    "ClusterRole": envmod.CLUSTER_ROLES,
    "ClusterRoleBinding": envmod.CLUSTER_ROLE_BINDINGS,
    "Role": envmod.ROLES,
    "RoleBinding": envmod.ROLE_BINDINGS,
}


@pytest.fixture
async def konnector_kubeconfig(
    admin_consumer: ApiClient, consumer: Cluster, consumer_namespace: str, tmp_path: Path
) -> AsyncIterator[tuple[Path, list[dict[str, object]]]]:
    """A consumer kubeconfig for SA ``konnector`` holding only the base konnector RBAC."""
    await admin_consumer.create(
        SERVICE_ACCOUNTS, {"metadata": {"name": "konnector"}}, namespace=consumer_namespace
    )
    applied: list[dict[str, object]] = []

    async def apply(manifests: list[dict[str, object]]) -> None:
        for m in manifests:
            meta = m["metadata"]
            assert isinstance(meta, dict)
            new_name = f"{meta['name']}-{consumer_namespace}"
            m["metadata"] = {**meta, "name": new_name}
            if m["kind"] in ("ClusterRoleBinding", "RoleBinding"):
                role_ref = m["roleRef"]
                assert isinstance(role_ref, dict)
                m["roleRef"] = {**role_ref, "name": new_name}
            await admin_consumer.create(_REFS[str(m["kind"])], m, namespace=meta.get("namespace"))
            applied.append(m)

    await apply(rbac.base_manifests(namespace=consumer_namespace))
    token = (
        await admin_consumer.create(
            SERVICE_ACCOUNTS,
            {"spec": {"audiences": []}},
            namespace=consumer_namespace,
            subresource="token",
            name="konnector",
        )
    )["status"]["token"]
    path = kubeconfig_files.write_kubeconfig(
        tmp_path / "konnector.kubeconfig",
        kubeconfig_files.build_kubeconfig(
            name="consumer",
            server=consumer.url,
            ca_pem=consumer.ca_file.read_bytes(),
            user=kubeconfig_files.token_user(token),
        ),
    )
    try:
        yield path, applied
    finally:
        for m in applied:
            meta = m["metadata"]
            assert isinstance(meta, dict)
            try:
                await admin_consumer.delete(
                    _REFS[str(m["kind"])], str(meta["name"]), namespace=meta.get("namespace")
                )
            except errors.ApiError:
                pass


async def test_konnector_with_generated_rbac_only(
    penv: envmod.ProviderEnv,
    konnector_kubeconfig: tuple[Path, list[dict[str, object]]],
    run_konnector: KonnectorRunner,
    bind: Binder,
    admin_consumer: ApiClient,
    admin_provider: ApiClient,
    consumer_namespace: str,
) -> None:
    path, applied = konnector_kubeconfig
    name = envmod.unique("cowboys")
    await penv.export(name, [envmod.cowboy_crd()])
    # The per-binding role, as the CLI would apply it at bind time.
    for m in rbac.binding_manifests(
        name, [{"group": "wildwest.dev", "resource": "cowboys"}], namespace=consumer_namespace
    ):
        await admin_consumer.create(_REFS[str(m["kind"])], m)
        applied.append(m)
    await run_konnector(kubeconfig=str(path))
    await bind(penv, name)

    async def ready() -> bool:
        b = await admin_consumer.get(kinds.API_SERVICE_BINDINGS, name)
        return conditions.is_true(b, constants.CONDITION_READY)

    await wait_for(ready, what="binding Ready with least-privilege konnector")
    await admin_consumer.create(
        COWBOYS, {"metadata": {"name": "billy"}, "spec": {"intent": "ride"}}, namespace=consumer_namespace
    )
    provider_ns = f"{penv.cluster_namespace}-{consumer_namespace}"
    await wait_for(lambda: get_or_none(admin_provider, COWBOYS, "billy", provider_ns), what="synced")
    await admin_provider.patch(
        COWBOYS, "billy", {"status": {"result": "ok"}}, namespace=provider_ns, subresource="status"
    )

    async def status_back() -> bool:
        o = await admin_consumer.get(COWBOYS, "billy", namespace=consumer_namespace)
        return o.get("status") == {"result": "ok"}

    await wait_for(status_back, what="status back")
    # The konnector's credential cannot touch kinds it was not granted.
    config = yaml.safe_load(path.read_text())
    async with ApiClient.from_kubeconfig(config) as konnector_client:
        with pytest.raises(errors.ForbiddenError):
            await konnector_client.list(ResourceRef("apps", "v1", "deployments", kind="Deployment"))
        with pytest.raises(errors.ForbiddenError):
            await konnector_client.delete(SECRETS, "anything", namespace="kube-system")
