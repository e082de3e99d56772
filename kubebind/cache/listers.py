"""Listers: the read side of an informer's cache, shaped like the questions controllers ask.

Why: reconcilers should read the cache, not the API server, and should not need to know about
stores and index names. A :class:`Lister` answers "get by name", "list in namespace (matching a
selector)" and "by index", using the namespace index when it helps.

Returned objects are the cached ones, shared: copy before mutating (``copy.deepcopy``).
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping

from kubebind.cache.index import NAMESPACE_INDEX
from kubebind.cache.store import IndexedStore
from kubebind.kube.resources import Object, ObjectKey
from kubebind.kube.selectors import LabelSelector

__all__ = ["Lister"]


class Lister:
    def __init__(self, store: IndexedStore) -> None:
        self._store = store

    def get(self, name: str, namespace: str = "") -> Object | None:
        """The cached object, or ``None`` (cluster-scoped objects: leave ``namespace`` empty)."""
        return self._store.get_by_key(ObjectKey(namespace, name))

    def get_by_key(self, key: ObjectKey) -> Object | None:
        return self._store.get_by_key(key)

    def list(
        self,
        namespace: str | None = None,
        selector: str | LabelSelector | Mapping[str, str] | None = None,
    ) -> builtins.list[Object]:
        """Cached objects, optionally restricted to ``namespace`` and a label selector.

        ``namespace`` ``None`` or ``""`` means all namespaces (client-go's ``NamespaceAll``).
        """
        if namespace and self._store.has_index(NAMESPACE_INDEX):
            objs = self._store.by_index(NAMESPACE_INDEX, namespace)
        elif namespace:
            objs = [
                o for o in self._store.list() if (o.get("metadata") or {}).get("namespace", "") == namespace
            ]
        else:
            objs = self._store.list()
        match = _selector(selector)
        if match is None:
            return objs
        return [o for o in objs if match.matches((o.get("metadata") or {}).get("labels"))]

    def by_index(self, index_name: str, value: str) -> builtins.list[Object]:
        return self._store.by_index(index_name, value)

    def keys(self) -> builtins.list[ObjectKey]:
        return self._store.list_keys()


def _selector(selector: str | LabelSelector | Mapping[str, str] | None) -> LabelSelector | None:
    if selector is None:
        return None
    if isinstance(selector, LabelSelector):
        parsed = selector
    elif isinstance(selector, str):
        parsed = LabelSelector.parse(selector)
    else:
        parsed = LabelSelector.from_labels(selector)
    return None if parsed.empty() else parsed
