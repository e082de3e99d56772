"""What a spec/status sync of one bound resource needs: both clients, both caches, the key mapping.

Why a plain dataclass: :mod:`konnector.sync.spec` and :mod:`konnector.sync.status` are functions
of this context and a key, so they are easy to read side by side and to drive from tests.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from konnector.sync.isolation import Strategy
from kubebind.kube.client import ApiClient
from kubebind.kube.resources import Object, ObjectKey, ResourceRef

__all__ = ["Cache", "SyncContext"]


class Cache(Protocol):
    def get(self, key: ObjectKey) -> Object | None: ...

    def list(self, namespace: str | None = None) -> list[Object]: ...


@dataclass
class SyncContext:
    consumer: ApiClient
    provider: ApiClient
    consumer_ref: ResourceRef
    provider_ref: ResourceRef
    consumer_cache: Cache
    provider_cache: Cache
    strategy: Strategy
    #: Name of the APIServiceExport (owner of APIServiceNamespaces we create).
    export_name: str
    export_uid: str
    #: Create the APIServiceNamespace for a consumer namespace (idempotent).
    ensure_service_namespace: Callable[[str], object]
    has_status_subresource: bool = True
    observe: Callable[[str, float], None] = lambda direction, seconds: None
    #: When a consumer change was first seen, per key (for latency metrics).
    seen: dict[tuple[str, ObjectKey], float] = field(default_factory=dict)
    #: Provider copies we just created, until the provider informer shows them (avoids a second
    #: create + get when the consumer event of our own finalizer write arrives first).
    recent: dict[ObjectKey, tuple[float, Object]] = field(default_factory=dict)

    #: Consumer objects whose finalizer and provider trace annotations we wrote, by key, with the
    #: (consumer uid, provider uid) written: until the consumer cache shows that write, a reconcile
    #: woken by the provider's ADDED event must not write it again from the stale cached copy (a
    #: certain 409 Conflict and a rate-limited retry per object).
    meta_written: dict[ObjectKey, tuple[str, str]] = field(default_factory=dict)

    def remember_created(self, pkey: ObjectKey, obj: Object) -> None:
        self.recent[pkey] = (time.monotonic(), obj)

    def recently_created(self, pkey: ObjectKey, ttl: float = 10.0) -> Object | None:
        entry = self.recent.get(pkey)
        if entry is None:
            return None
        if time.monotonic() - entry[0] > ttl:
            self.recent.pop(pkey, None)
            return None
        return entry[1]

    def forget_created(self, pkey: ObjectKey) -> None:
        self.recent.pop(pkey, None)

    def mark_seen(self, direction: str, key: ObjectKey) -> None:
        self.seen.setdefault((direction, key), time.monotonic())

    def observe_done(self, direction: str, key: ObjectKey) -> None:
        started = self.seen.pop((direction, key), None)
        if started is not None:
            self.observe(direction, time.monotonic() - started)
