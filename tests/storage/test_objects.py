"""Object store, migrations and change feed on real SQLite and Postgres."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import inspect

from app.storage import engine as engines
from app.storage import errors, migrate
from app.storage.changefeed import ChangeFeed
from app.storage.objects import DELETE, ObjectStore
from app.storage.rows import Base


def _fresh(name: str) -> Any:
    def fn(_cur: dict[str, Any] | None) -> dict[str, Any]:
        return {"metadata": {"name": name}}

    return fn


async def _tables(eng: Any) -> set[str]:
    async with eng.connect() as conn:
        return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))


async def test_migrations_upgrade_and_downgrade(database_url: str) -> None:
    eng = engines.create_engine(database_url)
    try:
        assert not await _tables(eng) - {"alembic_version"}
        with pytest.raises(migrate.SchemaOutdated):
            await migrate.ensure_schema(eng, migrate=False)
        await migrate.upgrade(eng)
        tables = await _tables(eng)
        assert set(Base.metadata.tables) <= tables
        assert await migrate.current_revisions(eng) == migrate.head_revisions()
        await migrate.ensure_schema(eng, migrate=False)  # at head: fine
        await migrate.downgrade(eng)
        assert not (await _tables(eng) & set(Base.metadata.tables))
        await migrate.upgrade(eng)  # and back up again
        assert set(Base.metadata.tables) <= await _tables(eng)
    finally:
        await eng.dispose()


async def test_store_versions_changes_and_compaction(database_url: str) -> None:
    eng = engines.create_engine(database_url)
    await migrate.upgrade(eng)
    store = ObjectStore(eng, group="kube-bind.io")
    feed = ChangeFeed(store, poll_interval=0.2)
    await feed.start()
    try:
        start, _ = await store.current_revision()
        sub = await feed.subscribe("things", start)
        r1 = await store.guaranteed_update(
            "things", "ns", "a", lambda cur: {"metadata": {"name": "a", "uid": "1"}}
        )
        assert r1 is not None and r1.type == "ADDED"
        with pytest.raises(errors.AlreadyExists):

            def exists(cur: Any) -> Any:
                if cur is not None:
                    raise errors.AlreadyExists.of("things", "a", "kube-bind.io")
                return {}

            await store.guaranteed_update("things", "ns", "a", exists)
        # a no-op write does not bump the version
        assert await store.guaranteed_update("things", "ns", "a", lambda cur: dict(cur or {})) is None
        r2 = await store.guaranteed_update("things", "ns", "a", lambda cur: {**(cur or {}), "spec": {"x": 1}})
        r3 = await store.guaranteed_update("things", "ns", "a", lambda cur: DELETE)
        assert r2 is not None and r3 is not None
        assert r1.resource_version < r2.resource_version < r3.resource_version
        seen = []
        for _ in range(3):
            ev = await sub.get(5)
            assert ev not in (None, False)
            seen.append((ev.type, ev.resource_version))
        assert seen == [
            ("ADDED", r1.resource_version),
            ("MODIFIED", r2.resource_version),
            ("DELETED", r3.resource_version),
        ]
        sub.close()
        # concurrent writers get distinct, gap-free versions
        results = await asyncio.gather(
            *(store.guaranteed_update("things", "ns", f"n{i}", _fresh(f"n{i}")) for i in range(20))
        )
        versions = sorted(r.resource_version for r in results if r is not None)
        assert versions == list(range(versions[0], versions[0] + 20))
        page = await store.list("things", namespace="ns", limit=7)
        assert len(page.items) == 7 and page.continue_token
        rest = await store.list("things", namespace="ns", continue_token=page.continue_token)
        assert len(rest.items) == 13 and rest.resource_version == page.resource_version
        compacted = await store.compact(older_than_seconds=0, keep_min=5)
        assert compacted > start
        with pytest.raises(errors.Gone):
            await feed.subscribe("things", start)
        late = await feed.subscribe("things", compacted)
        late.close()
    finally:
        await feed.stop()
        await store.close()
        await eng.dispose()
