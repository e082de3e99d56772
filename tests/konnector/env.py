"""Provider-side setup for konnector tests, done the way the backend does it (reference §4.2/§4.3).

Until the backend (issues 3/4) is merged, these helpers create with admin rights what the backend
would: the consumer's cluster namespace, ``ClusterBinding cluster``, a ServiceAccount with exactly
the ``kube-binder`` rules in that namespace, a TokenRequest token, the kubeconfig Secret, the
APIServiceExport and BoundSchemas, and — as an asyncio task — the APIServiceNamespace controller
(provider namespace ``<clusterNs>-<consumerNs>``, per-namespace Role for the exported and claimed
resources, ``status.namespace``). The konnector only ever gets the minted token, so every test
proves it works with least-privilege provider credentials.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import copy
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import yaml

from konnector import kinds
from kubebind.apis import constants, openapi, resources
from kubebind.kube import errors
from kubebind.kube.client import ApiClient
from kubebind.kube.resources import (
    CUSTOM_RESOURCE_DEFINITIONS,
    NAMESPACES,
    SECRETS,
    SERVICE_ACCOUNTS,
    Object,
    ResourceRef,
)
from kubebind.localcluster import kubeconfig as kubeconfig_files
from tests import harness


class Endpoint(Protocol):
    """Where the provider apiserver is (a session cluster or a dedicated one)."""

    @property
    def url(self) -> str: ...

    @property
    def ca_file(self) -> Path: ...


__all__ = [
    "CLUSTER_ROLES",
    "CLUSTER_ROLE_BINDINGS",
    "COWBOYS",
    "CUSTOM_RESOURCE_DEFINITIONS",
    "ROLES",
    "ROLE_BINDINGS",
    "Endpoint",
    "ProviderEnv",
    "base64",
    "bound_schema_for",
    "cowboy_crd",
    "ensure_crd",
    "ensure_provider_kinds",
    "kinds",
    "unique",
    "yaml",
]

ROLES = ResourceRef("rbac.authorization.k8s.io", "v1", "roles", kind="Role")
ROLE_BINDINGS = ResourceRef("rbac.authorization.k8s.io", "v1", "rolebindings", kind="RoleBinding")
CLUSTER_ROLES = ResourceRef(
    "rbac.authorization.k8s.io", "v1", "clusterroles", namespaced=False, kind="ClusterRole"
)
CLUSTER_ROLE_BINDINGS = ResourceRef(
    "rbac.authorization.k8s.io", "v1", "clusterrolebindings", namespaced=False, kind="ClusterRoleBinding"
)
API_SERVICES = ResourceRef("apiregistration.k8s.io", "v1", "apiservices", namespaced=False, kind="APIService")

COWBOYS = ResourceRef("wildwest.dev", "v1alpha1", "cowboys", True, "Cowboy")


def cowboy_crd(*, plural: str = "cowboys", kind: str = "Cowboy", scope: str = "Namespaced") -> Object:
    return harness.wildwest_crd(plural, kind, scope)


def bound_schema_for(
    crd: Object, *, namespace: str, informer_scope: str, consumer_scope: str | None = None
) -> Object:
    spec = crd["spec"]
    return {
        "apiVersion": constants.API_VERSION,
        "kind": "BoundSchema",
        "metadata": {"name": f"{spec['names']['plural']}.{spec['group']}", "namespace": namespace},
        "spec": {
            "informerScope": informer_scope,
            "group": spec["group"],
            "names": copy.deepcopy(spec["names"]),
            "scope": consumer_scope or spec["scope"],
            "versions": copy.deepcopy(spec["versions"]),
        },
    }


async def ensure_crd(client: ApiClient, crd: Object) -> None:
    try:
        await client.create(CUSTOM_RESOURCE_DEFINITIONS, crd)
    except errors.ApiError as exc:
        if not errors.is_already_exists(exc):
            raise
    for _ in range(300):
        cur = await client.get(CUSTOM_RESOURCE_DEFINITIONS, crd["metadata"]["name"])
        if any(
            c.get("type") == "Established" and c.get("status") == "True"
            for c in (cur.get("status") or {}).get("conditions") or []
        ):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"CRD {crd['metadata']['name']} not established")


async def ensure_provider_kinds(admin: ApiClient) -> None:
    """Install the provider-side kube-bind.io kinds as CRDs unless our aggregated backend serves them."""
    try:
        await admin.get(API_SERVICES, f"{constants.VERSION}.{constants.GROUP}")
        return
    except errors.ApiError as exc:
        if not errors.is_not_found(exc):
            raise
    for manifest in openapi.crd_manifests(resources.Side.PROVIDER):
        await ensure_crd(admin, manifest)


def binder_rules() -> list[Object]:
    """The ``kube-binder`` rules of reference §4.2, applied only inside the cluster namespace."""
    g = constants.GROUP
    return [
        {
            "apiGroups": [g],
            "resources": ["apiserviceexportrequests"],
            "verbs": ["create", "delete", "patch", "update", "get", "list", "watch"],
        },
        {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "watch", "list"]},
        {"apiGroups": [g], "resources": ["clusterbindings"], "verbs": ["get", "watch", "list"]},
        {"apiGroups": [g], "resources": ["clusterbindings/status"], "verbs": ["get", "patch", "update"]},
        {"apiGroups": [g], "resources": ["apiserviceexports"], "verbs": ["get", "watch", "list"]},
        {"apiGroups": [g], "resources": ["apiserviceexports/status"], "verbs": ["get", "patch", "update"]},
        {
            "apiGroups": [g],
            "resources": ["apiservicenamespaces"],
            "verbs": ["create", "delete", "patch", "update", "get", "list", "watch"],
        },
        {"apiGroups": [g], "resources": ["boundschemas"], "verbs": ["get", "list", "watch"]},
        {"apiGroups": [g], "resources": ["boundschemas/status"], "verbs": ["get", "list", "patch", "update"]},
    ]


RESOURCE_VERBS = ["get", "list", "watch", "create", "update", "patch", "delete"]


@dataclass
class ProviderEnv:
    """One consumer's provider-side state: cluster namespace, credentials, exports."""

    admin: ApiClient
    provider: Endpoint
    cluster_namespace: str
    workdir: Path
    namespaced_rules: list[Object] = field(default_factory=list)
    token: str = ""
    kubeconfig: bytes = b""
    _task: asyncio.Task[None] | None = None
    cluster_objects: list[tuple[ResourceRef, str]] = field(default_factory=list)

    @property
    def sa(self) -> str:
        return "kube-binder"

    async def setup(self) -> None:
        ns = self.cluster_namespace
        await self.admin.create(
            NAMESPACES,
            {"metadata": {"name": ns, "annotations": {constants.ANNOTATION_IDENTITY: f"test-{ns}"}}},
        )
        await self.admin.create(SERVICE_ACCOUNTS, {"metadata": {"name": self.sa}}, namespace=ns)
        await self.admin.create(ROLES, {"metadata": {"name": self.sa}, "rules": binder_rules()}, namespace=ns)
        await self.admin.create(
            ROLE_BINDINGS,
            {
                "metadata": {"name": self.sa},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": self.sa},
                "subjects": [{"kind": "ServiceAccount", "name": self.sa, "namespace": ns}],
            },
            namespace=ns,
        )
        # `namespaces get` on its own cluster namespace only (a RoleBinding cannot grant it).
        await self.cluster_grant(
            f"kube-binder-ns-{ns}",
            [{"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get"], "resourceNames": [ns]}],
        )
        await self.admin.create(
            kinds.CLUSTER_BINDINGS,
            {
                "metadata": {"name": constants.CLUSTER_BINDING_NAME, "namespace": ns},
                "spec": {
                    "kubeconfigSecretRef": {
                        "name": constants.KUBECONFIG_SECRET_NAME,
                        "key": constants.KUBECONFIG_SECRET_KEY,
                    },
                    "providerPrettyName": "Wild West Inc.",
                },
            },
            namespace=ns,
        )
        await self.rotate_token()
        self._task = asyncio.get_running_loop().create_task(self._service_namespace_loop())

    async def cluster_grant(self, name: str, rules: list[Object]) -> None:
        await self.admin.create(CLUSTER_ROLES, {"metadata": {"name": name}, "rules": rules})
        await self.admin.create(
            CLUSTER_ROLE_BINDINGS,
            {
                "metadata": {"name": name},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
                "subjects": [
                    {"kind": "ServiceAccount", "name": self.sa, "namespace": self.cluster_namespace}
                ],
            },
        )
        self.cluster_objects += [(CLUSTER_ROLES, name), (CLUSTER_ROLE_BINDINGS, name)]

    async def new_token(self, bound_secret: str | None = None, seconds: int = 3600) -> str:
        spec: dict[str, Any] = {"audiences": [], "expirationSeconds": seconds}
        if bound_secret:
            sec = await self.admin.create(
                SECRETS,
                {"metadata": {"name": bound_secret}, "type": "Opaque"},
                namespace=self.cluster_namespace,
            )
            spec["boundObjectRef"] = {
                "apiVersion": "v1",
                "kind": "Secret",
                "name": bound_secret,
                "uid": sec["metadata"]["uid"],
            }
        resp = await self.admin.create(
            SERVICE_ACCOUNTS,
            {"spec": spec},
            namespace=self.cluster_namespace,
            subresource="token",
            name=self.sa,
        )
        return str(resp["status"]["token"])

    def kubeconfig_for(self, token: str) -> bytes:
        doc = kubeconfig_files.build_kubeconfig(
            name="provider",
            server=self.provider.url,
            ca_pem=self.provider.ca_file.read_bytes(),
            user=kubeconfig_files.token_user(token),
            namespace=self.cluster_namespace,
        )
        return yaml.safe_dump(doc).encode()

    async def rotate_token(self, bound_secret: str | None = None) -> str:
        """Mint a token and (re)write the provider kubeconfig Secret, as the backend's rotation does."""
        self.token = await self.new_token(bound_secret)
        self.kubeconfig = self.kubeconfig_for(self.token)
        data = {constants.KUBECONFIG_SECRET_KEY: base64.b64encode(self.kubeconfig).decode()}
        try:
            cur = await self.admin.get(
                SECRETS, constants.KUBECONFIG_SECRET_NAME, namespace=self.cluster_namespace
            )
            cur["data"] = data
            await self.admin.update(SECRETS, cur, namespace=self.cluster_namespace)
        except errors.ApiError as exc:
            if not errors.is_not_found(exc):
                raise
            await self.admin.create(
                SECRETS,
                {"metadata": {"name": constants.KUBECONFIG_SECRET_NAME}, "type": "Opaque", "data": data},
                namespace=self.cluster_namespace,
            )
        return self.token

    async def export(
        self,
        name: str,
        crds: list[Object],
        *,
        informer_scope: str = "Namespaced",
        isolation: str = "None",
        claims: list[Object] | None = None,
        consumer_scope: str | None = None,
        bound_schema_override: Object | None = None,
    ) -> Object:
        """BoundSchemas + APIServiceExport + RBAC for the exported (and claimed) resources."""
        ns = self.cluster_namespace
        resources_: list[Object] = []
        cluster_rules: list[Object] = []
        for crd in crds:
            spec = crd["spec"]
            bs = bound_schema_override or bound_schema_for(
                crd, namespace=ns, informer_scope=informer_scope, consumer_scope=consumer_scope
            )
            await self.admin.create(kinds.BOUND_SCHEMAS, bs, namespace=ns)
            resources_.append(
                {
                    "group": spec["group"],
                    "resource": spec["names"]["plural"],
                    "versions": [v["name"] for v in spec["versions"]],
                }
            )
            rule = {
                "apiGroups": [spec["group"]],
                "resources": [spec["names"]["plural"]],
                "verbs": RESOURCE_VERBS,
            }
            if spec["scope"] == "Cluster" or informer_scope == "Cluster":
                cluster_rules.append(rule)
            elif isolation == "Namespaced" and (consumer_scope or spec["scope"]) == "Cluster":
                self.namespaced_rules.append(rule)
                await self.admin.create(
                    ROLES,
                    {"metadata": {"name": f"kube-binder-resources-{name}"}, "rules": [rule]},
                    namespace=ns,
                )
                await self.admin.create(
                    ROLE_BINDINGS,
                    {
                        "metadata": {"name": f"kube-binder-resources-{name}"},
                        "roleRef": {
                            "apiGroup": "rbac.authorization.k8s.io",
                            "kind": "Role",
                            "name": f"kube-binder-resources-{name}",
                        },
                        "subjects": [{"kind": "ServiceAccount", "name": self.sa, "namespace": ns}],
                    },
                    namespace=ns,
                )
            else:
                self.namespaced_rules.append(rule)
        for claim in claims or []:
            self.namespaced_rules.append(
                {
                    "apiGroups": [claim.get("group", "")],
                    "resources": [claim["resource"]],
                    "verbs": RESOURCE_VERBS,
                }
            )
        if cluster_rules:
            await self.cluster_grant(f"kube-binder-resources-{ns}-{name}", cluster_rules)
        export: Object = {
            "metadata": {"name": name, "namespace": ns},
            "spec": {
                "resources": resources_,
                "informerScope": informer_scope,
                "isolation": isolation,
            },
        }
        if claims:
            export["spec"]["permissionClaims"] = claims
        return await self.admin.create(kinds.API_SERVICE_EXPORTS, export, namespace=ns)

    async def _service_namespace_loop(self) -> None:
        """The backend's APIServiceNamespace controller, reduced to what the konnector relies on."""
        while True:
            try:
                listing = await self.admin.list(
                    kinds.API_SERVICE_NAMESPACES, namespace=self.cluster_namespace
                )
                for sns in listing.get("items") or []:
                    if (sns.get("status") or {}).get("namespace"):
                        continue
                    await self._assign(sns)
            except asyncio.CancelledError:
                raise
            except Exception:
                pass
            await asyncio.sleep(0.1)

    async def _assign(self, sns: Object) -> None:
        name = sns["metadata"]["name"]
        target = f"{self.cluster_namespace}-{name}"
        with contextlib.suppress(errors.ApiError):
            await self.admin.create(
                NAMESPACES,
                {
                    "metadata": {
                        "name": target,
                        "annotations": {
                            constants.ANNOTATION_API_SERVICE_NAMESPACE: f"{self.cluster_namespace}/{name}"
                        },
                    }
                },
            )
        if self.namespaced_rules:
            with contextlib.suppress(errors.ApiError):
                await self.admin.create(
                    ROLES,
                    {"metadata": {"name": "kube-binder-resources"}, "rules": self.namespaced_rules},
                    namespace=target,
                )
            with contextlib.suppress(errors.ApiError):
                await self.admin.create(
                    ROLE_BINDINGS,
                    {
                        "metadata": {"name": "kube-binder-resources"},
                        "roleRef": {
                            "apiGroup": "rbac.authorization.k8s.io",
                            "kind": "Role",
                            "name": "kube-binder-resources",
                        },
                        "subjects": [
                            {"kind": "ServiceAccount", "name": self.sa, "namespace": self.cluster_namespace}
                        ],
                    },
                    namespace=target,
                )
        sns["status"] = {"namespace": target}
        await self.admin.update_status(kinds.API_SERVICE_NAMESPACES, sns, namespace=self.cluster_namespace)

    async def teardown(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        listing = await self.admin.list(kinds.API_SERVICE_NAMESPACES, namespace=self.cluster_namespace)
        for sns in listing.get("items") or []:
            target = (sns.get("status") or {}).get("namespace")
            if target:
                with contextlib.suppress(errors.ApiError):
                    await self.admin.delete(NAMESPACES, target)
        for ref, name in self.cluster_objects:
            with contextlib.suppress(errors.ApiError):
                await self.admin.delete(ref, name)
        with contextlib.suppress(errors.ApiError):
            await self.admin.delete(NAMESPACES, self.cluster_namespace)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"
