"""Embedded dev OIDC issuer, mounted at ``/oidc`` when no external issuer is configured.

Why: one-machine setups (``kubectl bind dev``, tests, demos) need a working login without running
an IdP. Unlike the Go backend's mockoidc (no login page, one static user, per-start secrets,
reference §3.8), this one is a real, small issuer:

* discovery, JWKS, authorize (a login page for the configured dev users), token endpoint;
* authorization codes are single use, bound to client, ``redirect_uri`` and a PKCE S256 challenge
  (required), and expire after a minute; codes and the signing key live in the database, so any
  replica can redeem a code another replica issued;
* ID tokens are RS256-signed with ``kid`` and carry ``iss``, ``aud``, ``sub``, ``nonce``, ``iat``,
  ``exp``, ``email``, ``preferred_username`` and ``groups``.

Only the backend's own ``/api/callback`` is accepted as ``redirect_uri``.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Annotated, Any

from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from app.auth.sessions import SessionStore
from app.auth.sessions_rows import DevCodeRow
from app.auth.tokens import public_jwks, sign_jwt
from app.handshake.settings import ServiceSettings

__all__ = ["ID_TOKEN_LIFETIME", "PURPOSE", "build_router", "issuer_url"]

PURPOSE = "dev-issuer"
ID_TOKEN_LIFETIME = timedelta(minutes=10)
_CODE_LIFETIME = timedelta(minutes=1)


def public_base(settings: ServiceSettings, request: Request) -> str:
    """The backend's public base URL: configured, else as this request reached us."""
    if settings.public_url:
        return settings.public_url
    return f"{request.url.scheme}://{request.url.netloc}"


def issuer_url(settings: ServiceSettings, request: Request) -> str:
    return f"{public_base(settings, request)}/oidc"


