"""Cluster-API style condition helpers (reference §2.1).

Why: every kube-bind controller, on both sides, reports progress through ``status.conditions`` and
a ``Ready`` summary, and the Go konnector/CLI read them (e.g. ``Ready=False reason Pending`` on a
fresh binding). The semantics must be identical everywhere:

* setting a condition keeps ``lastTransitionTime`` unless status, reason, severity or message
  changed; a new time is *now* in UTC truncated to seconds;
* conditions are kept sorted: ``Ready`` first, then by type;
* :func:`set_summary` derives ``Ready`` from the others: any False → False with the severity,
  reason and message of the highest-priority group (False+Error > False+Warning > False+Info, first
  condition in type order within the group); all True → True; otherwise Unknown. With no other
  conditions ``Ready`` is left alone (as Cluster-API does).

Every function accepts either a plain dict object (``{"status": {"conditions": [...]}}``, as
informers and the aggregated server hold them) or a pydantic model from
``kubebind.apis.v1alpha2``; dicts are edited in place, models by replacing ``status.conditions``.
Time comes from an injectable clock so tests can pin it.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Collection, MutableMapping
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from kubebind.apis import constants
from kubebind.apis.v1alpha2 import base
from kubebind.apis.v1alpha2.common import Condition

__all__ = [
    "Clock",
    "ConditionsObject",
    "delete",
    "false_condition",
    "get",
    "get_conditions",
    "get_message",
    "get_reason",
    "get_severity",
    "has",
    "is_false",
    "is_true",
    "is_unknown",
    "mark_false",
    "mark_true",
    "mark_unknown",
    "set",
    "set_conditions",
    "set_in_list",
    "set_summary",
    "sort_conditions",
    "summary",
    "true_condition",
    "unknown_condition",
    "utc_now",
]

#: A source of "now"; must return an aware datetime (naive values are taken as UTC).
Clock = Callable[[], datetime]
#: An object carrying ``status.conditions``: a dict or a model.
ConditionsObject = MutableMapping[str, Any] | BaseModel

_STATE_FIELDS = ("status", "reason", "severity", "message")


def utc_now() -> datetime:
    return datetime.now(UTC)


def _now(clock: Clock) -> str:
    return base.format_time(clock().replace(microsecond=0))


def _norm(cond: Any) -> dict[str, Any]:
    if isinstance(cond, BaseModel):
        return base.to_dict(cond)
    return dict(cond)


# --- read / write the list ----------------------------------------------------------------------


def get_conditions(obj: ConditionsObject) -> list[dict[str, Any]]:
    """The conditions of ``obj`` as wire dicts (copies)."""
    if isinstance(obj, BaseModel):
        status = getattr(obj, "status", None)
        if status is None:
            return []
        return [_norm(c) for c in getattr(status, "conditions", None) or []]
    status = obj.get("status") or {}
    return [dict(c) for c in status.get("conditions") or []]


def _model_class(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _model_class(arg)
            if found is not None:
                return found
    return None


def set_conditions(obj: ConditionsObject, conditions: list[dict[str, Any]]) -> None:
    """Replace ``status.conditions`` of ``obj`` (creating ``status`` if needed)."""
    if isinstance(obj, BaseModel):
        status = getattr(obj, "status", None)
        if status is None:
            field = type(obj).model_fields.get("status")
            status_cls = _model_class(field.annotation) if field is not None else None
            if status_cls is None:
                raise TypeError(f"{type(obj).__name__} has no status model")
            status = status_cls()
            obj.status = status  # type: ignore[attr-defined]
        field = type(status).model_fields.get("conditions")
        if field is None:
            raise TypeError(f"{type(status).__name__} has no conditions")
        item_cls = Condition
        for arg in typing.get_args(field.annotation):
            for inner in typing.get_args(arg):
                if isinstance(inner, type) and issubclass(inner, BaseModel):
                    item_cls = inner  # type: ignore[assignment]
        setattr(status, "conditions", [item_cls.model_validate(c) for c in conditions])  # noqa: B010
        return
    status = obj.get("status")
    if not isinstance(status, MutableMapping):
        status = {}
        obj["status"] = status
    status["conditions"] = conditions


def _sort_key(cond: dict[str, Any]) -> tuple[int, str]:
    ctype = str(cond.get("type", ""))
    return (0 if ctype == constants.CONDITION_READY else 1, ctype)


def sort_conditions(conditions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``Ready`` first, then by type name."""
    return sorted(conditions, key=_sort_key)


