"""Login state: pending logins, sessions, signing keys, dev-issuer codes (app.auth.sessions_rows).

Revision ID: 0002_auth
Revises: 0001_objects
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_auth"
down_revision: str | None = "0001_objects"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "kb_login_states",
        sa.Column("state", sa.String(128), primary_key=True),
        sa.Column("nonce", sa.String(128), nullable=False),
        sa.Column("code_verifier", sa.String(128), nullable=False),
        sa.Column("session_id", sa.String(256), nullable=False),
        sa.Column("redirect_url", sa.Text(), nullable=False),
        sa.Column("client_type", sa.String(16), nullable=False),
        sa.Column("cluster_id", sa.String(256), nullable=False),
        sa.Column("consumer_id", sa.String(256), nullable=False),
        sa.Column("issuer", sa.Text(), nullable=False),
        sa.Column("callback_url", sa.Text(), nullable=False),
        sa.Column("expires_at", TS, nullable=False),
    )
    op.create_index("ix_kb_login_states_expires_at", "kb_login_states", ["expires_at"])
    op.create_table(
        "kb_sessions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("subject", sa.String(512), nullable=False),
        sa.Column("issuer", sa.String(1024), nullable=False),
        sa.Column("groups", sa.JSON(), nullable=False),
        sa.Column("email", sa.String(512), nullable=False),
        sa.Column("cluster_id", sa.String(256), nullable=False),
        sa.Column("client_session_id", sa.String(256), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_kb_sessions_expires_at", "kb_sessions", ["expires_at"])
    op.create_table(
        "kb_signing_keys",
        sa.Column("kid", sa.String(64), primary_key=True),
        sa.Column("purpose", sa.String(32), nullable=False),
        sa.Column("private_pem", sa.Text(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("sign_until", TS, nullable=False),
        sa.Column("retire_at", TS, nullable=False),
    )
    op.create_index("ix_kb_signing_keys_purpose", "kb_signing_keys", ["purpose", "created_at"])
    op.create_table(
        "kb_dev_codes",
        sa.Column("code", sa.String(128), primary_key=True),
        sa.Column("client_id", sa.String(256), nullable=False),
        sa.Column("redirect_uri", sa.Text(), nullable=False),
        sa.Column("code_challenge", sa.String(256), nullable=False),
        sa.Column("nonce", sa.String(256), nullable=False),
        sa.Column("username", sa.String(256), nullable=False),
        sa.Column("claims", sa.JSON(), nullable=False),
        sa.Column("expires_at", TS, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("kb_dev_codes")
    op.drop_index("ix_kb_signing_keys_purpose", table_name="kb_signing_keys")
    op.drop_table("kb_signing_keys")
    op.drop_index("ix_kb_sessions_expires_at", table_name="kb_sessions")
    op.drop_table("kb_sessions")
    op.drop_index("ix_kb_login_states_expires_at", table_name="kb_login_states")
    op.drop_table("kb_login_states")