def _oauth_error(error: str, description: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


def build_router(
    templates: Jinja2Templates, context: Callable[[Request], tuple[ServiceSettings, SessionStore]]
) -> APIRouter:
    """The issuer's routes; ``context(request)`` yields the live settings and store (built in the
    app's lifespan). Every route answers 404 when an external issuer is configured."""
    router = APIRouter(prefix="/oidc", tags=["dev-issuer"], include_in_schema=False)
    key_lifetime = ID_TOKEN_LIFETIME

    def _ctx(request: Request) -> tuple[ServiceSettings, SessionStore]:
        settings, store = context(request)
        if not settings.embedded_issuer:
            raise HTTPException(404, "the embedded dev issuer is disabled (an external issuer is configured)")
        return settings, store

    def callback_allowed(settings: ServiceSettings, request: Request, redirect_uri: str) -> bool:
        return redirect_uri == f"{public_base(settings, request)}/api/callback"

    @router.get("/.well-known/openid-configuration")
    async def discovery(request: Request) -> dict[str, Any]:
        settings, _ = _ctx(request)
        iss = issuer_url(settings, request)
        return {
            "issuer": iss,
            "authorization_endpoint": f"{iss}/authorize",
            "token_endpoint": f"{iss}/token",
            "jwks_uri": f"{iss}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "scopes_supported": ["openid", "profile", "email", "groups", "offline_access"],
            "token_endpoint_auth_methods_supported": ["none", "client_secret_basic", "client_secret_post"],
            "claims_supported": [
                "sub",
                "iss",
                "aud",
                "exp",
                "iat",
                "nonce",
                "email",
                "groups",
                "preferred_username",
            ],
        }

    @router.get("/jwks")
    async def jwks(request: Request) -> dict[str, Any]:
        _, store = _ctx(request)
        await store.signing_key(PURPOSE, max_token_lifetime=key_lifetime)
        return public_jwks(await store.verification_keys(PURPOSE))

    def _validate(
        request: Request, client_id: str, redirect_uri: str, method: str, challenge: str
    ) -> str | None:
        settings, _ = _ctx(request)
        if client_id != settings.oidc_client_id:
            return "unknown client_id"
        if not callback_allowed(settings, request, redirect_uri):
            return "redirect_uri is not this backend's /api/callback"
        if method != "S256" or not challenge:
            return "PKCE with code_challenge_method=S256 is required"
        return None

    @router.get("/authorize", response_class=HTMLResponse)
    async def authorize_page(
        request: Request,
        client_id: Annotated[str, Query()] = "",
        redirect_uri: Annotated[str, Query()] = "",
        state: Annotated[str, Query()] = "",
        nonce: Annotated[str, Query()] = "",
        code_challenge: Annotated[str, Query()] = "",
        code_challenge_method: Annotated[str, Query()] = "",
        response_type: Annotated[str, Query()] = "",
    ) -> Response:
        problem = _validate(request, client_id, redirect_uri, code_challenge_method, code_challenge)
        if problem is None and response_type != "code":
            problem = "only response_type=code is supported"
        if problem:
            return _oauth_error("invalid_request", problem)
        return templates.TemplateResponse(
            request,
            "devissuer_login.html",
            {
                "params": {
                    "client_id": client_id,
                    "redirect_uri": redirect_uri,
                    "state": state,
                    "nonce": nonce,
                    "code_challenge": code_challenge,
                    "code_challenge_method": code_challenge_method,
                },
                "error": "",
            },
        )

    @router.post("/authorize")
    async def authorize_submit(
        request: Request,
        username: Annotated[str, Form()] = "",
        password: Annotated[str, Form()] = "",
        client_id: Annotated[str, Form()] = "",
        redirect_uri: Annotated[str, Form()] = "",
        state: Annotated[str, Form()] = "",
        nonce: Annotated[str, Form()] = "",
        code_challenge: Annotated[str, Form()] = "",
        code_challenge_method: Annotated[str, Form()] = "",
    ) -> Response:
        problem = _validate(request, client_id, redirect_uri, code_challenge_method, code_challenge)
        if problem:
            return _oauth_error("invalid_request", problem)
        settings, store = _ctx(request)
        user = settings.dev_users.get(username)
        if user is None or not hmac.compare_digest(user.password.encode(), password.encode()):
            params = {
                "client_id": client_id,
                "redirect_uri": redirect_uri,
                "state": state,
                "nonce": nonce,
                "code_challenge": code_challenge,
                "code_challenge_method": code_challenge_method,
            }
            return templates.TemplateResponse(
                request,
                "devissuer_login.html",
                {"params": params, "error": "Unknown user or wrong password."},
                status_code=401,
            )
        code = secrets.token_urlsafe(32)
        await store.save_code(
            DevCodeRow(
                code=code,
                client_id=client_id,
                redirect_uri=redirect_uri,
                code_challenge=code_challenge,
                nonce=nonce,
                username=username,
                claims={"email": user.email, "groups": list(user.groups)},
                expires_at=store.clock() + _CODE_LIFETIME,
            )
        )
        target: str = add_params_to_uri(redirect_uri, [("code", code), ("state", state)])
        return RedirectResponse(target, status_code=302)

    @router.post("/token")
    async def token(
        request: Request,
        grant_type: Annotated[str, Form()] = "",
        code: Annotated[str, Form()] = "",
        redirect_uri: Annotated[str, Form()] = "",
        code_verifier: Annotated[str, Form()] = "",
        client_id: Annotated[str, Form()] = "",
    ) -> Response:
        settings, store = _ctx(request)
        if grant_type != "authorization_code":
            return _oauth_error("unsupported_grant_type", "only authorization_code is supported")
        row = await store.take_code(code)
        if row is None:
            return _oauth_error("invalid_grant", "unknown, used or expired code")
        if client_id and client_id != row.client_id:
            return _oauth_error("invalid_grant", "code was issued to another client")
        if redirect_uri != row.redirect_uri:
            return _oauth_error("invalid_grant", "redirect_uri does not match the authorize request")
        if not code_verifier or not hmac.compare_digest(
            create_s256_code_challenge(code_verifier), row.code_challenge
        ):
            return _oauth_error("invalid_grant", "PKCE verification failed")
        key = await store.signing_key(PURPOSE, max_token_lifetime=key_lifetime)
        now = int(store.clock().timestamp())
        claims: dict[str, Any] = {
            "iss": issuer_url(settings, request),
            "aud": row.client_id,
            "sub": row.username,
            "iat": now,
            "exp": now + int(ID_TOKEN_LIFETIME.total_seconds()),
            "preferred_username": row.username,
            "email": row.claims.get("email") or "",
            "groups": list(row.claims.get("groups") or []),
        }
        if row.nonce:
            claims["nonce"] = row.nonce
        return JSONResponse(
            {
                "access_token": secrets.token_urlsafe(32),
                "token_type": "Bearer",
                "expires_in": int(ID_TOKEN_LIFETIME.total_seconds()),
                "id_token": sign_jwt(key, claims),
            },
            headers={"Cache-Control": "no-store"},
        )

    return router
