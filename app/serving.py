"""Serving the app over TLS with uvicorn, exposing the client certificate to the ASGI app.

Why a protocol subclass: ASGI has no standard place for the TLS peer certificate, and the
front-proxy authenticator needs it. After the handshake uvicorn's protocol has the transport; we
read ``ssl_object.getpeercert(binary_form=True)`` once per connection and put it into every
request's scope as ``scope["extensions"]["tls"]["client_cert_der"]``.

The server asks for (but does not require) a client certificate, trusting the front-proxy CA and
the cluster's client CA for the handshake; ``app.auth.frontproxy`` re-verifies in Python against
the current bundle. Direct clients without a certificate use bearer tokens.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from app.settings import Settings


class PeerCertProtocol(HttpToolsProtocol):
    _peer_der: bytes | None = None

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        ssl_object = transport.get_extra_info("ssl_object")
        self._peer_der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._peer_der is not None:
            self.scope["extensions"] = {"tls": {"client_cert_der": self._peer_der}}


def ssl_context(settings: Settings, client_cas_pem: bytes) -> ssl.SSLContext:
    if settings.tls_cert_file is None or settings.tls_key_file is None:
        raise ValueError("TLS needs KUBE_BIND_TLS_CERT_FILE and KUBE_BIND_TLS_KEY_FILE")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(str(settings.tls_cert_file), str(settings.tls_key_file))
    if client_cas_pem.strip():
        ctx.load_verify_locations(cadata=client_cas_pem.decode())
        ctx.verify_mode = ssl.CERT_OPTIONAL
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


def build_server(
    app: Any, settings: Settings, ctx: ssl.SSLContext | None, *, port: int | None = None
) -> uvicorn.Server:
    config = uvicorn.Config(
        app,
        host=settings.bind_address,
        port=settings.port if port is None else port,
        http=PeerCertProtocol,
        lifespan="on",
        log_config=None,
        access_log=False,
        timeout_keep_alive=75,
        timeout_graceful_shutdown=5,
        ssl_context_factory=(lambda _config, _default: ctx) if ctx is not None else None,
    )
    return uvicorn.Server(config)


async def serve(server: uvicorn.Server, started: asyncio.Event | None = None) -> None:
    task = asyncio.create_task(server.serve(), name="uvicorn")
    if started is not None:
        while not server.started and not task.done():  # noqa: ASYNC110 - uvicorn exposes no event
            await asyncio.sleep(0.02)
        started.set()
    await task
