"""The ledger's own rules: signs by kind, allocations that never exceed either side,
reversals that reopen what they touched, and sums exact to the cent."""

from __future__ import annotations

import threading
import time
from datetime import date
from decimal import Decimal

import pytest
from billing.billing_helpers import ADMIN, BillingClinic, billing_clinic
from builders import money
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from ketadesk.access.models import AuditEntry
from ketadesk.billing import ledger
from ketadesk.billing.models import Allocation, EntryKind, LedgerEntry, PaymentMethod
from ketadesk.db import Database
from ketadesk.errors import Conflict, InvalidValue, NotFound

DAY = date(2026, 12, 1)


@pytest.fixture
def clinic(session: Session) -> BillingClinic:
    return billing_clinic(session)


def post(
    session: Session, clinic: BillingClinic, kind: EntryKind, amount: str, on: date = DAY
) -> LedgerEntry:
    return ledger.post(
        session,
        ADMIN,
        patient_id=clinic.patient.id,
        location_id=clinic.location.id,
        kind=kind,
        amount=money(amount),
        posted_on=on,
        description=f"{kind.label} {amount}",
        method=PaymentMethod.CARD if kind is EntryKind.PAYMENT else None,
    )


def test_post_writes_the_entry_and_its_audit_row(session: Session, clinic: BillingClinic) -> None:
    entry = post(session, clinic, EntryKind.CHARGE, "450.00")

    assert session.get(LedgerEntry, entry.id) is entry
    assert entry.amount == Decimal("450.00") and entry.created_by == ADMIN.username
    audit_row = session.scalars(
        select(AuditEntry).where(
            AuditEntry.entity == "ledger_entry", AuditEntry.entity_id == str(entry.id)
        )
    ).one()
    assert audit_row.action == "post" and audit_row.after is not None
    assert audit_row.after["amount"] == "450.00"


@pytest.mark.parametrize(
    ("kind", "amount", "words"),
    [
        (EntryKind.CHARGE, "-10.00", "must be above zero"),
        (EntryKind.REFUND, "-10.00", "must be above zero"),
        (EntryKind.PAYMENT, "10.00", "must be below zero"),
        (EntryKind.ADJUSTMENT, "10.00", "must be below zero"),
        (EntryKind.CHARGE, "0.00", "changes nothing"),
    ],
)
def test_post_refuses_an_amount_whose_sign_does_not_fit_the_kind(
    session: Session, clinic: BillingClinic, kind: EntryKind, amount: str, words: str
) -> None:
    with pytest.raises(InvalidValue, match=words):
        post(session, clinic, kind, amount)
    assert ledger.lines(session, clinic.patient.id) == []


def test_post_refuses_floats_and_fractions_of_a_cent(
    session: Session, clinic: BillingClinic
) -> None:
    with pytest.raises(TypeError):
        ledger.post(
            session,
            ADMIN,
            patient_id=clinic.patient.id,
            location_id=clinic.location.id,
            kind=EntryKind.CHARGE,
            amount=450.0,  # type: ignore[arg-type]
            posted_on=DAY,
            description="float",
        )
    with pytest.raises(InvalidValue, match="fraction of a cent"):
        ledger.post(
            session,
            ADMIN,
            patient_id=clinic.patient.id,
            location_id=clinic.location.id,
            kind=EntryKind.CHARGE,
            amount=Decimal("450.001"),
            posted_on=DAY,
            description="sub-cent",
        )
    assert ledger.balance(session, clinic.patient.id) == Decimal("0.00")


def test_a_reversal_must_name_its_entry_and_carry_the_opposite_amount(
    session: Session, clinic: BillingClinic
) -> None:
    charge = post(session, clinic, EntryKind.CHARGE, "100.00")
    common = {
        "patient_id": clinic.patient.id,
        "location_id": clinic.location.id,
        "kind": EntryKind.REVERSAL,
        "posted_on": DAY,
        "description": "undo",
    }
    with pytest.raises(InvalidValue, match="must name the entry"):
        ledger.post(session, ADMIN, amount=money("-100.00"), **common)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match="exactly the opposite"):
        ledger.post(
            session,
            ADMIN,
            amount=money("-90.00"),
            reverses=charge,
            **common,  # type: ignore[arg-type]
        )


def test_allocate_refuses_more_than_either_side_has_left(
    session: Session, clinic: BillingClinic
) -> None:
    charge = post(session, clinic, EntryKind.CHARGE, "100.00")
    payment = post(session, clinic, EntryKind.PAYMENT, "-60.00")

    with pytest.raises(Conflict, match=r"only 60\.00 of entry"):
        ledger.allocate(session, ADMIN, payment, charge, money("70.00"))
    ledger.allocate(session, ADMIN, payment, charge, money("60.00"))
    second = post(session, clinic, EntryKind.PAYMENT, "-80.00")
    with pytest.raises(Conflict, match=r"has only 40\.00 still owed"):
        ledger.allocate(session, ADMIN, second, charge, money("50.00"))
    with pytest.raises(InvalidValue, match="above zero"):
        ledger.allocate(session, ADMIN, second, charge, money("0.00"))

    assert ledger.open_amount(session, charge) == Decimal("40.00")
    assert ledger.unapplied(session, payment) == Decimal("0.00")
    assert ledger.unapplied(session, second) == Decimal("80.00")


