"""Object store: objects, global revision counter, change log.

Revision ID: 0001_objects
Revises:
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_objects"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "kb_objects",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("resource", sa.String(63), nullable=False),
        sa.Column("namespace", sa.String(253), nullable=False),
        sa.Column("name", sa.String(253), nullable=False),
        sa.Column("uid", sa.String(36), nullable=False),
        sa.Column("resource_version", sa.BigInteger(), nullable=False),
        sa.Column("owner_uids", sa.Text(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.UniqueConstraint("resource", "namespace", "name", name="uq_kb_objects_key"),
    )
    op.create_index("ix_kb_objects_uid", "kb_objects", ["uid"])
    op.create_table(
        "kb_revision",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("current", sa.BigInteger(), nullable=False),
        sa.Column("compacted", sa.BigInteger(), nullable=False),
    )
    op.bulk_insert(
        sa.table(
            "kb_revision",
            sa.column("id", sa.Integer()),
            sa.column("current", sa.BigInteger()),
            sa.column("compacted", sa.BigInteger()),
        ),
        [{"id": 1, "current": 1, "compacted": 0}],
    )
    op.create_table(
        "kb_changes",
        sa.Column("resource_version", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("resource", sa.String(63), nullable=False),
        sa.Column("namespace", sa.String(253), nullable=False),
        sa.Column("name", sa.String(253), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("prev_labels", sa.Text(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
    )
    op.create_index("ix_kb_changes_created", "kb_changes", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_kb_changes_created", table_name="kb_changes")
    op.drop_table("kb_changes")
    op.drop_table("kb_revision")
    op.drop_index("ix_kb_objects_uid", table_name="kb_objects")
    op.drop_table("kb_objects")
