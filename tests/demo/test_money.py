"""The demo's money history keeps the books as the billing services keep them.

The money stage writes charges, entries, allocations, invoices, packages and estimates with
bulk inserts, replaying in memory what each service would have done. These tests read the
result back through the services and the ledger's own sums: every patient's balance is the
sum of their entries and equals what is open on both sides; no allocation overdraws a debit
or a credit; every posted charge has its entry and only posted charges are invoiced; invoice
and estimate numbers are unique and the services continue them; charges are what capture
gives; estimates are what the estimate service would draft; packages were used as
``cover_session`` uses them. Most run on one small SQLite demo generated once for the
module; one runs a smaller demo on both back ends.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from ketadesk.access.permissions import Actor, Role
from ketadesk.billing import capture, estimates, invoices, ledger, packages
from ketadesk.billing.claims import coding
from ketadesk.billing.fees import FeeBook
from ketadesk.billing.models import (
    Allocation,
    Charge,
    ChargeSource,
    ChargeStatus,
    EntryKind,
    Estimate,
    EstimateStatus,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    LedgerEntry,
    PackagePurchase,
    PackageStatus,
    PackageUse,
)
from ketadesk.billing.review import entry_description
from ketadesk.clinic.models import Location, Modality
from ketadesk.db import Base, Database
from ketadesk.db import Counter as NumberCounter
from ketadesk.demo import money
from ketadesk.demo.generator import Accounts, DemoSpec, DemoSummary, generate
from ketadesk.migrations import open_database
from ketadesk.money import ZERO
from ketadesk.scheduling.models import Series, SeriesStatus, SessionStatus, TreatmentSession

TODAY = date(2026, 3, 18)  # a Wednesday; the year spans a new year's invoice numbers
NOW = datetime(2026, 3, 18, 18, 0, tzinfo=UTC)  # the middle of the day in every US zone
READER = Actor(username="test-billing", role=Role.BILLING)
SPEC = DemoSpec(
    patients=200, years=1, locations=3, seed=5, today=TODAY, now=NOW, accounts=Accounts.NONE
)
Made = tuple[Database, DemoSummary, list[tuple[str, int, int]]]


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Made]:
    db = open_database(f"sqlite:///{tmp_path_factory.mktemp('money') / 'demo.sqlite3'}")
    calls: list[tuple[str, int, int]] = []
    summary = generate(db, SPEC, lambda stage, done, total: calls.append((stage, done, total)))
    yield db, summary, calls
    db.dispose()


@pytest.fixture
def db(made: Made) -> Database:
    return made[0]


def _count(session: Session, model: type[Base]) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


# ---------------------------------------------------------------------------------------
# The books
# ---------------------------------------------------------------------------------------


def _book_problems(session: Session) -> list[str]:
    """Every patient's balance against the sum of entries and the open items."""
    problems = []
    patients = session.scalars(select(LedgerEntry.patient_id).distinct()).all()
    for patient_id in patients:
        entries = ledger.lines(session, patient_id)
        total = sum((line.amount for line in entries if line.payer_id is None), ZERO)
        owed = sum((o.left for o in ledger.open_debits(session, patient_id)), ZERO)
        held = ledger.unapplied_credits(session, patient_id, include_packages=True)
        credit = sum((o.left for o in held), ZERO)
        balance = ledger.balance(session, patient_id)
        if not balance == total == owed - credit == entries[-1].balance:
            problems.append(f"patient {patient_id}: {balance} {total} {owed} - {credit}")
        insurers = ledger.insurer_balance(session, patient_id)
        payers = {line.payer_id for line in entries if line.payer_id is not None}
        open_there = sum(
            (
                o.left
                for payer_id in payers
                for o in ledger.open_debits(session, patient_id, payer_id=payer_id)
            ),
            ZERO,
        )
        on_insurers = sum((line.amount for line in entries if line.payer_id is not None), ZERO)
        if not insurers == on_insurers == open_there == entries[-1].insurer_balance:
            problems.append(f"patient {patient_id}'s insurers: {insurers} {on_insurers}")
    return problems


