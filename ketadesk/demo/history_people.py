"""Who the demo's history treats, and the records it keeps of their series.

:func:`load_people` reads the generated patients (:class:`Person`: home location, weight,
screening flags, REMS enrolment, diagnoses) in the order of their registration. While a
patient's journey is walked, a series being booked is a :class:`Run`, a session that lost
its chair a :class:`Fate` and a session holding one a :class:`Visit`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketadesk.clinic.models import Diagnosis, Modality, Patient, ScreeningFlag
from ketadesk.demo.bulk import table_of
from ketadesk.demo.history_rates import IV_DOSES
from ketadesk.demo.history_slots import Clinic, Site
from ketadesk.scheduling.models import Protocol, ScoreKind, SessionStatus


@dataclass
class Person:
    """What the journey needs about one patient, and where their care stands."""

    id: int
    site: Site
    registered: datetime
    weight: Decimal | None
    rems_on: date | None
    flags: frozenset[ScreeningFlag]
    active: bool
    score_kind: ScoreKind
    leaves_on: date | None = None  # inactive patients: the day they left
    last_start: datetime | None = None  # the latest session holding a chair
    last_hours: int = 0  # that session's protocol's min_hours_between
    baseline: float = 0.0
    response: float = 0.0
    responder: str = "responder"
    doses: int = 0  # attended doses of the current course, for the score trend
    pref_tick: int = 40  # the time of day the patient likes to come
    dose_step: Decimal = IV_DOSES[0]  # the mg/kg the provider titrates up to
    high_dose: bool = False  # esketamine 84 mg after the first session
    sublingual: bool = True  # KAP by lozenge rather than IM
    treated: bool = False
    between_series: bool = False  # treated, and no series planned or active
    last_modality: Modality | None = None  # of the latest series

    def earliest(self, protocol: Protocol) -> datetime:
        if self.last_start is None:
            return self.registered + timedelta(hours=1)
        hours = max(self.last_hours, protocol.min_hours_between)
        return self.last_start + timedelta(hours=hours)


def load_people(session: Session, clinic: Clinic) -> list[Person]:
    patient_t, diagnosis_t = table_of(Patient), table_of(Diagnosis)
    primary = dict(
        session.execute(
            select(diagnosis_t.c.patient_id, diagnosis_t.c.code).where(diagnosis_t.c.position == 1)
        ).all()
    )
    rows = session.execute(
        select(
            patient_t.c.id,
            patient_t.c.home_location_id,
            patient_t.c.created_at,
            patient_t.c.weight_kg,
            patient_t.c.rems_enrolled_on,
            patient_t.c.screening_flags,
            patient_t.c.active,
        ).order_by(patient_t.c.created_at, patient_t.c.id)
    ).all()
    return [
        Person(
            id=pid,
            site=clinic.sites[home],
            registered=created,
            weight=weight,
            rems_on=rems_on,
            flags=flags,
            active=active,
            score_kind=ScoreKind.GAD7 if primary.get(pid, "").startswith("F41") else ScoreKind.PHQ9,
        )
        for pid, home, created, weight, rems_on, flags, active in rows
        if home in clinic.sites
    ]



@dataclass
class Run:
    """One series being booked: its row and what its sessions came to."""

    id: int
    patient: Person
    protocol: Protocol
    booked_at: datetime
    interval_weeks: int | None = None
    sessions: int = 0
    started: bool = False  # a session was checked in or completed
    open_sessions: int = 0  # sessions still ahead or on the floor
    completed: int = 0
    held: int = 0  # sessions holding their chair (attended, on the floor or ahead)
    reason: str = ""

    @property
    def closed_ended(self) -> bool:
        return self.protocol.session_count is not None


@dataclass(frozen=True)
class Fate:
    status: SessionStatus
    at: datetime
    reason: str


@dataclass(frozen=True)
class Visit:
    """A session that holds its chair: when, and whether it is over."""

    day: date
    starts_at: datetime
    ends_at: datetime
    completed: bool
