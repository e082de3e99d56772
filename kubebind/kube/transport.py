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

from kubebind.kube import errors, http11
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
    """The connection pools of one (server, TLS identity), plus a count of requests using them
    so that a retired session closes when idle.

    HTTP/1.1 (the default) goes through :mod:`kubebind.kube.http11`: ``pool`` holds up to
    ``REQUEST_CONNECTIONS`` keep-alive connections for requests, each watch streams on a
    connection of its own. It costs a fifth of httpx's CPU per request, which is what bounds
    the konnector's throughput (figures in that module).

    With ``http2`` requests and watches go through httpx: ``http`` for requests, ``watches`` —
    a pool of its own — for the long-lived streams (httpcore scans every connection of a pool
    on each request, so watch connections parked in the request pool made each request cost
    milliseconds). A request whose HTTP/2 connection was ended by a GOAWAY is retried over
    HTTP/1.1 on ``pool``: httpcore (1.0.x) then raises ``RemoteProtocolError`` even for a stream
    whose response had already arrived, and kube-apiserver sends GOAWAY after every 401 — so
    without the retry an expired token would never surface as
    :class:`~kubebind.kube.errors.UnauthorizedError`.
    """

    def __init__(self, config: RestConfig, *, http2: bool, timeout: float) -> None:
        self.key = config.transport_key()
        self._config = config
        self._timeout = timeout
        self.http2 = http2
        self._pool: http11.ConnectionPool | None = None
        self._http: httpx.AsyncClient | None = None
        self._watches: httpx.AsyncClient | None = None
        self.active = 0
        self.retired = False
        self._closed = False

    def _client(self, max_connections: int | None) -> httpx.AsyncClient:
        config = self._config
        return httpx.AsyncClient(
            base_url=config.server,
            # A context per pool: httpcore sets ALPN protocols on the context it is given.
            verify=_ssl_context(config) if config.server.startswith("https") else True,
            http2=True,
            timeout=httpx.Timeout(self._timeout, connect=min(self._timeout, 10.0)),
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
        )

    @property
    def pool(self) -> http11.ConnectionPool:
        """The HTTP/1.1 pool (requests; watches get a connection each)."""
        if self._pool is None:
            config = self._config
            tls = _ssl_context(config) if config.server.startswith("https") else None
            self._pool = http11.ConnectionPool(
                http11.Endpoint.from_url(config.server, tls, config.tls_server_name),
                max_connections=REQUEST_CONNECTIONS,
                timeout=self._timeout,
                connect_timeout=min(self._timeout, 10.0),
            )
        return self._pool

    @property
    def http(self) -> httpx.AsyncClient:
        """The httpx HTTP/2 client for requests (``http2`` sessions only)."""
        if self._http is None:
            self._http = self._client(REQUEST_CONNECTIONS)
        return self._http

    @property
    def watches(self) -> httpx.AsyncClient:
        """The httpx pool for watch streams (no connection limit: several streams share an
        HTTP/2 connection until its stream limit)."""
        if self._watches is None:
            self._watches = self._client(None)
        return self._watches

    async def release(self) -> None:
        self.active -= 1
        if self.retired and self.active == 0:
            await self.aclose()

    async def aclose(self) -> None:
        self._closed = True
        if self._pool is not None:
            await self._pool.aclose()
        if self._http is not None:
            await self._http.aclose()
        if self._watches is not None:
            await self._watches.aclose()

    @property
    def is_closed(self) -> bool:
        return self._closed
