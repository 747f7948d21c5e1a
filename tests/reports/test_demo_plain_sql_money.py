"""Aging, collections and compliance on the demo clinic, each against an independent
plain-SQL computation.

The demo clinic of the window tests (``tests/ui/demo_clinic.py``: three locations, sixty
patients, a year ending 2026-12-07) is built once for the module. For each report one
realistic filter and one split that matters is run through the report, and the same figures
are worked out here from the tables with ``text()`` SQL; where a rule is easier to read in
Python (which allocations count on the as-of day, which remittance adjustments are denials,
days between two dates) the raw rows are fetched with plain SQL and summed in plain Python.
Nothing here calls the reports' own helpers. Every row is compared, money to the cent,
counts exactly, rates and averages to the one decimal they show.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from reports.reports_helpers import MANAGER
from sqlalchemy import text
from sqlalchemy.orm import Session

from ketadesk.billing.claims import remit_codes
from ketadesk.db import Database
from ketadesk.money import from_cents
from ketadesk.reports import aging, collections, compliance
from ketadesk.reports.model import ReportFilter

AS_OF = date(2026, 12, 7)
LAST_YEAR = ReportFilter(date(2025, 12, 8), AS_OF)
WINDOW = {"first": LAST_YEAR.date_from, "last": LAST_YEAR.date_to}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    from ui.demo_clinic import demo_clinic

    db = demo_clinic(tmp_path_factory.mktemp("plain-money-demo"))
    yield db
    db.dispose()


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _instant(value: Any) -> datetime:
    """A stored UTC instant (SQLite gives text without a zone)."""
    found = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return found if found.tzinfo else found.replace(tzinfo=UTC)


def _tenth(part: Decimal | int, whole: Decimal | int) -> Decimal | None:
    if whole == 0:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.1"), ROUND_HALF_UP)


# --- aging ------------------------------------------------------------------------------

AGING_ENTRIES = """
SELECT e.id, e.posted_on, e.amount, e.payer_id, e.location_id,
       CASE WHEN p.id IS NOT NULL AND p.purchased_on <= :as_of THEN 1 ELSE 0 END
FROM ledger_entry e LEFT JOIN package_purchase p ON p.id = e.package_purchase_id
WHERE e.posted_on <= :as_of
"""

AGING_ALLOCATIONS = """
SELECT a.debit_id, a.credit_id, a.amount, a.created_at,
       (SELECT MIN(r.posted_on) FROM ledger_entry r
        WHERE r.reverses_id IN (a.debit_id, a.credit_id))
FROM allocation a
"""

AGING_CHARGES_90 = """
SELECT COALESCE(SUM(e.amount), 0) FROM ledger_entry e
LEFT JOIN ledger_entry o ON o.id = e.reverses_id
WHERE COALESCE(o.kind, e.kind) = 'charge' AND e.posted_on > :since AND e.posted_on <= :as_of
"""


def _aging_cutoff(session: Session) -> datetime:
    """Midnight after the as-of day in the clinic's latest time zone."""
    zones = session.execute(text("SELECT DISTINCT time_zone FROM location")).scalars()
    following = datetime.combine(AS_OF + timedelta(days=1), time())
    return max(following.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC) for zone in zones)


def _aging_bucket(posted_on: date) -> int:
    age = (AS_OF - posted_on).days
    return next(i for i, limit in enumerate((30, 60, 90, 120)) if age <= limit) if age <= 120 else 4


