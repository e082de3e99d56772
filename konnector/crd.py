"""Consumer CRDs: the konnector's own (APIServiceBinding/Bundle) and those made from BoundSchemas.

Why here: installing a CRD and waiting for ``Established`` is the same dance for both; the
BoundSchema → CRD conversion is the shared one (``kubebind.apis.boundschema``, reference §6.5),
with a controller ownerRef to the APIServiceBinding.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from kubebind.apis import boundschema, constants, openapi, resources
from kubebind.kube import errors
from kubebind.kube.client import ApiClient
from kubebind.kube.resources import CUSTOM_RESOURCE_DEFINITIONS, Object, ResourceRef

__all__ = [
    "bound_schema_to_crd",
    "established",
    "first_served_version",
    "install_consumer_crds",
    "is_owned_by",
    "sync_refs",
]

log = logging.getLogger(__name__)


def bound_schema_to_crd(bound_schema: Object, binding: Object) -> Object:
    """The consumer CRD for a BoundSchema, controller-owned by the binding (shared conversion)."""
    bmeta = binding.get("metadata") or {}
    owner = boundschema.binding_owner_reference(str(bmeta.get("name")), str(bmeta.get("uid")))
    return boundschema.bound_schema_to_crd(bound_schema, owner=owner)


def is_owned_by(crd: Object, binding: Object) -> bool:
    bmeta = binding.get("metadata") or {}
    for ref in (crd.get("metadata") or {}).get("ownerReferences") or []:
        if (
            ref.get("kind") == "APIServiceBinding"
            and str(ref.get("apiVersion", "")).startswith(constants.GROUP + "/")
            and ref.get("name") == bmeta.get("name")
            and ref.get("uid") == bmeta.get("uid")
        ):
            return True
    return False


def first_served_version(bound_schema: Object) -> dict[str, Any] | None:
    for ver in (bound_schema.get("spec") or {}).get("versions") or []:
        if ver.get("served", True):
            return dict(ver)
    return None


def sync_refs(bound_schema: Object, isolation: str) -> tuple[ResourceRef, ResourceRef, bool] | None:
    """Consumer and provider refs (first served version on both sides) and status-subresource flag."""
    spec = bound_schema.get("spec") or {}
    ver = first_served_version(bound_schema)
    if ver is None:
        return None
    names = spec.get("names") or {}
    consumer_namespaced = spec.get("scope") == "Namespaced"
    provider_namespaced = consumer_namespaced or isolation == "Namespaced"
    group = str(spec.get("group") or "")
    plural = str(names.get("plural") or "")
    kind = str(names.get("kind") or "")
    version = str(ver.get("name"))
    has_status = "status" in (ver.get("subresources") or {})
    return (
        ResourceRef(group, version, plural, consumer_namespaced, kind),
        ResourceRef(group, version, plural, provider_namespaced, kind),
        has_status,
    )


def established(crd: Object) -> bool:
    for cond in (crd.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Established" and cond.get("status") == "True":
            return True
    return False


async def install_consumer_crds(client: ApiClient, timeout: float = 60.0) -> None:  # noqa: ASYNC109
    """Create or update ``apiservicebindings``/``apiservicebindingbundles`` and wait for Established."""
    names = []
    for manifest in openapi.crd_manifests(resources.Side.CONSUMER):
        name = manifest["metadata"]["name"]
        names.append(name)
        try:
            current = await client.get(CUSTOM_RESOURCE_DEFINITIONS, name)
        except errors.ApiError as exc:
            if not errors.is_not_found(exc):
                raise
            await client.create(CUSTOM_RESOURCE_DEFINITIONS, manifest)
            log.info("installed consumer CRD name=%s", name)
            continue
        if current.get("spec") != manifest["spec"]:
            current["spec"] = manifest["spec"]
            try:
                await client.update(CUSTOM_RESOURCE_DEFINITIONS, current)
                log.info("updated consumer CRD name=%s", name)
            except errors.ApiError as exc:
                if not errors.is_conflict(exc):
                    raise
    deadline = asyncio.get_running_loop().time() + timeout
    for name in names:
        while True:
            crd = await client.get(CUSTOM_RESOURCE_DEFINITIONS, name)
            if established(crd):
                break
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"CRD {name} not Established after {timeout}s")
            await asyncio.sleep(0.1)
