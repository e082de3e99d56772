"""HTTP client of the backend's handshake API (``/api/exports``, ``/api/templates``, ``/api/bind`` …).

Why: the CLI never imports the backend; it speaks the same HTTP contract as the Go CLI
(reference §3, §12.A): ``Authorization: <tokenType> <token>``, ``User-Agent: kubectl-bind-cli``,
``Accept: application/json``, ``cluster_id`` appended when the stored server has one. A token that
expires within 5 minutes is not sent; the user is told to log in again instead. Error answers
(the ``Error`` body, or any non-2xx) become one-line :class:`CLIError` messages with the reason.
"""

from __future__ import annotations

import ssl
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

from kubebind.apis import constants
from kubectl_bind.config import Server
from kubectl_bind.errors import CLIError

__all__ = ["BackendClient", "add_query", "discover_authorize_url"]

USER_AGENT = "kubectl-bind-cli"


def add_query(url: str, params: dict[str, str]) -> str:
    """``url`` with ``params`` added (existing query parameters kept; empty values dropped)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query += [(k, v) for k, v in params.items() if v]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _error_text(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip().splitlines()
        return text[0][:300] if text else response.reason_phrase
    if isinstance(body, dict):
        for key in ("message", "error_description", "error", "detail"):
            if body.get(key):
                return str(body[key])
    return response.reason_phrase


class BackendClient:
    """One backend URL (+ optional stored login)."""

    def __init__(
        self,
        url: str,
        *,
        server: Server | None = None,
        insecure_skip_tls_verify: bool = False,
        certificate_authority: str = "",
        timeout: float = 30.0,
    ) -> None:
        self.url = url.rstrip("/")
        self.server = server
        ca = certificate_authority or (server.certificate_authority if server else "")
        verify: bool | ssl.SSLContext = not insecure_skip_tls_verify
        if ca and not insecure_skip_tls_verify:
            try:
                verify = ssl.create_default_context(cafile=ca)
            except (OSError, ssl.SSLError) as exc:
                raise CLIError(f"cannot load --certificate-authority {ca}: {exc}") from exc
        self._http = httpx.AsyncClient(
            verify=verify,
            timeout=timeout,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
        )

    async def __aenter__(self) -> BackendClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._http.aclose()

    def _auth_headers(self) -> dict[str, str]:
        server = self.server
        if server is None or not server.access_token:
            raise CLIError(f"not logged in to {self.url}: run `kubectl bind login {self.url}`")
        if not server.token_valid():
            raise CLIError(f"the login to {self.url} has expired: run `kubectl bind login {self.url}` again")
        return {"Authorization": f"{server.token_type or 'Bearer'} {server.access_token}"}

    def _params(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        params: dict[str, str] = {}
        if self.server is not None and self.server.cluster:
            params["cluster_id"] = self.server.cluster
        params.update({k: v for k, v in (extra or {}).items() if v})
        return params

    async def _request(
        self, method: str, path: str, *, auth: bool, params: dict[str, str] | None = None, body: Any = None
    ) -> Any:
        headers = self._auth_headers() if auth else {}
        try:
            response = await self._http.request(
                method, f"{self.url}{path}", params=self._params(params), json=body, headers=headers
            )
        except httpx.HTTPError as exc:
            raise CLIError(
                f"cannot reach the kube-bind backend at {self.url}: {exc or type(exc).__name__}"
            ) from exc
        if response.status_code == 401:
            raise CLIError(
                f"{method} {path}: not authenticated ({_error_text(response)}): "
                f"run `kubectl bind login {self.url}`"
            )
        if not response.is_success:
            raise CLIError(f"{method} {path} failed (HTTP {response.status_code}): {_error_text(response)}")
        try:
            return response.json()
        except ValueError as exc:
            raise CLIError(f"{method} {path}: the backend answered with invalid JSON") from exc

    async def exports(self, params: dict[str, str] | None = None) -> dict[str, Any]:
        """``GET /api/exports``: the BindingProvider document (no auth)."""
        body = await self._request("GET", "/api/exports", auth=False, params=params)
        if not isinstance(body, dict):
            raise CLIError(f"{self.url}/api/exports did not return a BindingProvider")
        return body

    async def templates(self) -> list[dict[str, Any]]:
        return await self._list("/api/templates", "APIServiceExportTemplate")

    async def collections(self) -> list[dict[str, Any]]:
        return await self._list("/api/collections", "Collection")

    async def _list(self, path: str, kind: str) -> list[dict[str, Any]]:
        body = await self._request("GET", path, auth=True)
        items = body.get("items") if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise CLIError(f"GET {path}: expected a list of {kind} objects")
        out: list[dict[str, Any]] = []
        for item in items:
            if isinstance(item, dict):
                # The Go backend's typed list may omit apiVersion/kind on items.
                item.setdefault("apiVersion", constants.API_VERSION)
                item.setdefault("kind", kind)
                out.append(item)
        return out

    async def bind(self, request: dict[str, Any], *, consumer_id: str = "") -> dict[str, Any]:
        """``POST /api/bind`` with a BindableResourcesRequest; returns the BindingResponse."""
        body = await self._request(
            "POST", "/api/bind", auth=True, params={"consumer_id": consumer_id}, body=request
        )
        if not isinstance(body, dict):
            raise CLIError("POST /api/bind: the backend did not return a BindingResponse")
        return body


def discover_authorize_url(provider: dict[str, Any]) -> str:
    """The OAuth2CodeGrant ``authenticatedURL`` of a BindingProvider document."""
    for method in provider.get("authenticationMethods") or []:
        if not isinstance(method, dict):
            continue
        if method.get("method") == constants.AUTH_METHOD_OAUTH2_CODE_GRANT:
            grant = method.get("oauth2CodeGrant") or {}
            url = grant.get("authenticatedURL") if isinstance(grant, dict) else None
            if url:
                return str(url)
    raise CLIError("the backend offers no OAuth2CodeGrant login method")
