"""Table columns of the objects the CLI lists (like the printer columns ``kubectl get`` shows)."""

from __future__ import annotations

from typing import Any

from kubebind.apis import constants
from kubectl_bind import output

__all__ = ["BINDING_COLUMNS", "COLLECTION_COLUMNS", "TEMPLATE_COLUMNS", "print_bindings"]


def _meta(obj: dict[str, Any]) -> dict[str, Any]:
    return obj.get("metadata") or {}


def _spec(obj: dict[str, Any]) -> dict[str, Any]:
    return obj.get("spec") or {}


def _gr(item: dict[str, Any]) -> str:
    group = item.get("group") or ""
    return f"{item.get('resource', '')}.{group}" if group else str(item.get("resource", ""))


def _ready(obj: dict[str, Any]) -> tuple[str, str]:
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if cond.get("type") == constants.CONDITION_READY:
            return str(cond.get("status") or ""), str(cond.get("message") or cond.get("reason") or "")
    return "Unknown", ""


TEMPLATE_COLUMNS: list[output.Column] = [
    ("NAME", lambda o: str(_meta(o).get("name", ""))),
    ("SCOPE", lambda o: str(_spec(o).get("scope", ""))),
    ("RESOURCES", lambda o: ",".join(_gr(r) for r in _spec(o).get("resources") or [])),
    ("PERMISSION CLAIMS", lambda o: ",".join(_gr(r) for r in _spec(o).get("permissionClaims") or [])),
    ("DESCRIPTION", lambda o: str(_spec(o).get("description") or "")),
    ("AGE", lambda o: output.age(_meta(o).get("creationTimestamp"))),
]

COLLECTION_COLUMNS: list[output.Column] = [
    ("NAME", lambda o: str(_meta(o).get("name", ""))),
    ("DESCRIPTION", lambda o: str(_spec(o).get("description") or "")),
    ("TEMPLATES", lambda o: ",".join(str(t.get("name", "")) for t in _spec(o).get("templates") or [])),
    ("AGE", lambda o: output.age(_meta(o).get("creationTimestamp"))),
]

BINDING_COLUMNS: list[output.Column] = [
    ("NAME", lambda o: str(_meta(o).get("name", ""))),
    ("PROVIDER", lambda o: str((o.get("status") or {}).get("providerPrettyName") or "")),
    ("SECRET", lambda o: str(((_spec(o).get("kubeconfigSecretRef") or {}).get("name")) or "")),
    ("READY", lambda o: _ready(o)[0]),
    ("MESSAGE", lambda o: _ready(o)[1]),
    ("AGE", lambda o: output.age(_meta(o).get("creationTimestamp"))),
]


def print_bindings(bindings: list[dict[str, Any]], fmt: str) -> None:
    output.print_objects(
        bindings,
        fmt,
        columns=BINDING_COLUMNS,
        list_kind="APIServiceBindingList",
        list_api_version=constants.API_VERSION,
        empty_message="No APIServiceBindings created.",
    )
