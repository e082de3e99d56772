"""Login through the embedded dev issuer: the real authorization-code + PKCE flow over HTTP."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.service.conftest import LOOPBACK, Backend, StartBackend, cli_login, login_flow

pytestmark = pytest.mark.cluster


async def test_cli_login_returns_a_working_token(backend: Backend) -> None:
    got = await cli_login(backend.url, cluster_id="c1")
    assert got["token_type"] == "Bearer"
    assert got["cluster_id"] == "c1"
    # expires_in is the truth: the session lifetime, not a promise the server does not keep.
    assert abs(int(got["expires_in"]) - backend.settings.session_lifetime_seconds) <= 2
    async with backend.client(got["access_token"]) as http:
        r = await http.get("/api/ping", params={"cluster_id": "c1"})
        assert r.status_code == 200 and r.text == "pong"
        templates = (await http.get("/api/templates")).json()
        assert templates["kind"] == "APIServiceExportTemplateList"
        assert "cowboys" in [t["metadata"]["name"] for t in templates["items"]]
        assert all(t["apiVersion"] == "kube-bind.io/v1alpha2" for t in templates["items"])
        collections = (await http.get("/api/collections")).json()
        assert [c["metadata"]["name"] for c in collections["items"]] == ["all"]


async def test_logout_revokes_the_token(backend: Backend) -> None:
    token = (await cli_login(backend.url))["access_token"]
    async with backend.client(token) as http:
        assert (await http.get("/api/ping")).status_code == 200
        r = await http.post("/api/logout")
        assert r.status_code == 200 and r.text == "logged out"
        r = await http.get("/api/ping")
        assert r.status_code == 401
        assert r.json()["code"] == "AUTHENTICATION_FAILED"


async def test_tampered_and_missing_tokens_are_rejected(backend: Backend) -> None:
    token = (await cli_login(backend.url))["access_token"]
    header, payload, sig = token.split(".")
    flipped = sig[:-4] + ("AAAA" if sig[-4:] != "AAAA" else "BBBB")
    async with backend.client() as http:
        assert (await http.get("/api/templates")).status_code == 401
        for bad in (f"{header}.{payload}.{flipped}", "garbage", f"{header}.{payload}."):
            r = await http.get("/api/templates", headers={"Authorization": f"Bearer {bad}"})
            assert r.status_code == 401, bad
            assert r.json()["kind"] == "Error"
        r = await http.get("/api/templates", headers={"Authorization": f"Basic {token}"})
        assert r.status_code == 401


async def test_token_expiry_is_enforced(start_backend: StartBackend) -> None:
    backend = await start_backend(session_lifetime_seconds=60)
    token = (await cli_login(backend.url))["access_token"]
    async with backend.client(token) as http:
        assert (await http.get("/api/ping")).status_code == 200
        backend.clock.offset = __import__("datetime").timedelta(seconds=61)
        r = await http.get("/api/ping")
        assert r.status_code == 401


async def test_replayed_state_is_rejected(backend: Backend) -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        r = await http.get(
            f"{backend.url}/api/authorize",
            params={"redirect_url": LOOPBACK, "session_id": "s1", "client_type": "cli"},
        )
        issuer_url = r.headers["location"]
        q = {k: v[0] for k, v in parse_qs(urlsplit(issuer_url).query).items()}
        assert q["code_challenge_method"] == "S256" and q["nonce"] and q["state"]
        form = {
            k: q[k]
            for k in (
                "client_id",
                "redirect_uri",
                "state",
                "nonce",
                "code_challenge",
                "code_challenge_method",
            )
        }
        r = await http.post(
            f"{backend.url}/oidc/authorize", data={**form, "username": "kube-bind", "password": "kube-bind"}
        )
        callback = r.headers["location"]
        first = await http.get(callback)
        assert first.status_code == 302 and "access_token=" in first.headers["location"]
        replay = await http.get(callback)
        assert replay.status_code == 400
        assert replay.json()["code"] == "BAD_REQUEST"
        # a made-up state is just as unknown
        r = await http.get(f"{backend.url}/api/callback", params={"code": "x", "state": "forged"})
        assert r.status_code == 400


@pytest.mark.parametrize(
    "redirect_url,client_type",
    [
        ("http://evil.example.com/callback", "cli"),
        ("https://127.0.0.1:4000/callback", "cli"),
        ("http://127.0.0.1/callback", "cli"),
        ("http://user@127.0.0.1:4000/callback", "cli"),
        ("http://10.0.0.1:4000/callback", "cli"),
        ("https://evil.example.com/", "ui"),
        ("//evil.example.com/", "ui"),
        ("javascript:alert(1)", "ui"),
    ],
)
async def test_foreign_redirect_url_is_rejected(
    backend: Backend, redirect_url: str, client_type: str
) -> None:
    async with backend.client() as http:
        r = await http.get(
            "/api/authorize",
            params={"redirect_url": redirect_url, "session_id": "s", "client_type": client_type},
        )
        assert r.status_code == 400, r.text
        assert r.json()["code"] == "BAD_REQUEST"


async def test_authorize_requires_parameters(backend: Backend) -> None:
    async with backend.client() as http:
        assert (await http.get("/api/authorize")).status_code == 400
        assert (await http.get("/api/authorize", params={"redirect_url": LOOPBACK})).status_code == 400
        r = await http.post(
            "/api/authorize", content=b"{not json", headers={"Content-Type": "application/json"}
        )
        assert r.status_code == 400


async def test_wrong_password_gets_no_code(backend: Backend) -> None:
    with pytest.raises(AssertionError):
        await login_flow(backend.url, password="wrong")


async def test_ui_login_sets_cookie_and_returns_to_own_page(backend: Backend) -> None:
    r = await login_flow(backend.url, client_type="ui", redirect_url="/?x=1", session_id="ui-1")
    assert r.status_code == 302
    assert r.headers["location"].startswith("/?x=1&session_id=ui-1")
    cookie = r.cookies.get("kube-bind")
    assert cookie
    set_cookie = r.headers["set-cookie"].lower()
    assert "httponly" in set_cookie and "samesite=lax" in set_cookie
    async with backend.client(cookies={"kube-bind": cookie}) as http:
        assert (await http.get("/api/ping")).status_code == 200


async def test_exports_document(backend: Backend) -> None:
    async with backend.client() as http:
        r = await http.get("/api/exports", params={"session_id": "s", "cluster_id": "c"})
        doc = r.json()
        assert doc["kind"] == "BindingProvider" and doc["apiVersion"] == "v1alpha2"
        url = doc["authenticationMethods"][0]["oauth2CodeGrant"]["authenticatedURL"]
        assert url.startswith(f"{backend.url}/api/authorize?")
        assert "session_id=s" in url and "cluster_id=c" in url
        r = await http.get("/exports", params={"a": "b"})
        assert r.status_code == 302 and r.headers["location"] == "/api/exports?a=b"
        spec = (await http.get("/openapi.json")).json()
        for path in ("/api/exports", "/api/authorize", "/api/callback", "/api/bind", "/api/templates"):
            assert path in spec["paths"], path
    _ = time