def _same_state(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return all((a.get(k) or "") == (b.get(k) or "") for k in _STATE_FIELDS)


def _clean(cond: dict[str, Any]) -> dict[str, Any]:
    # Drop empty optionals so the wire form matches Go's omitempty.
    return {k: v for k, v in cond.items() if not (k in ("severity", "reason", "message") and not v)}


def set_in_list(
    conditions: list[dict[str, Any]], condition: Condition | dict[str, Any], *, clock: Clock = utc_now
) -> list[dict[str, Any]]:
    """Return a new sorted list with ``condition`` set (see module doc for the time rule)."""
    new = _clean(_norm(condition))
    ctype = new.get("type")
    if not ctype:
        raise ValueError("condition type must not be empty")
    out: list[dict[str, Any]] = []
    replaced = False
    for cur in conditions:
        if cur.get("type") != ctype:
            out.append(cur)
            continue
        replaced = True
        if _same_state(cur, new) and cur.get("lastTransitionTime"):
            new["lastTransitionTime"] = cur["lastTransitionTime"]
        else:
            new["lastTransitionTime"] = _now(clock)
        out.append(new)
    if not replaced:
        new["lastTransitionTime"] = _now(clock)
        out.append(new)
    return sort_conditions(out)


def set(obj: ConditionsObject, condition: Condition | dict[str, Any], *, clock: Clock = utc_now) -> None:
    """Set (add or replace by type) one condition on ``obj``."""
    set_conditions(obj, set_in_list(get_conditions(obj), condition, clock=clock))


def delete(obj: ConditionsObject, ctype: str) -> None:
    set_conditions(obj, [c for c in get_conditions(obj) if c.get("type") != ctype])


# --- constructors --------------------------------------------------------------------------------


def true_condition(ctype: str) -> dict[str, Any]:
    return {"type": ctype, "status": constants.STATUS_TRUE}


def false_condition(ctype: str, reason: str, severity: str, message: str = "") -> dict[str, Any]:
    return _clean(
        {
            "type": ctype,
            "status": constants.STATUS_FALSE,
            "severity": severity,
            "reason": reason,
            "message": message,
        }
    )


def unknown_condition(ctype: str, reason: str, message: str = "") -> dict[str, Any]:
    return _clean({"type": ctype, "status": constants.STATUS_UNKNOWN, "reason": reason, "message": message})


def mark_true(obj: ConditionsObject, ctype: str, *, clock: Clock = utc_now) -> None:
    set(obj, true_condition(ctype), clock=clock)


def mark_false(
    obj: ConditionsObject,
    ctype: str,
    reason: str,
    severity: str,
    message: str = "",
    *,
    clock: Clock = utc_now,
) -> None:
    set(obj, false_condition(ctype, reason, severity, message), clock=clock)


def mark_unknown(
    obj: ConditionsObject, ctype: str, reason: str, message: str = "", *, clock: Clock = utc_now
) -> None:
    set(obj, unknown_condition(ctype, reason, message), clock=clock)


# --- getters -------------------------------------------------------------------------------------


def get(obj: ConditionsObject, ctype: str) -> Condition | None:
    """The condition of the given type as a model, or ``None``."""
    for cond in get_conditions(obj):
        if cond.get("type") == ctype:
            return Condition.model_validate(cond)
    return None


def _raw(obj: ConditionsObject, ctype: str) -> dict[str, Any] | None:
    for cond in get_conditions(obj):
        if cond.get("type") == ctype:
            return cond
    return None


def has(obj: ConditionsObject, ctype: str) -> bool:
    return _raw(obj, ctype) is not None


def _status_is(obj: ConditionsObject, ctype: str, status: str) -> bool:
    cond = _raw(obj, ctype)
    return cond is not None and cond.get("status") == status


def is_true(obj: ConditionsObject, ctype: str) -> bool:
    return _status_is(obj, ctype, constants.STATUS_TRUE)


def is_false(obj: ConditionsObject, ctype: str) -> bool:
    return _status_is(obj, ctype, constants.STATUS_FALSE)


def is_unknown(obj: ConditionsObject, ctype: str) -> bool:
    """True when the condition is Unknown *or missing* (Cluster-API semantics)."""
    cond = _raw(obj, ctype)
    return cond is None or cond.get("status") == constants.STATUS_UNKNOWN


def get_reason(obj: ConditionsObject, ctype: str) -> str:
    cond = _raw(obj, ctype)
    return str(cond.get("reason") or "") if cond else ""


def get_message(obj: ConditionsObject, ctype: str) -> str:
    cond = _raw(obj, ctype)
    return str(cond.get("message") or "") if cond else ""


def get_severity(obj: ConditionsObject, ctype: str) -> str:
    cond = _raw(obj, ctype)
    return str(cond.get("severity") or "") if cond else ""


# --- summary -------------------------------------------------------------------------------------

_FALSE_PRIORITY = {constants.SEVERITY_ERROR: 0, constants.SEVERITY_WARNING: 1, constants.SEVERITY_INFO: 2}


def summary(
    obj: ConditionsObject,
    *,
    ready_type: str = constants.CONDITION_READY,
    required: Collection[str] = (),
) -> dict[str, Any] | None:
    """The ``Ready`` condition (without time) implied by the other conditions, or ``None``.

    ``required`` names conditions that must be present before ``Ready`` can be True: while one is
    missing (its controller has not looked yet) ``Ready`` is False with reason ``Pending``.
    """
    others = sort_conditions([c for c in get_conditions(obj) if c.get("type") != ready_type])
    missing = [t for t in required if not any(c.get("type") == t for c in others)]
    if not others and not missing:
        return None
    falses = [c for c in others if c.get("status") == constants.STATUS_FALSE]
    if not falses and missing:
        return false_condition(
            ready_type, constants.REASON_PENDING, constants.SEVERITY_INFO, f"waiting for {', '.join(missing)}"
        )
    if falses:
        # Unknown/empty severities rank after Info; sorted() is stable, so type order wins ties.
        top = sorted(falses, key=lambda c: _FALSE_PRIORITY.get(str(c.get("severity") or ""), 3))[0]
        return false_condition(
            ready_type,
            str(top.get("reason") or ""),
            str(top.get("severity") or ""),
            str(top.get("message") or ""),
        )
    if all(c.get("status") == constants.STATUS_TRUE for c in others):
        return true_condition(ready_type)
    top = next(c for c in others if c.get("status") != constants.STATUS_TRUE)
    return unknown_condition(ready_type, str(top.get("reason") or ""), str(top.get("message") or ""))


def set_summary(
    obj: ConditionsObject,
    *,
    clock: Clock = utc_now,
    ready_type: str = constants.CONDITION_READY,
    required: Collection[str] = (),
) -> None:
    """Compute and set ``Ready`` from all other conditions (no-op when there are none)."""
    cond = summary(obj, ready_type=ready_type, required=required)
    if cond is not None:
        set(obj, cond, clock=clock)
