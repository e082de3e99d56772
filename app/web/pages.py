"""The catalog web page served by the backend (server-rendered with Jinja2).

``kubectl bind`` opens ``/?session_id=…&redirect_url=http://127.0.0.1:<port>/callback&consumer_id=…``
(reference §3.6.2, §12.A.6). The page logs the user in (OIDC, UI cookie), lists templates and
collections with descriptions, resources and permission claims, and a "Bind" button per template.
Binding posts to ``/web/bind``; on success the browser is redirected to the CLI callback with
``session_id`` and ``binding_response`` = URL-safe base64 (padded) of the BindingResponse JSON —
the alphabet the Go CLI decodes (the reference SPA's ``btoa`` is fixed here). Without a CLI
callback the page shows the result and the consumer's connection status.

The bind form carries a CSRF token derived from the session (on top of the SameSite=Lax cookie),
and the CLI redirect target is checked to be loopback before anything is bound.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from typing import Annotated, Any
from urllib.parse import urlencode

import orjson
from authlib.common.urls import add_params_to_uri
from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from app.credentials import refs
from app.handshake import bind as bind_routes
from app.handshake.catalog import list_kind
from app.handshake.context import Caller, ServiceContext, authenticate, get_context
from app.handshake.errors import ApiProblem
from app.handshake.redirects import RedirectError, cli_redirect
from kubebind.apis import constants
from kubebind.apis.v1alpha2 import BindableResourcesRequest

__all__ = ["build_router", "csrf_token", "encode_binding_response"]


def csrf_token(caller: Caller) -> str:
    return hmac.new(caller.session.id.encode(), b"kube-bind-web-bind", hashlib.sha256).hexdigest()


def encode_binding_response(response: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(response)).decode()


def build_router(templates: Jinja2Templates) -> APIRouter:
    router = APIRouter(tags=["web"], include_in_schema=False)

    async def _caller(request: Request, ctx: ServiceContext) -> Caller | None:
        try:
            return await authenticate(request, ctx)
        except ApiProblem:
            return None

    @router.get("/", response_class=HTMLResponse)
    async def index(
        request: Request,
        session_id: Annotated[str, Query(max_length=256)] = "",
        redirect_url: Annotated[str, Query(max_length=2048)] = "",
        consumer_id: Annotated[str, Query(max_length=256)] = "",
        cluster_id: Annotated[str, Query(max_length=256)] = "",
    ) -> Response:
        ctx = get_context(request)
        cli_flow = {"session_id": session_id, "redirect_url": redirect_url, "consumer_id": consumer_id}
        error = ""
        if redirect_url:
            try:
                cli_redirect(redirect_url)
            except RedirectError as exc:
                error = f"Refusing the CLI callback: {exc}"
                cli_flow["redirect_url"] = ""
        caller = await _caller(request, ctx)
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        login_query = {
            "client_type": "ui",
            "session_id": session_id or secrets.token_urlsafe(16),
            "redirect_url": here,
        }
        if cluster_id:
            login_query["cluster_id"] = cluster_id
        context: dict[str, Any] = {
            "logged_in": caller is not None,
            "login_url": "/api/authorize?" + urlencode(login_query),
            "cli": cli_flow,
            "cluster_id": cluster_id,
            "error": error,
            "pretty_name": ctx.settings.pretty_name,
        }
        if caller is not None:
            allowed = await ctx.may_bind(caller.session)
            context.update(user=caller.session.email or caller.session.subject, allowed=allowed)
            if allowed:
                context["templates"] = (await list_kind(ctx, refs.TEMPLATES))["items"]
                context["collections"] = (await list_kind(ctx, refs.COLLECTIONS))["items"]
                context["csrf"] = csrf_token(caller)
                context["status"] = await _status(ctx, caller, consumer_id)
        return templates.TemplateResponse(request, "index.html", context)

    @router.post("/web/bind", response_class=HTMLResponse)
    async def web_bind(
        request: Request,
        template: Annotated[str, Form(max_length=253)],
        csrf: Annotated[str, Form(max_length=128)],
        session_id: Annotated[str, Form(max_length=256)] = "",
        redirect_url: Annotated[str, Form(max_length=2048)] = "",
        consumer_id: Annotated[str, Form(max_length=256)] = "",
        cluster_id: Annotated[str, Form(max_length=256)] = "",
    ) -> Response:
        ctx = get_context(request)
        caller = await _caller(request, ctx)
        if caller is None:
            return HTMLResponse("Not logged in.", status_code=401)
        if not hmac.compare_digest(csrf, csrf_token(caller)):
            return HTMLResponse("Invalid form token; reload the page.", status_code=403)
        if not await ctx.may_bind(caller.session):
            return HTMLResponse("You may not bind on this provider.", status_code=403)
        if redirect_url:
            try:
                cli_redirect(redirect_url)
            except RedirectError as exc:
                return HTMLResponse(f"Refusing the CLI callback: {exc}", status_code=400)
        req = BindableResourcesRequest.model_validate(
            {
                "metadata": {"name": template},
                "spec": {
                    "templateRef": {"name": template},
                    "clusterIdentity": {"identity": consumer_id or constants.UI_IDENTITY},
                    "author": "web-ui",
                },
            }
        )
        try:
            outcome = await bind_routes.perform_bind(ctx, caller, req, consumer_id)
        except ApiProblem as exc:
            return templates.TemplateResponse(
                request, "result.html", {"error": exc.message, "namespace": ""}, status_code=exc.status
            )
        if redirect_url:
            params = [
                ("session_id", session_id),
                ("binding_response", encode_binding_response(outcome.response)),
            ]
            if consumer_id:
                params.append(("consumer_id", consumer_id))
            return RedirectResponse(add_params_to_uri(redirect_url, params), status_code=303)
        return templates.TemplateResponse(
            request, "result.html", {"error": "", "namespace": outcome.namespace, "template": template}
        )

    return router


async def _status(ctx: ServiceContext, caller: Caller, consumer_id: str) -> dict[str, Any]:
    from app.handshake.status import consumer_status

    response = await consumer_status(ctx, caller, consumer_id)
    data: dict[str, Any] = orjson.loads(bytes(response.body))
    return data
