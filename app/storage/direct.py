"""Direct driver access for the object store's hot paths, beside the SQLAlchemy engine.

Every API request does one point read or one write; the change feed reads the log after each
write. Through the SQLAlchemy async pool each of those pays a pool checkout, greenlet switches and
a reset-on-return — on SQLite (aiosqlite) a second thread hand-off for a no-op ``ROLLBACK``.
Measured on the aggregated-API create path this was the largest part of the backend's CPU per
request, so the hot paths talk to the drivers directly:

* :class:`SqliteDirect` — *writes* run on one dedicated thread with its own ``sqlite3``
  connection (SQLite has one writer at a time anyway, so the thread's queue is the writer
  queue); *point reads* and change-log reads run inline on the event loop on a second connection.
  In WAL mode a reader never waits for the writer and such a read takes tens of microseconds —
  less than the thread hand-off it replaces. A reader that does hit ``SQLITE_BUSY`` (WAL
  recovery after a crash) waits at most :data:`READ_BUSY_MS` and the request fails with an
  error rather than stalling the loop.
* :class:`PostgresDirect` — an asyncpg pool of its own (statements are prepared and cached per
  connection by asyncpg).

Lists (multi-statement snapshots), migrations and the ORM-based handshake keep the engine.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Final, TypeVar

from sqlalchemy.engine import URL

__all__ = ["READ_BUSY_MS", "PostgresDirect", "SqliteDirect", "postgres_dsn", "sqlite_path"]

#: How long an inline read may wait for a SQLite lock before failing (blocking the event loop).
READ_BUSY_MS: Final = 200
#: The writer thread's busy timeout: it waits for other writers (e.g. the ORM, compaction).
WRITE_BUSY_MS: Final = 30_000

T = TypeVar("T")


def sqlite_path(url: URL) -> str:
    """The database file of a ``sqlite+aiosqlite:///path`` URL (in-memory databases refused)."""
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file::memory:"):
        raise ValueError("the object store needs a SQLite database file, not an in-memory database")
    return database


def postgres_dsn(url: URL) -> str:
    """The libpq-style DSN asyncpg takes, from a ``postgresql+asyncpg://`` URL."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _connect_sqlite(path: str, busy_ms: int) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute(f"PRAGMA busy_timeout={int(busy_ms)}")
    db.execute("PRAGMA synchronous=NORMAL")
    return db


class SqliteDirect:
    """One writer thread + connection, one inline reader connection (see the module docstring)."""

    def __init__(self, path: str) -> None:
        self._path = str(Path(path))
        self._executor: ThreadPoolExecutor | None = None
        self._writer: sqlite3.Connection | None = None
        self._reader: sqlite3.Connection | None = None

    def read(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(connection, *args)`` now, on the calling (event-loop) thread."""
        if self._reader is None:
            self._reader = _connect_sqlite(self._path, READ_BUSY_MS)
        return fn(self._reader, *args)

    async def write(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(connection, *args)`` on the writer thread; writes run one after another."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-writer")
        return await asyncio.get_running_loop().run_in_executor(self._executor, self._on_writer, fn, args)

    def _on_writer(self, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        # Only ever runs on the executor's single thread (as does _close_writer): no lock needed.
        if self._writer is None:
            self._writer = _connect_sqlite(self._path, WRITE_BUSY_MS)
            self._writer.execute("PRAGMA journal_mode=WAL")  # persistent; a no-op when set
        return fn(self._writer, *args)

    async def close(self) -> None:
        executor, self._executor = self._executor, None
        if executor is not None:
            await asyncio.get_running_loop().run_in_executor(executor, self._close_writer)
            executor.shutdown(wait=True)
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    def _close_writer(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


async def _keep_session(_conn: Any) -> None:
    """Release without asyncpg's reset query (one more round trip per request otherwise).

    asyncpg still rolls back an open transaction on release; the hot paths set no session
    state (no ``SET``, ``LISTEN``, advisory locks or cursors) that the reset query would undo.
    """


class PostgresDirect:
    """An asyncpg pool beside the engine's, created on first use."""

    def __init__(self, dsn: str, *, max_size: int) -> None:
        self._dsn = dsn
        self._max_size = max_size
        self._pool: Any = None
        self._creating: asyncio.Lock | None = None

    async def pool(self) -> Any:
        if self._pool is None:
            if self._creating is None:
                self._creating = asyncio.Lock()
            async with self._creating:
                if self._pool is None:
                    import asyncpg  # only installed with the Postgres extra

                    self._pool = await asyncpg.create_pool(
                        self._dsn,
                        min_size=1,
                        max_size=self._max_size,
                        command_timeout=60,
                        reset=_keep_session,
                    )
        return self._pool

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()
