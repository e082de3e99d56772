"""HTTP routes of the kube-bind.io/v1alpha2 API group, discovery and OpenAPI.

Paths, verbs, query parameters and bodies follow kube-apiserver's REST conventions:

* ``/apis/kube-bind.io/v1alpha2[/namespaces/{ns}]/{resource}[/{name}[/status]]`` (plus the legacy
  ``/watch/`` prefix), verbs get/list/watch/create/update/patch/delete/deletecollection;
* every request is authenticated (``app.deps.authenticate``) and authorized with the same
  attributes kube-apiserver would use (verb, resource, subresource, namespace, name);
* bodies are JSON (YAML accepted for create/update/apply), bounded by ``max_body_bytes``;
* errors are ``Status`` objects (``app.aggregated.status``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import orjson
import yaml
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from app import deps
from app.aggregated import discovery, openapi, patch, table, watch
from app.auth.authorizer import Attributes
from app.registry.rest import DeleteOptions, ListOptions, RestStore, WriteOptions
from app.storage import errors
from kubebind.apis import constants
from kubebind.kube.selectors import LabelSelector

log = logging.getLogger(__name__)

BASE = f"/apis/{constants.GROUP}/{constants.VERSION}"
_JSON = "application/json"


def _json(
    body: Any, status: int = 200, headers: dict[str, str] | None = None, media: str = _JSON
) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type=media, headers=headers)


def _warnings(opts: WriteOptions) -> dict[str, str] | None:
    if not opts.warnings:
        return None
    return {"Warning": ", ".join(f'299 - "{w.replace(chr(34), chr(39))}"' for w in opts.warnings)}


async def _read_body(request: Request, limit: int) -> bytes:
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > limit:
        raise errors.RequestEntityTooLarge(f"the request body is larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise errors.RequestEntityTooLarge(f"the request body is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _decode(raw: bytes, content_type: str) -> Any:
    media = content_type.split(";")[0].strip().lower()
    if not raw.strip():
        raise errors.BadRequest("the request body is empty")
    if media in ("application/yaml", "application/apply-patch+yaml", "text/yaml"):
        try:
            return yaml.safe_load(raw)
        except yaml.YAMLError as exc:
            raise errors.BadRequest(f"the request body is not valid YAML: {exc}") from exc
    if media in ("", _JSON, patch.MERGE, patch.JSON_PATCH, patch.STRATEGIC, "*/*"):
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise errors.BadRequest(f"the request body is not valid JSON: {exc}") from exc
    raise errors.UnsupportedMediaType(
        "the body of the request was in an unknown format - "
        f'accepted media types include: "{_JSON}", "application/yaml"'
    )


def _write_options(request: Request) -> WriteOptions:
    q = request.query_params
    dry = q.getlist("dryRun")
    for d in dry:
        if d != "All":
            raise errors.BadRequest(f'invalid dryRun value {d!r}: only "All" is supported')
    fv = q.get("fieldValidation") or "Warn"
    if fv not in ("Strict", "Warn", "Ignore"):
        raise errors.BadRequest(f"invalid fieldValidation {fv!r}: Strict, Warn or Ignore")
    return WriteOptions(dry_run=bool(dry), field_validation=fv)


def _int_param(request: Request, name: str) -> int | None:
    value = request.query_params.get(name)
    if value in (None, ""):
        return None
    try:
        out = int(value)
    except ValueError as exc:
        raise errors.BadRequest(f"invalid {name} {value!r}: must be an integer") from exc
    if out < 0:
        raise errors.BadRequest(f"invalid {name} {value!r}: must not be negative")
    return out


def _bool_param(request: Request, name: str) -> bool | None:
    value = request.query_params.get(name)
    if value is None or value == "":
        return None
    return value.lower() in ("true", "1")


def _list_options(request: Request, rest: RestStore, namespace: str | None) -> ListOptions:
    q = request.query_params
    try:
        selector = LabelSelector.parse(q.get("labelSelector") or "")
    except ValueError as exc:
        raise errors.BadRequest(f"unable to parse requirement: {exc}") from exc
    return ListOptions(
        namespace=namespace,
        label_selector=selector,
        field_selector=rest.parse_field_selector(q.get("fieldSelector")),
        limit=_int_param(request, "limit") or 0,
        continue_token=q.get("continue") or None,
        resource_version=q.get("resourceVersion"),
        resource_version_match=q.get("resourceVersionMatch") or None,
    )


class _Target:
    def __init__(
        self, rest: RestStore, namespace: str | None, name: str | None, sub: str | None, watch: bool
    ) -> None:
        self.rest = rest
        self.namespace = namespace
        self.name = name
        self.sub = sub
        self.watch = watch


def _resolve(backend: deps.Backend, path: str) -> _Target:
    parts = [p for p in path.split("/") if p]
    watch_prefix = False
    if parts and parts[0] == "watch":
        watch_prefix = True
        parts = parts[1:]
    namespace: str | None = None
    if len(parts) >= 3 and parts[0] == "namespaces":
        namespace = parts[1]
        parts = parts[2:]
    if not parts or len(parts) > 3:
        raise errors.NotFound("the server could not find the requested resource")
    rest = backend.rest.get(parts[0])
    if rest is None or (namespace is not None and not rest.info.namespaced):
        raise errors.NotFound("the server could not find the requested resource")
    name = parts[1] if len(parts) >= 2 else None
    sub = parts[2] if len(parts) == 3 else None
    if sub is not None and (sub != "status" or not rest.info.status_subresource):
        raise errors.NotFound("the server could not find the requested resource")
    return _Target(rest, namespace, name, sub, watch_prefix)


def _verb(request: Request, target: _Target) -> str:
    method = request.method
    if method == "GET":
        if target.watch or _bool_param(request, "watch"):
            return "watch"
        return "get" if target.name else "list"
    if method == "POST":
        return "create"
    if method == "PUT":
        return "update"
    if method == "PATCH":
        return "patch"
    if method == "DELETE":
        return "delete" if target.name else "deletecollection"
    raise errors.MethodNotAllowed(f"method {method} is not supported")


def _render(request: Request, rest: RestStore) -> Callable[[dict[str, Any]], dict[str, Any]]:
    wanted = table.negotiate(request.headers.get("accept", ""))
    if wanted == "PartialObjectMetadata":
        return table.partial_metadata
    if wanted == "Table":
        include = request.query_params.get("includeObject") or "Metadata"

        def to_table(obj: dict[str, Any]) -> dict[str, Any]:
            return table.table(rest.info, [obj], include=include)

        return to_table
    return lambda obj: obj


def _render_key(request: Request) -> str | None:
    """Cache key of ``_render``'s output: Tables contain an age, so they are never shared."""
    wanted = table.negotiate(request.headers.get("accept", ""))
    return None if wanted == "Table" else (wanted or "json")


