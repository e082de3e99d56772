"""Login routes: ``/api/authorize``, ``/api/callback``, ``/api/logout`` (reference §3.1, §3.2).

``authorize`` validates the redirect target first, then stores a login record (random ``state``,
``nonce``, PKCE verifier, the caller's parameters) in the database and sends the browser to the
issuer. ``callback`` consumes that record exactly once, redeems the code, verifies the ID token,
applies the allowed users/groups, creates a database session and returns to the CLI loopback with
``access_token``/``token_type``/``expires_in``/``cluster_id`` — or, for the UI, sets the session
cookie and returns to the backend page it came from.
"""

from __future__ import annotations

import logging
import re
import secrets
from datetime import timedelta
from typing import Annotated

from authlib.common.urls import add_params_to_uri
from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from app.auth import devissuer
from app.auth.oidc import OIDCError
from app.auth.sessions_rows import LoginStateRow
from app.handshake.context import ContextDep, ServiceContext, authenticate, cookie_name
from app.handshake.errors import NO_CACHE, ApiProblem
from app.handshake.redirects import RedirectError, cli_redirect, ui_redirect
from kubebind.apis.v1alpha2 import ErrorCode

__all__ = ["AuthorizeRequest", "router"]

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api", tags=["login"])

_SESSION_ID = re.compile(r"^[A-Za-z0-9._~-]{1,256}$")


class AuthorizeRequest(BaseModel):
    """Query parameters of ``GET /api/authorize`` (or the JSON body of ``POST``)."""

    redirect_url: str = Field(max_length=4096)
    session_id: str = Field(max_length=256)
    cluster_id: str = Field(default="", max_length=256)
    client_type: str = Field(default="", max_length=16)
    consumer_id: str = Field(default="", max_length=256)


def _bad(message: str) -> ApiProblem:
    return ApiProblem(400, ErrorCode.BAD_REQUEST, message)


async def _start_login(request: Request, ctx: ServiceContext, req: AuthorizeRequest) -> Response:
    if not req.redirect_url or not req.session_id:
        raise _bad("redirect_url and session_id are required")
    if not _SESSION_ID.match(req.session_id):
        raise _bad("session_id must be 1-256 URL-safe characters")
    if req.client_type not in ("", "cli", "ui"):
        raise _bad("client_type must be 'cli' or 'ui'")
    base = devissuer.public_base(ctx.settings, request)
    try:
        if req.client_type == "cli":
            redirect = cli_redirect(req.redirect_url)
        else:
            redirect = ui_redirect(req.redirect_url, base)
    except RedirectError as exc:
        raise _bad(str(exc)) from exc
    issuer = ctx.settings.oidc_issuer_url or devissuer.issuer_url(ctx.settings, request)
    callback = f"{base}/api/callback"
    state, nonce, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(24), secrets.token_urlsafe(48)
    oidc = ctx.oidc_for(issuer)
    try:
        url = await oidc.authorization_url(
            redirect_uri=callback, state=state, nonce=nonce, code_verifier=verifier
        )
    except OIDCError as exc:
        raise ApiProblem(502, ErrorCode.INTERNAL_ERROR, f"OIDC issuer unavailable: {exc}") from exc
    await ctx.store.save_login_state(
        LoginStateRow(
            state=state,
            nonce=nonce,
            code_verifier=verifier,
            session_id=req.session_id,
            redirect_url=redirect,
            client_type=req.client_type or "ui",
            cluster_id=req.cluster_id,
            consumer_id=req.consumer_id,
            issuer=issuer,
            callback_url=callback,
            expires_at=ctx.clock() + timedelta(seconds=ctx.settings.login_timeout_seconds),
        )
    )
    return RedirectResponse(url, status_code=302, headers=NO_CACHE)


@router.get("/authorize", summary="Start an OIDC login (302 to the issuer)")
async def authorize_get(
    request: Request,
    ctx: ContextDep,
    redirect_url: Annotated[str, Query(max_length=4096)] = "",
    session_id: Annotated[str, Query(max_length=256)] = "",
    cluster_id: Annotated[str, Query(max_length=256)] = "",
    client_type: Annotated[str, Query(max_length=16)] = "",
    consumer_id: Annotated[str, Query(max_length=256)] = "",
) -> Response:
    req = AuthorizeRequest(
        redirect_url=redirect_url,
        session_id=session_id,
        cluster_id=cluster_id,
        client_type=client_type,
        consumer_id=consumer_id,
    )
    return await _start_login(request, ctx, req)


@router.post("/authorize", summary="Start an OIDC login (JSON body)")
async def authorize_post(request: Request, ctx: ContextDep, body: AuthorizeRequest) -> Response:
    return await _start_login(request, ctx, body)


