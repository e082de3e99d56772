"""The database-backed store behind login: pending logins, sessions, signing keys, dev codes.

Contract: every read checks expiry against the injected clock; single-use records (login states,
authorization codes) are consumed with a conditional DELETE, so of two concurrent callbacks with
the same ``state`` exactly one wins — a replayed state is simply not found. Signing keys are
created on first use and shared by all replicas; two replicas racing to create one both succeed
and both keys verify, because verification looks keys up by ``kid``.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from app.auth.sessions_rows import AuthBase, DevCodeRow, LoginStateRow, SessionRow, SigningKeyRow

__all__ = ["SessionStore", "create_engine", "create_tables", "utc"]


def utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything we store is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def create_engine(url: str) -> AsyncEngine:
    kwargs: dict[str, Any] = {"pool_pre_ping": True}
    if url.startswith("sqlite"):
        kwargs = {"connect_args": {"timeout": 30}}
    return create_async_engine(url, **kwargs)


async def create_tables(engine: AsyncEngine) -> None:
    """Create the auth tables (tests and one-machine use; production runs alembic ``0002_auth``)."""
    async with engine.begin() as conn:
        await conn.run_sync(AuthBase.metadata.create_all)


def _new_rsa_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


class SessionStore:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        key_sign_period: timedelta = timedelta(days=7),
    ) -> None:
        self.engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False, class_=AsyncSession)
        self.clock = clock
        self.key_sign_period = key_sign_period

    # -- pending logins ---------------------------------------------------------------------------

    async def save_login_state(self, row: LoginStateRow) -> None:
        async with self._sessions.begin() as db:
            db.add(row)

    async def take_login_state(self, state: str) -> LoginStateRow | None:
        """Consume ``state``: returns it once if it exists and has not expired, else ``None``."""
        async with self._sessions.begin() as db:
            row = await db.get(LoginStateRow, state)
            if row is None:
                return None
            result = await db.execute(delete(LoginStateRow).where(LoginStateRow.state == state))
            if result.rowcount != 1:  # type: ignore[attr-defined]
                return None
            db.expunge(row)
        if utc(row.expires_at) <= self.clock():
            return None
        return row

    # -- sessions ---------------------------------------------------------------------------------

    async def create_session(
        self,
        *,
        subject: str,
        issuer: str,
        groups: list[str],
        email: str,
        cluster_id: str,
        client_session_id: str,
        lifetime: timedelta,
    ) -> SessionRow:
        now = self.clock()
        row = SessionRow(
            id=secrets.token_urlsafe(24),
            subject=subject,
            issuer=issuer,
            groups=list(groups),
            email=email,
            cluster_id=cluster_id,
            client_session_id=client_session_id,
            created_at=now,
            expires_at=now + lifetime,
            revoked=False,
        )
        async with self._sessions.begin() as db:
            db.add(row)
        return row

    async def get_session(self, session_id: str) -> SessionRow | None:
        """The session if it exists, is not revoked and has not expired."""
        async with self._sessions() as db:
            row = await db.get(SessionRow, session_id)
        if row is None or row.revoked or utc(row.expires_at) <= self.clock():
            return None
        row.expires_at = utc(row.expires_at)
        return row

    async def revoke_session(self, session_id: str) -> bool:
        async with self._sessions.begin() as db:
            result = await db.execute(
                update(SessionRow).where(SessionRow.id == session_id).values(revoked=True)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    # -- signing keys -----------------------------------------------------------------------------

    async def signing_key(self, purpose: str, *, max_token_lifetime: timedelta) -> SigningKeyRow:
        """The newest key of ``purpose`` still valid for signing; created when there is none."""
        now = self.clock()
        async with self._sessions() as db:
            result = await db.execute(
                select(SigningKeyRow)
                .where(SigningKeyRow.purpose == purpose)
                .order_by(SigningKeyRow.created_at.desc())
                .limit(1)
            )
            row = result.scalar_one_or_none()
        if row is not None and utc(row.sign_until) > now:
            return row
        row = SigningKeyRow(
            kid=uuid.uuid4().hex,
            purpose=purpose,
            private_pem=_new_rsa_pem(),
            created_at=now,
            sign_until=now + self.key_sign_period,
            retire_at=now + self.key_sign_period + max_token_lifetime,
        )
        async with self._sessions.begin() as db:
            db.add(row)
        return row

    async def verification_keys(self, purpose: str) -> list[SigningKeyRow]:
        """Every key of ``purpose`` whose tokens may still be alive."""
        now = self.clock()
        async with self._sessions() as db:
            result = await db.execute(select(SigningKeyRow).where(SigningKeyRow.purpose == purpose))
            rows = list(result.scalars())
        return [r for r in rows if utc(r.retire_at) > now]

    # -- dev issuer codes -------------------------------------------------------------------------

    async def save_code(self, row: DevCodeRow) -> None:
        async with self._sessions.begin() as db:
            db.add(row)

    async def take_code(self, code: str) -> DevCodeRow | None:
        async with self._sessions.begin() as db:
            row = await db.get(DevCodeRow, code)
            if row is None:
                return None
            result = await db.execute(delete(DevCodeRow).where(DevCodeRow.code == code))
            if result.rowcount != 1:  # type: ignore[attr-defined]
                return None
            db.expunge(row)
        if utc(row.expires_at) <= self.clock():
            return None
        return row

    # -- housekeeping -----------------------------------------------------------------------------

    async def purge_expired(self) -> int:
        now = self.clock()
        removed = 0
        async with self._sessions.begin() as db:
            for stmt in (
                delete(LoginStateRow).where(LoginStateRow.expires_at <= now),
                delete(DevCodeRow).where(DevCodeRow.expires_at <= now),
                delete(SessionRow).where(SessionRow.expires_at <= now),
                delete(SigningKeyRow).where(SigningKeyRow.retire_at <= now),
            ):
                result = await db.execute(stmt)
                removed += int(result.rowcount or 0)  # type: ignore[attr-defined]
        return removed
