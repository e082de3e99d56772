"""A lean HTTP/1.1 client on asyncio streams: the default transport of
:class:`~kubebind.kube.client.ApiClient` (HTTP/2 goes through httpx, see :mod:`.transport`).

Why our own: the konnector is CPU-bound on request overhead, not on the network. Measured on
this project's CI machine against a local kube-apiserver (``GET`` of one namespace, TLS,
keep-alive, sequential): httpx/httpcore 1.5 to 1.6 ms of CPU per request, aiohttp 0.46 ms, this
module 0.25 to 0.3 ms. The API server needs very little of HTTP/1.1: keep-alive, ``Content-Length``
and chunked bodies, no redirects, no cookies, no compression (we never ask for it).

* :class:`ConnectionPool` — up to ``max_connections`` keep-alive connections to one server;
  :meth:`ConnectionPool.request` sends one request and reads the whole answer,
  :meth:`ConnectionPool.stream` opens a dedicated connection for a long streaming answer
  (a watch) whose lines are read with :meth:`Stream.lines` and which :meth:`Stream.abort` ends
  at once from any task of the loop.
* Failures raise httpx's exception types (``ConnectError``, ``WriteError``, ``ReadError``,
  ``RemoteProtocolError``, ``*Timeout``) so callers handle both transports alike: a failed
  write means the request never reached the server whole (safe to repeat); a read failure
  after a complete write may have been processed.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from urllib.parse import quote, urlencode, urlsplit

import httpx

__all__ = ["ConnectionPool", "Endpoint", "Response", "Stream"]

#: An idle keep-alive connection older than this is closed instead of reused (kube-apiserver
#: keeps idle connections far longer; this only keeps us clear of middleboxes' timeouts).
IDLE_EXPIRY = 30.0
_MAX_HEAD = 64 * 1024
_READ_SIZE = 64 * 1024
_NO_BODY_STATUS = (204, 304)


@dataclass(frozen=True)
class Endpoint:
    """Where to connect: host, port, TLS context (``None`` for plain HTTP) and path prefix."""

    host: str
    port: int
    tls: ssl.SSLContext | None
    server_hostname: str | None
    base_path: str

    @classmethod
    def from_url(cls, url: str, tls: ssl.SSLContext | None, server_hostname: str | None = None) -> Endpoint:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"unsupported server URL {url!r}")
        https = parts.scheme == "https"
        return cls(
            host=parts.hostname,
            port=parts.port or (443 if https else 80),
            tls=tls if https else None,
            server_hostname=(server_hostname or parts.hostname) if https else None,
            base_path=parts.path.rstrip("/"),
        )

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.tls is not None else 80
        return host if self.port == default else f"{host}:{self.port}"

    def target(self, path: str, params: Mapping[str, str] | None) -> str:
        target = quote(self.base_path + path, safe="/:@!$&'()*+,;=-._~%")
        return f"{target}?{urlencode(params)}" if params else target


@dataclass(frozen=True)
class Response:
    """A complete answer: status, headers (lower-case names) and body."""

    status_code: int
    headers: Mapping[str, str]
    content: bytes

    @property
    def is_success(self) -> bool:
        return 200 <= self.status_code < 300


class _Closed(Exception):
    """The peer closed the connection (EOF) where more bytes were due."""


class _Connection:
    __slots__ = ("idle_since", "reader", "requests", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.idle_since = time.monotonic()
        self.requests = 0

    def reusable(self, now: float) -> bool:
        return (
            not self.writer.is_closing()
            and not self.reader.at_eof()
            and not self.reader._buffer  # type: ignore[attr-defined]  # bytes nobody asked for
            and now - self.idle_since < IDLE_EXPIRY
        )

    def close(self) -> None:
        transport = self.writer.transport
        # abort, not close: no TLS close_notify round trip and no waiting on a dead peer.
        transport.abort()

    async def send(self, head: bytes, content: bytes | None) -> None:
        self.writer.write(head + content if content else head)
        await self.writer.drain()

    async def read_head(self) -> tuple[int, dict[str, str]]:
        while True:
            try:
                raw = await self.reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError as exc:
                raise _Closed("connection closed before a response") from exc
            except asyncio.LimitOverrunError as exc:
                raise httpx.RemoteProtocolError("response head too large") from exc
            lines = raw.decode("latin-1").split("\r\n")
            status_line = lines[0].split(" ", 2)
            if len(status_line) < 2 or not status_line[0].startswith("HTTP/1."):
                raise httpx.RemoteProtocolError(f"malformed status line {lines[0][:80]!r}")
            try:
                status = int(status_line[1])
            except ValueError as exc:
                raise httpx.RemoteProtocolError(f"malformed status line {lines[0][:80]!r}") from exc
            headers: dict[str, str] = {}
            for line in lines[1:]:
                if not line:
                    continue
                name, sep, value = line.partition(":")
                if not sep:
                    raise httpx.RemoteProtocolError(f"malformed header line {line[:80]!r}")
                name = name.strip().lower()
                value = value.strip()
                headers[name] = f"{headers[name]}, {value}" if name in headers else value
            if 100 <= status < 200 and status != 101:
                continue  # interim answer (100 Continue): the real one follows
            return status, headers

    async def chunks(
        self, method: str, status: int, headers: Mapping[str, str]
    ) -> AsyncGenerator[bytes, None]:
        """The body, as it arrives."""
        if method == "HEAD" or status in _NO_BODY_STATUS:
            return
        reader = self.reader
        if "chunked" in headers.get("transfer-encoding", "").lower():
            while True:
                try:
                    size_line = await reader.readuntil(b"\r\n")
                    size = int(size_line.split(b";", 1)[0].strip(), 16)
                    if size == 0:
                        # trailers (none from kube-apiserver), then the final CRLF
                        while (await reader.readuntil(b"\r\n")) != b"\r\n":
                            pass
                        return
                    data = await reader.readexactly(size + 2)
                except asyncio.IncompleteReadError as exc:
                    raise _Closed("connection closed inside a chunked body") from exc
                except (ValueError, asyncio.LimitOverrunError) as exc:
                    raise httpx.RemoteProtocolError("malformed chunked body") from exc
                yield data[:-2]
        elif "content-length" in headers:
            try:
                remaining = int(headers["content-length"])
            except ValueError as exc:
                raise httpx.RemoteProtocolError("malformed Content-Length") from exc
            while remaining > 0:
                data = await reader.read(min(remaining, _READ_SIZE))
                if not data:
                    raise _Closed("connection closed inside a body")
                remaining -= len(data)
                yield data
        else:  # delimited by the end of the connection
            while data := await reader.read(_READ_SIZE):
                yield data

    async def read_body(self, method: str, status: int, headers: Mapping[str, str]) -> bytes:
        if method != "HEAD" and status not in _NO_BODY_STATUS and "content-length" in headers:
            # the common case in one read call
            try:
                return await self.reader.readexactly(int(headers["content-length"]))
            except asyncio.IncompleteReadError as exc:
                raise _Closed("connection closed inside a body") from exc
            except ValueError as exc:
                raise httpx.RemoteProtocolError("malformed Content-Length") from exc
        return b"".join([chunk async for chunk in self.chunks(method, status, headers)])


def _keep_alive(headers: Mapping[str, str]) -> bool:
    if "close" in headers.get("connection", "").lower():
        return False
    return "content-length" in headers or "chunked" in headers.get("transfer-encoding", "").lower()


def _head(
    endpoint: Endpoint, method: str, target: str, headers: Mapping[str, str], length: int | None
) -> bytes:
    lines = [f"{method} {target} HTTP/1.1", f"Host: {endpoint.host_header}"]
    for name, value in headers.items():
        if "\r" in value or "\n" in value or "\r" in name or "\n" in name:
            raise ValueError(f"header {name!r} contains a line break")
        lines.append(f"{name}: {value}")
    if length is not None:
        lines.append(f"Content-Length: {length}")
    lines.append("\r\n")
    return "\r\n".join(lines).encode("latin-1")


class Stream:
    """A streaming answer on its own connection (a watch). Iterate :meth:`lines`; :meth:`abort`
    ends it immediately (a pending read then ends the iteration); :meth:`aclose` when done."""

    def __init__(
        self,
        connection: _Connection,
        method: str,
        status_code: int,
        headers: dict[str, str],
        read_timeout: float | None,
        on_close: Callable[[_Connection], None],
    ) -> None:
        self._connection = connection
        self._on_close = on_close
        self._method = method
        self.status_code = status_code
        self.headers = headers
        self._read_timeout = read_timeout
        self.aborted = False

    @property
    def is_success(self) -> bool:
        return 200 <= self.status_code < 300

    async def read(self) -> bytes:
        """The whole body (for an error answer)."""
        try:
            async with asyncio.timeout(self._read_timeout):
                return await self._connection.read_body(self._method, self.status_code, self.headers)
        except _Closed as exc:
            raise httpx.ReadError(str(exc)) from exc
        except TimeoutError as exc:
            raise httpx.ReadTimeout("timed out reading the response") from exc

    async def lines(self) -> AsyncIterator[bytes]:
        """Non-empty lines of the body, without line ends. Ends when the server ends the body or
        :meth:`abort` is called; an abrupt end of the connection raises ``RemoteProtocolError``
        unless the stream was aborted."""
        buffer = b""
        chunks = self._connection.chunks(self._method, self.status_code, self.headers)
        timeout = self._read_timeout
        try:
            while True:
                try:
                    async with asyncio.timeout(timeout):
                        chunk = await anext(chunks)
                except StopAsyncIteration:
                    break
                except _Closed as exc:
                    if self.aborted:
                        return
                    raise httpx.RemoteProtocolError(str(exc)) from exc
                except OSError as exc:  # ssl.SSLError is an OSError
                    if self.aborted:
                        return
                    raise httpx.ReadError(str(exc) or type(exc).__name__) from exc
                except TimeoutError as exc:
                    raise httpx.ReadTimeout("no data on the stream within the read timeout") from exc
                if self.aborted:
                    return
                buffer += chunk
                if b"\n" not in chunk:
                    continue
                *complete, buffer = buffer.split(b"\n")
                for line in complete:
                    if line.strip():
                        yield line
            if buffer.strip() and not self.aborted:
                yield buffer
        finally:
            await chunks.aclose()

    def abort(self) -> None:
        self.aborted = True
        self._connection.close()

    async def aclose(self) -> None:
        self._connection.close()
        self._on_close(self._connection)


class ConnectionPool:
    """Keep-alive HTTP/1.1 connections to one :class:`Endpoint` (see the module docstring)."""

    def __init__(
        self,
        endpoint: Endpoint,
        *,
        max_connections: int,
        timeout: float,
        connect_timeout: float,
    ) -> None:
        self.endpoint = endpoint
        self._timeout = timeout
        self._connect_timeout = connect_timeout
        self._slots = asyncio.Semaphore(max_connections)
        self._idle: list[_Connection] = []
        self._streams: set[_Connection] = set()
        self._closed = False

    @property
    def is_closed(self) -> bool:
        return self._closed

    async def _connect(self) -> _Connection:
        endpoint = self.endpoint
        try:
            async with asyncio.timeout(self._connect_timeout):
                reader, writer = await asyncio.open_connection(
                    endpoint.host,
                    endpoint.port,
                    ssl=endpoint.tls,
                    server_hostname=endpoint.server_hostname,
                    limit=_MAX_HEAD,
                )
        except TimeoutError as exc:
            raise httpx.ConnectTimeout(f"connecting to {endpoint.host}:{endpoint.port} timed out") from exc
        except OSError as exc:  # ssl.SSLError is an OSError
            raise httpx.ConnectError(f"{endpoint.host}:{endpoint.port}: {exc}") from exc
        return _Connection(reader, writer)

    def _take_idle(self) -> _Connection | None:
        now = time.monotonic()
        while self._idle:
            connection = self._idle.pop()
            if connection.reusable(now):
                return connection
            connection.close()
        return None

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str],
        content: bytes | None = None,
        timeout: float | None = None,  # noqa: ASYNC109  (a per-request budget, as in httpx)
    ) -> Response:
        """Send one request and read the whole answer."""
        if self._closed:
            raise httpx.ConnectError("connection pool is closed")
        endpoint = self.endpoint
        length = len(content) if content is not None else (0 if method in ("POST", "PUT", "PATCH") else None)
        head = _head(endpoint, method, endpoint.target(path, params), headers, length)
        deadline = asyncio.get_running_loop().time() + (self._timeout if timeout is None else timeout)
        try:
            async with asyncio.timeout_at(deadline):
                await self._slots.acquire()
        except TimeoutError as exc:
            raise httpx.PoolTimeout("no free connection within the timeout") from exc
        try:
            connection = self._take_idle() or await self._connect()
            return await self._exchange(connection, method, head, content, deadline)
        finally:
            self._slots.release()

    async def _exchange(
        self, connection: _Connection, method: str, head: bytes, content: bytes | None, deadline: float
    ) -> Response:
        """``deadline`` is in event-loop time."""
        reused = connection.requests > 0
        connection.requests += 1
        stage = "write"
        try:
            async with asyncio.timeout_at(deadline):
                await connection.send(head, content)
                stage = "read"
                status, headers = await connection.read_head()
                body = await connection.read_body(method, status, headers)
        except TimeoutError as exc:
            connection.close()
            raise (httpx.WriteTimeout if stage == "write" else httpx.ReadTimeout)(
                f"{method} timed out ({stage})"
            ) from exc
        except _Closed as exc:
            connection.close()
            if reused:
                # The server closed a keep-alive connection we were reusing: report it as a
                # protocol error (only reads are repeated; a write may have reached the server).
                raise httpx.RemoteProtocolError(f"server closed the connection: {exc}") from exc
            raise httpx.ReadError(str(exc)) from exc
        except OSError as exc:  # ssl.SSLError is an OSError
            connection.close()
            kind = httpx.WriteError if stage == "write" else httpx.ReadError
            raise kind(str(exc) or type(exc).__name__) from exc
        except BaseException:
            connection.close()  # cancelled or malformed: the connection's state is unknown
            raise
        if _keep_alive(headers) and not self._closed:
            connection.idle_since = time.monotonic()
            self._idle.append(connection)
        else:
            connection.close()
        return Response(status, headers, body)

    async def stream(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str],
        read_timeout: float | None,
    ) -> Stream:
        """Send a request on a new dedicated connection and return once the answer's head is
        in; the body is read through the returned :class:`Stream`."""
        if self._closed:
            raise httpx.ConnectError("connection pool is closed")
        endpoint = self.endpoint
        head = _head(endpoint, method, endpoint.target(path, params), headers, None)
        connection = await self._connect()
        self._streams.add(connection)
        try:
            async with asyncio.timeout(self._connect_timeout):
                await connection.send(head, None)
            async with asyncio.timeout(read_timeout):
                status, response_headers = await connection.read_head()
        except TimeoutError as exc:
            self._forget(connection)
            raise httpx.ReadTimeout(f"{method} {path}: no answer within the timeout") from exc
        except _Closed as exc:
            self._forget(connection)
            raise httpx.RemoteProtocolError(str(exc)) from exc
        except OSError as exc:  # ssl.SSLError is an OSError
            self._forget(connection)
            raise httpx.ReadError(str(exc) or type(exc).__name__) from exc
        except BaseException:
            self._forget(connection)
            raise
        return Stream(connection, method, status, response_headers, read_timeout, self._streams.discard)

    def _forget(self, connection: _Connection) -> None:
        connection.close()
        self._streams.discard(connection)

    async def aclose(self) -> None:
        self._closed = True
        for connection in [*self._idle, *self._streams]:
            connection.close()
        self._idle.clear()
        self._streams.clear()
