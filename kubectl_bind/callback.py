"""Loopback HTTP server on 127.0.0.1 that receives the browser's redirect at ``/callback``.

Why: both ``kubectl bind login`` (token) and ``kubectl bind`` (catalog page → binding response)
end with the backend or its web page redirecting the browser to ``http://127.0.0.1:<port>/callback``
(reference §3.6). The server listens only on loopback, on a random port, accepts exactly one valid
callback, and — when ``session_id`` is given — rejects callbacks that do not carry it (401), so
another local page cannot inject a binding response. Runs in a thread; ``wait`` is awaitable.
"""

from __future__ import annotations

import asyncio
import html
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from kubectl_bind.errors import CLIError

__all__ = ["CallbackServer"]

_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>kube-bind</title></head>
<body style="font-family:sans-serif;margin:3em"><h1>{title}</h1><p>{text}</p></body></html>"""


class CallbackServer:
    """``with CallbackServer(session_id) as cb: … await cb.wait(timeout)`` → the query parameters."""

    def __init__(
        self, session_id: str = "", *, path: str = "/callback", require_session: bool = True
    ) -> None:
        self.session_id = session_id
        #: False: a callback without ``session_id`` is accepted (login), a different one never is.
        self.require_session = require_session
        self.path = path
        self._result: dict[str, str] | None = None
        self._done = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}{self.path}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # quiet
                return

            def _reply(self, status: HTTPStatus, title: str, text: str) -> None:
                body = _PAGE.format(title=html.escape(title), text=html.escape(text)).encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                if parts.path != owner.path:
                    self._reply(HTTPStatus.NOT_FOUND, "Not found", "This is the kubectl bind callback.")
                    return
                query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
                got = query.get("session_id")
                mismatch = (
                    got != owner.session_id
                    if owner.require_session
                    else bool(got) and got != owner.session_id
                )
                if owner.session_id and mismatch:
                    self._reply(HTTPStatus.UNAUTHORIZED, "Invalid session", "The session id does not match.")
                    return
                if owner._done.is_set():
                    self._reply(HTTPStatus.GONE, "Already done", "kubectl bind already got its answer.")
                    return
                owner._result = query
                owner._done.set()
                if query.get("error"):
                    self._reply(
                        HTTPStatus.OK,
                        "kube-bind failed",
                        query.get("error_description") or query["error"],
                    )
                else:
                    self._reply(
                        HTTPStatus.OK, "Done", "You can close this window and return to the terminal."
                    )

        return Handler

    def __enter__(self) -> CallbackServer:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="callback", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    async def wait(self, seconds: float) -> dict[str, str]:
        """The callback's query parameters; CLIError on timeout."""
        loop = asyncio.get_running_loop()
        done = await loop.run_in_executor(None, self._done.wait, seconds)
        if not done or self._result is None:
            raise CLIError(f"timed out after {seconds:.0f}s waiting for the browser to return to {self.url}")
        return dict(self._result)