def _cli_error(row: LoginStateRow, error: str, description: str) -> Response:
    params = [("error", error), ("error_description", description)]
    return RedirectResponse(add_params_to_uri(row.redirect_url, params), status_code=302, headers=NO_CACHE)


def _allowed(ctx: ServiceContext, subject: str, email: str, groups: list[str]) -> bool:
    users, allowed_groups = ctx.settings.oidc_allowed_users, ctx.settings.oidc_allowed_groups
    if not users and not allowed_groups:
        return True
    return subject in users or (bool(email) and email in users) or bool(set(groups) & set(allowed_groups))


async def _callback(request: Request, ctx: ServiceContext) -> Response:
    params = dict(request.query_params)
    if request.method == "POST":
        form = await request.form()
        params.update({k: str(v) for k, v in form.items()})
    state = params.get("state", "")
    if not state or len(state) > 128:
        raise _bad("missing or malformed state")
    row = await ctx.store.take_login_state(state)
    if row is None:
        raise _bad("unknown, expired or already used login state; start the login again")
    if params.get("error"):
        description = params.get("error_description", "")[:500]
        if row.client_type == "cli":
            return _cli_error(row, params["error"][:100], description)
        raise ApiProblem(
            401, ErrorCode.AUTHENTICATION_FAILED, f"login failed: {params['error']} {description}"
        )
    code = params.get("code", "")
    if not code:
        raise _bad("missing code")
    try:
        claims = await ctx.oidc_for(row.issuer).exchange(
            code=code, redirect_uri=row.callback_url, code_verifier=row.code_verifier, nonce=row.nonce
        )
    except OIDCError as exc:
        log.warning("login rejected reason=%s", exc)
        ctx.metrics.logins.labels(row.client_type, "rejected").inc()
        if row.client_type == "cli":
            return _cli_error(row, "access_denied", str(exc))
        raise ApiProblem(401, ErrorCode.AUTHENTICATION_FAILED, str(exc)) from exc
    if not _allowed(ctx, claims.subject, claims.email, claims.groups):
        message = f"user {claims.subject!r} is not in the allowed users or groups"
        ctx.metrics.logins.labels(row.client_type, "not_allowed").inc()
        if row.client_type == "cli":
            return _cli_error(row, "access_denied", message)
        raise ApiProblem(403, ErrorCode.AUTHORIZATION_FAILED, message)
    lifetime = timedelta(seconds=ctx.settings.session_lifetime_seconds)
    session = await ctx.store.create_session(
        subject=claims.subject,
        issuer=claims.issuer,
        groups=claims.groups,
        email=claims.email,
        cluster_id=row.cluster_id,
        client_session_id=row.session_id,
        lifetime=lifetime,
    )
    token, expires_in = await ctx.tokens.issue(session)
    ctx.metrics.logins.labels(row.client_type, "ok").inc()
    log.info("login subject=%s client_type=%s session=%s", claims.subject, row.client_type, session.id[:6])
    if row.client_type == "cli":
        out = [("access_token", token), ("token_type", "Bearer"), ("expires_in", str(expires_in))]
        if row.cluster_id:
            out.append(("cluster_id", row.cluster_id))
        return RedirectResponse(add_params_to_uri(row.redirect_url, out), status_code=302, headers=NO_CACHE)
    back = [("session_id", row.session_id)]
    if row.cluster_id:
        back.append(("cluster_id", row.cluster_id))
    response = RedirectResponse(add_params_to_uri(row.redirect_url, back), status_code=302, headers=NO_CACHE)
    response.set_cookie(
        cookie_name(row.cluster_id),
        token,
        max_age=expires_in,
        path="/",
        httponly=True,
        samesite="lax",
        secure=devissuer.public_base(ctx.settings, request).startswith("https://"),
    )
    return response


@router.get("/callback", summary="OIDC redirect target")
async def callback_get(request: Request, ctx: ContextDep) -> Response:
    return await _callback(request, ctx)


@router.post("/callback", summary="OIDC redirect target (form_post)")
async def callback_post(request: Request, ctx: ContextDep) -> Response:
    return await _callback(request, ctx)


@router.post("/logout", summary="End the session (bearer or cookie)", response_class=PlainTextResponse)
async def logout(
    request: Request, ctx: ContextDep, cluster_id: Annotated[str, Query(max_length=256)] = ""
) -> Response:
    caller = None
    try:
        caller = await authenticate(request, ctx)
    except ApiProblem:
        caller = None
    if caller is not None:
        await ctx.store.revoke_session(caller.session.id)
    response = PlainTextResponse("logged out", headers=NO_CACHE)
    response.delete_cookie(cookie_name(cluster_id), path="/")
    return response
