"""Admission: the NamespaceLifecycle rule kube-apiserver applies to its own resources.

An aggregated server must enforce it itself: no new objects in a namespace that does not exist
or is terminating (otherwise the namespace controller could never finish emptying it). The
namespace is read from the provider cluster; answers are cached for a few seconds.
"""

from __future__ import annotations

import time

from app.storage import errors
from kubebind.kube.client import ApiClient
from kubebind.kube.errors import ApiError


class NamespaceLifecycle:
    def __init__(self, client: ApiClient | None, *, ttl: float = 5.0) -> None:
        self._client = client
        self._ttl = ttl
        self._cache: dict[str, tuple[float, str]] = {}  # namespace -> (expiry, phase or "")

    async def _phase(self, namespace: str) -> str:
        now = time.monotonic()
        hit = self._cache.get(namespace)
        if hit is not None and hit[0] > now:
            return hit[1]
        assert self._client is not None
        try:
            ns = await self._client.request("GET", f"/api/v1/namespaces/{namespace}")
            phase = str((ns.get("status") or {}).get("phase") or "Active")
            if (ns.get("metadata") or {}).get("deletionTimestamp"):
                phase = "Terminating"
        except ApiError as exc:
            if exc.code != 404:
                raise
            phase = ""
        if len(self._cache) > 10000:
            self._cache.clear()
        # Terminating/missing are re-checked sooner: they change to "gone"/"exists" quickly.
        self._cache[namespace] = (now + (self._ttl if phase == "Active" else 1.0), phase)
        return phase

    async def admit_create(self, namespace: str) -> None:
        """Raise NotFound/Forbidden when ``namespace`` does not exist or is terminating."""
        if self._client is None:
            return
        try:
            phase = await self._phase(namespace)
        except Exception as exc:
            raise errors.ServiceUnavailable(f"cannot check namespace {namespace!r}: {exc}") from exc
        if phase == "":
            raise errors.NotFound(
                f'namespaces "{namespace}" not found', details={"name": namespace, "kind": "namespaces"}
            )
        if phase == "Terminating":
            raise errors.Forbidden(
                f"unable to create new content in namespace {namespace} because it is being terminated",
                details={"name": namespace, "kind": "namespaces"},
            )
