"""Property test of the aging report over random ledgers posted through the ledger's own
services (charges, payments, adjustments, transfers between the insurer's side and the
patient's, reversals, oldest-first application), on SQLite and PostgreSQL.

For every as-of day:

* the five buckets add up to ``ar`` in every row, and the rows add up to the total;
* ``ar − credits`` equals a plain-SQL ``SUM(amount)`` of the entries posted by that day;
* no bucket and no credit is below zero (the days only move forward, as at a desk).

After the last entry, ``ar`` equals the sum over patients and sides of what
:func:`ledger.open_debits` says is still owed, and ``credits`` what
:func:`ledger.unapplied_credits` says is left.

Each example runs inside a savepoint rolled back at its end, so examples stay fast.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from builders import add_location, add_payer, patient_raw
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from ketadesk.access.permissions import Actor, Role
from ketadesk.billing import ledger
from ketadesk.billing.models import AdjustmentReason, EntryKind, LedgerEntry, PaymentMethod
from ketadesk.clinic.models import Location, Patient, Payer
from ketadesk.clinic.patients import create_patient
from ketadesk.errors import Conflict
from ketadesk.money import ZERO, from_cents
from ketadesk.reports import aging
from ketadesk.reports.model import ReportFilter, ReportTable

ADMIN = Actor(username="prop-admin", role=Role.ADMIN)
MANAGER = Actor(username="prop-manager", role=Role.MANAGER)
# Later than the real clock, so every allocation was made before each as-of day ended.
START = date(2031, 1, 6)
END = date(2033, 1, 1)  # after the last step (at most 14 × 50 days on)


@dataclass
class Clinic:
    location: Location
    payer: Payer
    patients: list[Patient]


step = st.tuples(
    st.sampled_from(["charge", "payment", "adjustment", "transfer", "apply", "reverse"]),
    st.integers(0, 1),  # which patient
    st.booleans(),  # on the insurer's side
    st.integers(1, 60_000),  # cents
    st.integers(0, 50),  # days after the previous step
)


def _post(
    session: Session, clinic: Clinic, who: int, kind: EntryKind, cents: int, on: date, insurer: bool
) -> LedgerEntry:
    return ledger.post(
        session,
        ADMIN,
        patient_id=clinic.patients[who].id,
        location_id=clinic.location.id,
        kind=kind,
        amount=from_cents(cents),
        posted_on=on,
        description=kind.value,
        method=PaymentMethod.CARD if kind is EntryKind.PAYMENT else None,
        reason=AdjustmentReason.DISCOUNT if kind is EntryKind.ADJUSTMENT else None,
        payer_id=clinic.payer.id if insurer else None,
    )


def _apply(session: Session, clinic: Clinic, who: int, insurer: bool) -> None:
    patient_id = clinic.patients[who].id
    payer_id = clinic.payer.id if insurer else None
    credits = ledger.unapplied_credits(session, patient_id, payer_id=payer_id)
    debits = ledger.open_debits(session, patient_id, payer_id=payer_id)
    ledger.apply_oldest_first(session, ADMIN, credits, debits)


def play(session: Session, clinic: Clinic, steps: list[tuple[str, int, bool, int, int]]) -> date:
    """Post ``steps``; return the last day anything was posted."""
    day = START
    posted: list[LedgerEntry] = []
    for action, who, insurer, cents, gap in steps:
        day += timedelta(days=gap)
        if action == "charge":
            posted.append(_post(session, clinic, who, EntryKind.CHARGE, cents, day, insurer))
        elif action in ("payment", "adjustment"):
            kind = EntryKind(action)
            posted.append(_post(session, clinic, who, kind, -cents, day, insurer))
        elif action == "transfer":  # the insurer's side hands an amount to the patient
            _post(session, clinic, who, EntryKind.TRANSFER, -cents, day, True)
            _post(session, clinic, who, EntryKind.TRANSFER, cents, day, False)
        elif action == "apply":
            _apply(session, clinic, who, insurer)
        elif posted:
            entry = posted[cents % len(posted)]
            with contextlib.suppress(Conflict):  # already reversed
                ledger.reverse(session, ADMIN, entry, "property test", day)
    return day


def plain_sum(session: Session, as_of: date) -> Decimal:
    query = text("SELECT COALESCE(SUM(amount), 0) FROM ledger_entry WHERE posted_on <= :day")
    cents = session.execute(query.bindparams(bindparam("day", as_of))).scalar_one()
    return from_cents(int(cents))


def check(table: ReportTable) -> None:
    buckets = [table.measure_index(k) for k in aging.BUCKET_KEYS]
    ar, credits = table.measure_index("ar"), table.measure_index("credits")
    for row in (*table.rows, table.total):
        assert sum((row.values[i] for i in buckets), ZERO) == row.values[ar]  # type: ignore[misc]
        assert all(row.values[i] >= ZERO for i in (*buckets, credits))  # type: ignore[operator]
    for i in (*buckets, credits, ar):
        assert sum((r.values[i] for r in table.rows), ZERO) == table.total.values[i]  # type: ignore[misc]


def open_sums(session: Session, clinic: Clinic) -> tuple[Decimal, Decimal]:
    owed = held = ZERO
    for patient in clinic.patients:
        for payer_id in (None, clinic.payer.id):
            owed += sum(
                (o.left for o in ledger.open_debits(session, patient.id, payer_id=payer_id)), ZERO
            )
            held += sum(
                (
                    o.left
                    for o in ledger.unapplied_credits(
                        session, patient.id, payer_id=payer_id, include_packages=True
                    )
                ),
                ZERO,
            )
    return owed, held


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    steps=st.lists(step, min_size=1, max_size=14), probes=st.lists(st.integers(0, 400), max_size=3)
)
def test_aging_reconciles_with_the_ledger(
    session: Session, steps: list[tuple[str, int, bool, int, int]], probes: list[int]
) -> None:
    savepoint = session.begin_nested()
    try:
        clinic = Clinic(
            add_location(session, "NYC"),
            add_payer(session, "Aetna"),
            [
                create_patient(session, ADMIN, patient_raw()),
                create_patient(session, ADMIN, patient_raw(family_name="Ng")),
            ],
        )
        last = play(session, clinic, steps)
        for as_of in [*(START + timedelta(days=p) for p in probes), last]:
            flt = ReportFilter(as_of, as_of)
            for by in ((), ("side",), ("patient", "payer")):
                table = aging.aging(session, MANAGER, flt, by)
                check(table)
                got = {m.key: table.total.values[i] for i, m in enumerate(table.measures)}
                assert got["ar"] - got["credits"] == got["balance"] == plain_sum(session, as_of)  # type: ignore[operator]
        final = aging.aging(session, MANAGER, ReportFilter(END, END), ())
        owed, held = open_sums(session, clinic)
        assert final.total.values[final.measure_index("ar")] == owed
        assert final.total.values[final.measure_index("credits")] == held
    finally:
        savepoint.rollback()
