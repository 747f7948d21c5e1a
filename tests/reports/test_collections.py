"""The collections report on three claims answered by paper EOBs, and a self-pay visit:

======  ====================================================================================
claim   what happened
======  ====================================================================================
A1      Aetna, 96365 $1,000 + 99214 $200 (2 March), sent 5 March, paid 25 March: $600 + $150,
        contractual $300 + $50, copay $100
A2      Aetna, 96365 $1,000 (9 March), sent 10 March, denied in full 30 March (CO-197)
C1      Cigna, 99214 $200 (3 March), sent 5 March, answered 4 April: paid $120, contractual
        $30, $50 denied (CO-50)
P       self-pay 96365 $400 (2 March), paid $400
======  ====================================================================================

Answers are dated the day they are recorded, so the period runs to today.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from reports.reports_helpers import (
    FRONT_DESK,
    MANAGER,
    PAYMENT,
    answer,
    charge,
    claim_of,
    credit,
    report_clinic,
    send,
)
from sqlalchemy.orm import Session

from ketadesk.billing.claims.eob import EobLine
from ketadesk.billing.claims.models import Claim
from ketadesk.errors import InvalidValue, PermissionDenied
from ketadesk.reports import collections, revenue
from ketadesk.reports.catalog import run_report, spec
from ketadesk.reports.model import ReportFilter, ReportTable

TODAY = max(date.today(), date(2026, 4, 5))
PERIOD = ReportFilter(date(2026, 3, 1), TODAY)
D = Decimal


def build(session: Session) -> dict[str, Claim]:
    c = report_clinic(session)
    a, cg, p = c.aetna_patient, c.cigna_patient, c.self_pay
    charge(session, c, a, "96365", "1000.00", date(2026, 3, 2))
    charge(session, c, a, "99214", "200.00", date(2026, 3, 2))
    a1 = claim_of(session, a, today=date(2026, 3, 5))
    send(session, a1, date(2026, 3, 5))
    answer(
        session,
        a1,
        date(2026, 3, 25),
        EobLine(1, paid="600", contractual="300", copay="100"),
        EobLine(2, paid="150", contractual="50"),
        today=TODAY,
    )
    charge(session, c, a, "96365", "1000.00", date(2026, 3, 9))
    a2 = claim_of(session, a, today=date(2026, 3, 10))
    send(session, a2, date(2026, 3, 10))
    answer(
        session,
        a2,
        date(2026, 3, 30),
        EobLine(1, denied="1000", denial_reason="197"),
        today=TODAY,
    )
    charge(session, c, cg, "99214", "200.00", date(2026, 3, 3))
    c1 = claim_of(session, cg, today=date(2026, 3, 5))
    send(session, c1, date(2026, 3, 5))
    answer(
        session,
        c1,
        date(2026, 4, 4),
        EobLine(1, paid="120", contractual="30", denied="50", denial_reason="50"),
        today=TODAY,
    )
    visit = charge(session, c, p, "96365", "400.00", date(2026, 3, 2))
    credit(session, p, PAYMENT, "400.00", date(2026, 3, 2), pays=[visit])
    session.flush()
    return {"a1": a1, "a2": a2, "c1": c1}


def figures(table: ReportTable, labels: tuple[str, ...] | None = None) -> dict[str, object]:
    row = table.total if labels is None else next(r for r in table.rows if r.labels == labels)
    return {m.key: v for m, v in zip(table.measures, row.values, strict=True)}


def test_rates_from_the_revenue_sums(session: Session) -> None:
    build(session)
    total = figures(collections.collections(session, MANAGER, PERIOD, ["payer"]))
    assert total["charges"] == D("2800.00")
    assert total["payments"] == D("1270.00")  # 600 + 150 + 120 from payers, 400 self-pay
    assert total["contractual"] == D("380.00")
    assert total["gross_collection_rate"] == D("45.4")  # 1270 ÷ 2800
    assert total["net_collection_rate"] == D("52.5")  # 1270 ÷ (2800 − 380)
    money = revenue.revenue(session, MANAGER, PERIOD, []).total
    table = revenue.revenue(session, MANAGER, PERIOD, [])
    assert total["charges"] == money.value(table, "charges")
    assert total["payments"] == money.value(table, "net_revenue")
    assert total["contractual"] == money.value(table, "contractual")


def test_denial_rate_and_days_to_payment_by_payer(session: Session) -> None:
    build(session)
    table = collections.collections(session, MANAGER, PERIOD, ["payer"])
    aetna, cigna, own = (figures(table, (n,)) for n in ("Aetna", "Cigna", "Self-pay"))
    assert (aetna["claims_answered"], aetna["claims_denied"], aetna["denial_rate"]) == (
        2,
        1,
        D("50.0"),
    )
    assert (cigna["claims_answered"], cigna["claims_denied"], cigna["denial_rate"]) == (
        1,
        0,
        D("0.0"),
    )
    assert aetna["days_to_payment"] == D("20.0")  # 5 → 25 March; the denied claim unpaid
    assert cigna["days_to_payment"] == D("30.0")  # 5 March → 4 April
    assert own["gross_collection_rate"] == D("100.0")
    assert own["denial_rate"] is None and own["claims_answered"] is None
    total = figures(table)
    assert (total["denial_rate"], total["days_to_payment"]) == (D("33.3"), D("25.0"))


def test_top_denial_reasons_by_payer(session: Session) -> None:
    build(session)
    table = collections.collections(session, MANAGER, PERIOD, ["payer", "reason"])
    found = {
        row.labels: (row.value(table, "denials"), row.value(table, "denied_amount"))
        for row in table.rows
    }
    labels = {labels[0]: labels[1] for labels in found}
    assert labels["Aetna"].startswith("197: ") and labels["Cigna"].startswith("50: ")
    assert sorted(found.values()) == [(1, D("50.00")), (1, D("1000.00"))]
    assert figures(table)["denials"] == 2
    assert all(row.value(table, "charges") is None for row in table.rows)


def test_a_claim_denied_for_two_reasons_counts_once_in_its_row(session: Session) -> None:
    c = report_clinic(session)
    a = c.aetna_patient
    charge(session, c, a, "96365", "1000.00", date(2026, 3, 16))
    charge(session, c, a, "99214", "200.00", date(2026, 3, 16))
    claim = claim_of(session, a, today=date(2026, 3, 17))
    send(session, claim, date(2026, 3, 17))
    answer(
        session,
        claim,
        date(2026, 3, 31),
        EobLine(1, denied="1000", denial_reason="197"),
        EobLine(2, denied="200", denial_reason="50"),
        today=TODAY,
    )
    session.flush()
    by_payer = collections.collections(session, MANAGER, PERIOD, ["payer"])
    assert figures(by_payer, ("Aetna",))["denials"] == 1
    assert figures(by_payer, ("Aetna",))["denied_amount"] == D("1200.00")
    assert figures(by_payer)["denials"] == 1
    by_reason = collections.collections(session, MANAGER, PERIOD, ["payer", "reason"])
    assert sorted(row.value(by_reason, "denials") for row in by_reason.rows) == [1, 1]
    assert figures(by_reason)["denials"] == 1  # the total counts the claim once too


def test_which_payer_pays_best_for_a_code(session: Session) -> None:
    build(session)
    table = collections.collections(session, MANAGER, PERIOD, ["code", "payer"])
    per_unit = {row.labels: row.value(table, "paid_per_unit") for row in table.rows}
    assert per_unit[("96365", "Aetna")] == D("300.00")  # $600 over two units, one denied
    assert per_unit[("99214", "Aetna")] == D("150.00")
    assert per_unit[("99214", "Cigna")] == D("120.00")
    assert per_unit[("96365", "Self-pay")] is None  # no remit lines
    assert figures(table, ("96365", "Self-pay"))["gross_collection_rate"] == D("100.0")


def test_rates_over_nothing_are_empty(session: Session) -> None:
    build(session)
    empty = figures(
        collections.collections(
            session, MANAGER, ReportFilter(date(2025, 1, 1), date(2025, 12, 31)), ["payer"]
        )
    )
    for key in ("gross_collection_rate", "net_collection_rate", "denial_rate", "days_to_payment"):
        assert empty[key] is None, key
    assert empty["paid_per_unit"] is None and empty["claims_answered"] == 0
    own = ReportFilter(PERIOD.date_from, PERIOD.date_to, payer_ids=(None,))
    self_pay = figures(collections.collections(session, MANAGER, own, ["month"]))
    assert self_pay["denial_rate"] is None and self_pay["gross_collection_rate"] == D("100.0")


def test_detail_names_the_claims(session: Session) -> None:
    claims = build(session)
    table = collections.collections(session, MANAGER, PERIOD, ["payer"])
    aetna = next(row for row in table.rows if row.labels == ("Aetna",))
    denied = collections.detail(session, MANAGER, table, aetna, "claims_denied")
    assert [line.claim_id for line in denied.rows] == [claims["a2"].id]
    reasons = collections.detail(session, MANAGER, table, aetna, "denied_amount")
    assert [(line.claim_id, line.amount) for line in reasons.rows] == [
        (claims["a2"].id, D("1000.00"))
    ]
    days = collections.detail(session, MANAGER, table, aetna, "days_to_payment")
    assert [(line.claim_id, line.amount) for line in days.rows] == [(claims["a1"].id, 20)]
    paid = collections.detail(session, MANAGER, table, aetna, "payments")
    assert sum((line.amount for line in paid.rows), D(0)) == D("-750.00")  # type: ignore[misc]


def test_chart_shows_rates_by_payer(session: Session) -> None:
    build(session)
    table = run_report(session, MANAGER, "collections", PERIOD)
    chart = spec("collections").chart(table)
    assert chart is not None
    assert set(chart.categories) == {"Aetna", "Cigna", "Self-pay"}
    denial = next(s for s in chart.series if s.name == "Denial rate")
    assert denial.values[chart.categories.index("Aetna")] == D("50.0")


def test_bad_split_and_permission(session: Session) -> None:
    with pytest.raises(InvalidValue, match="collections report cannot be split by 'chair'"):
        collections.collections(session, MANAGER, PERIOD, ["chair"])
    with pytest.raises(PermissionDenied):
        collections.collections(session, FRONT_DESK, PERIOD, ["payer"])
