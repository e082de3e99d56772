"""app.serving.CoalescingTransport on a real socket pair: one send per loop iteration, in order."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

from app.serving import COALESCE_LIMIT, CoalescingTransport


class _Sink(asyncio.Protocol):
    def __init__(self) -> None:
        self.data = bytearray()
        self.closed = asyncio.Event()

    def data_received(self, data: bytes) -> None:
        self.data += data

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed.set()


async def _pair() -> tuple[Any, _Sink, list[bytes]]:
    loop = asyncio.get_running_loop()
    a, b = socket.socketpair()
    sink = _Sink()
    await loop.connect_accepted_socket(lambda: sink, b)
    transport, _ = await loop.connect_accepted_socket(asyncio.Protocol, a)
    sent: list[bytes] = []
    real_write = transport.write

    def counting_write(data: bytes) -> None:
        sent.append(bytes(data))
        real_write(data)

    transport.write = counting_write  # type: ignore[method-assign,assignment]  # instrument the real writes
    return transport, sink, sent


async def test_writes_of_one_iteration_leave_as_one_and_in_order() -> None:
    transport, sink, sent = await _pair()
    wrapped = CoalescingTransport(transport, asyncio.get_running_loop())
    wrapped.write(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n")
    wrapped.write(b"")  # empty writes are dropped
    wrapped.write(memoryview(b"hello"))
    assert sent == [] and wrapped.get_write_buffer_size() >= 43
    await asyncio.sleep(0)
    assert sent == [b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello"]
    wrapped.write(b"next")
    await asyncio.sleep(0)
    assert len(sent) == 2
    wrapped.write(b"tail")
    wrapped.close()  # flushes before closing
    await asyncio.wait_for(sink.closed.wait(), 5)
    assert bytes(sink.data) == b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhellonexttail"
    assert sent[-1] == b"tail"


async def test_large_writes_are_not_held_or_copied() -> None:
    transport, sink, sent = await _pair()
    wrapped = CoalescingTransport(transport, asyncio.get_running_loop())
    big = b"x" * (COALESCE_LIMIT + 1)
    wrapped.write(b"head")
    wrapped.write(big)  # flushes the head first, then goes out directly
    assert sent == [b"head", big]
    assert wrapped.is_closing() is False  # delegated
    wrapped.abort()
    await asyncio.wait_for(sink.closed.wait(), 5)
