"""outcomes: measures, scores, baselines and the self-harm alert

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 23:30:00

* ``outcome_score``: every score taken (patient, measure key, total, item answers, when, the
  session it was taken at if any, who recorded it); one per session and measure.
* ``outcome_measure``: the clinic's own measures (the shipped ones live in resources/).
* ``safety_alert``: PHQ-9 item 9 above zero, open until acknowledged with a note.

The PHQ-9/GAD-7 scores already on sessions (``treatment_session.score_kind/score``) are
copied into ``outcome_score``, taken when the session was (its discharge, else its dose,
check-in or booked start): the scores table is the record from now on, and the session
columns are written only beside it (``ketadesk/scheduling/outcomes/scores.py``).
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outcome_score",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("measure", sa.String(length=40), nullable=False),
        sa.Column("total", sa.SmallInteger(), nullable=False),
        sa.Column("items", sa.String(length=120), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("recorded_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("total >= 0", name=op.f("ck_outcome_score_total")),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_outcome_score_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["treatment_session.id"],
            name=op.f("fk_outcome_score_session_id_treatment_session"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outcome_score")),
        sa.UniqueConstraint("session_id", "measure", name="uq_outcome_score_session_measure"),
    )
    op.create_index(
        "ix_outcome_score_patient", "outcome_score", ["patient_id", "measure", "taken_at"]
    )
    op.create_table(
        "outcome_measure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("minimum", sa.SmallInteger(), nullable=False),
        sa.Column("maximum", sa.SmallInteger(), nullable=False),
        sa.Column("lower_is_better", sa.Boolean(), nullable=False),
        sa.Column("remission_threshold", sa.SmallInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.CheckConstraint("minimum < maximum", name=op.f("ck_outcome_measure_range")),
        sa.CheckConstraint("minimum >= 0", name=op.f("ck_outcome_measure_minimum")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outcome_measure")),
        sa.UniqueConstraint("key", name=op.f("uq_outcome_measure_key")),
    )
    op.create_table(
        "safety_alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("score_id", sa.Integer(), nullable=False),
        sa.Column("item_value", sa.SmallInteger(), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_by", sa.String(length=80), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_safety_alert_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["score_id"], ["outcome_score.id"], name=op.f("fk_safety_alert_score_id_outcome_score")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_safety_alert")),
    )
    op.create_index("ix_safety_alert_patient", "safety_alert", ["patient_id", "acknowledged_at"])
    op.create_index("ix_safety_alert_open", "safety_alert", ["acknowledged_at", "raised_at"])
    _copy_session_scores()


def _copy_session_scores() -> None:
    """Every scored session's PHQ-9/GAD-7 as a score taken at that session."""
    bind = op.get_bind()
    now = datetime.now(UTC)
    if bind.dialect.name == "sqlite":
        now = now.replace(tzinfo=None)  # SQLite holds instants as naive UTC text
    bind.execute(
        sa.text(
            "INSERT INTO outcome_score (patient_id, measure, total, items, taken_at, session_id, "
            "recorded_by, created_at) "
            "SELECT patient_id, score_kind, score, '', "
            "COALESCE(discharged_at, dosed_at, checked_in_at, starts_at), id, '', :now "
            "FROM treatment_session WHERE score IS NOT NULL AND score_kind IS NOT NULL "
            "ORDER BY id"
        ).bindparams(sa.bindparam("now", now, type_=sa.DateTime(timezone=True)))
    )


def downgrade() -> None:
    op.drop_index("ix_safety_alert_open", table_name="safety_alert")
    op.drop_index("ix_safety_alert_patient", table_name="safety_alert")
    op.drop_table("safety_alert")
    op.drop_table("outcome_measure")
    op.drop_index("ix_outcome_score_patient", table_name="outcome_score")
    op.drop_table("outcome_score")
