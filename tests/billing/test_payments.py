"""Payments, adjustments, refunds, reversals and applying credit: where the money goes, and
every refusal leaving the books exactly as they were."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from billing.billing_helpers import ADMIN, BILLING, BillingClinic, billing_clinic, ledger_charge
from builders import add_location, patient_raw
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from ketadesk.access.permissions import Actor, Role
from ketadesk.billing import invoices, ledger, payments
from ketadesk.billing.models import (
    AdjustmentReason,
    Allocation,
    EntryKind,
    LedgerEntry,
    PaymentMethod,
)
from ketadesk.clinic.patients import create_patient
from ketadesk.db import Database
from ketadesk.errors import Conflict, NotFound, PermissionDenied, ValidationError

TODAY = date(2026, 12, 10)
FRONT = Actor(username="desk", role=Role.FRONT_DESK)
NURSE = Actor(username="nurse", role=Role.CLINICAL)


@pytest.fixture
def clinic(session: Session) -> BillingClinic:
    return billing_clinic(session)


charge = ledger_charge


def pay(
    session: Session, clinic: BillingClinic, amount: object, **kwargs: object
) -> payments.PaymentResult:
    values: dict[str, object] = {"method": PaymentMethod.CARD, "on": TODAY} | kwargs
    return payments.take_payment(
        session,
        values.pop("actor", FRONT),  # type: ignore[arg-type]
        patient_id=clinic.patient.id,
        amount=amount,  # type: ignore[arg-type]
        **values,  # type: ignore[arg-type]
    )


def counts(session: Session) -> tuple[int, int]:
    entries = session.scalar(select(func.count(LedgerEntry.id)))
    allocations = session.scalar(select(func.count(Allocation.id)))
    return entries or 0, allocations or 0


# ---------------------------------------------------------------------------------------
# Taking a payment
# ---------------------------------------------------------------------------------------


def test_a_payment_pays_the_oldest_charges_first_and_the_rest_is_credit(
    session: Session, clinic: BillingClinic
) -> None:
    late = charge(session, clinic, "100.00", date(2026, 12, 3))
    early = charge(session, clinic, "60.00", date(2026, 12, 1))

    result = pay(session, clinic, "200.00", reference="slip 17")

    assert result.amount == Decimal("200.00")
    assert result.applied == Decimal("160.00") and result.credit == Decimal("40.00")
    assert result.allocations == ((early.id, Decimal("60.00")), (late.id, Decimal("100.00")))
    entry = ledger.get_entry(session, result.entry_id)
    assert entry.kind is EntryKind.PAYMENT and entry.amount == Decimal("-200.00")
    assert entry.method is PaymentMethod.CARD and entry.reference == "slip 17"
    assert entry.posted_on == TODAY and entry.location_id == clinic.location.id
    assert entry.description == "Payment, Card"
    assert ledger.balance(session, clinic.patient.id) == Decimal("-40.00")


def test_a_payment_on_an_invoice_pays_only_its_lines(
    session: Session, clinic: BillingClinic
) -> None:
    older = charge(session, clinic, "50.00", date(2026, 11, 1))
    invoiced = charge(session, clinic, "80.00", date(2026, 12, 1))
    invoice = invoices.create_invoice(
        session, BILLING, patient_id=clinic.patient.id, today=TODAY, entry_ids=[invoiced.id]
    )
    invoices.issue_invoice(session, BILLING, invoice.id, on=TODAY)

    result = pay(session, clinic, "100.00", invoice_id=invoice.id, method="hsa_fsa")

    assert result.allocations == ((invoiced.id, Decimal("80.00")),)
    assert result.credit == Decimal("20.00")
    assert ledger.open_amount(session, older) == Decimal("50.00")
    entry = ledger.get_entry(session, result.entry_id)
    assert entry.description == f"Payment, HSA/FSA, invoice {invoice.number}"
    assert entry.method is PaymentMethod.HSA_FSA


def test_a_payment_on_chosen_charges_skips_the_others(
    session: Session, clinic: BillingClinic
) -> None:
    older = charge(session, clinic, "50.00", date(2026, 11, 1))
    chosen = charge(session, clinic, "80.00", date(2026, 12, 1))

    result = pay(session, clinic, "30.00", entry_ids=[chosen.id], method=PaymentMethod.CASH)

    assert result.allocations == ((chosen.id, Decimal("30.00")),)
    assert ledger.open_amount(session, older) == Decimal("50.00")
    assert ledger.open_amount(session, chosen) == Decimal("50.00")


def test_a_payment_with_nothing_owed_is_all_credit_at_the_patients_location(
    session: Session, clinic: BillingClinic
) -> None:
    result = pay(session, clinic, "25.00", method=PaymentMethod.CHECK, reference="1001")
    assert (result.applied, result.credit, result.allocations) == (
        Decimal("0.00"),
        Decimal("25.00"),
        (),
    )
    entry = ledger.get_entry(session, result.entry_id)
    assert entry.location_id == clinic.location.id  # the clinic's only location


def test_with_several_locations_a_payment_needs_one_when_nothing_points_at_it(
    session: Session, clinic: BillingClinic
) -> None:
    boston = add_location(session, "BOS")
    with pytest.raises(ValidationError, match="choose the location"):
        pay(session, clinic, "25.00")
    result = pay(session, clinic, "25.00", location_id=boston.id)
    assert ledger.get_entry(session, result.entry_id).location_id == boston.id
    with pytest.raises(NotFound, match="no location"):
        pay(session, clinic, "25.00", location_id=99999)


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("0", "a payment must be more than \\$0.00"),
        ("-5.00", "a payment must be more than \\$0.00"),
        ("45.001", "fraction of a cent"),
        ("forty", "is not an amount of money"),
    ],
)
def test_payment_amounts_that_are_refused(
    session: Session, clinic: BillingClinic, amount: str, words: str
) -> None:
    charge(session, clinic, "100.00")
    before = counts(session)
    with pytest.raises(ValidationError, match=words) as refused:
        pay(session, clinic, amount)
    assert refused.value.for_field("amount")
    assert counts(session) == before


def test_a_float_never_becomes_money(session: Session, clinic: BillingClinic) -> None:
    before = counts(session)
    with pytest.raises(TypeError):
        pay(session, clinic, 45.5)
    assert counts(session) == before


def test_payment_refusals_change_nothing(session: Session, clinic: BillingClinic) -> None:
    fee = charge(session, clinic, "100.00")
    other = create_patient(session, ADMIN, patient_raw(family_name="Ng", given_name="Bo"))
    theirs = charge(session, clinic, "10.00", patient=other)
    their_invoice = invoices.create_invoice(session, BILLING, patient_id=other.id, today=TODAY)
    mine = invoices.create_invoice(session, BILLING, patient_id=clinic.patient.id, today=TODAY)
    invoices.void_invoice(session, BILLING, mine.id, "redo", on=TODAY)
    before = counts(session)

    with pytest.raises(PermissionDenied):
        pay(session, clinic, "10.00", actor=NURSE)
    with pytest.raises(ValidationError, match="'bitcoin' is not a method"):
        pay(session, clinic, "10.00", method="bitcoin")
    with pytest.raises(ValidationError, match=f"invoice {their_invoice.number} is not Zoë"):
        pay(session, clinic, "10.00", invoice_id=their_invoice.id)
    with pytest.raises(Conflict, match=f"invoice {mine.number} is void"):
        pay(session, clinic, "10.00", invoice_id=mine.id)
    with pytest.raises(ValidationError, match=f"entry {theirs.id} is not one of Zoë"):
        pay(session, clinic, "10.00", entry_ids=[theirs.id])
    with pytest.raises(ValidationError, match="choose at least one"):
        pay(session, clinic, "10.00", entry_ids=[])
    with pytest.raises(NotFound, match="no patient"):
        payments.take_payment(
            session, FRONT, patient_id=99999, amount="1.00", method="cash", on=TODAY
        )
    credit = pay(session, clinic, "1.00", entry_ids=[fee.id])
    before = (before[0] + 1, before[1] + 1)
    with pytest.raises(ValidationError, match="is not something owed"):
        pay(session, clinic, "10.00", entry_ids=[credit.entry_id])
    assert counts(session) == before


def test_chosen_entries_must_be_on_the_invoice(session: Session, clinic: BillingClinic) -> None:
    invoiced = charge(session, clinic, "10.00")
    invoice = invoices.create_invoice(session, BILLING, patient_id=clinic.patient.id, today=TODAY)
    outside = charge(session, clinic, "20.00")
    with pytest.raises(ValidationError, match=f"entry {outside.id} is not on invoice"):
        pay(session, clinic, "5.00", invoice_id=invoice.id, entry_ids=[outside.id])
    result = pay(session, clinic, "5.00", invoice_id=invoice.id, entry_ids=[invoiced.id])
    assert result.allocations == ((invoiced.id, Decimal("5.00")),)


# ---------------------------------------------------------------------------------------
# Adjustments
# ---------------------------------------------------------------------------------------


def test_an_adjustment_takes_off_what_is_owed_oldest_first(
    session: Session, clinic: BillingClinic
) -> None:
    early = charge(session, clinic, "30.00", date(2026, 11, 1))
    late = charge(session, clinic, "70.00", date(2026, 12, 1))

    entry = payments.adjust(
        session,
        BILLING,
        patient_id=clinic.patient.id,
        amount="50.00",
        reason="sliding_scale",
        note="income below 200% FPL",
        on=TODAY,
    )

    assert entry.kind is EntryKind.ADJUSTMENT and entry.amount == Decimal("-50.00")
    assert entry.reason is AdjustmentReason.SLIDING_SCALE
    assert entry.note == "income below 200% FPL"
    assert entry.description == "Adjustment, sliding scale"
    assert ledger.open_amount(session, early) == Decimal("0.00")
    assert ledger.open_amount(session, late) == Decimal("50.00")
    assert ledger.unapplied(session, entry) == Decimal("0.00")


def test_a_write_off_of_one_invoice(session: Session, clinic: BillingClinic) -> None:
    charge(session, clinic, "30.00", date(2026, 11, 1))
    fee = charge(session, clinic, "70.00", date(2026, 12, 1))
    invoice = invoices.create_invoice(
        session, BILLING, patient_id=clinic.patient.id, today=TODAY, entry_ids=[fee.id]
    )
    payments.adjust(
        session,
        BILLING,
        patient_id=clinic.patient.id,
        amount="70.00",
        reason=AdjustmentReason.WRITE_OFF,
        note="uncollectable",
        on=TODAY,
        invoice_id=invoice.id,
    )
    assert invoices.invoice_view(session, BILLING, invoice.id).balance_due == Decimal("0.00")
    assert ledger.balance(session, clinic.patient.id) == Decimal("30.00")


def test_adjustment_refusals_change_nothing(session: Session, clinic: BillingClinic) -> None:
    fee = charge(session, clinic, "40.00")
    paid = charge(session, clinic, "10.00")
    pay(session, clinic, "10.00", entry_ids=[paid.id])
    before = counts(session)

    def adjust(actor: Actor = BILLING, **kwargs: object) -> None:
        values: dict[str, object] = {
            "amount": "5.00",
            "reason": AdjustmentReason.COURTESY,
            "note": "wait",
            "on": TODAY,
        } | kwargs
        payments.adjust(session, actor, patient_id=clinic.patient.id, **values)  # type: ignore[arg-type]

    with pytest.raises(PermissionDenied):
        adjust(FRONT)
    with pytest.raises(Conflict, match=r"adjustment of \$40.01 is more than the \$40.00 still"):
        adjust(amount="40.01")
    with pytest.raises(Conflict, match="nothing is owed on the charges chosen"):
        adjust(amount="20.00", entry_ids=[paid.id])
    with pytest.raises(ValidationError) as refused:
        adjust(amount="0.00", note=" ", reason="gift")
    assert refused.value.for_field("amount") == ["an adjustment must be more than $0.00"]
    assert refused.value.for_field("note") == ["say why the adjustment is made"]
    assert refused.value.for_field("reason")
    assert counts(session) == before
    adjust(amount="40.00", entry_ids=[fee.id])
    assert ledger.balance(session, clinic.patient.id) == Decimal("0.00")


# ---------------------------------------------------------------------------------------
# Refunds
# ---------------------------------------------------------------------------------------


def test_a_refund_pays_back_credit(session: Session, clinic: BillingClinic) -> None:
    charge(session, clinic, "60.00")
    result = pay(session, clinic, "100.00")

    entry = payments.refund(
        session,
        BILLING,
        patient_id=clinic.patient.id,
        amount="40.00",
        method=PaymentMethod.CARD,
        note="overpaid at check-out",
        on=TODAY,
        reference="void slip 9",
    )

    assert entry.kind is EntryKind.REFUND and entry.amount == Decimal("40.00")
    assert entry.description == "Refund, Card" and entry.reference == "void slip 9"
    assert ledger.unapplied(session, ledger.get_entry(session, result.entry_id)) == Decimal("0")
    assert ledger.open_amount(session, entry) == Decimal("0.00")
    assert ledger.balance(session, clinic.patient.id) == Decimal("0.00")


def test_refunding_more_than_the_credit_is_refused(session: Session, clinic: BillingClinic) -> None:
    pay(session, clinic, "30.00")
    before = counts(session)
    with pytest.raises(Conflict, match=r"has \$30.00 of credit, so \$30.01 cannot be refunded"):
        payments.refund(
            session,
            BILLING,
            patient_id=clinic.patient.id,
            amount="30.01",
            method="card",
            note="asked",
            on=TODAY,
        )
    with pytest.raises(PermissionDenied):
        payments.refund(
            session,
            FRONT,
            patient_id=clinic.patient.id,
            amount="1.00",
            method="card",
            note="asked",
            on=TODAY,
        )
    with pytest.raises(ValidationError) as refused:
        payments.refund(
            session,
            BILLING,
            patient_id=clinic.patient.id,
            amount="-1.00",
            method="card",
            note="",
            on=TODAY,
        )
    assert {p.field for p in refused.value.problems} == {"amount", "note"}
    assert counts(session) == before


def test_a_package_prepayment_is_not_refundable_credit(
    session: Session, clinic: BillingClinic
) -> None:
    from ketadesk.billing.packages import ensure_default_templates, sell_package

    template = ensure_default_templates(session, ADMIN)[0]
    purchase = sell_package(
        session,
        ADMIN,
        patient_id=clinic.patient.id,
        template_id=template.id,
        method=PaymentMethod.CARD,
        on=TODAY,
        location_id=clinic.location.id,
    )
    prepayment = session.scalars(
        select(LedgerEntry).where(LedgerEntry.package_purchase_id == purchase.id)
    ).one()
    charge(session, clinic, "20.00")
    before = counts(session)

    with pytest.raises(Conflict, match="package's unused sessions") as refused:
        payments.refund(
            session,
            BILLING,
            patient_id=clinic.patient.id,
            amount="10.00",
            method="card",
            note="asked",
            on=TODAY,
        )
    assert "has $0.00 of credit" in str(refused.value)
    assert f"${template.price:,.2f} prepaid for packages" in str(refused.value)
    with pytest.raises(Conflict, match="package prepayment and cannot be reversed"):
        payments.reverse_entry(session, BILLING, prepayment.id, "mistake", on=TODAY)
    assert payments.apply_credit(session, FRONT, clinic.patient.id) == []
    assert counts(session) == before


# ---------------------------------------------------------------------------------------
# Reversals and credit
# ---------------------------------------------------------------------------------------


def test_reversing_a_payment_reopens_what_it_paid(session: Session, clinic: BillingClinic) -> None:
    fee = charge(session, clinic, "100.00")
    result = pay(session, clinic, "100.00", method="check", reference="2001")

    undo = payments.reverse_entry(session, BILLING, result.entry_id, "check bounced", on=TODAY)

    assert undo.kind is EntryKind.REVERSAL and undo.amount == Decimal("100.00")
    assert undo.note == "check bounced" and undo.reverses_id == result.entry_id
    assert ledger.open_amount(session, fee) == Decimal("100.00")
    assert ledger.balance(session, clinic.patient.id) == Decimal("100.00")


def test_reversing_a_refund_restores_the_credit(session: Session, clinic: BillingClinic) -> None:
    pay(session, clinic, "50.00")
    back = payments.refund(
        session,
        BILLING,
        patient_id=clinic.patient.id,
        amount="50.00",
        method="card",
        note="asked",
        on=TODAY,
    )
    payments.reverse_entry(session, BILLING, back.id, "card declined the refund", on=TODAY)
    credits = ledger.unapplied_credits(session, clinic.patient.id)
    assert [c.left for c in credits] == [Decimal("50.00")]


def test_reversal_refusals(session: Session, clinic: BillingClinic) -> None:
    fee = charge(session, clinic, "100.00")
    undo = payments.reverse_entry(session, BILLING, fee.id, "wrong code", on=TODAY)
    before = counts(session)

    with pytest.raises(Conflict, match="is itself a reversal"):
        payments.reverse_entry(session, BILLING, undo.id, "undo the undo", on=TODAY)
    with pytest.raises(Conflict, match="already reversed"):
        payments.reverse_entry(session, BILLING, fee.id, "again", on=TODAY)
    with pytest.raises(ValidationError, match="say why"):
        payments.reverse_entry(session, BILLING, fee.id, "", on=TODAY)
    with pytest.raises(PermissionDenied):
        payments.reverse_entry(session, FRONT, fee.id, "no", on=TODAY)
    with pytest.raises(NotFound):
        payments.reverse_entry(session, BILLING, 99999, "no", on=TODAY)
    assert counts(session) == before


def test_apply_credit_spends_credit_on_open_charges(
    session: Session, clinic: BillingClinic
) -> None:
    pay(session, clinic, "70.00")
    first = charge(session, clinic, "50.00", date(2026, 12, 1))
    second = charge(session, clinic, "50.00", date(2026, 12, 2))

    made = payments.apply_credit(session, FRONT, clinic.patient.id)

    assert [(a.debit_id, a.amount) for a in made] == [
        (first.id, Decimal("50.00")),
        (second.id, Decimal("20.00")),
    ]
    assert payments.apply_credit(session, FRONT, clinic.patient.id) == []
    with pytest.raises(PermissionDenied):
        payments.apply_credit(session, NURSE, clinic.patient.id)


# PostgreSQL only: on SQLite a write transaction (BEGIN IMMEDIATE) already excludes writers.
@pytest.mark.postgres
@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
def test_taking_a_payment_holds_the_patients_account_until_it_commits(
    database: Database,
) -> None:
    """Two workstations must not allocate the same charge at once: while a payment is being
    taken the patient's row stays locked, so another writer's lock on it fails at once
    (NOWAIT). NO KEY UPDATE, because inserting entries that point at the patient takes only
    KEY SHARE, which would not stop it."""
    probe = text("SELECT id FROM patient WHERE id = :id FOR NO KEY UPDATE NOWAIT")
    with database.transaction() as s:
        clinic = billing_clinic(s)
        charge(s, clinic, "100.00")
        patient_id = clinic.patient.id
    with database.transaction() as desk:
        payments.take_payment(
            desk, FRONT, patient_id=patient_id, amount="50.00", method="cash", on=TODAY
        )
        with database.engine.connect() as other, pytest.raises(OperationalError):
            other.execute(probe, {"id": patient_id})
        desk.rollback()
    with database.engine.connect() as other:
        assert other.execute(probe, {"id": patient_id}).scalar_one() == patient_id


# ---------------------------------------------------------------------------------------
# Amounts far above what the clinic charges
# ---------------------------------------------------------------------------------------


def test_the_unusual_threshold_is_ten_times_the_dearest_fee_or_package(
    session: Session, clinic: BillingClinic
) -> None:
    from ketadesk.billing.fees import list_fee_items
    from ketadesk.billing.packages import ensure_default_templates

    fees = list_fee_items(session)
    dearest_fee = max(max(f.self_pay_price, f.billed_charge) for f in fees)
    expected = max(dearest_fee * 10, payments.UNUSUAL_FLOOR)
    assert payments.unusual_threshold(session) == expected

    templates = ensure_default_templates(session, ADMIN)
    dearest = max([dearest_fee, *(t.price for t in templates)])
    threshold = payments.unusual_threshold(session)
    assert threshold == max(dearest * 10, payments.UNUSUAL_FLOOR)

    assert payments.unusual_amount(threshold, threshold) is None
    question = payments.unusual_amount(threshold + Decimal("0.01"), threshold)
    assert question is not None and "Is this amount right?" in question
