"""The revenue report on a hand-made ledger: every measure to the cent, every split adding up
to the total, the year-before column, the rows behind a figure, and who may read it.

The ledger (March 2026, posted through the billing services, see ``reports_helpers``):

====  ==========================================================================
 P    self-pay: 96365 $400 (NYC, Osei) paid $300, discount $50, sliding scale $10,
      self-pay rate $5; 99214 $150 (BOS, Brandt) paid from a $200 payment that
      leaves $50 unapplied, of which $30 is refunded; a $25 package forfeit
 A    Aetna: 96365 $1,000 (NYC, Osei, an IV session) paid $600 by Aetna, $250 contractual;
      $150 moved to the patient's side and paid by the patient
 C    Cigna: G2082 $500 (BOS) reversed; 99214 $200 (BOS, Brandt) paid $180 by
      Cigna (then reversed) and $20 written off
====  ==========================================================================
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import combinations

import pytest
from builders import at
from reports.reports_helpers import (
    ADJUSTMENT,
    FORFEIT,
    FRONT_DESK,
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
    treatment,
)
from sqlalchemy import text
from sqlalchemy.orm import Session

from ketadesk.billing.models import AdjustmentReason, LedgerEntry
from ketadesk.db import Database
from ketadesk.errors import InvalidValue, PermissionDenied
from ketadesk.money import from_cents
from ketadesk.reports import revenue
from ketadesk.reports.model import ReportFilter, ReportTable

MARCH = ReportFilter(date(2026, 3, 1), date(2026, 3, 31))
D = Decimal


@dataclass
class March:
    clinic: ReportClinic
    entries: dict[str, LedgerEntry]


def build_march(session: Session) -> March:
    c = report_clinic(session)
    e: dict[str, LedgerEntry] = {}
    p, a, cg = c.self_pay, c.aetna_patient, c.cigna_patient
    e["p_visit"] = charge(session, c, p, "96365", "400.00", date(2026, 3, 2))
    e["p_paid"] = credit(session, p, PAYMENT, "300.00", date(2026, 3, 2), pays=[e["p_visit"]])
    for reason, amount in (
        (AdjustmentReason.DISCOUNT, "50.00"),
        (AdjustmentReason.SLIDING_SCALE, "10.00"),
        (AdjustmentReason.SELF_PAY_RATE, "5.00"),
    ):
        credit(session, p, ADJUSTMENT, amount, date(2026, 3, 3), reason=reason, pays=[e["p_visit"]])
    e["p_office"] = charge(
        session,
        c,
        p,
        "99214",
        "150.00",
        date(2026, 3, 5),
        location=c.other_location,
        provider=c.other_provider,
    )
    e["p_more"] = credit(session, p, PAYMENT, "200.00", date(2026, 3, 6), pays=[e["p_office"]])
    debit(
        session,
        p,
        REFUND,
        "30.00",
        date(2026, 3, 7),
        location=c.other_location,
        paid_from=[e["p_more"]],
    )
    debit(session, p, FORFEIT, "25.00", date(2026, 3, 31), location=c.location)

    infusion = treatment(session, c, a, "iv-induction", at("2026-03-10 09:00"))
    e["a_visit"] = charge(session, c, a, "96365", "1000.00", date(2026, 3, 10), visit=infusion)
    credit(session, a, PAYMENT, "600.00", date(2026, 3, 20), payer=c.aetna, pays=[e["a_visit"]])
    credit(
        session,
        a,
        ADJUSTMENT,
        "250.00",
        date(2026, 3, 20),
        payer=c.aetna,
        reason=AdjustmentReason.CONTRACTUAL,
        pays=[e["a_visit"]],
    )
    _, share = transfer(session, a, "150.00", date(2026, 3, 20), location=c.location, payer=c.aetna)
    credit(session, a, PAYMENT, "150.00", date(2026, 3, 25), pays=[share])

    e["c_wrong"] = charge(
        session, c, cg, "G2082", "500.00", date(2026, 3, 12), location=c.other_location
    )
    reverse(session, e["c_wrong"], date(2026, 3, 13))
    e["c_office"] = charge(
        session,
        c,
        cg,
        "99214",
        "200.00",
        date(2026, 3, 14),
        location=c.other_location,
        provider=c.other_provider,
    )
    e["c_paid"] = credit(
        session, cg, PAYMENT, "180.00", date(2026, 3, 28), payer=c.cigna, pays=[e["c_office"]]
    )
    credit(
        session,
        cg,
        ADJUSTMENT,
        "20.00",
        date(2026, 3, 28),
        payer=c.cigna,
        reason=AdjustmentReason.WRITE_OFF,
        pays=[e["c_office"]],
    )
    reverse(session, e["c_paid"], date(2026, 3, 30))
    session.flush()
    return March(c, e)


def figures(table: ReportTable, row_labels: tuple[str, ...] | None = None) -> dict[str, object]:
    row = (
        table.total if row_labels is None else next(r for r in table.rows if r.labels == row_labels)
    )
    return {m.key: v for m, v in zip(table.measures, row.values, strict=True)}


def test_each_measure_to_the_cent(session: Session) -> None:
    build_march(session)
    total = figures(revenue.revenue(session, MANAGER, MARCH, ["month"]))
    assert total["charges"] == D("1750.00")  # 400 + 150 + 1000 + 500 − 500 + 200
    assert total["patient_payments"] == D("650.00")  # 300 + 200 + 150
    assert total["insurer_payments"] == D("600.00")  # 600 + 180 − 180
    assert total["contractual"] == D("255.00")  # 250 contractual + 5 self-pay rate
    assert total["discounts"] == D("60.00")  # discount 50 + sliding scale 10
    assert total["write_offs"] == D("20.00")
    assert total["refunds"] == D("30.00")
    assert total["other"] == D("25.00")  # the forfeit; the transfer pair cancels
    assert total["net_revenue"] == D("1220.00")  # 650 + 600 − 30
    assert total["balance_change"] == D("220.00")  # 1750 − 1250 − 335 + 30 + 25


def test_payer_split_puts_each_side_in_its_row(session: Session) -> None:
    build_march(session)
    table = revenue.revenue(session, MANAGER, MARCH, ["payer"])
    self_pay, aetna, cigna = (figures(table, (n,)) for n in ("Self-pay", "Aetna", "Cigna"))
    assert (self_pay["charges"], self_pay["patient_payments"]) == (D("550.00"), D("650.00"))
    assert self_pay["other"] == D("175.00")  # forfeit 25 + the 150 moved in
    assert (aetna["insurer_payments"], aetna["contractual"], aetna["other"]) == (
        D("600.00"),
        D("250.00"),
        D("-150.00"),
    )
    assert (cigna["charges"], cigna["insurer_payments"], cigna["write_offs"]) == (
        D("200.00"),
        D("0.00"),
        D("20.00"),
    )


def test_code_split_follows_the_charge_lines(session: Session) -> None:
    build_march(session)
    table = revenue.revenue(session, MANAGER, MARCH, ["code"])
    infusion, office = figures(table, ("96365",)), figures(table, ("99214",))
    unlinked, reversed_code = figures(table, ("No service code",)), figures(table, ("G2082",))
    assert (infusion["charges"], infusion["patient_payments"]) == (D("1400.00"), D("300.00"))
    assert (infusion["insurer_payments"], infusion["contractual"]) == (D("600.00"), D("255.00"))
    assert infusion["discounts"] == D("60.00")
    assert (office["charges"], office["patient_payments"]) == (D("350.00"), D("150.00"))
    assert (office["insurer_payments"], office["write_offs"]) == (D("0.00"), D("20.00"))
    assert reversed_code["charges"] == D("0.00")
    # the payment's unapplied $50 and the payment of the moved share; the refund; the forfeit
    assert unlinked["patient_payments"] == D("200.00")
    assert (unlinked["refunds"], unlinked["other"]) == (D("30.00"), D("25.00"))


def test_modality_split_reads_the_session(session: Session) -> None:
    build_march(session)
    table = revenue.revenue(session, MANAGER, MARCH, ["modality"])
    infusion = next(r for r in table.rows if r.keys == ("iv",))
    values = {m.key: v for m, v in zip(table.measures, infusion.values, strict=True)}
    assert (values["charges"], values["insurer_payments"]) == (D("1000.00"), D("600.00"))
    assert values["contractual"] == D("250.00")


SPLITS = ["month", "location", "payer", "provider", "code", "modality"]


@pytest.mark.parametrize("size", [1, 2, 3])
def test_every_split_adds_up_to_the_total(session: Session, size: int) -> None:
    build_march(session)
    whole = revenue.revenue(session, MANAGER, MARCH, ["month"]).total.values
    for by in combinations(SPLITS, size):
        table = revenue.revenue(session, MANAGER, MARCH, list(by))
        for index, measure in enumerate(table.measures[:10]):
            added = sum((row.values[index] for row in table.rows), D("0.00"))
            assert added == table.total.values[index] == whole[index], (by, measure.key)


def test_year_before_whole_months_and_mid_month(session: Session) -> None:
    march = build_march(session)
    c, p = march.clinic, march.clinic.self_pay
    old = charge(session, c, p, "96365", "300.00", date(2025, 3, 2))
    credit(session, p, PAYMENT, "80.00", date(2025, 3, 2), pays=[old])
    credit(session, p, PAYMENT, "20.00", date(2025, 3, 10), pays=[old])
    whole = figures(revenue.revenue(session, MANAGER, MARCH, ["month"]), ("Mar 2026",))
    assert whole["net_revenue_year_before"] == D("100.00")
    assert whole["net_revenue_change"] == D("1120.0")  # (1220 − 100) ÷ 100
    later = ReportFilter(date(2026, 3, 4), date(2026, 3, 31))
    part = figures(revenue.revenue(session, MANAGER, later, ["month"]), ("Mar 2026",))
    assert part["net_revenue"] == D("920.00")  # without the $300 of 2 March
    assert part["net_revenue_year_before"] == D("20.00")  # 4–31 March 2025
    assert part["net_revenue_change"] == D("4500.0")


def test_bad_split_is_refused_in_words(session: Session) -> None:
    with pytest.raises(InvalidValue, match="cannot be split by 'chair'; choose from day"):
        revenue.revenue(session, MANAGER, MARCH, ["month", "chair"])


def test_reading_needs_report_view(session: Session) -> None:
    build_march(session)
    with pytest.raises(PermissionDenied):
        revenue.revenue(session, FRONT_DESK, MARCH, ["month"])
    table = revenue.revenue(session, MANAGER, MARCH, ["month"])
    with pytest.raises(PermissionDenied):
        revenue.detail(session, FRONT_DESK, table, table.rows[0], "charges")


# How a figure reads the ledger's signs: credits are negative amounts, shown positive.
SIGN = {"charges": 1, "refunds": 1, "other": 1, "balance_change": 1}


@pytest.mark.parametrize("by", [["payer"], ["code"], ["provider", "modality"], ["location"]])
def test_rows_behind_a_figure_add_up_to_it(session: Session, by: list[str]) -> None:
    build_march(session)
    table = revenue.revenue(session, MANAGER, MARCH, by)
    for row in table.rows:
        for index, measure in enumerate(table.measures[:10]):
            found = revenue.detail(session, MANAGER, table, row, measure.key)
            added = sum((line.amount for line in found.rows), D("0.00"))  # type: ignore[misc]
            assert added * SIGN.get(measure.key, -1) == row.values[index], (row.labels, measure)


def test_code_detail_names_the_entries(session: Session) -> None:
    march = build_march(session)
    table = revenue.revenue(session, MANAGER, MARCH, ["code"])
    row = next(r for r in table.rows if r.labels == ("96365",))
    found = revenue.detail(session, MANAGER, table, row, "patient_payments")
    assert [line.entry_id for line in found.rows] == [march.entries["p_paid"].id]
    unlinked = next(r for r in table.rows if r.labels == ("No service code",))
    found = revenue.detail(session, MANAGER, table, unlinked, "patient_payments")
    more = next(line for line in found.rows if line.entry_id == march.entries["p_more"].id)
    assert more.amount == D("-50.00")  # the part of $200 not applied to a charge


# --- the demo clinic against plain SQL -------------------------------------------------------

PLAIN = """
SELECT substr(e.posted_on, 1, 7) AS month, e.payer_id,
  SUM(CASE WHEN k = 'charge' THEN amount ELSE 0 END),
  SUM(CASE WHEN k = 'payment' AND e.payer_id IS NULL THEN -amount ELSE 0 END),
  SUM(CASE WHEN k = 'payment' AND e.payer_id IS NOT NULL THEN -amount ELSE 0 END),
  SUM(CASE WHEN k = 'adjustment' AND r IN ('contractual', 'self_pay_rate')
      THEN -amount ELSE 0 END),
  SUM(CASE WHEN k = 'adjustment' AND r IN ('discount', 'sliding_scale', 'courtesy', 'package')
      THEN -amount ELSE 0 END),
  SUM(CASE WHEN k = 'adjustment' AND r NOT IN ('contractual', 'self_pay_rate', 'discount',
      'sliding_scale', 'courtesy', 'package') THEN -amount ELSE 0 END),
  SUM(CASE WHEN k = 'refund' THEN amount ELSE 0 END),
  SUM(CASE WHEN k IN ('forfeit', 'transfer') THEN amount ELSE 0 END),
  SUM(CASE WHEN k IN ('payment', 'refund') THEN -amount ELSE 0 END),
  SUM(amount)
