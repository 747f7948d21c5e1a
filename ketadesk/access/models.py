"""Tables of the access layer: users and the append-only audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column

from ketadesk.access.permissions import Role
from ketadesk.db import Base, UTCDateTime, created_at, enum_column, intpk, utcnow


class User(Base):
    __tablename__ = "app_user"
    __table_args__ = (Index("ix_app_user_os_account", "os_account", unique=True),)

    id: Mapped[intpk]
    username: Mapped[str] = mapped_column(String(60), unique=True)
    full_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[Role] = mapped_column(enum_column(Role))
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[created_at]
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # Guessing: wrong passwords in a row, and the lock they earned (migration 0008).
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    must_change_password: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # The operating-system account whose commands act with this user's rights.
    os_account: Mapped[str | None] = mapped_column(String(60), default=None)


class AuditEntry(Base):
    """Who did what to which record, when, with the values before and after.

    Rows are only ever inserted: there is no service that updates or deletes them.
    """

    __tablename__ = "audit_entry"
    __table_args__ = (Index("ix_audit_entity", "entity", "entity_id"),)

    id: Mapped[intpk]
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(80))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), default=None)
    action: Mapped[str] = mapped_column(String(30))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(40))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    # SHA-256 over this row's content and the previous row's chain (access/audit.py).
    chain: Mapped[str | None] = mapped_column(String(64), default=None)
