"""The database itself refuses to change or delete the money history and the audit log.

Migration 0005 puts triggers on ``ledger_entry``, ``allocation``, ``audit_entry`` and on the
lines of an invoice that has left draft. Each test builds a small account through the
services (a charge, a payment allocated to it, an issued invoice, a draft one), then tries an
edit through raw SQL on the engine and through the ORM inside ``Database.transaction``: the
first must be refused by the database with the trigger's sentence, the second must reach the
caller as :class:`AppendOnly`; in both cases the row is still as it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
import sqlalchemy as sa
from billing.billing_helpers import ADMIN, BILLING, billing_clinic, ledger_charge

from ketadesk.access.models import AuditEntry
from ketadesk.billing import invoices, payments
from ketadesk.billing.models import Allocation, Invoice, InvoiceStatus, LedgerEntry
from ketadesk.db import Database
from ketadesk.errors import AppendOnly, Conflict

TODAY = date(2026, 12, 10)
LEDGER = "ledger entries are append-only: reverse the entry instead"
ALLOCATIONS = "allocations are append-only"
AUDIT = "the audit log is append-only"
LINES = "an issued invoice's lines are append-only: void the invoice instead"
REDRAFT = "cannot go back to draft"


@dataclass(frozen=True)
class Account:
    """Ids of the rows the tests try to change."""

    charge_id: int
    allocation_id: int
    audit_id: int
    issued_id: int
    draft_id: int


@pytest.fixture
def account(database: Database) -> Account:
    with database.transaction() as s:
        clinic = billing_clinic(s)
        issued_charge = ledger_charge(s, clinic, "450.00")
        issued = invoices.create_invoice(s, BILLING, patient_id=clinic.patient.id, today=TODAY)
        invoices.issue_invoice(s, BILLING, issued.id, on=TODAY)
        payments.take_payment(
            s, ADMIN, patient_id=clinic.patient.id, amount="100.00", method="cash", on=TODAY
        )
        ledger_charge(s, clinic, "75.00", date(2026, 12, 2))
        draft = invoices.create_invoice(s, BILLING, patient_id=clinic.patient.id, today=TODAY)
        allocation_id = s.scalars(sa.select(Allocation.id)).one()
        audit_id = s.scalars(sa.select(AuditEntry.id).order_by(AuditEntry.id)).first()
        assert audit_id is not None
        return Account(issued_charge.id, allocation_id, audit_id, issued.id, draft.id)


def expect_refused(database: Database, statement: str, words: str, **params: object) -> None:
    """Run ``statement`` on a bare connection (no KetaDesk code in the way) and see the
    database refuse it with ``words``."""
    with pytest.raises(sa.exc.IntegrityError, match=words), database.engine.begin() as c:
        c.execute(sa.text(statement), params)


RAW_EDITS = [
    ("UPDATE ledger_entry SET amount = 1 WHERE id = :charge_id", LEDGER),
    ("UPDATE ledger_entry SET description = 'typo' WHERE id = :charge_id", LEDGER),
    ("DELETE FROM ledger_entry WHERE id = :charge_id", LEDGER),
    ("UPDATE allocation SET amount = 1 WHERE id = :allocation_id", ALLOCATIONS),
    ("DELETE FROM allocation WHERE id = :allocation_id", ALLOCATIONS),
    ("UPDATE audit_entry SET actor = 'someone else' WHERE id = :audit_id", AUDIT),
    ("DELETE FROM audit_entry WHERE id = :audit_id", AUDIT),
    ("UPDATE invoice_line SET invoice_id = :draft_id WHERE invoice_id = :issued_id", LINES),
    ("UPDATE invoice_line SET invoice_id = :issued_id WHERE invoice_id = :draft_id", LINES),
    ("DELETE FROM invoice_line WHERE invoice_id = :issued_id", LINES),
    ("UPDATE invoice SET status = 'draft' WHERE id = :issued_id", REDRAFT),
]


@pytest.mark.parametrize(("statement", "words"), RAW_EDITS)
def test_the_database_refuses_raw_sql_edits(
    database: Database, account: Account, statement: str, words: str
) -> None:
    before = snapshot(database)
    expect_refused(database, statement, words, **vars(account))
    assert snapshot(database) == before


def snapshot(database: Database) -> list[tuple[object, ...]]:
    """Every append-only row, to show a refusal changed nothing."""
    with database.reading() as s:
        rows: list[tuple[object, ...]] = []
        for table in ("ledger_entry", "allocation", "audit_entry", "invoice_line"):
            rows += [tuple(r) for r in s.execute(sa.text(f"SELECT * FROM {table} ORDER BY id"))]
        rows += [tuple(r) for r in s.execute(sa.text("SELECT id, status FROM invoice"))]
        return rows


def test_the_orm_edit_of_an_entry_surfaces_as_append_only(
    database: Database, account: Account
) -> None:
    before = snapshot(database)
    with pytest.raises(AppendOnly, match=LEDGER) as refused, database.transaction() as s:
        entry = s.get(LedgerEntry, account.charge_id)
        assert entry is not None
        entry.description = "Fee 450.00, corrected"
    assert str(refused.value) == LEDGER  # one readable line, no SQL or plpgsql context
    assert isinstance(refused.value, Conflict)  # the faces already show conflicts in words
    assert snapshot(database) == before


@pytest.mark.parametrize("model", [LedgerEntry, Allocation, AuditEntry])
def test_the_orm_cannot_delete_append_only_rows(
    database: Database, account: Account, model: type[LedgerEntry | Allocation | AuditEntry]
) -> None:
    ids = {
        LedgerEntry: account.charge_id,
        Allocation: account.allocation_id,
        AuditEntry: account.audit_id,
    }
    before = snapshot(database)
    with pytest.raises(AppendOnly, match="append-only"), database.transaction() as s:
        s.delete(s.get(model, ids[model]))
    assert snapshot(database) == before


def test_an_issued_invoice_keeps_its_lines_and_a_draft_does_not_have_to(
    database: Database, account: Account
) -> None:
    with pytest.raises(AppendOnly, match=LINES), database.transaction() as s:
        issued = s.get(Invoice, account.issued_id)
        assert issued is not None and issued.status is InvoiceStatus.ISSUED
        issued.lines.clear()  # delete-orphan: the ORM deletes the line rows
    with database.transaction() as s:
        draft = s.get(Invoice, account.draft_id)
        assert draft is not None and len(draft.lines) == 1
        draft.lines.clear()  # a draft is still being put together: its lines may go
    with database.reading() as s:
        lines = s.scalar(
            sa.text("SELECT count(*) FROM invoice_line WHERE invoice_id = :i"),
            {"i": account.draft_id},
        )
        issued_lines = s.scalar(
            sa.text("SELECT count(*) FROM invoice_line WHERE invoice_id = :i"),
            {"i": account.issued_id},
        )
    assert (lines, issued_lines) == (0, 1)


def test_voiding_and_reversing_still_work_by_appending(
    database: Database, account: Account
) -> None:
    """The services undo money by new rows, so the triggers never stand in their way."""
    with database.transaction() as s:
        invoices.void_invoice(s, ADMIN, account.issued_id, "billed twice", on=TODAY)
        invoices.void_invoice(s, ADMIN, account.draft_id, "not needed", on=TODAY)
    with database.reading() as s:
        states = s.scalars(sa.select(Invoice.status).order_by(Invoice.id)).all()
        reversal = s.scalar(
            sa.select(LedgerEntry.amount).where(LedgerEntry.reverses_id == account.charge_id)
        )
        payment = s.scalar(
            sa.select(Allocation.credit_id).where(Allocation.id == account.allocation_id)
        )
        released = s.scalars(
            sa.select(Allocation.amount).where(Allocation.credit_id == payment)
        ).all()
    assert states == [InvoiceStatus.VOID, InvoiceStatus.VOID]
    assert reversal is not None and reversal < 0
    assert len(released) == 2 and sum(released) == 0  # released by a negative allocation


@pytest.mark.postgres
@pytest.mark.parametrize("database", ["postgresql"], indirect=True)  # SQLite has no TRUNCATE
def test_postgresql_refuses_truncate(database: Database, account: Account) -> None:
    expect_refused(database, "TRUNCATE ledger_entry CASCADE", LEDGER)
    expect_refused(database, "TRUNCATE audit_entry", AUDIT)
    with database.engine.connect() as c:  # and every row is still there
        assert c.execute(sa.text("SELECT count(*) FROM ledger_entry")).scalar_one() > 0
        assert c.execute(sa.text("SELECT count(*) FROM audit_entry")).scalar_one() > 0


def test_other_integrity_errors_still_read_as_a_collision(database: Database) -> None:
    """Only the triggers' refusals become :class:`AppendOnly`; a duplicate key stays the
    plain "saved at the same moment" conflict."""
    insert = sa.text("INSERT INTO counter (name, value) VALUES ('invoice:NYC:2026', 1)")
    with database.transaction() as s:
        s.execute(insert)
    with pytest.raises(Conflict, match="collides") as clash, database.transaction() as s:
        s.execute(insert)
    assert not isinstance(clash.value, AppendOnly)