def _overdrawn(session: Session) -> list[tuple[int, ...]]:
    """Allocations summed per debit and per credit outside 0 … the entry's size, or between
    entries of the wrong sign or of two patients."""
    return [
        tuple(row)
        for sql in (
            "SELECT a.debit_id FROM allocation a JOIN ledger_entry e ON e.id = a.debit_id "
            "GROUP BY a.debit_id, e.amount HAVING SUM(a.amount) > e.amount OR SUM(a.amount) < 0",
            "SELECT a.credit_id FROM allocation a JOIN ledger_entry e ON e.id = a.credit_id "
            "GROUP BY a.credit_id, e.amount HAVING SUM(a.amount) > -e.amount "
            "OR SUM(a.amount) < 0",
            "SELECT a.id FROM allocation a JOIN ledger_entry c ON c.id = a.credit_id "
            "JOIN ledger_entry d ON d.id = a.debit_id WHERE c.amount >= 0 OR d.amount <= 0 "
            "OR c.patient_id <> d.patient_id OR a.patient_id <> c.patient_id",
        )
        for row in session.execute(text(sql))
    ]


def test_every_balance_is_the_sum_of_entries_and_of_what_is_open(db: Database) -> None:
    with db.reading() as s:
        assert _book_problems(s) == []
        kinds = Counter(s.scalars(select(LedgerEntry.kind)))
    # A realistic history: every kind of entry happened.
    assert kinds[EntryKind.CHARGE] > 1000
    assert kinds[EntryKind.PAYMENT] > 200
    assert kinds[EntryKind.ADJUSTMENT] > 20
    assert kinds[EntryKind.REFUND] >= 1
    assert kinds[EntryKind.REVERSAL] >= 1


def test_no_allocation_exceeds_either_side(db: Database) -> None:
    with db.reading() as s:
        assert _overdrawn(s) == []
        # Releases (negative rows) only undo what a reversed payment had paid, pair by pair.
        released = s.execute(
            text(
                "SELECT a.credit_id, a.debit_id, (SELECT SUM(b.amount) FROM allocation b "
                "WHERE b.credit_id = a.credit_id AND b.debit_id = a.debit_id), "
                "EXISTS (SELECT 1 FROM ledger_entry r WHERE r.reverses_id = a.credit_id) "
                "FROM allocation a WHERE a.amount < 0"
            )
        ).all()
    assert released
    assert all(net == 0 and reversed_ for _credit, _debit, net, reversed_ in released)


def test_money_is_whole_cents_in_the_database(db: Database) -> None:
    with db.reading() as s:
        for table, column in (
            ("ledger_entry", "amount"),
            ("allocation", "amount"),
            ("charge", "amount"),
            ("charge", "unit_price"),
            ("estimate", "total"),
            ("package_purchase", "price"),
        ):
            kinds = s.execute(text(f"SELECT DISTINCT typeof({column}) FROM {table}")).scalars()
            assert set(kinds) == {"integer"}, (table, column)


# ---------------------------------------------------------------------------------------
# Charges and the review queue
# ---------------------------------------------------------------------------------------


