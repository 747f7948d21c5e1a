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
"""

from collections.abc import Sequence

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
