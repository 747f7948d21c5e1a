"""The aging report on hand-made ledgers: exact buckets at each boundary, partial payments,
what happened after the as-of day, reversals, transfers, package prepayments, days in AR,
the rows behind a figure and the chart; on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from builders import add_location, add_payer, patient_raw
from sqlalchemy import select
from sqlalchemy.orm import Session

from ketadesk.access.permissions import Actor, Role
from ketadesk.billing import ledger
from ketadesk.billing.models import Allocation, EntryKind, LedgerEntry, PaymentMethod
from ketadesk.billing.packages import ensure_default_templates, sell_package
from ketadesk.clinic.models import Location, Patient, Payer
from ketadesk.clinic.patients import create_patient
from ketadesk.errors import PermissionDenied
from ketadesk.money import money
from ketadesk.reports import aging
from ketadesk.reports.catalog import run_report, spec
from ketadesk.reports.model import ReportFilter, ReportTable

ADMIN = Actor(username="test-admin", role=Role.ADMIN)
MANAGER = Actor(username="test-manager", role=Role.MANAGER)
# Far enough ahead that every allocation these tests make (stamped with the real clock)
# was made before the end of the as-of day.
AS_OF = date(2031, 6, 30)


@dataclass
class Books:
    session: Session
    location: Location
    patient: Patient
    payer: Payer

    def post(
        self,
        kind: EntryKind,
        amount: str,
        age: int,
        *,
        insurer: bool = False,
        patient: Patient | None = None,
    ) -> LedgerEntry:
        """An entry posted ``age`` days before :data:`AS_OF`."""
        return ledger.post(
            self.session,
            ADMIN,
            patient_id=(patient or self.patient).id,
            location_id=self.location.id,
            kind=kind,
            amount=money(amount),
            posted_on=AS_OF - timedelta(days=age),
            description=f"{kind.value} {amount}",
            method=PaymentMethod.CARD if kind is EntryKind.PAYMENT else None,
            payer_id=self.payer.id if insurer else None,
        )

    def pay(self, credit: LedgerEntry, debit: LedgerEntry, amount: str) -> None:
        ledger.allocate(self.session, ADMIN, credit, debit, money(amount))


@pytest.fixture
def books(session: Session) -> Books:
    location = add_location(session, "NYC")
    payer = add_payer(session, "Aetna")
    patient = create_patient(session, ADMIN, patient_raw())
    return Books(session, location, patient, payer)


def run(session: Session, by: tuple[str, ...] = (), as_of: date = AS_OF) -> ReportTable:
    return aging.aging(session, MANAGER, ReportFilter(as_of, as_of), by)


def figures(table: ReportTable, row: object = None) -> dict[str, Decimal]:
    chosen = table.total if row is None else row
    return {m.key: chosen.values[i] for i, m in enumerate(table.measures)}  # type: ignore[attr-defined,misc]


def ledger_sum(session: Session, as_of: date = AS_OF) -> Decimal:
    cents = session.execute(
        select(ledger.cents_sum(LedgerEntry.amount)).where(LedgerEntry.posted_on <= as_of)
    ).scalar_one()
    return ledger.decimal_of(cents)


def test_each_boundary_falls_in_its_bucket(books: Books) -> None:
    ages = {0: "1.00", 30: "2.00", 31: "4.00", 60: "8.00", 61: "16.00", 90: "32.00"}
    ages |= {91: "64.00", 120: "128.00", 121: "256.00", 400: "512.00"}
    for age, amount in ages.items():
        books.post(EntryKind.CHARGE, amount, age)
    books.post(EntryKind.CHARGE, "999.00", -1)  # posted after the as-of day
    got = figures(run(books.session))
    assert got["current"] == money("3.00")
    assert got["d31_60"] == money("12.00")
    assert got["d61_90"] == money("48.00")
    assert got["d91_120"] == money("192.00")
    assert got["over_120"] == money("768.00")
    assert got["ar"] == money("1023.00")
    assert got["over_90"] == money("960.00")
    assert got["credits"] == money("0.00")
    assert got["balance"] == money("1023.00") == ledger_sum(books.session)


def test_a_partly_paid_charge_shows_what_is_left_and_extra_payment_is_credit(
    books: Books,
) -> None:
    charge = books.post(EntryKind.CHARGE, "450.00", 45)
    old = books.post(EntryKind.CHARGE, "100.00", 200)
    payment = books.post(EntryKind.PAYMENT, "-600.00", 10)
    books.pay(payment, charge, "300.00")
    books.pay(payment, old, "100.00")
    got = figures(run(books.session))
    assert got["d31_60"] == money("150.00")
    assert got["over_120"] == money("0.00")
    assert got["ar"] == money("150.00")
    assert got["credits"] == money("200.00")
    assert got["balance"] == money("-50.00") == ledger_sum(books.session)


def test_what_happened_after_the_as_of_day_does_not_count(books: Books) -> None:
    charge = books.post(EntryKind.CHARGE, "450.00", 40)
    later = books.post(EntryKind.PAYMENT, "-450.00", -3)  # paid three days after
    books.pay(later, charge, "450.00")
    early = books.post(EntryKind.PAYMENT, "-50.00", 5)
    # Applied after the end of the as-of day: the charge was still open then.
    books.session.add(
        Allocation(
            patient_id=books.patient.id,
            credit_id=early.id,
            debit_id=books.post(EntryKind.CHARGE, "80.00", 20).id,
            amount=money("50.00"),
            created_by="test",
            created_at=datetime(2031, 7, 1, 12, 0, tzinfo=UTC),
        )
    )
    books.session.flush()
    got = figures(run(books.session))
    assert got["d31_60"] == money("450.00")
    assert got["current"] == money("80.00")
    assert got["credits"] == money("50.00")
    assert got["balance"] == money("480.00") == ledger_sum(books.session)
    # A week on, both payments had been applied.
    week_on = figures(run(books.session, as_of=AS_OF + timedelta(days=7)))
    assert week_on["ar"] == money("30.00")
    assert week_on["credits"] == money("0.00")


def test_a_reversed_payment_leaves_its_charge_owed_and_a_reversed_charge_nothing(
    books: Books,
) -> None:
    charge = books.post(EntryKind.CHARGE, "300.00", 70)
    payment = books.post(EntryKind.PAYMENT, "-300.00", 65)
    books.pay(payment, charge, "300.00")
    assert figures(run(books.session))["ar"] == money("0.00")
    ledger.reverse(books.session, ADMIN, payment, "card declined", AS_OF - timedelta(days=2))
    wrong = books.post(EntryKind.CHARGE, "90.00", 10)
    ledger.reverse(books.session, ADMIN, wrong, "posted twice", AS_OF - timedelta(days=1))
    got = figures(run(books.session))
    assert got["d61_90"] == money("300.00")
    assert got["current"] == money("0.00")
    assert got["ar"] == money("300.00")
    assert got["credits"] == money("0.00")
    assert got["balance"] == ledger_sum(books.session)
    # Before the reversal (three days earlier) the charge was paid.
    assert figures(run(books.session, as_of=AS_OF - timedelta(days=3)))["d61_90"] == ZERO


ZERO = money("0.00")


def test_insurer_and_patient_sides_apart_and_a_transfer_moves_what_is_owed(books: Books) -> None:
    claim_charge = books.post(EntryKind.CHARGE, "500.00", 100, insurer=True)
    paid = books.post(EntryKind.PAYMENT, "-320.00", 50, insurer=True)
    books.pay(paid, claim_charge, "320.00")
    # The insurer says the patient owes the remaining 180 (coinsurance).
    out = books.post(EntryKind.TRANSFER, "-180.00", 50, insurer=True)
    books.pay(out, claim_charge, "180.00")
    books.post(EntryKind.TRANSFER, "180.00", 50)
    books.post(EntryKind.CHARGE, "75.00", 5)
    table = run(books.session, ("side",))
    sides = {row.labels[0]: figures(table, row) for row in table.rows}
    assert "Insurer" not in sides  # nothing owed or held on the insurer's side: no row
    assert sides["Patient"]["d31_60"] == money("180.00")
    assert sides["Patient"]["current"] == money("75.00")
    assert figures(table)["ar"] == money("255.00") == ledger_sum(books.session)
    by_payer = run(books.session, ("payer",))
    assert [row.labels[0] for row in by_payer.rows] == ["Self-pay"]


def test_a_package_prepayment_is_credit_the_clinic_owes(books: Books) -> None:
    template = ensure_default_templates(books.session, ADMIN)[0]
    purchase = sell_package(
        books.session,
        ADMIN,
        patient_id=books.patient.id,
        template_id=template.id,
        method=PaymentMethod.CARD,
        on=AS_OF - timedelta(days=20),
        location_id=books.location.id,
    )
    charge = books.post(EntryKind.CHARGE, "40.00", 3)
    got = figures(run(books.session))
    assert got["credits"] == purchase.price
    assert got["package_credits"] == purchase.price
    assert got["current"] == money("40.00")
    assert got["balance"] == money("40.00") - purchase.price == ledger_sum(books.session)
    assert charge.amount == money("40.00")


def test_by_patient_lists_each_account_with_its_mrn(books: Books) -> None:
    other = create_patient(books.session, ADMIN, patient_raw(family_name="Ng", given_name="Li"))
    books.post(EntryKind.CHARGE, "10.00", 1)
    books.post(EntryKind.CHARGE, "20.00", 35, patient=other)
    books.post(EntryKind.CHARGE, "5.00", 400, patient=other)
    table = run(books.session, ("patient",))
    rows = {row.keys[0]: row for row in table.rows}
    assert rows[other.id].labels[0] == f"{other.mrn} Ng, Li"
    assert figures(table, rows[other.id])["ar"] == money("25.00")
    assert figures(table, rows[books.patient.id])["current"] == money("10.00")
    detail = aging.detail(books.session, MANAGER, table, rows[other.id], "d31_60")
    assert [(d.patient_id, d.amount) for d in detail.rows] == [(other.id, money("20.00"))]


def test_detail_lists_open_debits_with_what_is_left_and_credits_as_owed(books: Books) -> None:
    charge = books.post(EntryKind.CHARGE, "450.00", 45)
    books.post(EntryKind.CHARGE, "60.00", 2)
    payment = books.post(EntryKind.PAYMENT, "-500.00", 10)
    books.pay(payment, charge, "400.00")
    table = run(books.session, ("side",))
    (row,) = table.rows
    bucket = aging.detail(books.session, MANAGER, table, row, "d31_60")
    assert [(d.entry_id, d.amount) for d in bucket.rows] == [(charge.id, money("50.00"))]
    credits = aging.detail(books.session, MANAGER, table, row, "credits")
    assert [(d.entry_id, d.amount) for d in credits.rows] == [(payment.id, money("-100.00"))]
    balance = aging.detail(books.session, MANAGER, table, row, "balance")
    assert sum(d.amount for d in balance.rows) == figures(table, row)["balance"]  # type: ignore[misc]


def test_days_in_ar_divides_ar_by_average_daily_charges(books: Books) -> None:
    books.post(EntryKind.CHARGE, "900.00", 0)
    books.post(EntryKind.CHARGE, "900.00", 89)
    books.post(EntryKind.CHARGE, "5000.00", 90)  # outside the 90 days
    flt = ReportFilter(AS_OF, AS_OF)
    # AR 6800 ÷ (1800 ÷ 90 = 20 a day) = 340 days.
    assert aging.days_in_ar(books.session, MANAGER, flt) == Decimal("340.0")
    assert "340.0 days" in run(books.session).notes[1]
    empty = ReportFilter(date(2001, 1, 1), date(2001, 1, 1))
    assert aging.days_in_ar(books.session, MANAGER, empty) is None


def test_the_chart_shows_patient_and_insurer_bars_per_bucket(books: Books) -> None:
    books.post(EntryKind.CHARGE, "100.00", 10)
    books.post(EntryKind.CHARGE, "200.00", 100, insurer=True)
    table = run_report(books.session, MANAGER, "aging", ReportFilter(AS_OF, AS_OF))
    chart = spec("aging").chart(table)
    assert chart is not None
    assert chart.categories[0] == "0–30 days" and len(chart.categories) == 5
    series = {s.name: s.values for s in chart.series}
    assert series["Patient"][0] == money("100.00")
    assert series["Insurer"][3] == money("200.00")


def test_a_location_filter_keeps_its_own_entries(books: Books) -> None:
    other = add_location(books.session, "BOS", time_zone="America/New_York")
    books.post(EntryKind.CHARGE, "10.00", 1)
    ledger.post(
        books.session,
        ADMIN,
        patient_id=books.patient.id,
        location_id=other.id,
        kind=EntryKind.CHARGE,
        amount=money("70.00"),
        posted_on=AS_OF,
        description="Boston",
    )
    flt = ReportFilter(AS_OF, AS_OF, location_ids=(other.id,))
    assert figures(aging.aging(books.session, MANAGER, flt, ()))["ar"] == money("70.00")
    by_location = run(books.session, ("location",))
    assert sorted(r.labels[0] for r in by_location.rows) == ["KetaDesk BOS", "KetaDesk NYC"]


def test_only_report_viewers_see_aging(books: Books) -> None:
    desk = Actor(username="desk", role=Role.FRONT_DESK)
    with pytest.raises(PermissionDenied):
        aging.aging(books.session, desk, ReportFilter(AS_OF, AS_OF), ())
    with pytest.raises(PermissionDenied):
        aging.days_in_ar(books.session, desk, ReportFilter(AS_OF, AS_OF))
    assert spec("aging").as_of
