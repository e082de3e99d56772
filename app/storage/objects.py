"""The object store: current state, global resourceVersions, selectors, paging, guaranteed update.

Contract (what the registry relies on):

* Every write runs in one transaction that increments ``kb_revision.current`` (row lock on
  Postgres, the database write lock on SQLite). Writes are therefore serialised and commit in
  resourceVersion order; the new version is written to the object and to a ``kb_changes`` row in
  the same transaction, so the change log is complete. (On Postgres a create that loses a race
  for its name can leave a version unused; versions are never reused or reordered.)
* :meth:`ObjectStore.guaranteed_update` hands the current state (or ``None``) to a pure callback;
  the callback returns the new object, :data:`DELETE`, or raises a
  :class:`~app.storage.errors.StatusError`. The write only commits if the object is still the
  state the callback saw (a locked compare-and-swap, redone under a row lock when it loses a
  race), so preconditions (resourceVersion, uid) checked there are race-free across replicas.
* :meth:`ObjectStore.list` reads the revision and the rows in one snapshot (REPEATABLE READ on
  Postgres, a ``BEGIN`` snapshot on SQLite), so a watch started from the returned version sees
  every later change exactly once. Continue tokens carry that version and the last key; later
  pages return current data and report the first page's version (so a following watch may
  repeat a change, never miss one).
* After commit, :class:`WriteListener` callbacks are invoked (the change feed wakes watchers) and,
  on Postgres, ``pg_notify`` tells the other replicas.

Point reads, writes and change-log reads go to the drivers directly (:mod:`app.storage.direct`);
lists and compaction on Postgres use the SQLAlchemy engine.
"""

from __future__ import annotations

import base64
import binascii
import builtins
import re
import sqlite3
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final, NamedTuple

import orjson
from sqlalchemy import delete, false, func, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.storage import engine as engines
from app.storage import errors
from app.storage.direct import PostgresDirect, SqliteDirect, postgres_dsn, sqlite_path
from app.storage.rows import ChangeRow, ObjectRow, RevisionRow
from kubebind.kube.selectors import LabelSelector

__all__ = ["DELETE", "NOTIFY_CHANNEL", "ListResult", "ObjectStore", "WriteResult", "dumps", "loads"]

NOTIFY_CHANNEL: Final = "kube_bind_changes"


class _Delete:
    def __repr__(self) -> str:
        return "DELETE"


#: Returned by an update callback to delete the object.
DELETE: Final = _Delete()

UpdateFn = Callable[[dict[str, Any] | None], "dict[str, Any] | _Delete"]


def dumps(obj: Any) -> str:
    return orjson.dumps(obj).decode()


def loads(data: str | bytes) -> Any:
    return orjson.loads(data)


class ChangeRecord(NamedTuple):
    """One ``kb_changes`` row."""

    resource_version: int
    resource: str
    namespace: str
    name: str
    type: str
    data: str
    prev_labels: str | None
    created_at: float


@dataclass(frozen=True, slots=True)
class WriteResult:
    type: str  # ADDED | MODIFIED | DELETED
    object: dict[str, Any]
    resource_version: int


@dataclass(frozen=True, slots=True)
class ListResult:
    items: list[dict[str, Any]]
    resource_version: int
    continue_token: str | None
    remaining: int | None


def _owner_uids(obj: dict[str, Any]) -> str:
    refs = (obj.get("metadata") or {}).get("ownerReferences") or []
    return " ".join(str(r.get("uid")) for r in refs if isinstance(r, dict) and r.get("uid"))


def encode_continue(rv: int, namespace: str, name: str) -> str:
    raw = dumps({"v": "kb1", "rv": rv, "ns": namespace, "name": name})
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_continue(token: str) -> tuple[int, str, str]:
    try:
        padded = token + "=" * (-len(token) % 4)
        data = loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(data, dict) or data.get("v") != "kb1":
            raise ValueError("unknown version")
        return int(data["rv"]), str(data["ns"]), str(data["name"])
    except (ValueError, KeyError, TypeError, binascii.Error, orjson.JSONDecodeError) as exc:
        raise errors.BadRequest(f"invalid continue token: {exc}") from exc


class _NoChange(Exception):
    """Raised inside the write transaction when the callback changed nothing (rolls back)."""


