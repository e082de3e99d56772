"""An async Kubernetes API client on httpx, working on plain JSON objects.

Why not the ``kubernetes`` package's client: it is synchronous (threads per watch), generated per
kind, and cannot serve CRDs only known at runtime without its slow dynamic client. kube-bind needs
many concurrent watches (one per bound resource and namespace), server-side apply, and credential
rotation while watches run. This client is one :class:`ApiClient` per API server and credential:

* **Transport**: one pooled ``httpx.AsyncClient``, HTTP/2 when the server offers it (watches then
  share a connection as streams), JSON bodies encoded/decoded with orjson, every request throttled
  by a client-side token bucket (``qps``/``burst``, :mod:`kubebind.kube.ratelimit`).
* **Errors**: any non-2xx answer raises :class:`~kubebind.kube.errors.ApiError` (subclasses per
  code) carrying the server's ``Status``. 429/503 answers with ``Retry-After`` are retried a few
  times, as client-go does; so are reads whose HTTP/2 connection was closed under them (the
  apiserver sends GOAWAY after every 401 on a connection), and any request that failed to connect.
* **Namespaces**: for namespaced resources, single-object calls use the ``namespace`` argument, else
  the body's ``metadata.namespace``, else the kubeconfig context namespace. ``list``/``watch`` with
  ``namespace=None`` span all namespaces.
* **Watch**: :meth:`ApiClient.watch` returns a :class:`Watch`, an async iterator (and async context
  manager: use ``async with`` so the stream is closed) of :class:`WatchEvent` ``(type, object)``
  tuples. A server ``ERROR`` event raises the matching ``ApiError``; expired resource versions raise
  :class:`~kubebind.kube.errors.GoneError`. The iterator ends normally when the server closes the
  watch (``timeoutSeconds``) or when credentials are swapped.
* **Credential swap**: :meth:`ApiClient.update_credentials` makes every later request use the new
  credential. Open watches are ended gracefully (their consumers — reflectors — resume from their
  last resourceVersion with the new credential, without re-listing). When TLS material or the
  server changes, a new connection pool is built and the old one is closed once idle.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import enum
import logging
import os
import ssl
import tempfile
import time
import weakref
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, NamedTuple, Self

import httpx
import orjson

from kubebind.kube import errors
from kubebind.kube.kubeconfig import RestConfig, load_kubeconfig, load_kubeconfig_dict
from kubebind.kube.metrics import NOOP_REQUEST_METRICS, RequestMetrics
from kubebind.kube.ratelimit import Clock, TokenBucket
from kubebind.kube.resources import Object, ResourceRef
from kubebind.kube.selectors import LabelSelector

__all__ = ["ApiClient", "Discovery", "PatchType", "Preconditions", "Watch", "WatchEvent"]

log = logging.getLogger(__name__)

Selector = str | LabelSelector | Mapping[str, str]
"""A label selector: query-string syntax, a parsed selector, or ``{label: value}`` equality."""

_MAX_RETRIES = 3
_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS"})
_WATCH_READ_GRACE = 30.0


class PatchType(enum.StrEnum):
    MERGE = "application/merge-patch+json"
    JSON = "application/json-patch+json"
    STRATEGIC = "application/strategic-merge-patch+json"
    APPLY = "application/apply-patch+yaml"


@dataclass(frozen=True)
class Preconditions:
    """Delete only if the object still has this UID and/or resourceVersion."""

    uid: str | None = None
    resource_version: str | None = None

    def to_json(self) -> dict[str, str]:
        out: dict[str, str] = {}
        if self.uid:
            out["uid"] = self.uid
        if self.resource_version:
            out["resourceVersion"] = self.resource_version
        return out


class WatchEvent(NamedTuple):
    type: str  # ADDED, MODIFIED, DELETED, BOOKMARK
    object: Object


def _selector_param(selector: Selector | None) -> str | None:
    if selector is None:
        return None
    if isinstance(selector, str):
        return selector or None
    if isinstance(selector, LabelSelector):
        return str(selector) or None
    return str(LabelSelector.from_labels(selector)) or None


def _field_selector_param(selector: str | Mapping[str, str] | None) -> str | None:
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


class _Session:
    """One connection pool plus a count of requests using it, so a retired pool closes when idle.

    ``http`` speaks HTTP/2 when the server offers it. ``http1`` is an HTTP/1.1-only pool, created
    on first use, for retrying a request whose HTTP/2 connection was ended by a GOAWAY: httpcore
    (1.0.x) then raises ``RemoteProtocolError`` even for a stream whose response had already
    arrived, and kube-apiserver sends GOAWAY after every 401 — so without the retry an expired
    token would never surface as :class:`~kubebind.kube.errors.UnauthorizedError`.
    """

    def __init__(self, config: RestConfig, *, http2: bool, timeout: float) -> None:
        self.key = config.transport_key()
        self._config = config
        self._timeout = timeout
        self.http = self._client(http2)
        self._http1: httpx.AsyncClient | None = None if http2 else self.http
        self.active = 0
        self.retired = False

    def _client(self, http2: bool) -> httpx.AsyncClient:
        config = self._config
        return httpx.AsyncClient(
            base_url=config.server,
            # A context per pool: httpcore sets ALPN protocols on the context it is given.
            verify=_ssl_context(config) if config.server.startswith("https") else True,
            http2=http2,
            timeout=httpx.Timeout(self._timeout, connect=min(self._timeout, 10.0)),
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=20),
        )

    @property
    def http1(self) -> httpx.AsyncClient:
        if self._http1 is None:
            self._http1 = self._client(False)
        return self._http1

    async def release(self) -> None:
        self.active -= 1
        if self.retired and self.active == 0:
            await self.aclose()

    async def aclose(self) -> None:
        await self.http.aclose()
        if self._http1 is not None and self._http1 is not self.http:
            await self._http1.aclose()

    @property
    def is_closed(self) -> bool:
        return self.http.is_closed


class ApiClient:
    """See the module docstring. Build one per (server, credential) and share it."""

    def __init__(
        self,
        config: RestConfig,
        *,
        qps: float = 50.0,
        burst: int = 100,
        timeout: float = 30.0,
        http2: bool = True,
        user_agent: str = "kube-bind-py",
        clock: Clock | None = None,
        metrics: RequestMetrics | None = None,
    ) -> None:
        """``qps``/``burst`` throttle every request (``qps <= 0``: unthrottled); ``timeout`` bounds
        each non-watch request; ``metrics`` receives request counts and latencies."""
        self._config = config
        self._http2 = http2
        self._timeout = timeout
        self._user_agent = user_agent
        self.rate_limiter = TokenBucket(qps, burst, clock=clock)
        self.metrics: RequestMetrics = metrics or NOOP_REQUEST_METRICS
        self._session = _Session(config, http2=http2, timeout=timeout)
        self._watches: weakref.WeakSet[Watch] = weakref.WeakSet()
        self._closing: set[asyncio.Task[None]] = set()
        self._closed = False
        self.discovery = Discovery(self)

    @classmethod
    def from_kubeconfig(
        cls,
        source: str | os.PathLike[str] | bytes | Mapping[str, Any],
        *,
        context: str | None = None,
        **kw: Any,
    ) -> ApiClient:
        """Build from a kubeconfig path, kubeconfig bytes, or a decoded kubeconfig mapping."""
        if isinstance(source, Mapping):
            return cls(load_kubeconfig_dict(source, context=context), **kw)
        return cls(load_kubeconfig(source, context=context), **kw)

    @property
    def config(self) -> RestConfig:
        return self._config

    @property
    def namespace(self) -> str:
        """The default namespace (from the kubeconfig context)."""
        return self._config.namespace

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        self._closed = True
        for watch in list(self._watches):
            watch.stop()
        self._session.retired = True
        await self._session.aclose()

    # -- credentials ---------------------------------------------------------------------------

    def update_credentials(
        self,
        config: RestConfig | str | os.PathLike[str] | bytes | Mapping[str, Any],
        *,
        end_watches: bool = True,
    ) -> None:
        """Use ``config`` for every request from now on.

        With ``end_watches`` (default) open watches end as if the server had timed them out, so
        their reflectors re-watch from their last resourceVersion with the new credential.
        """
        if isinstance(config, Mapping):
            config = load_kubeconfig_dict(config)
        elif not isinstance(config, RestConfig):
            config = load_kubeconfig(config)
        old = self._session
        self._config = config
        if config.transport_key() != old.key:
            self._session = _Session(config, http2=self._http2, timeout=self._timeout)
            old.retired = True
            if old.active == 0:
                task = asyncio.get_running_loop().create_task(old.aclose(), name="apiclient-close-pool")
                self._closing.add(task)
                task.add_done_callback(self._closing.discard)
        if end_watches:
            for watch in list(self._watches):
                watch.stop()

    async def _throttle(self) -> None:
        started = time.monotonic()
        await self.rate_limiter.acquire()
        self.metrics.observe_rate_limit_wait(time.monotonic() - started)

    def _headers(self, content_type: str | None = None) -> dict[str, str]:
        headers = {"Accept": "application/json", "User-Agent": self._user_agent}
        if content_type:
            headers["Content-Type"] = content_type
        token = self._config.bearer_token()
        if token:
            headers["Authorization"] = f"Bearer {token}"
        elif self._config.username is not None:
            basic = httpx.BasicAuth(self._config.username, self._config.password or "")
            headers["Authorization"] = basic._auth_header
        return headers

    def _extensions(self) -> dict[str, Any]:
        name = self._config.tls_server_name
        return {"sni_hostname": name} if name else {}

    # -- raw requests --------------------------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int | bool | None] | None = None,
        body: Any = None,
        content_type: str | None = None,
        request_timeout: float | None = None,
    ) -> Any:
        """Send one request and return the decoded JSON body; raise ``ApiError`` on non-2xx."""
        if self._closed:
            raise RuntimeError("ApiClient is closed")
        query = {k: _param(v) for k, v in (params or {}).items() if v is not None}
        content = orjson.dumps(body) if body is not None else None
        if content is not None and content_type is None:
            content_type = "application/json"
        http1 = False
        for attempt in range(_MAX_RETRIES + 1):
            await self._throttle()
            session = self._session
            session.active += 1
            started = time.monotonic()
            code = "error"
            try:
                response = await (session.http1 if http1 else session.http).request(
                    method,
                    path,
                    params=query,
                    content=content,
                    headers=self._headers(content_type),
                    extensions=self._extensions(),
                    timeout=request_timeout if request_timeout is not None else httpx.USE_CLIENT_DEFAULT,
                )
            except (httpx.ConnectError, httpx.WriteError, httpx.RemoteProtocolError, httpx.ReadError) as exc:
                # Connect/WriteError: the request never reached the server whole, so it is safe to
                # repeat. The others mean the connection ended under the request (e.g. an HTTP/2
                # GOAWAY, see _Session); a request that may have been processed is only repeated
                # when it is a read.
                unsent = isinstance(exc, httpx.ConnectError | httpx.WriteError)
                if attempt < _MAX_RETRIES and (method in _IDEMPOTENT or unsent):
                    log.debug("%s %s: %s, retrying", method, path, exc)
                    http1 = http1 or isinstance(exc, httpx.RemoteProtocolError)
                    await asyncio.sleep(0.05 * 2**attempt)
                    continue
                raise
            else:
                code = str(response.status_code)
            finally:
                self.metrics.observe_request(method, code, time.monotonic() - started)
                await session.release()
            if response.is_success:
                return orjson.loads(response.content) if response.content else None
            retry_after = response.headers.get("Retry-After")
            if response.status_code in (429, 503) and retry_after and attempt < _MAX_RETRIES:
                with contextlib.suppress(ValueError):
                    await asyncio.sleep(min(max(float(retry_after), 0.0), 10.0))
                    continue
            raise _error(response.status_code, response.content)
        raise AssertionError("unreachable")

    # -- reads ---------------------------------------------------------------------------------

    def _ns(
        self, ref: ResourceRef, namespace: str | None, body: Mapping[str, Any] | None = None
    ) -> str | None:
        if not ref.namespaced:
            return None
        if namespace:
            return namespace
        meta = (body or {}).get("metadata") or {}
        return meta.get("namespace") or self._config.namespace

    async def get(
        self,
        ref: ResourceRef,
        name: str,
        *,
        namespace: str | None = None,
        subresource: str | None = None,
        resource_version: str | None = None,
    ) -> Object:
        path = ref.path(namespace=self._ns(ref, namespace), name=name, subresource=subresource)
        result: Object = await self.request("GET", path, params={"resourceVersion": resource_version})
        return result

    async def list(
        self,
        ref: ResourceRef,
        *,
        namespace: str | None = None,
        label_selector: Selector | None = None,
        field_selector: str | Mapping[str, str] | None = None,
        limit: int | None = None,
        continue_: str | None = None,
        resource_version: str | None = None,
        resource_version_match: str | None = None,
        request_timeout: float | None = None,
    ) -> Object:
        """One page of a list: the ``*List`` body (``items``, ``metadata.resourceVersion``/``continue``)."""
        path = ref.path(namespace=namespace if ref.namespaced else None)
        params = {
            "labelSelector": _selector_param(label_selector),
            "fieldSelector": _field_selector_param(field_selector),
            "limit": limit,
            "continue": continue_,
            "resourceVersion": resource_version,
            "resourceVersionMatch": resource_version_match,
        }
        result: Object = await self.request("GET", path, params=params, request_timeout=request_timeout)
        return result

    async def list_pages(
        self,
        ref: ResourceRef,
        *,
        namespace: str | None = None,
        label_selector: Selector | None = None,
        field_selector: str | Mapping[str, str] | None = None,
        page_size: int = 500,
    ) -> AsyncIterator[Object]:
        """Yield every page of a consistent paged list.

        If the continue token expires mid-way (410), the list restarts once without paging, and
        that single full page is yielded; callers that accumulate must reset on a page whose
        ``metadata.resourceVersion`` differs from the first one.
        """
        token: str | None = None
        while True:
            try:
                page = await self.list(
                    ref,
                    namespace=namespace,
                    label_selector=label_selector,
                    field_selector=field_selector,
                    limit=page_size,
                    continue_=token,
                )
            except errors.GoneError:
                if token is None:
                    raise
                yield await self.list(
                    ref, namespace=namespace, label_selector=label_selector, field_selector=field_selector
                )
                return
            yield page
            token = (page.get("metadata") or {}).get("continue") or None
            if not token:
                return

    async def list_all(
        self,
        ref: ResourceRef,
        *,
        namespace: str | None = None,
        label_selector: Selector | None = None,
        field_selector: str | Mapping[str, str] | None = None,
        page_size: int = 500,
    ) -> tuple[builtins.list[Object], str]:
        """All items of a paged list and the list's resourceVersion (to start a watch from)."""
        items: builtins.list[Object] = []
        rv: str | None = None
        async for page in self.list_pages(
            ref,
            namespace=namespace,
            label_selector=label_selector,
            field_selector=field_selector,
            page_size=page_size,
        ):
            page_rv = str((page.get("metadata") or {}).get("resourceVersion") or "")
            if rv is not None and page_rv != rv:
                items = []  # fell back to a fresh unpaged list
            rv = page_rv
            items.extend(page.get("items") or [])
        return items, rv or ""

    def watch(
        self,
        ref: ResourceRef,
        *,
        namespace: str | None = None,
        label_selector: Selector | None = None,
        field_selector: str | Mapping[str, str] | None = None,
        resource_version: str | None = None,
        allow_watch_bookmarks: bool = True,
        timeout_seconds: int | None = None,
        send_initial_events: bool | None = None,
    ) -> Watch:
        """Open a watch (lazily, on first iteration). See :class:`Watch`."""
        params: dict[str, str | int | bool | None] = {
            "watch": True,
            "labelSelector": _selector_param(label_selector),
            "fieldSelector": _field_selector_param(field_selector),
            "resourceVersion": resource_version,
            "allowWatchBookmarks": allow_watch_bookmarks or None,
            "timeoutSeconds": timeout_seconds,
        }
        if send_initial_events is not None:
            params["sendInitialEvents"] = send_initial_events
            params["resourceVersionMatch"] = "NotOlderThan"
        watch = Watch(
            self, ref.path(namespace=namespace if ref.namespaced else None), params, timeout_seconds
        )
        self._watches.add(watch)
        return watch

    # -- writes --------------------------------------------------------------------------------

    @staticmethod
    def _with_type(ref: ResourceRef, body: Mapping[str, Any]) -> Object:
        out = dict(body)
        if ref.kind:
            out.setdefault("apiVersion", ref.api_version)
            out.setdefault("kind", ref.kind)
        return out

    async def create(
        self,
        ref: ResourceRef,
        body: Mapping[str, Any],
        *,
        namespace: str | None = None,
        subresource: str | None = None,
        name: str | None = None,
        field_manager: str | None = None,
        dry_run: bool = False,
    ) -> Object:
        """POST ``body``. With ``subresource`` (e.g. ``token``), POST to ``<name>/<subresource>``."""
        ns = self._ns(ref, namespace, body)
        if subresource:
            if not name:
                raise ValueError("creating a subresource needs the parent's name")
            path = ref.path(namespace=ns, name=name, subresource=subresource)
            payload = dict(body)
        else:
            path = ref.path(namespace=ns)
            payload = self._with_type(ref, body)
        params = {"fieldManager": field_manager, "dryRun": "All" if dry_run else None}
        result: Object = await self.request("POST", path, params=params, body=payload)
        return result

    async def update(
        self,
        ref: ResourceRef,
        body: Mapping[str, Any],
        *,
        namespace: str | None = None,
        subresource: str | None = None,
        field_manager: str | None = None,
        dry_run: bool = False,
    ) -> Object:
        """PUT ``body``; its ``metadata.resourceVersion`` (if any) is an optimistic-lock precondition."""
        name = str((body.get("metadata") or {}).get("name") or "")
        path = ref.path(namespace=self._ns(ref, namespace, body), name=name, subresource=subresource)
        params = {"fieldManager": field_manager, "dryRun": "All" if dry_run else None}
        result: Object = await self.request("PUT", path, params=params, body=self._with_type(ref, body))
        return result

    async def update_status(
        self,
        ref: ResourceRef,
        body: Mapping[str, Any],
        *,
        namespace: str | None = None,
        field_manager: str | None = None,
        dry_run: bool = False,
    ) -> Object:
        return await self.update(
            ref, body, namespace=namespace, subresource="status", field_manager=field_manager, dry_run=dry_run
        )

    async def patch(
        self,
        ref: ResourceRef,
        name: str,
        patch: Mapping[str, Any] | Sequence[Mapping[str, Any]],
        *,
        namespace: str | None = None,
        patch_type: PatchType = PatchType.MERGE,
        subresource: str | None = None,
        field_manager: str | None = None,
        force: bool | None = None,
        dry_run: bool = False,
    ) -> Object:
        """PATCH with a JSON merge patch (default), a JSON patch (list of ops), or an apply patch."""
        if patch_type is PatchType.APPLY and not field_manager:
            raise ValueError("server-side apply needs a field_manager")
        body_ns = patch if isinstance(patch, Mapping) else None
        path = ref.path(namespace=self._ns(ref, namespace, body_ns), name=name, subresource=subresource)
        params = {
            "fieldManager": field_manager,
            "force": force if patch_type is PatchType.APPLY else None,
            "dryRun": "All" if dry_run else None,
        }
        body: Any = list(patch) if not isinstance(patch, Mapping) else dict(patch)
        result: Object = await self.request(
            "PATCH", path, params=params, body=body, content_type=patch_type.value
        )
        return result

    async def apply(
        self,
        ref: ResourceRef,
        body: Mapping[str, Any],
        *,
        field_manager: str,
        force: bool = True,
        namespace: str | None = None,
        subresource: str | None = None,
        dry_run: bool = False,
    ) -> Object:
        """Server-side apply ``body`` (fully specified intent) as ``field_manager``."""
        name = str((body.get("metadata") or {}).get("name") or "")
        return await self.patch(
            ref,
            name,
            self._with_type(ref, body),
            namespace=namespace,
            patch_type=PatchType.APPLY,
            subresource=subresource,
            field_manager=field_manager,
            force=force,
            dry_run=dry_run,
        )

    async def delete(
        self,
        ref: ResourceRef,
        name: str,
        *,
        namespace: str | None = None,
        propagation_policy: str | None = None,
        preconditions: Preconditions | None = None,
        grace_period_seconds: int | None = None,
        dry_run: bool = False,
    ) -> Object:
        """DELETE; returns the object (when finalizers delay deletion) or a ``Status``."""
        body: dict[str, Any] = {"apiVersion": "v1", "kind": "DeleteOptions"}
        if propagation_policy:
            body["propagationPolicy"] = propagation_policy
        if preconditions is not None:
            body["preconditions"] = preconditions.to_json()
        if grace_period_seconds is not None:
            body["gracePeriodSeconds"] = grace_period_seconds
        if dry_run:
            body["dryRun"] = ["All"]
        path = ref.path(namespace=self._ns(ref, namespace), name=name)
        result: Object = await self.request("DELETE", path, body=body)
        return result

    async def delete_collection(
        self,
        ref: ResourceRef,
        *,
        namespace: str | None = None,
        label_selector: Selector | None = None,
        field_selector: str | Mapping[str, str] | None = None,
        propagation_policy: str | None = None,
        dry_run: bool = False,
    ) -> Object:
        body: dict[str, Any] = {"apiVersion": "v1", "kind": "DeleteOptions"}
        if propagation_policy:
            body["propagationPolicy"] = propagation_policy
        if dry_run:
            body["dryRun"] = ["All"]
        path = ref.path(namespace=self._ns(ref, namespace))
        params = {
            "labelSelector": _selector_param(label_selector),
            "fieldSelector": _field_selector_param(field_selector),
        }
        result: Object = await self.request("DELETE", path, params=params, body=body)
        return result

    async def server_version(self) -> Object:
        result: Object = await self.request("GET", "/version")
        return result