def _plain_aging(session: Session) -> dict[tuple[Any, ...], list[Decimal]]:
    """Per (payer, location): the five buckets, AR, over 90, credits, package credits,
    balance, from each entry's open amount on the as-of day."""
    entries = {
        row[0]: (_day(row[1]), int(row[2]), row[3], row[4], bool(row[5]))
        for row in session.execute(text(AGING_ENTRIES), {"as_of": AS_OF})
    }
    cutoff = _aging_cutoff(session)
    applied: dict[int, int] = defaultdict(int)  # per entry, debit or credit
    for debit, credit, cents, made, reversed_on in session.execute(text(AGING_ALLOCATIONS)):
        if debit not in entries or credit not in entries or _instant(made) >= cutoff:
            continue
        if cents < 0 and (reversed_on is None or _day(reversed_on) > AS_OF):
            continue  # a release counts once its reversal is posted
        applied[debit] += int(cents)
        applied[credit] += int(cents)
    groups: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0] * 7)
    for entry_id, (posted_on, cents, payer, location, package) in entries.items():
        sums = groups[(payer, location)]
        if cents > 0:
            sums[_aging_bucket(posted_on)] += cents - applied[entry_id]
        else:
            sums[5] += -cents - applied[entry_id]
            if package:
                sums[6] += -cents - applied[entry_id]
    expected = {}
    for group, (b0, b1, b2, b3, b4, credits, packages) in groups.items():
        ar = b0 + b1 + b2 + b3 + b4
        cents_row = [b0, b1, b2, b3, b4, ar, b3 + b4, credits, packages, ar - credits]
        if any(cents_row):
            expected[group] = [from_cents(c) for c in cents_row]
    return expected


def test_aging_matches_plain_sql(demo: Database) -> None:
    flt = ReportFilter(AS_OF - timedelta(days=30), AS_OF)
    with demo.transaction() as session:
        table = aging.aging(session, MANAGER, flt, ["payer", "location"])
        expected = _plain_aging(session)
        shown = {row.keys: list(row.values) for row in table.rows}
        assert len(expected) >= 6 and shown == expected
        ar, balance = table.measure_index("ar"), table.measure_index("balance")
        assert table.total.values[ar] > Decimal("1000.00")
        assert sum(1 for row in table.rows if row.values[table.measure_index("over_120")]) >= 2
        assert any(row.values[table.measure_index("credits")] for row in table.rows)
        ledger = session.execute(
            text("SELECT SUM(amount) FROM ledger_entry WHERE posted_on <= :as_of"),
            {"as_of": AS_OF},
        ).scalar_one()
        assert table.total.values[balance] == from_cents(int(ledger))
        charged = session.execute(
            text(AGING_CHARGES_90), {"since": AS_OF - timedelta(days=90), "as_of": AS_OF}
        ).scalar_one()
        daily = Decimal(int(charged)) / 90
        days = (Decimal(table.total.values[ar] * 100) / daily).quantize(Decimal("0.1"))
        assert aging.days_in_ar(session, MANAGER, flt) == days
        assert f"On this day: {days} days." in table.notes[1]


# --- collections ------------------------------------------------------------------------

COLLECTIONS_MONEY = """
SELECT substr(e.posted_on, 1, 7), e.payer_id,
  SUM(CASE WHEN k = 'charge' THEN amount ELSE 0 END),
  SUM(CASE WHEN k IN ('payment', 'refund') THEN -amount ELSE 0 END),
  SUM(CASE WHEN k = 'adjustment' AND r IN ('contractual', 'self_pay_rate')
      THEN -amount ELSE 0 END)
FROM (SELECT e.posted_on, e.payer_id, e.amount, COALESCE(o.kind, e.kind) AS k,
             COALESCE(o.reason, e.reason, '') AS r
      FROM ledger_entry e LEFT JOIN ledger_entry o ON o.id = e.reverses_id
      WHERE e.posted_on BETWEEN :first AND :last) AS e
GROUP BY 1, 2
"""

COLLECTIONS_ANSWERS = """
SELECT substr(v.at, 1, 7), c.payer_id, COUNT(*),
       SUM(CASE WHEN v.to_status = 'denied' THEN 1 ELSE 0 END)
FROM claim_event v JOIN claim c ON c.id = v.claim_id
WHERE v.to_status IN ('paid', 'partly_paid', 'denied')
  AND v.at >= :first AND v.at < :after
GROUP BY 1, 2
"""

COLLECTIONS_ADJUSTMENTS = """
SELECT substr(r.paid_on, 1, 7), c.payer_id, rc.id, a."group", a.reason, a.amount
FROM remit_adjustment a
JOIN remit_claim rc ON rc.id = a.remit_claim_id
JOIN remit r ON r.id = rc.remit_id
JOIN claim c ON c.id = rc.claim_id
WHERE r.paid_on BETWEEN :first AND :last
"""

