"""append-only: the database refuses to change or delete the money history and the audit log

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 13:40:00

The ledger, the allocations, the lines of an invoice once it has left draft, and the audit
log are append-only: a mistake is undone by a new row (a reversal, a negative allocation, a
void), never by editing or deleting an old one. Until now only the services kept that
promise; these triggers make the database keep it too, for every path (a script, a console,
a future bug).

* SQLite: ``BEFORE UPDATE`` and ``BEFORE DELETE`` triggers that ``RAISE(ABORT, message)``.
* PostgreSQL: two plpgsql functions raising ``restrict_violation`` with the message, row
  triggers for UPDATE and DELETE, and a statement trigger refusing TRUNCATE.

Every message contains "append-only"; :func:`ketadesk.db.append_only_refusal` recognises it
and the faces show it as :class:`ketadesk.errors.AppendOnly`. An invoice also cannot go back
to draft once issued or void, which would otherwise free its lines again.

Note for later migrations: SQLite's batch mode rebuilds a table by copying it, which drops
its triggers; a migration that batch-alters one of these tables must create them again
(``tests/billing/test_append_only.py`` fails at head if one is missing).

The messages are written out here rather than imported, so this revision never depends on
application code that may change later.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table -> the sentence a person reads when the database refuses the change
APPEND_ONLY = {
    "ledger_entry": "ledger entries are append-only: reverse the entry instead",
    "allocation": "allocations are append-only: release one with a negative allocation instead",
    "audit_entry": "the audit log is append-only: its rows are never changed or deleted",
}
ISSUED_LINES = "an issued invoice's lines are append-only: void the invoice instead"
BACK_TO_DRAFT = "an issued or void invoice is append-only: it cannot go back to draft"


def _literal(message: str) -> str:
    """``message`` as an SQL string literal."""
    return "'" + message.replace("'", "''") + "'"


def _sqlite_upgrade() -> None:
    for table, message in APPEND_ONLY.items():
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, {_literal(message)}); END"
            )
    not_draft = "(SELECT status FROM invoice WHERE id = {}.invoice_id) <> 'draft'"
    op.execute(
        "CREATE TRIGGER invoice_line_no_update BEFORE UPDATE ON invoice_line "
        f"WHEN {not_draft.format('OLD')} OR {not_draft.format('NEW')} "
        f"BEGIN SELECT RAISE(ABORT, {_literal(ISSUED_LINES)}); END"
    )
    op.execute(
        "CREATE TRIGGER invoice_line_no_delete BEFORE DELETE ON invoice_line "
        f"WHEN {not_draft.format('OLD')} "
        f"BEGIN SELECT RAISE(ABORT, {_literal(ISSUED_LINES)}); END"
    )
    op.execute(
        "CREATE TRIGGER invoice_no_redraft BEFORE UPDATE OF status ON invoice "
        "WHEN OLD.status <> 'draft' AND NEW.status = 'draft' "
        f"BEGIN SELECT RAISE(ABORT, {_literal(BACK_TO_DRAFT)}); END"
    )


def _postgresql_upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION ketadesk_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE = TG_ARGV[0];
        END
        $$
        """
    )
    op.execute(
        """
        CREATE FUNCTION ketadesk_issued_invoice_line() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF EXISTS (SELECT 1 FROM invoice WHERE id = OLD.invoice_id AND status <> 'draft')
            THEN
                RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE = TG_ARGV[0];
            END IF;
            IF TG_OP = 'DELETE' THEN
                RETURN OLD;
            END IF;
            IF EXISTS (SELECT 1 FROM invoice WHERE id = NEW.invoice_id AND status <> 'draft')
            THEN
                RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE = TG_ARGV[0];
            END IF;
            RETURN NEW;
        END
        $$
        """
    )
    op.execute(
        """
        CREATE FUNCTION ketadesk_invoice_no_redraft() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF OLD.status <> 'draft' AND NEW.status = 'draft' THEN
                RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE = TG_ARGV[0];
            END IF;
            RETURN NEW;
        END
        $$
        """
    )
    for table, message in APPEND_ONLY.items():
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION ketadesk_append_only({_literal(message)})"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION ketadesk_append_only({_literal(message)})"
        )
    op.execute(
        "CREATE TRIGGER invoice_line_append_only BEFORE UPDATE OR DELETE ON invoice_line "
        f"FOR EACH ROW EXECUTE FUNCTION ketadesk_issued_invoice_line({_literal(ISSUED_LINES)})"
    )
    op.execute(
        "CREATE TRIGGER invoice_no_redraft BEFORE UPDATE OF status ON invoice "
        f"FOR EACH ROW EXECUTE FUNCTION ketadesk_invoice_no_redraft({_literal(BACK_TO_DRAFT)})"
    )


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_upgrade()
    else:
        _sqlite_upgrade()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER {table}_no_truncate ON {table}")
        op.execute("DROP TRIGGER invoice_line_append_only ON invoice_line")
        op.execute("DROP TRIGGER invoice_no_redraft ON invoice")
        for function in ("append_only", "issued_invoice_line", "invoice_no_redraft"):
            op.execute(f"DROP FUNCTION ketadesk_{function}()")
        return
    for table in [*APPEND_ONLY, "invoice_line"]:
        op.execute(f"DROP TRIGGER {table}_no_update")
        op.execute(f"DROP TRIGGER {table}_no_delete")
    op.execute("DROP TRIGGER invoice_no_redraft")