WriteListener = Callable[[int], Awaitable[None] | None]


class ObjectStore:
    """See the module docstring. One per process, shared by every request."""

    def __init__(self, engine: AsyncEngine, *, group: str, pool_size: int = 10) -> None:
        self._engine = engine
        self._group = group
        self._reader = engines.reader(engine)
        self._listeners: list[WriteListener] = []
        self._pg: PostgresDirect | None = None
        self._sqlite: SqliteDirect | None = None
        if engine.dialect.name == "postgresql":
            self._pg = PostgresDirect(postgres_dsn(engine.url), max_size=pool_size)
        else:
            self._sqlite = SqliteDirect(sqlite_path(engine.url))

    async def close(self) -> None:
        """Close the direct driver connections (the engine is the caller's to dispose)."""
        if self._pg is not None:
            await self._pg.close()
        if self._sqlite is not None:
            await self._sqlite.close()

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    @property
    def is_postgres(self) -> bool:
        return self._pg is not None

    def add_write_listener(self, listener: WriteListener) -> None:
        self._listeners.append(listener)

    async def _notify(self, rv: int) -> None:
        for listener in self._listeners:
            result = listener(rv)
            if result is not None:
                await result

    # -- reads ----------------------------------------------------------------------------------

    async def _snapshot(self) -> AsyncConnection:
        conn = await self._engine.connect()
        if self._pg is not None:
            await conn.execution_options(isolation_level="REPEATABLE READ")
        else:
            await conn.execution_options(**{engines.TRANSACTION_OPTION: True})
        await conn.begin()
        return conn

    async def current_revision(self) -> tuple[int, int]:
        """(current resourceVersion, compacted-through resourceVersion)."""
        if self._sqlite is not None:
            row = self._sqlite.read(_fetchone, _REVISION)
        else:
            assert self._pg is not None
            row = await (await self._pg.pool()).fetchrow(_REVISION)
        return (int(row[0]), int(row[1])) if row else (0, 0)

    async def get(self, resource: str, namespace: str, name: str) -> dict[str, Any] | None:
        if self._sqlite is not None:
            row = self._sqlite.read(_fetchone, _SQLITE_GET, resource, namespace, name)
            found: str | None = row[0] if row is not None else None
        else:
            assert self._pg is not None
            found = await (await self._pg.pool()).fetchval(_PG_GET, resource, namespace, name)
        return loads(found) if found is not None else None

    async def list(
        self,
        resource: str,
        *,
        namespace: str | None = None,
        name: str | None = None,
        label_selector: LabelSelector | None = None,
        limit: int = 0,
        continue_token: str | None = None,
        batch: int = 500,
    ) -> ListResult:
        """Objects of ``resource`` (optionally in one namespace / with one name), ordered by key."""
        start: tuple[str, str] | None = None
        token_rv: int | None = None
        if continue_token:
            token_rv, ns0, name0 = decode_continue(continue_token)
            start = (ns0, name0)
        conn = await self._snapshot()
        try:
            rev = (await conn.execute(select(RevisionRow.current))).scalar_one_or_none() or 0
            conds: list[Any] = [ObjectRow.resource == resource]
            if namespace is not None:
                conds.append(ObjectRow.namespace == namespace)
            if name is not None:
                conds.append(ObjectRow.name == name)
            items: list[dict[str, Any]] = []
            last_key: tuple[str, str] | None = None
            more = False
            cursor = start
            while True:
                stmt = select(ObjectRow.namespace, ObjectRow.name, ObjectRow.data).where(*conds)
                if cursor is not None:
                    stmt = stmt.where(tuple_(ObjectRow.namespace, ObjectRow.name) > tuple_(*cursor))
                stmt = stmt.order_by(ObjectRow.namespace, ObjectRow.name).limit(batch)
                rows = (await conn.execute(stmt)).all()
                for ns_, name_, data in rows:
                    cursor = (ns_, name_)
                    obj = loads(data)
                    if label_selector is not None and not label_selector.matches(
                        (obj.get("metadata") or {}).get("labels")
                    ):
                        continue
                    if limit and len(items) >= limit:
                        more = True
                        break
                    items.append(obj)
                    last_key = (ns_, name_)
                if more or len(rows) < batch:
                    break
        finally:
            await conn.rollback()
            await conn.close()
        list_rv = token_rv if token_rv is not None else int(rev)
        token = encode_continue(list_rv, *last_key) if more and last_key is not None else None
        return ListResult(items=items, resource_version=list_rv, continue_token=token, remaining=None)

    async def find_dependents(self, owner_uid: str) -> builtins.list[tuple[str, str, str]]:
        """(resource, namespace, name) of every object with an ownerReference to ``owner_uid``."""
        async with self._reader.connect() as conn:
            rows = (
                await conn.execute(
                    select(ObjectRow.resource, ObjectRow.namespace, ObjectRow.name).where(
                        ObjectRow.owner_uids.contains(owner_uid)
                    )
                )
            ).all()
        return [(str(r[0]), str(r[1]), str(r[2])) for r in rows]

    async def gc_candidates(self) -> builtins.list[tuple[str, dict[str, Any]]]:
        """(resource, object) of every object with owner references or a deletionTimestamp."""
        async with self._reader.connect() as conn:
            rows = (
                await conn.execute(
                    select(ObjectRow.resource, ObjectRow.data).where(
                        or_(ObjectRow.owner_uids != "", ObjectRow.data.contains('"deletionTimestamp"'))
                    )
                )
            ).all()
        return [(str(r[0]), loads(r[1])) for r in rows]

    async def by_uids(self, uids: set[str]) -> dict[str, tuple[str, dict[str, Any]]]:
        """uid -> (resource, object) for those of ``uids`` that exist."""
        out: dict[str, tuple[str, dict[str, Any]]] = {}
        ordered = sorted(uids)
        async with self._reader.connect() as conn:
            for i in range(0, len(ordered), 500):
                chunk = ordered[i : i + 500]
                rows = (
                    await conn.execute(
                        select(ObjectRow.uid, ObjectRow.resource, ObjectRow.data).where(
                            ObjectRow.uid.in_(chunk)
                        )
                    )
                ).all()
                for uid, resource, data in rows:
                    out[str(uid)] = (str(resource), loads(data))
        return out

    async def namespaces_in_use(self) -> set[str]:
        async with self._reader.connect() as conn:
            rows = (await conn.execute(select(ObjectRow.namespace).distinct())).scalars().all()
        return {str(r) for r in rows if r}

    # -- change log -------------------------------------------------------------------------------

    async def changes_since(self, after_rv: int, *, limit: int = 1000) -> builtins.list[ChangeRecord]:
        """Change-log rows after ``after_rv``, in order (the change feed's hot path)."""
        if self._sqlite is not None:
            rows = self._sqlite.read(_fetchall, _SQLITE_CHANGES, after_rv, limit)
        else:
            assert self._pg is not None
            rows = await (await self._pg.pool()).fetch(_PG_CHANGES, after_rv, limit)
        return [ChangeRecord(*tuple(r)) for r in rows]

    async def compact(self, *, older_than_seconds: float, keep_min: int) -> int:
        """Drop change-log entries older than the retention, always keeping the newest ``keep_min``.

        Returns the new compacted-through resourceVersion; watches from below it get 410 Gone.
        """
        cutoff_time = time.time() - older_than_seconds
        if self._sqlite is not None:
            # on the writer thread: compaction waits its turn instead of contending for the lock
            return await self._sqlite.write(_sqlite_compact, cutoff_time, keep_min)
        async with self._engine.connect() as raw:
            conn = await raw.execution_options(**{engines.TRANSACTION_OPTION: True})
            await conn.begin()
            current, compacted = (
                await conn.execute(select(RevisionRow.current, RevisionRow.compacted))
            ).one()
            by_time = (
                await conn.execute(
                    select(func.max(ChangeRow.resource_version)).where(ChangeRow.created_at < cutoff_time)
                )
            ).scalar_one_or_none() or 0
            target = _compaction_target(int(current), int(by_time), keep_min)
            if target <= int(compacted):
                await conn.rollback()
                return int(compacted)
            await conn.execute(delete(ChangeRow).where(ChangeRow.resource_version <= target))
            await conn.execute(update(RevisionRow).where(RevisionRow.id == 1).values(compacted=target))
            await conn.commit()
        return target

    # -- writes -----------------------------------------------------------------------------------

    async def guaranteed_update(
        self, resource: str, namespace: str, name: str, fn: UpdateFn
    ) -> WriteResult | None:
        """Read-modify-write one object atomically; see the module docstring.

        Returns ``None`` when ``fn`` returned the current object unchanged (no write, no event).
        """
        try:
            if self._pg is not None:
                final, event, rv = await self._write_postgres(resource, namespace, name, fn)
            else:
                final, event, rv = await self._write(resource, namespace, name, fn)
        except _NoChange:
            return None
        await self._notify(int(rv))
        return WriteResult(type=event, object=final, resource_version=int(rv))

    async def _write_postgres(
        self, resource: str, namespace: str, name: str, fn: UpdateFn
    ) -> tuple[dict[str, Any], str, int]:
        """Postgres: read, run ``fn``, then one statement under the revision lock.

        The revision row lock (which orders commits by resourceVersion) is held only for a single
        data-modifying CTE plus its commit: it bumps the counter, writes the object with the new
        version spliced into its JSON, appends the change-log row and sends the NOTIFY.

        First attempt, optimistic (two round trips, no explicit transaction): the statement only
        writes if the object is still at the version ``fn`` saw (compare-and-swap on the locked
        row; nothing is bumped or logged otherwise). If it lost a race, the write is redone
        pessimistically: ``BEGIN``, lock the object row, ``fn`` again, the statement, ``COMMIT``.
        """
        assert self._pg is not None
        async with (await self._pg.pool()).acquire() as pg:
            existing = await pg.fetchrow(_PG_GET_ROW, resource, namespace, name)
            done = await self._write_postgres_once(pg, resource, namespace, name, fn, existing, cas=True)
            if done is not None:
                return done
            async with pg.transaction():
                existing = await pg.fetchrow(_PG_GET_ROW + " FOR UPDATE", resource, namespace, name)
                done = await self._write_postgres_once(pg, resource, namespace, name, fn, existing, cas=False)
            assert done is not None
            return done

    async def _write_postgres_once(
        self,
        pg: Any,
        resource: str,
        namespace: str,
        name: str,
        fn: UpdateFn,
        existing: Any,
        *,
        cas: bool,
    ) -> tuple[dict[str, Any], str, int] | None:
        """One attempt; ``None`` when ``cas`` and the object changed since ``existing`` was read."""
        current = loads(existing[1]) if existing is not None else None
        result = fn(current)
        params: dict[str, Any] = {
            "resource": resource,
            "namespace": namespace,
            "name": name,
            "created": time.time(),
            "channel": NOTIFY_CHANNEL,
            "prev_labels": None,
        }
        if isinstance(result, _Delete):
            if existing is None or current is None:
                raise errors.NotFound.of(resource, name, self._group)
            event, doc = "DELETED", current
            # USING doc: a data-modifying CTE always runs; without a bumped revision (a lost
            # compare-and-swap) this one must delete nothing.
            obj_sql = "DELETE FROM kb_objects USING doc WHERE kb_objects.id = :id RETURNING kb_objects.id"
        elif existing is None:
            event, doc = "ADDED", result
            obj_sql = (
                "INSERT INTO kb_objects "
                "(resource, namespace, name, uid, resource_version, owner_uids, data) "
                "SELECT :resource, :namespace, :name, :uid, doc.current, :owner_uids, doc.data FROM doc "
                "ON CONFLICT ON CONSTRAINT uq_kb_objects_key DO NOTHING RETURNING id"
            )
            params["uid"] = str((result.get("metadata") or {}).get("uid") or "")
            params["owner_uids"] = _owner_uids(result)
        else:
            if current is not None and result == current:
                raise _NoChange
            assert current is not None
            event, doc = "MODIFIED", result
            obj_sql = (
                "UPDATE kb_objects SET resource_version = doc.current, owner_uids = :owner_uids, "
                "data = doc.data FROM doc WHERE kb_objects.id = :id RETURNING kb_objects.id"
            )
            params["owner_uids"] = _owner_uids(result)
            params["prev_labels"] = dumps((current.get("metadata") or {}).get("labels") or {})
        if existing is not None:
            params["id"] = existing[0]
        doc.setdefault("metadata", {})["resourceVersion"] = "0"
        params["data"] = dumps(doc)
        params["type"] = event
        if cas and existing is not None:
            # Lock the row only if it is still at the version read; else bump nothing.
            params["expected"] = existing[2]
            guard = (
                "target AS (SELECT id FROM kb_objects WHERE id = :id AND resource_version = :expected "
                "FOR UPDATE), "
            )
            rev_where = "id = 1 AND EXISTS (SELECT 1 FROM target)"
        else:
            guard, rev_where = "", "id = 1"
        sql = (
            f"WITH {guard}rev AS (UPDATE kb_revision SET current = current + 1 WHERE {rev_where} "
            "RETURNING current), "
            "doc AS (SELECT current, CAST(jsonb_set(CAST(:data AS jsonb), '{metadata,resourceVersion}', "
            "to_jsonb(CAST(current AS text))) AS text) AS data FROM rev), "
            f"obj AS ({obj_sql}), "
            "ch AS (INSERT INTO kb_changes (resource_version, resource, namespace, name, type, data, "
            "prev_labels, created_at) SELECT doc.current, :resource, :namespace, :name, :type, doc.data, "
            ":prev_labels, :created FROM doc WHERE EXISTS (SELECT 1 FROM obj)) "
            "SELECT doc.current, doc.data, (SELECT count(*) FROM obj) AS written, "
            "pg_notify(:channel, CAST(doc.current AS text)) FROM doc"
        )
        query, args = _positional(sql, params)
        row = await pg.fetchrow(query, *args)
        if row is None or int(row[2]) == 0:
            if cas:
                # Lost a race: changed (no row: nothing was bumped) or created concurrently
                # (an insert conflict leaves an unused resourceVersion, which is harmless).
                return None
            raise errors.AlreadyExists.of(resource, name, self._group)
        return loads(row[1]), event, int(row[0])

    async def _write(
        self, resource: str, namespace: str, name: str, fn: UpdateFn
    ) -> tuple[dict[str, Any], str, int]:
        """SQLite: the whole transaction runs as one call on the writer thread.

        A write is six statements; running them together (one thread hand-off instead of six, in
        the writer thread's queue) is what makes SQLite writes fast. ``fn`` is pure and runs on
        that thread too.
        """
        assert self._sqlite is not None
        return await self._sqlite.write(_sqlite_transaction, resource, namespace, name, fn, self._group)

    async def keys(
        self, resource: str, *, namespace: str | None = None, names: Sequence[str] | None = None
    ) -> builtins.list[tuple[str, str]]:
        conds: list[Any] = [ObjectRow.resource == resource]
        if namespace is not None:
            conds.append(ObjectRow.namespace == namespace)
        if names is not None:
            conds.append(or_(*(ObjectRow.name == n for n in names)) if names else false())
        async with self._reader.connect() as conn:
            rows = (
                await conn.execute(
                    select(ObjectRow.namespace, ObjectRow.name)
                    .where(*conds)
                    .order_by(ObjectRow.namespace, ObjectRow.name)
                )
            ).all()
        return [(str(r[0]), str(r[1])) for r in rows]


