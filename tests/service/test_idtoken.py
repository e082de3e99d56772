"""ID token verification against the running dev issuer's real JWKS: every forgery is refused."""

from __future__ import annotations

import time
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from app.auth import devissuer
from app.auth.oidc import OIDCClient, OIDCError
from app.auth.sessions import SessionStore
from tests.service.conftest import Backend

pytestmark = pytest.mark.cluster


def _claims(iss: str, **over: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {"iss": iss, "aud": "kube-bind", "sub": "mallory", "iat": now, "exp": now + 300, "nonce": "n1"}
    base.update(over)
    return {k: v for k, v in base.items() if v is not None}


async def _real_key(backend: Backend) -> RSAKey:
    store: SessionStore = backend.app.state.kube_bind_service.store
    row = await store.signing_key(devissuer.PURPOSE, max_token_lifetime=devissuer.ID_TOKEN_LIFETIME)
    return RSAKey.import_key(row.private_pem, parameters={"kid": row.kid})


async def test_id_token_checks(backend: Backend) -> None:
    iss = f"{backend.url}/oidc"
    client = OIDCClient(issuer=iss, client_id="kube-bind", scopes=["openid"])
    key = await _real_key(backend)
    kid = key.kid

    def signed(claims: dict[str, Any], with_key: RSAKey = key, alg: str = "RS256") -> str:
        return jwt.encode({"alg": alg, "kid": kid}, claims, with_key)

    try:
        ok = await client.verify_id_token(signed(_claims(iss)), nonce="n1")
        assert ok.subject == "mallory" and ok.issuer == iss
        foreign = RSAKey.generate_key(2048)
        cases = {
            "bad signature": signed(_claims(iss), with_key=foreign),
            "wrong audience": signed(_claims(iss, aud="someone-else")),
            "expired": signed(_claims(iss, exp=int(time.time()) - 120, iat=int(time.time()) - 600)),
            "wrong issuer": signed(_claims("https://evil.example.com")),
            "missing nonce": signed(_claims(iss, nonce=None)),
        }
        for what, token in cases.items():
            with pytest.raises(OIDCError):
                await client.verify_id_token(token, nonce="n1")
                pytest.fail(f"{what} accepted")
        with pytest.raises(OIDCError):
            await client.verify_id_token(signed(_claims(iss)), nonce="other-nonce")
        unknown_kid = jwt.encode({"alg": "RS256", "kid": "not-a-key"}, _claims(iss), foreign)
        with pytest.raises(OIDCError, match="unknown key"):
            await client.verify_id_token(unknown_kid, nonce="n1")
        header, payload, _ = signed(_claims(iss)).split(".")
        with pytest.raises(OIDCError):  # alg none is never accepted
            await client.verify_id_token(f"{header}.{payload}.", nonce="n1")
    finally:
        await client.aclose()


async def test_discovery_issuer_mismatch_is_refused(backend: Backend) -> None:
    client = OIDCClient(
        issuer=f"{backend.url.replace('127.0.0.1', 'localhost')}/oidc",
        client_id="kube-bind",
        scopes=["openid"],
    )
    try:
        with pytest.raises(OIDCError, match="does not match"):
            await client.discovery()
    finally:
        await client.aclose()


async def test_dev_issuer_token_endpoint_enforces_pkce_and_single_use(backend: Backend) -> None:
    import httpx

    async with httpx.AsyncClient(base_url=backend.url, timeout=30) as http:
        r = await http.get(
            "/oidc/authorize",
            params={
                "client_id": "kube-bind",
                "redirect_uri": "http://evil.example.com/cb",
                "response_type": "code",
                "code_challenge": "x",
                "code_challenge_method": "S256",
            },
        )
        assert r.status_code == 400
        r = await http.get(
            "/oidc/authorize",
            params={
                "client_id": "kube-bind",
                "redirect_uri": f"{backend.url}/api/callback",
                "response_type": "code",
                "code_challenge": "x",
                "code_challenge_method": "plain",
            },
        )
        assert r.status_code == 400
        r = await http.post("/oidc/token", data={"grant_type": "authorization_code", "code": "nope"})
        assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
