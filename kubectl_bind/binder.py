"""The consumer-side effects of a binding (reference §7.4), shared by every bind path.

Given a validated binding response (from ``POST /api/bind``, the catalog callback, a request file or
a backend-only Secret) the :class:`Binder`:

1. ensures Namespace ``kube-bind`` and the consumer CRDs (APIServiceBinding, APIServiceBindingBundle);
2. finds the Secret in ``kube-bind`` that already holds a kubeconfig for the same provider host and
   namespace (updating it) or creates ``kubeconfig-xxxxx`` labelled ``kube-bind.io/provider-kubeconfig``;
3. applies the konnector (ServiceAccount, least-privilege RBAC, 2-replica Deployment) unless
   ``--skip-konnector``; an existing Deployment keeps its image unless ``--konnector-image`` is given;
4. creates each APIServiceExportRequest **on the provider** with the minted kubeconfig and polls it
   until ``status.phase`` is ``Succeeded`` (``Failed`` ⇒ the provider's terminal message);
5. creates ``APIServiceBinding <request name>`` (an existing one must reference the same Secret),
   marks it ``Ready=False/Pending`` for the konnector, and grants the konnector exactly the bound
   and claimed resources with a per-binding ClusterRole.

``plan`` returns every object a run would create without any I/O — that is ``--dry-run``.
"""

from __future__ import annotations

import asyncio
import base64
import time
from dataclasses import dataclass, field
from typing import Any

from kubebind.apis import constants
from kubebind.kube import ApiClient, ResourceRef
from kubebind.kube import errors as kube_errors
from kubebind.kube.resources import (
    CLUSTER_ROLE_BINDINGS,
    CLUSTER_ROLES,
    CUSTOM_RESOURCE_DEFINITIONS,
    DEPLOYMENTS,
    NAMESPACES,
    ROLE_BINDINGS,
    ROLES,
    SECRETS,
    SERVICE_ACCOUNTS,
    kube_bind_ref,
)
from kubectl_bind import manifests, progress
from kubectl_bind.clusters import api_errors, remote_client
from kubectl_bind.errors import CLIError
from kubectl_bind.response import BindingResult, parse_kubeconfig

__all__ = ["API_SERVICE_BINDINGS", "EXPORT_REQUESTS", "Binder", "BinderOptions", "ref_for"]

API_SERVICE_BINDINGS = kube_bind_ref("APIServiceBinding")
EXPORT_REQUESTS = kube_bind_ref("APIServiceExportRequest")
_REFS: dict[str, ResourceRef] = {
    "Namespace": NAMESPACES,
    "Secret": SECRETS,
    "ServiceAccount": SERVICE_ACCOUNTS,
    "ClusterRole": CLUSTER_ROLES,
    "ClusterRoleBinding": CLUSTER_ROLE_BINDINGS,
    "Role": ROLES,
    "RoleBinding": ROLE_BINDINGS,
    "Deployment": DEPLOYMENTS,
    "CustomResourceDefinition": CUSTOM_RESOURCE_DEFINITIONS,
    "APIServiceBinding": API_SERVICE_BINDINGS,
    "APIServiceExportRequest": EXPORT_REQUESTS,
}


def ref_for(obj: dict[str, Any]) -> ResourceRef:
    return _REFS[obj["kind"]]


@dataclass
class BinderOptions:
    skip_konnector: bool = False
    konnector_image: str = ""
    host_aliases: list[str] = field(default_factory=list)
    #: False when the konnector runs outside the cluster (``kubectl bind dev``): RBAC only.
    konnector_deployment: bool = True
    request_timeout: float = 600.0
    poll_interval: float = 1.0
    quiet: bool = False


