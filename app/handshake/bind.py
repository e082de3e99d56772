"""``POST /api/bind``: mint a consumer's credentials and answer a ``BindingResponse`` (reference §3.5).

Order matters for "nothing half-created": the body is size-limited, parsed and validated, the
caller authorized and the template loaded *before* anything is written; minting then rolls back
what it created if a later step fails (:mod:`app.credentials.mint`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from app.credentials import refs
from app.credentials.mint import IdentityConflict
from app.handshake.context import Caller, CallerDep, ContextDep, ServiceContext
from app.handshake.errors import NO_CACHE, ApiProblem
from kubebind.apis import constants, validation
from kubebind.apis.v1alpha2 import (
    APIServiceExportRequestResponse,
    APIServiceExportRequestSpec,
    BindableResourcesRequest,
    BindingResponse,
    BindingResponseAuthentication,
    BindingResponseAuthenticationOAuth2CodeGrant,
    ErrorCode,
    NameObjectMeta,
    to_dict,
)
from kubebind.kube import errors as kube_errors

__all__ = ["BindOutcome", "parse_bind_request", "perform_bind", "router"]

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api", tags=["bind"])

_UI_WAIT_SECONDS = 60.0
_BODY_SCHEMA: dict[str, Any] = {
    "title": "BindableResourcesRequest",
    "type": "object",
    "required": ["metadata", "spec"],
    "properties": {
        "metadata": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]},
        "spec": {
            "type": "object",
            "required": ["templateRef", "clusterIdentity"],
            "properties": {
                "templateRef": {"type": "object", "properties": {"name": {"type": "string"}}},
                "clusterIdentity": {
                    "type": "object",
                    "properties": {"identity": {"type": "string"}, "prettyName": {"type": "string"}},
                },
                "author": {"type": "string"},
            },
        },
    },
}


def _bad(message: str) -> ApiProblem:
    return ApiProblem(400, ErrorCode.BAD_REQUEST, message)


def parse_bind_request(raw: bytes, max_bytes: int) -> BindableResourcesRequest:
    if len(raw) > max_bytes:
        raise ApiProblem(413, ErrorCode.BAD_REQUEST, f"request body larger than {max_bytes} bytes")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise _bad(f"malformed JSON body: {exc}") from exc
    if not isinstance(data, dict):
        raise _bad("body must be a BindableResourcesRequest object")
    try:
        req = BindableResourcesRequest.model_validate(data)
    except ValidationError as exc:
        issues = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5])
        raise _bad(f"invalid BindableResourcesRequest: {issues}") from exc
    name = req.metadata.name or ""
    if not name or validation.is_dns1123_label(name):
        raise _bad("metadata.name must be a DNS-1123 label (lowercase letters, digits, '-', max 63)")
    template = req.spec.template_ref.name
    if not template or validation.is_dns1123_subdomain(template):
        raise _bad("spec.templateRef.name must name a template")
    identity = req.spec.cluster_identity.identity
    if not identity or len(identity) > 256:
        raise _bad("spec.clusterIdentity.identity is required (at most 256 characters)")
    return req


class BindOutcome:
    def __init__(self, response: dict[str, Any], namespace: str) -> None:
        self.response = response
        self.namespace = namespace


async def perform_bind(
    ctx: ServiceContext, caller: Caller, req: BindableResourcesRequest, consumer_id: str
) -> BindOutcome:
    """The bind itself, shared by ``POST /api/bind`` and the web page."""
    name = str(req.metadata.name)
    identity = req.spec.cluster_identity.identity
    ui_only = identity == constants.UI_IDENTITY
    if ui_only:
        identity = caller.identity
    key = consumer_id or identity
    try:
        template = await ctx.provider.get(refs.TEMPLATES, req.spec.template_ref.name)
    except kube_errors.NotFoundError as exc:
        raise ApiProblem(
            404, ErrorCode.RESOURCE_NOT_FOUND, f"template {req.spec.template_ref.name!r} not found"
        ) from exc
    tspec = template.get("spec") or {}
    spec = APIServiceExportRequestSpec.model_validate(
        {
            "resources": tspec.get("resources") or [],
            "permissionClaims": tspec.get("permissionClaims"),
            "namespaces": tspec.get("namespaces"),
            "schemaUpdatePolicy": tspec.get("schemaUpdatePolicy") or "Never",
        }
    )
    pretty = req.spec.cluster_identity.pretty_name or name
    started = time.perf_counter()
    try:
        result = await ctx.minter.bind(
            identity=key, author=caller.session.subject, cluster_pretty_name=pretty
        )
    except IdentityConflict as exc:
        ctx.metrics.binds.labels("conflict").inc()
        raise ApiProblem(409, ErrorCode.BAD_REQUEST, str(exc)) from exc
    except Exception:
        ctx.metrics.binds.labels("error").inc()
        raise
    ctx.metrics.binds.labels("ok").inc()
    ctx.metrics.bind_latency.observe(time.perf_counter() - started)
    request_obj = APIServiceExportRequestResponse(metadata=NameObjectMeta(name=name), spec=spec)
    binding_name: str | None = None
    if ui_only:
        binding_name = await _create_request_and_wait(ctx, result.namespace, request_obj)
    response = BindingResponse(
        authentication=BindingResponseAuthentication(
            oauth2_code_grant=BindingResponseAuthenticationOAuth2CodeGrant(
                sid=caller.session.id, id=caller.identity
            )
        ),
        kubeconfig=result.kubeconfig,
        requests=[request_obj.to_raw()],
        provider_namespace=result.namespace,
        binding_name=binding_name,
    )
    log.info(
        "bind template=%s namespace=%s subject=%s",
        req.spec.template_ref.name,
        result.namespace,
        caller.session.subject,
    )
    return BindOutcome(to_dict(response), result.namespace)


async def _create_request_and_wait(
    ctx: ServiceContext, namespace: str, request_obj: APIServiceExportRequestResponse
) -> str:
    """UI-only flow: the backend creates the request itself and waits for it (reference §3.5.6)."""
    body = request_obj.to_raw()
    body["metadata"] = {"name": request_obj.metadata.name, "namespace": namespace}
    body.pop("status", None)
    try:
        created = await ctx.provider.create(refs.EXPORT_REQUESTS, body)
    except kube_errors.AlreadyExistsError:
        body["metadata"] = {"generateName": f"{request_obj.metadata.name}-", "namespace": namespace}
        created = await ctx.provider.create(refs.EXPORT_REQUESTS, body)
    name = created["metadata"]["name"]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + _UI_WAIT_SECONDS
    while loop.time() < deadline:
        current = await ctx.provider.get(refs.EXPORT_REQUESTS, name, namespace=namespace)
        status = current.get("status") or {}
        if status.get("phase") == "Succeeded":
            return str(name)
        if status.get("phase") == "Failed":
            raise ApiProblem(
                400, ErrorCode.BAD_REQUEST, f"export request failed: {status.get('terminalMessage', '')}"
            )
        await asyncio.sleep(0.5)
    raise ApiProblem(504, ErrorCode.INTERNAL_ERROR, "export request did not succeed within 60s")


@router.post(
    "/bind",
    summary="Bind a template: mint scoped credentials, answer a BindingResponse",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _BODY_SCHEMA}},
        }
    },
)
async def bind(request: Request, ctx: ContextDep, caller: CallerDep) -> JSONResponse:
    raw = await _read_limited(request, ctx.settings.max_body_bytes)
    req = parse_bind_request(raw, ctx.settings.max_body_bytes)
    consumer_id = request.query_params.get("consumer_id", "")
    if len(consumer_id) > 256:
        raise _bad("consumer_id is too long")
    outcome = await perform_bind(ctx, caller, req, consumer_id)
    return JSONResponse(outcome.response, headers=NO_CACHE)


async def _read_limited(request: Request, max_bytes: int) -> bytes:
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > max_bytes:
        raise ApiProblem(413, ErrorCode.BAD_REQUEST, f"request body larger than {max_bytes} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise ApiProblem(413, ErrorCode.BAD_REQUEST, f"request body larger than {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


@router.post("/unbind", summary="Unbind a consumer: revoke its credential at once and remove its objects")
async def unbind(request: Request, ctx: ContextDep, caller: CallerDep) -> JSONResponse:
    """Explicit unbind, for the consumer that bound (``consumer_id`` query or ``clusterIdentity``).

    Only the user who bound the identity first (``backend.kube-bind.io/author``) may unbind it;
    deleting the ClusterBinding (any provider admin) has the same effect.
    """
    raw = await _read_limited(request, ctx.settings.max_body_bytes)
    identity = request.query_params.get("consumer_id", "")
    if raw.strip():
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise _bad(f"malformed JSON body: {exc}") from exc
        spec = data.get("spec") if isinstance(data, dict) else None
        ident = (spec or {}).get("clusterIdentity") if isinstance(spec, dict) else None
        if isinstance(ident, dict) and isinstance(ident.get("identity"), str):
            identity = identity or ident["identity"]
    if not identity or len(identity) > 256:
        raise _bad("name the consumer: ?consumer_id=<identity> or spec.clusterIdentity.identity")
    if identity == constants.UI_IDENTITY:
        identity = caller.identity
    ns = ctx.minter.namespace_for(identity)
    try:
        namespace = await ctx.provider.get(refs.NAMESPACES, ns)
    except kube_errors.NotFoundError as exc:
        raise ApiProblem(404, ErrorCode.RESOURCE_NOT_FOUND, "this consumer is not bound") from exc
    annotations = (namespace.get("metadata") or {}).get("annotations") or {}
    if annotations.get(constants.ANNOTATION_IDENTITY) != identity:
        raise ApiProblem(404, ErrorCode.RESOURCE_NOT_FOUND, "this consumer is not bound")
    if annotations.get(constants.ANNOTATION_AUTHOR) != caller.session.subject:
        raise ApiProblem(
            403, ErrorCode.AUTHORIZATION_FAILED, "only the user who bound this consumer may unbind it"
        )
    await ctx.minter.unbind(ns)
    ctx.metrics.unbinds.inc()
    log.info("unbind namespace=%s subject=%s", ns, caller.session.subject)
    return JSONResponse({"unbound": True, "namespace": ns}, headers=NO_CACHE)
