"""Errors from the Kubernetes API, carrying the server's ``Status`` object.

Why typed errors: controllers branch on *what* failed (not found → create, conflict → requeue,
gone → re-list) and must not parse messages. Every non-2xx answer becomes an :class:`ApiError`
whose ``status`` is the decoded ``metav1.Status`` (synthesised from the HTTP code when the body is
not a Status). Common codes get subclasses, so both ``except NotFoundError`` and
``is_not_found(exc)`` work; the ``is_*`` helpers accept any exception and return ``False`` for
non-API errors, so they are safe in broad ``except`` blocks.

A watch ``ERROR`` event raises the same types; ``410 Gone`` (``reason: Expired``/``Gone``, "too old
resource version") is :class:`GoneError`, the signal for a reflector to re-list.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AlreadyExistsError",
    "ApiError",
    "ConflictError",
    "ForbiddenError",
    "GoneError",
    "InvalidError",
    "NotFoundError",
    "UnauthorizedError",
    "is_already_exists",
    "is_conflict",
    "is_forbidden",
    "is_gone",
    "is_invalid",
    "is_not_found",
    "is_unauthorized",
]


class ApiError(Exception):
    """A failed API call. ``status`` is the server's ``Status`` object (or one synthesised)."""

    def __init__(self, status: dict[str, Any]) -> None:
        self.status = status
        super().__init__(f"{self.code} {self.reason or 'Error'}: {self.message}")

    @property
    def code(self) -> int:
        return int(self.status.get("code") or 0)

    @property
    def reason(self) -> str:
        return str(self.status.get("reason") or "")

    @property
    def message(self) -> str:
        return str(self.status.get("message") or "")

    @property
    def details(self) -> dict[str, Any]:
        details = self.status.get("details")
        return details if isinstance(details, dict) else {}

    @property
    def retry_after_seconds(self) -> int | None:
        value = self.details.get("retryAfterSeconds")
        return int(value) if value is not None else None

    @staticmethod
    def from_status(status: dict[str, Any], *, code: int | None = None) -> ApiError:
        """Build the most specific subclass for ``status`` (``code`` overrides ``status.code``)."""
        if code is not None and not status.get("code"):
            status = {**status, "code": code}
        resolved = int(status.get("code") or 0)
        reason = status.get("reason")
        cls: type[ApiError]
        if resolved == 409 and reason == "AlreadyExists":
            cls = AlreadyExistsError
        else:
            cls = _BY_CODE.get(resolved, ApiError)
        return cls(status)

    @staticmethod
    def from_response(code: int, body: Any, *, fallback_message: str = "") -> ApiError:
        if isinstance(body, dict) and body.get("kind") == "Status":
            return ApiError.from_status(body, code=code)
        return ApiError.from_status(
            {
                "kind": "Status",
                "apiVersion": "v1",
                "status": "Failure",
                "code": code,
                "reason": _REASONS.get(code, ""),
                "message": fallback_message or f"HTTP {code}",
            }
        )


class UnauthorizedError(ApiError):
    """401: the credentials were not accepted (e.g. an expired token)."""


class ForbiddenError(ApiError):
    """403: authenticated, but RBAC denies the request."""


class NotFoundError(ApiError):
    """404."""


class ConflictError(ApiError):
    """409 other than AlreadyExists: usually a stale ``resourceVersion`` precondition."""


class AlreadyExistsError(ConflictError):
    """409 with ``reason: AlreadyExists``."""


class GoneError(ApiError):
    """410: the requested ``resourceVersion`` (or continue token) is older than the server keeps."""


class InvalidError(ApiError):
    """422: validation failed; ``details.causes`` lists the fields."""


_BY_CODE: dict[int, type[ApiError]] = {
    401: UnauthorizedError,
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
    410: GoneError,
    422: InvalidError,
}

_REASONS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    409: "Conflict",
    410: "Expired",
    415: "UnsupportedMediaType",
    422: "Invalid",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}


def _code(exc: BaseException) -> int | None:
    return exc.code if isinstance(exc, ApiError) else None


def is_not_found(exc: BaseException) -> bool:
    return _code(exc) == 404


def is_conflict(exc: BaseException) -> bool:
    """409 other than AlreadyExists: a write lost an optimistic-concurrency race."""
    return _code(exc) == 409 and not is_already_exists(exc)


def is_already_exists(exc: BaseException) -> bool:
    return isinstance(exc, ApiError) and exc.code == 409 and exc.reason == "AlreadyExists"


def is_gone(exc: BaseException) -> bool:
    return _code(exc) == 410


def is_forbidden(exc: BaseException) -> bool:
    return _code(exc) == 403


def is_unauthorized(exc: BaseException) -> bool:
    return _code(exc) == 401


def is_invalid(exc: BaseException) -> bool:
    return _code(exc) == 422
