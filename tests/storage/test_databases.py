"""The database fixtures give a real, empty, writable database on SQLite and on Postgres."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

pytestmark = pytest.mark.postgres


async def test_database_is_real_and_isolated(database_url: str) -> None:
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(sa.text("CREATE TABLE probe (id INTEGER PRIMARY KEY, value TEXT)"))
            await conn.execute(sa.text("INSERT INTO probe (id, value) VALUES (1, 'x'), (2, 'y')"))
        async with engine.connect() as conn:
            rows = (await conn.execute(sa.text("SELECT value FROM probe ORDER BY id"))).scalars().all()
            assert rows == ["x", "y"]
            if engine.dialect.name == "postgresql":
                version = (await conn.execute(sa.text("SHOW server_version"))).scalar_one()
                assert int(str(version).split(".")[0]) >= 13
            else:
                assert engine.dialect.name == "sqlite"
        # Constraints are enforced: the database is not a dict in disguise.
        with pytest.raises(sa.exc.IntegrityError):
            async with engine.begin() as conn:
                await conn.execute(sa.text("INSERT INTO probe (id, value) VALUES (1, 'dup')"))
    finally:
        await engine.dispose()


async def test_each_test_gets_an_empty_database(database_url: str) -> None:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            tables = await conn.run_sync(lambda c: sa.inspect(c).get_table_names())
            assert "probe" not in tables
    finally:
        await engine.dispose()
