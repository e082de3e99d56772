"""The local cache of one resource: objects by :class:`ObjectKey`, plus indices.

Why a dedicated store and not a dict: informers apply list results and watch events to it, while
listers and controllers read it; readers need namespace and custom-index lookups, and the informer
needs ``replace`` (a re-list) to tell it which keys disappeared so that deletes are not lost.

Contract:

* Keys are ``ObjectKey(namespace, name)`` derived from ``metadata``.
* Objects are stored and returned **as is, shared** — readers must treat them as read-only and copy
  (``copy.deepcopy``) before mutating, exactly like client-go's caches.
* All methods are synchronous and complete without awaiting, so each is atomic on the event loop;
  this is the asyncio meaning of "thread-safe store" (do not share a store across threads).
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping
from typing import Protocol

from kubebind.cache.index import IndexFunc, Indices
from kubebind.kube.resources import Object, ObjectKey, object_key

__all__ = ["IndexedStore", "Store", "object_key"]


class Store(Protocol):
    def add(self, obj: Object) -> None: ...

    def update(self, obj: Object) -> None: ...

    def delete(self, obj: Object) -> None: ...

    def get(self, obj: Object) -> Object | None: ...

    def get_by_key(self, key: ObjectKey) -> Object | None: ...

    def list(self) -> builtins.list[Object]: ...

    def list_keys(self) -> builtins.list[ObjectKey]: ...

    def replace(self, objs: Iterable[Object]) -> None: ...

    def __len__(self) -> int: ...


class IndexedStore:
    """The store implementation; satisfies both :class:`Store` and ``index.Indexer``."""

    def __init__(self, indexers: Mapping[str, IndexFunc] | None = None) -> None:
        self._items: dict[ObjectKey, Object] = {}
        self._indices = Indices(indexers)

    # -- writes (used by informers) ------------------------------------------------------------

    def add(self, obj: Object) -> None:
        key = object_key(obj)
        self._indices.update(key, self._items.get(key), obj)
        self._items[key] = obj

    update = add

    def delete(self, obj: Object) -> None:
        self.delete_key(object_key(obj))

    def delete_key(self, key: ObjectKey) -> Object | None:
        old = self._items.pop(key, None)
        if old is not None:
            self._indices.update(key, old, None)
        return old

    def replace(self, objs: Iterable[Object]) -> None:
        """Make the store hold exactly ``objs`` (indices are rebuilt)."""
        self._items = {object_key(o): o for o in objs}
        self._indices.clear()
        for key, obj in self._items.items():
            self._indices.update(key, None, obj)

    # -- reads ---------------------------------------------------------------------------------

    def get(self, obj: Object) -> Object | None:
        return self._items.get(object_key(obj))

    def get_by_key(self, key: ObjectKey) -> Object | None:
        return self._items.get(key)

    def list(self) -> builtins.list[Object]:
        return list(self._items.values())

    def list_keys(self) -> builtins.list[ObjectKey]:
        return list(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return key in self._items

    # -- indices -------------------------------------------------------------------------------

    def add_indexers(self, indexers: Mapping[str, IndexFunc]) -> None:
        if self._items:
            raise RuntimeError("indexers must be added before the store is filled")
        self._indices.add_funcs(indexers)

    def has_index(self, index_name: str) -> bool:
        return index_name in self._indices.funcs

    def index_keys(self, index_name: str, value: str) -> builtins.list[ObjectKey]:
        return sorted(self._indices.keys(index_name, value))

    def by_index(self, index_name: str, value: str) -> builtins.list[Object]:
        return [self._items[k] for k in self.index_keys(index_name, value)]

    def index_values(self, index_name: str) -> builtins.list[str]:
        return self._indices.values(index_name)

    def index(self, index_name: str, obj: Object) -> builtins.list[Object]:
        func = self._indices.funcs.get(index_name)
        if func is None:
            raise KeyError(f"no index named {index_name!r}")
        keys: set[ObjectKey] = set()
        for value in func(obj):
            keys |= self._indices.keys(index_name, value)
        return [self._items[k] for k in sorted(keys)]
