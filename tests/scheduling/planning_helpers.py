"""Builders shared by the planner, gates and rules tests: sessions already in the calendar.

:func:`existing_session` writes a series and one session row directly, the way booking
would leave them, so the planner's and the rules' tests do not depend on booking.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from builders import give_consents, patient_raw
from sqlalchemy.orm import Session

from ketadesk.access.permissions import Actor, Role
from ketadesk.clinic.locations import parse_hours, set_hours
from ketadesk.clinic.models import Chair, Location, Modality, Patient, Provider
from ketadesk.clinic.patients import create_patient
from ketadesk.scheduling.models import (
    Phase,
    Protocol,
    Series,
    SessionStatus,
    TreatmentSession,
)
from ketadesk.scheduling.proposals import SeriesPlan, Slot

ADMIN = Actor(username="test-admin", role=Role.ADMIN)


def existing_session(
    session: Session,
    patient: Patient,
    protocol: Protocol,
    chair: Chair,
    provider: Provider,
    starts_at: datetime,
    *,
    status: SessionStatus = SessionStatus.SCHEDULED,
    series: Series | None = None,
    number: int = 1,
    **columns: Any,
) -> TreatmentSession:
    """A session of ``protocol`` for ``patient`` in ``chair`` (its own series unless given).

    ``columns`` are set on the row as they are, e.g. the floor's moments (``dosed_at``).
    """
    if series is None:
        series = Series(
            patient_id=patient.id, protocol_id=protocol.id, location_id=chair.location_id
        )
        session.add(series)
        session.flush()
    row = TreatmentSession(
        series_id=series.id,
        number=number,
        patient_id=patient.id,
        location_id=chair.location_id,
        chair_id=chair.id,
        provider_id=provider.id,
        modality=protocol.modality,
        starts_at=starts_at,
        # chair time is elapsed time: added in UTC, so a session across a clock change
        # still holds its chair for exactly chair_minutes
        ends_at=starts_at.astimezone(UTC) + timedelta(minutes=protocol.chair_minutes),
        status=status,
        **columns,
    )
    session.add(row)
    session.flush()
    return row


def other_patient(session: Session, family_name: str) -> Patient:
    patient = create_patient(
        session, ADMIN, patient_raw(family_name=family_name, rems_enrolled_on="2026-01-05")
    )
    give_consents(session, patient.id)
    return patient


def custom_protocol(session: Session, key: str, **values: object) -> Protocol:
    """A protocol of the test's own (IV by default, one session, no spacing)."""
    columns: dict[str, object] = {
        "name": f"Test {key}",
        "modality": Modality.IV,
        "phase": Phase.INDUCTION,
        "weekly_pattern": "1",
        "session_count": 1,
        "min_hours_between": 0,
        "treatment_minutes": 40,
        "monitoring_minutes": 30,
    }
    columns.update(values)
    protocol = Protocol(key=key, **columns)
    session.add(protocol)
    session.flush()
    return protocol


def open_every_day(session: Session, location: Location) -> None:
    set_hours(session, ADMIN, location.id, parse_hours("mon-sun 08:00-18:00"))
    session.expire(location)


def local(slot: Slot | None, zone: str = "America/New_York") -> datetime:
    """The slot's start in the clinic's time zone."""
    from zoneinfo import ZoneInfo

    assert slot is not None, "the session was not placed"
    return slot.starts_at.astimezone(ZoneInfo(zone))


def days_of(plan: SeriesPlan) -> list[date]:
    return [local(s.slot).date() for s in plan.sessions]


def clocks_of(plan: SeriesPlan) -> list[str]:
    return [f"{local(s.slot):%H:%M}" for s in plan.sessions]
