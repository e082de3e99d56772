"""Printer-column cells and the JSONPath subset (cell rules as observed on kube-apiserver 1.36)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kubebind.apis import columns, resources
from kubebind.apis.duration import human_duration
from kubebind.apis.resources import PrinterColumn

NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


def clock() -> datetime:
    return NOW


BINDING: dict[str, Any] = {
    "metadata": {
        "name": "cowboys",
        "creationTimestamp": "2026-01-01T11:59:23Z",
        "annotations": {"kube-bind.io/resources": "cowboys.wildwest.dev"},
    },
    "status": {
        "providerPrettyName": "Backend",
        "conditions": [
            {"type": "Connected", "status": "True", "message": "fine"},
            {"type": "Ready", "status": "False", "message": "waiting"},
        ],
    },
}


def test_binding_cells() -> None:
    info = resources.by_kind("APIServiceBinding")
    assert columns.cells(info.printer_columns, BINDING, clock=clock) == [
        "Backend",
        "cowboys.wildwest.dev",
        "False",
        "waiting",
        "37s",
    ]


def test_first_result_only_and_missing_is_none() -> None:
    tpl = {
        "metadata": {"creationTimestamp": "2026-01-01T12:00:00Z"},
        "spec": {"resources": [{"group": "a.dev", "resource": "x"}, {"group": "b.dev", "resource": "y"}]},
    }
    info = resources.by_kind("APIServiceExportTemplate")
    assert columns.cells(info.printer_columns, tpl, clock=clock) == ["a.dev", None, "0s"]


def test_find() -> None:
    obj = {"a": {"b.c": [1, 2, 3], "list": [{"k": "x", "v": 1}, {"k": "y", "v": 2}, {"v": 3}]}}
    assert columns.find(obj, ".a.b\\.c[*]") == [1, 2, 3]
    assert columns.find(obj, "{.a.b\\.c[1]}") == [2]
    assert columns.find(obj, ".a.b\\.c[-1]") == [3]
    assert columns.find(obj, ".a['b.c'][0]") == [1]
    assert columns.find(obj, '.a.list[?(@.k=="y")].v') == [2]
    assert columns.find(obj, ".a.list[?(@.k!='y')].v") == [1]  # items without k never match
    assert columns.find(obj, ".a.list[?(@.k)].v") == [1, 2]
    assert columns.find(obj, ".a.missing.deeper") == []
    assert columns.find(obj, ".a.b\\.c[7]") == []
    with pytest.raises(ValueError, match="unsupported"):
        columns.find(obj, ".a.list[?(@.k > 1)]")


@pytest.mark.parametrize(
    ("typ", "value", "expected"),
    [
        ("string", "x", "x"),
        ("string", {"a": 1}, '{"a":1}'),
        ("string", 5, "5"),
        ("integer", 5, 5),
        ("integer", 5.0, 5),
        ("integer", "5", None),
        ("integer", True, None),
        ("number", 1, 1.0),
        ("boolean", True, True),
        ("boolean", "true", None),
        ("date", "2026-01-01T11:00:00Z", "60m"),
        ("date", "nonsense", "<invalid>"),
        ("date", 3, None),
    ],
)
def test_cell_types(typ: str, value: Any, expected: Any) -> None:
    col = PrinterColumn("C", typ, ".v")
    assert columns.cell(col, {"v": value}, clock=clock) == expected


def test_null_value_is_none() -> None:
    assert columns.cell(PrinterColumn("C", "string", ".v"), {"v": None}) is None


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(seconds=-5), "<invalid>"),
        (timedelta(seconds=-1), "0s"),
        (timedelta(seconds=119), "119s"),
        (timedelta(minutes=5, seconds=3), "5m3s"),
        (timedelta(minutes=5), "5m"),
        (timedelta(minutes=45, seconds=10), "45m"),
        (timedelta(hours=3, minutes=20), "3h20m"),
        (timedelta(hours=5), "5h"),
        (timedelta(hours=30), "30h"),
        (timedelta(days=3, hours=4), "3d4h"),
        (timedelta(days=3), "3d"),
        (timedelta(days=100), "100d"),
        (timedelta(days=365 * 3 + 10), "3y10d"),
        (timedelta(days=365 * 9), "9y"),
    ],
)
def test_human_duration(delta: timedelta, text: str) -> None:
    assert human_duration(delta) == text
