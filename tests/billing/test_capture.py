"""Charge capture: the pure rules (infusion hours, esketamine dose and drug codes) and the
capture of sessions into the review queue, once each."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from billing.billing_helpers import (
    ADMIN,
    BILLING,
    BillingClinic,
    billing_clinic,
    completed_esketamine_session,
    completed_iv_session,
    ended_session,
)
from builders import add_chair, add_location, add_payer, at, patient_raw
from hypothesis import given
from hypothesis import strategies as st
from scheduling.planning_helpers import custom_protocol, existing_session
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ketadesk.access.models import AuditEntry
from ketadesk.access.permissions import Actor, Role
from ketadesk.billing.capture import (
    CaptureResult,
    ChargeDraft,
    SessionFacts,
    capture_pending,
    capture_session,
    charge_drafts,
    infusion_hours,
)
from ketadesk.billing.fees import Fee, FeeBook, default_fee_rows, save_billing_policy
from ketadesk.billing.models import Charge, ChargeSource, ChargeStatus
from ketadesk.billing.review import add_manual_charge, dismiss_charge
from ketadesk.clinic.models import Modality, Payer
from ketadesk.clinic.patients import create_patient
from ketadesk.clinic.policies import add_policy
from ketadesk.errors import Conflict, PermissionDenied
from ketadesk.scheduling.models import SessionStatus

FRONT_DESK = Actor(username="test-front", role=Role.FRONT_DESK)
DAY = date(2026, 12, 1)


def shipped_book() -> FeeBook:
    """The shipped fee schedule, without a database."""
    return FeeBook(
        Fee(id=n, **{k: row[k] for k in row if k != "active"})
        for n, row in enumerate(default_fee_rows(), start=1)
    )


BOOK = shipped_book()


def facts(
    codes: str = "96365,96366,J3490",
    *,
    minutes: int | None = 60,
    dose: Decimal | None = None,
    day: date = DAY,
    modality: Modality = Modality.IV,
) -> SessionFacts:
    return SessionFacts(
        session_id=1,
        modality=modality,
        service_codes=tuple(codes.split(",")),
        service_date=day,
        status=SessionStatus.COMPLETED,
        infusion_minutes=minutes,
        dose_mg=dose,
    )


def lines(drafts: list[ChargeDraft]) -> list[tuple[str, int, Decimal]]:
    return [(d.code, d.units, d.amount) for d in drafts]


# -- the pure rules ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        (0, (0, 0)),
        (15, (0, 0)),
        (16, (1, 0)),
        (60, (1, 0)),
        (61, (1, 0)),
        (90, (1, 0)),
        (91, (1, 1)),
        (120, (1, 1)),
        (150, (1, 1)),
        (151, (1, 2)),
        (211, (1, 3)),
    ],
)
def test_infusion_hours(minutes: int, expected: tuple[int, int]) -> None:
    assert infusion_hours(minutes) == expected


def test_a_negative_infusion_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="cannot last -1 minutes"):
        infusion_hours(-1)


@given(st.integers(min_value=16, max_value=24 * 60))
def test_additional_hours_are_full_hours_plus_a_part_over_30(minutes: int) -> None:
    first, more = infusion_hours(minutes)
    assert first == 1
    # Each unit stands for at least 31 minutes past the first hour, and what is left
    # unbilled is never more than 30 minutes.
    beyond = max(minutes - 60, 0)
    assert beyond - 60 * more <= 30
    assert more == 0 or beyond > 60 * (more - 1) + 30


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        (60, [("96365", 1, Decimal("300.00")), ("J3490", 1, Decimal("150.00"))]),
        (90, [("96365", 1, Decimal("300.00")), ("J3490", 1, Decimal("150.00"))]),
        (
            91,
            [
                ("96365", 1, Decimal("300.00")),
                ("96366", 1, Decimal("100.00")),
                ("J3490", 1, Decimal("150.00")),
            ],
        ),
        (
            151,
            [
                ("96365", 1, Decimal("300.00")),
                ("96366", 2, Decimal("200.00")),
                ("J3490", 1, Decimal("150.00")),
            ],
        ),
    ],
)
def test_an_iv_session_bills_its_hours_and_the_drug(
    minutes: int, expected: list[tuple[str, int, Decimal]]
) -> None:
    drafts = charge_drafts(facts(minutes=minutes), BOOK)
    assert lines(drafts) == expected
    assert all(d.review_note == "" for d in drafts)
    infusion = drafts[0]
    assert (infusion.description, infusion.billed_charge) == (
        "IV infusion, first hour",
        Decimal("450.00"),
    )


@pytest.mark.parametrize("minutes", [0, 15])
def test_an_infusion_of_15_minutes_or_less_is_left_for_a_person(minutes: int) -> None:
    drafts = charge_drafts(facts(minutes=minutes), BOOK)
    assert lines(drafts) == [("96365", 1, Decimal("0.00")), ("J3490", 1, Decimal("150.00"))]
    assert drafts[0].review_note.startswith(f"the infusion ran {minutes} minutes")
    assert "more than 15" in drafts[0].review_note


def test_missing_infusion_times_are_left_for_a_person() -> None:
    drafts = charge_drafts(facts(minutes=None), BOOK)
    assert lines(drafts) == [("96365", 1, Decimal("0.00")), ("J3490", 1, Decimal("150.00"))]
    assert "start or stop time is not recorded" in drafts[0].review_note


@pytest.mark.parametrize(
    ("dose", "code", "price"),
    [
        (Decimal("28"), "G2082", Decimal("750.00")),
        (Decimal("56"), "G2082", Decimal("750.00")),
        (Decimal("56.1"), "G2083", Decimal("1050.00")),
        (Decimal("84"), "G2083", Decimal("1050.00")),
    ],
)
def test_the_esketamine_code_follows_the_dose(dose: Decimal, code: str, price: Decimal) -> None:
    drafts = charge_drafts(facts("G2083,99213", dose=dose, modality=Modality.ESKETAMINE), BOOK)
    assert lines(drafts) == [(code, 1, price), ("99213", 1, Decimal("150.00"))]


def test_an_esketamine_session_without_a_dose_is_left_for_a_person() -> None:
    drafts = charge_drafts(facts("G2083,99213", modality=Modality.ESKETAMINE), BOOK)
    assert lines(drafts) == [("G2083", 1, Decimal("0.00")), ("99213", 1, Decimal("150.00"))]
    assert "no esketamine dose is recorded" in drafts[0].review_note


@pytest.mark.parametrize(
    ("day", "code"),
    [(date(2025, 12, 31), "S0013"), (date(2026, 1, 1), "J0013"), (date(2026, 12, 1), "J0013")],
)
@pytest.mark.parametrize("listed", ["S0013", "J0013"])
def test_the_esketamine_drug_code_follows_the_service_date(
    day: date, code: str, listed: str
) -> None:
    session_facts = facts(f"G2082,{listed}", dose=Decimal(84), day=day)
    drafts = charge_drafts(session_facts, BOOK)
    assert lines(drafts) == [
        ("G2083", 1, Decimal("1050.00")),
        (code, 84, Decimal("1470.00")),  # 84 mg at $17.50
    ]


def test_a_part_of_a_mg_is_billed_as_a_whole_one_and_flagged() -> None:
    drafts = charge_drafts(facts("J0013", dose=Decimal("56.5")), BOOK)
    assert lines(drafts) == [("J0013", 57, Decimal("997.50"))]
    assert drafts[0].review_note == "the dose was 56.5 mg; billed as 57 whole mg"


def test_a_code_missing_from_the_fee_schedule_is_left_at_zero() -> None:
    drafts = charge_drafts(facts("99213,90899"), BOOK)
    assert lines(drafts) == [("99213", 1, Decimal("150.00")), ("90899", 1, Decimal("0.00"))]
    assert drafts[1].review_note == "90899 is not on the fee schedule in force on 2026-12-01"


def test_a_hand_counted_code_comes_with_a_note() -> None:
    drafts = charge_drafts(facts("99215,99417"), BOOK)
    assert lines(drafts) == [("99215", 1, Decimal("275.00")), ("99417", 1, Decimal("75.00"))]
    assert "counted by hand" in drafts[1].review_note


def test_a_code_listed_twice_bills_once() -> None:
    drafts = charge_drafts(facts("99213,99213,G2082,G2083", dose=Decimal(56)), BOOK)
    assert [d.code for d in drafts] == ["99213", "G2082"]


# -- capturing sessions ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        (60, {"96365": 1, "J3490": 1}),
        (90, {"96365": 1, "J3490": 1}),
        (91, {"96365": 1, "96366": 1, "J3490": 1}),
        (150, {"96365": 1, "96366": 1, "J3490": 1}),
        (151, {"96365": 1, "96366": 2, "J3490": 1}),
    ],
)
def test_capture_counts_infusion_hours_from_the_recorded_times(
    session: Session, minutes: int, expected: dict[str, int]
) -> None:
    clinic = billing_clinic(session)
    ts = completed_iv_session(session, clinic, minutes=minutes)
    charges = capture_session(session, BILLING, ts)
    assert {c.code: c.units for c in charges} == expected
    assert sum(c.amount for c in charges) == Decimal(450 + 100 * expected.get("96366", 0))


def test_captured_charges_wait_pending_with_provider_and_diagnoses(session: Session) -> None:
    clinic = billing_clinic(session)
    ts = completed_iv_session(session, clinic, minutes=100)
    charges = capture_session(session, BILLING, ts)
    assert [c.code for c in charges] == ["96365", "96366", "J3490"]
    for charge in charges:
        assert charge.status is ChargeStatus.PENDING
        assert charge.source is ChargeSource.SESSION
        assert (charge.patient_id, charge.location_id) == (clinic.patient.id, clinic.location.id)
        assert (charge.provider_id, charge.session_id) == (clinic.provider.id, ts.id)
        assert charge.service_date == DAY
        assert charge.diagnosis_pointers == "1,2"  # the patient has F33.2 and F43.10
        assert charge.entry_id is None and charge.created_by == "test-billing"
    assert charges[0].billed_charge == Decimal("450.00")
    audited = session.scalar(
        select(func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.entity == "charge", AuditEntry.action == "capture")
    )
    assert audited == 3


def test_pointers_stop_at_four_diagnoses(session: Session) -> None:
    clinic = billing_clinic(session)
    patient = create_patient(
        session,
        ADMIN,
        patient_raw(family_name="Nguyen", diagnoses="F33.2, F43.10, F41.1, F31.81, F90.0"),
    )
    ts = completed_iv_session(session, clinic, patient=patient)
    assert {c.diagnosis_pointers for c in capture_session(session, BILLING, ts)} == {"1,2,3,4"}


def test_the_service_date_is_the_clinics_local_day(session: Session) -> None:
    clinic = billing_clinic(session)
    # 20:30 in New York on 1 December is already 2 December in UTC.
    ts = completed_iv_session(session, clinic, start="2026-12-01 20:30", minutes=60)
    assert {c.service_date for c in capture_session(session, BILLING, ts)} == {DAY}


def test_an_esketamine_session_bills_by_its_dose(session: Session) -> None:
    clinic = billing_clinic(session)
    low = completed_esketamine_session(session, clinic, start="2026-12-01 09:00")
    high = completed_esketamine_session(
        session, clinic, start="2026-12-03 09:00", dose_mg=Decimal(84)
    )
    assert [c.code for c in capture_session(session, BILLING, low)] == ["G2082", "99213"]
    assert [c.code for c in capture_session(session, BILLING, high)] == ["G2083", "99213"]


@pytest.mark.parametrize(("day", "code"), [("2025-12-31", "S0013"), ("2026-01-02", "J0013")])
def test_the_drug_code_changes_on_new_years_day_2026(session: Session, day: str, code: str) -> None:
    clinic = billing_clinic(session)
    protocol = custom_protocol(
        session,
        "esk-drug",
        modality=Modality.ESKETAMINE,
        monitoring_minutes=120,
        services="G2082,S0013",
    )
    ts = existing_session(
        session,
        clinic.patient,
        protocol,
        clinic.esketamine_chairs[0],
        clinic.provider,
        at(f"{day} 09:00"),
        status=SessionStatus.COMPLETED,
        dose_mg=Decimal(56),
    )
    charges = capture_session(session, BILLING, ts)
    assert [(c.code, c.units) for c in charges] == [("G2082", 1), (code, 56)]
    assert charges[1].amount == Decimal("980.00")


def test_capture_is_idempotent_whatever_became_of_the_charges(session: Session) -> None:
    clinic = billing_clinic(session)
    ts = completed_iv_session(session, clinic)
    first = capture_session(session, BILLING, ts)
    assert len(first) == 3
    assert capture_session(session, BILLING, ts) == []
    for charge in first:
        dismiss_charge(session, BILLING, charge.id, "entered in error")
    assert capture_session(session, BILLING, ts.id) == []
    assert capture_pending(session, BILLING) == CaptureResult(0, 0)
    assert session.scalar(select(func.count()).select_from(Charge)) == 3


def test_a_charge_added_by_hand_does_not_hide_the_sessions_own(session: Session) -> None:
    clinic = billing_clinic(session)
    ts = completed_iv_session(session, clinic)
    add_manual_charge(
        session,
        BILLING,
        patient_id=clinic.patient.id,
        location_id=clinic.location.id,
        service_date=DAY,
        code="99417",
        session_id=ts.id,
    )
    assert [c.code for c in capture_session(session, BILLING, ts)] == ["96365", "96366", "J3490"]


@pytest.mark.parametrize(
    ("status", "source", "amount"),
    [
        (SessionStatus.LATE_CANCELLED, ChargeSource.LATE_CANCEL_FEE, Decimal("75.00")),
        (SessionStatus.NO_SHOW, ChargeSource.NO_SHOW_FEE, Decimal("150.00")),
    ],
)
def test_a_late_cancellation_or_no_show_bills_the_policy_fee(
    session: Session, status: SessionStatus, source: ChargeSource, amount: Decimal
) -> None:
    clinic = billing_clinic(session)
    ts = ended_session(session, clinic, status)
    (charge,) = capture_session(session, BILLING, ts)
    assert (charge.source, charge.code, charge.units, charge.amount) == (source, "", 1, amount)
    assert charge.description == source.label
    assert charge.diagnosis_pointers == "" and charge.status is ChargeStatus.PENDING
    assert capture_session(session, BILLING, ts) == []


@pytest.mark.parametrize("status", [SessionStatus.LATE_CANCELLED, SessionStatus.NO_SHOW])
def test_a_zero_fee_policy_bills_nothing(session: Session, status: SessionStatus) -> None:
    clinic = billing_clinic(session)
    save_billing_policy(
        session, BILLING, clinic.location.id, {"late_cancel_fee": "0", "no_show_fee": "0.00"}
    )
    ts = ended_session(session, clinic, status)
    assert capture_session(session, BILLING, ts) == []
    assert capture_pending(session, BILLING) == CaptureResult(0, 0)
    assert session.scalar(select(func.count()).select_from(Charge)) == 0


def test_a_plain_cancellation_bills_nothing(session: Session) -> None:
    clinic = billing_clinic(session)
    ts = ended_session(session, clinic, SessionStatus.CANCELLED)
    assert capture_session(session, BILLING, ts) == []


def test_a_session_not_yet_over_is_refused(session: Session) -> None:
    clinic = billing_clinic(session)
    ts = existing_session(
        session,
        clinic.patient,
        clinic.protocols["iv-induction"],
        clinic.iv_chairs[0],
        clinic.provider,
        at("2026-12-01 09:00"),
        status=SessionStatus.DOSING,
    )
    with pytest.raises(Conflict, match=f"S-{ts.id} is dosing; its charges are captured once"):
        capture_session(session, BILLING, ts)


def test_the_front_desk_cannot_capture(session: Session) -> None:
    clinic = billing_clinic(session)
    ts = completed_iv_session(session, clinic)
    with pytest.raises(PermissionDenied, match="review charges"):
        capture_session(session, FRONT_DESK, ts)
    with pytest.raises(PermissionDenied):
        capture_pending(session, FRONT_DESK)
    assert session.scalar(select(func.count()).select_from(Charge)) == 0


def test_capture_pending_takes_every_session_not_yet_captured(session: Session) -> None:
    clinic = billing_clinic(session)
    chair = clinic.iv_chairs[1]
    iv = completed_iv_session(session, clinic, start="2026-12-01 09:00", minutes=60)
    completed_iv_session(session, clinic, start="2026-12-03 09:00", minutes=100)
    ended_session(session, clinic, SessionStatus.NO_SHOW, "2026-12-04 09:00", chair=chair)
    ended_session(session, clinic, SessionStatus.CANCELLED, "2026-12-05 09:00", chair=chair)
    existing_session(
        session,
        clinic.patient,
        clinic.protocols["iv-induction"],
        chair,
        clinic.provider,
        at("2026-12-08 09:00"),
    )  # still scheduled
    capture_session(session, BILLING, iv)

    assert capture_pending(session, BILLING, through=date(2026, 12, 3)) == CaptureResult(1, 3)
    assert capture_pending(session, BILLING) == CaptureResult(1, 1)
    assert capture_pending(session, BILLING) == CaptureResult(0, 0)
    sources = session.scalars(select(Charge.source).order_by(Charge.id)).all()
    assert sources.count(ChargeSource.NO_SHOW_FEE) == 1 and len(sources) == 2 + 3 + 1


def test_capture_pending_keeps_to_one_location(session: Session) -> None:
    clinic = billing_clinic(session)
    other = add_location(session, "BKN", time_zone="America/Chicago")
    chair = add_chair(session, other, "IV B1")
    clinic.provider.locations.append(other)
    completed_iv_session(session, clinic)
    elsewhere = completed_iv_session(session, clinic, chair=chair)
    assert capture_pending(session, BILLING, location_id=other.id) == CaptureResult(1, 3)
    assert {c.session_id for c in session.scalars(select(Charge))} == {elsewhere.id}


def test_through_is_the_local_day_of_each_location(session: Session) -> None:
    clinic = billing_clinic(session)
    # 22:00 in New York on 3 December is 03:00 UTC on 4 December.
    late = completed_iv_session(session, clinic, start="2026-12-03 22:00", minutes=60)
    assert capture_pending(session, BILLING, through=date(2026, 12, 2)) == CaptureResult(0, 0)
    assert capture_pending(session, BILLING, through=date(2026, 12, 3)) == CaptureResult(1, 2)
    assert {c.service_date for c in session.scalars(select(Charge))} == {date(2026, 12, 3)}
    assert {c.session_id for c in session.scalars(select(Charge))} == {late.id}


# -- insured patients: the payer's coding --------------------------------------------------


def insure(
    session: Session, clinic: BillingClinic, payer: Payer, start: str = "2026-01-01"
) -> None:
    add_policy(
        session,
        ADMIN,
        clinic.patient.id,
        {"payer_id": payer.id, "rank": "primary", "member_id": "1EG4TE5MK72",
         "effective_from": start},
    )  # fmt: skip


def test_a_medicare_patient_is_captured_with_the_g_code_alone(session: Session) -> None:
    clinic = billing_clinic(session)
    medicare = add_payer(
        session, "Medicare Part B", is_medicare=True, esketamine_billing="g_code",
        bills_drug=False, rems_kx=True,
    )  # fmt: skip
    insure(session, clinic, medicare)
    first = completed_esketamine_session(session, clinic, start="2026-12-01 09:00")
    second = completed_esketamine_session(
        session, clinic, start="2026-12-03 09:00", dose_mg=Decimal(84)
    )
    (g2082,) = capture_session(session, BILLING, first)
    assert (g2082.code, g2082.modifiers, g2082.amount) == ("G2082", "KX", Decimal("750.00"))
    assert "for established patients" in g2082.review_note  # the first completed session
    assert "99213 left out" in g2082.review_note
    (g2083,) = capture_session(session, BILLING, second)
    assert (g2083.code, g2083.modifiers) == ("G2083", "KX")
    assert "established" not in g2083.review_note


def test_a_commercial_patient_is_captured_with_visit_staff_time_and_drug(
    session: Session,
) -> None:
    clinic = billing_clinic(session)
    insure(session, clinic, add_payer(session, "Aetna", esketamine_billing="visit"))
    ts = completed_esketamine_session(session, clinic, dose_mg=Decimal(84))
    charges = capture_session(session, BILLING, ts)  # 120 minutes of monitoring
    assert [(c.code, c.units) for c in charges] == [
        ("99213", 1),
        ("99415", 1),
        ("99416", 1),
        ("J0013", 84),
    ]
    assert [c.review_note for c in charges] == ["", "", "", ""]


def test_coverage_is_read_on_the_service_day(session: Session) -> None:
    clinic = billing_clinic(session)
    insure(session, clinic, add_payer(session, "Aetna"), start="2026-12-02")
    before = completed_esketamine_session(session, clinic, start="2026-12-01 09:00")
    after = completed_esketamine_session(session, clinic, start="2026-12-03 09:00")
    assert capture_pending(session, BILLING) == CaptureResult(2, 2 + 4)
    codes = {
        ts.id: [c.code for c in session.scalars(select(Charge).where(Charge.session_id == ts.id))]
        for ts in (before, after)
    }
    assert codes[before.id] == ["G2082", "99213"]  # self-pay: the protocol's services
    assert codes[after.id] == ["99213", "99415", "99416", "J0013"]
