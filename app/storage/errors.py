"""Errors of the API machinery, each carrying the Kubernetes ``Status`` reason and HTTP code.

Why they live in ``storage``: the lowest layer (object store) already has to report NotFound,
AlreadyExists, Conflict and Gone; registry and HTTP layers raise the same family, and
``app.aggregated.status`` renders any of them as a ``metav1.Status`` body. No HTTP framework here.
"""

from __future__ import annotations

from typing import Any


class StatusError(Exception):
    """An error with a Kubernetes ``Status`` reason, HTTP code and optional ``details``."""

    code = 500
    reason = "InternalError"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}

    def status(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details:
            body["details"] = self.details
        return body


def _details(resource: str, name: str, group: str) -> dict[str, Any]:
    out: dict[str, Any] = {"group": group, "kind": resource}
    if name:
        out["name"] = name
    return out


class BadRequest(StatusError):
    code, reason = 400, "BadRequest"


class Unauthorized(StatusError):
    code, reason = 401, "Unauthorized"


class Forbidden(StatusError):
    code, reason = 403, "Forbidden"


class NotFound(StatusError):
    code, reason = 404, "NotFound"

    @classmethod
    def of(cls, resource: str, name: str, group: str) -> NotFound:
        return cls(f'{resource}.{group} "{name}" not found', details=_details(resource, name, group))


class MethodNotAllowed(StatusError):
    code, reason = 405, "MethodNotAllowed"


class NotAcceptable(StatusError):
    code, reason = 406, "NotAcceptable"


class AlreadyExists(StatusError):
    code, reason = 409, "AlreadyExists"

    @classmethod
    def of(cls, resource: str, name: str, group: str) -> AlreadyExists:
        return cls(f'{resource}.{group} "{name}" already exists', details=_details(resource, name, group))


class Conflict(StatusError):
    code, reason = 409, "Conflict"

    @classmethod
    def of(cls, resource: str, name: str, group: str, why: str) -> Conflict:
        return cls(
            f'Operation cannot be fulfilled on {resource}.{group} "{name}": {why}',
            details=_details(resource, name, group),
        )


class Gone(StatusError):
    code, reason = 410, "Expired"


class RequestEntityTooLarge(StatusError):
    code, reason = 413, "RequestEntityTooLarge"


class UnsupportedMediaType(StatusError):
    code, reason = 415, "UnsupportedMediaType"


class Invalid(StatusError):
    code, reason = 422, "Invalid"


class TooManyRequests(StatusError):
    code, reason = 429, "TooManyRequests"


class InternalError(StatusError):
    code, reason = 500, "InternalError"


class ServiceUnavailable(StatusError):
    code, reason = 503, "ServiceUnavailable"


class Timeout(StatusError):
    code, reason = 504, "Timeout"
