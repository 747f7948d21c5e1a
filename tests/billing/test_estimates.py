"""Good Faith Estimates: the deadline in business days, who needs one, what it prices, when
it is re-drafted, when it was given, and billed against estimated."""

from __future__ import annotations

from datetime import date

import pytest
from billing.billing_helpers import BillingClinic, billing_clinic
from builders import NOW, add_payer, at, money
from scheduling.booking_helpers import iv_induction, plan_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from ketadesk.access.permissions import Actor, Role
from ketadesk.billing import estimates, ledger
from ketadesk.billing.fees import fee_item_values, save_fee_item
from ketadesk.billing.models import Estimate, EstimateStatus, FeeItem, LedgerEntry
from ketadesk.billing.review import add_manual_charge, post_charges
from ketadesk.clinic.models import InsurancePolicy, PolicyRank
from ketadesk.errors import Conflict, NotFound, PermissionDenied
from ketadesk.scheduling.booking import book_series
from ketadesk.scheduling.changes import cancel_session
from ketadesk.scheduling.models import Series
from ketadesk.scheduling.planner import plan_more
from ketadesk.scheduling.series import discontinue_series

DESK = Actor(username="test-front", role=Role.FRONT_DESK)
BILLING = Actor(username="test-billing", role=Role.BILLING)
NURSE = Actor(username="nurse-kim", role=Role.CLINICAL)
BOOKED_ON = date(2026, 11, 20)  # a Friday; the tests' booking clock
IV_TOTAL = money("2700.00")  # 6 × (96365 $300 + J3490 $150)


def d(text: str) -> date:
    return date.fromisoformat(text)


# -- business days and the deadline --------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        ("2026-12-04", 1, "2026-12-07"),  # Friday + 1 → Monday
        ("2026-11-25", 1, "2026-11-27"),  # over Thanksgiving (Thu 26 Nov)
        ("2026-12-24", 1, "2026-12-28"),  # over Christmas (Fri) and the weekend
        ("2027-07-02", 1, "2027-07-06"),  # Monday 5 July 2027 is the observed Fourth
        ("2026-11-30", -1, "2026-11-27"),
        ("2026-11-21", 0, "2026-11-21"),
    ],
)
def test_add_business_days(start: str, n: int, expected: str) -> None:
    assert estimates.add_business_days(d(start), n) == d(expected)


@pytest.mark.parametrize(
    ("drafted", "first", "give_by"),
    [
        # Thanksgiving week: Fri 27, Mon 30, Tue 1 are 3 business days → within 1.
        ("2026-11-25", "2026-12-01", "2026-11-27"),
        # Only Fri 27 and Mon 30 (Thursday is the holiday): not required.
        ("2026-11-25", "2026-11-30", None),
        # Booked on a Friday for Wednesday: Mon, Tue, Wed → within 1 business day.
        ("2026-12-04", "2026-12-09", "2026-12-07"),
        # Booked on a Saturday for Tuesday: Mon, Tue only.
        ("2026-12-05", "2026-12-08", None),
        # Ten business days away (the holiday skipped) → within 3: 24, 25, 27 Nov.
        ("2026-11-23", "2026-12-08", "2026-11-27"),
        # Nine business days away → within 1.
        ("2026-11-23", "2026-12-07", "2026-11-24"),
        # Already past: nothing to give ahead of it.
        ("2026-12-10", "2026-12-07", None),
    ],
)
def test_give_deadline(drafted: str, first: str, give_by: str | None) -> None:
    expected = d(give_by) if give_by else None
    assert estimates.give_deadline(d(drafted), d(first)) == expected


def test_business_days_between_counts_after_the_start() -> None:
    assert estimates.business_days_between(d("2026-11-23"), d("2026-11-26")) == 2
    assert estimates.business_days_between(d("2026-11-26"), d("2026-11-26")) == 0
    assert not estimates.is_business_day(d("2026-11-26"))
    assert not estimates.is_business_day(d("2026-11-28"))
    assert estimates.is_business_day(d("2026-11-27"))


# -- who needs one -------------------------------------------------------------------------


def _insure(session: Session, clinic: BillingClinic, **overrides: object) -> InsurancePolicy:
    values: dict[str, object] = {
        "patient_id": clinic.patient.id,
        "payer_id": add_payer(session).id,
        "rank": PolicyRank.PRIMARY,
        "member_id": "W123456789",
        "effective_from": d("2026-01-01"),
    }
    values.update(overrides)
    policy = InsurancePolicy(**values)
    session.add(policy)
    session.flush()
    return policy


