"""Kubernetes-side steps of the dev environment: examples, a non-interactive binding, konnector identity.

* :func:`apply_examples` installs the Cowboys CRD on the provider and, once the backend's
  aggregated ``kube-bind.io/v1alpha2`` API answers, the ``cowboys`` APIServiceExportTemplate.
* :func:`password_login` + :func:`bind_template` do ``dev up --bind``: a browser-less login through
  the embedded dev issuer's form (dev user ``kube-bind``), then exactly what
  ``kubectl bind apiservice --template-name`` does (``POST /api/bind`` + the shared Binder), with
  the konnector's RBAC but no Deployment (the konnector runs as a local process).
* :func:`konnector_kubeconfig` mints a TokenRequest token for ``kube-bind/konnector`` on the
  consumer, so the locally running konnector has only its least-privilege RBAC, not admin.
"""

from __future__ import annotations

import asyncio
import secrets
import ssl
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urljoin, urlsplit

import httpx
import yaml

from kubebind.apis import constants
from kubebind.kube import ApiClient, ResourceRef
from kubebind.kube import errors as kube_errors
from kubebind.kube.resources import CUSTOM_RESOURCE_DEFINITIONS, NAMESPACES, SERVICE_ACCOUNTS
from kubebind.localcluster import kubeconfig as kubeconfig_files
from kubebind.localcluster import paths
from kubectl_bind import manifests
from kubectl_bind.backend import BackendClient, add_query, discover_authorize_url
from kubectl_bind.binder import Binder, BinderOptions
from kubectl_bind.config import Server, token_expiry
from kubectl_bind.errors import CLIError
from kubectl_bind.response import parse_binding_response

__all__ = [
    "apply_examples",
    "bind_template",
    "ensure_namespace",
    "examples_dir",
    "konnector_kubeconfig",
    "password_login",
    "wait_for_api",
]

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


DEV_USER = "kube-bind"
DEV_PASSWORD = "kube-bind"


async def password_login(
    backend_url: str, ca_file: str, *, username: str = DEV_USER, password: str = DEV_PASSWORD
) -> Server:
    """Log in through the embedded dev issuer's login form without a browser (dev only).

    Follows the same redirects a browser would: ``/api/authorize`` → the issuer's login page →
    POST of the form → ``/api/callback`` → the CLI loopback URL carrying the token, which is read
    from the ``Location`` header (nothing needs to listen there).
    """
    loopback = "http://127.0.0.1:9/callback"
    context = ssl.create_default_context(cafile=ca_file)
    async with httpx.AsyncClient(verify=context, follow_redirects=False, timeout=30) as http:
        exports = (await http.get(f"{backend_url}/api/exports")).json()
        url = add_query(
            discover_authorize_url(exports),
            {"redirect_url": loopback, "session_id": secrets.token_urlsafe(16), "client_type": "cli"},
        )
        response = await http.get(url)
        for _ in range(10):
            if response.is_redirect:
                location = urljoin(str(response.url), response.headers["location"])
                if location.startswith(loopback):
                    query = dict(parse_qsl(urlsplit(location).query))
                    if query.get("error") or not query.get("access_token"):
                        raise CLIError(
                            f"dev login failed: {query.get('error_description') or query.get('error')}"
                        )
                    return Server(
                        url=backend_url,
                        access_token=query["access_token"],
                        token_type=query.get("token_type") or "Bearer",
                        expires_at=token_expiry(query.get("expires_in")),
                        certificate_authority=ca_file,
                    )
                response = await http.get(location)
            elif response.status_code == 200 and "/oidc/authorize" in str(response.url):
                form = dict(parse_qsl(urlsplit(str(response.url)).query))
                form.update(username=username, password=password)
                response = await http.post(str(response.url).split("?")[0], data=form)
            else:
                raise CLIError(f"dev login failed at {response.url}: HTTP {response.status_code}")
    raise CLIError("dev login failed: too many redirects")


async def bind_template(
    backend_url: str, server: Server, consumer: ApiClient, template_name: str, *, wait_seconds: float = 120.0
) -> list[dict[str, Any]]:
    """``kubectl bind apiservice --template-name`` with the konnector run as a local process."""
    kube_system = await consumer.get(NAMESPACES, "kube-system")
    identity = str(kube_system["metadata"]["uid"])
    body = {
        "metadata": {"name": template_name},
        "spec": {
            "templateRef": {"name": template_name},
            "clusterIdentity": {"identity": identity},
            "author": "",
        },
    }
    async with BackendClient(backend_url, server=server) as backend:
        response = await backend.bind(body)
    result = parse_binding_response(response, require_requests=True)
    binder = Binder(
        consumer, BinderOptions(konnector_deployment=False, request_timeout=wait_seconds, quiet=True)
    )
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
