"""ORM rows of the object store (SQLAlchemy 2 declarative).

Why these three tables:

* ``kb_objects`` holds the current state of every stored object as JSON text, keyed by
  (resource, namespace, name) and carrying its resourceVersion so a list needs no JSON parsing to
  sort or page.
* ``kb_revision`` is a single row holding the global, monotonic resourceVersion counter and the
  version up to which the change log has been compacted. Every write transaction increments the
  counter first, which takes the row lock: writes are serialised, so resourceVersions commit in
  order and a reader of the change log never sees a gap that is later filled.
* ``kb_changes`` is the change log (one row per write, keyed by its resourceVersion) that watches
  replay from and that other replicas poll or get notified about.

The schema is created only by the alembic migrations in ``migrations/``; these classes must stay in
step with them (a test compares them).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Float, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

#: BIGINT on Postgres, INTEGER on SQLite (so that it aliases the rowid and autoincrements).
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    """Declarative base of every backend table (also used by the issue-4 tables)."""


class ObjectRow(Base):
    __tablename__ = "kb_objects"
    __table_args__ = (
        UniqueConstraint("resource", "namespace", "name", name="uq_kb_objects_key"),
        Index("ix_kb_objects_uid", "uid"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    resource: Mapped[str] = mapped_column(String(63), nullable=False)
    namespace: Mapped[str] = mapped_column(String(253), nullable=False, default="")
    name: Mapped[str] = mapped_column(String(253), nullable=False)
    uid: Mapped[str] = mapped_column(String(36), nullable=False)
    resource_version: Mapped[int] = mapped_column(BigInteger, nullable=False)
    #: Space-separated owner UIDs (``metadata.ownerReferences[].uid``) for garbage collection.
    owner_uids: Mapped[str] = mapped_column(Text, nullable=False, default="")
    data: Mapped[str] = mapped_column(Text, nullable=False)


class RevisionRow(Base):
    __tablename__ = "kb_revision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    current: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    compacted: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)


class ChangeRow(Base):
    __tablename__ = "kb_changes"
    __table_args__ = (Index("ix_kb_changes_created", "created_at"),)

    resource_version: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    resource: Mapped[str] = mapped_column(String(63), nullable=False)
    namespace: Mapped[str] = mapped_column(String(253), nullable=False, default="")
    name: Mapped[str] = mapped_column(String(253), nullable=False)
    #: ADDED, MODIFIED or DELETED.
    type: Mapped[str] = mapped_column(String(16), nullable=False)
    data: Mapped[str] = mapped_column(Text, nullable=False)
    #: JSON labels of the previous state (MODIFIED only), so a label-selected watch can turn a
    #: change into ADDED/DELETED when the object enters or leaves the selection.
    prev_labels: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[float] = mapped_column(Float, nullable=False)
