"""Builders shared by the booking, changes, series and waitlist tests.

Plans are built by hand here (as the planner would return them), so these tests exercise
booking's own checks whatever the planner decides.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from builders import NOW, SchedulingClinic, at, give_consents, patient_raw, record_failed_trials
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ketadesk.access.permissions import Actor, Role
from ketadesk.clinic.models import Chair, Patient
from ketadesk.clinic.patients import create_patient
from ketadesk.scheduling.booking import book_series
from ketadesk.scheduling.models import Series, SessionStep, TreatmentSession
from ketadesk.scheduling.proposals import PlanWarning, ProposedSession, SeriesPlan, Slot

BILLING = Actor(username="test-billing", role=Role.BILLING)
IV_DAYS = ["2026-12-07", "2026-12-09", "2026-12-11", "2026-12-14", "2026-12-16", "2026-12-18"]


def iv_induction(session: Session, clinic: SchedulingClinic, actor: Actor) -> Series:
    """The six-session IV induction booked on ``IV_DAYS`` at 09:00 (Mon, Wed, Fri)."""
    plan = plan_for(clinic, "iv-induction", [at(f"{day} 09:00") for day in IV_DAYS])
    return book_series(session, actor, plan, now=NOW)


def plan_for(
    clinic: SchedulingClinic,
    key: str,
    starts: Sequence[datetime | None],
    *,
    chair: Chair | None = None,
    patient: Patient | None = None,
    blockers: tuple[str, ...] = (),
    warnings: tuple[PlanWarning, ...] = (),
    series_id: int | None = None,
    first_number: int = 1,
) -> SeriesPlan:
    """A plan of ``key`` with one session per start (``None`` = could not be placed)."""
    protocol = clinic.protocols[key]
    if chair is None:
        chairs = clinic.esketamine_chairs if key.startswith("esketamine") else clinic.iv_chairs
        chair = chairs[0]
    length = timedelta(minutes=protocol.chair_minutes)
    provider = clinic.provider
    sessions = tuple(
        ProposedSession(
            first_number + index,
            None
            if start is None
            else Slot(
                start, start + length, chair.id, chair.name, provider.id, provider.display_name
            ),
        )
        for index, start in enumerate(starts)
    )
    choices = protocol.interval_choices
    return SeriesPlan(
        patient_id=(patient or clinic.patient).id,
        protocol_id=protocol.id,
        location_id=clinic.location.id,
        time_zone=clinic.location.time_zone,
        interval_weeks=choices[0] if choices else None,
        sessions=sessions,
        blockers=blockers,
        warnings=warnings,
        first_number=first_number,
        series_id=series_id,
    )


def another_patient(session: Session, family_name: str) -> Patient:
    admin = Actor(username="test-admin", role=Role.ADMIN)
    patient = create_patient(
        session, admin, patient_raw(family_name=family_name, rems_enrolled_on="2026-01-05")
    )
    record_failed_trials(session, patient.id)
    give_consents(session, patient.id)
    return patient


def session_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(TreatmentSession)) or 0


def steps_of(session: Session, ts: TreatmentSession) -> list[SessionStep]:
    return list(
        session.scalars(
            select(SessionStep).where(SessionStep.session_id == ts.id).order_by(SessionStep.id)
        )
    )
