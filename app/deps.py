"""What a request handler needs, resolved from the application state: the backend's components
and the authenticated, authorized caller.

``Backend`` is built once by the app factory's lifespan (``app.main``) and hung on
``app.state.backend``; nothing here is a module-level singleton.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request

from app.aggregated.admission import NamespaceLifecycle
from app.auth.authorizer import Attributes, SubjectAccessReviewer
from app.auth.frontproxy import FrontProxyAuthenticator
from app.auth.tokenreview import TokenAuthenticator
from app.auth.user import UserInfo
from app.metrics import Metrics
from app.registry.rest import GarbageCollector, RestStore
from app.settings import Settings
from app.storage import errors
from app.storage.changefeed import ChangeFeed
from app.storage.engine import SessionFactory
from app.storage.objects import ObjectStore
from kubebind.kube.client import ApiClient

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Backend:
    settings: Settings
    engine: AsyncEngine
    sessions: SessionFactory
    store: ObjectStore
    feed: ChangeFeed
    rest: dict[str, RestStore]
    collector: GarbageCollector
    frontproxy: FrontProxyAuthenticator
    tokens: TokenAuthenticator | None
    authorizer: SubjectAccessReviewer | None
    provider: ApiClient | None
    registry: CollectorRegistry
    metrics: Metrics
    namespaces: NamespaceLifecycle
    extras: dict[str, Any] = field(default_factory=dict)


def get_backend(request: Request) -> Backend:
    backend: Backend = request.app.state.backend
    return backend


BackendDep = Annotated[Backend, Depends(get_backend)]


def _headers(request: Request) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, value in request.headers.items():
        out.setdefault(key.lower(), []).append(value)
    return out


async def authenticate(request: Request) -> UserInfo:
    """The caller: front-proxy identity, x509 client certificate, or a reviewed bearer token.

    Identity headers are accepted only with a valid front-proxy certificate; anything else that
    carries them is rejected, as is a request with no credential at all.
    """
    backend = get_backend(request)
    headers = _headers(request)
    tls = (request.scope.get("extensions") or {}).get("tls") or {}
    der = tls.get("client_cert_der")
    fp = backend.frontproxy
    if der:
        cn = fp.verify_certificate(der)
        if cn is not None:
            user = fp.user_from_headers(headers)
            if user is None:
                raise errors.Unauthorized("front-proxy request without a user header")
            return user
    if fp.has_identity_headers(headers):
        raise errors.Unauthorized("identity headers are only accepted from the authenticating front proxy")
    if der:
        x509_user = fp.client_certificate_user(der)
        if x509_user is not None:
            return x509_user
    auth = request.headers.get("authorization", "")
    if (
        auth.lower().startswith("bearer ")
        and backend.tokens is not None
        and backend.settings.authenticate_direct_requests
    ):
        token = auth[7:].strip()
        if token:
            try:
                user = await backend.tokens.authenticate(token)
            except Exception as exc:
                log.warning("tokenreview failed error=%r", exc)
                raise errors.ServiceUnavailable("cannot review the token right now") from exc
            if user is not None:
                return user
    raise errors.Unauthorized("Unauthorized")


async def authorize(request: Request, user: UserInfo, attrs: Attributes) -> None:
    backend = get_backend(request)
    if backend.authorizer is None:
        raise errors.Forbidden("no authorizer configured: the backend has no provider cluster connection")
    try:
        decision = await backend.authorizer.authorize(user, attrs)
    except Exception as exc:
        log.warning("subjectaccessreview failed error=%r", exc)
        raise errors.ServiceUnavailable("cannot authorize the request right now") from exc
    if not decision.allowed:
        raise forbidden(user, attrs, decision.reason)


def forbidden(user: UserInfo, attrs: Attributes, reason: str = "") -> errors.Forbidden:
    if attrs.is_resource:
        what = f"{attrs.resource}/{attrs.subresource}" if attrs.subresource else attrs.resource
        scope = f' in the namespace "{attrs.namespace}"' if attrs.namespace else " at the cluster scope"
        msg = (
            f'{attrs.resource}.{attrs.group} "{attrs.name}" is forbidden: '
            if attrs.name
            else f"{attrs.resource}.{attrs.group} is forbidden: "
        ) + f'User "{user.name}" cannot {attrs.verb} resource "{what}" in API group "{attrs.group}"{scope}'
        details: dict[str, Any] = {"group": attrs.group, "kind": attrs.resource}
        if attrs.name:
            details["name"] = attrs.name
    else:
        msg = f'forbidden: User "{user.name}" cannot {attrs.verb} path "{attrs.path}"'
        details = {}
    if reason:
        msg += f": {reason}"
    return errors.Forbidden(msg, details=details)
