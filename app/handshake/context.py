"""What every handshake route needs, built once per app, and the ``Caller`` dependency.

``ServiceContext`` is created by :func:`app.handshake.service.build_context` (no import-time
singletons) and stored on ``app.state``. ``Caller`` authenticates a request — CLI bearer JWT, or
the UI session cookie ``kube-bind[-<cluster_id>]`` carrying the same JWT — then authorizes it
with a SubjectAccessReview ``bind`` on group ``kube-bind.io`` for the OIDC user and groups
(reference §3.4), cached for a few seconds per session.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request

from app.auth.oidc import OIDCClient
from app.auth.sessions import SessionStore
from app.auth.sessions_rows import SessionRow
from app.auth.tokens import TokenError, TokenIssuer
from app.credentials import refs
from app.credentials.mint import Minter
from app.handshake.errors import ApiProblem
from app.handshake.metrics import ServiceMetrics
from app.handshake.settings import ServiceSettings
from kubebind.apis import constants
from kubebind.apis.v1alpha2 import ErrorCode
from kubebind.kube import ApiClient

__all__ = ["Caller", "CallerDep", "ServiceContext", "cookie_name", "get_context"]

_SAR_CACHE_SECONDS = 10.0


def cookie_name(cluster_id: str) -> str:
    return f"kube-bind-{cluster_id}" if cluster_id else "kube-bind"


@dataclass
class ServiceContext:
    settings: ServiceSettings
    store: SessionStore
    tokens: TokenIssuer
    provider: ApiClient
    minter: Minter
    clock: Callable[[], datetime]
    metrics: ServiceMetrics
    external_oidc: OIDCClient | None = None
    owns_engine: bool = True
    _embedded_oidc: dict[str, OIDCClient] = field(default_factory=dict)
    _sar_cache: dict[tuple[str, str], tuple[float, bool]] = field(default_factory=dict)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def oidc_for(self, issuer: str) -> OIDCClient:
        """The relying party for ``issuer``: the configured one, or the embedded issuer at a base URL."""
        if self.external_oidc is not None:
            return self.external_oidc
        client = self._embedded_oidc.get(issuer)
        if client is None:
            client = OIDCClient(
                issuer=issuer,
                client_id=self.settings.oidc_client_id,
                scopes=self.settings.oidc_scopes,
                groups_claim=self.settings.oidc_groups_claim,
                ca_file=self.settings.oidc_ca_file,
                clock=self.clock,
            )
            self._embedded_oidc[issuer] = client
        return client

    async def aclose(self) -> None:
        if self.external_oidc is not None:
            await self.external_oidc.aclose()
        for client in self._embedded_oidc.values():
            await client.aclose()

    def sar_groups(self, session: SessionRow) -> list[str]:
        groups = list(session.groups)
        if self.settings.embedded_issuer and "system:authenticated" not in groups:
            groups.append("system:authenticated")
        return groups

    async def may_bind(self, session: SessionRow) -> bool:
        key = (session.id, session.subject)
        cached = self._sar_cache.get(key)
        now = time.monotonic()
        if cached is not None and now - cached[0] < _SAR_CACHE_SECONDS:
            return cached[1]
        review = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SubjectAccessReview",
            "spec": {
                "user": session.subject,
                "groups": self.sar_groups(session),
                "resourceAttributes": {"verb": "bind", "group": constants.GROUP},
            },
        }
        result = await self.provider.create(refs.SUBJECT_ACCESS_REVIEWS, review)
        allowed = bool((result.get("status") or {}).get("allowed"))
        self._sar_cache[key] = (now, allowed)
        return allowed


def get_context(request: Request) -> ServiceContext:
    ctx: ServiceContext = request.app.state.kube_bind_service
    return ctx


ContextDep = Annotated[ServiceContext, Depends(get_context)]


@dataclass(frozen=True)
class Caller:
    session: SessionRow
    client_type: str  # "cli" (bearer) or "ui" (cookie)

    @property
    def identity(self) -> str:
        return f"{self.session.issuer}/{self.session.subject}"


async def authenticate(request: Request, ctx: ServiceContext) -> Caller | None:
    """The caller's session, or ``None`` when no credential was presented at all."""
    header = request.headers.get("Authorization", "")
    token, client_type = "", "cli"
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise ApiProblem(401, ErrorCode.AUTHENTICATION_FAILED, "Authorization must be 'Bearer <token>'")
        token = value.strip()
    else:
        cluster_id = request.query_params.get("cluster_id", "")
        token = request.cookies.get(cookie_name(cluster_id), "")
        client_type = "ui"
    if not token:
        return None
    try:
        identity = await ctx.tokens.verify(token)
    except TokenError as exc:
        raise ApiProblem(401, ErrorCode.AUTHENTICATION_FAILED, str(exc)) from exc
    return Caller(session=identity.session, client_type=client_type)


async def require_caller(request: Request, ctx: ContextDep) -> Caller:
    caller = await authenticate(request, ctx)
    if caller is None:
        raise ApiProblem(401, ErrorCode.AUTHENTICATION_FAILED, "not logged in: run `kubectl bind login`")
    if not await ctx.may_bind(caller.session):
        raise ApiProblem(
            403,
            ErrorCode.AUTHORIZATION_FAILED,
            f"user {caller.session.subject!r} may not bind on this provider: grant verb 'bind' on group "
            f"'{constants.GROUP}' (backend settings oidc_allowed_users / oidc_allowed_groups)",
        )
    return caller


CallerDep = Annotated[Caller, Depends(require_caller)]