def test_self_pay_means_no_policy_in_force(session: Session) -> None:
    clinic = billing_clinic(session)
    patient_id = clinic.patient.id
    assert estimates.is_self_pay(session, patient_id, d("2026-12-07"))
    policy = _insure(session, clinic, effective_to=d("2026-11-30"))
    assert estimates.is_self_pay(session, patient_id, d("2026-12-07"))
    assert not estimates.is_self_pay(session, patient_id, d("2026-11-30"))
    policy.effective_to = None
    assert not estimates.is_self_pay(session, patient_id, d("2026-12-07"))
    policy.active = False
    assert estimates.is_self_pay(session, patient_id, d("2026-12-07"))


def test_an_insured_patient_gets_no_estimate(session: Session) -> None:
    clinic = billing_clinic(session)
    _insure(session, clinic)
    series = iv_induction(session, clinic, DESK)
    assert estimates.draft_for_series(session, DESK, series.id, today=BOOKED_ON) is None
    assert estimates.refresh_estimates(session, BILLING, today=BOOKED_ON) == []


# -- drafting ------------------------------------------------------------------------------


def _drafted(session: Session) -> tuple[BillingClinic, Series, Estimate]:
    clinic = billing_clinic(session)
    series = iv_induction(session, clinic, DESK)
    estimate = estimates.draft_for_series(session, DESK, series.id, today=BOOKED_ON)
    assert estimate is not None
    return clinic, series, estimate


def test_booking_an_iv_induction_drafts_every_expected_item(session: Session) -> None:
    clinic, _series, estimate = _drafted(session)

    assert estimate.number == "GFE-2026-00001"
    assert estimate.status is EstimateStatus.DRAFT
    assert (estimate.first_service_on, estimate.last_service_on) == (
        d("2026-12-07"),
        d("2026-12-18"),
    )
    assert estimate.session_count == 6
    assert estimate.provider_id == clinic.provider.id
    # A 40-minute infusion bills the first hour only: no 96366 expected.
    lines = [(x.code, x.sessions, x.units, x.unit_price, x.amount) for x in estimate.lines]
    assert lines == [
        ("96365", 6, 6, money("300.00"), money("1800.00")),
        ("J3490", 6, 6, money("150.00"), money("900.00")),
    ]
    assert "40 minutes" in estimate.lines[0].note
    assert estimate.total == IV_TOTAL
    # Ten business days from Fri 20 Nov to Mon 7 Dec (Thanksgiving skipped) → 3 to give it.
    assert estimate.give_by == d("2026-11-25")
    assert estimate.drafted_on == BOOKED_ON


def test_nothing_changed_nothing_redrafted(session: Session) -> None:
    _clinic, series, estimate = _drafted(session)
    again = estimates.draft_for_series(session, DESK, series.id, today=d("2026-11-23"))
    assert again is estimate
    assert estimates.refresh_estimates(session, BILLING, today=d("2026-11-23")) == []
    assert len(session.scalars(select(Estimate)).all()) == 1


def test_esketamine_is_estimated_at_the_higher_rate_with_a_note(session: Session) -> None:
    clinic = billing_clinic(session)
    days = ["2026-12-07", "2026-12-10", "2026-12-14"]
    plan = plan_for(clinic, "esketamine-induction", [at(f"{x} 09:00") for x in days])
    series = book_series(session, DESK, plan, now=NOW)
    estimate = estimates.draft_for_series(session, DESK, series.id, today=BOOKED_ON)
    assert estimate is not None
    g2083, visit = estimate.lines
    assert (g2083.code, g2083.sessions, g2083.amount) == ("G2083", 3, money("3150.00"))
    assert "G2082" in g2083.note and "56 mg or less" in g2083.note
    assert (visit.code, visit.amount) == ("99213", money("450.00"))
    assert estimate.total == money("3600.00")


def test_open_ended_maintenance_counts_twelve_months_from_the_first(session: Session) -> None:
    clinic = billing_clinic(session)
    days = ["2026-12-07", "2027-06-07", "2027-12-06", "2027-12-13"]  # the last is past a year
    plan = plan_for(clinic, "esketamine-maintenance", [at(f"{x} 09:00") for x in days])
    series = book_series(session, DESK, plan, now=NOW)
    estimate = estimates.draft_for_series(session, DESK, series.id, today=BOOKED_ON)
    assert estimate is not None
    assert estimate.session_count == 3
    assert estimate.last_service_on == d("2027-12-06")
    assert [x.sessions for x in estimate.lines] == [3, 3]


# -- re-drafting ---------------------------------------------------------------------------


