"""The seam between a reflector and the API: list one page, open one watch.

Why a seam: the reflector's algorithm (list, watch from the list's resourceVersion, re-list on
410, back off on errors) is independent of *what* is listed. :class:`ListWatch` binds an
:class:`~kubebind.kube.client.ApiClient` to one resource, namespace and selector set; the
reflector only sees the :class:`ListerWatcher` protocol.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Protocol, Self

from kubebind.kube.client import ApiClient
from kubebind.kube.resources import Object, ResourceRef
from kubebind.kube.watch import WatchEvent

__all__ = ["ListWatch", "ListerWatcher", "WatchStream"]


class WatchStream(Protocol):
    """An async iterator of watch events that must be closed (``async with``)."""

    def __aiter__(self) -> AsyncIterator[WatchEvent]: ...

    @property
    def stopped(self) -> bool:
        """True when the client ended the stream on purpose (e.g. a credential swap)."""
        ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...


class ListerWatcher(Protocol):
    async def list(self, *, limit: int | None, continue_: str | None, resource_version: str | None) -> Object:
        """One page of the list (a ``*List`` body)."""
        ...

    def watch(
        self, *, resource_version: str, timeout_seconds: int, allow_watch_bookmarks: bool
    ) -> WatchStream: ...

    def describe(self) -> str:
        """For logs: what this lists, e.g. ``configmaps.v1 in ns-a (app=x)``."""
        ...


@dataclass(frozen=True)
class ListWatch:
    client: ApiClient
    ref: ResourceRef
    namespace: str | None = None
    label_selector: str | None = None
    field_selector: str | None = None

    async def list(self, *, limit: int | None, continue_: str | None, resource_version: str | None) -> Object:
        return await self.client.list(
            self.ref,
            namespace=self.namespace,
            label_selector=self.label_selector,
            field_selector=self.field_selector,
            limit=limit,
            continue_=continue_,
            resource_version=resource_version,
        )

    def watch(
        self, *, resource_version: str, timeout_seconds: int, allow_watch_bookmarks: bool
    ) -> WatchStream:
        return self.client.watch(
            self.ref,
            namespace=self.namespace,
            label_selector=self.label_selector,
            field_selector=self.field_selector,
            resource_version=resource_version,
            timeout_seconds=timeout_seconds,
            allow_watch_bookmarks=allow_watch_bookmarks,
        )

    def describe(self) -> str:
        where = f" in {self.namespace}" if self.namespace else ""
        sel = ",".join(s for s in (self.label_selector, self.field_selector) if s)
        return f"{self.ref}{where}" + (f" ({sel})" if sel else "")


def selector_key(selector: str | Mapping[str, str] | None) -> str | None:
    """Normalise a selector argument to the string the server receives (for cache keys)."""
    if selector is None or isinstance(selector, str):
        return selector or None
    return ",".join(f"{k}={v}" for k, v in sorted(selector.items())) or None
