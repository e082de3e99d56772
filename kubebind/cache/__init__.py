"""Informer machinery: stores with indices, reflectors (list + watch), shared informers, listers.

Never imports ``kubebind.workqueue`` or ``kubebind.runtime``: handlers are plain callables, and a
controller in ``kubebind.runtime`` is where a cache meets a queue. Re-exports below are the public
surface (the one place where names rather than modules are imported).
"""

from kubebind.cache.factory import SharedInformerFactory
from kubebind.cache.index import (
    NAMESPACE_INDEX,
    IndexFunc,
    label_index_func,
    namespace_index_func,
    owner_uid_index_func,
)
from kubebind.cache.informer import (
    DeletedFinalStateUnknown,
    EventHandlerFuncs,
    HandlerRegistration,
    ResourceEventHandler,
    SharedInformer,
    final_state,
)
from kubebind.cache.listers import Lister
from kubebind.cache.listwatch import ListerWatcher, ListWatch
from kubebind.cache.reflector import Backoff, Reflector, ReflectorSink
from kubebind.cache.store import IndexedStore, Store
from kubebind.kube.resources import ObjectKey, object_key

__all__ = [
    "NAMESPACE_INDEX",
    "Backoff",
    "DeletedFinalStateUnknown",
    "EventHandlerFuncs",
    "HandlerRegistration",
    "IndexFunc",
    "IndexedStore",
    "ListWatch",
    "Lister",
    "ListerWatcher",
    "ObjectKey",
    "Reflector",
    "ReflectorSink",
    "ResourceEventHandler",
    "SharedInformer",
    "SharedInformerFactory",
    "Store",
    "final_state",
    "label_index_func",
    "namespace_index_func",
    "object_key",
    "owner_uid_index_func",
]
