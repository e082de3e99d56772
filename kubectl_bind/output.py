"""Printing objects like kubectl: aligned tables, ``-o json`` and ``-o yaml``, human ages.

Why in one place: every listing command (``templates``, ``collections``, the final bindings
table) and ``--dry-run`` share the same formats, so scripts can rely on ``-o json`` being a
Kubernetes ``List`` and ``-o yaml`` a multi-document stream kubectl can apply.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TextIO

import yaml

from kubectl_bind.errors import UsageError

__all__ = ["FORMATS", "Column", "age", "dump_yaml", "print_objects", "render_table"]

FORMATS = ("table", "json", "yaml")

Column = tuple[str, Callable[[dict[str, Any]], str]]


def age(timestamp: str | None, now: datetime | None = None) -> str:
    """kubectl's short age: ``45s``, ``12m``, ``5h``, ``3d``, ``2y`` (``<unknown>`` if absent)."""
    if not timestamp:
        return "<unknown>"
    try:
        then = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except ValueError:
        return "<unknown>"
    if then.tzinfo is None:
        then = then.replace(tzinfo=UTC)
    seconds = int(((now or datetime.now(UTC)) - then).total_seconds())
    if seconds < 0:
        seconds = 0
    for unit, size in (("y", 365 * 86400), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size * (2 if unit != "m" else 1):
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def render_table(rows: Sequence[Sequence[str]], headers: Sequence[str]) -> str:
    """Columns padded with three spaces like kubectl; empty cells become ``<none>``."""
    cells = [list(headers)] + [[c if c != "" else "<none>" for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["   ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in cells]
    return "\n".join(lines) + "\n"


class _Dumper(yaml.SafeDumper):
    pass


def _str_presenter(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _str_presenter)


def dump_yaml(obj: Any) -> str:
    return yaml.dump(obj, Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True)


def print_objects(
    items: Sequence[dict[str, Any]],
    fmt: str,
    *,
    columns: Sequence[Column] = (),
    list_kind: str = "List",
    list_api_version: str = "v1",
    empty_message: str = "No resources found.",
    stream: TextIO | None = None,
) -> None:
    """Print ``items`` as a table (``columns``), a JSON ``List``, or multi-document YAML."""
    out = stream or sys.stdout
    if fmt == "json":
        body = {"apiVersion": list_api_version, "kind": list_kind, "items": list(items)}
        out.write(json.dumps(body, indent=2) + "\n")
    elif fmt == "yaml":
        out.write("---\n".join(dump_yaml(item) for item in items) if items else "")
    elif fmt == "table":
        if not items:
            sys.stderr.write(f"{empty_message}\n")
            return
        rows = [[fn(item) for _, fn in columns] for item in items]
        out.write(render_table(rows, [name for name, _ in columns]))
    else:
        raise UsageError(f"unknown output format {fmt!r}: use one of {', '.join(FORMATS)}")
    out.flush()
