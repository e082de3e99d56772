"""Printer-column cells: the small JSONPath subset of ``additionalPrinterColumns`` and the cell rules
of a CRD's Table output.

Why: ``kubectl get`` asks the server for a ``Table``; for the kinds our backend serves, the cells
must be what a CRD-backed apiserver would produce from the same columns (``kubebind.apis.resources``),
and the CLI prints the same columns for ``templates``/``collections``. Rules, as checked against
kube-apiserver 1.36:

* only the first JSONPath result is used (``.spec.resources[*].group`` shows the first group);
* no result → ``None`` (rendered ``<none>`` by kubectl);
* ``string`` columns print the value (non-strings as JSON); ``integer``/``number``/``boolean`` keep
  the JSON value when it has that type, else ``None``; ``date`` columns become an age such as
  ``37s`` relative to *now* (``<invalid>`` when unparsable).

Supported JSONPath: ``.field`` (with ``\\.`` escapes), ``['field']``, ``[n]``, ``[*]``, and filters
``[?(@.key=="value")]``, ``[?(@.key!="value")]``, ``[?(@.key)]`` — what printer columns use.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from kubebind.apis import duration
from kubebind.apis.resources import PrinterColumn
from kubebind.apis.v1alpha2 import base

__all__ = ["cell", "cells", "find"]

_FILTER = re.compile(r"""^\?\(@\.([\w.\\/-]+)\s*(?:(==|!=)\s*(?:"([^"]*)"|'([^']*)'|([^)\s]+)))?\s*\)$""")


def _split(path: str) -> list[str]:
    """Tokens: plain field names and ``[...]`` selectors."""
    text = path.strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1]
    tokens: list[str] = []
    i = 0
    current = ""
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            current += text[i + 1]
            i += 2
            continue
        if ch == ".":
            if current:
                tokens.append(current)
            current = ""
            i += 1
            continue
        if ch == "[":
            if current:
                tokens.append(current)
            current = ""
            end = text.index("]", i)
            # filters may contain "]" only inside quotes; printer columns never do
            tokens.append(text[i : end + 1])
            i = end + 1
            continue
        current += ch
        i += 1
    if current:
        tokens.append(current)
    return tokens


def _field(value: Any, name: str) -> list[Any]:
    if isinstance(value, dict) and name in value:
        return [value[name]]
    return []


def _get_dotted(value: Any, dotted: str) -> tuple[bool, Any]:
    cur = value
    for part in dotted.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return False, None
        cur = cur[part]
    return True, cur


def _select(value: Any, selector: str) -> list[Any]:
    inner = selector[1:-1].strip()
    if inner.startswith(("'", '"')):
        return _field(value, inner[1:-1])
    if not isinstance(value, list):
        return []
    if inner == "*":
        return list(value)
    if inner.startswith("?"):
        match = _FILTER.match(inner)
        if match is None:
            raise ValueError(f"unsupported JSONPath filter {selector!r}")
        key, op = match.group(1), match.group(2)
        literal = next((g for g in match.group(3, 4, 5) if g is not None), None)
        out = []
        for item in value:
            found, got = _get_dotted(item, key)
            if op is None:
                keep = found
            else:
                text = got if isinstance(got, str) else json.dumps(got)
                keep = found and (text == literal) == (op == "==")
            if keep:
                out.append(item)
        return out
    try:
        index = int(inner)
    except ValueError as exc:
        raise ValueError(f"unsupported JSONPath selector {selector!r}") from exc
    if -len(value) <= index < len(value):
        return [value[index]]
    return []


def find(obj: Any, path: str) -> list[Any]:
    """All values ``path`` selects in ``obj`` (a JSON-like dict), in document order."""
    values = [obj]
    for token in _split(path):
        nxt: list[Any] = []
        for value in values:
            nxt.extend(_select(value, token) if token.startswith("[") else _field(value, token))
        values = nxt
    return values


def _utc_now() -> datetime:
    return datetime.now(UTC)


def cell(column: PrinterColumn, obj: Any, *, clock: Callable[[], datetime] = _utc_now) -> Any:
    """The Table cell of ``column`` for ``obj`` (see module doc for the rules)."""
    results = find(obj, column.json_path)
    if not results or results[0] is None:
        return None
    value = results[0]
    kind = column.type
    if kind == "string":
        return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    if kind == "integer":
        if isinstance(value, bool):
            return None
        if isinstance(value, int):
            return value
        return int(value) if isinstance(value, float) else None
    if kind == "number":
        return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
    if kind == "boolean":
        return value if isinstance(value, bool) else None
    if kind == "date":
        if not isinstance(value, str):
            return None
        try:
            stamp = base.parse_time(value)
        except ValueError:
            return "<invalid>"
        return duration.human_duration(clock() - stamp)
    return None


def cells(
    columns: tuple[PrinterColumn, ...], obj: Any, *, clock: Callable[[], datetime] = _utc_now
) -> list[Any]:
    """Cells for all columns of a kind (without the leading Name cell)."""
    return [cell(c, obj, clock=clock) for c in columns]
