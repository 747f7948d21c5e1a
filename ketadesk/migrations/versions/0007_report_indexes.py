"""reports: indexes that let the manager's figures aggregate without reading whole rows

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 21:00:00

* ``ix_ledger_report`` covers what the revenue report groups and sums (day, side, kind,
  reason, location, amount, reversal link), in that order, so a five-year GROUP BY reads the
  narrow index in date order and aggregates each day as it streams instead of sorting half a
  million wide ledger rows.
* ``ix_allocation_aging`` lets aging as of a day read every allocation in debit order with
  its day and amount from the index alone, so the join to the debits walks the ledger in
  order (about half the time of reading the allocation table).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEDGER_REPORT = (
    "posted_on",
    "payer_id",
    "kind",
    "reason",
    "location_id",
    "amount",
    "reverses_id",
)


ALLOCATION_AGING = ("debit_id", "created_at", "amount", "credit_id")


def upgrade() -> None:
    op.create_index("ix_ledger_report", "ledger_entry", list(LEDGER_REPORT))
    op.create_index("ix_allocation_aging", "allocation", list(ALLOCATION_AGING))


def downgrade() -> None:
    op.drop_index("ix_allocation_aging", table_name="allocation")
    op.drop_index("ix_ledger_report", table_name="ledger_entry")