def _name(obj: dict[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("name") or "")


class Binder:
    def __init__(self, consumer: ApiClient | None, options: BinderOptions) -> None:
        self.consumer = consumer
        self.options = options

    # -- dry run ---------------------------------------------------------------------------------

    def plan(self, result: BindingResult, *, secret_name: str = "") -> list[dict[str, Any]]:
        """Every object a run would create or update, in order (no I/O)."""
        objs: list[dict[str, Any]] = [manifests.namespace(), *manifests.consumer_crds()]
        objs.append(manifests.kubeconfig_secret(result.kubeconfig.raw, name=secret_name))
        if not self.options.skip_konnector:
            objs += manifests.konnector_manifests(
                self.options.konnector_image or manifests.DEFAULT_KONNECTOR_IMAGE,
                host_aliases=self.options.host_aliases,
                with_deployment=self.options.konnector_deployment,
            )
        secret_ref = secret_name or "kubeconfig-<generated>"
        for req in result.requests:
            request = manifests.export_request(req, result.kubeconfig.namespace)
            objs.append(request)
            name = _name(request) or "<generated>"
            objs.append(manifests.api_service_binding(name, secret_ref))
            if not self.options.skip_konnector:
                objs += manifests.binding_rbac(name, request["spec"])
        return objs

    # -- real run --------------------------------------------------------------------------------

    def _client(self) -> ApiClient:
        if self.consumer is None:
            raise AssertionError("Binder without a consumer client can only plan")
        return self.consumer

    async def _apply(self, obj: dict[str, Any]) -> dict[str, Any]:
        async with api_errors(f"applying {obj['kind']} {_name(obj)} on the consumer"):
            return await self._client().apply(
                ref_for(obj), obj, field_manager=manifests.FIELD_MANAGER, force=True
            )

    async def _ensure_absent_then_create(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Create if missing; an existing object is left alone (someone else owns it)."""
        client = self._client()
        ref = ref_for(obj)
        async with api_errors(f"creating {obj['kind']} {_name(obj)} on the consumer"):
            try:
                return await client.get(ref, _name(obj))
            except kube_errors.NotFoundError:
                pass
            try:
                return await client.create(ref, obj, field_manager=manifests.FIELD_MANAGER)
            except kube_errors.AlreadyExistsError:
                return await client.get(ref, _name(obj))

    async def ensure_namespace(self) -> None:
        await self._ensure_absent_then_create(manifests.namespace())

    async def ensure_crds(self) -> None:
        client = self._client()
        crds = manifests.consumer_crds()
        for crd in crds:
            await self._ensure_absent_then_create(crd)
        with progress.waiting(
            "waiting for the kube-bind CRDs to be established", quiet=self.options.quiet
        ) as p:
            deadline = time.monotonic() + 60
            for crd in crds:
                while True:
                    async with api_errors("reading CRDs on the consumer"):
                        current = await client.get(CUSTOM_RESOURCE_DEFINITIONS, _name(crd))
                    conds = (current.get("status") or {}).get("conditions") or []
                    if any(c.get("type") == "Established" and c.get("status") == "True" for c in conds):
                        break
                    if time.monotonic() > deadline:
                        raise CLIError(
                            f"CRD {_name(crd)} did not become established on the consumer within 60s"
                        )
                    p.update(_name(crd))
                    await asyncio.sleep(0.2)

    async def ensure_secret(self, result: BindingResult) -> str:
        """The name of the kubeconfig Secret for this provider host+namespace (created or updated)."""
        client = self._client()
        ns = constants.KONNECTOR_NAMESPACE
        async with api_errors("listing kubeconfig Secrets on the consumer"):
            secrets, _ = await client.list_all(SECRETS, namespace=ns)
        for secret in secrets:
            encoded = (secret.get("data") or {}).get(constants.KUBECONFIG_SECRET_KEY)
            if not encoded:
                continue
            try:
                existing = parse_kubeconfig(base64.b64decode(encoded).decode(), "existing Secret")
            except (CLIError, ValueError, UnicodeDecodeError):
                continue
            if existing.host == result.kubeconfig.host and existing.namespace == result.kubeconfig.namespace:
                name = _name(secret)
                await self._apply(manifests.kubeconfig_secret(result.kubeconfig.raw, name=name))
                return name
        async with api_errors("creating the kubeconfig Secret on the consumer"):
            created = await client.create(
                SECRETS,
                manifests.kubeconfig_secret(result.kubeconfig.raw),
                field_manager=manifests.FIELD_MANAGER,
            )
        return _name(created)

    async def deploy_konnector(self) -> None:
        if self.options.skip_konnector:
            return
        client = self._client()
        deployment_ref = _REFS["Deployment"]
        existing: dict[str, Any] | None = None
        if self.options.konnector_deployment:
            async with api_errors("reading the konnector Deployment"):
                try:
                    existing = await client.get(
                        deployment_ref, manifests.KONNECTOR_NAME, namespace=constants.KONNECTOR_NAMESPACE
                    )
                except kube_errors.NotFoundError:
                    existing = None
        with_deployment = self.options.konnector_deployment and (
            existing is None or bool(self.options.konnector_image)
        )
        objs = manifests.konnector_manifests(
            self.options.konnector_image or manifests.DEFAULT_KONNECTOR_IMAGE,
            host_aliases=self.options.host_aliases,
            with_deployment=with_deployment,
        )
        for obj in objs:
            await self._apply(obj)
        if existing is not None and not with_deployment:
            image = existing["spec"]["template"]["spec"]["containers"][0].get("image", "")
            progress.info(f"konnector already deployed ({image}); pass --konnector-image to change it")

    async def create_request(
        self, remote: ApiClient, result: BindingResult, req: dict[str, Any]
    ) -> dict[str, Any]:
        body = manifests.export_request(req, result.kubeconfig.namespace)
        ns = result.kubeconfig.namespace
        async with api_errors("creating the APIServiceExportRequest on the provider"):
            try:
                return await remote.create(EXPORT_REQUESTS, body, namespace=ns)
            except kube_errors.AlreadyExistsError:
                existing = await remote.get(EXPORT_REQUESTS, _name(body), namespace=ns)
                if existing.get("spec") == body["spec"] or _spec_matches(
                    existing.get("spec") or {}, body["spec"]
                ):
                    return existing  # re-running the same bind is idempotent
                retry = dict(body)
                meta = dict(body["metadata"])
                meta["generateName"] = f"{meta.pop('name')}-"
                retry["metadata"] = meta
                return await remote.create(EXPORT_REQUESTS, retry, namespace=ns)

    async def wait_succeeded(self, remote: ApiClient, request: dict[str, Any]) -> dict[str, Any]:
        name = _name(request)
        ns = str(request["metadata"].get("namespace") or "")
        deadline = time.monotonic() + self.options.request_timeout
        with progress.waiting(
            f"waiting for the provider to accept APIServiceExportRequest {name}", quiet=self.options.quiet
        ) as p:
            while True:
                async with api_errors(f"reading APIServiceExportRequest {name} on the provider"):
                    try:
                        current = await remote.get(EXPORT_REQUESTS, name, namespace=ns)
                    except kube_errors.NotFoundError as exc:
                        raise CLIError(
                            f"APIServiceExportRequest {name} was deleted by the service provider"
                        ) from exc
                status = current.get("status") or {}
                phase = status.get("phase") or "Pending"
                if phase == "Succeeded":
                    return current
                if phase == "Failed":
                    message = status.get("terminalMessage") or "no reason given"
                    raise CLIError(f"the provider rejected APIServiceExportRequest {name}: {message}")
                p.update(f"phase {phase}")
                if time.monotonic() > deadline:
                    raise CLIError(
                        f"APIServiceExportRequest {name} did not succeed within "
                        f"{self.options.request_timeout:.0f}s "
                        f"(phase {phase}); is the backend's controller running?"
                    )
                await asyncio.sleep(self.options.poll_interval)

    async def ensure_binding(
        self, name: str, secret_name: str, request_spec: dict[str, Any]
    ) -> dict[str, Any]:
        client = self._client()
        desired = manifests.api_service_binding(name, secret_name)
        async with api_errors(f"creating APIServiceBinding {name} on the consumer"):
            try:
                binding = await client.create(
                    API_SERVICE_BINDINGS, desired, field_manager=manifests.FIELD_MANAGER
                )
            except kube_errors.AlreadyExistsError:
                binding = await client.get(API_SERVICE_BINDINGS, name)
                ref = (binding.get("spec") or {}).get("kubeconfigSecretRef") or {}
                if ref.get("name") != secret_name or ref.get("namespace") != constants.KONNECTOR_NAMESPACE:
                    raise CLIError(
                        f"APIServiceBinding {name} already exists for another provider "
                        f"(Secret {ref.get('namespace')}/{ref.get('name')}); "
                        "unbind it first or choose another --name"
                    ) from None
        if not (binding.get("status") or {}).get("conditions"):
            pending = {
                "status": {
                    "conditions": [
                        {
                            "type": constants.CONDITION_READY,
                            "status": constants.STATUS_FALSE,
                            "severity": constants.SEVERITY_INFO,
                            "reason": constants.REASON_PENDING,
                            "message": "waiting for the konnector",
                            "lastTransitionTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                        }
                    ]
                }
            }
            try:  # best effort, like the Go CLI
                binding = await client.patch(API_SERVICE_BINDINGS, name, pending, subresource="status")
            except (kube_errors.ApiError, OSError):
                pass
        if not self.options.skip_konnector:
            for obj in manifests.binding_rbac(name, request_spec):
                await self._apply(obj)
        return binding

    async def run(self, result: BindingResult) -> list[dict[str, Any]]:
        """Do it; returns the APIServiceBindings."""
        await self.ensure_namespace()
        await self.ensure_crds()
        secret_name = await self.ensure_secret(result)
        progress.info(f"provider kubeconfig stored in Secret {constants.KONNECTOR_NAMESPACE}/{secret_name}")
        await self.deploy_konnector()
        bindings: list[dict[str, Any]] = []
        if not result.requests:
            return bindings
        async with remote_client(result.kubeconfig.data) as remote:
            for req in result.requests:
                created = await self.create_request(remote, result, req)
                done = await self.wait_succeeded(remote, created)
                bindings.append(await self.ensure_binding(_name(done), secret_name, done.get("spec") or {}))
        return bindings


def _spec_matches(existing: dict[str, Any], wanted: dict[str, Any]) -> bool:
    """Same request apart from server-side defaults (fields absent from ``wanted``)."""
    return all(existing.get(k) == v for k, v in wanted.items() if v not in (None, [], {}))
