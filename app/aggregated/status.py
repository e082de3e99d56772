"""Kubernetes ``Status`` error bodies for every failure the API returns.

Clients (kubectl, client-go, our konnector) decide what to do from ``reason`` and ``code`` — retry
on Conflict, re-list on Expired/Gone, show causes of Invalid — so every error leaves through here.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from app.storage import errors

log = logging.getLogger(__name__)


def status_response(exc: errors.StatusError, headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(exc.status()), status_code=exc.code, media_type="application/json", headers=headers
    )


def success_status(details: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"}
    if details:
        body["details"] = details
    return body


async def handle_status_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, errors.StatusError)
    headers = {"WWW-Authenticate": 'Bearer realm="kube-bind"'} if exc.code == 401 else None
    return status_response(exc, headers)


async def handle_unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error method=%s path=%s", request.method, request.url.path)
    return status_response(errors.InternalError("an internal error occurred; see the backend log"))
