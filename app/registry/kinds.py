"""The strategies of every provider-side kind the backend serves, by plural resource name.

All provider kinds currently share :class:`~app.registry.strategy.KindStrategy`; their differences
(ClusterBinding's fixed name, immutable specs of export requests and exports, BoundSchema's
conversion rule, defaults like APIServiceExportRequest ``status.phase: Pending``) are data in
``kubebind.apis`` (schema, validation rules). A kind that needs code of its own gets a subclass
here.
"""

from __future__ import annotations

from app.registry.strategy import KindStrategy, Strategy
from kubebind.apis import resources


def served_kinds() -> tuple[resources.ResourceInfo, ...]:
    """The kinds this backend serves (the provider side of kube-bind.io/v1alpha2)."""
    return resources.PROVIDER_KINDS


def strategies() -> dict[str, Strategy]:
    return {info.plural: KindStrategy(info) for info in served_kinds()}
