"""trust: the audit log's hash chain, and what accounts need to resist guessing

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 21:30:00

* ``audit_entry.chain``: the hex SHA-256 over the row's content and the previous row's
  chain (``ketadesk/access/audit.py`` computes it); ``ketadesk audit verify`` names the first
  row whose chain does not follow.
* ``app_user`` gains ``failed_logins`` and ``locked_until`` (a lock after repeated wrong
  passwords), ``must_change_password`` (set by an administrator's reset),
  ``password_changed_at``, and ``os_account``: the operating-system account whose commands
  act with this user's rights (unique when set).

Columns are added with plain ``ALTER TABLE ... ADD COLUMN`` on SQLite, never batch mode,
which would rebuild ``audit_entry`` and drop its append-only triggers (revision 0005).

The rows already in the log are chained here, in id order, exactly as
``ketadesk/access/audit_chain.py`` chains new ones (the canonical form is written out again
below, so this revision never depends on application code): the one time the append-only
trigger against updates is lifted, for this transaction only (SQLite: dropped and created
again; PostgreSQL: disabled and enabled).
"""

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("audit_entry", sa.Column("chain", sa.String(64), nullable=True))
    op.add_column(
        "app_user",
        sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"),
    )
    op.add_column("app_user", sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "app_user",
        sa.Column("must_change_password", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column(
        "app_user", sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column("app_user", sa.Column("os_account", sa.String(60), nullable=True))
    op.create_index("ix_app_user_os_account", "app_user", ["os_account"], unique=True)
    _chain_existing_rows()


GENESIS = "0" * 64
FIELDS = ("id", "at", "actor", "user_id", "action", "entity", "entity_id", "before", "after")
NO_UPDATE = (
    "CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON audit_entry BEGIN SELECT "
    "RAISE(ABORT, 'the audit log is append-only: its rows are never changed or deleted'); END"
)
AUDIT = sa.table(
    "audit_entry",
    sa.column("id", sa.Integer),
    sa.column("at", sa.DateTime(timezone=True)),
    sa.column("actor", sa.String),
    sa.column("user_id", sa.Integer),
    sa.column("action", sa.String),
    sa.column("entity", sa.String),
    sa.column("entity_id", sa.String),
    sa.column("before", sa.JSON),
    sa.column("after", sa.JSON),
    sa.column("chain", sa.String),
)


def _content(row: Any) -> bytes:
    doc = {name: getattr(row, name) for name in FIELDS}
    at: datetime = doc["at"]
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    doc["at"] = at.isoformat(timespec="microseconds")
    return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()


def _chain_existing_rows() -> None:
    bind = op.get_bind()
    query = sa.select(*[AUDIT.c[name] for name in FIELDS]).order_by(AUDIT.c.id)
    previous = GENESIS
    chains: list[dict[str, Any]] = []
    for row in bind.execute(query):
        previous = hashlib.sha256(previous.encode("ascii") + _content(row)).hexdigest()
        chains.append({"row_id": row.id, "chain": previous})
    if not chains:
        return
    sqlite = bind.dialect.name == "sqlite"
    op.execute(
        "DROP TRIGGER audit_entry_no_update"
        if sqlite
        else "ALTER TABLE audit_entry DISABLE TRIGGER audit_entry_append_only"
    )
    update = (
        sa.update(AUDIT)
        .where(AUDIT.c.id == sa.bindparam("row_id"))
        .values(chain=sa.bindparam("chain"))
    )
    bind.execute(update, chains)
    op.execute(
        NO_UPDATE if sqlite else "ALTER TABLE audit_entry ENABLE TRIGGER audit_entry_append_only"
    )


def downgrade() -> None:
    op.drop_index("ix_app_user_os_account", table_name="app_user")
    for column in (
        "os_account",
        "password_changed_at",
        "must_change_password",
        "locked_until",
        "failed_logins",
    ):
        op.drop_column("app_user", column)
    op.drop_column("audit_entry", "chain")
