"""Run or check the alembic migrations from inside the application.

The schema is created only by the migrations in ``migrations/``. At start the backend either runs
``upgrade head`` (``KUBE_BIND_MIGRATE_ON_START=true``, the default; concurrent replicas on Postgres
serialise on an advisory lock) or refuses to start when the database is not at head.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

_ROOT = Path(__file__).resolve().parents[2]
_ADVISORY_LOCK_ID = 0x6B62_0001


class SchemaOutdated(RuntimeError):
    """The database is not at the newest migration and the backend must not start."""


def alembic_config() -> Config:
    cfg = Config(str(_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(_ROOT / "migrations"))
    return cfg


def head_revisions() -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config()).get_heads())


def _current(connection: Connection) -> set[str]:
    return set(MigrationContext.configure(connection).get_current_heads())


async def current_revisions(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        return await conn.run_sync(_current)


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """``alembic upgrade <revision>`` on ``engine``."""

    def _run(connection: Connection) -> None:
        cfg = alembic_config()
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)

    async with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            await conn.execute(text("SELECT pg_advisory_lock(:id)"), {"id": _ADVISORY_LOCK_ID})
            await conn.commit()
        try:
            await conn.run_sync(_run)
            await conn.commit()
        finally:
            if engine.dialect.name == "postgresql":
                await conn.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": _ADVISORY_LOCK_ID})
                await conn.commit()


async def downgrade(engine: AsyncEngine, revision: str = "base") -> None:
    def _run(connection: Connection) -> None:
        cfg = alembic_config()
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, revision)

    async with engine.connect() as conn:
        await conn.run_sync(_run)
        await conn.commit()


async def ensure_schema(engine: AsyncEngine, *, migrate: bool) -> None:
    """Upgrade to head, or raise :class:`SchemaOutdated` if ``migrate`` is false and not at head."""
    if migrate:
        await upgrade(engine)
        return
    current = await current_revisions(engine)
    heads = head_revisions()
    if current != heads:
        raise SchemaOutdated(
            f"database schema is at {sorted(current) or 'nothing'}, the backend needs {sorted(heads)}: "
            "run `alembic upgrade head` (or start with KUBE_BIND_MIGRATE_ON_START=true)"
        )
