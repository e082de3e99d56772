"""One watch stream over HTTP, as an async iterator of :class:`WatchEvent` ``(type, object)``.

Why its own type: a watch is a long-lived streaming response that must be closed, may be ended
on purpose by the client (a credential swap) or by the server (``timeoutSeconds``), and reports
server-side failures in-band as ``ERROR`` events. :class:`Watch` turns all of that into one
contract: iterate to get events, ``ERROR`` events raise the matching
:class:`~kubebind.kube.errors.ApiError` (410 → :class:`~kubebind.kube.errors.GoneError`), the
iteration simply ends when the stream ends, and ``async with`` guarantees the stream is closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, NamedTuple, Self, TypeVar, cast

import httpx
import orjson

from kubebind.kube import errors, http11, transport
from kubebind.kube.resources import Object

if TYPE_CHECKING:
    from kubebind.kube.client import ApiClient

__all__ = ["Watch", "WatchEvent"]

_WATCH_READ_GRACE = 30.0
T = TypeVar("T")


class WatchEvent(NamedTuple):
    type: str  # ADDED, MODIFIED, DELETED, BOOKMARK
    object: Object


class Watch:
    """One watch stream: ``async with client.watch(...) as w: async for type_, obj in w: ...``.

    The request is sent on the first iteration (errors such as 403 or 410 are raised there). The
    iterator ends when the server closes the stream, when :meth:`stop` is called (e.g. by a
    credential swap), or on :meth:`aclose`.
    """

    def __init__(
        self,
        client: ApiClient,
        path: str,
        params: Mapping[str, str | int | bool | None],
        timeout_seconds: int | None,
    ) -> None:
        self._client = client
        self._path = path
        self._params = params
        self._timeout_seconds = timeout_seconds
        self._response: httpx.Response | None = None  # HTTP/2 (httpx)
        self._stream: http11.Stream | None = None  # HTTP/1.1
        self._session: transport.Session | None = None
        self._lines: AsyncIterator[str] | AsyncIterator[bytes] | None = None
        self._stopped = asyncio.Event()
        self._closed = False

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    def __aiter__(self) -> Self:
        return self

    def stop(self) -> None:
        """End the iteration at the next opportunity (safe to call from any task)."""
        self._stopped.set()
        if self._stream is not None:
            self._stream.abort()

    @property
    def stopped(self) -> bool:
        """Whether :meth:`stop` ended (or will end) this watch, rather than the server."""
        return self._stopped.is_set()

    async def _start(self) -> None:
        client = self._client
        await client._throttle()
        session = client._session
        session.active += 1
        self._session = session
        query = transport.query(self._params)
        read = (self._timeout_seconds or 1800) + _WATCH_READ_GRACE
        extensions = {**client._extensions(), "timeout": httpx.Timeout(10.0, read=read).as_dict()}
        headers = client._headers()
        started = time.monotonic()
        code = "error"
        try:
            if session.http2:
                await self._start_httpx(session, query, headers, extensions, read)
            else:
                self._stream = await session.pool.stream(
                    "GET", self._path, params=query, headers=headers, read_timeout=read
                )
                if self._stopped.is_set():
                    self._stream.abort()
            code = str(self._status)
        finally:
            client.metrics.observe_request("WATCH", code, time.monotonic() - started)
        if self._stream is not None:
            if not self._stream.is_success:
                raise transport.decode_error(self._stream.status_code, await self._stream.read())
            self._lines = self._stream.lines()
            return
        assert self._response is not None
        if not self._response.is_success:
            content = await self._response.aread()
            raise transport.decode_error(self._response.status_code, content)
        self._lines = self._response.aiter_lines()

    @property
    def _status(self) -> int:
        answer = self._stream if self._stream is not None else self._response
        assert answer is not None
        return answer.status_code

    async def _start_httpx(
        self,
        session: transport.Session,
        query: dict[str, str],
        headers: dict[str, str],
        extensions: dict[str, Any],
        read_timeout: float,
    ) -> None:
        try:
            request = session.watches.build_request(
                "GET", self._path, params=query, headers=headers, extensions=extensions
            )
            self._response = await session.watches.send(request, stream=True)
        except httpx.RemoteProtocolError:
            # HTTP/2 connection ended by GOAWAY before the answer could be read: ask again over
            # HTTP/1.1 to get the real answer (see transport.Session).
            self._stream = await session.pool.stream(
                "GET", self._path, params=query, headers=headers, read_timeout=read_timeout
            )

    async def __anext__(self) -> WatchEvent:
        if self._closed or self._stopped.is_set():
            await self.aclose()
            raise StopAsyncIteration
        if self._lines is None:
            try:
                await self._start()
            except BaseException:
                await self.aclose()
                raise
        assert self._lines is not None
        line = await (self._next_stream_line() if self._stream is not None else self._next_httpx_line())
        event = orjson.loads(line)
        kind = str(event.get("type", ""))
        obj = event.get("object") or {}
        if kind == "ERROR":
            await self.aclose()
            raise errors.ApiError.from_status(obj if isinstance(obj, dict) else {})
        return WatchEvent(kind, obj)

    async def _read(self, pending: Awaitable[T]) -> T:
        """Await one read of the stream; an end of it (or any failure) closes the watch. An
        abrupt end by the server (e.g. it shut down) counts as a normal end, like a timeout."""
        try:
            return await pending
        except StopAsyncIteration:
            await self.aclose()
            raise
        except httpx.RemoteProtocolError:
            await self.aclose()
            raise StopAsyncIteration from None
        except BaseException:
            await self.aclose()
            raise

    async def _next_stream_line(self) -> bytes:
        """HTTP/1.1: :meth:`stop` aborts the stream, which ends a pending read."""
        line = await self._read(anext(cast(AsyncIterator[bytes], self._lines)))
        if self._stopped.is_set():
            await self.aclose()
            raise StopAsyncIteration
        return line

    async def _next_httpx_line(self) -> str:
        """HTTP/2: a read cannot be interrupted by closing the stream from another task, so
        each read races :meth:`stop`."""
        lines = cast(AsyncIterator[str], self._lines)
        while True:
            reader = asyncio.ensure_future(anext(lines))
            stopper = asyncio.ensure_future(self._stopped.wait())
            try:
                await asyncio.wait({reader, stopper}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                stopper.cancel()
                if not reader.done():
                    reader.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await reader
            if not reader.done() or reader.cancelled():
                await self.aclose()
                raise StopAsyncIteration
            line = await self._read(reader)
            if line.strip():
                return line

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            if self._stream is not None:
                await self._stream.aclose()
            if self._response is not None:
                await self._response.aclose()
        finally:
            if self._session is not None:
                session, self._session = self._session, None
                await session.release()