def _sqlite_transaction(
    db: sqlite3.Connection, resource: str, namespace: str, name: str, fn: UpdateFn, group: str
) -> tuple[dict[str, Any], str, int]:
    """One write on the SQLite worker thread (see ``ObjectStore._write``): BEGIN IMMEDIATE … COMMIT."""
    db.execute("BEGIN IMMEDIATE")
    try:
        rv = int(
            db.execute(
                "UPDATE kb_revision SET current = current + 1 WHERE id = 1 RETURNING current"
            ).fetchone()[0]
        )
        row = db.execute(
            "SELECT id, data FROM kb_objects WHERE resource = ? AND namespace = ? AND name = ?",
            (resource, namespace, name),
        ).fetchone()
        current = loads(row[1]) if row is not None else None
        result = fn(current)
        prev_labels: str | None = None
        if isinstance(result, _Delete):
            if row is None or current is None:
                raise errors.NotFound.of(resource, name, group)
            final = current
            final.setdefault("metadata", {})["resourceVersion"] = str(rv)
            db.execute("DELETE FROM kb_objects WHERE id = ?", (row[0],))
            event = "DELETED"
        else:
            if current is not None and result == current:
                raise _NoChange
            final = result
            meta = final.setdefault("metadata", {})
            meta["resourceVersion"] = str(rv)
            data = dumps(final)
            if row is None:
                db.execute(
                    "INSERT INTO kb_objects "
                    "(resource, namespace, name, uid, resource_version, owner_uids, data) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (resource, namespace, name, str(meta.get("uid") or ""), rv, _owner_uids(final), data),
                )
                event = "ADDED"
            else:
                db.execute(
                    "UPDATE kb_objects SET resource_version = ?, owner_uids = ?, data = ? WHERE id = ?",
                    (rv, _owner_uids(final), data, row[0]),
                )
                event = "MODIFIED"
                assert current is not None
                prev_labels = dumps((current.get("metadata") or {}).get("labels") or {})
        db.execute(
            "INSERT INTO kb_changes (resource_version, resource, namespace, name, type, data, prev_labels, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (rv, resource, namespace, name, event, dumps(final), prev_labels, time.time()),
        )
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return final, event, rv


