"""OIDC relying party: authorization code + PKCE (S256), ID token verified against the JWKS.

Every check the Go backend skips (reference §3.2, §10.3.3) is done here:

* discovery document's ``issuer`` must equal the configured issuer;
* the authorize request carries ``state`` (a random key of a server-side record), ``nonce`` and a
  PKCE S256 challenge; the verifier never leaves the database until the token exchange;
* the ID token's signature is verified against the issuer's JWKS (re-fetched once when the
  ``kid`` is unknown, for key rotation), and ``iss``, ``aud`` (our client id), ``exp``, ``iat``
  and ``nonce`` are checked; ``alg: none`` and HMAC algorithms are refused.

Built on authlib: ``authlib.oauth2.rfc7636`` for the challenge, ``authlib.common.urls`` for the
authorize URL, and joserfc (authlib's JOSE successor, which authlib now points to in place of its
deprecated ``authlib.jose``) for JWT/JWK handling; the HTTP calls use httpx.
"""

from __future__ import annotations

import logging
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

__all__ = ["IDTokenClaims", "OIDCClient", "OIDCError"]

log = logging.getLogger(__name__)

_DISCOVERY_TTL = 300.0
_ALLOWED_ALGS = ["RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512"]


class OIDCError(Exception):
    """Login failed: the IdP, its token, or the token's claims are not acceptable."""


@dataclass(frozen=True)
class IDTokenClaims:
    issuer: str
    subject: str
    groups: list[str]
    email: str
    raw: dict[str, Any]


class OIDCClient:
    """One relying-party configuration for one issuer."""

    def __init__(
        self,
        *,
        issuer: str,
        client_id: str,
        client_secret: str = "",
        scopes: list[str],
        groups_claim: str = "groups",
        ca_file: str = "",
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        timeout: float = 10.0,
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret
        self.scopes = scopes
        self.groups_claim = groups_claim
        self.clock = clock
        verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=ca_file) if ca_file else True
        self._http = httpx.AsyncClient(verify=verify, timeout=timeout, follow_redirects=False)
        self._discovery: dict[str, Any] | None = None
        self._discovery_at = 0.0
        self._jwks: dict[str, Any] | None = None

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _get_json(self, url: str) -> dict[str, Any]:
        try:
            response = await self._http.get(url, headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise OIDCError(f"cannot reach the OIDC issuer at {url}: {exc}") from exc
        if response.status_code != 200:
            raise OIDCError(f"OIDC issuer answered {response.status_code} for {url}")
        body = response.json()
        if not isinstance(body, dict):
            raise OIDCError(f"OIDC issuer sent a non-object document from {url}")
        return body

    async def discovery(self) -> dict[str, Any]:
        if self._discovery is None or time.monotonic() - self._discovery_at > _DISCOVERY_TTL:
            doc = await self._get_json(f"{self.issuer}/.well-known/openid-configuration")
            if str(doc.get("issuer", "")).rstrip("/") != self.issuer:
                raise OIDCError(f"discovery issuer {doc.get('issuer')!r} does not match {self.issuer!r}")
            for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
                if not doc.get(key):
                    raise OIDCError(f"discovery document lacks {key}")
            self._discovery, self._discovery_at = doc, time.monotonic()
        return self._discovery

    async def authorization_url(
        self, *, redirect_uri: str, state: str, nonce: str, code_verifier: str
    ) -> str:
        doc = await self.discovery()
        params = [
            ("response_type", "code"),
            ("client_id", self.client_id),
            ("redirect_uri", redirect_uri),
            ("scope", " ".join(self.scopes)),
            ("state", state),
            ("nonce", nonce),
            ("code_challenge", create_s256_code_challenge(code_verifier)),
            ("code_challenge_method", "S256"),
        ]
        url: str = add_params_to_uri(str(doc["authorization_endpoint"]), params)
        return url

    async def exchange(
        self, *, code: str, redirect_uri: str, code_verifier: str, nonce: str
    ) -> IDTokenClaims:
        """Redeem ``code`` at the token endpoint and verify the returned ID token."""
        doc = await self.discovery()
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": code_verifier,
            "client_id": self.client_id,
        }
        headers = {"Accept": "application/json"}
        if self.client_secret:
            headers["Authorization"] = httpx.BasicAuth(self.client_id, self.client_secret)._auth_header
        try:
            response = await self._http.post(str(doc["token_endpoint"]), data=form, headers=headers)
        except httpx.HTTPError as exc:
            raise OIDCError(f"token endpoint unreachable: {exc}") from exc
        if response.status_code != 200:
            raise OIDCError(
                f"token endpoint refused the code ({response.status_code}): {response.text[:200]}"
            )
        body = response.json()
        id_token = body.get("id_token") if isinstance(body, dict) else None
        if not id_token:
            raise OIDCError("token response has no id_token (is the 'openid' scope allowed?)")
        return await self.verify_id_token(str(id_token), nonce=nonce)

    async def _keys(self, *, refresh: bool) -> KeySet:
        if self._jwks is None or refresh:
            doc = await self.discovery()
            self._jwks = await self._get_json(str(doc["jwks_uri"]))
        try:
            return KeySet.import_key_set(self._jwks)  # type: ignore[arg-type]
        except (JoseError, ValueError, KeyError) as exc:
            raise OIDCError(f"issuer JWKS is not usable: {exc}") from exc

    async def verify_id_token(self, token: str, *, nonce: str) -> IDTokenClaims:
        decoded = None
        for refresh in (False, True):
            try:
                decoded = jwt.decode(token, await self._keys(refresh=refresh), algorithms=_ALLOWED_ALGS)
                break
            except InvalidKeyIdError as exc:  # unknown kid: the IdP may have rotated its keys
                if refresh:
                    raise OIDCError(f"ID token signed with an unknown key: {exc}") from exc
            except (JoseError, ValueError) as exc:
                raise OIDCError(f"ID token rejected: {exc}") from exc
        assert decoded is not None
        claims = decoded.claims
        registry = jwt.JWTClaimsRegistry(
            now=int(self.clock().timestamp()),
            leeway=30,
            iss={"essential": True, "value": self.issuer},
            aud={"essential": True, "value": self.client_id},
            sub={"essential": True},
            exp={"essential": True},
            iat={"essential": True},
            nonce={"essential": True, "value": nonce},
        )
        try:
            registry.validate(claims)
        except JoseError as exc:
            raise OIDCError(f"ID token rejected: {exc}") from exc
        aud = claims.get("aud")
        if isinstance(aud, list) and len(aud) > 1 and claims.get("azp") not in (None, self.client_id):
            raise OIDCError("ID token authorized party is not this client")
        groups = claims.get(self.groups_claim) or []
        if isinstance(groups, str):
            groups = [groups]
        return IDTokenClaims(
            issuer=str(claims["iss"]),
            subject=str(claims["sub"]),
            groups=[str(g) for g in groups],
            email=str(claims.get("email") or ""),
            raw=dict(claims),
        )
