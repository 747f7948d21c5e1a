"""claims: payers' coverage and coding, the insurer's side of the ledger, claims, 837P batches, 835s

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 19:00:00

* ``payer`` gains what routing and coding need: the services it covers, appeal days,
  Medicare or not, in or out of network, and its coding choices. Existing payers cover the
  esketamine services (what insurers mostly pay for); a payer named like Medicare is marked
  Medicare and bills esketamine with G2082/G2083.
* ``ledger_entry`` gains ``payer_id`` (whose side of the account an entry is on: an
  insurer's, or the patient's when empty) and ``claim_id``. On SQLite the columns are added
  with ``ALTER TABLE ... ADD COLUMN`` rather than batch mode, which would rebuild the table
  and drop its append-only triggers (revision 0005).
* The claim tables; ``claim_event`` (a claim's status history) is append-only, guarded by
  triggers like the ledger's.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ESKETAMINE_CODES = "G2082,G2083,J0013,S0013,99212,99213,99214,99215,99415,99416"
EVENTS_MESSAGE = "a claim's history is append-only: its events are never changed or deleted"


def _literal(message: str) -> str:
    return "'" + message.replace("'", "''") + "'"


def _claim_tables() -> None:
    op.create_table(
        "claim_batch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("payer_id", sa.Integer(), nullable=False),
        sa.Column("claim_count", sa.Integer(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("file_name", sa.String(length=260), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(
            ["payer_id"], ["payer.id"], name=op.f("fk_claim_batch_payer_id_payer")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_batch")),
    )
    op.create_table(
        "remit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "source",
            sa.Enum("835", "eob", name="remitsource", native_enum=False, length=30),
            nullable=False,
        ),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("file_name", sa.String(length=260), nullable=False),
        sa.Column("payer_id", sa.Integer(), nullable=True),
        sa.Column("payer_name", sa.String(length=120), nullable=False),
        sa.Column("trace_number", sa.String(length=50), nullable=False),
        sa.Column("method", sa.String(length=3), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("total_paid", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(["payer_id"], ["payer.id"], name=op.f("fk_remit_payer_id_payer")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_remit")),
        sa.UniqueConstraint("sha256", name=op.f("uq_remit_sha256")),
    )
    op.create_table(
        "claim",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=14), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("payer_id", sa.Integer(), nullable=False),
        sa.Column("policy_id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=True),
        sa.Column(
            "rank",
            sa.Enum(
                "primary", "secondary", "tertiary", name="policyrank", native_enum=False, length=30
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "ready",
                "submitted",
                "accepted",
                "rejected",
                "paid",
                "partly_paid",
                "denied",
                "appealed",
                "closed",
                name="claimstatus",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column("frequency", sa.String(length=1), nullable=False),
        sa.Column("replaces_id", sa.Integer(), nullable=True),
        sa.Column("primary_claim_id", sa.Integer(), nullable=True),
        sa.Column("service_from", sa.Date(), nullable=False),
        sa.Column("service_to", sa.Date(), nullable=False),
        sa.Column("billed", sa.BigInteger(), nullable=False),
        sa.Column("diagnoses", sa.String(length=120), nullable=False),
        sa.Column("prior_auth_number", sa.String(length=40), nullable=False),
        sa.Column("note", sa.String(length=80), nullable=False),
        sa.Column("payer_claim_number", sa.String(length=50), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("submitted_on", sa.Date(), nullable=True),
        sa.Column("adjudicated_on", sa.Date(), nullable=True),
        sa.Column("filing_deadline", sa.Date(), nullable=False),
        sa.Column("appeal_deadline", sa.Date(), nullable=True),
        sa.Column("problems", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["claim_batch.id"], name=op.f("fk_claim_batch_id_claim_batch")
        ),
        sa.ForeignKeyConstraint(
            ["location_id"], ["location.id"], name=op.f("fk_claim_location_id_location")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_claim_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(["payer_id"], ["payer.id"], name=op.f("fk_claim_payer_id_payer")),
        sa.ForeignKeyConstraint(
            ["policy_id"], ["insurance_policy.id"], name=op.f("fk_claim_policy_id_insurance_policy")
        ),
        sa.ForeignKeyConstraint(
            ["primary_claim_id"], ["claim.id"], name=op.f("fk_claim_primary_claim_id_claim")
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"], ["provider.id"], name=op.f("fk_claim_provider_id_provider")
        ),
        sa.ForeignKeyConstraint(
            ["replaces_id"], ["claim.id"], name=op.f("fk_claim_replaces_id_claim")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim")),
        sa.UniqueConstraint("number", name=op.f("uq_claim_number")),
    )
    with op.batch_alter_table("claim", schema=None) as batch_op:
        batch_op.create_index("ix_claim_batch", ["batch_id"], unique=False)
        batch_op.create_index("ix_claim_patient", ["patient_id", "service_from"], unique=False)
        batch_op.create_index("ix_claim_status", ["status", "payer_id"], unique=False)

    op.create_table(
        "claim_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("from_status", sa.String(length=30), nullable=False),
        sa.Column(
            "to_status",
            sa.Enum(
                "draft",
                "ready",
                "submitted",
                "accepted",
                "rejected",
                "paid",
                "partly_paid",
                "denied",
                "appealed",
                "closed",
                name="claimstatus",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["claim_id"], ["claim.id"], name=op.f("fk_claim_event_claim_id_claim")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_event")),
    )
    with op.batch_alter_table("claim_event", schema=None) as batch_op:
        batch_op.create_index("ix_claim_event_claim", ["claim_id", "id"], unique=False)

    op.create_table(
        "remit_claim",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("remit_id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=True),
        sa.Column("claim_number", sa.String(length=38), nullable=False),
        sa.Column("status_code", sa.String(length=2), nullable=False),
        sa.Column("billed", sa.BigInteger(), nullable=False),
        sa.Column("paid", sa.BigInteger(), nullable=False),
        sa.Column("patient_share", sa.BigInteger(), nullable=False),
        sa.Column("payer_claim_number", sa.String(length=50), nullable=False),
        sa.Column("patient_name", sa.String(length=120), nullable=False),
        sa.Column("remarks", sa.String(length=120), nullable=False),
        sa.Column("posted", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["claim_id"], ["claim.id"], name=op.f("fk_remit_claim_claim_id_claim")
        ),
        sa.ForeignKeyConstraint(
            ["remit_id"], ["remit.id"], name=op.f("fk_remit_claim_remit_id_remit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_remit_claim")),
    )
    with op.batch_alter_table("remit_claim", schema=None) as batch_op:
        batch_op.create_index("ix_remit_claim_claim", ["claim_id"], unique=False)
        batch_op.create_index("ix_remit_claim_remit", ["remit_id"], unique=False)

    op.create_table(
        "claim_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("charge_id", sa.Integer(), nullable=True),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("service_date", sa.Date(), nullable=False),
        sa.Column("code", sa.String(length=5), nullable=False),
        sa.Column("modifiers", sa.String(length=11), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("units", sa.SmallInteger(), nullable=False),
        sa.Column("billed", sa.BigInteger(), nullable=False),
        sa.Column("pointers", sa.String(length=8), nullable=False),
        sa.Column("ndc", sa.String(length=11), nullable=False),
        sa.Column("ndc_quantity", sa.BigInteger(), nullable=True),
        sa.Column("ndc_unit", sa.String(length=2), nullable=False),
        sa.Column("note", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(
            ["charge_id"], ["charge.id"], name=op.f("fk_claim_line_charge_id_charge")
        ),
        sa.ForeignKeyConstraint(
            ["claim_id"], ["claim.id"], name=op.f("fk_claim_line_claim_id_claim")
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["ledger_entry.id"], name=op.f("fk_claim_line_entry_id_ledger_entry")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_line")),
        sa.UniqueConstraint("claim_id", "position", name=op.f("uq_claim_line_claim_id")),
    )
    with op.batch_alter_table("claim_line", schema=None) as batch_op:
        batch_op.create_index("ix_claim_line_entry", ["entry_id"], unique=False)

    op.create_table(
        "remit_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("remit_claim_id", sa.Integer(), nullable=False),
        sa.Column("claim_line_id", sa.Integer(), nullable=True),
        sa.Column("code", sa.String(length=5), nullable=False),
        sa.Column("billed", sa.BigInteger(), nullable=False),
        sa.Column("paid", sa.BigInteger(), nullable=False),
        sa.Column("allowed", sa.BigInteger(), nullable=True),
        sa.Column("units", sa.BigInteger(), nullable=False),
        sa.Column("remarks", sa.String(length=120), nullable=False),
        sa.ForeignKeyConstraint(
            ["claim_line_id"],
            ["claim_line.id"],
            name=op.f("fk_remit_line_claim_line_id_claim_line"),
        ),
        sa.ForeignKeyConstraint(
            ["remit_claim_id"],
            ["remit_claim.id"],
            name=op.f("fk_remit_line_remit_claim_id_remit_claim"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_remit_line")),
    )
    with op.batch_alter_table("remit_line", schema=None) as batch_op:
        batch_op.create_index("ix_remit_line_claim", ["remit_claim_id"], unique=False)

    op.create_table(
        "remit_adjustment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("remit_claim_id", sa.Integer(), nullable=False),
        sa.Column("remit_line_id", sa.Integer(), nullable=True),
        sa.Column("group", sa.String(length=2), nullable=False),
        sa.Column("reason", sa.String(length=5), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["remit_claim_id"],
            ["remit_claim.id"],
            name=op.f("fk_remit_adjustment_remit_claim_id_remit_claim"),
        ),
        sa.ForeignKeyConstraint(
            ["remit_line_id"],
            ["remit_line.id"],
            name=op.f("fk_remit_adjustment_remit_line_id_remit_line"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_remit_adjustment")),
    )
    with op.batch_alter_table("remit_adjustment", schema=None) as batch_op:
        batch_op.create_index("ix_remit_adjustment_claim", ["remit_claim_id"], unique=False)


def _ledger_columns(dialect: str) -> None:
    if dialect == "sqlite":
        op.execute(
            "ALTER TABLE ledger_entry ADD COLUMN payer_id INTEGER "
            "CONSTRAINT fk_ledger_entry_payer_id_payer REFERENCES payer (id)"
        )
        op.execute(
            "ALTER TABLE ledger_entry ADD COLUMN claim_id INTEGER "
            "CONSTRAINT fk_ledger_entry_claim_id_claim REFERENCES claim (id)"
        )
    else:
        op.add_column("ledger_entry", sa.Column("payer_id", sa.Integer(), nullable=True))
        op.add_column("ledger_entry", sa.Column("claim_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            "fk_ledger_entry_payer_id_payer", "ledger_entry", "payer", ["payer_id"], ["id"]
        )
        op.create_foreign_key(
            "fk_ledger_entry_claim_id_claim", "ledger_entry", "claim", ["claim_id"], ["id"]
        )
    op.create_index("ix_ledger_claim", "ledger_entry", ["claim_id"])
    op.create_index("ix_ledger_payer", "ledger_entry", ["payer_id", "posted_on"])


def _payer_columns() -> None:
    columns: list[sa.Column[object]] = [
        sa.Column("appeal_days", sa.SmallInteger(), nullable=False, server_default="180"),
        sa.Column("is_medicare", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("in_network", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column(
            "covered_codes", sa.String(length=400), nullable=False, server_default=ESKETAMINE_CODES
        ),
        sa.Column(
            "esketamine_billing", sa.String(length=10), nullable=False, server_default="visit"
        ),
        sa.Column("bills_drug", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("rems_kx", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("code_swaps", sa.String(length=200), nullable=False, server_default=""),
    ]
    with op.batch_alter_table("payer") as payer:
        for column in columns:
            payer.add_column(column)
    op.execute(
        "UPDATE payer SET is_medicare = true, esketamine_billing = 'g_code' "
        "WHERE lower(name) LIKE '%medicare%'"
    )


def _guard_events(dialect: str) -> None:
    if dialect == "postgresql":
        op.execute(
            "CREATE TRIGGER claim_event_append_only BEFORE UPDATE OR DELETE ON claim_event "
            f"FOR EACH ROW EXECUTE FUNCTION ketadesk_append_only({_literal(EVENTS_MESSAGE)})"
        )
        op.execute(
            "CREATE TRIGGER claim_event_no_truncate BEFORE TRUNCATE ON claim_event "
            f"FOR EACH STATEMENT EXECUTE FUNCTION ketadesk_append_only({_literal(EVENTS_MESSAGE)})"
        )
        return
    for event in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER claim_event_no_{event.lower()} BEFORE {event} ON claim_event "
            f"BEGIN SELECT RAISE(ABORT, {_literal(EVENTS_MESSAGE)}); END"
        )


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    _payer_columns()
    _claim_tables()
    _ledger_columns(dialect)
    _guard_events(dialect)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER claim_event_append_only ON claim_event")
        op.execute("DROP TRIGGER claim_event_no_truncate ON claim_event")
    else:
        op.execute("DROP TRIGGER claim_event_no_update")
        op.execute("DROP TRIGGER claim_event_no_delete")
    op.drop_index("ix_ledger_payer", "ledger_entry")
    op.drop_index("ix_ledger_claim", "ledger_entry")
    if dialect == "postgresql":
        op.drop_constraint("fk_ledger_entry_claim_id_claim", "ledger_entry")
        op.drop_constraint("fk_ledger_entry_payer_id_payer", "ledger_entry")
    op.drop_column("ledger_entry", "claim_id")
    op.drop_column("ledger_entry", "payer_id")
    for table in (
        "remit_adjustment",
        "remit_line",
        "claim_line",
        "remit_claim",
        "claim_event",
        "claim",
        "remit",
        "claim_batch",
    ):
        op.drop_table(table)
    with op.batch_alter_table("payer") as payer:
        for name in (
            "code_swaps",
            "rems_kx",
            "bills_drug",
            "esketamine_billing",
            "covered_codes",
            "in_network",
            "is_medicare",
            "appeal_days",
        ):
            payer.drop_column(name)
