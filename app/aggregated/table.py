"""Server-side Table output (``Accept: application/json;as=Table;g=meta.k8s.io;v=v1``).

``kubectl get`` asks for Tables; kube-apiserver builds them for CRDs from
``additionalPrinterColumns``. We do the same from ``kubebind.apis.resources`` printer columns so
``kubectl get apiserviceexporttemplates`` prints NAME, RESOURCES, PERMISSIONCLAIMS, AGE exactly as
for the CRDs: JSONPath cells (several values joined by ``,``), ``date`` columns as human ages.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from kubebind.apis import duration, resources
from kubebind.apis.v1alpha2 import parse_time

_NAME_COLUMN = {
    "name": "Name",
    "type": "string",
    "format": "name",
    "description": "Name must be unique within a namespace. More info: "
    "http://kubernetes.io/docs/user-guide/identifiers#names",
    "priority": 0,
}

_SEGMENT = re.compile(
    r"""\.((?:\\\.|[^.\[])+)|\[\*\]|\[(\d+)\]|\[\?\(@\.([\w.]+)\s*==\s*["']([^"']*)["']\)\]"""
)


def _tokens(path: str) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    pos = 0
    path = path.strip()
    if path.startswith("{") and path.endswith("}"):
        path = path[1:-1]
    while pos < len(path):
        m = _SEGMENT.match(path, pos)
        if m is None:
            raise ValueError(f"unsupported JSONPath {path!r} at {pos}")
        if m.group(1) is not None:
            out.append(("key", m.group(1).replace("\\.", ".")))
        elif m.group(0) == "[*]":
            out.append(("all", None))
        elif m.group(2) is not None:
            out.append(("index", int(m.group(2))))
        else:
            out.append(("filter", (m.group(3), m.group(4))))
        pos = m.end()
    return out


def _lookup_path(value: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def jsonpath(obj: Any, path: str) -> list[Any]:
    """Values selected by the JSONPath subset printer columns use (keys, ``[*]``, ``[n]``, filters)."""
    current = [obj]
    for kind, arg in _tokens(path):
        nxt: list[Any] = []
        for value in current:
            if kind == "key" and isinstance(value, dict) and arg in value:
                nxt.append(value[arg])
            elif kind == "all" and isinstance(value, list):
                nxt.extend(value)
            elif kind == "index" and isinstance(value, list) and -len(value) <= arg < len(value):
                nxt.append(value[arg])
            elif kind == "filter" and isinstance(value, list):
                field, expected = arg
                nxt.extend(v for v in value if str(_lookup_path(v, field)) == expected)
        current = nxt
    return current


def _cell(column: resources.PrinterColumn, obj: dict[str, Any], now: datetime) -> Any:
    try:
        values = jsonpath(obj, column.json_path)
    except ValueError:
        return None
    if not values:
        return None
    if column.type == "date":
        try:
            return duration.human_duration(now - parse_time(str(values[0])))
        except ValueError:
            return None
    if len(values) == 1:
        value = values[0]
        return value if isinstance(value, str | int | float | bool) else str(value)
    return ",".join(str(v) for v in values)


def column_definitions(info: resources.ResourceInfo) -> list[dict[str, Any]]:
    cols = [dict(_NAME_COLUMN)]
    for c in info.printer_columns:
        cols.append(
            {
                "name": c.name,
                "type": "string" if c.type == "date" else c.type,
                "format": c.format,
                "description": c.description,
                "priority": c.priority,
            }
        )
    return cols


def _row_object(obj: dict[str, Any], include: str) -> dict[str, Any] | None:
    if include == "None":
        return None
    if include == "Object":
        return obj
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": obj.get("metadata") or {},
    }


def row(info: resources.ResourceInfo, obj: dict[str, Any], include: str, now: datetime) -> dict[str, Any]:
    cells: list[Any] = [(obj.get("metadata") or {}).get("name")]
    cells.extend(_cell(c, obj, now) for c in info.printer_columns)
    out: dict[str, Any] = {"cells": cells}
    ro = _row_object(obj, include)
    if ro is not None:
        out["object"] = ro
    return out


def table(
    info: resources.ResourceInfo,
    items: list[dict[str, Any]],
    *,
    include: str = "Metadata",
    resource_version: str | None = None,
    continue_token: str | None = None,
    with_columns: bool = True,
) -> dict[str, Any]:
    now = datetime.now(UTC)
    meta: dict[str, Any] = {}
    if resource_version is not None:
        meta["resourceVersion"] = resource_version
    if continue_token:
        meta["continue"] = continue_token
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": meta,
        "columnDefinitions": column_definitions(info) if with_columns else [],
        "rows": [row(info, i, include, now) for i in items],
    }


def negotiate(accept: str) -> str:
    """The representation a client asks for: ``"Table"``, ``"PartialObjectMetadata"`` or ``""``.

    The first acceptable JSON alternative wins; protobuf alternatives (which we do not serve) are
    skipped, as kube-apiserver's negotiation would fall through to the next one.
    """
    for part in accept.split(","):
        params: dict[str, str] = {}
        pieces = [p.strip() for p in part.split(";")]
        for p in pieces[1:]:
            if "=" in p:
                k, v = p.split("=", 1)
                params[k.strip()] = v.strip()
        media = pieces[0].lower()
        if media not in ("application/json", "*/*", "application/*", ""):
            continue
        as_ = params.get("as")
        if as_ is None:
            return ""
        if params.get("g") == "meta.k8s.io" and as_ == "Table":
            return "Table"
        if params.get("g") == "meta.k8s.io" and as_ in ("PartialObjectMetadata", "PartialObjectMetadataList"):
            return "PartialObjectMetadata"
    return ""


def wants_table(accept: str) -> bool:
    """True when the client's preferred JSON representation is a meta.k8s.io Table."""
    return negotiate(accept) == "Table"


def partial_metadata(obj: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": obj.get("metadata") or {},
    }


def partial_metadata_list(items: list[dict[str, Any]], meta: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": "PartialObjectMetadataList",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": meta,
        "items": [partial_metadata(i) for i in items],
    }
