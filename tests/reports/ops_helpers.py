"""Hand-made schedules for the operational reports' tests (utilisation, attendance, series,
outcomes): a small New York clinic from :func:`builders.scheduling_clinic` and sessions
written as the floor leaves them, each at a local wall time."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from itertools import count
from typing import Any

from builders import SchedulingClinic, at, patient_raw, scheduling_clinic
from sqlalchemy.orm import Session

from ketadesk.access.permissions import Actor, Role
from ketadesk.clinic.models import Chair, Patient
from ketadesk.clinic.patients import create_patient
from ketadesk.scheduling.models import (
    ScoreKind,
    Series,
    SeriesStatus,
    SessionStatus,
    TreatmentSession,
)

MANAGER = Actor(username="test-manager", role=Role.ADMIN)
_NAMES = count(1)


@dataclass
class Clinic:
    """The scheduling clinic plus the sessions a test wrote, by name."""

    base: SchedulingClinic
    session: Session
    visits: dict[str, TreatmentSession] = field(default_factory=dict)

    @property
    def chairs(self) -> list[Chair]:
        return [*self.base.iv_chairs, *self.base.esketamine_chairs]

    def patient(self) -> Patient:
        n = next(_NAMES)
        family = "Ops" + chr(97 + n % 26) + chr(97 + n // 26 % 26)
        raw = patient_raw(family_name=family, date_of_birth=f"19{50 + n % 40}-02-0{1 + n % 9}")
        return create_patient(self.session, MANAGER, raw)

    def series(
        self,
        protocol: str = "iv-induction",
        patient: Patient | None = None,
        status: SeriesStatus = SeriesStatus.ACTIVE,
        reason: str = "",
    ) -> Series:
        series = Series(
            patient_id=(patient or self.base.patient).id,
            protocol_id=self.base.protocols[protocol].id,
            location_id=self.base.location.id,
            status=status,
            discontinued_reason=reason,
        )
        self.session.add(series)
        self.session.flush()
        return series

    def visit(
        self,
        series: Series,
        local: str,
        minutes: int = 60,
        status: SessionStatus = SessionStatus.COMPLETED,
        chair: Chair | None = None,
        number: int | None = None,
        score: tuple[ScoreKind, int] | None = None,
        zone: str = "America/New_York",
        **extra: Any,
    ) -> TreatmentSession:
        starts = at(local, zone)
        protocol = next(p for p in self.base.protocols.values() if p.id == series.protocol_id)
        taken = sum(1 for v in self.visits.values() if v.series_id == series.id)
        visit = TreatmentSession(
            series_id=series.id,
            number=number or taken + 1,
            patient_id=series.patient_id,
            location_id=series.location_id,
            chair_id=(chair or self.chairs[0]).id,
            provider_id=self.base.provider.id,
            modality=protocol.modality,
            starts_at=starts,
            ends_at=starts + timedelta(minutes=minutes),
            status=status,
            score_kind=score[0] if score else None,
            score=score[1] if score else None,
            **extra,
        )
        self.session.add(visit)
        self.session.flush()
        self.visits[f"{series.id}:{visit.number}"] = visit
        return visit


def ops_clinic(session: Session) -> Clinic:
    """A New York clinic open Mon–Fri 08:00–18:00 with four chairs (two IV, two nasal)."""
    return Clinic(scheduling_clinic(session, MANAGER), session)