def _compaction_target(current: int, newest_expired: int, keep_min: int) -> int:
    """Compact through the newest expired change, but always keep the newest ``keep_min``."""
    return min(newest_expired, current - keep_min)


def _sqlite_compact(db: sqlite3.Connection, cutoff_time: float, keep_min: int) -> int:
    """:meth:`ObjectStore.compact` on the SQLite writer thread."""
    db.execute("BEGIN IMMEDIATE")
    try:
        current, compacted = db.execute(_REVISION).fetchone()
        newest_expired = db.execute(
            "SELECT max(resource_version) FROM kb_changes WHERE created_at < ?", (cutoff_time,)
        ).fetchone()[0]
        target = _compaction_target(int(current), int(newest_expired or 0), keep_min)
        if target <= int(compacted):
            db.execute("ROLLBACK")
            return int(compacted)
        db.execute("DELETE FROM kb_changes WHERE resource_version <= ?", (target,))
        db.execute("UPDATE kb_revision SET compacted = ? WHERE id = 1", (target,))
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return target


def _fetchone(db: sqlite3.Connection, sql: str, *args: Any) -> Any:
    return db.execute(sql, args).fetchone()


def _fetchall(db: sqlite3.Connection, sql: str, *args: Any) -> builtins.list[Any]:
    return db.execute(sql, args).fetchall()


