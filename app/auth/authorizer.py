"""Authorization with SubjectAccessReview against kube-apiserver, cached for a short time.

For proxied requests kube-apiserver has already applied RBAC; the review here is defence in depth
(a misconfigured aggregator, a leaked proxy certificate). For direct requests it is the only
authorization. Decisions are cached per (user, attributes): allows for
``authorization_cache_ttl_seconds`` (default 10 s), denials for 2 s, so a RoleBinding that was just
created takes effect quickly. Members of ``always_allow_groups`` (default ``system:masters``,
which kube-apiserver itself never restricts) skip the review.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from app.auth.user import UserInfo
from kubebind.kube.client import ApiClient


@dataclass(frozen=True, slots=True)
class Attributes:
    verb: str
    group: str = ""
    version: str = ""
    resource: str = ""
    subresource: str = ""
    namespace: str = ""
    name: str = ""
    path: str = ""  # non-resource requests (discovery, openapi)

    @property
    def is_resource(self) -> bool:
        return bool(self.resource)


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    reason: str = ""


class SubjectAccessReviewer:
    def __init__(
        self,
        client: ApiClient,
        *,
        ttl: float = 10.0,
        deny_ttl: float = 2.0,
        always_allow_groups: tuple[str, ...] = ("system:masters",),
    ) -> None:
        self._client = client
        self._ttl = ttl
        self._deny_ttl = deny_ttl
        self._always = set(always_allow_groups)
        self._cache: dict[tuple[object, ...], tuple[float, Decision]] = {}

    async def authorize(self, user: UserInfo, attrs: Attributes) -> Decision:
        if self._always.intersection(user.groups):
            return Decision(True, "privileged group")
        key = (user.cache_key(), attrs)
        now = time.monotonic()
        hit = self._cache.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        spec: dict[str, object] = {
            "user": user.name,
            "groups": list(user.groups),
            "extra": {k: list(v) for k, v in user.extra.items()},
        }
        if user.uid:
            spec["uid"] = user.uid
        if attrs.is_resource:
            spec["resourceAttributes"] = {
                "verb": attrs.verb,
                "group": attrs.group,
                "version": attrs.version,
                "resource": attrs.resource,
                "subresource": attrs.subresource,
                "namespace": attrs.namespace,
                "name": attrs.name,
            }
        else:
            spec["nonResourceAttributes"] = {"path": attrs.path, "verb": attrs.verb}
        review = await self._client.request(
            "POST",
            "/apis/authorization.k8s.io/v1/subjectaccessreviews",
            body={"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview", "spec": spec},
        )
        status = review.get("status") or {}
        decision = Decision(
            bool(status.get("allowed")) and not status.get("denied"), str(status.get("reason") or "")
        )
        if len(self._cache) > 50000:
            self._cache = {k: v for k, v in self._cache.items() if v[0] > now}
        self._cache[key] = (now + (self._ttl if decision.allowed else self._deny_ttl), decision)
        return decision
