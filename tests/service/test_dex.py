"""Login against a real external IdP: Dex (built from Go modules) with a static user.

Dex runs as a subprocess on a free loopback port with in-memory storage, one static client (the
backend, with a secret) and one static password user. The backend is configured exactly as for a
production issuer: discovery, PKCE, nonce, client secret, ID token verified against Dex's JWKS,
allowed users.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import pytest
import yaml

from kubebind.localcluster.build import BuildError, require_binaries
from kubebind.localcluster.ports import free_port
from kubebind.localcluster.process import ManagedProcess
from tests.service.conftest import LOOPBACK, StartBackend
from tests.service.helpers import bind

pytestmark = pytest.mark.cluster

USER_ID = "08a8684b-db88-4b73-90a9-3cd1661f5466"
EMAIL = "admin@example.com"
# bcrypt("password"), the hash of Dex's own example configuration
PASSWORD_HASH = "$2a$10$2b2cU8CPhOTaGrs1HRQuAueS7JTT5ZHsHSzYiFPm1leZck7Mc8T4W"
CLIENT_SECRET = "dex-test-secret-0123456789"


def dex_subject(user_id: str, connector: str = "local") -> str:
    """Dex's ``sub``: raw-URL-base64 of the protobuf ``{user_id: 1, conn_id: 2}``."""

    def field(tag: int, value: str) -> bytes:
        data = value.encode()
        return bytes([tag << 3 | 2, len(data)]) + data

    return base64.urlsafe_b64encode(field(1, user_id) + field(2, connector)).decode().rstrip("=")


class _Form(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "form" and not self.action:
            self.action = dict(attrs).get("action") or ""


@pytest.fixture
async def dex(tmp_path: Path) -> AsyncIterator[str]:
    try:
        binary = require_binaries(["dex"])["dex"]
    except BuildError as exc:
        pytest.fail(str(exc), pytrace=False)
    port = free_port()
    issuer = f"http://127.0.0.1:{port}/dex"
    backend_port = free_port()
    config = {
        "issuer": issuer,
        "storage": {"type": "memory"},
        "web": {"http": f"127.0.0.1:{port}"},
        "oauth2": {"skipApprovalScreen": True, "responseTypes": ["code"]},
        "enablePasswordDB": True,
        "staticClients": [
            {
                "id": "kube-bind",
                "name": "kube-bind backend",
                "secret": CLIENT_SECRET,
                "redirectURIs": [f"http://127.0.0.1:{backend_port}/api/callback"],
            }
        ],
        "staticPasswords": [{"email": EMAIL, "hash": PASSWORD_HASH, "username": "admin", "userID": USER_ID}],
        "logger": {"level": "info"},
    }
    (tmp_path / "dex.yaml").write_text(yaml.safe_dump(config))
    proc = ManagedProcess(
        "dex", [str(binary), "serve", str(tmp_path / "dex.yaml")], tmp_path / "dex.log"
    ).start()
    try:
        async with httpx.AsyncClient() as http:
            for _ in range(200):
                proc.check_alive()
                try:
                    if (await http.get(f"{issuer}/.well-known/openid-configuration")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.05)
            else:
                pytest.fail(f"Dex did not become ready:\n{proc.log_tail()}")
        yield f"{issuer}|{backend_port}"
    finally:
        await asyncio.to_thread(proc.stop)


async def test_login_and_bind_with_dex(dex: str, start_backend: StartBackend) -> None:
    issuer, backend_port = dex.split("|")
    subject = dex_subject(USER_ID)
    backend = await start_backend(
        port=int(backend_port),
        oidc_issuer_url=issuer,
        oidc_client_id="kube-bind",
        oidc_client_secret=CLIENT_SECRET,
        oidc_scopes=["openid", "email", "profile"],
        oidc_allowed_users=[subject],
    )
    async with httpx.AsyncClient(timeout=30) as http:
        r = await http.get(
            f"{backend.url}/api/authorize",
            params={"redirect_url": LOOPBACK, "session_id": "dex-1", "client_type": "cli"},
        )
        assert r.status_code == 302 and r.headers["location"].startswith(f"{issuer}/auth?")
        url = r.headers["location"]
        # follow Dex until it shows the password form
        for _ in range(10):
            r = await http.get(url)
            if r.status_code in (302, 303):
                url = urljoin(url, r.headers["location"])
                continue
            break
        assert r.status_code == 200, r.text
        form = _Form()
        form.feed(r.text)
        r = await http.post(urljoin(url, form.action or url), data={"login": EMAIL, "password": "password"})
        for _ in range(10):
            assert r.status_code in (302, 303), r.text[:500]
            location = urljoin(str(r.url), r.headers["location"])
            if location.startswith(LOOPBACK):
                break
            r = await http.get(location)
        else:
            pytest.fail("never redirected to the CLI loopback")
    got = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    assert "error" not in got, got
    assert got["token_type"] == "Bearer"
    token = got["access_token"]
    bound = await bind(backend, token)
    assert bound.response["authentication"]["oauth2CodeGrant"]["id"] == f"{issuer}/{subject}"
    await bound.client.aclose()


async def test_dex_user_outside_the_allowed_list_is_refused(dex: str, start_backend: StartBackend) -> None:
    issuer, backend_port = dex.split("|")
    backend = await start_backend(
        port=int(backend_port),
        oidc_issuer_url=issuer,
        oidc_client_secret=CLIENT_SECRET,
        oidc_scopes=["openid", "email"],
        oidc_allowed_users=["somebody-else"],
    )
    async with httpx.AsyncClient(timeout=30, follow_redirects=False) as http:
        r = await http.get(
            f"{backend.url}/api/authorize",
            params={"redirect_url": LOOPBACK, "session_id": "dex-2", "client_type": "cli"},
        )
        url = r.headers["location"]
        for _ in range(10):
            r = await http.get(url)
            if r.status_code in (302, 303):
                url = urljoin(url, r.headers["location"])
                continue
            break
        form = _Form()
        form.feed(r.text)
        r = await http.post(urljoin(url, form.action or url), data={"login": EMAIL, "password": "password"})
        location = ""
        for _ in range(10):
            location = urljoin(str(r.url), r.headers["location"])
            if location.startswith(LOOPBACK):
                break
            r = await http.get(location)
    got = parse_qs(urlsplit(location).query)
    assert got["error"] == ["access_denied"] and "access_token" not in got
