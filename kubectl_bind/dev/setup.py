"""Kubernetes-side steps of the dev environment: examples, a non-interactive binding, konnector identity.

* :func:`apply_examples` installs the Cowboys CRD on the provider and, once the backend's
  aggregated ``kube-bind.io/v1alpha2`` API answers, the ``cowboys`` APIServiceExportTemplate.
* :func:`bind_without_browser` binds a template for ``dev up --bind``: the provider admin creates a
  BindableResourcesRequest (the backend-only flow, reference §4.5), the backend answers with a
  kubeconfig in a Secret, and the shared Binder applies the consumer side with the request built
  from the template — exactly what a consumer does with ``kubectl bind deploy``.
* :func:`konnector_kubeconfig` mints a TokenRequest token for ``kube-bind/konnector`` on the
  consumer, so the locally running konnector has only its least-privilege RBAC, not admin.
"""

from __future__ import annotations

import asyncio
import base64
import time
from pathlib import Path
from typing import Any

import yaml

from kubebind.apis import constants
from kubebind.kube import ApiClient, ResourceRef
from kubebind.kube import errors as kube_errors
from kubebind.kube.resources import CUSTOM_RESOURCE_DEFINITIONS, NAMESPACES, SECRETS, SERVICE_ACCOUNTS
from kubebind.localcluster import kubeconfig as kubeconfig_files
from kubebind.localcluster import paths
from kubectl_bind import manifests
from kubectl_bind.binder import Binder, BinderOptions
from kubectl_bind.errors import CLIError
from kubectl_bind.response import BindingResult, parse_secret_payload

__all__ = ["apply_examples", "bind_without_browser", "examples_dir", "konnector_kubeconfig", "wait_for_api"]

TEMPLATES = ResourceRef(
    constants.GROUP, constants.VERSION, "apiserviceexporttemplates", False, "APIServiceExportTemplate"
)
BINDABLE_REQUESTS = ResourceRef(
    constants.GROUP, constants.VERSION, "bindableresourcesrequests", True, "BindableResourcesRequest"
)
FIELD_MANAGER = "kubectl-bind-dev"


def examples_dir() -> Path:
    directory = paths.repo_root() / "examples"
    if not (directory / "crd-cowboys.yaml").is_file():
        raise CLIError(
            f"examples not found in {directory}: run `kubectl bind dev` from a kube-bind-py checkout"
        )
    return directory


def _load(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if isinstance(d, dict)]


async def wait_for_api(client: ApiClient, group_version: str, seconds: float) -> None:
    """Until the provider serves ``/apis/<group_version>`` (the APIService is available)."""
    deadline = time.monotonic() + seconds
    last = ""
    while time.monotonic() < deadline:
        try:
            await client.request("GET", f"/apis/{group_version}")
            return
        except (kube_errors.ApiError, OSError) as exc:
            last = str(exc)
        await asyncio.sleep(0.5)
    raise CLIError(
        f"the provider does not serve {group_version} after {seconds:.0f}s ({last}); see the backend log"
    )


async def apply_examples(provider: ApiClient, *, api_timeout: float = 60.0) -> list[str]:
    directory = examples_dir()
    applied: list[str] = []
    for crd in _load(directory / "crd-cowboys.yaml"):
        await provider.apply(CUSTOM_RESOURCE_DEFINITIONS, crd, field_manager=FIELD_MANAGER)
        applied.append(f"CustomResourceDefinition/{crd['metadata']['name']}")
        deadline = time.monotonic() + 30
        while True:
            current = await provider.get(CUSTOM_RESOURCE_DEFINITIONS, crd["metadata"]["name"])
            if any(
                c.get("type") == "Established" and c.get("status") == "True"
                for c in (current.get("status") or {}).get("conditions") or []
            ):
                break
            if time.monotonic() > deadline:
                raise CLIError(f"CRD {crd['metadata']['name']} not established on the provider")
            await asyncio.sleep(0.2)
    await wait_for_api(provider, constants.API_VERSION, api_timeout)
    for template in _load(directory / "template-cowboys.yaml"):
        await provider.apply(TEMPLATES, template, field_manager=FIELD_MANAGER)
        applied.append(f"APIServiceExportTemplate/{template['metadata']['name']}")
    return applied


