"""drug NDC: the product a session's dose came from, and a drug code's usual product

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 14:00:00

An insurer returns a drug billed with an unlisted code (J3490 for ketamine) unless the line
carries the drug's National Drug Code. The floor records the NDC with the dose
(``treatment_session.ndc``); a fee item for a drug code holds the product the clinic usually
gives (``fee_item.ndc``, ``fee_item.drug_name``), which the superbill falls back on.
Existing rows get blanks: nothing was recorded before.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("fee_item") as table:
        table.add_column(sa.Column("ndc", sa.String(length=11), nullable=False, server_default=""))
        table.add_column(
            sa.Column("drug_name", sa.String(length=80), nullable=False, server_default="")
        )
    with op.batch_alter_table("treatment_session") as table:
        table.add_column(sa.Column("ndc", sa.String(length=11), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("treatment_session") as table:
        table.drop_column("ndc")
    with op.batch_alter_table("fee_item") as table:
        table.drop_column("drug_name")
        table.drop_column("ndc")
