"""The handshake ``Error`` body (reference §2.16) and how exceptions map onto it.

Every failure under ``/api`` answers ``{"kind":"Error","apiVersion":"kube-bind.io/v1alpha2",
"message","code"}`` with the matching HTTP status; Kubernetes errors map as the Go
``mapErrorToCode`` does (404/401/403/400, else 500).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from kubebind.apis.v1alpha2 import Error, ErrorCode, to_dict
from kubebind.kube import errors as kube_errors

__all__ = ["ApiProblem", "error_response", "install_handlers"]

NO_CACHE = {
    "Expires": "Thu, 01 Jan 1970 00:00:00 GMT",
    "Cache-Control": "no-cache, no-store, must-revalidate, max-age=0",
    "X-Accel-Expires": "0",
}

_STATUS_CODES = {
    400: ErrorCode.BAD_REQUEST,
    401: ErrorCode.AUTHENTICATION_FAILED,
    403: ErrorCode.AUTHORIZATION_FAILED,
    404: ErrorCode.RESOURCE_NOT_FOUND,
}


class ApiProblem(Exception):
    def __init__(self, status: int, code: ErrorCode, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details


def error_response(status: int, code: ErrorCode, message: str, details: Any = None) -> JSONResponse:
    body = to_dict(Error(message=message, code=code, details=details))
    headers = dict(NO_CACHE)
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="kube-bind"'
    return JSONResponse(body, status_code=status, headers=headers)


def from_kube(exc: kube_errors.ApiError) -> ApiProblem:
    code = _STATUS_CODES.get(exc.code, ErrorCode.INTERNAL_ERROR)
    status = exc.code if exc.code in _STATUS_CODES else 500
    if exc.code == 409:
        return ApiProblem(409, ErrorCode.BAD_REQUEST, exc.message)
    return ApiProblem(status, code, exc.message)


def install_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiProblem)
    async def _problem(_request: Request, exc: ApiProblem) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message, exc.details)

    # Only the handshake's own paths get the Error body; everything else (the aggregated API's
    # /apis/..., the dev issuer, the web page) keeps its own or FastAPI's default answers.

    @app.exception_handler(kube_errors.ApiError)
    async def _kube(request: Request, exc: kube_errors.ApiError) -> JSONResponse:
        if not _handshake(request):
            return JSONResponse(exc.status, status_code=exc.code or 500)
        problem = from_kube(exc)
        return error_response(problem.status, problem.code, problem.message)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        if not _handshake(request):
            return await request_validation_exception_handler(request, exc)
        issues = [
            f"{'.'.join(str(p) for p in err.get('loc', ()))}: {err.get('msg', '')}" for err in exc.errors()
        ]
        return error_response(400, ErrorCode.BAD_REQUEST, "invalid request: " + "; ".join(issues))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Any:
        if not _handshake(request):
            return await http_exception_handler(request, exc)
        code = _STATUS_CODES.get(exc.status_code, ErrorCode.BAD_REQUEST)
        if exc.status_code >= 500:
            code = ErrorCode.INTERNAL_ERROR
        return error_response(exc.status_code, code, str(exc.detail))


def _handshake(request: Request) -> bool:
    return request.url.path.startswith("/api/")
