"""The HTTP/1.1 transport against misbehaving peers: raw TCP servers on localhost that answer with
exactly the bytes under test (what a real apiserver cannot be made to do on purpose). Its
behaviour against a real kube-apiserver is covered by tests/cluster (every client test runs on
both transports) and by the konnector tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest

from kubebind.kube.http11 import ConnectionPool, Endpoint

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            head += await reader.readexactly(int(line.split(b":", 1)[1]))
    return head


class Peer:
    """A TCP server running ``handler`` per connection; counts connections."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.connections = 0
        self.server: asyncio.Server | None = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            await self.handler(reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def __aenter__(self) -> ConnectionPool:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        self.pool = ConnectionPool(
            Endpoint.from_url(f"http://127.0.0.1:{port}/prefix", None),
            max_connections=4,
            timeout=2.0,
            connect_timeout=2.0,
        )
        return self.pool

    async def __aexit__(self, *exc: object) -> None:
        await self.pool.aclose()
        assert self.server is not None
        self.server.close()


def keep_alive(body: bytes, *, chunked: bool = False, status: str = "200 OK") -> Handler:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            request = await read_request(reader)
            echo = request.split(b"\r\n", 1)[0]
            payload = body or echo
            if chunked:
                parts = [payload[i : i + 7] for i in range(0, len(payload), 7)]
                encoded = b"".join(b"%x;ext=1\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"
                head = b"HTTP/1.1 " + status.encode() + b"\r\nTransfer-Encoding: chunked\r\n\r\n"
                writer.write(head + encoded)
            else:
                writer.write(
                    b"HTTP/1.1 %s\r\nContent-Length: %d\r\nX-Multi: a\r\nX-Multi: b\r\n\r\n%s"
                    % (status.encode(), len(payload), payload)
                )
            await writer.drain()

    return handler


async def test_keep_alive_reuses_one_connection_and_sends_the_path_prefix() -> None:
    peer = Peer(keep_alive(b""))
    async with peer as pool:
        for i in range(5):
            params = {"labelSelector": "a=b,c"}
            response = await pool.request("GET", f"/api/v1/x{i}", params=params, headers={})
            assert response.status_code == 200
            assert response.content == f"GET /prefix/api/v1/x{i}?labelSelector=a%3Db%2Cc HTTP/1.1".encode()
            assert response.headers["x-multi"] == "a, b"
    assert peer.connections == 1


async def test_chunked_body_with_extensions_is_reassembled() -> None:
    body = b'{"items": [' + b",".join(b'{"n": %d}' % i for i in range(200)) + b"]}"
    async with Peer(keep_alive(body, chunked=True)) as pool:
        first = await pool.request("GET", "/a", headers={})
        second = await pool.request("GET", "/b", headers={})
    assert first.content == body and second.content == body


async def test_request_body_and_content_length_reach_the_server() -> None:
    async def echo_body(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            request = await read_request(reader)
            body = request.split(b"\r\n\r\n", 1)[1]
            writer.write(b"HTTP/1.1 201 Created\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
            await writer.drain()

    async with Peer(echo_body) as pool:
        json_type = {"Content-Type": "application/json"}
        response = await pool.request("POST", "/x", headers=json_type, content=b"{}")
        empty = await pool.request("PATCH", "/x", headers={})
    assert (response.status_code, response.content) == (201, b"{}")
    assert empty.content == b""


async def test_concurrency_is_bounded_by_max_connections() -> None:
    peer = Peer(keep_alive(b"ok"))
    async with peer as pool:
        results = await asyncio.gather(*(pool.request("GET", "/", headers={}) for _ in range(40)))
    assert all(r.content == b"ok" for r in results)
    assert 1 <= peer.connections <= 4


async def test_connection_close_answer_is_not_reused() -> None:
    async def close_each(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()

    peer = Peer(close_each)
    async with peer as pool:
        for _ in range(3):
            assert (await pool.request("GET", "/", headers={})).content == b"ok"
    assert peer.connections == 3


async def test_server_closing_an_idle_connection_is_noticed_before_reuse() -> None:
    async def answer_once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        # then close the keep-alive connection, as a server's idle timeout does

    peer = Peer(answer_once)
    async with peer as pool:
        assert (await pool.request("GET", "/", headers={})).content == b"ok"
        await asyncio.sleep(0.1)  # the FIN arrives
        assert (await pool.request("GET", "/", headers={})).content == b"ok"
    assert peer.connections == 2


async def test_a_silent_server_times_out_and_a_hangup_is_a_read_error() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await asyncio.sleep(5)

    async def hangup(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)

    async with Peer(silent) as pool:
        with pytest.raises(httpx.ReadTimeout):
            await pool.request("GET", "/", headers={}, timeout=0.3)
    async with Peer(hangup) as pool:
        with pytest.raises(httpx.ReadError):
            await pool.request("GET", "/", headers={})


@pytest.mark.parametrize(
    "answer",
    [
        b"SPDY/3 200 OK\r\n\r\n",
        b"HTTP/1.1 abc OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nno-colon-here\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: many\r\n\r\n",
    ],
)
async def test_malformed_answers_are_protocol_errors(answer: bytes) -> None:
    async def bad(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(answer)
        await writer.drain()
        await asyncio.sleep(1)

    async with Peer(bad) as pool:
        with pytest.raises(httpx.RemoteProtocolError):
            await pool.request("GET", "/", headers={})


async def test_nothing_listening_is_a_connect_error() -> None:
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    pool = ConnectionPool(
        Endpoint.from_url(f"http://127.0.0.1:{port}", None), max_connections=1, timeout=1, connect_timeout=1
    )
    with pytest.raises(httpx.ConnectError):
        await pool.request("GET", "/", headers={})


async def test_header_injection_is_refused() -> None:
    async with Peer(keep_alive(b"ok")) as pool:
        with pytest.raises(ValueError, match="line break"):
            await pool.request("GET", "/", headers={"Authorization": "Bearer x\r\nX-Remote-User: admin"})


async def stream_lines(pool: ConnectionPool) -> AsyncIterator[bytes]:
    stream = await pool.stream("GET", "/watch", headers={}, read_timeout=5)
    try:
        async for line in stream.lines():
            yield line
    finally:
        await stream.aclose()


async def test_stream_splits_lines_across_chunks_and_abort_ends_a_pending_read() -> None:
    release = asyncio.Event()

    async def watch(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        for piece in (b'{"a"', b':1}\n{"b":2}\n\n{"c', b'":3}\n'):
            writer.write(b"%x\r\n%s\r\n" % (len(piece), piece))
        await writer.drain()
        await release.wait()  # then silence: the client must be able to stop on its own

    async with Peer(watch) as pool:
        stream = await pool.stream("GET", "/watch", headers={}, read_timeout=30)
        assert stream.is_success
        seen: list[bytes] = []

        async def consume() -> None:
            async for line in stream.lines():
                seen.append(line)

        task = asyncio.create_task(consume())
        await asyncio.sleep(0.2)
        assert seen == [b'{"a":1}', b'{"b":2}', b'{"c":3}']
        stream.abort()
        await asyncio.wait_for(task, 1.0)  # ended, no exception
        await stream.aclose()
        release.set()


async def test_stream_ended_by_the_server_mid_body_is_a_protocol_error() -> None:
    async def cut(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nab\n\r\n")
        await writer.drain()

    async with Peer(cut) as pool:
        lines = []
        with pytest.raises(httpx.RemoteProtocolError):
            async for line in stream_lines(pool):
                lines.append(line)
    assert lines == [b"ab"]
