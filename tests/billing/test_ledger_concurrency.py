"""Two workstations applying one patient's credit at the same moment on PostgreSQL.

PostgreSQL runs at READ COMMITTED, so without a lock both transactions would read the same
unapplied credit and both apply it. :func:`ketadesk.billing.ledger.lock_account` makes the
second wait on the patient's row and then read the first one's allocation. (SQLite needs no
test of its own: a write transaction holds the database's write lock from BEGIN.)
"""

from __future__ import annotations

import threading
import time
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from builders import add_location, patient_raw

from ketadesk.access.permissions import Actor, Role
from ketadesk.billing import ledger
from ketadesk.billing.models import EntryKind, PaymentMethod
from ketadesk.clinic.patients import create_patient
from ketadesk.db import Database

ACTOR = Actor(username="test-billing", role=Role.BILLING)
DAY = date(2026, 12, 1)


def _patient_with_waiting_credit(db: Database) -> tuple[int, int]:
    """A $100 charge and a $100 payment not yet applied to it."""
    with db.transaction() as session:
        location = add_location(session)
        patient = create_patient(session, Actor(username="a", role=Role.ADMIN), patient_raw())
        common = {"patient_id": patient.id, "location_id": location.id, "posted_on": DAY}
        ledger.post(
            session,
            ACTOR,
            kind=EntryKind.CHARGE,
            amount=Decimal("100.00"),
            description="96365 IV infusion, first hour",
            **common,
        )
        payment = ledger.post(
            session,
            ACTOR,
            kind=EntryKind.PAYMENT,
            amount=Decimal("-100.00"),
            description="Card payment",
            method=PaymentMethod.CARD,
            **common,
        )
        return patient.id, payment.id


def _apply_credit(db: Database, patient_id: int) -> None:
    with db.transaction() as session:
        credits = ledger.unapplied_credits(session, patient_id)
        debits = ledger.open_debits(session, patient_id)
        ledger.apply_oldest_first(session, ACTOR, credits, debits)


def _someone_waits_for_a_lock(db: Database) -> bool:
    with db.engine.connect() as connection:
        waiting = connection.execute(
            sa.text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        ).scalar_one()
    return bool(waiting)


@pytest.mark.postgres
@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
def test_second_workstation_waits_and_does_not_apply_the_credit_twice(database: Database) -> None:
    patient_id, payment_id = _patient_with_waiting_credit(database)
    failures: list[BaseException] = []

    def second_workstation() -> None:
        try:
            _apply_credit(database, patient_id)
        except BaseException as error:  # reported to the test below
            failures.append(error)

    with database.transaction() as first:
        credits = ledger.unapplied_credits(first, patient_id)
        ledger.apply_oldest_first(first, ACTOR, credits, ledger.open_debits(first, patient_id))
        other = threading.Thread(target=second_workstation)
        other.start()
        deadline = time.monotonic() + 20
        while not _someone_waits_for_a_lock(database):
            assert time.monotonic() < deadline, "the second workstation never waited"
            time.sleep(0.02)
    other.join(timeout=30)
    assert not other.is_alive() and not failures, failures

    with database.reading() as session:
        payment = ledger.get_entry(session, payment_id)
        assert ledger.allocated_from(session, payment_id) == Decimal("100.00")
        assert ledger.unapplied(session, payment) == Decimal("0.00")
        assert ledger.balance(session, patient_id) == Decimal("0.00")
        assert ledger.open_debits(session, patient_id) == []
