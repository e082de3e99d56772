"""Bearer-token authentication of direct requests with a TokenReview against kube-apiserver.

Requests that reach the backend without the front-proxy certificate (a client talking to the
backend Service directly) are never trusted on their headers: their bearer token is reviewed by
the provider's kube-apiserver. Results are cached briefly by token hash (positive 10 s, negative
2 s) so a client's burst costs one review.
"""

from __future__ import annotations

import hashlib
import time

from app.auth.user import UserInfo
from kubebind.kube.client import ApiClient


class TokenAuthenticator:
    def __init__(self, client: ApiClient, *, ttl: float = 10.0, negative_ttl: float = 2.0) -> None:
        self._client = client
        self._ttl = ttl
        self._negative_ttl = negative_ttl
        self._cache: dict[str, tuple[float, UserInfo | None]] = {}

    async def authenticate(self, token: str) -> UserInfo | None:
        key = hashlib.sha256(token.encode()).hexdigest()
        now = time.monotonic()
        hit = self._cache.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        review = await self._client.request(
            "POST",
            "/apis/authentication.k8s.io/v1/tokenreviews",
            body={
                "apiVersion": "authentication.k8s.io/v1",
                "kind": "TokenReview",
                "spec": {"token": token},
            },
        )
        status = review.get("status") or {}
        user: UserInfo | None = None
        if status.get("authenticated"):
            u = status.get("user") or {}
            user = UserInfo(
                name=str(u.get("username") or ""),
                uid=str(u.get("uid") or ""),
                groups=tuple(u.get("groups") or ()),
                extra={k: tuple(v) for k, v in (u.get("extra") or {}).items()},
                via="token",
            )
        if len(self._cache) > 10000:
            self._cache = {k: v for k, v in self._cache.items() if v[0] > now}
        self._cache[key] = (now + (self._ttl if user else self._negative_ttl), user)
        return user
