"""Kubernetes field errors: the ``StatusCause`` s of a ``422 Invalid``.

Why separate: validation produces them, the aggregated server turns them into ``Status`` bodies,
and the konnector/CLI may build the same messages for their own checks. Types are Kubernetes'
``field.ErrorType`` strings and :attr:`FieldError.message` follows ``field.Error.ErrorBody`` so
clients (kubectl, client-go) show what they would show for a CRD.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from kubebind.apis import constants

__all__ = ["OMITTED", "ErrorType", "FieldError", "invalid_message"]


class ErrorType(StrEnum):
    """Kubernetes ``field.ErrorType`` (the ``reason`` of a ``StatusCause``)."""

    NOT_FOUND = "FieldValueNotFound"
    REQUIRED = "FieldValueRequired"
    DUPLICATE = "FieldValueDuplicate"
    INVALID = "FieldValueInvalid"
    NOT_SUPPORTED = "FieldValueNotSupported"
    FORBIDDEN = "FieldValueForbidden"
    TOO_LONG = "FieldValueTooLong"
    TOO_MANY = "FieldValueTooMany"
    INTERNAL = "InternalError"
    TYPE_INVALID = "FieldValueTypeInvalid"


_TYPE_TEXT = {
    ErrorType.NOT_FOUND: "Not found",
    ErrorType.REQUIRED: "Required value",
    ErrorType.DUPLICATE: "Duplicate value",
    ErrorType.INVALID: "Invalid value",
    ErrorType.NOT_SUPPORTED: "Unsupported value",
    ErrorType.FORBIDDEN: "Forbidden",
    ErrorType.TOO_LONG: "Too long",
    ErrorType.TOO_MANY: "Too many",
    ErrorType.INTERNAL: "Internal error",
    ErrorType.TYPE_INVALID: "Invalid value",
}
_NO_VALUE_TYPES = {ErrorType.REQUIRED, ErrorType.FORBIDDEN, ErrorType.TOO_LONG, ErrorType.INTERNAL}


class _Omitted:
    def __repr__(self) -> str:
        return "<omitted>"


OMITTED: Any = _Omitted()


def _value_text(value: Any) -> str:
    if isinstance(value, str | int | float | bool) or value is None:
        return json.dumps(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


@dataclass(frozen=True, slots=True)
class FieldError:
    """One field error: ``type``, dotted ``field`` path, human ``detail`` and the offending value."""

    type: ErrorType
    field: str
    detail: str = ""
    bad_value: Any = OMITTED

    @property
    def message(self) -> str:
        """``field.Error.ErrorBody()``: e.g. ``Invalid value: "Foo": should match …``."""
        text = _TYPE_TEXT[self.type]
        if self.type not in _NO_VALUE_TYPES and self.bad_value is not OMITTED:
            text = f"{text}: {_value_text(self.bad_value)}"
        if self.detail:
            text = f"{text}: {self.detail}"
        return text

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "type": self.type.value, "message": self.message}

    def to_status_cause(self) -> dict[str, str]:
        """JSON of a ``metav1.StatusCause`` (note: the type goes under ``reason``)."""
        return {"reason": self.type.value, "message": self.message, "field": self.field}

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


def invalid_message(kind: str, name: str, errors: list[FieldError]) -> str:
    """``Status.message`` of a 422, as ``apierrors.NewInvalid`` formats it."""
    if len(errors) == 1:
        agg = str(errors[0])
    else:
        agg = "[" + ", ".join(str(e) for e in errors) + "]"
    return f'{kind}.{constants.GROUP} "{name}" is invalid: {agg}'