def build_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    async def _nonresource(request: Request, path: str) -> None:
        # Discovery and OpenAPI are readable by every authenticated caller, as kube-apiserver's
        # system:discovery role grants; the aggregator fetches them as "system:aggregator"
        # without groups, so a SubjectAccessReview would wrongly deny it.
        await deps.authenticate(request)

    # Registered first: every resource request is matched against the routes in order, and
    # this one (the hot path) cannot shadow the others (they are not below BASE + "/").
    @router.api_route(BASE + "/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    async def resource(request: Request, path: str) -> Response:
        backend = deps.get_backend(request)
        started = time.perf_counter()
        target = _resolve(backend, path)
        verb = _verb(request, target)
        rest = target.rest
        code = 500
        try:
            user = await deps.authenticate(request)
            await deps.authorize(
                request,
                user,
                Attributes(
                    verb=verb,
                    group=constants.GROUP,
                    version=constants.VERSION,
                    resource=rest.resource,
                    subresource=target.sub or "",
                    namespace=target.namespace or "",
                    name=target.name or "",
                ),
            )
            response = await _dispatch(request, backend, target, verb)
            code = response.status_code
            return response
        except errors.StatusError as exc:
            code = exc.code
            raise
        finally:
            elapsed = time.perf_counter() - started
            backend.metrics.requests.labels(verb, rest.resource, str(code)).inc()
            if verb != "watch":
                backend.metrics.latency.labels(verb, rest.resource).observe(elapsed)
            if log.isEnabledFor(logging.DEBUG) or code >= 500:
                log.log(
                    logging.ERROR if code >= 500 else logging.DEBUG,
                    "request verb=%s resource=%s namespace=%s name=%s code=%s ms=%.1f",
                    verb,
                    rest.resource,
                    target.namespace or "",
                    target.name or "",
                    code,
                    elapsed * 1000,
                )

    @router.get("/apis")
    async def apis(request: Request) -> Response:
        await _nonresource(request, "/apis")
        backend = deps.get_backend(request)
        version = discovery.negotiate_aggregated(request.headers.get("accept", ""))
        if version is not None:
            media = discovery.AGGREGATED_V2 if version == "v2" else discovery.AGGREGATED_V2BETA1
            kinds = tuple(r.info for r in backend.rest.values())
            return _json(
                discovery.aggregated_discovery(kinds, version), media=media, headers={"Vary": "Accept"}
            )
        return _json(discovery.api_group_list(), headers={"Vary": "Accept"})

    @router.get(f"/apis/{constants.GROUP}")
    async def group(request: Request) -> Response:
        await _nonresource(request, f"/apis/{constants.GROUP}")
        return _json(discovery.api_group())

    @router.get(BASE)
    async def group_version(request: Request) -> Response:
        await _nonresource(request, BASE)
        backend = deps.get_backend(request)
        return _json(discovery.api_resource_list(tuple(r.info for r in backend.rest.values())))

    @router.get("/openapi/v2")
    async def openapi_v2(request: Request) -> Response:
        await _nonresource(request, "/openapi/v2")
        backend = deps.get_backend(request)
        data = openapi.v2_document(tuple(r.info for r in backend.rest.values()))
        tag = openapi.etag(data)
        if request.headers.get("if-none-match", "").strip('"') == tag:
            return Response(status_code=304, headers={"ETag": f'"{tag}"'})
        return Response(data, media_type=_JSON, headers={"ETag": f'"{tag}"'})

    @router.get("/openapi/v3")
    async def openapi_v3(request: Request) -> Response:
        await _nonresource(request, "/openapi/v3")
        backend = deps.get_backend(request)
        return _json(openapi.v3_index(tuple(r.info for r in backend.rest.values())))

    @router.get(f"/openapi/v3/apis/{constants.GROUP}/{constants.VERSION}")
    async def openapi_v3_group(request: Request) -> Response:
        await _nonresource(request, f"/openapi/v3/apis/{constants.GROUP}/{constants.VERSION}")
        backend = deps.get_backend(request)
        data = openapi.v3_group_document(tuple(r.info for r in backend.rest.values()))
        tag = openapi.etag(data)
        headers = {
            "ETag": f'"{tag}"',
            "Cache-Control": "public, immutable" if request.query_params.get("hash") else "no-cache",
        }
        if request.headers.get("if-none-match", "").strip('"') == tag:
            return Response(status_code=304, headers=headers)
        return Response(data, media_type=_JSON, headers=headers)

    return router


async def _dispatch(request: Request, backend: deps.Backend, target: _Target, verb: str) -> Response:
    rest = target.rest
    settings = backend.settings
    if verb == "get":
        assert target.name is not None
        obj = await rest.get(target.namespace, target.name)
        return _json(_render(request, rest)(obj))
    if verb == "list":
        opts = _list_options(request, rest, target.namespace)
        if not opts.limit and settings.list_default_limit:
            opts.limit = settings.list_default_limit
        result = await rest.list(opts)
        wanted = table.negotiate(request.headers.get("accept", ""))
        if wanted == "Table":
            return _json(
                table.table(
                    rest.info,
                    result.items,
                    include=request.query_params.get("includeObject") or "Metadata",
                    resource_version=str(result.resource_version),
                    continue_token=result.continue_token,
                )
            )
        meta: dict[str, Any] = {"resourceVersion": str(result.resource_version)}
        if result.continue_token:
            meta["continue"] = result.continue_token
        if wanted == "PartialObjectMetadata":
            return _json(table.partial_metadata_list(result.items, meta))
        return _json(
            {
                "apiVersion": rest.info.api_version,
                "kind": rest.info.list_kind,
                "metadata": meta,
                "items": result.items,
            }
        )
    if verb == "watch":
        opts = _list_options(request, rest, target.namespace)
        if target.name:
            from app.registry.rest import FieldSelector

            opts.field_selector = FieldSelector(
                (*opts.field_selector.requirements, ("metadata.name", "=", target.name))
            )
        send_initial = _bool_param(request, "sendInitialEvents")
        if send_initial is not None and opts.resource_version_match != "NotOlderThan":
            raise errors.Invalid(
                "sendInitialEvents is only supported with resourceVersionMatch=NotOlderThan",
                details={"causes": [{"reason": "FieldValueForbidden", "field": "sendInitialEvents"}]},
            )
        timeout = _int_param(request, "timeoutSeconds")
        try:
            stream = await rest.watch(opts, send_initial_events=send_initial)
        except errors.Gone as exc:
            return Response(watch.encode("ERROR", exc.status()), media_type=_JSON)
        body = watch.stream(
            stream,
            duration=float(timeout) if timeout else 1800.0,
            bookmarks=bool(_bool_param(request, "allowWatchBookmarks")),
            bookmark_interval=settings.watch_bookmark_interval_seconds,
            render=_render(request, rest),
            metrics=backend.metrics,
            resource=rest.resource,
            render_key=_render_key(request),
        )
        return StreamingResponse(body, media_type=_JSON, headers={"Cache-Control": "no-cache, private"})
    if verb == "create":
        if target.name:
            raise errors.MethodNotAllowed("POST is not allowed on an individual object")
        opts_w = _write_options(request)
        data = _decode(
            await _read_body(request, settings.max_body_bytes), request.headers.get("content-type", "")
        )
        if not isinstance(data, dict):
            raise errors.BadRequest("the request body must be a JSON object")
        if rest.info.namespaced and target.namespace:
            await backend.namespaces.admit_create(target.namespace)
        obj = await rest.create(target.namespace, data, opts_w)
        return _json(obj, status=201, headers=_warnings(opts_w))
    if verb == "update":
        assert target.name is not None
        opts_w = _write_options(request)
        data = _decode(
            await _read_body(request, settings.max_body_bytes), request.headers.get("content-type", "")
        )
        if not isinstance(data, dict):
            raise errors.BadRequest("the request body must be a JSON object")
        obj = await rest.update(
            target.namespace, target.name, lambda _cur: data, opts_w, subresource=target.sub
        )
        return _json(obj, headers=_warnings(opts_w))
    if verb == "patch":
        assert target.name is not None
        return await _patch(request, backend, target)
    if verb == "delete":
        assert target.name is not None
        del_opts = await _delete_options(request, settings.max_body_bytes)
        obj, _deleted = await rest.delete(target.namespace, target.name, del_opts)
        return _json(obj)
    if verb == "deletecollection":
        del_opts = await _delete_options(request, settings.max_body_bytes)
        items = await rest.delete_collection(_list_options(request, rest, target.namespace), del_opts)
        return _json(
            {"apiVersion": rest.info.api_version, "kind": rest.info.list_kind, "metadata": {}, "items": items}
        )
    raise errors.MethodNotAllowed(f"verb {verb} is not supported")


async def _patch(request: Request, backend: deps.Backend, target: _Target) -> Response:
    rest = target.rest
    assert target.name is not None
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media == patch.STRATEGIC:
        raise errors.UnsupportedMediaType(
            "the body of the request was in an unknown format - "
            f"accepted media types include: {', '.join(patch.SUPPORTED)}"
        )
    if media not in patch.SUPPORTED:
        raise errors.UnsupportedMediaType(
            "the body of the request was in an unknown format - "
            f"accepted media types include: {', '.join(patch.SUPPORTED)}"
        )
    opts = _write_options(request)
    body = _decode(await _read_body(request, backend.settings.max_body_bytes), media)
    if media == patch.APPLY:
        if not request.query_params.get("fieldManager"):
            raise errors.BadRequest(
                'PatchOptions.meta.k8s.io "" is invalid: '
                "fieldManager: Required value: is required for apply patch"
            )
        if not isinstance(body, dict):
            raise errors.BadRequest("an apply patch must be an object")
        try:
            return _json(
                await rest.update(
                    target.namespace,
                    target.name,
                    lambda cur: patch.apply_patch(cur, body),
                    opts,
                    subresource=target.sub,
                    require_resource_version=False,
                ),
                headers=_warnings(opts),
            )
        except errors.NotFound:
            if target.sub:
                raise
            if rest.info.namespaced and target.namespace:
                await backend.namespaces.admit_create(target.namespace)
            return _json(
                await rest.create(target.namespace, dict(body), opts), status=201, headers=_warnings(opts)
            )

    def transform(current: dict[str, Any]) -> dict[str, Any]:
        if media == patch.JSON_PATCH:
            result = patch.json_patch(current, body)
        else:
            if not isinstance(body, dict):
                raise errors.BadRequest("a merge patch must be a JSON object")
            result = patch.merge_patch(current, body)
        if not isinstance(result, dict):
            raise errors.BadRequest("the patched object is not a JSON object")
        return result

    obj = await rest.update(
        target.namespace, target.name, transform, opts, subresource=target.sub, require_resource_version=False
    )
    return _json(obj, headers=_warnings(opts))


async def _delete_options(request: Request, limit: int) -> DeleteOptions:
    q = request.query_params
    opts = DeleteOptions()
    raw = await _read_body(request, limit)
    body: dict[str, Any] = {}
    if raw.strip():
        try:
            parsed = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise errors.BadRequest(f"the DeleteOptions body is not valid JSON: {exc}") from exc
        if not isinstance(parsed, dict):
            raise errors.BadRequest("DeleteOptions must be a JSON object")
        body = parsed
    dry = list(body.get("dryRun") or []) + q.getlist("dryRun")
    for d in dry:
        if d != "All":
            raise errors.BadRequest(f'invalid dryRun value {d!r}: only "All" is supported')
    opts.dry_run = bool(dry)
    opts.propagation_policy = body.get("propagationPolicy") or q.get("propagationPolicy")
    orphan = body.get("orphanDependents")
    if orphan is None and q.get("orphanDependents") is not None:
        orphan = q.get("orphanDependents", "").lower() == "true"
    if orphan is not None and opts.propagation_policy:
        raise errors.Invalid("orphanDependents and propagationPolicy may not both be set")
    if orphan is True:
        opts.propagation_policy = "Orphan"
    pre = body.get("preconditions") or {}
    opts.precondition_uid = pre.get("uid")
    opts.precondition_rv = pre.get("resourceVersion")
    return opts
