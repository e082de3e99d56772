"""A tiny asyncio HTTP server for ``/healthz``, ``/readyz`` and Prometheus ``/metrics``.

Why not uvicorn/FastAPI: the konnector serves three GET endpoints for probes and scraping; a
30-line server on ``asyncio.start_server`` keeps its process small and import-light.
Health answers are JSON ``{check: "ok"|"degraded"}`` with 200/500, as the reference's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import orjson
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

__all__ = ["HealthServer"]

log = logging.getLogger(__name__)

Check = Callable[[], bool]


class HealthServer:
    def __init__(
        self,
        host: str,
        port: int,
        *,
        registry: CollectorRegistry,
        health_checks: dict[str, Check],
        ready_checks: dict[str, Check],
    ) -> None:
        self.host = host
        self.port = port
        self.registry = registry
        self.health_checks = health_checks
        self.ready_checks = ready_checks
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, self.host, self.port)
        sock = self._server.sockets[0].getsockname()
        self.port = int(sock[1])
        log.info("health server listening address=%s:%d", self.host, self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()

    def _checks(self, checks: dict[str, Check]) -> tuple[int, bytes]:
        result: dict[str, str] = {}
        ok = True
        for name, check in checks.items():
            try:
                passed = check()
            except Exception:
                passed = False
            result[name] = "ok" if passed else "degraded"
            ok = ok and passed
        return (200 if ok else 500), orjson.dumps(result)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = await asyncio.wait_for(reader.readline(), 10)
            while True:  # drain headers
                header = await asyncio.wait_for(reader.readline(), 10)
                if header in (b"\r\n", b"\n", b""):
                    break
            parts = line.decode("latin-1").split()
            path = parts[1].split("?")[0] if len(parts) >= 2 else "/"
            ctype = "application/json"
            if path in ("/healthz", "/livez"):
                code, body = self._checks(self.health_checks)
            elif path == "/readyz":
                code, body = self._checks(self.ready_checks)
            elif path == "/metrics":
                code, body, ctype = 200, generate_latest(self.registry), CONTENT_TYPE_LATEST
            else:
                code, body = 404, b'{"error":"not found"}'
            reason = {200: "OK", 404: "Not Found", 500: "Internal Server Error"}[code]
            writer.write(
                f"HTTP/1.1 {code} {reason}\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
                "Connection: close\r\n\r\n".encode("latin-1")
                + body
            )
            await writer.drain()
        except Exception as exc:
            log.debug("health request failed error=%r", exc)
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
