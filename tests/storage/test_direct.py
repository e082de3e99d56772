"""Direct driver access of the object store (``app.storage.direct``) on real SQLite and Postgres."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from app.storage import engine as engines
from app.storage import errors, migrate
from app.storage.direct import SqliteDirect, postgres_dsn, sqlite_path
from app.storage.objects import _PG_GET_ROW, DELETE, ObjectStore


def _fresh(name: str) -> Any:
    def fn(_cur: dict[str, Any] | None) -> dict[str, Any]:
        return {"metadata": {"name": name}}

    return fn


def test_sqlite_path_refuses_in_memory_databases() -> None:
    assert sqlite_path(make_url("sqlite+aiosqlite:///./kube-bind.db")) == "./kube-bind.db"
    for url in ("sqlite+aiosqlite://", "sqlite+aiosqlite:///:memory:"):
        with pytest.raises(ValueError, match="in-memory"):
            sqlite_path(make_url(url))


def test_postgres_dsn_keeps_credentials_and_drops_the_driver() -> None:
    dsn = postgres_dsn(make_url("postgresql+asyncpg://kb:s3cret@db.example:5433/kube_bind"))
    assert dsn == "postgresql://kb:s3cret@db.example:5433/kube_bind"


async def test_sqlite_writes_run_one_at_a_time_on_one_thread(tmp_path: Path) -> None:
    path = str(tmp_path / "d.db")
    setup = sqlite3.connect(path)
    setup.execute("CREATE TABLE t (v INTEGER)")
    setup.commit()
    setup.close()
    direct = SqliteDirect(path)
    threads: set[str] = set()
    active = 0
    overlap = False

    def insert(db: sqlite3.Connection, v: int) -> int:
        nonlocal active, overlap
        threads.add(threading.current_thread().name)
        active += 1
        overlap = overlap or active > 1
        db.execute("INSERT INTO t VALUES (?)", (v,))
        active -= 1
        return v

    try:
        done = await asyncio.gather(*(direct.write(insert, i) for i in range(50)))
        assert done == list(range(50))
        assert not overlap
        assert len(threads) == 1 and threads.pop().startswith("sqlite-writer")
        # read-your-writes: the inline reader sees what the writer thread committed
        assert direct.read(lambda db: db.execute("SELECT count(*) FROM t").fetchone()[0]) == 50
    finally:
        await direct.close()
        await direct.close()  # idempotent


async def test_store_reads_writes_and_closes_on_the_direct_drivers(database_url: str) -> None:
    eng = engines.create_engine(database_url)
    await migrate.upgrade(eng)
    store = ObjectStore(eng, group="kube-bind.io")
    try:
        names = [f"o{i}" for i in range(30)]
        results = await asyncio.gather(
            *(store.guaranteed_update("things", "ns", n, _fresh(n)) for n in names)
        )
        versions = sorted(r.resource_version for r in results if r is not None)
        assert len(set(versions)) == 30  # one global version per write, none shared
        current, _ = await store.current_revision()
        assert current == versions[-1]
        got: Any = await store.get("things", "ns", "o7")
        assert got is not None and got["metadata"]["resourceVersion"] in {str(v) for v in versions}
        assert await store.get("things", "ns", "missing") is None
        changes = await store.changes_since(versions[0] - 1)
        assert [c.resource_version for c in changes] == versions
    finally:
        await store.close()
        await eng.dispose()


async def test_concurrent_writes_to_one_object_lose_no_update(database_url: str) -> None:
    """Racing read-modify-writes: each lands exactly once (Postgres: CAS, then the locked retry)."""
    eng = engines.create_engine(database_url)
    await migrate.upgrade(eng)
    store = ObjectStore(eng, group="kube-bind.io")

    def increment(cur: dict[str, Any] | None) -> dict[str, Any]:
        assert cur is not None
        return {**cur, "spec": {"count": cur["spec"]["count"] + 1}}

    def create_once(cur: dict[str, Any] | None) -> dict[str, Any]:
        if cur is not None:
            raise errors.AlreadyExists.of("things", "same", "kube-bind.io")
        return {"metadata": {"name": "same"}, "spec": {"count": 0}}

    try:
        created = await asyncio.gather(
            *(store.guaranteed_update("things", "ns", "same", create_once) for _ in range(10)),
            return_exceptions=True,
        )
        assert sum(1 for r in created if not isinstance(r, BaseException)) == 1
        assert all(isinstance(r, errors.AlreadyExists) for r in created if isinstance(r, BaseException))
        results = await asyncio.gather(
            *(store.guaranteed_update("things", "ns", "same", increment) for _ in range(25))
        )
        final: Any = await store.get("things", "ns", "same")
        assert final["spec"]["count"] == 25
        versions = [r.resource_version for r in results if r is not None]
        assert len(set(versions)) == 25
        assert final["metadata"]["resourceVersion"] == str(max(versions))
        logged = [c for c in await store.changes_since(0) if c.name == "same"]
        assert [c.type for c in logged] == ["ADDED"] + ["MODIFIED"] * 25
    finally:
        await store.close()
        await eng.dispose()


async def test_a_lost_compare_and_swap_writes_nothing(postgres_server: Any) -> None:
    """Postgres: an optimistic write against a stale read bumps, logs and changes nothing."""
    url = postgres_server.create_database(f"t_{uuid.uuid4().hex[:12]}")
    eng = engines.create_engine(url)
    await migrate.upgrade(eng)
    store = ObjectStore(eng, group="kube-bind.io")
    try:
        await store.guaranteed_update("things", "ns", "x", _fresh("x"))
        assert store._pg is not None
        pool = await store._pg.pool()
        async with pool.acquire() as pg:
            stale = await pg.fetchrow(_PG_GET_ROW, "things", "ns", "x")
        changed = await store.guaranteed_update(
            "things", "ns", "x", lambda cur: {**(cur or {}), "spec": {"v": 2}}
        )
        assert changed is not None
        before, _ = await store.current_revision()
        for fn in (lambda _cur: DELETE, lambda cur: {**(cur or {}), "spec": {"v": 3}}):
            async with pool.acquire() as pg:
                lost = await store._write_postgres_once(pg, "things", "ns", "x", fn, stale, cas=True)
            assert lost is None
        assert (await store.current_revision())[0] == before
        kept: Any = await store.get("things", "ns", "x")
        assert kept["spec"] == {"v": 2}
        assert [c.type for c in await store.changes_since(0)] == ["ADDED", "MODIFIED"]
    finally:
        await store.close()
        await eng.dispose()