def test_allocate_refuses_another_patients_charge(session: Session, clinic: BillingClinic) -> None:
    from builders import patient_raw

    from ketadesk.clinic.patients import create_patient

    other = create_patient(session, ADMIN, patient_raw(family_name="Nguyen", given_name="An"))
    theirs = ledger.post(
        session,
        ADMIN,
        patient_id=other.id,
        location_id=clinic.location.id,
        kind=EntryKind.CHARGE,
        amount=money("50.00"),
        posted_on=DAY,
        description="theirs",
    )
    payment = post(session, clinic, EntryKind.PAYMENT, "-50.00")
    with pytest.raises(InvalidValue, match="same patient"):
        ledger.allocate(session, ADMIN, payment, theirs, money("50.00"))


def test_open_amount_and_unapplied_refuse_the_wrong_side(
    session: Session, clinic: BillingClinic
) -> None:
    charge = post(session, clinic, EntryKind.CHARGE, "100.00")
    payment = post(session, clinic, EntryKind.PAYMENT, "-60.00")
    with pytest.raises(InvalidValue, match="is a credit"):
        ledger.open_amount(session, payment)
    with pytest.raises(InvalidValue, match="is owed"):
        ledger.unapplied(session, charge)


def test_apply_oldest_first_pays_the_oldest_debit_from_the_oldest_credit(
    session: Session, clinic: BillingClinic
) -> None:
    late = post(session, clinic, EntryKind.CHARGE, "100.00", date(2026, 12, 3))
    early = post(session, clinic, EntryKind.CHARGE, "50.00", date(2026, 12, 1))
    post(session, clinic, EntryKind.PAYMENT, "-30.00", date(2026, 12, 4))
    post(session, clinic, EntryKind.PAYMENT, "-40.00", date(2026, 12, 2))
    patient = clinic.patient.id

    debits = ledger.open_debits(session, patient)
    credits = ledger.unapplied_credits(session, patient)
    assert [d.entry.id for d in debits] == [early.id, late.id]
    assert [c.left for c in credits] == [Decimal("40.00"), Decimal("30.00")]

    made = ledger.apply_oldest_first(session, ADMIN, credits, debits)

    assert [(a.debit_id, a.amount) for a in made] == [
        (early.id, Decimal("40.00")),
        (early.id, Decimal("10.00")),
        (late.id, Decimal("20.00")),
    ]
    assert [(d.entry.id, d.left) for d in ledger.open_debits(session, patient)] == [
        (late.id, Decimal("80.00"))
    ]
    assert ledger.unapplied_credits(session, patient) == []


def test_open_debits_can_be_limited_to_chosen_entries(
    session: Session, clinic: BillingClinic
) -> None:
    first = post(session, clinic, EntryKind.CHARGE, "10.00")
    post(session, clinic, EntryKind.CHARGE, "20.00")
    assert [d.entry.id for d in ledger.open_debits(session, clinic.patient.id, [first.id])] == [
        first.id
    ]


def test_reversing_a_paid_charge_turns_its_payment_back_into_credit(
    session: Session, clinic: BillingClinic
) -> None:
    charge = post(session, clinic, EntryKind.CHARGE, "100.00")
    payment = post(session, clinic, EntryKind.PAYMENT, "-100.00")
    ledger.allocate(session, ADMIN, payment, charge, money("100.00"))

    undo = ledger.reverse(session, ADMIN, charge, "charged in error", date(2026, 12, 5))

    assert undo.kind is EntryKind.REVERSAL and undo.amount == Decimal("-100.00")
    assert undo.reverses_id == charge.id and undo.posted_on == date(2026, 12, 5)
    assert ledger.open_amount(session, charge) == Decimal("0.00")
    assert ledger.unapplied(session, undo) == Decimal("0.00")
    assert ledger.unapplied(session, payment) == Decimal("100.00")
    assert ledger.balance(session, clinic.patient.id) == Decimal("-100.00")
    assert ledger.reversal_of(session, charge.id) is undo


def test_reversing_a_payment_leaves_its_charges_owed_again(
    session: Session, clinic: BillingClinic
) -> None:
    charge = post(session, clinic, EntryKind.CHARGE, "100.00")
    payment = post(session, clinic, EntryKind.PAYMENT, "-100.00")
    ledger.allocate(session, ADMIN, payment, charge, money("100.00"))

    undo = ledger.reverse(session, ADMIN, payment, "check bounced", DAY)

    assert undo.amount == Decimal("100.00")
    assert ledger.open_amount(session, charge) == Decimal("100.00")
    assert ledger.open_amount(session, undo) == Decimal("0.00")
    assert ledger.unapplied(session, payment) == Decimal("0.00")
    assert ledger.balance(session, clinic.patient.id) == Decimal("100.00")
    # The releases are new negative rows; nothing was updated or deleted.
    amounts = session.scalars(
        select(Allocation.amount)
        .where(Allocation.credit_id == payment.id, Allocation.debit_id == charge.id)
        .order_by(Allocation.id)
    ).all()
    assert amounts == [Decimal("100.00"), Decimal("-100.00")]


