"""The account as patients and the office read it: the out-of-pocket summary, statements
with aging, receipts, and the credit and prepayments the clinic holds."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from billing.billing_helpers import ADMIN, BILLING, BillingClinic, billing_clinic, ledger_charge
from builders import add_location, patient_raw
from documents.view_builders import assert_in_order, pages
from sqlalchemy.orm import Session

from ketadesk.billing import account, invoices, ledger, payments
from ketadesk.billing.models import (
    AdjustmentReason,
    Invoice,
    LedgerEntry,
    PackagePurchase,
    PaymentMethod,
)
from ketadesk.billing.views import PastDueInvoice
from ketadesk.clinic.models import Location, Patient
from ketadesk.clinic.patients import create_patient
from ketadesk.documents.statement import render_statement
from ketadesk.errors import Conflict, NotFound, ValidationError

D = Decimal
ZERO = D("0.00")


@pytest.fixture
def clinic(session: Session) -> BillingClinic:
    return billing_clinic(session)


def charge(
    session: Session,
    clinic: BillingClinic,
    amount: str,
    on: date,
    *,
    patient: Patient | None = None,
    location: Location | None = None,
) -> LedgerEntry:
    return ledger_charge(
        session,
        clinic,
        amount,
        on,
        patient=patient,
        location=location,
        description=f"Infusion {amount}",
    )


def pay(
    session: Session,
    clinic: BillingClinic,
    amount: str,
    on: date,
    *,
    patient: Patient | None = None,
    **kwargs: object,
) -> int:
    return payments.take_payment(
        session,
        ADMIN,
        patient_id=(patient or clinic.patient).id,
        amount=amount,
        method=kwargs.pop("method", PaymentMethod.CARD),  # type: ignore[arg-type]
        on=on,
        **kwargs,  # type: ignore[arg-type]
    ).entry_id


def sell(session: Session, clinic: BillingClinic, on: date) -> PackagePurchase:
    from ketadesk.billing.packages import ensure_default_templates, sell_package

    template = ensure_default_templates(session, ADMIN)[0]
    return sell_package(
        session,
        ADMIN,
        patient_id=clinic.patient.id,
        template_id=template.id,
        method=PaymentMethod.CARD,
        on=on,
        location_id=clinic.location.id,
    )


# ---------------------------------------------------------------------------------------
# The out-of-pocket summary
# ---------------------------------------------------------------------------------------


def test_the_summary_splits_this_year_from_all_years(
    session: Session, clinic: BillingClinic
) -> None:
    old = charge(session, clinic, "500.00", date(2025, 11, 3))
    pay(session, clinic, "200.00", date(2025, 11, 3))
    charge(session, clinic, "450.00", date(2026, 2, 1))
    payments.adjust(
        session,
        BILLING,
        patient_id=clinic.patient.id,
        amount="50.00",
        reason=AdjustmentReason.COURTESY,
        note="long wait",
        on=date(2026, 2, 1),
    )
    # A 2025 charge reversed in 2026 is charged less in 2026, not in 2025.
    payments.reverse_entry(session, BILLING, old.id, "never happened", on=date(2026, 1, 5))
    pay(session, clinic, "600.00", date(2026, 3, 1))
    payments.refund(
        session,
        BILLING,
        patient_id=clinic.patient.id,
        amount="100.00",
        method="card",
        note="asked",
        on=date(2026, 3, 2),
    )

    summary = account.account_summary(session, BILLING, clinic.patient.id, year=2026)

    assert (summary.charged_year, summary.charged_total) == (D("-50.00"), D("450.00"))
    assert (summary.paid_year, summary.paid_total) == (D("600.00"), D("800.00"))
    assert (summary.adjusted_year, summary.adjusted_total) == (D("50.00"), D("50.00"))
    assert (summary.refunded_year, summary.refunded_total) == (D("100.00"), D("100.00"))
    assert summary.balance == ledger.balance(session, clinic.patient.id) == D("-300.00")
    assert (
        summary.balance
        == (summary.charged_total - summary.paid_total - summary.adjusted_total)
        + summary.refunded_total
    )
    assert (summary.owed, summary.credit, summary.unapplied_prepayments) == (
        ZERO,
        D("300.00"),
        ZERO,
    )
    earlier = account.account_summary(session, BILLING, clinic.patient.id, year=2025)
    assert (earlier.charged_year, earlier.paid_year) == (D("500.00"), D("200.00"))


def test_the_summary_keeps_package_money_apart_from_credit(
    session: Session, clinic: BillingClinic
) -> None:
    purchase = sell(session, clinic, date(2026, 12, 1))
    charge(session, clinic, "75.00", date(2026, 12, 2))

    summary = account.account_summary(session, BILLING, clinic.patient.id, year=2026)

    assert summary.unapplied_prepayments == purchase.price
    assert summary.paid_year == purchase.price
    assert (summary.owed, summary.credit) == (D("75.00"), ZERO)
    assert summary.balance == summary.owed - summary.credit - summary.unapplied_prepayments


def test_the_summary_of_an_unknown_patient(session: Session) -> None:
    with pytest.raises(NotFound):
        account.account_summary(session, BILLING, 99999, year=2026)


# ---------------------------------------------------------------------------------------
# Statements
# ---------------------------------------------------------------------------------------


def test_a_statement_runs_from_opening_to_closing_balance(
    session: Session, clinic: BillingClinic
) -> None:
    charge(session, clinic, "100.00", date(2026, 10, 15))
    charge(session, clinic, "200.00", date(2026, 11, 5))
    pay(session, clinic, "120.00", date(2026, 11, 20), reference="slip 3")
    charge(session, clinic, "50.00", date(2026, 12, 5))  # after the statement date

    view = account.statement_view(
        session, BILLING, clinic.patient.id, on=date(2026, 11, 30), period_from=date(2026, 11, 1)
    )

    assert (view.period_from, view.period_to) == (date(2026, 11, 1), date(2026, 11, 30))
    assert view.opening_balance == D("100.00")
    assert [(n.on, n.charges, n.credits, n.balance) for n in view.lines] == [
        (date(2026, 11, 5), D("200.00"), ZERO, D("300.00")),
        (date(2026, 11, 20), ZERO, D("120.00"), D("180.00")),
    ]
    assert view.lines[1].description == "Payment, Card"
    assert view.closing_balance == D("180.00")
    assert view.patient.name == "Zoë Łukasiewicz" and view.practice.location_code == "NYC"
    # No invoice is open, so payment is due on the policy's terms from the statement date.
    assert view.due_on == date(2026, 11, 30) + timedelta(days=clinic.policy.invoice_due_days)
    assert view.message.startswith("Please pay")


@pytest.mark.parametrize(
    ("days_old", "bucket"),
    [
        (0, "Current"),
        (30, "Current"),
        (31, "31–60 days"),
        (60, "31–60 days"),
        (61, "61–90 days"),
        (90, "61–90 days"),
        (91, "91–120 days"),
        (120, "91–120 days"),
        (121, "Over 120 days"),
    ],
)
def test_aging_buckets_open_charges_by_their_age(
    session: Session, clinic: BillingClinic, days_old: int, bucket: str
) -> None:
    on = date(2026, 12, 10)
    charge(session, clinic, "80.00", on - timedelta(days=days_old))

    aging = dict(account.statement_view(session, BILLING, clinic.patient.id, on=on).aging)

    assert list(aging) == [label for label, _ in account.AGING_BUCKETS]
    assert aging == {label: D("80.00") if label == bucket else ZERO for label in aging}


def test_aging_counts_only_what_is_still_owed(session: Session, clinic: BillingClinic) -> None:
    on = date(2026, 12, 10)
    charge(session, clinic, "100.00", date(2026, 7, 1))
    charge(session, clinic, "40.00", date(2026, 12, 1))
    pay(session, clinic, "70.00", date(2026, 12, 2))  # pays the oldest first

    aging = dict(account.statement_view(session, BILLING, clinic.patient.id, on=on).aging)

    assert aging["Over 120 days"] == D("30.00") and aging["Current"] == D("40.00")


def _issued(
    session: Session, clinic: BillingClinic, entry: LedgerEntry, on: date
) -> Invoice:
    invoice = invoices.create_invoice(
        session, BILLING, patient_id=clinic.patient.id, today=on, entry_ids=[entry.id]
    )
    return invoices.issue_invoice(session, BILLING, invoice.id, on=on)


def test_a_late_invoice_is_past_due_and_the_statement_is_due_after_its_own_date(
    session: Session, clinic: BillingClinic
) -> None:
    first = charge(session, clinic, "100.00", date(2026, 10, 1))
    second = charge(session, clinic, "100.00", date(2026, 11, 1))
    paid = _issued(session, clinic, first, date(2026, 10, 2))
    pay(session, clinic, "100.00", date(2026, 10, 3), invoice_id=paid.id)
    unpaid = _issued(session, clinic, second, date(2026, 11, 2))
    pay(session, clinic, "30.00", date(2026, 11, 20), invoice_id=unpaid.id)
    on = date(2026, 12, 10)

    view = account.statement_view(session, BILLING, clinic.patient.id, on=on)

    # The unpaid invoice was due 12/02, before the statement: it is listed as past due,
    # and the statement itself asks for payment on the terms counted from its own date.
    assert unpaid.due_on == date(2026, 12, 2)
    assert view.due_on == on + timedelta(days=clinic.policy.invoice_due_days)
    assert view.past_due == (
        PastDueInvoice(unpaid.number, date(2026, 12, 2), D("70.00"), 8),
    )
    assert view.past_due_total == D("70.00") and view.past_due_since == date(2026, 12, 2)

    (text,) = pages(render_statement(view, deterministic=True))
    due = view.due_on.strftime("%m/%d/%Y")
    assert_in_order(
        text,
        [
            "Statement date 12/10/2026",
            f"Payment due {due}",
            f"Amount due by {due}",
            "$70.00 is past due",
            "(since 12/02/2026)",
            f"{unpaid.number}\n12/02/2026\n8\n$70.00",
        ],
    )


def test_a_statement_is_due_when_an_invoice_not_yet_late_falls_due(
    session: Session, clinic: BillingClinic
) -> None:
    entry = charge(session, clinic, "100.00", date(2026, 12, 1))
    invoice = _issued(session, clinic, entry, date(2026, 12, 1))
    on = date(2026, 12, 10)
    assert invoice.due_on is not None and on <= invoice.due_on

    view = account.statement_view(session, BILLING, clinic.patient.id, on=on)

    expected = min(invoice.due_on, on + timedelta(days=clinic.policy.invoice_due_days))
    assert view.due_on == expected and view.due_on >= on
    assert view.past_due == ()


def test_a_statement_in_credit_has_no_due_date_and_shows_prepayments(
    session: Session, clinic: BillingClinic
) -> None:
    purchase = sell(session, clinic, date(2026, 12, 1))
    pay(session, clinic, "40.00", date(2026, 12, 2))

    view = account.statement_view(session, BILLING, clinic.patient.id, on=date(2026, 12, 10))

    assert view.period_from == date(2026, 11, 11)  # the 30 days up to the statement date
    assert view.closing_balance == -(purchase.price + D("40.00"))
    assert view.due_on is None and view.unapplied_prepayments == purchase.price
    assert "credit" in view.message
    with pytest.raises(ValidationError, match="starts after"):
        account.statement_view(
            session,
            BILLING,
            clinic.patient.id,
            on=date(2026, 12, 10),
            period_from=date(2026, 12, 11),
        )


# ---------------------------------------------------------------------------------------
# Receipts
# ---------------------------------------------------------------------------------------


def test_a_payment_receipt_names_what_it_paid(session: Session, clinic: BillingClinic) -> None:
    first = charge(session, clinic, "60.00", date(2026, 12, 1))
    second = charge(session, clinic, "60.00", date(2026, 12, 2))
    paid = pay(session, clinic, "100.00", date(2026, 12, 3), reference="slip 5")

    receipt = account.payment_receipt(session, BILLING, paid)

    assert receipt.number == f"R-{paid}" and receipt.title == "Payment receipt"
    assert [(p.amount, p.reference) for p in receipt.payments] == [(D("100.00"), "slip 5")]
    assert receipt.total_paid == receipt.net_paid == D("100.00")
    assert (receipt.period_from, receipt.period_to) == (date(2026, 12, 3), date(2026, 12, 3))
    assert [(s.entry_id, s.paid, s.balance) for s in receipt.services] == [
        (first.id, D("60.00"), ZERO),
        (second.id, D("40.00"), D("20.00")),
    ]


def test_a_reversed_payments_receipt_says_so(session: Session, clinic: BillingClinic) -> None:
    charge(session, clinic, "60.00", date(2026, 12, 1))
    paid = pay(session, clinic, "60.00", date(2026, 12, 3))
    payments.reverse_entry(session, BILLING, paid, "card chargeback", on=date(2026, 12, 9))

    receipt = account.payment_receipt(session, BILLING, paid)

    assert receipt.title == "Payment receipt (reversed)"
    assert receipt.net_paid == ZERO and receipt.services == ()


def test_only_payments_have_receipts(session: Session, clinic: BillingClinic) -> None:
    fee = charge(session, clinic, "60.00", date(2026, 12, 1))
    with pytest.raises(Conflict, match="is a charge; receipts are for payments"):
        account.payment_receipt(session, BILLING, fee.id)


def test_the_year_receipt_lists_the_payments_that_stand(
    session: Session, clinic: BillingClinic
) -> None:
    charge(session, clinic, "300.00", date(2025, 12, 30))
    pay(session, clinic, "100.00", date(2025, 12, 31))  # last year
    service = charge(session, clinic, "450.00", date(2026, 1, 5))
    kept = pay(session, clinic, "450.00", date(2026, 1, 5), method=PaymentMethod.HSA_FSA)
    bounced = pay(session, clinic, "200.00", date(2026, 2, 1), method="check")
    payments.reverse_entry(session, BILLING, bounced, "returned", on=date(2026, 2, 9))
    pay(session, clinic, "250.00", date(2026, 3, 1))
    back = payments.refund(
        session,
        BILLING,
        patient_id=clinic.patient.id,
        amount="50.00",
        method="card",
        note="overpaid",
        on=date(2026, 3, 2),
    )

    receipt = account.year_receipt(session, BILLING, clinic.patient.id, 2026)

    assert receipt.number == f"Y2026-{clinic.patient.mrn}"
    assert receipt.title == "Payments received in 2026"
    assert (receipt.period_from, receipt.period_to) == (date(2026, 1, 1), date(2026, 12, 31))
    assert [p.amount for p in receipt.payments] == [D("450.00"), D("250.00")]
    assert receipt.payments[0].entry_id == kept
    assert receipt.payments[0].method is PaymentMethod.HSA_FSA
    assert [(r.entry_id, r.amount) for r in receipt.refunds] == [(back.id, D("50.00"))]
    assert (receipt.total_paid, receipt.total_refunded, receipt.net_paid) == (
        D("700.00"),
        D("50.00"),
        D("650.00"),
    )
    assert [s.entry_id for s in receipt.services] == [service.id]


# ---------------------------------------------------------------------------------------
# What the clinic holds for patients
# ---------------------------------------------------------------------------------------


def test_liabilities_list_credit_and_unused_prepayments(
    session: Session, clinic: BillingClinic
) -> None:
    purchase = sell(session, clinic, date(2026, 12, 1))
    pay(session, clinic, "25.00", date(2026, 12, 2))
    owing = create_patient(session, ADMIN, patient_raw(family_name="Adams", given_name="Al"))
    charge(session, clinic, "90.00", date(2026, 12, 1), patient=owing)
    pay(session, clinic, "90.00", date(2026, 12, 2), patient=owing)  # settled: owes nothing
    boston = add_location(session, "BOS")
    creditor = create_patient(session, ADMIN, patient_raw(family_name="Baker", given_name="Bea"))
    pay(session, clinic, "10.00", date(2026, 12, 2), patient=creditor, location_id=boston.id)

    rows = account.liabilities(session, BILLING)

    assert [r.patient_name for r in rows] == ["Baker, Bea", "Łukasiewicz, Zoë"]
    baker, zoe = rows
    assert (baker.credit, baker.prepaid, baker.packages) == (D("10.00"), ZERO, "")
    assert (zoe.credit, zoe.prepaid) == (D("25.00"), purchase.price)
    assert zoe.mrn == clinic.patient.mrn
    n = purchase.sessions_total
    assert zoe.packages == f"{purchase.name} ({n} of {n} left)"
    assert [r.patient_id for r in account.liabilities(session, BILLING, location_id=boston.id)] == [
        creditor.id
    ]


def test_no_liabilities_when_nobody_is_in_credit(session: Session, clinic: BillingClinic) -> None:
    charge(session, clinic, "90.00", date(2026, 12, 1))
    pay(session, clinic, "50.00", date(2026, 12, 2))
    assert account.liabilities(session, BILLING) == []
