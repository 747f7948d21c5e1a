"""consent: versioned consent texts and the consents patients signed

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 23:30:00

* ``consent_text``: one row per version of a treatment's consent text (key, version,
  whether it changes the consent materially, the day it takes effect, the months a
  signature stays valid, who wrote it).
* ``signed_consent``: a patient's (or guardian's) signature on one version, its day,
  witness and who took it.
* ``consent_withdrawal``: the end of a signed consent, from a day.

All three are append-only, guarded by the database as revision 0005 guards the ledger
(SQLite: ``RAISE(ABORT)`` triggers; PostgreSQL: that revision's ``ketadesk_append_only``
function). The messages contain "append-only" so the faces show them as
:class:`ketadesk.errors.AppendOnly`. They are written out here, never imported.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEY = sa.Enum(
    "iv_ketamine", "im_ketamine", "esketamine", "kap", "rems_enrolment",
    name="consentkey", native_enum=False, length=30,
)
APPEND_ONLY = {
    "consent_text": "consent texts are append-only: write a new version instead",
    "signed_consent": "signed consents are append-only: withdraw the consent instead",
    "consent_withdrawal": "consent withdrawals are append-only: record a new consent instead",
}


def upgrade() -> None:
    op.create_table(
        "consent_text",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", KEY, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("material", sa.Boolean(), nullable=False),
        sa.Column("valid_months", sa.SmallInteger(), nullable=True),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("edited_by", sa.String(length=60), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("version > 0", name=op.f("ck_consent_text_version")),
        sa.CheckConstraint(
            "valid_months IS NULL OR valid_months > 0", name=op.f("ck_consent_text_valid_months")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_text")),
        sa.UniqueConstraint("key", "version", name=op.f("uq_consent_text_key")),
    )
    op.create_table(
        "signed_consent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("key", KEY, nullable=False),
        sa.Column("text_id", sa.Integer(), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=False),
        sa.Column("signer_name", sa.String(length=120), nullable=False),
        sa.Column("guardian_relationship", sa.String(length=40), nullable=False),
        sa.Column("witness_name", sa.String(length=120), nullable=False),
        sa.Column("taken_by", sa.String(length=60), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_signed_consent_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["text_id"], ["consent_text.id"], name=op.f("fk_signed_consent_text_id_consent_text")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signed_consent")),
    )
    op.create_index("ix_signed_consent_patient", "signed_consent", ["patient_id", "key"])
    op.create_table(
        "consent_withdrawal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consent_id", sa.Integer(), nullable=False),
        sa.Column("withdrawn_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("withdrawn_by", sa.String(length=60), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["consent_id"],
            ["signed_consent.id"],
            name=op.f("fk_consent_withdrawal_consent_id_signed_consent"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_withdrawal")),
        sa.UniqueConstraint("consent_id", name=op.f("uq_consent_withdrawal_consent_id")),
    )
    _guard()


def _literal(message: str) -> str:
    return "'" + message.replace("'", "''") + "'"


def _guard() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table, message in APPEND_ONLY.items():
        if postgresql:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION ketadesk_append_only({_literal(message)})"
            )
            continue
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, {_literal(message)}); END"
            )


def downgrade() -> None:
    op.drop_table("consent_withdrawal")
    op.drop_index("ix_signed_consent_patient", table_name="signed_consent")
    op.drop_table("signed_consent")
    op.drop_table("consent_text")