def test_every_posted_charge_has_its_entry_and_only_those(db: Database) -> None:
    with db.reading() as s:
        rows = s.execute(select(Charge, LedgerEntry).outerjoin(Charge.entry)).all()
        for charge, entry in rows:
            if charge.status is ChargeStatus.POSTED:
                assert entry is not None
                assert (entry.kind, entry.patient_id, entry.location_id) == (
                    EntryKind.CHARGE,
                    charge.patient_id,
                    charge.location_id,
                )
                # An insurer is billed the billed charge, the patient the self-pay price.
                posted = charge.billed_charge if entry.payer_id is not None else charge.amount
                assert (entry.amount, entry.posted_on) == (posted, charge.service_date)
                assert entry.description == entry_description(charge)
                assert charge.amount == charge.unit_price * charge.units
            else:
                assert entry is None
        charged = Counter(c.entry_id for c, _e in rows if c.entry_id is not None)
        entries = s.scalars(select(LedgerEntry.id).where(LedgerEntry.kind == EntryKind.CHARGE))
        assert charged == Counter(entries.all())  # one charge per entry, one entry per charge
        sources = Counter((c.status, c.source) for c, _e in rows)
    assert sources[ChargeStatus.POSTED, ChargeSource.SESSION] > 1000
    assert sources[ChargeStatus.POSTED, ChargeSource.NO_SHOW_FEE] > 0
    assert sources[ChargeStatus.POSTED, ChargeSource.LATE_CANCEL_FEE] > 0
    assert (
        sources[ChargeStatus.DISMISSED, ChargeSource.NO_SHOW_FEE]
        + sources[ChargeStatus.DISMISSED, ChargeSource.LATE_CANCEL_FEE]
        > 0
    )


def test_the_review_queue_holds_the_last_two_weeks(db: Database, made: Made) -> None:
    first_pending = TODAY - timedelta(days=money.PENDING_DAYS - 1)
    with db.reading() as s:
        days = s.execute(select(Charge.status, Charge.service_date)).all()
        ended = s.scalar(
            select(func.count()).where(
                TreatmentSession.status == SessionStatus.COMPLETED,
                ~select(Charge.id).where(Charge.session_id == TreatmentSession.id).exists(),
            )
        )
    pending = [day for status, day in days if status is ChargeStatus.PENDING]
    assert pending and min(pending) >= first_pending and max(pending) <= TODAY
    assert all(day < first_pending for status, day in days if status is ChargeStatus.POSTED)
    assert ended == 0  # every completed session was captured
    assert made[1].pending_charges == len(pending)


def test_charges_are_what_capture_gives(db: Database, admin: Actor) -> None:
    """Random sessions' charges equal charge capture's drafts (an insured patient's coded
    for the payer in force, with the monitoring time, route and whether the patient is
    established); a pending session captured again by the service gets exactly the rows
    the demo wrote."""
    draw = random.Random(8)
    with db.transaction() as s:
        book = FeeBook.load(s)
        charges = s.scalars(select(Charge).where(Charge.session_id.is_not(None))).all()
        by_session: dict[int, list[Charge]] = defaultdict(list)
        for charge in charges:
            assert charge.session_id is not None
            by_session[charge.session_id].append(charge)
        sample = draw.sample(sorted(by_session), 40)
        coded = 0
        for session_id in sample:
            ts = s.get(TreatmentSession, session_id)
            assert ts is not None
            mine = sorted(by_session[session_id], key=lambda c: c.id)
            if ts.status is SessionStatus.COMPLETED:
                established = capture.established_patients(s, [ts])
                facts = capture.session_facts(ts, established=ts.id in established)
                visit = (ts.patient_id, facts.service_date)
                payer = coding.payer_codings(s, [visit]).get(visit)
                coded += payer is not None
                drafts = coding.coded_drafts(facts, book, payer)
                assert [_as_draft(c) for c in mine] == [
                    (
                        d.code,
                        d.modifiers,
                        d.description,
                        d.units,
                        d.unit_price,
                        d.amount,
                        d.billed_charge,
                        d.review_note,
                    )
                    for d in drafts
                ]
                assert {c.diagnosis_pointers for c in mine} == {
                    capture.default_pointers(ts.patient)
                }
            else:
                assert [c.source for c in mine] == [
                    ChargeSource.LATE_CANCEL_FEE
                    if ts.status is SessionStatus.LATE_CANCELLED
                    else ChargeSource.NO_SHOW_FEE
                ]
            assert {(c.provider_id, c.location_id) for c in mine} == {
                (ts.provider_id, ts.location_id)
            }
        assert coded  # insured sessions were in the sample
        pending = sorted(
            session_id
            for session_id, rows in by_session.items()
            if all(c.status is ChargeStatus.PENDING for c in rows)
        )
        for session_id in draw.sample(pending, 5):
            mine = [_as_row(c) for c in sorted(by_session[session_id], key=lambda c: c.id)]
            s.execute(delete(Charge).where(Charge.session_id == session_id))
            again = capture.capture_session(s, admin, session_id)
            assert [_as_row(c) for c in again] == mine
        s.rollback()


