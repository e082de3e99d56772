"""An async Kubernetes API client working on plain JSON objects.

Why not the ``kubernetes`` package's client: it is synchronous (threads per watch), generated per
kind, and cannot serve CRDs only known at runtime without its slow dynamic client. kube-bind needs
many concurrent watches (one per bound resource and namespace), server-side apply, and credential
rotation while watches run. This client is one :class:`ApiClient` per API server and credential:

* **Transport** (:mod:`kubebind.kube.transport`): pooled keep-alive HTTP/1.1 connections of our
  own (:mod:`kubebind.kube.http11`, a fifth of httpx's CPU per request), or with ``http2=True``
  an ``httpx.AsyncClient`` speaking HTTP/2 when the server offers it (watches then share a
  connection as streams); JSON bodies encoded/decoded with orjson, every request throttled by a
  client-side token bucket (``qps``/``burst``, :mod:`kubebind.kube.ratelimit`).
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
import time
import weakref
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import httpx
import orjson

from kubebind.kube import errors, http11, transport
from kubebind.kube.discovery import Discovery
from kubebind.kube.kubeconfig import RestConfig, load_kubeconfig, load_kubeconfig_dict
from kubebind.kube.metrics import NOOP_REQUEST_METRICS, RequestMetrics
from kubebind.kube.ratelimit import Clock, TokenBucket
from kubebind.kube.resources import Object, ResourceRef
from kubebind.kube.transport import Selector
from kubebind.kube.watch import Watch, WatchEvent

__all__ = ["ApiClient", "Discovery", "PatchType", "Preconditions", "Watch", "WatchEvent"]

log = logging.getLogger(__name__)


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
        self._session = transport.Session(config, http2=http2, timeout=timeout)
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
            self._session = transport.Session(config, http2=self._http2, timeout=self._timeout)
            old.retired = True
            if old.active == 0:
                # Called from the event loop (as everything here); the pool closes in the background.
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
        query = transport.query(params)
        content = orjson.dumps(body) if body is not None else None
        if content is not None and content_type is None:
            content_type = "application/json"
        http1 = False
        for attempt in range(transport.MAX_RETRIES + 1):
            await self._throttle()
            session = self._session
            session.active += 1
            started = time.monotonic()
            code = "error"
            try:
                response: httpx.Response | http11.Response
                if http1 or not session.http2:
                    response = await session.pool.request(
                        method,
                        path,
                        params=query,
                        headers=self._headers(content_type),
                        content=content,
                        timeout=request_timeout,
                    )
                else:
                    response = await session.http.request(
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
                # GOAWAY, see transport.Session); a request that may have been processed is only repeated
                # when it is a read.
                unsent = isinstance(exc, httpx.ConnectError | httpx.WriteError)
                if attempt < transport.MAX_RETRIES and (method in transport.IDEMPOTENT or unsent):
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
            retry_after = response.headers.get("retry-after")
            if response.status_code in (429, 503) and retry_after and attempt < transport.MAX_RETRIES:
                with contextlib.suppress(ValueError):
                    await asyncio.sleep(min(max(float(retry_after), 0.0), 10.0))
                    continue
            raise transport.decode_error(response.status_code, response.content)
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
            "labelSelector": transport.selector_param(label_selector),
            "fieldSelector": transport.field_selector_param(field_selector),
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
            "labelSelector": transport.selector_param(label_selector),
            "fieldSelector": transport.field_selector_param(field_selector),
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
            "labelSelector": transport.selector_param(label_selector),
            "fieldSelector": transport.field_selector_param(field_selector),
        }
        result: Object = await self.request("DELETE", path, params=params, body=body)
        return result

    async def server_version(self) -> Object:
        result: Object = await self.request("GET", "/version")
        return result
