"""Async engine and session factory for SQLite (embedded default) and Postgres.

SQLite needs these adjustments to behave like a database server for us: WAL journaling plus a busy
timeout (several connections, one writer at a time), and explicit ``BEGIN`` so that a read
transaction is a real snapshot (pysqlite otherwise runs SELECTs outside any transaction, and a
list could read the revision counter and the rows from different states).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

SessionFactory = async_sessionmaker[AsyncSession]

#: Execution option asking SQLite for a real ``BEGIN`` (snapshot reads, atomic writes).
TRANSACTION_OPTION = "kb_transaction"


def create_engine(url: str, *, pool_size: int = 10, echo: bool = False) -> AsyncEngine:
    """Build the engine for ``url``; SQLite gets WAL, a busy timeout and snapshot transactions."""
    if url.startswith("sqlite"):
        engine = create_async_engine(url, echo=echo, connect_args={"timeout": 30})
        sync_engine = engine.sync_engine

        @event.listens_for(sync_engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @event.listens_for(sync_engine, "begin")
        def _on_begin(conn: Any) -> None:
            # Single-statement reads run in autocommit (one round trip less); callers that need
            # a snapshot or an atomic write ask for a real transaction with TRANSACTION_OPTION.
            if conn.get_execution_options().get(TRANSACTION_OPTION):
                conn.exec_driver_sql("BEGIN")

        return engine
    return create_async_engine(url, echo=echo, pool_size=pool_size, max_overflow=pool_size, pool_recycle=1800)


def reader(engine: AsyncEngine) -> AsyncEngine:
    """An engine view for single-statement reads: autocommit (no BEGIN/ROLLBACK round trips)."""
    if engine.dialect.name == "postgresql":
        return engine.execution_options(isolation_level="AUTOCOMMIT")
    return engine


def session_factory(engine: AsyncEngine) -> SessionFactory:
    return async_sessionmaker(engine, expire_on_commit=False)