_REVISION = "SELECT current, compacted FROM kb_revision WHERE id = 1"
_SQLITE_GET = "SELECT data FROM kb_objects WHERE resource = ? AND namespace = ? AND name = ?"
_PG_GET = "SELECT data FROM kb_objects WHERE resource = $1 AND namespace = $2 AND name = $3"
_PG_GET_ROW = (
    "SELECT id, data, resource_version FROM kb_objects WHERE resource = $1 AND namespace = $2 AND name = $3"
)
_POSITIONAL_CACHE: dict[str, tuple[str, tuple[str, ...]]] = {}


def _positional(sql: str, params: dict[str, Any]) -> tuple[str, list[Any]]:
    """``:name`` parameters to asyncpg's ``$n`` (cached per statement text)."""
    cached = _POSITIONAL_CACHE.get(sql)
    if cached is None:
        names: list[str] = []

        def number(m: re.Match[str]) -> str:
            if m.group(1) not in names:
                names.append(m.group(1))
            return f"${names.index(m.group(1)) + 1}"

        cached = (re.sub(r"(?<!:):(\w+)", number, sql), tuple(names))
        _POSITIONAL_CACHE[sql] = cached
    return cached[0], [params[n] for n in cached[1]]


_CHANGE_COLUMNS = "resource_version, resource, namespace, name, type, data, prev_labels, created_at"
_PG_CHANGES = (
    f"SELECT {_CHANGE_COLUMNS} FROM kb_changes WHERE resource_version > $1 ORDER BY resource_version LIMIT $2"
)


_SQLITE_CHANGES = (
    f"SELECT {_CHANGE_COLUMNS} FROM kb_changes WHERE resource_version > ? ORDER BY resource_version LIMIT ?"
)