def _as_draft(c: Charge) -> tuple[object, ...]:
    return (
        c.code,
        c.modifiers,
        c.description,
        c.units,
        c.unit_price,
        c.amount,
        c.billed_charge,
        c.review_note,
    )


def _as_row(c: Charge) -> tuple[object, ...]:
    return (
        *_as_draft(c),
        c.source,
        c.service_date,
        c.patient_id,
        c.location_id,
        c.provider_id,
        c.diagnosis_pointers,
        c.status,
    )


# ---------------------------------------------------------------------------------------
# Invoices
# ---------------------------------------------------------------------------------------


def test_invoices_hold_posted_charges_the_patient_pays(db: Database) -> None:
    with db.reading() as s:
        rows = s.execute(
            select(Invoice, LedgerEntry, Charge, TreatmentSession.modality)
            .join(InvoiceLine, InvoiceLine.invoice_id == Invoice.id)
            .join(LedgerEntry, LedgerEntry.id == InvoiceLine.entry_id)
            .join(Charge, Charge.entry_id == LedgerEntry.id)
            .outerjoin(TreatmentSession, TreatmentSession.id == Charge.session_id)
        ).all()
        on_two = s.execute(
            select(InvoiceLine.entry_id).group_by(InvoiceLine.entry_id).having(func.count() > 1)
        ).all()
        states = Counter(i.status for i in s.scalars(select(Invoice)))
        insured_esketamine = _insured_esketamine_entries(s)
        assert rows and not on_two
        for invoice, entry, charge, modality in rows:
            assert (entry.kind, entry.patient_id, entry.location_id, entry.payer_id) == (
                EntryKind.CHARGE,
                invoice.patient_id,
                invoice.location_id,
                None,
            )
            assert charge.status is ChargeStatus.POSTED
            assert invoice.period_from is not None and invoice.period_to is not None
            assert invoice.period_from <= entry.posted_on <= invoice.period_to
            if invoice.status is InvoiceStatus.ISSUED:
                assert invoice.issued_on is not None and invoice.due_on is not None
                assert invoice.issued_on > invoice.period_to
                assert (invoice.due_on - invoice.issued_on).days == 30
            # Esketamine of a patient insured on the day is the insurer's: never invoiced.
            assert modality is not Modality.ESKETAMINE or entry.id not in insured_esketamine
    assert insured_esketamine
    assert states[InvoiceStatus.ISSUED] > 100 and states[InvoiceStatus.DRAFT] > 0


def _insured_esketamine_entries(s: Session) -> set[int]:
    """Entries of esketamine sessions of patients insured on the day: the insurer's."""
    found = set()
    for entry_id, patient, day in s.execute(
        select(Charge.entry_id, Charge.patient_id, Charge.service_date)
        .join(TreatmentSession, TreatmentSession.id == Charge.session_id)
        .where(
            TreatmentSession.modality == Modality.ESKETAMINE,
            Charge.source == ChargeSource.SESSION,
            Charge.entry_id.is_not(None),
        )
    ):
        if not estimates.is_self_pay(s, patient, day):
            found.add(entry_id)
    return found


def test_invoice_states_cover_the_lifecycle(db: Database) -> None:
    with db.reading() as s:
        rows = invoices.list_invoices(s, READER).rows
    states = Counter(row.state.value for row in rows)
    assert states["paid"] > 100
    assert states["partly_paid"] > 0
    assert states["issued"] > 0  # nothing paid yet: some of them overdue
    assert any(
        row.due_on is not None and row.due_on < TODAY and row.balance_due > ZERO for row in rows
    )


