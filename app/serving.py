"""Serving the app over TLS with uvicorn, exposing the client certificate to the ASGI app.

Responses leave in one write per event-loop iteration (:class:`CoalescingTransport`).

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
import datetime
import ipaddress
import ssl
from pathlib import Path
from typing import Any, cast

import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from app.settings import Settings

#: Writes larger than this are not held back for coalescing (no extra copy of large bodies).
COALESCE_LIMIT = 64 * 1024


class CoalescingTransport:
    """A transport wrapper: the writes of one event-loop iteration leave in one ``send``.

    uvicorn writes a response's status line and headers, then its body, as two writes; on TLS
    each becomes a record and a system call. The wrapper buffers writes and flushes them at the
    end of the current loop iteration (``call_soon``), so a response costs one. Nothing waits
    longer than that iteration; ``close`` flushes first; everything else is delegated.
    """

    def __init__(self, transport: Any, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []
        self._pending_size = 0
        self._scheduled = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return
        if self._pending_size + len(data) > COALESCE_LIMIT:
            self.flush()
            self._transport.write(data)
            return
        self._pending.append(bytes(data))
        self._pending_size += len(data)
        if not self._scheduled:
            self._scheduled = True
            self._loop.call_soon(self.flush)

    def writelines(self, chunks: Any) -> None:
        for chunk in chunks:
            self.write(chunk)

    def flush(self) -> None:
        self._scheduled = False
        if not self._pending:
            return
        data = self._pending[0] if len(self._pending) == 1 else b"".join(self._pending)
        self._pending.clear()
        self._pending_size = 0
        if not self._transport.is_closing():
            self._transport.write(data)

    def get_write_buffer_size(self) -> int:
        return int(self._transport.get_write_buffer_size()) + self._pending_size

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def abort(self) -> None:
        self._pending.clear()
        self._pending_size = 0
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class PeerCertProtocol(HttpToolsProtocol):
    _peer_der: bytes | None = None

    def connection_made(self, transport: Any) -> None:
        super().connection_made(
            cast(asyncio.Transport, CoalescingTransport(transport, asyncio.get_running_loop()))
        )
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


def self_signed(settings: Settings, directory: Path) -> tuple[Path, Path]:
    """A self-signed serving certificate for ``<service>.<namespace>.svc`` (and localhost).

    Used when no certificate is configured, as kube-apiserver's own aggregated servers do: the
    certificate doubles as the APIService ``caBundle``. Production deployments mount a real one.
    """
    key = ec.generate_private_key(ec.SECP256R1())
    service = f"{settings.service_name}.{settings.service_namespace}.svc"
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, service)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName(service),
                    x509.DNSName(f"{service}.cluster.local"),
                    x509.DNSName("localhost"),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                ]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = directory / "serving.crt", directory / "serving.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.touch(mode=0o600)
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path
