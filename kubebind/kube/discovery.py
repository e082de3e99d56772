"""Discovery: resolve kinds and resource names to :class:`~kubebind.kube.resources.ResourceRef`.

Why: bound schemas and manifests name a kind (``apiVersion`` + ``kind``); requests need the plural
resource and scope. The server's discovery document per group/version answers that.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from kubebind.kube import errors
from kubebind.kube.resources import Object, ResourceRef

if TYPE_CHECKING:
    from kubebind.kube.client import ApiClient

__all__ = ["Discovery"]


class Discovery:
    """Resolves kinds and plural names to :class:`ResourceRef` via the server's discovery API.

    Results are cached per group/version; :meth:`invalidate` drops the cache (e.g. after a CRD
    was installed). Subresources (``pods/status``) are never returned.
    """

    def __init__(self, client: ApiClient) -> None:
        self._client = client
        self._cache: dict[str, list[Object]] = {}

    async def resources(self, api_version: str) -> list[Object]:
        cached = self._cache.get(api_version)
        if cached is None:
            path = f"/apis/{api_version}" if "/" in api_version else f"/api/{api_version}"
            body = await self._client.request("GET", path)
            cached = [r for r in (body or {}).get("resources") or [] if "/" not in str(r.get("name", ""))]
            self._cache[api_version] = cached
        return cached

    def invalidate(self, api_version: str | None = None) -> None:
        if api_version is None:
            self._cache.clear()
        else:
            self._cache.pop(api_version, None)

    async def resolve(self, api_version: str, kind: str) -> ResourceRef:
        """``("apps/v1", "Deployment")`` → ``ResourceRef("apps", "v1", "deployments", ...)``."""
        for attempt in range(2):
            for res in await self.resources(api_version):
                if res.get("kind") == kind:
                    return _ref(api_version, res)
            if attempt == 0:
                self.invalidate(api_version)
        raise errors.NotFoundError(
            {
                "kind": "Status",
                "code": 404,
                "reason": "NotFound",
                "message": f"no kind {kind!r} in {api_version}",
            }
        )

    async def resolve_resource(self, api_version: str, resource: str) -> ResourceRef:
        """Like :meth:`resolve` but by plural (or singular/short) resource name."""
        for attempt in range(2):
            for res in await self.resources(api_version):
                names = {res.get("name"), res.get("singularName"), *(res.get("shortNames") or [])}
                if resource in names:
                    return _ref(api_version, res)
            if attempt == 0:
                self.invalidate(api_version)
        raise errors.NotFoundError(
            {
                "kind": "Status",
                "code": 404,
                "reason": "NotFound",
                "message": f"no resource {resource!r} in {api_version}",
            }
        )


def _ref(api_version: str, res: Mapping[str, Any]) -> ResourceRef:
    group, _, version = api_version.rpartition("/")
    return ResourceRef(
        group, version, str(res["name"]), bool(res.get("namespaced")), str(res.get("kind", ""))
    )