def test_invoice_numbers_are_unique_in_order_and_continue(db: Database, admin: Actor) -> None:
    with db.transaction() as s:
        found = s.execute(
            select(Invoice.number, Invoice.created_at, Location.code)
            .join(Location, Location.id == Invoice.location_id)
            .order_by(Invoice.id)
        ).all()
        counters = dict(s.execute(select(NumberCounter.name, NumberCounter.value)).all())
        numbers: dict[tuple[str, int], list[int]] = defaultdict(list)
        for number, created, code in found:
            prefix, year, serial = number.rsplit("-", 2)
            assert (prefix, int(year)) == (code, created.year)
            numbers[code, int(year)].append(int(serial))
        assert len({n for n, _c, _l in found}) == len(found)
        assert {(2025, "NYC"), (2026, "NYC")} <= {(y, c) for c, y in numbers}
        for (code, year), serials in numbers.items():
            assert serials == list(range(1, len(serials) + 1))  # in the order they were made
            assert counters[f"invoice:{code}:{year}"] == len(serials)
        # The service takes the next number: this month's charges are not invoiced yet.
        patient_id, location_id, code = s.execute(
            select(LedgerEntry.patient_id, LedgerEntry.location_id, Location.code)
            .join(Location, Location.id == LedgerEntry.location_id)
            .where(
                LedgerEntry.kind == EntryKind.CHARGE,
                LedgerEntry.payer_id.is_(None),
                LedgerEntry.posted_on >= TODAY.replace(day=1),
                ~select(InvoiceLine.id).where(InvoiceLine.entry_id == LedgerEntry.id).exists(),
            )
            .order_by(LedgerEntry.id)
            .limit(1)
        ).one()
        made = invoices.create_invoice(
            s, admin, patient_id=patient_id, location_id=location_id, today=TODAY
        )
        assert made.number == f"{code}-{TODAY.year}-{len(numbers[code, TODAY.year]) + 1:05d}"
        s.rollback()


# ---------------------------------------------------------------------------------------
# Packages and estimates
# ---------------------------------------------------------------------------------------


def test_packages_are_used_as_cover_session_uses_them(db: Database) -> None:
    with db.reading() as s:
        purchases = s.scalars(select(PackagePurchase).order_by(PackagePurchase.id)).all()
        statuses = Counter(p.status for p in purchases)
        for purchase in purchases:
            uses = sorted(purchase.uses, key=lambda u: u.number)
            assert [u.number for u in uses] == list(range(1, len(uses) + 1))
            assert [u.value for u in uses] == [
                packages.use_value(purchase.price, purchase.sessions_total, u.number) for u in uses
            ]
            assert all(purchase.purchased_on <= u.used_on <= purchase.expires_on for u in uses)
            balance = packages.package_balance(s, READER, purchase.id)
            spent = sum((u.value for u in uses), ZERO)
            if purchase.status is PackageStatus.ACTIVE:
                assert balance.value_left == purchase.price - spent
            if purchase.status is PackageStatus.USED_UP:
                assert len(uses) == purchase.sessions_total and balance.value_left == ZERO
            if purchase.status is PackageStatus.REFUNDED:
                refund = s.scalars(
                    select(LedgerEntry).where(
                        LedgerEntry.package_purchase_id == purchase.id,
                        LedgerEntry.kind == EntryKind.REFUND,
                    )
                ).one()
                assert refund.amount == purchase.price - spent
            # The sessions' charges a use paid: the prepayment and the package adjustment.
            for use in uses:
                paid = s.scalar(
                    select(ledger.cents_sum(Allocation.amount))
                    .join(LedgerEntry, LedgerEntry.id == Allocation.credit_id)
                    .join(Charge, Charge.entry_id == Allocation.debit_id)
                    .where(
                        Charge.session_id == use.session_id,
                        LedgerEntry.package_purchase_id == purchase.id,
                    )
                )
                charged = s.scalar(
                    select(ledger.cents_sum(Charge.amount)).where(
                        Charge.session_id == use.session_id, Charge.status == ChargeStatus.POSTED
                    )
                )
                assert ledger.decimal_of(paid) == ledger.decimal_of(charged)
    assert len(purchases) >= 5
    assert statuses[PackageStatus.USED_UP] > 0


