"""Builders for floor and REMS tests: a booked session, and an esketamine session walked to
discharge the way the floor does it."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from builders import SchedulingClinic, at
from scheduling.planning_helpers import existing_session
from sqlalchemy.orm import Session

from ketadesk.access.permissions import Actor, Role
from ketadesk.clinic.models import Chair, Modality
from ketadesk.scheduling import floor
from ketadesk.scheduling.models import Checkpoint, Route, TreatmentSession

NURSE = Actor(username="nurse-kim", role=Role.CLINICAL)
GOOD_VITALS = floor.VitalsInput(systolic=128, diastolic=82, heart_rate=72, spo2=98)


def book(
    session: Session,
    clinic: SchedulingClinic,
    key: str = "esketamine-induction",
    start: str | datetime = "2026-12-07 09:00",
    chair: Chair | None = None,
) -> TreatmentSession:
    """One scheduled session of a new series, inserted as booking would leave it."""
    protocol = clinic.protocols[key]
    if chair is None:
        esketamine = protocol.modality is Modality.ESKETAMINE
        chair = clinic.esketamine_chairs[0] if esketamine else clinic.iv_chairs[0]
    starts_at = at(start) if isinstance(start, str) else start
    return existing_session(session, clinic.patient, protocol, chair, clinic.provider, starts_at)


def dose_esketamine(session: Session, ts: TreatmentSession, dosed_at: datetime) -> None:
    """Check in, pass the checklist and dose 56 mg at ``dosed_at``, then start monitoring."""
    floor.check_in(session, NURSE, ts.id, now=dosed_at - timedelta(minutes=10))
    floor.run_checklist(
        session,
        NURSE,
        ts.id,
        ride_home=True,
        food_fasted_hours=3,
        drink_fasted_minutes=45,
        vitals=GOOD_VITALS,
        now=dosed_at - timedelta(minutes=5),
    )
    floor.start_dosing(
        session,
        NURSE,
        ts.id,
        dose_mg=Decimal(56),
        route=Route.INTRANASAL,
        lot_number="EK-1",
        now=dosed_at,
    )
    floor.start_monitoring(session, NURSE, ts.id, now=dosed_at + timedelta(minutes=5))


def take_monitoring_bps(session: Session, ts: TreatmentSession, dosed_at: datetime) -> None:
    """The 40-minute and the discharge blood pressure."""
    floor.record_vitals(
        session,
        NURSE,
        ts.id,
        Checkpoint.FORTY_MINUTES,
        GOOD_VITALS,
        now=dosed_at + timedelta(minutes=40),
    )
    floor.record_vitals(
        session,
        NURSE,
        ts.id,
        Checkpoint.DISCHARGE,
        GOOD_VITALS,
        now=dosed_at + timedelta(minutes=115),
    )


def complete_esketamine(session: Session, clinic: SchedulingClinic, start: str) -> TreatmentSession:
    """A booked esketamine session walked to discharge on its day."""
    ts = book(session, clinic, start=start)
    dosed_at = at(start) + timedelta(minutes=5)
    dose_esketamine(session, ts, dosed_at)
    take_monitoring_bps(session, ts, dosed_at)
    floor.discharge(session, NURSE, ts.id, now=dosed_at + timedelta(minutes=120))
    return ts