def test_more_sessions_redraft_and_must_be_given_again(session: Session) -> None:
    _clinic, series, first = _drafted(session)
    estimates.record_given(session, DESK, first.id, on=d("2026-11-23"), how="in person")

    plan = plan_more(session, DESK, series, 2, start=d("2026-12-21"))
    book_series(session, DESK, plan, now=NOW)
    session.expire(series)
    redrafted_on = d("2026-12-02")
    second = estimates.draft_for_series(session, BILLING, series.id, today=redrafted_on)

    assert second is not None and second is not first
    assert first.status is EstimateStatus.SUPERSEDED
    assert second.status is EstimateStatus.DRAFT
    assert second.supersedes_id == first.id
    assert second.redraft_reason == "2 sessions added (6 → 8)"
    assert second.session_count == 8
    assert second.total == money("3600.00")
    assert second.number == "GFE-2026-00002"
    # Counted from the re-draft (Wed 2 Dec) to the next session (Mon 7 Dec): 3 business
    # days away → within 1.
    assert second.give_by == d("2026-12-03")
    with pytest.raises(Conflict, match="GFE-2026-00002"):
        estimates.record_given(session, DESK, first.id, on=redrafted_on, how="email")


def test_a_price_change_redrafts(session: Session) -> None:
    _clinic, series, first = _drafted(session)
    item = session.scalars(select(FeeItem).where(FeeItem.code == "96365")).one()
    values = fee_item_values(item) | {"self_pay_price": "325.00"}
    save_fee_item(session, BILLING, values, item.id)

    made = estimates.refresh_estimates(session, BILLING, today=d("2026-11-23"))
    assert len(made) == 1
    second = made[0]
    assert second.redraft_reason == "96365 price 300.00 → 325.00"
    assert second.total == IV_TOTAL + 6 * money("25.00")
    assert first.status is EstimateStatus.SUPERSEDED
    assert estimates.current_estimate(session, series.id) is second


def test_a_cancellation_redrafts_with_the_reason_given(session: Session) -> None:
    _clinic, series, _first = _drafted(session)
    cancel_session(session, DESK, series.sessions[2].id, "patient unwell", now=NOW)
    second = estimates.draft_for_series(session, DESK, series.id, today=BOOKED_ON)
    assert second is not None
    assert second.session_count == 5
    assert second.redraft_reason == "1 session removed (6 → 5)"
    assert second.total == IV_TOTAL - money("450.00")

    cancel_session(session, DESK, series.sessions[3].id, "travel", now=NOW)
    third = estimates.draft_for_series(
        session, DESK, series.id, today=BOOKED_ON, reason="session 4 cancelled at the desk"
    )
    assert third is not None and third.redraft_reason == "session 4 cancelled at the desk"


def test_a_discontinued_series_withdraws_its_draft(session: Session) -> None:
    _clinic, series, first = _drafted(session)
    discontinue_series(session, DESK, series.id, "moved away", now=NOW)
    assert estimates.refresh_estimates(session, BILLING, today=BOOKED_ON) == []
    assert first.status is EstimateStatus.SUPERSEDED
    assert estimates.current_estimate(session, series.id) is None


# -- giving it -----------------------------------------------------------------------------


def test_record_given(session: Session) -> None:
    _clinic, _series, estimate = _drafted(session)
    with pytest.raises(PermissionDenied):
        estimates.record_given(session, NURSE, estimate.id, on=BOOKED_ON, how="in person")
    with pytest.raises(ValueError, match="say how"):
        estimates.record_given(session, DESK, estimate.id, on=BOOKED_ON, how=" ")
    with pytest.raises(ValueError, match="before"):
        estimates.record_given(session, DESK, estimate.id, on=d("2026-11-19"), how="email")
    with pytest.raises(NotFound):
        estimates.record_given(session, DESK, 999_999, on=BOOKED_ON, how="email")
    assert estimate.status is EstimateStatus.DRAFT

    estimates.record_given(session, DESK, estimate.id, on=d("2026-11-23"), how="  by   email ")
    assert estimate.status is EstimateStatus.GIVEN
    assert (estimate.given_on, estimate.given_how, estimate.given_by) == (
        d("2026-11-23"),
        "by email",
        DESK.username,
    )
    with pytest.raises(Conflict, match="already given"):
        estimates.record_given(session, DESK, estimate.id, on=d("2026-11-24"), how="mail")


def test_whoever_books_or_bills_may_draft(session: Session) -> None:
    clinic = billing_clinic(session)
    series = iv_induction(session, clinic, DESK)
    # Clinical staff book sessions too (SCHEDULE_BOOK); billing reviews (CHARGE_REVIEW).
    assert estimates.draft_for_series(session, NURSE, series.id, today=BOOKED_ON)
    assert estimates.refresh_estimates(session, BILLING, today=BOOKED_ON) == []
    with pytest.raises(NotFound):
        estimates.draft_for_series(session, DESK, 999_999, today=BOOKED_ON)


