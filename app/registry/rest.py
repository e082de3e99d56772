"""The generic REST store: Kubernetes API semantics for any kind, over ``app.storage``.

One :class:`RestStore` per served kind binds that kind's :class:`~app.registry.strategy.Strategy`
to the shared object store and change feed. It implements what kube-apiserver's generic registry
does for a CRD:

* create: ``generateName``, namespace checks, unknown fields (``fieldValidation``), defaults,
  validation (422 with causes), ``dryRun``, AlreadyExists;
* update (PUT): resourceVersion required and compared (409 Conflict), status kept, generation
  bumped on spec change, immutable fields, no new finalizers while deleting, a no-op write keeps
  the resourceVersion;
* patch: the caller passes a pure transform (merge/JSON patch math lives in
  ``app.aggregated.patch``) that runs inside the write transaction on the current state;
* delete: preconditions (uid, resourceVersion), finalizers → ``deletionTimestamp`` and the object
  stays until they are removed, ``propagationPolicy`` (Background, Foreground via the
  ``foregroundDeletion`` finalizer, Orphan), garbage collection of dependents inside the store;
* list / watch with label and field selectors, paging, resourceVersion semantics.
"""

from __future__ import annotations

import asyncio
import builtins
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from app.registry.strategy import Strategy
from app.storage import errors
from app.storage.changefeed import ChangeEvent, ChangeFeed, Subscription
from app.storage.objects import DELETE, ListResult, ObjectStore, WriteResult
from kubebind.apis import constants, validation
from kubebind.apis.v1alpha2 import format_time
from kubebind.kube.objects import deep_copy, new_uid
from kubebind.kube.selectors import LabelSelector

__all__ = [
    "DeleteOptions",
    "FieldSelector",
    "ListOptions",
    "RestStore",
    "WatchEvent",
    "WatchStream",
    "WriteOptions",
]

log = logging.getLogger(__name__)

FINALIZER_FOREGROUND = "foregroundDeletion"
FINALIZER_ORPHAN = "orphan"
_GENERATE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def now() -> str:
    return format_time(datetime.now(UTC))


@dataclass(frozen=True, slots=True)
class FieldSelector:
    """``fieldSelector`` restricted to what the kinds support: ``metadata.name``/``namespace``."""

    requirements: tuple[tuple[str, str, str], ...] = ()  # (field, op "="|"!=", value)

    @classmethod
    def parse(cls, text: str | None, allowed: set[str]) -> FieldSelector:
        if not text:
            return cls()
        reqs: list[tuple[str, str, str]] = []
        for part in text.split(","):
            part = part.strip()
            if not part:
                continue
            if "!=" in part:
                key, value = part.split("!=", 1)
                op = "!="
            elif "==" in part:
                key, value = part.split("==", 1)
                op = "="
            elif "=" in part:
                key, value = part.split("=", 1)
                op = "="
            else:
                raise errors.BadRequest(f'invalid field selector "{text}": {part!r} is not <field>=<value>')
            key = key.strip()
            if key not in allowed:
                raise errors.BadRequest(
                    f'"{key}" is not a known field selector: only "{", ".join(sorted(allowed))}"'
                )
            reqs.append((key, op, value.strip()))
        return cls(tuple(reqs))

    def equals(self, key: str) -> str | None:
        for k, op, v in self.requirements:
            if k == key and op == "=":
                return v
        return None

    def matches(self, fields: dict[str, str]) -> bool:
        for key, op, value in self.requirements:
            actual = fields.get(key, "")
            if (op == "=") != (actual == value):
                return False
        return True


@dataclass(slots=True)
class ListOptions:
    namespace: str | None = None
    label_selector: LabelSelector = field(default_factory=LabelSelector)
    field_selector: FieldSelector = field(default_factory=FieldSelector)
    limit: int = 0
    continue_token: str | None = None
    resource_version: str | None = None
    resource_version_match: str | None = None


@dataclass(slots=True)
class WriteOptions:
    dry_run: bool = False
    field_validation: str = "Warn"  # Strict | Warn | Ignore
    warnings: list[str] = field(default_factory=list)


@dataclass(slots=True)
class DeleteOptions:
    dry_run: bool = False
    propagation_policy: str | None = None
    precondition_uid: str | None = None
    precondition_rv: str | None = None
    grace_period_seconds: int | None = None


@dataclass(frozen=True, slots=True)
class WatchEvent:
    type: str  # ADDED | MODIFIED | DELETED | BOOKMARK | ERROR
    object: dict[str, Any]
    #: The change-feed event this came from, when it is sent with the same type (shared encoding).
    source: ChangeEvent | None = None