async def ensure_namespace(client: ApiClient, name: str) -> None:
    try:
        await client.create(NAMESPACES, {"metadata": {"name": name}})
    except kube_errors.AlreadyExistsError:
        pass


async def bind_without_browser(
    provider: ApiClient, consumer: ApiClient, template_name: str, *, wait_seconds: float = 120.0
) -> list[dict[str, Any]]:
    """Bind ``template_name`` through the backend-only flow; returns the APIServiceBindings."""
    try:
        template = await provider.get(TEMPLATES, template_name)
    except kube_errors.NotFoundError as exc:
        raise CLIError(f"template {template_name!r} not found on the provider") from exc
    kube_system = await consumer.get(NAMESPACES, "kube-system")
    identity = str(kube_system["metadata"]["uid"])
    namespace = "kube-bind-dev"
    await ensure_namespace(provider, namespace)
    name = f"dev-{template_name}"
    request = {
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "templateRef": {"name": template_name},
            "clusterIdentity": {"identity": identity},
            "author": "kubectl-bind-dev",
        },
    }
    try:
        await provider.create(BINDABLE_REQUESTS, request, namespace=namespace)
    except kube_errors.AlreadyExistsError:
        pass
    deadline = time.monotonic() + wait_seconds
    secret_name = f"{name}-binding-response"
    result: BindingResult | None = None
    while result is None:
        try:
            secret = await provider.get(SECRETS, secret_name, namespace=namespace)
            payload = (secret.get("data") or {}).get("binding-response")
            if payload:
                result = parse_secret_payload(base64.b64decode(payload), f"Secret {namespace}/{secret_name}")
                break
        except kube_errors.NotFoundError:
            pass
        if time.monotonic() > deadline:
            raise CLIError(
                f"the backend did not answer BindableResourcesRequest {namespace}/{name} "
                f"within {wait_seconds:.0f}s"
            )
        await asyncio.sleep(0.5)
    spec = {
        k: v
        for k, v in (template.get("spec") or {}).items()
        if k in ("resources", "permissionClaims", "namespaces", "schemaUpdatePolicy")
    }
    result.requests = [
        {
            "apiVersion": constants.API_VERSION,
            "kind": "APIServiceExportRequest",
            "metadata": {"name": template_name},
            "spec": spec,
        }
    ]
    binder = Binder(consumer, BinderOptions(konnector_deployment=False, request_timeout=wait_seconds))
    return await binder.run(result)


async def konnector_kubeconfig(
    consumer: ApiClient, consumer_url: str, ca_pem: bytes, path: Path, *, seconds: int = 86400
) -> Path:
    """Kubeconfig for the konnector's ServiceAccount (least privilege) on the consumer."""
    try:
        await consumer.get(
            SERVICE_ACCOUNTS, manifests.KONNECTOR_NAME, namespace=constants.KONNECTOR_NAMESPACE
        )
    except kube_errors.NotFoundError as exc:
        raise CLIError("ServiceAccount kube-bind/konnector missing on the consumer") from exc
    token = await consumer.create(
        SERVICE_ACCOUNTS,
        {
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenRequest",
            "spec": {"expirationSeconds": seconds},
        },
        namespace=constants.KONNECTOR_NAMESPACE,
        name=manifests.KONNECTOR_NAME,
        subresource="token",
    )
    return kubeconfig_files.write_kubeconfig(
        path,
        kubeconfig_files.build_kubeconfig(
            name="consumer",
            server=consumer_url,
            ca_pem=ca_pem,
            user=kubeconfig_files.token_user(str(token["status"]["token"])),
            namespace=constants.KONNECTOR_NAMESPACE,
        ),
    )