def test_a_reversal_cannot_be_reversed_and_nothing_is_reversed_twice(
    session: Session, clinic: BillingClinic
) -> None:
    charge = post(session, clinic, EntryKind.CHARGE, "100.00")
    undo = ledger.reverse(session, ADMIN, charge, "wrong patient", DAY)
    count = session.execute(select(func.count(LedgerEntry.id))).scalar_one()

    with pytest.raises(Conflict, match="is itself a reversal"):
        ledger.reverse(session, ADMIN, undo, "again", DAY)
    with pytest.raises(Conflict, match="already reversed"):
        ledger.reverse(session, ADMIN, charge, "again", DAY)
    with pytest.raises(InvalidValue, match="say why"):
        ledger.reverse(session, ADMIN, post(session, clinic, EntryKind.CHARGE, "5.00"), " ", DAY)
    assert session.scalar(select(func.count(LedgerEntry.id))) == count + 1


def test_balance_is_the_sum_of_entries_and_can_be_read_as_of_a_day(
    session: Session, clinic: BillingClinic
) -> None:
    post(session, clinic, EntryKind.CHARGE, "0.10", date(2026, 12, 1))
    post(session, clinic, EntryKind.CHARGE, "0.20", date(2026, 12, 2))
    post(session, clinic, EntryKind.PAYMENT, "-0.05", date(2026, 12, 3))
    patient = clinic.patient.id

    assert ledger.balance(session, patient) == Decimal("0.25")  # 0.1 + 0.2 exactly, no float
    assert ledger.balance(session, patient, as_of=date(2026, 12, 2)) == Decimal("0.30")
    assert ledger.balance(session, patient, as_of=date(2026, 11, 30)) == Decimal("0.00")
    assert str(ledger.balance(session, patient)) == "0.25"


def test_lines_carry_a_running_balance_and_who_reversed_what(
    session: Session, clinic: BillingClinic
) -> None:
    charge = post(session, clinic, EntryKind.CHARGE, "100.00", date(2026, 12, 1))
    post(session, clinic, EntryKind.PAYMENT, "-30.00", date(2026, 12, 2))
    undo = ledger.reverse(session, ADMIN, charge, "error", date(2026, 12, 3))

    lines = ledger.lines(session, clinic.patient.id)

    assert [(line.amount, line.balance) for line in lines] == [
        (Decimal("100.00"), Decimal("100.00")),
        (Decimal("-30.00"), Decimal("70.00")),
        (Decimal("-100.00"), Decimal("-30.00")),
    ]
    assert lines[0].reversed_by_id == undo.id and lines[2].reverses_id == charge.id
    assert lines[2].note == "error" and lines[1].method is PaymentMethod.CARD


def test_get_entry_says_when_there_is_none(session: Session) -> None:
    with pytest.raises(NotFound, match="no ledger entry 999"):
        ledger.get_entry(session, 999)


def test_decimal_of_takes_sums_of_cents_only() -> None:
    assert ledger.decimal_of(12345) == Decimal("123.45")
    assert ledger.decimal_of(Decimal(-5)) == Decimal("-0.05")
    with pytest.raises(TypeError):
        ledger.decimal_of(1.5)


# PostgreSQL only: on SQLite a write transaction (BEGIN IMMEDIATE) already excludes writers.
@pytest.mark.postgres
@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
def test_two_desks_cannot_reverse_one_entry_twice(database: Database) -> None:
    """The second desk waits for the first desk's account lock, then sees its reversal."""
    with database.transaction() as s:
        clinic = billing_clinic(s)
        charge_id = post(s, clinic, EntryKind.CHARGE, "100.00").id
    outcome: dict[str, str] = {}

    def second_desk() -> None:
        try:
            with database.transaction() as b:
                ledger.reverse(b, ADMIN, ledger.get_entry(b, charge_id), "second", DAY)
            outcome["second"] = "reversed it again"
        except Conflict as refused:
            outcome["second"] = str(refused)

    with database.transaction() as first:
        ledger.reverse(first, ADMIN, ledger.get_entry(first, charge_id), "first", DAY)
        desk = threading.Thread(target=second_desk)
        desk.start()
        _wait_until_a_backend_waits_for_a_lock(database)
    desk.join()

    assert "is already reversed" in outcome["second"]
    with database.reading() as s:
        reversals = s.execute(
            select(func.count(LedgerEntry.id)).where(LedgerEntry.reverses_id == charge_id)
        ).scalar_one()
    assert reversals == 1


def _wait_until_a_backend_waits_for_a_lock(database: Database) -> None:
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    with database.engine.connect() as watcher:
        for _ in range(600):  # a generous bound, never an assertion about speed
            if watcher.execute(waiting).scalar_one() > 0:
                return
            watcher.rollback()  # PostgreSQL keeps one snapshot of the view per transaction
            time.sleep(0.05)
    pytest.fail("the second desk never reached the account lock")
