"""What a letter of medical necessity says, gathered from the record into a frozen view.

:func:`necessity_view` reads, for one patient, in the caller's transaction: the treatment
history and its verdict (:func:`ketadesk.clinic.history.record.patient_history`, which
checks ``PATIENT_VIEW`` and audits the read), the diagnoses (ICD-10-CM code and words),
the primary policy in force today (payer, member id, prior-authorisation number), the
baseline scores (:func:`baseline_scores`), and the plan: the patient's current or planned
series, its protocol, number of sessions, modality, location and supervising provider.
:mod:`ketadesk.documents.necessity` lays the view out without touching a database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ketadesk.access.permissions import Actor
from ketadesk.billing.parties import diagnoses_info, patient_info, practice_info, provider_info
from ketadesk.billing.views import DiagnosisInfo, PatientInfo, PracticeInfo, ProviderInfo
from ketadesk.clinic.history.record import PatientHistory, patient_history
from ketadesk.clinic.models import Location, Patient
from ketadesk.clinic.policies import coverage_on
from ketadesk.errors import Incomplete, NotFound
from ketadesk.scheduling.models import (
    RELEASED,
    Series,
    SeriesStatus,
)


@dataclass(frozen=True)
class BaselineScore:
    kind: str  # "PHQ-9"
    score: int
    maximum: int
    taken_on: date


@dataclass(frozen=True)
class PlanInfo:
    protocol: str  # "Esketamine induction"
    modality: str  # "Esketamine nasal"
    sessions: int | None  # the protocol's count; None for open-ended maintenance
    booked: int  # sessions booked or given in the series
    first_day: date | None
    status: str


@dataclass(frozen=True)
class NecessityView:
    practice: PracticeInfo
    letter_date: date
    patient: PatientInfo
    payer_name: str
    member_id: str
    group_number: str
    prior_auth_number: str
    diagnoses: tuple[DiagnosisInfo, ...]
    history: PatientHistory
    baseline: tuple[BaselineScore, ...]
    plan: PlanInfo | None
    provider: ProviderInfo | None


def baseline_scores(session: Session, patient_id: int) -> tuple[BaselineScore, ...]:
    """The earliest score of each shipped measure (PHQ-9, GAD-7, PCL-5, pain) on record for
    the patient: the outcomes' own record (:mod:`ketadesk.scheduling.outcomes`), which holds
    the baselines taken before a first session as well as the sessions' scores."""
    from ketadesk.scheduling.outcomes.measures import shipped
    from ketadesk.scheduling.outcomes.models import OutcomeScore

    measures = {m.key: m for m in shipped()}
    rows = session.execute(
        select(OutcomeScore.measure, OutcomeScore.total, OutcomeScore.taken_at)
        .where(OutcomeScore.patient_id == patient_id, OutcomeScore.measure.in_(measures))
        .order_by(OutcomeScore.taken_at, OutcomeScore.id)
    ).all()
    first: dict[str, BaselineScore] = {}
    for key, total, taken_at in rows:
        if key not in first:
            found = measures[key]
            first[key] = BaselineScore(found.name, total, found.maximum, taken_at.date())
    return tuple(first[key] for key in measures if key in first)


def necessity_view(
    session: Session, actor: Actor, patient_id: int, today: date
) -> NecessityView:
    """The letter's content for the patient as of ``today``. Raises
    :class:`~ketadesk.errors.Incomplete` when the clinic has no location to write from."""
    history = patient_history(session, actor, patient_id)  # checks and audits the read
    patient = session.get(Patient, patient_id, options=[selectinload(Patient.diagnoses)])
    if patient is None:
        raise NotFound(f"no patient with id {patient_id}")
    series = _current_series(session, patient_id)
    location = series.location if series else patient.home_location or _any_location(session)
    if location is None:
        raise Incomplete("The letter of medical necessity", ["a clinic location to write from"])
    policy = coverage_on(session, patient_id, today).primary
    return NecessityView(
        practice=practice_info(location),
        letter_date=today,
        patient=patient_info(patient, today),
        payer_name=policy.payer.name if policy else "",
        member_id=policy.member_id if policy else "",
        group_number=policy.group_number if policy else "",
        prior_auth_number=policy.prior_auth_number if policy else "",
        diagnoses=diagnoses_info(patient),
        history=history,
        baseline=baseline_scores(session, patient_id),
        plan=_plan(series) if series else None,
        provider=_provider(series),
    )


def _current_series(session: Session, patient_id: int) -> Series | None:
    """The patient's newest planned or active series."""
    return session.scalar(
        select(Series)
        .where(Series.patient_id == patient_id,
               Series.status.in_([SeriesStatus.ACTIVE, SeriesStatus.PLANNED]))
        .options(selectinload(Series.sessions), selectinload(Series.protocol))
        .order_by(Series.id.desc())
        .limit(1)
    )


def _any_location(session: Session) -> Location | None:
    return session.scalar(
        select(Location).where(Location.active.is_(True)).order_by(Location.id).limit(1)
    )


def _plan(series: Series) -> PlanInfo:
    held = [s for s in series.sessions if s.status not in RELEASED]
    first = min((s.starts_at for s in held), default=None)
    return PlanInfo(
        protocol=series.protocol.name,
        modality=series.protocol.modality.label,
        sessions=series.protocol.session_count,
        booked=len(held),
        first_day=first.date() if first else None,
        status=series.status.label,
    )


def _provider(series: Series | None) -> ProviderInfo | None:
    """The provider supervising the series' first held session, for the signature."""
    if series is None:
        return None
    held = [s for s in series.sessions if s.status not in RELEASED]
    return provider_info(held[0].provider) if held else None