def test_estimates_are_what_the_service_would_draft(db: Database, admin: Actor) -> None:
    with db.transaction() as s:
        current = s.scalars(select(Estimate).order_by(Estimate.id)).all()
        statuses = Counter(e.status for e in current)
        counters = dict(s.execute(select(NumberCounter.name, NumberCounter.value)).all())
        per_year = Counter(e.drafted_on.year for e in current)
        assert {f"estimate:{y}": n for y, n in per_year.items()} == {
            k: v for k, v in counters.items() if k.startswith("estimate:")
        }
        assert len({e.number for e in current}) == len(current)
        for estimate in current:
            assert estimate.total == sum((line.amount for line in estimate.lines), ZERO)
            assert estimate.series is not None
            assert estimates.is_self_pay(s, estimate.patient_id, estimate.first_service_on)
            if estimate.status is EstimateStatus.GIVEN:
                assert estimate.given_on is not None
                assert estimate.drafted_on <= estimate.given_on <= TODAY
        open_series = s.scalars(
            select(Series.id).where(Series.status.in_([SeriesStatus.PLANNED, SeriesStatus.ACTIVE]))
        ).all()
        estimated = {e.series_id for e in current}
        assert estimated & set(open_series)
        # The service finds nothing to draft or re-draft: the demo's estimates are its own.
        assert estimates.refresh_estimates(s, admin, today=TODAY) == []
        rows = estimates.list_estimates(s, READER, today=TODAY)
        s.rollback()
    assert statuses[EstimateStatus.GIVEN] > 50
    assert statuses[EstimateStatus.DRAFT] >= 1
    assert 1 <= sum(row.overdue for row in rows) <= money.GFE_OVERDUE


def test_the_summary_counts_what_was_written(made: Made) -> None:
    db, summary, calls = made
    with db.reading() as s:
        assert _count(s, Charge) == summary.charges
        assert _count(s, LedgerEntry) == summary.ledger_entries
        assert _count(s, Allocation) == summary.allocations
        assert _count(s, Invoice) == summary.invoices
        assert _count(s, PackagePurchase) == summary.packages_sold
        assert _count(s, PackageUse) > 0
        assert _count(s, Estimate) == summary.estimates
        assert (summary.fee_items, summary.package_templates) == (19, 3)
    stages = [stage for stage, _done, _total in calls]
    assert stages[-1] == "money" and stages.index("sessions") < stages.index("money")
    done = [(d, t) for stage, d, t in calls if stage == "money"]
    assert done[0][0] == 0 and done[-1][0] == done[-1][1]


# ---------------------------------------------------------------------------------------
# Both back ends
# ---------------------------------------------------------------------------------------


def test_a_small_demo_keeps_the_books_on_either_back_end(database: Database) -> None:
    spec = DemoSpec(
        patients=60, years=1, locations=2, seed=9, today=TODAY, now=NOW, accounts=Accounts.NONE
    )
    summary = generate(database, spec)
    assert summary.charges > 100 and summary.invoices > 10
    with database.reading() as s:
        assert _book_problems(s) == []
        assert _overdrawn(s) == []
        prices = s.scalars(select(Charge.amount).where(Charge.amount > 0)).all()
        assert all(isinstance(p, Decimal) and p.as_tuple().exponent == -2 for p in prices)
        assert _count(s, Estimate) == summary.estimates > 0


def test_the_stage_writes_no_money_without_sessions(tmp_path: Path) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    summary = generate(
        db,
        DemoSpec(
            patients=0, years=1, locations=1, seed=1, today=TODAY, now=NOW,
            accounts=Accounts.NONE,
        ),
    )
    assert (summary.charges, summary.ledger_entries, summary.invoices) == (0, 0, 0)
    assert summary.fee_items == 19  # the shipped fee schedule
    db.dispose()
