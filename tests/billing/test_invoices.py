"""Invoices: what goes on one, numbering, issuing, the derived states, voiding by reversal,
the view the PDF prints and the list the window shows."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from billing.billing_helpers import (
    ADMIN,
    BILLING,
    BillingClinic,
    billing_clinic,
    captured,
    completed_iv_session,
    ledger_charge,
    posted_charges,
)
from builders import add_location, money, patient_raw
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ketadesk.access.models import AuditEntry
from ketadesk.access.permissions import Actor, Role
from ketadesk.billing import invoices, ledger, payments
from ketadesk.billing.models import (
    AdjustmentReason,
    EntryKind,
    Invoice,
    InvoiceStatus,
    LedgerEntry,
    PaymentMethod,
)
from ketadesk.billing.views import InvoiceState
from ketadesk.clinic.patients import create_patient
from ketadesk.errors import Conflict, NotFound, PermissionDenied, ValidationError

TODAY = date(2026, 12, 10)
FRONT = Actor(username="desk", role=Role.FRONT_DESK)


@pytest.fixture
def clinic(session: Session) -> BillingClinic:
    return billing_clinic(session)


charge = ledger_charge


def listed(session: Session, **kwargs: object) -> list[invoices.InvoiceRow]:
    """The rows of :func:`invoices.list_invoices` as a billing user reads them."""
    return list(invoices.list_invoices(session, BILLING, **kwargs).rows)  # type: ignore[arg-type]


def create(session: Session, clinic: BillingClinic, **kwargs: object) -> Invoice:
    return invoices.create_invoice(
        session,
        BILLING,
        patient_id=clinic.patient.id,
        today=TODAY,
        **kwargs,  # type: ignore[arg-type]
    )


def pay(session: Session, clinic: BillingClinic, amount: str, **kwargs: object) -> None:
    payments.take_payment(
        session,
        ADMIN,
        patient_id=clinic.patient.id,
        amount=amount,
        method=PaymentMethod.CARD,
        on=TODAY,
        **kwargs,  # type: ignore[arg-type]
    )


# ---------------------------------------------------------------------------------------
# Creating
# ---------------------------------------------------------------------------------------


def test_an_invoice_holds_the_posted_charges_of_a_session(
    session: Session, clinic: BillingClinic
) -> None:
    entries = posted_charges(session, BILLING, completed_iv_session(session, clinic))

    invoice = create(session, clinic)

    assert invoice.number == "NYC-2026-00001"
    assert invoice.status is InvoiceStatus.DRAFT
    assert [line.entry_id for line in invoice.lines] == [e.id for e in entries]
    assert invoice.period_from == invoice.period_to == date(2026, 12, 1)
    assert invoice.location_id == clinic.location.id
    assert invoices.invoice_state(session, invoice) is InvoiceState.DRAFT
    audit_row = session.scalars(
        select(AuditEntry).where(
            AuditEntry.entity == "invoice", AuditEntry.entity_id == str(invoice.id)
        )
    ).one()
    assert audit_row.action == "create" and audit_row.after is not None
    assert audit_row.after["entries"] == [e.id for e in entries]


def test_numbers_run_per_location_and_year(session: Session, clinic: BillingClinic) -> None:
    boston = add_location(session, "BOS")
    charge(session, clinic, "10.00")
    first = create(session, clinic)
    charge(session, clinic, "20.00")
    second = create(session, clinic)
    charge(session, clinic, "30.00", location=boston)
    in_boston = create(session, clinic)
    charge(session, clinic, "40.00")
    next_year = invoices.create_invoice(
        session, BILLING, patient_id=clinic.patient.id, today=date(2027, 1, 4)
    )

    assert [first.number, second.number, in_boston.number, next_year.number] == [
        "NYC-2026-00001",
        "NYC-2026-00002",
        "BOS-2026-00001",
        "NYC-2027-00001",
    ]


def test_a_charge_is_on_one_invoice_until_that_invoice_is_void(
    session: Session, clinic: BillingClinic
) -> None:
    fee = charge(session, clinic, "75.00")
    first = create(session, clinic)

    with pytest.raises(Conflict, match="no posted charges to invoice"):
        create(session, clinic)
    with pytest.raises(Conflict, match=f"already on invoice {first.number}"):
        create(session, clinic, entry_ids=[fee.id])

    invoices.void_invoice(session, BILLING, first.id, "made too early", on=TODAY)
    again = create(session, clinic)
    assert [line.entry_id for line in again.lines] == [fee.id]


def test_nothing_to_invoice_says_how_many_charges_are_still_in_review(
    session: Session, clinic: BillingClinic
) -> None:
    pending = captured(session, BILLING, completed_iv_session(session, clinic))

    with pytest.raises(Conflict) as refused:
        create(session, clinic)

    assert f"{len(pending)} charges are still in review; post them first" in str(refused.value)
    assert "Zoë Łukasiewicz" in str(refused.value)
    with pytest.raises(Conflict, match="no charges are waiting in review either"):
        create(session, clinic, date_from=date(2027, 1, 1))


def test_a_date_range_and_a_location_choose_the_charges(
    session: Session, clinic: BillingClinic
) -> None:
    november = charge(session, clinic, "10.00", date(2026, 11, 15))
    december = charge(session, clinic, "20.00", date(2026, 12, 2))
    boston = add_location(session, "BOS")
    charge(session, clinic, "30.00", date(2026, 12, 3), location=boston)

    invoice = create(
        session,
        clinic,
        date_from=date(2026, 12, 1),
        date_to=date(2026, 12, 31),
        location_id=clinic.location.id,
    )

    assert [line.entry_id for line in invoice.lines] == [december.id]
    assert (invoice.period_from, invoice.period_to) == (date(2026, 12, 1), date(2026, 12, 31))
    rest = create(session, clinic, date_to=date(2026, 11, 30))
    assert [line.entry_id for line in rest.lines] == [november.id]


def test_charges_at_several_locations_need_a_location(
    session: Session, clinic: BillingClinic
) -> None:
    charge(session, clinic, "10.00")
    charge(session, clinic, "30.00", location=add_location(session, "BOS"))

    with pytest.raises(Conflict, match=r"at 2 locations \(BOS, NYC\); choose one location"):
        create(session, clinic)
    assert listed(session) == []


def test_picked_entries_are_refused_with_the_reason_for_each(
    session: Session, clinic: BillingClinic
) -> None:
    reversed_fee = charge(session, clinic, "10.00")
    ledger.reverse(session, ADMIN, reversed_fee, "error", TODAY)
    good = charge(session, clinic, "20.00")
    other = create_patient(session, ADMIN, patient_raw(family_name="Ng", given_name="Bo"))
    theirs = charge(session, clinic, "5.00", patient=other)
    payment = ledger.post(
        session,
        ADMIN,
        patient_id=clinic.patient.id,
        location_id=clinic.location.id,
        kind=EntryKind.PAYMENT,
        amount=money("-5.00"),
        posted_on=TODAY,
        description="cash",
    )

    with pytest.raises(Conflict) as refused:
        create(session, clinic, entry_ids=[good.id, reversed_fee.id, theirs.id, payment.id])

    text = str(refused.value)
    assert f"entry {reversed_fee.id} (Fee 10.00) was reversed" in text
    assert f"entry {theirs.id} is not one of Zoë Łukasiewicz's charges" in text
    assert f"entry {payment.id} is a payment, not a charge" in text
    assert listed(session) == []
    with pytest.raises(ValidationError, match="choose at least one"):
        create(session, clinic, entry_ids=[])
    assert [n.entry_id for n in create(session, clinic, entry_ids=[good.id]).lines] == [good.id]


def test_create_refusals(session: Session, clinic: BillingClinic) -> None:
    charge(session, clinic, "10.00")
    with pytest.raises(PermissionDenied):
        invoices.create_invoice(session, FRONT, patient_id=clinic.patient.id, today=TODAY)
    with pytest.raises(ValidationError, match="end date is before the start date"):
        create(session, clinic, date_from=date(2026, 12, 2), date_to=date(2026, 12, 1))
    with pytest.raises(NotFound, match="no patient"):
        invoices.create_invoice(session, BILLING, patient_id=99999, today=TODAY)
    with pytest.raises(NotFound, match="no location"):
        create(session, clinic, location_id=99999)


# ---------------------------------------------------------------------------------------
# Issuing, states, voiding
# ---------------------------------------------------------------------------------------


def test_issuing_dates_it_sets_the_due_date_and_applies_credit(
    session: Session, clinic: BillingClinic
) -> None:
    pay(session, clinic, "30.00")  # nothing owed yet: all credit
    charge(session, clinic, "100.00")
    invoice = create(session, clinic)

    invoices.issue_invoice(session, BILLING, invoice.id, on=TODAY)

    assert invoice.status is InvoiceStatus.ISSUED
    assert invoice.issued_on == TODAY
    assert invoice.due_on == TODAY + timedelta(days=clinic.policy.invoice_due_days)
    view = invoices.invoice_view(session, BILLING, invoice.id)
    assert (view.paid, view.balance_due) == (Decimal("30.00"), Decimal("70.00"))
    assert view.state is InvoiceState.PARTLY_PAID


def test_issuing_never_spends_a_package_prepayment(session: Session, clinic: BillingClinic) -> None:
    from ketadesk.billing.packages import ensure_default_templates, sell_package

    template = ensure_default_templates(session, ADMIN)[0]
    sell_package(
        session,
        ADMIN,
        patient_id=clinic.patient.id,
        template_id=template.id,
        method=PaymentMethod.CARD,
        on=TODAY,
        location_id=clinic.location.id,
    )
    charge(session, clinic, "75.00")  # a fee the package does not cover
    invoice = create(session, clinic)
    invoices.issue_invoice(session, BILLING, invoice.id, on=TODAY)

    assert invoices.invoice_view(session, BILLING, invoice.id).balance_due == Decimal("75.00")


def test_issue_refusals(session: Session, clinic: BillingClinic) -> None:
    charge(session, clinic, "10.00")
    invoice = create(session, clinic)
    with pytest.raises(PermissionDenied):
        invoices.issue_invoice(session, FRONT, invoice.id, on=TODAY)
    invoices.issue_invoice(session, BILLING, invoice.id, on=TODAY)
    with pytest.raises(Conflict, match=f"{invoice.number} was already issued on 2026-12-10"):
        invoices.issue_invoice(session, BILLING, invoice.id, on=TODAY)
    invoices.void_invoice(session, BILLING, invoice.id, "wrong", on=TODAY)
    with pytest.raises(Conflict, match=f"{invoice.number} is void and cannot be issued"):
        invoices.issue_invoice(session, BILLING, invoice.id, on=TODAY)
    with pytest.raises(NotFound, match="no invoice with id 99999"):
        invoices.issue_invoice(session, BILLING, 99999, on=TODAY)


def test_state_moves_from_issued_to_partly_paid_to_paid(
    session: Session, clinic: BillingClinic
) -> None:
    charge(session, clinic, "100.00")
    invoice = create(session, clinic)
    invoices.issue_invoice(session, BILLING, invoice.id, on=TODAY)
    assert invoices.invoice_state(session, invoice) is InvoiceState.ISSUED

    pay(session, clinic, "40.00", invoice_id=invoice.id)
    assert invoices.invoice_state(session, invoice) is InvoiceState.PARTLY_PAID

    payments.adjust(
        session,
        ADMIN,
        patient_id=clinic.patient.id,
        amount="10.00",
        reason=AdjustmentReason.COURTESY,
        note="long wait",
        on=TODAY,
        invoice_id=invoice.id,
    )
    pay(session, clinic, "50.00", invoice_id=invoice.id)
    assert invoices.invoice_state(session, invoice) is InvoiceState.PAID


def test_voiding_an_issued_invoice_reverses_its_charges_and_frees_the_payment(
    session: Session, clinic: BillingClinic
) -> None:
    entries = posted_charges(session, BILLING, completed_iv_session(session, clinic))
    total = sum((e.amount for e in entries), Decimal("0.00"))
    invoice = create(session, clinic)
    invoices.issue_invoice(session, BILLING, invoice.id, on=TODAY)
    pay(session, clinic, "100.00", invoice_id=invoice.id)

    invoices.void_invoice(session, BILLING, invoice.id, "billed the wrong patient", on=TODAY)

    assert invoice.status is InvoiceStatus.VOID and invoice.voided_at is not None
    assert invoice.void_reason == "billed the wrong patient"
    for entry in entries:
        undo = ledger.reversal_of(session, entry.id)
        assert undo is not None and undo.posted_on == TODAY
        assert undo.note == f"invoice {invoice.number} voided: billed the wrong patient"
    patient = clinic.patient.id
    assert ledger.balance(session, patient) == Decimal("-100.00")
    assert [c.left for c in ledger.unapplied_credits(session, patient)] == [Decimal("100.00")]
    view = invoices.invoice_view(session, BILLING, invoice.id)
    assert view.state is InvoiceState.VOID and view.total == total
    assert view.balance_due == Decimal("0.00") and view.payments == ()


def test_voiding_a_draft_reverses_nothing(session: Session, clinic: BillingClinic) -> None:
    fee = charge(session, clinic, "75.00")
    invoice = create(session, clinic)
    count = session.scalar(select(func.count(LedgerEntry.id)))

    invoices.void_invoice(session, BILLING, invoice.id, "not needed", on=TODAY)

    assert invoice.status is InvoiceStatus.VOID
    assert session.scalar(select(func.count(LedgerEntry.id))) == count
    assert ledger.open_amount(session, fee) == Decimal("75.00")


def test_void_refusals(session: Session, clinic: BillingClinic) -> None:
    charge(session, clinic, "10.00")
    invoice = create(session, clinic)
    with pytest.raises(PermissionDenied):
        invoices.void_invoice(session, FRONT, invoice.id, "no", on=TODAY)
    with pytest.raises(ValidationError, match="say why"):
        invoices.void_invoice(session, BILLING, invoice.id, "  ", on=TODAY)
    invoices.void_invoice(session, BILLING, invoice.id, "duplicate", on=TODAY)
    with pytest.raises(Conflict, match=f"{invoice.number} is already void"):
        invoices.void_invoice(session, BILLING, invoice.id, "again", on=TODAY)


# ---------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------


def test_the_view_lists_lines_with_codes_payments_and_totals(
    session: Session, clinic: BillingClinic
) -> None:
    entries = posted_charges(session, BILLING, completed_iv_session(session, clinic))
    fee = charge(session, clinic, "25.00", date(2026, 12, 2))
    invoice = create(session, clinic)
    invoices.issue_invoice(session, BILLING, invoice.id, on=TODAY)
    pay(session, clinic, "320.00", invoice_id=invoice.id, reference="slip 0042")
    payments.adjust(
        session,
        ADMIN,
        patient_id=clinic.patient.id,
        amount="5.00",
        reason=AdjustmentReason.DISCOUNT,
        note="loyalty",
        on=TODAY,
        entry_ids=[fee.id],
    )

    view = invoices.invoice_view(session, BILLING, invoice.id)

    assert view.number == invoice.number and view.state is InvoiceState.PARTLY_PAID
    assert [line.entry_id for line in view.lines] == [*(e.id for e in entries), fee.id]
    first = view.lines[0]
    assert (first.code, first.units, first.description) == ("96365", 1, "IV infusion, first hour")
    assert (first.paid, first.balance) == (first.amount, Decimal("0.00"))
    assert view.lines[-1].code == "" and view.lines[-1].adjusted == Decimal("5.00")
    assert view.total == sum((e.amount for e in entries), Decimal("25.00"))
    assert view.paid == Decimal("320.00") and view.adjusted == Decimal("5.00")
    assert view.balance_due == view.total - Decimal("325.00")
    assert view.account_balance == ledger.balance(session, clinic.patient.id)
    assert [(p.amount, p.reference, p.method) for p in view.payments] == [
        (Decimal("320.00"), "slip 0042", PaymentMethod.CARD)
    ]
    assert view.practice.location_code == "NYC" and view.patient.name == "Zoë Łukasiewicz"
    assert (view.issued_on, view.due_on) == (invoice.issued_on, invoice.due_on)


def test_find_invoice_by_number(session: Session, clinic: BillingClinic) -> None:
    charge(session, clinic, "10.00")
    invoice = create(session, clinic)
    assert invoices.find_invoice(session, " nyc-2026-00001 ") is invoice
    with pytest.raises(NotFound, match="no invoice numbered 'NYC-2026-09999'"):
        invoices.find_invoice(session, "NYC-2026-09999")


def test_the_list_filters_by_state_patient_and_location(
    session: Session, clinic: BillingClinic
) -> None:
    charge(session, clinic, "10.00")
    draft = create(session, clinic)
    charge(session, clinic, "20.00")
    paid = create(session, clinic)
    invoices.issue_invoice(session, BILLING, paid.id, on=TODAY)
    pay(session, clinic, "20.00", invoice_id=paid.id)
    other = create_patient(session, ADMIN, patient_raw(family_name="Ng", given_name="Bo"))
    boston = add_location(session, "BOS")
    charge(session, clinic, "30.00", location=boston, patient=other)
    theirs = invoices.create_invoice(session, BILLING, patient_id=other.id, today=TODAY)

    every = listed(session)
    assert [r.number for r in every] == [theirs.number, paid.number, draft.number]
    row = every[1]
    assert (row.state, row.total, row.balance_due) == (
        InvoiceState.PAID,
        Decimal("20.00"),
        Decimal("0.00"),
    )
    assert (row.mrn, row.patient_name, row.location_code) == (
        clinic.patient.mrn,
        "Łukasiewicz, Zoë",
        "NYC",
    )
    assert [r.id for r in listed(session, states=[InvoiceState.DRAFT])] == [
        theirs.id,
        draft.id,
    ]
    assert [r.id for r in listed(session, patient_id=other.id)] == [theirs.id]
    assert [r.id for r in listed(session, location_id=clinic.location.id)] == [
        paid.id,
        draft.id,
    ]
    assert len(listed(session, limit=1)) == 1
    states = [InvoiceState.PAID, InvoiceState.PARTLY_PAID]
    assert [r.id for r in listed(session, states=states)] == [paid.id]


# ---------------------------------------------------------------------------------------
# Searching and paging: in SQL, over every invoice, with the true count
# ---------------------------------------------------------------------------------------

MANY = 520  # more than the 500 the list used to stop at


def many_drafts(session: Session, clinic: BillingClinic, count: int = MANY) -> None:
    """``count`` empty drafts for the clinic's patient, written in one go (the list and the
    search read invoices; how they were made does not matter to them)."""
    session.add_all(
        Invoice(
            number=f"NYC-2025-{n:05d}",
            patient_id=clinic.patient.id,
            location_id=clinic.location.id,
            status=InvoiceStatus.DRAFT,
        )
        for n in range(1, count + 1)
    )
    session.flush()


def test_the_list_counts_every_invoice_and_pages_through_all_of_them(
    session: Session, clinic: BillingClinic
) -> None:
    many_drafts(session, clinic)

    every = invoices.list_invoices(session, BILLING)
    assert (every.total, len(every.rows), every.more) == (MANY, MANY, False)
    first = invoices.list_invoices(session, BILLING, limit=200)
    assert (first.total, len(first.rows), first.more) == (MANY, 200, True)
    assert first.rows[0].number == f"NYC-2025-{MANY:05d}"  # newest first
    last = invoices.list_invoices(session, BILLING, limit=200, offset=400)
    assert (last.total, len(last.rows), last.more) == (MANY, MANY - 400, False)
    assert last.rows[-1].number == "NYC-2025-00001"
    pages = [invoices.list_invoices(session, BILLING, limit=200, offset=n) for n in (0, 200, 400)]
    assert len({row.id for page in pages for row in page.rows}) == MANY


def test_a_search_finds_the_oldest_invoice_among_hundreds(
    session: Session, clinic: BillingClinic
) -> None:
    many_drafts(session, clinic)
    other = create_patient(session, ADMIN, patient_raw(family_name="Ng", given_name="Bo"))
    charge(session, clinic, "30.00", patient=other)
    theirs = invoices.create_invoice(session, BILLING, patient_id=other.id, today=TODAY)

    found = invoices.search_invoices(session, BILLING, "nyc-2025-00001")
    assert [r.number for r in found.rows] == ["NYC-2025-00001"] and found.total == 1
    part = invoices.search_invoices(session, BILLING, "2025-0000")  # 00001 … 00009
    assert part.total == 9
    assert [r.number for r in invoices.search_invoices(session, BILLING, "ng bo").rows] == [
        theirs.number
    ]
    assert invoices.search_invoices(session, BILLING, other.mrn).total == 1
    by_name = invoices.search_invoices(session, BILLING, "Łukasiewicz", limit=10)
    assert (by_name.total, len(by_name.rows)) == (MANY, 10)
    assert invoices.search_invoices(session, BILLING, "100%_").total == 0  # no wildcards
    drafts = invoices.search_invoices(
        session, BILLING, "ng", states=[InvoiceState.ISSUED]
    )
    assert drafts.total == 0


def test_a_page_must_start_at_zero_or_later(session: Session, clinic: BillingClinic) -> None:
    with pytest.raises(ValidationError, match="a page starts at 0"):
        invoices.list_invoices(session, BILLING, offset=-1)
    with pytest.raises(PermissionDenied):
        invoices.search_invoices(session, Actor(username="nurse", role=Role.CLINICAL), "x")
