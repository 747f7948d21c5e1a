"""side effects: adverse events per session and the provider review they call for

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 23:30:00

* ``side_effect``: one row per side effect of a session (kind, severity, serious, onset,
  what was done, who recorded it and when); a correction is a new row naming the one it
  replaces in ``corrects_id``.
* ``review_clearance``: a provider's note clearing a patient's review after a serious one.

Both are append-only, kept by the database as revision 0005 keeps the ledger: SQLite
``BEFORE UPDATE``/``BEFORE DELETE`` triggers, and on PostgreSQL row triggers (and a TRUNCATE
trigger) calling 0005's ``ketadesk_append_only()``. The messages contain "append-only", so
the faces show them as :class:`ketadesk.errors.AppendOnly`; they are written out here so this
revision never depends on application code.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY = {
    "side_effect": "side effects are append-only: record a correction instead",
    "review_clearance": "review clearances are append-only: they are never changed or deleted",
}


def upgrade() -> None:
    op.create_table(
        "side_effect",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("detail", sa.String(length=200), nullable=False),
        sa.Column("severity", sa.String(length=30), nullable=False),
        sa.Column("serious", sa.Boolean(), nullable=False),
        sa.Column("onset_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=200), nullable=False),
        sa.Column("recorded_by", sa.String(length=80), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("corrects_id", sa.Integer(), nullable=True),
        sa.Column("withdrawn", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["treatment_session.id"],
            name=op.f("fk_side_effect_session_id_treatment_session"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_side_effect_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["corrects_id"], ["side_effect.id"], name=op.f("fk_side_effect_corrects_id_side_effect")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_side_effect")),
    )
    op.create_index("ix_side_effect_patient", "side_effect", ["patient_id", "recorded_at"])
    op.create_index("ix_side_effect_session", "side_effect", ["session_id"])
    op.create_index("ix_side_effect_corrects", "side_effect", ["corrects_id"])
    op.create_table(
        "review_clearance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("cleared_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cleared_by", sa.String(length=80), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_review_clearance_patient_id_patient")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_clearance")),
    )
    op.create_index("ix_review_clearance_patient", "review_clearance", ["patient_id", "cleared_at"])
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_triggers()
    else:
        _postgresql_triggers()


def _literal(message: str) -> str:
    return "'" + message.replace("'", "''") + "'"


def _sqlite_triggers() -> None:
    for table, message in APPEND_ONLY.items():
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, {_literal(message)}); END"
            )


def _postgresql_triggers() -> None:
    for table, message in APPEND_ONLY.items():
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION ketadesk_append_only({_literal(message)})"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION ketadesk_append_only({_literal(message)})"
        )


def downgrade() -> None:
    # Dropping a table drops its triggers on both back ends.
    op.drop_index("ix_review_clearance_patient", table_name="review_clearance")
    op.drop_table("review_clearance")
    op.drop_index("ix_side_effect_corrects", table_name="side_effect")
    op.drop_index("ix_side_effect_session", table_name="side_effect")
    op.drop_index("ix_side_effect_patient", table_name="side_effect")
    op.drop_table("side_effect")
