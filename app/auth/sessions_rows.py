"""Database rows of the login machinery: sessions, pending logins, signing keys, dev-issuer codes.

Why in the database: any replica must be able to finish a login another replica started (the
IdP redirects the browser to whichever replica the load balancer picks), to verify a bearer token
another replica signed, and to honour a logout done elsewhere. Nothing here lives in process
memory. The tables have their own metadata so issue 3's object store and this module stay
independent; alembic revision ``0002_auth`` creates them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Index, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = ["AuthBase", "DevCodeRow", "LoginStateRow", "SessionRow", "SigningKeyRow"]


class AuthBase(DeclarativeBase):
    pass


class LoginStateRow(AuthBase):
    """One pending authorize→callback round trip, keyed by the opaque ``state`` we sent the IdP."""

    __tablename__ = "kb_login_states"

    state: Mapped[str] = mapped_column(String(128), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(128))
    code_verifier: Mapped[str] = mapped_column(String(128))
    session_id: Mapped[str] = mapped_column(String(256))
    redirect_url: Mapped[str] = mapped_column(Text)
    client_type: Mapped[str] = mapped_column(String(16))
    cluster_id: Mapped[str] = mapped_column(String(256), default="")
    consumer_id: Mapped[str] = mapped_column(String(256), default="")
    #: Issuer and ``redirect_uri`` used at authorize; the token exchange must repeat them.
    issuer: Mapped[str] = mapped_column(Text)
    callback_url: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class SessionRow(AuthBase):
    """A logged-in user; bearer tokens and cookies name it by ``id`` and die with it."""

    __tablename__ = "kb_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    subject: Mapped[str] = mapped_column(String(512))
    issuer: Mapped[str] = mapped_column(String(1024))
    groups: Mapped[list[str]] = mapped_column(JSON, default=list)
    email: Mapped[str] = mapped_column(String(512), default="")
    cluster_id: Mapped[str] = mapped_column(String(256), default="")
    client_session_id: Mapped[str] = mapped_column(String(256), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class SigningKeyRow(AuthBase):
    """An RSA private key (PEM) used to sign CLI bearer tokens or dev-issuer ID tokens."""

    __tablename__ = "kb_signing_keys"
    __table_args__ = (Index("ix_kb_signing_keys_purpose", "purpose", "created_at"),)

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(32))
    private_pem: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: Not used for signing after this; still accepted for verification until ``retire_at``.
    sign_until: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    retire_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DevCodeRow(AuthBase):
    """An authorization code issued by the embedded dev issuer (single use)."""

    __tablename__ = "kb_dev_codes"

    code: Mapped[str] = mapped_column(String(128), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(256))
    redirect_uri: Mapped[str] = mapped_column(Text)
    code_challenge: Mapped[str] = mapped_column(String(256))
    nonce: Mapped[str] = mapped_column(String(256), default="")
    username: Mapped[str] = mapped_column(String(256))
    claims: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
