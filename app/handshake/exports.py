"""``GET /api/exports`` (BindingProvider, reference §3.3) and the ``/exports`` back-compat redirect.

The advertised authorize URL uses the scheme and host the backend is reached with (or the
configured public URL), never a hard-coded ``http://``.
"""

from __future__ import annotations

from typing import Any

from authlib.common.urls import add_params_to_uri
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from app.auth import devissuer
from app.handshake.context import ContextDep
from kubebind.apis.v1alpha2 import AuthenticationMethod, BindingProvider, OAuth2CodeGrant, to_dict

__all__ = ["PASSTHROUGH", "router"]

router = APIRouter(tags=["discovery"])
PASSTHROUGH = ("cluster_id", "session_id", "client_type", "consumer_id", "redirect_url")


@router.get("/api/exports", summary="BindingProvider: who this provider is and how to log in")
async def exports(request: Request, ctx: ContextDep) -> JSONResponse:
    base = devissuer.public_base(ctx.settings, request)
    params = [(k, v) for k in PASSTHROUGH if (v := request.query_params.get(k))]
    url = add_params_to_uri(f"{base}/api/authorize", params) if params else f"{base}/api/authorize"
    provider = BindingProvider(
        provider_pretty_name=ctx.settings.pretty_name,
        version=ctx.settings.backend_version,
        authentication_methods=[
            AuthenticationMethod(oauth2_code_grant=OAuth2CodeGrant.model_validate({"authenticatedURL": url})),
        ],
    )
    body: dict[str, Any] = to_dict(provider)
    return JSONResponse(body)


@router.get("/exports", include_in_schema=False)
async def exports_redirect(request: Request) -> Response:
    query = request.url.query
    return RedirectResponse("/api/exports" + (f"?{query}" if query else ""), status_code=302)