def _param(value: str | int | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _error(code: int, content: bytes) -> errors.ApiError:
    try:
        body = orjson.loads(content) if content else None
    except orjson.JSONDecodeError:
        body = None
    text = content[:512].decode(errors="replace") if content else ""
    return errors.ApiError.from_response(code, body, fallback_message=text)


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
        self._response: httpx.Response | None = None
        self._session: _Session | None = None
        self._lines: AsyncIterator[str] | None = None
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
        query = {k: _param(v) for k, v in self._params.items() if v is not None}
        read = (self._timeout_seconds or 1800) + _WATCH_READ_GRACE
        extensions = {**client._extensions(), "timeout": httpx.Timeout(10.0, read=read).as_dict()}
        headers = client._headers()
        started = time.monotonic()
        try:
            request = session.http.build_request(
                "GET", self._path, params=query, headers=headers, extensions=extensions
            )
            self._response = await session.http.send(request, stream=True)
        except httpx.RemoteProtocolError:
            # HTTP/2 connection ended by GOAWAY before the answer could be read: ask again over
            # HTTP/1.1 to get the real answer (see _Session).
            request = session.http1.build_request(
                "GET", self._path, params=query, headers=headers, extensions=extensions
            )
            self._response = await session.http1.send(request, stream=True)
        finally:
            code = str(self._response.status_code) if self._response is not None else "error"
            client.metrics.observe_request("WATCH", code, time.monotonic() - started)
        if not self._response.is_success:
            content = await self._response.aread()
            raise _error(self._response.status_code, content)
        self._lines = self._response.aiter_lines()

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
        lines = self._lines
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
            try:
                line = reader.result()
            except StopAsyncIteration:
                await self.aclose()
                raise
            except httpx.RemoteProtocolError:
                # The server ended the stream abruptly (e.g. it shut down): same as a timeout.
                await self.aclose()
                raise StopAsyncIteration from None
            except BaseException:
                await self.aclose()
                raise
            if not line.strip():
                continue
            event = orjson.loads(line)
            kind = str(event.get("type", ""))
            obj = event.get("object") or {}
            if kind == "ERROR":
                await self.aclose()
                raise errors.ApiError.from_status(obj if isinstance(obj, dict) else {})
            return WatchEvent(kind, obj)

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            if self._response is not None:
                await self._response.aclose()
        finally:
            if self._session is not None:
                session, self._session = self._session, None
                await session.release()


class Discovery:
    """Resolves kinds and plural names to :class:`ResourceRef` via the server's discovery API.

    Results are cached per group/version; :meth:`invalidate` drops the cache (e.g. after a CRD
    was installed). Subresources (``pods/status``) are never returned.
    """

    def __init__(self, client: ApiClient) -> None:
        self._client = client
        self._cache: dict[str, list[Object]] = {}

    async def resources(self, api_version: str) -> list[Object]:
        cached = self._cache.get(api_version)
        if cached is None:
            path = f"/apis/{api_version}" if "/" in api_version else f"/api/{api_version}"
            body = await self._client.request("GET", path)
            cached = [r for r in (body or {}).get("resources") or [] if "/" not in str(r.get("name", ""))]
            self._cache[api_version] = cached
        return cached

    def invalidate(self, api_version: str | None = None) -> None:
        if api_version is None:
            self._cache.clear()
        else:
            self._cache.pop(api_version, None)

    async def resolve(self, api_version: str, kind: str) -> ResourceRef:
        """``("apps/v1", "Deployment")`` → ``ResourceRef("apps", "v1", "deployments", ...)``."""
        for attempt in range(2):
            for res in await self.resources(api_version):
                if res.get("kind") == kind:
                    return _ref(api_version, res)
            if attempt == 0:
                self.invalidate(api_version)
        raise errors.NotFoundError(
            {
                "kind": "Status",
                "code": 404,
                "reason": "NotFound",
                "message": f"no kind {kind!r} in {api_version}",
            }
        )

    async def resolve_resource(self, api_version: str, resource: str) -> ResourceRef:
        """Like :meth:`resolve` but by plural (or singular/short) resource name."""
        for attempt in range(2):
            for res in await self.resources(api_version):
                names = {res.get("name"), res.get("singularName"), *(res.get("shortNames") or [])}
                if resource in names:
                    return _ref(api_version, res)
            if attempt == 0:
                self.invalidate(api_version)
        raise errors.NotFoundError(
            {
                "kind": "Status",
                "code": 404,
                "reason": "NotFound",
                "message": f"no resource {resource!r} in {api_version}",
            }
        )


def _ref(api_version: str, res: Mapping[str, Any]) -> ResourceRef:
    group, _, version = api_version.rpartition("/")
    return ResourceRef(
        group, version, str(res["name"]), bool(res.get("namespaced")), str(res.get("kind", ""))
    )