FROM (SELECT e.posted_on, e.payer_id, e.amount, COALESCE(o.kind, e.kind) AS k,
             COALESCE(o.reason, e.reason, '') AS r
      FROM ledger_entry e LEFT JOIN ledger_entry o ON o.id = e.reverses_id
      WHERE e.posted_on BETWEEN :first AND :last) AS e
GROUP BY 1, 2
"""

PLAIN_CODES = """
SELECT c.code, SUM(e.amount) FROM ledger_entry e
JOIN charge c ON c.entry_id = COALESCE(e.reverses_id, e.id)
LEFT JOIN ledger_entry o ON o.id = e.reverses_id
WHERE COALESCE(o.kind, e.kind) = 'charge' AND e.posted_on BETWEEN :first AND :last
GROUP BY c.code
"""

DEMO_YEAR = ReportFilter(date(2026, 1, 1), date(2026, 12, 31))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    from ui.demo_clinic import demo_clinic

    db = demo_clinic(tmp_path_factory.mktemp("revenue-demo"))
    yield db
    db.dispose()


def test_demo_clinic_matches_plain_sql(demo: Database) -> None:
    window = {"first": DEMO_YEAR.date_from, "last": DEMO_YEAR.date_to}
    with demo.transaction() as session:
        table = revenue.revenue(session, MANAGER, DEMO_YEAR, ["month", "payer"])
        expected = {
            (month, payer): [from_cents(int(c)) for c in sums]
            for month, payer, *sums in session.execute(text(PLAIN), window)
        }
        shown = {row.keys: list(row.values[:10]) for row in table.rows}
        assert len(expected) > 20 and shown == expected
        codes = revenue.revenue(session, MANAGER, DEMO_YEAR, ["code"])
        charged = {
            code: from_cents(int(c)) for code, c in session.execute(text(PLAIN_CODES), window)
        }
        index = codes.measure_index("charges")
        assert {r.keys[0]: r.values[index] for r in codes.rows if r.keys[0] is not None} == charged