COLLECTIONS_FIRST_PAID = """
SELECT c.payer_id, c.submitted_on, MIN(e.posted_on)
FROM claim c JOIN ledger_entry e
  ON e.claim_id = c.id AND e.payer_id = c.payer_id AND e.kind = 'payment'
WHERE c.submitted_on IS NOT NULL
GROUP BY c.id, c.payer_id, c.submitted_on
"""

COLLECTIONS_LINES = """
SELECT substr(r.paid_on, 1, 7), c.payer_id, SUM(l.units), SUM(l.paid)
FROM remit_line l
JOIN remit_claim rc ON rc.id = l.remit_claim_id
JOIN remit r ON r.id = rc.remit_id
JOIN claim c ON c.id = rc.claim_id
WHERE r.paid_on BETWEEN :first AND :last
GROUP BY 1, 2
"""

_EMPTY_ROW: list[Any] = [None] * 14


def _plain_collections(session: Session) -> dict[tuple[Any, ...], list[Any]]:
    """Per (month, payer): the fourteen figures, None where no source has the group."""
    rows: dict[tuple[Any, ...], list[Any]] = defaultdict(lambda: list(_EMPTY_ROW))
    for month, payer, charges, paid, contractual in session.execute(
        text(COLLECTIONS_MONEY), WINDOW
    ):
        charges, paid, contractual = int(charges), int(paid), int(contractual)
        rows[(month, payer)][0:5] = [
            from_cents(charges),
            from_cents(paid),
            from_cents(contractual),
            _tenth(paid * 100, charges),
            _tenth(paid * 100, charges - contractual),
        ]
    answers = {"first": LAST_YEAR.date_from.isoformat(), "after": "2026-12-08"}
    for month, payer, answered, denied in session.execute(text(COLLECTIONS_ANSWERS), answers):
        rows[(month, payer)][5:8] = [int(answered), int(denied), _tenth(denied * 100, answered)]
    claims: dict[tuple[Any, ...], set[int]] = defaultdict(set)
    denied_cents: dict[tuple[Any, ...], int] = defaultdict(int)
    for month, payer, remit_claim, group, reason, cents in session.execute(
        text(COLLECTIONS_ADJUSTMENTS), WINDOW
    ):
        if remit_codes.is_denial(group, reason):
            claims[(month, payer)].add(remit_claim)
            denied_cents[(month, payer)] += int(cents)
    for key, found in claims.items():
        rows[key][8:10] = [len(found), from_cents(denied_cents[key])]
    days: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    for payer, submitted, paid_on in session.execute(text(COLLECTIONS_FIRST_PAID)):
        if LAST_YEAR.date_from <= _day(paid_on) <= LAST_YEAR.date_to:
            days[(str(paid_on)[:7], payer)].append((_day(paid_on) - _day(submitted)).days)
    for key, waits in days.items():
        rows[key][10] = _tenth(sum(waits), len(waits))
    for month, payer, thousandths, paid in session.execute(text(COLLECTIONS_LINES), WINDOW):
        units = Decimal(int(thousandths)) / 1000
        per_unit = (from_cents(int(paid)) / units).quantize(Decimal("0.01"), ROUND_HALF_UP)
        rows[(month, payer)][11:14] = [units, from_cents(int(paid)), per_unit]
    return dict(rows)


def test_collections_matches_plain_sql(demo: Database) -> None:
    with demo.transaction() as session:
        table = collections.collections(session, MANAGER, LAST_YEAR, ["month", "payer"])
        expected = _plain_collections(session)
        shown = {row.keys: list(row.values) for row in table.rows}
        assert len(expected) > 20 and shown == expected
        insured = [row for row in table.rows if row.keys[1] is not None]
        for key in ("claims_answered", "denials", "days_to_payment", "paid_per_unit"):
            index = table.measure_index(key)
            assert sum(1 for row in insured if row.values[index]) >= 2, key
        total = dict(zip([m.key for m in table.measures], table.total.values, strict=True))
        assert total["charges"] > 0 and 0 < total["gross_collection_rate"] < 100
        assert total["claims_answered"] == sum(
            row.values[table.measure_index("claims_answered")] or 0 for row in table.rows
        )


