"""Secondary indices over a cache store: "which keys have index value V under index I?".

Why: controllers constantly ask relational questions of their caches — all objects in namespace
N, all bindings that reference secret S, all copies owned by export E. Scanning the store for each
question is O(n) per reconcile; an index answers in O(1) and is maintained incrementally as the
reflector applies events.

Contract:

* An :data:`IndexFunc` maps an object to zero or more string values; it must be a pure function
  of the object (called again with the old object on update/delete to remove stale entries).
* Index names are unique per store; :data:`NAMESPACE_INDEX` (``namespace``) is provided by
  :func:`namespace_index_func`. Indexers can be added only while the store is empty.
* Lookups return keys/objects as of the latest applied event (the cache is eventually consistent
  with the server, never ahead of it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol

from kubebind.kube.resources import Object, ObjectKey

__all__ = [
    "NAMESPACE_INDEX",
    "IndexFunc",
    "Indexer",
    "Indices",
    "label_index_func",
    "namespace_index_func",
    "owner_uid_index_func",
]

IndexFunc = Callable[[Object], list[str]]
"""Object → the index values it is filed under."""

NAMESPACE_INDEX = "namespace"


def namespace_index_func(obj: Object) -> list[str]:
    """Files namespaced objects under their namespace (cluster-scoped ones under nothing)."""
    ns = (obj.get("metadata") or {}).get("namespace")
    return [ns] if ns else []


def label_index_func(label: str) -> IndexFunc:
    """Files objects under the value of ``label`` (objects without it under nothing)."""

    def index(obj: Object) -> list[str]:
        value = ((obj.get("metadata") or {}).get("labels") or {}).get(label)
        return [value] if value is not None else []

    return index


def owner_uid_index_func(obj: Object) -> list[str]:
    """Files objects under the UIDs of their ownerReferences."""
    refs = (obj.get("metadata") or {}).get("ownerReferences") or []
    return [str(ref["uid"]) for ref in refs if ref.get("uid")]


class Indexer(Protocol):
    """A store with named indices (see :class:`kubebind.cache.store.Store` for the rest)."""

    def by_index(self, index_name: str, value: str) -> list[Object]: ...

    def index_keys(self, index_name: str, value: str) -> list[ObjectKey]: ...

    def index_values(self, index_name: str) -> list[str]: ...

    def index(self, index_name: str, obj: Object) -> list[Object]:
        """Objects sharing any index value with ``obj`` under ``index_name``."""
        ...

    def add_indexers(self, indexers: Mapping[str, IndexFunc]) -> None: ...


class Indices:
    """The index tables of one store: ``index name → value → set of keys``."""

    def __init__(self, indexers: Mapping[str, IndexFunc] | None = None) -> None:
        self.funcs: dict[str, IndexFunc] = dict(indexers or {})
        self.tables: dict[str, dict[str, set[ObjectKey]]] = {name: {} for name in self.funcs}

    def add_funcs(self, indexers: Mapping[str, IndexFunc]) -> None:
        clash = set(indexers) & set(self.funcs)
        if clash:
            raise ValueError(f"indexers already registered: {sorted(clash)}")
        self.funcs.update(indexers)
        for name in indexers:
            self.tables[name] = {}

    def update(self, key: ObjectKey, old: Object | None, new: Object | None) -> None:
        """Move ``key`` from the values of ``old`` to those of ``new`` in every index."""
        for name, func in self.funcs.items():
            table = self.tables[name]
            old_values = set(func(old)) if old is not None else set()
            new_values = set(func(new)) if new is not None else set()
            for value in old_values - new_values:
                keys = table.get(value)
                if keys is not None:
                    keys.discard(key)
                    if not keys:
                        del table[value]
            for value in new_values - old_values:
                table.setdefault(value, set()).add(key)

    def keys(self, index_name: str, value: str) -> set[ObjectKey]:
        try:
            table = self.tables[index_name]
        except KeyError:
            raise KeyError(f"no index named {index_name!r}") from None
        return table.get(value, set())

    def values(self, index_name: str) -> list[str]:
        try:
            return list(self.tables[index_name])
        except KeyError:
            raise KeyError(f"no index named {index_name!r}") from None

    def clear(self) -> None:
        for table in self.tables.values():
            table.clear()
