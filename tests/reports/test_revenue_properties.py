"""Revenue over random small ledgers: any split adds up to the total, and the total agrees
with the ledger's own sums written in plain SQL.

Each example posts a few entries through the billing services (charges routed to an insurer
or the patient, payments and adjustments applied to them, refunds, transfers, reversals) on
top of the examples before it, so the ledger grows; the properties hold for the whole of it.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reports.reports_helpers import (
    ADJUSTMENT,
    MANAGER,
    PAYMENT,
    REFUND,
    ReportClinic,
    charge,
    credit,
    debit,
    report_clinic,
    reverse,
    transfer,
)
from sqlalchemy import text
from sqlalchemy.orm import Session

from ketadesk.billing import ledger
from ketadesk.billing.models import AdjustmentReason, EntryKind, LedgerEntry
from ketadesk.money import ZERO, from_cents
from ketadesk.reports import revenue
from ketadesk.reports.model import ReportFilter

START = date(2026, 1, 1)
CODES = ("96365", "99214", "99213")  # the last is covered by no payer: always the patient's
REASONS = tuple(AdjustmentReason)
SPLITS = ("month", "week", "location", "payer", "provider", "code", "modality")

cents = st.integers(min_value=1, max_value=90_000)
day = st.integers(min_value=0, max_value=120)
who = st.integers(min_value=0, max_value=2)
operation = st.one_of(
    st.tuples(st.just("charge"), who, st.sampled_from(CODES), cents, day, st.booleans()),
    st.tuples(st.just("pay"), who, cents, day, st.booleans()),
    st.tuples(st.just("adjust"), who, cents, day, st.sampled_from(REASONS)),
    st.tuples(st.just("refund"), who, cents, day),
    st.tuples(st.just("transfer"), who, cents, day),
    st.tuples(st.just("reverse"), st.integers(min_value=0, max_value=20), day),
)


def _money(amount: int) -> str:
    return str(from_cents(amount))


def _post(session: Session, clinic: ReportClinic, ops: list[tuple[Any, ...]]) -> None:
    """Post ``ops`` (see ``operation``) for the clinic's three patients."""
    patients = (clinic.self_pay, clinic.aetna_patient, clinic.cigna_patient)
    payers = (None, clinic.aetna, clinic.cigna)
    posted: list[LedgerEntry] = []
    charges: dict[int, list[LedgerEntry]] = {0: [], 1: [], 2: []}
    for op in ops:
        kind, rest = op[0], op[1:]
        if kind == "charge":
            n, code, amount, offset, elsewhere = rest
            where = clinic.other_location if elsewhere else clinic.location
            by = clinic.other_provider if elsewhere else clinic.provider
            on = START + timedelta(days=int(offset))
            entry = charge(
                session,
                clinic,
                patients[n],
                str(code),
                _money(amount),
                on,
                location=where,
                provider=by,
            )
            charges[n].append(entry)
        elif kind in ("pay", "adjust"):
            n, amount, offset, extra = rest
            side = payers[n] if kind == "pay" and extra else None
            reason = extra if kind == "adjust" else None
            entry = credit(
                session,
                patients[n],
                PAYMENT if kind == "pay" else ADJUSTMENT,
                _money(amount),
                START + timedelta(days=int(offset)),
                location=clinic.location,
                payer=side,
                reason=reason,
                pays=[e for e in charges[n] if ledger.reversal_of(session, e.id) is None],
            )
        elif kind == "refund":
            n, amount, offset = rest
            sources = [
                e for e in posted if e.patient_id == patients[n].id and e.kind is EntryKind.PAYMENT
            ]
            left = sum((ledger.unapplied(session, e) for e in sources), ZERO)
            if left == ZERO:
                continue
            entry = debit(
                session,
                patients[n],
                REFUND,
                str(min(left, from_cents(int(amount)))),
                START + timedelta(days=int(offset)),
                location=clinic.location,
                paid_from=sources,
            )
        elif kind == "transfer":
            n, amount, offset = rest
            if n == 0:
                continue
            entry, _ = transfer(
                session,
                patients[n],
                _money(amount),
                START + timedelta(days=int(offset)),
                location=clinic.location,
                payer=payers[n],
            )
        else:
            pick, offset = rest
            open_ = [
                e
                for e in posted
                if e.kind not in (EntryKind.REVERSAL, EntryKind.TRANSFER)
                and ledger.reversal_of(session, e.id) is None
            ]
            if not open_:
                continue
            entry = reverse(
                session,
                open_[int(pick) % len(open_)],
                START + timedelta(days=int(offset)),
            )
        posted.append(entry)
    session.flush()


def _plain_sum(session: Session, flt: ReportFilter, where: str = "") -> int:
    query = (
        "SELECT COALESCE(SUM(e.amount), 0) FROM ledger_entry e "
        "LEFT JOIN ledger_entry o ON o.id = e.reverses_id "
        "WHERE e.posted_on BETWEEN :first AND :last" + where
    )
    found = session.execute(text(query), {"first": flt.date_from, "last": flt.date_to})
    return int(found.scalar_one())


def test_any_split_adds_up_and_matches_the_ledger(session: Session) -> None:
    clinic = report_clinic(session)

    @settings(
        max_examples=25,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(
        ops=st.lists(operation, min_size=1, max_size=8),
        first=day,
        length=st.integers(min_value=0, max_value=150),
        by=st.lists(st.sampled_from(SPLITS), min_size=0, max_size=3, unique=True),
    )
    def check(ops: list[tuple[Any, ...]], first: int, length: int, by: list[str]) -> None:
        _post(session, clinic, ops)
        flt = ReportFilter(START + timedelta(days=first), START + timedelta(days=first + length))
        table = revenue.revenue(session, MANAGER, flt, by)
        for index, measure in enumerate(table.measures[:10]):
            added = sum((row.values[index] for row in table.rows), ZERO)
            assert added == table.total.values[index], (by, measure.key)
        total = {m.key: v for m, v in zip(table.measures, table.total.values, strict=True)}
        assert total["balance_change"] == from_cents(_plain_sum(session, flt))
        charged = _plain_sum(
            session, flt, " AND (e.kind = 'charge' OR (e.kind = 'reversal' AND o.kind = 'charge'))"
        )
        assert total["charges"] == from_cents(charged)

    check()