# --- compliance -------------------------------------------------------------------------

COMPLIANCE_ESTIMATES = """
SELECT substr(give_by, 1, 7), location_id,
  SUM(CASE WHEN given_on IS NOT NULL AND given_on <= :last AND given_on <= give_by
      THEN 1 ELSE 0 END),
  SUM(CASE WHEN given_on IS NOT NULL AND given_on <= :last AND given_on > give_by
      THEN 1 ELSE 0 END),
  SUM(CASE WHEN (given_on IS NULL OR given_on > :last) AND give_by < :last THEN 1 ELSE 0 END)
FROM estimate
WHERE give_by BETWEEN :first AND :last AND NOT (status = 'superseded' AND given_on IS NULL)
GROUP BY 1, 2
"""

COMPLIANCE_REMS = """
SELECT substr(rems_form_due_on, 1, 7), location_id,
  SUM(CASE WHEN rems_form_filed_on <= :last AND rems_form_filed_on <= rems_form_due_on
      THEN 1 ELSE 0 END),
  SUM(CASE WHEN rems_form_filed_on <= :last AND rems_form_filed_on > rems_form_due_on
      THEN 1 ELSE 0 END),
  SUM(CASE WHEN (rems_form_filed_on IS NULL OR rems_form_filed_on > :last)
      AND rems_form_due_on < :last THEN 1 ELSE 0 END)
FROM treatment_session
WHERE rems_form_due_on BETWEEN :first AND :last
GROUP BY 1, 2
"""

COMPLIANCE_CLAIMS = """
SELECT substr(filing_deadline, 1, 7), location_id,
  SUM(CASE WHEN status IN ('draft', 'ready', 'rejected') THEN 1 ELSE 0 END)
FROM claim WHERE filing_deadline BETWEEN :first AND :last
GROUP BY 1, 2
"""

COMPLIANCE_OVERRUNS = """
SELECT substr(x.first_service_on, 1, 7), x.location_id, x.id, x.total,
  (SELECT COALESCE(SUM(e.amount), 0) + COALESCE(SUM(
          (SELECT SUM(u.amount) FROM ledger_entry u WHERE u.reverses_id = e.id)), 0)
   FROM treatment_session t
   JOIN charge g ON g.session_id = t.id
   JOIN ledger_entry e ON e.id = g.entry_id
   WHERE t.series_id = x.series_id AND g.status = 'posted'
     AND g.source IN ('session', 'manual')
     AND g.service_date BETWEEN x.first_service_on AND x.last_service_on)
FROM estimate x
WHERE x.status <> 'superseded' AND x.first_service_on BETWEEN :first AND :last
"""


def _plain_compliance(session: Session) -> tuple[dict[tuple[Any, ...], list[int]], int]:
    """Per (month of the deadline, location): the eight counts; and how many estimates the
    series billed at all."""
    rows: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0] * 8)
    for at, query in ((0, COMPLIANCE_ESTIMATES), (4, COMPLIANCE_REMS), (7, COMPLIANCE_CLAIMS)):
        for month, location, *counts in session.execute(text(query), WINDOW):
            for offset, count in enumerate(counts):
                rows[(month, location)][at + offset] += int(count)
    billed_any = 0
    for month, location, _, total, billed in session.execute(text(COMPLIANCE_OVERRUNS), WINDOW):
        billed_any += int(billed) > 0
        if int(billed) - int(total) >= 40000:  # $400.00, the dispute threshold
            rows[(month, location)][3] += 1
    return dict(rows), billed_any


def test_compliance_matches_plain_sql(demo: Database) -> None:
    with demo.transaction() as session:
        table = compliance.compliance(session, MANAGER, LAST_YEAR, ["month", "location"])
        expected, billed_any = _plain_compliance(session)
        shown = {row.keys: list(row.values) for row in table.rows}
        assert len(expected) > 15 and shown == expected
        total = dict(zip([m.key for m in table.measures], table.total.values, strict=True))
        assert total["gfe_on_time"] >= 10 and total["rems_on_time"] >= 10 and billed_any >= 10
        assert total["rems_late"] + total["rems_overdue"] > 0
