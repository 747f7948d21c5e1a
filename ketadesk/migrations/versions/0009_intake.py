"""candidacy: the intake assessment, its findings, medications and screening rules

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 23:30:00

* ``intake_assessment``: one signed intake per row (patient, day, provider, who recorded
  it, baseline blood pressure, heart rate and weight); a new one supersedes the previous
  (``supersedes_id``), nothing is edited in place.
* ``intake_answer``: present or absent, with details, for each condition asked.
* ``intake_medication``: the current medications as written (name, dose).
* ``intake_override``: a provider's written reason that an absolute finding does not stop
  dosing, for one assessment and one finding.
* ``screening_rule``: the clinic's rule for a finding where it differs from the shipped
  default; ``intake_setting``: how many months an intake stays valid (one row).

Only new tables: nothing existing is rebuilt.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "intake_assessment",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("patient_id", sa.Integer(), sa.ForeignKey("patient.id"), nullable=False),
        sa.Column("assessed_on", sa.Date(), nullable=False),
        sa.Column("provider_id", sa.Integer(), sa.ForeignKey("provider.id"), nullable=False),
        sa.Column("recorded_by", sa.String(60), nullable=False),
        sa.Column("recorded_by_user_id", sa.Integer(), sa.ForeignKey("app_user.id")),
        sa.Column("systolic", sa.SmallInteger(), nullable=False),
        sa.Column("diastolic", sa.SmallInteger(), nullable=False),
        sa.Column("heart_rate", sa.SmallInteger(), nullable=False),
        sa.Column("weight_kg", sa.BigInteger(), nullable=False),
        sa.Column("supersedes_id", sa.Integer(), sa.ForeignKey("intake_assessment.id")),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.CheckConstraint(
            "systolic > diastolic", name=op.f("ck_intake_assessment_pressure_order")
        ),
    )
    op.create_index("ix_intake_patient", "intake_assessment", ["patient_id", "assessed_on", "id"])
    op.create_table(
        "intake_answer",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "assessment_id",
            sa.Integer(),
            sa.ForeignKey("intake_assessment.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("condition", sa.String(40), nullable=False),
        sa.Column("present", sa.Boolean(), nullable=False),
        sa.Column("details", sa.String(200), nullable=False),
        sa.UniqueConstraint(
            "assessment_id", "condition", name=op.f("uq_intake_answer_assessment_id")
        ),
    )
    op.create_table(
        "intake_medication",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "assessment_id",
            sa.Integer(),
            sa.ForeignKey("intake_assessment.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("dose", sa.String(40), nullable=False),
    )
    op.create_index("ix_intake_medication_assessment", "intake_medication", ["assessment_id"])
    op.create_table(
        "intake_override",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "assessment_id",
            sa.Integer(),
            sa.ForeignKey("intake_assessment.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("condition", sa.String(40), nullable=False),
        sa.Column("provider_id", sa.Integer(), sa.ForeignKey("provider.id"), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(60), nullable=False),
        sa.Column("recorded_at", UTC_TIME, nullable=False),
        sa.UniqueConstraint(
            "assessment_id", "condition", name=op.f("uq_intake_override_assessment_id")
        ),
    )
    op.create_table(
        "screening_rule",
        sa.Column("key", sa.String(40), primary_key=True),
        sa.Column("rule", sa.String(30), nullable=False),
        sa.Column("changed_by", sa.String(60), nullable=False),
        sa.Column("changed_at", UTC_TIME, nullable=False),
    )
    op.create_table(
        "intake_setting",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("valid_months", sa.SmallInteger(), nullable=False),
        sa.Column("changed_by", sa.String(60), nullable=False),
        sa.Column("changed_at", UTC_TIME, nullable=False),
        sa.CheckConstraint(
            "valid_months BETWEEN 1 AND 60", name=op.f("ck_intake_setting_valid_months")
        ),
    )


def downgrade() -> None:
    op.drop_table("intake_setting")
    op.drop_table("screening_rule")
    op.drop_table("intake_override")
    op.drop_table("intake_medication")
    op.drop_table("intake_answer")
    op.drop_index("ix_intake_patient", table_name="intake_assessment")
    op.drop_table("intake_assessment")
