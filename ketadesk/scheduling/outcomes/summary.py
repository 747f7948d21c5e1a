"""A patient's outcomes: every score per measure, and each series' baseline, latest score,
change, response and remission (:mod:`.rules`), with the patient's safety alerts.

Read in three queries (the patient's scores, their series with the first held session of
each, their alerts) and folded in Python: a patient has tens of scores, not thousands.
A series starts at its first session that was not cancelled or missed: its dose, or its
booked start before the dose. A maintenance series is measured from the baseline of the
induction before it (the point treatment started from), when there is one.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketadesk.access import audit
from ketadesk.access.permissions import Actor, Permission
from ketadesk.clinic.models import Patient
from ketadesk.errors import NotFound
from ketadesk.scheduling.models import RELEASED, Phase, Protocol, Series, TreatmentSession
from ketadesk.scheduling.outcomes import rules
from ketadesk.scheduling.outcomes.alerts import AlertView, patient_alerts
from ketadesk.scheduling.outcomes.measures import Measure, all_measures
from ketadesk.scheduling.outcomes.models import OutcomeScore
from ketadesk.scheduling.outcomes.rules import Taken
from ketadesk.scheduling.outcomes.scores import patient_zone


@dataclass(frozen=True)
class ScorePoint:
    """One score, for the chart and the list."""

    score_id: int
    taken_at: datetime
    total: int
    items: tuple[int, ...]
    session_id: int | None
    recorded_by: str


@dataclass(frozen=True)
class SeriesOutcome:
    """One series measured on one measure."""

    series_id: int
    protocol_name: str
    phase: Phase
    starts_at: datetime
    baseline: ScorePoint | None
    latest: ScorePoint | None
    responded: bool | None  # None: not yet measurable (no baseline, or nothing after it)
    remitted: bool | None  # None: not measurable, or the measure has no remission

    @property
    def change(self) -> int | None:
        if self.baseline is None or self.latest is None:
            return None
        return rules.change(self.baseline.total, self.latest.total)

    @property
    def change_fraction(self) -> Fraction | None:
        if self.baseline is None or self.latest is None:
            return None
        return rules.change_fraction(self.baseline.total, self.latest.total)

    @property
    def words(self) -> str:
        """``"response and remission"``, ``"no response yet"``, ``"no baseline"``…"""
        if self.baseline is None:
            return "no baseline before the first session"
        if self.latest is None:
            return "no score since the baseline"
        said = ["response" if self.responded else "no response"]
        if self.remitted is not None:
            said.append("remission" if self.remitted else "not in remission")
        return ", ".join(said)


@dataclass(frozen=True)
class MeasureOutcomes:
    measure: Measure
    points: tuple[ScorePoint, ...]
    series: tuple[SeriesOutcome, ...]


@dataclass(frozen=True)
class PatientOutcomes:
    patient_id: int
    mrn: str
    patient_name: str
    time_zone: str  # where the patient is treated: scores are shown in it
    measures: tuple[MeasureOutcomes, ...]  # only the measures the patient was scored on
    alerts: tuple[AlertView, ...]

    @property
    def open_alerts(self) -> tuple[AlertView, ...]:
        return tuple(a for a in self.alerts if a.is_open)


@dataclass(frozen=True)
class _SeriesStart:
    series_id: int
    protocol_name: str
    phase: Phase
    first_session_id: int
    first_dose: datetime


def patient_outcomes(
    session: Session, actor: Actor, patient_id: int, *, audited: bool = True
) -> PatientOutcomes:
    """The patient's outcomes. Reading them is audited as an opening of the record, unless
    ``audited`` is false: the chart, whose opening was audited already, reads them too."""
    actor.require(Permission.PATIENT_VIEW)
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise NotFound(f"there is no patient with id {patient_id}")
    if audited:
        audit.record(session, actor, "view", "outcomes", patient.mrn)
    by_measure: dict[str, list[ScorePoint]] = defaultdict(list)
    for row in session.scalars(
        select(OutcomeScore)
        .where(OutcomeScore.patient_id == patient_id)
        .order_by(OutcomeScore.taken_at, OutcomeScore.id)
    ):
        by_measure[row.measure].append(
            ScorePoint(
                row.id, row.taken_at, row.total, row.answers, row.session_id, row.recorded_by
            )
        )
    starts = _series_starts(session, patient_id)
    measures = tuple(
        MeasureOutcomes(
            scale, tuple(by_measure[scale.key]), _per_series(scale, by_measure[scale.key], starts)
        )
        for scale in all_measures(session)
        if by_measure.get(scale.key)
    )
    return PatientOutcomes(
        patient_id=patient.id,
        mrn=patient.mrn,
        patient_name=f"{patient.family_name}, {patient.given_name}",
        time_zone=patient_zone(session, patient_id),
        measures=measures,
        alerts=tuple(patient_alerts(session, actor, patient_id)),
    )


def _series_starts(session: Session, patient_id: int) -> list[_SeriesStart]:
    """Each series of the patient with its first held session, in order of that session."""
    rows = session.execute(
        select(TreatmentSession, Protocol.name, Protocol.phase)
        .join(Series, Series.id == TreatmentSession.series_id)
        .join(Protocol, Protocol.id == Series.protocol_id)
        .where(TreatmentSession.patient_id == patient_id)
        .order_by(TreatmentSession.starts_at, TreatmentSession.id)
    )
    firsts: dict[int, _SeriesStart] = {}
    for visit, name, phase in rows:
        if visit.status in RELEASED or visit.series_id in firsts:
            continue
        firsts[visit.series_id] = _SeriesStart(
            visit.series_id, name, phase, visit.id, visit.dosed_at or visit.starts_at
        )
    return sorted(firsts.values(), key=lambda s: s.first_dose)


def _per_series(
    scale: Measure, points: list[ScorePoint], starts: list[_SeriesStart]
) -> tuple[SeriesOutcome, ...]:
    taken = [Taken(p.score_id, p.total, p.taken_at, p.session_id) for p in points]
    by_id = {p.score_id: p for p in points}
    found = []
    induction_baseline: Taken | None = None
    for index, start in enumerate(starts):
        until = starts[index + 1].first_dose if index + 1 < len(starts) else None
        own = rules.baseline_of(taken, start.first_session_id, start.first_dose)
        if start.phase is Phase.INDUCTION:
            induction_baseline = own
            baseline = own
        else:
            baseline = induction_baseline or own
        latest = (
            None
            if baseline is None
            else rules.latest_of(
                [
                    t
                    for t in taken
                    if t.taken_at >= start.first_dose or t.session_id == start.first_session_id
                ],
                baseline,
                until,
            )
        )
        found.append(_outcome(scale, start, baseline, latest, by_id))
    return tuple(found)


def _outcome(
    scale: Measure,
    start: _SeriesStart,
    baseline: Taken | None,
    latest: Taken | None,
    by_id: dict[int, ScorePoint],
) -> SeriesOutcome:
    responded = remitted = None
    if baseline is not None and latest is not None:
        better = scale.lower_is_better
        responded = rules.responded(baseline.total, latest.total, lower_is_better=better)
        remitted = rules.remitted(latest.total, scale.remission_threshold, lower_is_better=better)
    return SeriesOutcome(
        series_id=start.series_id,
        protocol_name=start.protocol_name,
        phase=start.phase,
        starts_at=start.first_dose,
        baseline=None if baseline is None else by_id[baseline.score_id],
        latest=None if latest is None else by_id[latest.score_id],
        responded=responded,
        remitted=remitted,
    )
