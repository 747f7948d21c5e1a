"""treatment history: the treatments tried before, for necessity

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 23:30:00

``prior_treatment``: one row per treatment a patient tried before for the condition
treated (kind, drug or therapy, dose as a scaled integer and its unit, weeks, response, why
it stopped, the month it started, whether it belongs to the current episode, who recorded
it and when). Corrections supersede (``supersedes_id``) and removals keep the row with who
removed it, when and why: nothing is deleted.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = ("antidepressant", "augmentation", "psychotherapy", "ect", "tms", "other")
RESPONSES = ("none", "partial", "remission", "not_tolerated", "unknown")


def upgrade() -> None:
    op.create_table(
        "prior_treatment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.Enum(*KINDS, name="treatmentkind", native_enum=False, length=30), nullable=False),
        sa.Column("treatment", sa.String(80), nullable=False),
        sa.Column("dose_amount", sa.BigInteger(), nullable=True),
        sa.Column("dose_unit", sa.String(12), nullable=False),
        sa.Column("weeks", sa.SmallInteger(), nullable=True),
        sa.Column("response", sa.Enum(*RESPONSES, name="response", native_enum=False, length=30), nullable=False),
        sa.Column("stopped_because", sa.String(200), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=True),
        sa.Column("current_episode", sa.Boolean(), nullable=False),
        sa.Column("recorded_by", sa.String(80), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("supersedes_id", sa.Integer(), nullable=True),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("removed_by", sa.String(80), nullable=False),
        sa.Column("removed_reason", sa.String(200), nullable=False),
        sa.ForeignKeyConstraint(["patient_id"], ["patient.id"],
                                name=op.f("fk_prior_treatment_patient_id_patient")),
        sa.ForeignKeyConstraint(["supersedes_id"], ["prior_treatment.id"],
                                name=op.f("fk_prior_treatment_supersedes_id_prior_treatment")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prior_treatment")),
    )
    op.create_index("ix_prior_treatment_patient", "prior_treatment", ["patient_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_prior_treatment_patient", table_name="prior_treatment")
    op.drop_table("prior_treatment")
