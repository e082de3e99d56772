"""Alembic revision ``0002_auth`` on SQLite and Postgres: creates what the ORM rows expect,
works with the session store, and downgrades cleanly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import inspect

from app.auth.sessions import SessionStore, create_engine
from app.auth.sessions_rows import AuthBase, LoginStateRow
from app.storage import migrate


async def test_0002_auth_up_and_down(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await migrate.upgrade(engine)
        assert "0002_auth" in await migrate.current_revisions(engine)

        def columns(conn: object) -> dict[str, set[str]]:
            insp = inspect(conn)
            return {t: {c["name"] for c in insp.get_columns(t)} for t in AuthBase.metadata.tables}

        async with engine.connect() as conn:
            found = await conn.run_sync(columns)
        for name, table in AuthBase.metadata.tables.items():
            assert found[name] == {c.name for c in table.columns}, name

        store = SessionStore(engine)
        now = datetime.now(UTC)
        await store.save_login_state(
            LoginStateRow(
                state="s1",
                nonce="n",
                code_verifier="v",
                session_id="sid",
                redirect_url="/",
                client_type="ui",
                cluster_id="",
                consumer_id="",
                issuer="i",
                callback_url="c",
                expires_at=now + timedelta(minutes=5),
            )
        )
        assert (await store.take_login_state("s1")) is not None
        assert (await store.take_login_state("s1")) is None  # single use
        session = await store.create_session(
            subject="u",
            issuer="i",
            groups=["g"],
            email="",
            cluster_id="",
            client_session_id="x",
            lifetime=timedelta(minutes=1),
        )
        assert (await store.get_session(session.id)) is not None
        key = await store.signing_key("cli-bearer", max_token_lifetime=timedelta(hours=1))
        assert (await store.signing_key("cli-bearer", max_token_lifetime=timedelta(hours=1))).kid == key.kid

        await migrate.downgrade(engine, "0001_objects")
        async with engine.connect() as conn:
            left = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
        assert not left & set(AuthBase.metadata.tables)
    finally:
        await engine.dispose()