def _meta(obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        meta = {}
        obj["metadata"] = meta
    return meta


def _invalid(kind: str, name: str, errs: list[validation.FieldError]) -> errors.Invalid:
    return errors.Invalid(
        validation.invalid_message(kind, name, errs),
        details={
            "name": name,
            "group": constants.GROUP,
            "kind": kind,
            "causes": [e.to_status_cause() for e in errs],
        },
    )


class RestStore:
    """Kubernetes semantics for one kind; see the module docstring."""

    def __init__(
        self,
        strategy: Strategy,
        store: ObjectStore,
        feed: ChangeFeed,
        *,
        collector: GarbageCollector | None = None,
    ) -> None:
        self.strategy = strategy
        self.info = strategy.info
        self.resource = strategy.info.plural
        self._store = store
        self._feed = feed
        self._collector = collector
        self._allowed_fields = {"metadata.name"} | ({"metadata.namespace"} if self.info.namespaced else set())

    # -- helpers -------------------------------------------------------------------------------

    def _not_found(self, name: str) -> errors.NotFound:
        return errors.NotFound.of(self.resource, name, constants.GROUP)

    def _conflict(self, name: str, why: str) -> errors.Conflict:
        return errors.Conflict.of(self.resource, name, constants.GROUP, why)

    def _ns(self, namespace: str | None) -> str:
        return namespace or "" if self.info.namespaced else ""

    def parse_field_selector(self, text: str | None) -> FieldSelector:
        return FieldSelector.parse(text, self._allowed_fields)

    def _check_body_identity(self, body: dict[str, Any], namespace: str | None, name: str | None) -> None:
        meta = _meta(body)
        if self.info.namespaced:
            body_ns = meta.get("namespace")
            if body_ns and namespace and body_ns != namespace:
                raise errors.BadRequest(
                    "the namespace of the provided object does not match the namespace sent on the request"
                )
            if namespace:
                meta["namespace"] = namespace
        else:
            meta.pop("namespace", None)
        if name is not None:
            body_name = meta.get("name")
            if body_name and body_name != name:
                raise errors.BadRequest(
                    f"the name of the object ({body_name}) does not match the name on the URL ({name})"
                )
            meta["name"] = name

    def _unknown(self, body: dict[str, Any], opts: WriteOptions) -> None:
        unknown = self.strategy.unknown_fields(body)
        if unknown:
            if opts.field_validation == "Strict":
                text = ", ".join(f'unknown field "{u}"' for u in unknown)
                raise errors.BadRequest(f"strict decoding error: {text}")
            if opts.field_validation != "Ignore":
                opts.warnings.extend(f'unknown field "{u}"' for u in unknown)
            self.strategy.prune(body)

    def _check_type(self, body: dict[str, Any]) -> None:
        api_version = body.get("apiVersion")
        kind = body.get("kind")
        if (api_version and api_version != self.info.api_version) or (kind and kind != self.info.kind):
            raise errors.BadRequest(
                f"the API version in the data ({api_version}) / kind ({kind}) does not match the expected "
                f"{self.info.api_version} {self.info.kind}"
            )
        body["apiVersion"] = self.info.api_version
        body["kind"] = self.info.kind

    # -- reads ---------------------------------------------------------------------------------

    async def get(self, namespace: str | None, name: str) -> dict[str, Any]:
        obj = await self._store.get(self.resource, self._ns(namespace), name)
        if obj is None:
            raise self._not_found(name)
        return obj

    async def list(self, opts: ListOptions) -> ListResult:
        current, _ = await self._store.current_revision()
        rv = opts.resource_version
        if rv not in (None, "", "0"):
            requested = _parse_rv(rv)
            if opts.resource_version_match == "Exact" and requested != current:
                raise errors.Gone(f"too old resource version: {requested} ({current})")
            if requested > current:
                raise errors.Timeout(f"Too large resource version: {requested}, current: {current}")
        name = opts.field_selector.equals("metadata.name")
        ns = opts.namespace if self.info.namespaced else None
        field_ns = opts.field_selector.equals("metadata.namespace")
        if ns is None and field_ns is not None and self.info.namespaced:
            ns = field_ns
        result = await self._store.list(
            self.resource,
            namespace=ns,
            name=name,
            label_selector=None if opts.label_selector.empty() else opts.label_selector,
            limit=opts.limit,
            continue_token=opts.continue_token,
        )
        if opts.field_selector.requirements:
            items = [
                i for i in result.items if opts.field_selector.matches(self.strategy.selectable_fields(i))
            ]
            result = ListResult(items, result.resource_version, result.continue_token, result.remaining)
        return result

    async def watch(self, opts: ListOptions, *, send_initial_events: bool | None = None) -> WatchStream:
        """A watch per Kubernetes semantics (see :class:`WatchStream`).

        ``""``/``"0"``: synthetic ADDED events for the current state, then changes. An exact
        version: changes after it (410 Gone when compacted). ``sendInitialEvents=true``: the
        initial ADDED events and then a BOOKMARK annotated ``k8s.io/initial-events-end``.
        """
        rv = opts.resource_version or ""
        initial: list[dict[str, Any]] = []
        want_initial = rv in ("", "0") if send_initial_events is None else send_initial_events
        if want_initial:
            page = await self.list(
                ListOptions(
                    namespace=opts.namespace,
                    label_selector=opts.label_selector,
                    field_selector=opts.field_selector,
                )
            )
            initial = page.items
            start = page.resource_version
        else:
            start = _parse_rv(rv)
        sub = await self._feed.subscribe(self.resource, start)
        return WatchStream(self, sub, opts, initial, start, bool(send_initial_events))

    def bookmark(self, rv: int, *, initial_events_end: bool = False) -> dict[str, Any]:
        meta: dict[str, Any] = {"resourceVersion": str(rv)}
        if initial_events_end:
            meta["annotations"] = {"k8s.io/initial-events-end": "true"}
        return {"apiVersion": self.info.api_version, "kind": self.info.kind, "metadata": meta}

    def _filter(
        self,
        type_: str,
        obj: dict[str, Any],
        prev_labels: dict[str, str] | None,
        opts: ListOptions,
        source: ChangeEvent | None = None,
    ) -> WatchEvent | None:
        if opts.field_selector.requirements and not opts.field_selector.matches(
            self.strategy.selectable_fields(obj)
        ):
            return None
        sel = opts.label_selector
        if sel.empty():
            return WatchEvent(type_, obj, source)
        now_match = sel.matches((obj.get("metadata") or {}).get("labels"))
        if type_ == "MODIFIED" and prev_labels is not None:
            before = sel.matches(prev_labels)
            if before and not now_match:
                return WatchEvent("DELETED", obj)
            if not before and now_match:
                return WatchEvent("ADDED", obj)
        return WatchEvent(type_, obj, source) if now_match else None

    # -- create --------------------------------------------------------------------------------

    async def create(self, namespace: str | None, body: dict[str, Any], opts: WriteOptions) -> dict[str, Any]:
        self._check_type(body)
        self._check_body_identity(body, namespace if self.info.namespaced else None, None)
        if self.info.namespaced and not namespace:
            raise errors.BadRequest(
                f"{self.info.kind} is namespaced: create it under /namespaces/<namespace>/"
            )
        self._unknown(body, opts)
        meta = _meta(body)
        generate = not meta.get("name") and meta.get("generateName")
        for _attempt in range(8):
            obj = deep_copy(body)
            m = _meta(obj)
            if generate:
                m["name"] = str(m["generateName"]) + "".join(
                    secrets.choice(_GENERATE_ALPHABET) for _ in range(5)
                )
            name = str(m.get("name") or "")
            m["uid"] = new_uid()
            m["creationTimestamp"] = now()
            self.strategy.prepare_for_create(obj)
            errs = self.strategy.validate_create(obj)
            if errs:
                raise _invalid(self.info.kind, name, errs)
            if opts.dry_run:
                existing = await self._store.get(self.resource, self._ns(namespace), name)
                if existing is not None:
                    raise errors.AlreadyExists.of(self.resource, name, constants.GROUP)
                return obj

            def fn(
                current: dict[str, Any] | None, obj: dict[str, Any] = obj, name: str = name
            ) -> dict[str, Any]:
                if current is not None:
                    raise errors.AlreadyExists.of(self.resource, name, constants.GROUP)
                return obj

            try:
                result = await self._store.guaranteed_update(self.resource, self._ns(namespace), name, fn)
            except errors.AlreadyExists:
                if generate:
                    continue
                raise
            assert result is not None
            return result.object
        raise errors.AlreadyExists(f"could not generate a unique name from {meta.get('generateName')!r}")

    # -- update --------------------------------------------------------------------------------

    async def update(
        self,
        namespace: str | None,
        name: str,
        transform: Callable[[dict[str, Any]], dict[str, Any]],
        opts: WriteOptions,
        *,
        subresource: str | None = None,
        require_resource_version: bool = True,
    ) -> dict[str, Any]:
        """Replace (PUT) or patch: ``transform(current)`` returns the requested new object.

        For PUT the transform returns the body (a resourceVersion in it must match — and is
        required); for patches it applies the patch to the current object.
        """
        ns = self._ns(namespace)
        dry: dict[str, Any] = {}

        def fn(current: dict[str, Any] | None) -> dict[str, Any] | Any:
            if current is None:
                raise self._not_found(name)
            requested = transform(deep_copy(current))
            if not isinstance(requested, dict):
                raise errors.BadRequest("the request body must be a JSON object")
            self._check_type(requested)
            self._check_body_identity(requested, namespace if self.info.namespaced else None, name)
            req_meta = _meta(requested)
            cur_meta = _meta(current)
            req_rv = req_meta.get("resourceVersion")
            if req_rv:
                if str(req_rv) != str(cur_meta.get("resourceVersion")):
                    raise self._conflict(
                        name,
                        "the object has been modified; "
                        "please apply your changes to the latest version and try again",
                    )
            elif require_resource_version:
                raise _invalid(
                    self.info.kind,
                    name,
                    [
                        validation.FieldError(
                            validation.ErrorType.INVALID,
                            "metadata.resourceVersion",
                            "must be specified for an update",
                            0,
                        )
                    ],
                )
            req_uid = req_meta.get("uid")
            if req_uid and req_uid != cur_meta.get("uid"):
                raise self._conflict(
                    name,
                    f"Precondition failed: UID in precondition: {req_uid}, "
                    f"UID in object meta: {cur_meta.get('uid')}",
                )
            self._unknown(requested, opts)
            if subresource == "status":
                new = self.strategy.prepare_for_status_update(requested, current)
            else:
                new = requested
                self.strategy.prepare_for_update(new, current)
            new_meta = _meta(new)
            new_meta["resourceVersion"] = cur_meta.get("resourceVersion")
            errs = self.strategy.validate_update(new, current)
            if errs:
                raise _invalid(self.info.kind, name, errs)
            if cur_meta.get("deletionTimestamp"):
                added = set(new_meta.get("finalizers") or []) - set(cur_meta.get("finalizers") or [])
                if added:
                    raise _invalid(
                        self.info.kind,
                        name,
                        [
                            validation.FieldError(
                                validation.ErrorType.FORBIDDEN,
                                "metadata.finalizers",
                                "no new finalizers can be added if the object is being deleted, "
                                f"found new finalizers {sorted(added)}",
                            )
                        ],
                    )
                if not new_meta.get("finalizers"):
                    if opts.dry_run:
                        dry["obj"] = new
                        raise _DryRun
                    return DELETE
            if opts.dry_run:
                dry["obj"] = new
                raise _DryRun
            if new == current:
                return current
            return new

        try:
            result = await self._store.guaranteed_update(self.resource, ns, name, fn)
        except _DryRun:
            return dict(dry["obj"])
        if result is None:
            current = await self._store.get(self.resource, ns, name)
            if current is None:
                raise self._not_found(name)
            return current
        if result.type == "DELETED":
            await self._after_delete(result)
        return result.object

    # -- delete --------------------------------------------------------------------------------

    async def delete(
        self, namespace: str | None, name: str, opts: DeleteOptions
    ) -> tuple[dict[str, Any], bool]:
        """Delete or mark for deletion; returns (object, deleted-now)."""
        ns = self._ns(namespace)
        policy = opts.propagation_policy
        if policy not in (None, "", "Background", "Foreground", "Orphan"):
            raise _invalid(
                self.info.kind,
                name,
                [
                    validation.FieldError(
                        validation.ErrorType.NOT_SUPPORTED,
                        "propagationPolicy",
                        'supported values: "Background", "Foreground", "Orphan"',
                        policy,
                    )
                ],
            )
        dry: dict[str, Any] = {}

        def fn(current: dict[str, Any] | None) -> dict[str, Any] | Any:
            if current is None:
                raise self._not_found(name)
            meta = _meta(current)
            if opts.precondition_uid and opts.precondition_uid != meta.get("uid"):
                raise self._conflict(
                    name,
                    f"Precondition failed: UID in precondition: {opts.precondition_uid}, "
                    f"UID in object meta: {meta.get('uid')}",
                )
            if opts.precondition_rv and opts.precondition_rv != meta.get("resourceVersion"):
                raise self._conflict(
                    name,
                    "the ResourceVersion in the precondition "
                    f"({opts.precondition_rv}) does not match the ResourceVersion in record "
                    f"({meta.get('resourceVersion')}). "
                    "The object might have been modified",
                )
            finalizers = list(meta.get("finalizers") or [])
            if policy == "Foreground" and FINALIZER_FOREGROUND not in finalizers:
                finalizers.append(FINALIZER_FOREGROUND)
            if policy == "Orphan" and FINALIZER_ORPHAN not in finalizers:
                finalizers.append(FINALIZER_ORPHAN)
            if not finalizers:
                if opts.dry_run:
                    dry["obj"] = current
                    dry["deleted"] = True
                    raise _DryRun
                return DELETE
            new = deep_copy(current)
            new_meta = _meta(new)
            new_meta["finalizers"] = finalizers
            if not new_meta.get("deletionTimestamp"):
                new_meta["deletionTimestamp"] = now()
                new_meta["deletionGracePeriodSeconds"] = 0
            if opts.dry_run:
                dry["obj"] = new
                dry["deleted"] = False
                raise _DryRun
            return new

        try:
            result = await self._store.guaranteed_update(self.resource, ns, name, fn)
        except _DryRun:
            return dict(dry["obj"]), bool(dry["deleted"])
        if result is None:
            current = await self.get(namespace, name)
            return current, False
        if result.type == "DELETED":
            await self._after_delete(result)
            return result.object, True
        if self._collector is not None:
            self._collector.kick()
        return result.object, False

    async def _after_delete(self, result: WriteResult) -> None:
        if self._collector is not None:
            self._collector.kick()

    async def delete_collection(
        self, opts: ListOptions, delete_opts: DeleteOptions
    ) -> builtins.list[dict[str, Any]]:
        page = await self.list(
            ListOptions(
                namespace=opts.namespace,
                label_selector=opts.label_selector,
                field_selector=opts.field_selector,
            )
        )
        out: list[dict[str, Any]] = []
        for item in page.items:
            meta = item.get("metadata") or {}
            try:
                obj, _ = await self.delete(meta.get("namespace"), str(meta.get("name")), delete_opts)
                out.append(obj)
            except errors.NotFound:
                continue
        return out


class WatchStream:
    """Initial events, then filtered change events of one watch; close it when done."""

    def __init__(
        self,
        rest: RestStore,
        sub: Subscription,
        opts: ListOptions,
        initial: list[dict[str, Any]],
        start: int,
        initial_events_end: bool,
    ) -> None:
        self._rest = rest
        self._sub = sub
        self._opts = opts
        self._initial = initial
        self._start = start
        self._initial_events_end = initial_events_end
        self._namespace = opts.namespace if rest.info.namespaced else None

    @property
    def gone(self) -> bool:
        return self._sub.gone

    def initial_events(self) -> list[WatchEvent]:
        out = [WatchEvent("ADDED", obj) for obj in self._initial]
        if self._initial_events_end:
            out.append(WatchEvent("BOOKMARK", self._rest.bookmark(self._start, initial_events_end=True)))
        return out

    def bookmark(self) -> dict[str, Any]:
        return self._rest.bookmark(self._sub.position)

    async def next(self, wait: float) -> WatchEvent | bool | None:
        """The next matching event; ``False`` on timeout, ``None`` when the feed closed the watch."""
        deadline = asyncio.get_running_loop().time() + wait
        while True:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                return False
            change = await self._sub.get(remaining)
            if change is None or change is False:
                return change
            assert not isinstance(change, bool)
            if self._namespace is not None and change.namespace != self._namespace:
                continue
            out = self._rest._filter(change.type, change.object, change.prev_labels, self._opts, change)
            if out is not None:
                return out

    def close(self) -> None:
        self._sub.close()


class _DryRun(Exception):
    """Aborts the write transaction of a dry run after validation (nothing is stored)."""


def _parse_rv(rv: str) -> int:
    try:
        value = int(rv)
    except ValueError as exc:
        raise errors.BadRequest(f"invalid resource version {rv!r}: must be an integer") from exc
    if value < 0:
        raise errors.BadRequest(f"invalid resource version {rv!r}")
    return value


class GarbageCollector:
    """Deletes dependents whose kube-bind.io owners are gone; finishes Foreground/Orphan deletion.

    Runs on every delete (``kick``) and periodically. Only owner references with
    ``apiVersion: kube-bind.io/…`` are judged here (their owners live in this store); owners in
    kube-apiserver are the business of kube-controller-manager's collector, which also sees this
    API through discovery.
    """

    def __init__(self, store: ObjectStore, stores: dict[str, RestStore], *, interval: float = 30.0) -> None:
        self._store = store
        self._stores = stores
        self._interval = interval
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def kick(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="garbage-collector")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass
            self._task = None

    async def _loop(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), self._interval)
            except TimeoutError:
                pass
            self._wake.clear()
            try:
                while await self.sweep():
                    pass
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("garbage collector sweep failed")

    async def sweep(self) -> bool:
        """One pass; returns True when it changed something (another pass may find more)."""
        changed = False
        # Only dependents (objects with owner references) and objects being deleted matter.
        objects = [(r, o) for r, o in await self._store.gc_candidates() if r in self._stores]
        wanted: set[str] = set()
        for _resource, obj in objects:
            meta = obj.get("metadata") or {}
            wanted.add(str(meta.get("uid")))
            wanted.update(
                str(ref.get("uid")) for ref in meta.get("ownerReferences") or [] if isinstance(ref, dict)
            )
        uids = await self._store.by_uids(wanted)
        for resource, obj in objects:
            meta = obj.get("metadata") or {}
            refs = [r for r in meta.get("ownerReferences") or [] if isinstance(r, dict)]
            ours = [r for r in refs if str(r.get("apiVersion", "")).startswith(constants.GROUP + "/")]
            if not ours:
                continue
            alive = []
            for ref in ours:
                owner = uids.get(str(ref.get("uid")))
                if owner is None:
                    continue
                owner_meta = owner[1].get("metadata") or {}
                deleting_foreground = owner_meta.get("deletionTimestamp") and FINALIZER_FOREGROUND in (
                    owner_meta.get("finalizers") or []
                )
                orphaning = owner_meta.get("deletionTimestamp") and FINALIZER_ORPHAN in (
                    owner_meta.get("finalizers") or []
                )
                if deleting_foreground:
                    continue
                if orphaning:
                    await self._drop_owner_ref(resource, obj, str(ref.get("uid")))
                    changed = True
                    alive.append(ref)
                    continue
                alive.append(ref)
            external = len(refs) - len(ours)
            if not alive and not external and not meta.get("deletionTimestamp"):
                store = self._stores[resource]
                try:
                    await store.delete(meta.get("namespace"), str(meta.get("name")), DeleteOptions())
                    changed = True
                except (errors.NotFound, errors.Conflict):
                    pass
        # Finish owners whose special finalizers are satisfied.
        for resource, obj in objects:
            meta = obj.get("metadata") or {}
            if not meta.get("deletionTimestamp"):
                continue
            finalizers = list(meta.get("finalizers") or [])
            uid = str(meta.get("uid"))
            dependents = [
                o
                for _r, o in objects
                if uid in [str(x.get("uid")) for x in (o.get("metadata") or {}).get("ownerReferences") or []]
            ]
            remove: set[str] = set()
            if FINALIZER_FOREGROUND in finalizers and not dependents:
                remove.add(FINALIZER_FOREGROUND)
            if FINALIZER_ORPHAN in finalizers and not dependents:
                remove.add(FINALIZER_ORPHAN)
            if remove:
                await self._remove_finalizers(resource, obj, remove)
                changed = True
        return changed

    async def _drop_owner_ref(self, resource: str, obj: dict[str, Any], uid: str) -> None:
        store = self._stores[resource]
        meta = obj.get("metadata") or {}

        def transform(current: dict[str, Any]) -> dict[str, Any]:
            m = _meta(current)
            m["ownerReferences"] = [r for r in m.get("ownerReferences") or [] if str(r.get("uid")) != uid]
            if not m["ownerReferences"]:
                del m["ownerReferences"]
            return current

        try:
            await store.update(meta.get("namespace"), str(meta.get("name")), transform, WriteOptions())
        except (errors.NotFound, errors.Conflict):
            pass

    async def _remove_finalizers(self, resource: str, obj: dict[str, Any], remove: set[str]) -> None:
        store = self._stores[resource]
        meta = obj.get("metadata") or {}

        def transform(current: dict[str, Any]) -> dict[str, Any]:
            m = _meta(current)
            m["finalizers"] = [f for f in m.get("finalizers") or [] if f not in remove]
            return current

        try:
            await store.update(meta.get("namespace"), str(meta.get("name")), transform, WriteOptions())
        except (errors.NotFound, errors.Conflict):
            pass