def test_list_estimates_marks_overdue_drafts(session: Session) -> None:
    clinic, _series, estimate = _drafted(session)
    [row] = estimates.list_estimates(session, BILLING, today=d("2026-11-25"))
    assert (row.number, row.mrn, row.series_name) == (
        estimate.number,
        clinic.patient.mrn,
        "IV ketamine induction",
    )
    assert row.patient_name == "Zoë Łukasiewicz"
    assert row.total == IV_TOTAL and not row.overdue
    [late] = estimates.list_estimates(session, BILLING, today=d("2026-11-26"))
    assert late.overdue
    given_only = estimates.list_estimates(
        session, BILLING, today=BOOKED_ON, status=EstimateStatus.GIVEN
    )
    assert given_only == []
    assert estimates.list_estimates(session, BILLING, today=BOOKED_ON, patient_id=999_999) == []
    estimates.record_given(session, DESK, estimate.id, on=d("2026-11-27"), how="mail")
    [given] = estimates.list_estimates(session, BILLING, today=d("2026-11-30"))
    assert given.status is EstimateStatus.GIVEN and not given.overdue


# -- billed against estimated --------------------------------------------------------------


def _bill(
    session: Session, clinic: BillingClinic, series: Series, number: int, code: str, price: str
) -> LedgerEntry:
    ts = series.sessions[number - 1]
    day = ts.starts_at.astimezone(at("2026-12-01 00:00").tzinfo).date()
    charge = add_manual_charge(
        session,
        BILLING,
        patient_id=clinic.patient.id,
        location_id=clinic.location.id,
        service_date=day,
        code=code,
        unit_price=price,
        session_id=ts.id,
    )
    [entry] = post_charges(session, BILLING, [charge.id], on=day)
    return entry


def test_variance_flags_400_or_more_above_the_estimate(session: Session) -> None:
    clinic, series, estimate = _drafted(session)
    for n in range(1, 6):
        _bill(session, clinic, series, n, "96365", "450.00")
    _bill(session, clinic, series, 6, "96365", "849.99")  # 2,249.99 + 849.99 = 3,099.99

    found = estimates.variance(session, BILLING, estimate.id)
    assert (found.estimated, found.billed) == (IV_TOTAL, money("3099.99"))
    assert found.difference == money("399.99") and not found.flagged
    assert estimates.variances(session, BILLING, flagged_only=True) == []

    extra = _bill(session, clinic, series, 6, "99213", "0.01")
    found = estimates.variance(session, BILLING, estimate.id)
    assert found.difference == money("400.00") and found.flagged
    assert found.mrn == clinic.patient.mrn
    flagged = estimates.variances(session, BILLING, flagged_only=True)
    assert [v.estimate_id for v in flagged] == [estimate.id]

    ledger.reverse(session, BILLING, extra, "entered in error", d("2026-12-18"))
    assert not estimates.variance(session, BILLING, estimate.id).flagged


def test_variance_of_an_unbilled_estimate_is_the_whole_estimate_below(session: Session) -> None:
    clinic, _series, _estimate = _drafted(session)
    [row] = estimates.variances(session, BILLING, location_id=clinic.location.id)
    assert (row.billed, row.difference, row.flagged) == (
        money("0.00"),
        -IV_TOTAL,
        False,
    )
    assert estimates.variances(session, BILLING, location_id=clinic.location.id + 1) == []


# -- the document's data -------------------------------------------------------------------


def test_estimate_view(session: Session) -> None:
    clinic, series, first = _drafted(session)
    cancel_session(session, DESK, series.sessions[5].id, "patient unwell", now=NOW)
    second = estimates.draft_for_series(session, DESK, series.id, today=BOOKED_ON)
    assert second is not None
    view = estimates.estimate_view(session, BILLING, second.id)
    assert view.number == second.number and view.supersedes == first.number
    assert view.practice.name == clinic.location.name
    assert view.patient.name == "Zoë Łukasiewicz" and view.patient.mrn == clinic.patient.mrn
    assert view.provider is not None and view.provider.npi == clinic.provider.npi
    assert view.series_name == "IV ketamine induction"
    assert view.session_count == 5 and view.total == money("2250.00")
    assert [x.code for x in view.diagnoses] == ["F33.2", "F43.10"]
    assert [(x.code, x.units, x.amount) for x in view.lines] == [
        ("96365", 5, money("1500.00")),
        ("J3490", 5, money("750.00")),
    ]
    assert view.give_by == second.give_by and view.given_on is None
    with pytest.raises(NotFound):
        estimates.estimate_view(session, BILLING, 999_999)
