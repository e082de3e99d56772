"""The catalog page in headless Chromium: login → catalog → "Bind" → CLI callback received."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from kubebind.apis import naming
from kubebind.localcluster.ports import free_port
from tests.service.conftest import Backend

pytestmark = [pytest.mark.cluster, pytest.mark.browser]

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


class LoopbackCallback:
    """The CLI's ``127.0.0.1:<port>/callback`` server: records the first request's query."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received: asyncio.Future[dict[str, str]] = asyncio.get_running_loop().create_future()
        self.server: asyncio.Server | None = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        line = (await reader.readline()).decode()
        while (await reader.readline()) not in (b"\r\n", b""):
            pass
        target = line.split(" ")[1] if " " in line else "/"
        if not self.received.done():
            self.received.set_result({k: v[0] for k, v in parse_qs(urlsplit(target).query).items()})
        body = b"<html><body id='done'>You can close this window.</body></html>"
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s"
            % (len(body), body)
        )
        await writer.drain()
        writer.close()

    async def __aenter__(self) -> LoopbackCallback:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()


async def test_browser_login_catalog_bind_callback(backend: Backend) -> None:
    if not await asyncio.to_thread(CHROMIUM.is_file):
        pytest.fail("Debian chromium is required: `apt-get install chromium` (never `playwright install`)")
    from playwright.async_api import async_playwright

    consumer_id = str(uuid.uuid4())
    session_id = "cli-" + uuid.uuid4().hex[:8]
    async with LoopbackCallback() as cb, async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = await browser.new_page()
            page.set_default_timeout(20_000)
            redirect = f"http://127.0.0.1:{cb.port}/callback"
            await page.goto(
                f"{backend.url}/?session_id={session_id}&redirect_url={redirect}&consumer_id={consumer_id}"
            )
            await page.click("#login")
            await page.fill("#username", "kube-bind")
            await page.fill("#password", "kube-bind")
            await page.click("#login")
            await page.wait_for_selector("article.template[data-template=cowboys]")
            text = await page.inner_text("main")
            assert "cowboys.wildwest.dev" in text and "secrets" in text  # resources and permission claims
            assert "sheriffs" in text and "Collections" in text
            assert "has not bound anything yet" in text
            await page.click("#bind-cowboys")
            got = await asyncio.wait_for(cb.received, 30)
            await page.wait_for_selector("#done")
            # connection status shows the binding afterwards
            await page.goto(f"{backend.url}/?consumer_id={consumer_id}")
            assert "Provider namespace" in await page.inner_text("#status")
        finally:
            await browser.close()
    assert got["session_id"] == session_id and got["consumer_id"] == consumer_id
    raw = got["binding_response"]
    assert "+" not in raw and "/" not in raw  # URL-safe alphabet, as the Go CLI decodes
    response = json.loads(base64.urlsafe_b64decode(raw))
    assert response["kind"] == "BindingResponse"
    assert response["authentication"]["oauth2CodeGrant"]["sid"]
    kubeconfig = yaml.safe_load(base64.b64decode(response["kubeconfig"]))
    ns = kubeconfig["contexts"][0]["context"]["namespace"]
    assert ns == naming.cluster_namespace_name(consumer_id, backend.settings.namespace_prefix)
    assert response["requests"][0]["metadata"]["name"] == "cowboys"


async def test_page_refuses_foreign_cli_callback(backend: Backend) -> None:
    import httpx

    async with httpx.AsyncClient(base_url=backend.url) as http:
        r = await http.get("/", params={"session_id": "s", "redirect_url": "http://evil.example.com/cb"})
    assert r.status_code == 200 and "Refusing the CLI callback" in r.text
    assert "evil.example.com" not in r.text.split("Refusing")[0]
