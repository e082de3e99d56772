"""The CLI bearer token: an RS256 JWT naming a database session (reference §3.4, fixed).

Differences from the Go backend, on purpose: the signing key lives in the database (every replica
verifies every token, restarts do not log users out); the token's ``exp`` is the session's expiry,
so the ``expires_in`` the CLI is told is the truth; and the session must still exist and not be
revoked, so logout ends the token at once. The format is opaque to the CLI (reference §12.C).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, RSAKey

from app.auth.sessions import SessionStore
from app.auth.sessions_rows import SessionRow, SigningKeyRow

__all__ = ["BEARER_AUDIENCE", "TokenError", "TokenIssuer", "public_jwks", "sign_jwt"]

BEARER_ISSUER = "kube-bind-backend"
BEARER_AUDIENCE = "kube-bind-cli"
_PURPOSE = "cli-bearer"


class TokenError(Exception):
    """The token is malformed, badly signed, expired, or its session is gone."""


def sign_jwt(key: SigningKeyRow, claims: dict[str, Any]) -> str:
    header = {"alg": "RS256", "typ": "JWT", "kid": key.kid}
    return jwt.encode(header, claims, RSAKey.import_key(key.private_pem))


def public_jwks(keys: list[SigningKeyRow]) -> dict[str, Any]:
    out = []
    for key in keys:
        public = dict(RSAKey.import_key(key.private_pem).as_dict(private=False))
        public.update(kid=key.kid, use="sig", alg="RS256")
        out.append(public)
    return {"keys": out}


@dataclass(frozen=True)
class BearerIdentity:
    session: SessionRow
    claims: dict[str, Any]


class TokenIssuer:
    def __init__(
        self, store: SessionStore, *, max_lifetime: timedelta, clock: Callable[[], datetime]
    ) -> None:
        self.store = store
        self.max_lifetime = max_lifetime
        self.clock = clock

    async def issue(self, session: SessionRow) -> tuple[str, int]:
        """A token for ``session`` and its lifetime in seconds (what ``expires_in`` must say)."""
        key = await self.store.signing_key(_PURPOSE, max_token_lifetime=self.max_lifetime)
        now = int(self.clock().timestamp())
        exp = int(session.expires_at.timestamp())
        claims = {
            "iss": BEARER_ISSUER,
            "aud": BEARER_AUDIENCE,
            "sub": session.subject,
            "oidc_iss": session.issuer,
            "sid": session.id,
            "cid": session.cluster_id,
            "groups": list(session.groups),
            "iat": now,
            "nbf": now,
            "exp": exp,
        }
        return sign_jwt(key, claims), max(exp - now, 0)

    async def verify(self, token: str) -> BearerIdentity:
        keys = await self.store.verification_keys(_PURPOSE)
        if not keys:
            raise TokenError("no signing keys: token cannot be valid")
        registry = jwt.JWTClaimsRegistry(
            now=int(self.clock().timestamp()),
            leeway=0,
            iss={"essential": True, "value": BEARER_ISSUER},
            aud={"essential": True, "value": BEARER_AUDIENCE},
            sid={"essential": True},
            sub={"essential": True},
            exp={"essential": True},
        )
        try:
            key_set = KeySet.import_key_set(public_jwks(keys))  # type: ignore[arg-type]
            decoded = jwt.decode(token, key_set, algorithms=["RS256"])
            registry.validate(decoded.claims)
            claims = decoded.claims
        except (JoseError, ValueError) as exc:
            raise TokenError(f"invalid bearer token: {exc}") from exc
        session = await self.store.get_session(str(claims["sid"]))
        if session is None:
            raise TokenError("session expired or logged out")
        return BearerIdentity(session=session, claims=dict(claims))
