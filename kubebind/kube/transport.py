"""Transport plumbing of :class:`~kubebind.kube.client.ApiClient`: TLS, connection pools, query
parameters and error decoding — everything about *how* bytes move, nothing about resources.

Kept apart so the client and the watch read as what they do with the API, and so the HTTP/2
workaround below lives in one place.
"""

from __future__ import annotations

import os
import ssl
import tempfile
from collections.abc import Mapping
from pathlib import Path

import httpx
import orjson

from kubebind.kube import errors
from kubebind.kube.kubeconfig import RestConfig
from kubebind.kube.selectors import LabelSelector

__all__ = [
    "IDEMPOTENT",
    "MAX_RETRIES",
    "Selector",
    "Session",
    "decode_error",
    "field_selector_param",
    "query",
    "selector_param",
]

Selector = str | LabelSelector | Mapping[str, str]
"""A label selector: query-string syntax, a parsed selector, or ``{label: value}`` equality."""

MAX_RETRIES = 3
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS"})


def selector_param(selector: Selector | None) -> str | None:
    if selector is None:
        return None
    if isinstance(selector, str):
        return selector or None
    if isinstance(selector, LabelSelector):
        return str(selector) or None
    return str(LabelSelector.from_labels(selector)) or None


def field_selector_param(selector: str | Mapping[str, str] | None) -> str | None:
    if selector is None or isinstance(selector, str):
        return selector or None
    return ",".join(f"{k}={v}" for k, v in sorted(selector.items())) or None


def _ssl_context(config: RestConfig) -> ssl.SSLContext:
    if config.ca_data:
        ctx = ssl.create_default_context(cadata=config.ca_data.decode())
    else:
        ctx = ssl.create_default_context()
    if config.insecure_skip_tls_verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if config.client_cert_data and config.client_key_data:
        # ssl can only load a client identity from files: write them to a private temp dir that is
        # removed as soon as the context has read them.
        with tempfile.TemporaryDirectory(prefix="kubebind-tls-") as tmp:
            cert, key = Path(tmp, "tls.crt"), Path(tmp, "tls.key")
            for path, data in ((cert, config.client_cert_data), (key, config.client_key_data)):
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
            ctx.load_cert_chain(str(cert), str(key))
    return ctx


def _param(value: str | int | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def query(params: Mapping[str, str | int | bool | None] | None) -> dict[str, str]:
    """Query parameters as strings, dropping unset ones (booleans as ``true``/``false``)."""
    return {k: _param(v) for k, v in (params or {}).items() if v is not None}


def decode_error(code: int, content: bytes) -> errors.ApiError:
    """The :class:`~kubebind.kube.errors.ApiError` for a non-2xx answer."""
    try:
        body = orjson.loads(content) if content else None
    except orjson.JSONDecodeError:
        body = None
    text = content[:512].decode(errors="replace") if content else ""
    return errors.ApiError.from_response(code, body, fallback_message=text)


#: Connections per server in a client's request pool (watches have a pool of their own).
REQUEST_CONNECTIONS = 16


class Session:
    """One connection pool plus a count of requests using it, so a retired pool closes when idle.

    ``http`` speaks HTTP/2 when the server offers it. ``http1`` is an HTTP/1.1-only pool, created
    on first use, for retrying a request whose HTTP/2 connection was ended by a GOAWAY: httpcore
    (1.0.x) then raises ``RemoteProtocolError`` even for a stream whose response had already
    arrived, and kube-apiserver sends GOAWAY after every 401 — so without the retry an expired
    token would never surface as :class:`~kubebind.kube.errors.UnauthorizedError`.

    ``watches`` is a pool of its own for the long-lived watch streams. httpcore scans every
    connection of a pool on each request (and, for each idle one, every connection again: the
    keep-alive check is quadratic), so watch connections parked in the request pool made each
    request of a konnector with dozens of informers cost milliseconds of CPU; they also counted
    against the keep-alive limit, which closed idle request connections (a new TLS handshake per
    request). Requests keep a small pool: ``REQUEST_CONNECTIONS`` in flight per server, the rest
    wait for a free connection (kube-apiserver answers in milliseconds).
    """

    def __init__(self, config: RestConfig, *, http2: bool, timeout: float) -> None:
        self.key = config.transport_key()
        self._config = config
        self._timeout = timeout
        self._http2 = http2
        self.http = self._client(http2, REQUEST_CONNECTIONS)
        self._http1: httpx.AsyncClient | None = None if http2 else self.http
        self._watches: httpx.AsyncClient | None = None
        self.active = 0
        self.retired = False

    def _client(self, http2: bool, max_connections: int | None) -> httpx.AsyncClient:
        config = self._config
        return httpx.AsyncClient(
            base_url=config.server,
            # A context per pool: httpcore sets ALPN protocols on the context it is given.
            verify=_ssl_context(config) if config.server.startswith("https") else True,
            http2=http2,
            timeout=httpx.Timeout(self._timeout, connect=min(self._timeout, 10.0)),
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
        )

    @property
    def http1(self) -> httpx.AsyncClient:
        if self._http1 is None:
            self._http1 = self._client(False, REQUEST_CONNECTIONS)
        return self._http1

    @property
    def watches(self) -> httpx.AsyncClient:
        """The pool for watch streams (no connection limit: one per watch over HTTP/1.1)."""
        if self._watches is None:
            self._watches = self._client(self._http2, None)
        return self._watches

    async def release(self) -> None:
        self.active -= 1
        if self.retired and self.active == 0:
            await self.aclose()

    async def aclose(self) -> None:
        await self.http.aclose()
        if self._http1 is not None and self._http1 is not self.http:
            await self._http1.aclose()
        if self._watches is not None:
            await self._watches.aclose()

    @property
    def is_closed(self) -> bool:
        return self.http.is_closed
