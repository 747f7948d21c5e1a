"""Recording an outcome score: checked, stored, audited, and the item-9 alert raised with it.

:func:`record_score` is the one way a score enters KetaDesk: the floor's "Outcome score"
(``floor.record_score``), the patient chart's "Record score…" and ``ketadesk outcomes record``
all call it. It

1. reads the measure and checks the answers: item answers, when given, are whole numbers in
   the item's range and sum to the total (the total is their sum when it is left out);
2. stores an :class:`OutcomeScore` (or, at a session that already has one on this measure,
   corrects it), audited;
3. for a PHQ-9/GAD-7 taken at a session, writes the same kind and total on the session row,
   which the board and the manager's outcomes report read (this module is the only writer of
   ``treatment_session.score_kind/score``, so the two never disagree);
4. raises a :class:`SafetyAlert` when PHQ-9 item 9 is above zero, in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from ketadesk.access import audit
from ketadesk.access.permissions import Actor, Permission
from ketadesk.clinic.models import Location, Patient
from ketadesk.errors import FieldProblem, NotFound, StaleEdit, ValidationError
from ketadesk.scheduling.models import (
    RELEASED,
    ScoreKind,
    SessionStatus,
    TreatmentSession,
)
from ketadesk.scheduling.outcomes.measures import PHQ9, SELF_HARM_ITEM, Measure, measure
from ketadesk.scheduling.outcomes.models import OutcomeScore, SafetyAlert

FUTURE_SLACK = timedelta(minutes=5)  # clocks on two workstations differ a little
NOT_YET_SCORED = frozenset({SessionStatus.SCHEDULED, SessionStatus.CONFIRMED})


@dataclass(frozen=True)
class Answers:
    """What was typed: a total, item answers, or both."""

    total: int | None = None
    items: tuple[int, ...] | None = None


def record_score(
    session: Session,
    actor: Actor,
    patient_id: int,
    measure_key: str,
    answers: Answers,
    *,
    session_id: int | None = None,
    taken_at: datetime | None = None,
    now: datetime | None = None,
) -> OutcomeScore:
    """Record a score of ``measure_key`` for the patient; needs ``CLINICAL_RECORD``.

    At a session (``session_id``) the patient must have been checked in; ``taken_at`` is
    then now unless given. Raises :class:`ValidationError` for answers that do not fit the
    measure, a session of someone else or one not held, or a time in the future;
    :class:`NotFound` for an unknown patient or session.
    """
    actor.require(Permission.CLINICAL_RECORD)
    moment = _aware(now) if now is not None else datetime.now(UTC)
    when = _aware(taken_at) if taken_at is not None else moment
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise NotFound(f"there is no patient with id {patient_id}")
    scale = measure(session, measure_key)
    problems = list(_answer_problems(scale, answers))
    visit = _visit(session, patient, session_id, problems)
    if when > moment + FUTURE_SLACK:
        problems.append(FieldProblem("taken_at", "a score cannot be taken in the future"))
    if problems:
        raise ValidationError(problems)
    items = answers.items or ()
    total = answers.total if answers.total is not None else sum(items)
    score = _store(session, actor, patient, scale, total, items, when, visit)
    if visit is not None and scale.key in ScoreKind.__members__.values():
        _mirror(session, actor, visit, ScoreKind(scale.key), total)
    if scale.key == PHQ9 and len(items) >= SELF_HARM_ITEM and items[SELF_HARM_ITEM - 1] > 0:
        _raise_alert(session, actor, score, items[SELF_HARM_ITEM - 1], moment)
    return score


def patient_zone(session: Session, patient_id: int) -> str:
    """Where the patient is treated: the time zone of their latest session's location (UTC
    for a patient never booked). Scores are shown, and dated by day, in it."""
    zone_name = session.scalar(
        select(Location.time_zone)
        .join(TreatmentSession, TreatmentSession.location_id == Location.id)
        .where(TreatmentSession.patient_id == patient_id)
        .order_by(TreatmentSession.starts_at.desc())
        .limit(1)
    )
    return zone_name or "UTC"


def taken_on(session: Session, patient_id: int, day: date, now: datetime) -> datetime:
    """A score dated only by its day: noon of ``day`` where the patient is treated, or
    ``now`` when that noon is still to come (a score typed in the morning, dated today)."""
    zone = ZoneInfo(patient_zone(session, patient_id))
    noon = datetime.combine(day, time(12), zone).astimezone(UTC)
    moment = _aware(now)
    if day == moment.astimezone(zone).date() and noon > moment:
        return moment
    return noon  # a day still to come stays in the future, and is refused as such


def read_items(text: str) -> tuple[int, ...]:
    """``"1,2,0 3"`` → ``(1, 2, 0, 3)``: item answers as typed, split on commas or spaces.

    Raises :class:`ValidationError` on ``items`` for anything but whole numbers.
    """
    parts = [part for part in text.replace(",", " ").split() if part]
    if not parts or not all(part.isdigit() for part in parts):
        raise ValidationError.single(
            "items", f"give the item answers as whole numbers separated by commas, not {text!r}"
        )
    return tuple(int(part) for part in parts)


def _answer_problems(scale: Measure, answers: Answers) -> Iterator[FieldProblem]:
    total, items = answers.total, answers.items
    if total is None and items is None:
        yield FieldProblem("score", f"give the {scale.name} total or its item answers")
        return
    if total is not None and (
        not isinstance(total, int)
        or isinstance(total, bool)
        or not scale.minimum <= total <= scale.maximum
    ):
        yield FieldProblem(
            "score", f"a {scale.name} score is a whole number from {scale.range_words}"
        )
        return
    if items is None:
        return
    if not scale.items:
        yield FieldProblem("items", f"{scale.name} is a single rating; give only its total")
    elif len(items) != scale.items:
        yield FieldProblem(
            "items", f"{scale.name} has {scale.items} items; {len(items)} answers were given"
        )
    elif any(not 0 <= item <= scale.item_maximum for item in items):
        yield FieldProblem("items", f"each {scale.name} item is answered 0–{scale.item_maximum}")
    elif total is not None and total != sum(items):
        yield FieldProblem(
            "score", f"the item answers add up to {sum(items)}, not the total {total}"
        )


def _visit(
    session: Session, patient: Patient, session_id: int | None, problems: list[FieldProblem]
) -> TreatmentSession | None:
    if session_id is None:
        return None
    visit = session.get(TreatmentSession, session_id)
    if visit is None:
        raise NotFound(f"there is no session S-{session_id}")
    if visit.patient_id != patient.id:
        problems.append(
            FieldProblem("session", f"{visit.reference} is not a session of {patient.display_name}")
        )
    elif visit.status in RELEASED or visit.status in NOT_YET_SCORED:
        problems.append(
            FieldProblem(
                "session",
                f"{visit.reference} is {visit.status.label.lower()}; a score is taken at a "
                "session once the patient is checked in",
            )
        )
    return visit


def _store(
    session: Session,
    actor: Actor,
    patient: Patient,
    scale: Measure,
    total: int,
    items: Sequence[int],
    when: datetime,
    visit: TreatmentSession | None,
) -> OutcomeScore:
    """A new score, or the correction of the one already taken at ``visit`` on this measure."""
    existing = None
    if visit is not None:
        existing = session.scalars(
            select(OutcomeScore).where(
                OutcomeScore.session_id == visit.id, OutcomeScore.measure == scale.key
            )
        ).first()
    text = ",".join(str(item) for item in items)
    if existing is not None:
        before = audit.snapshot(existing)
        existing.total, existing.items, existing.taken_at = total, text, when
        existing.recorded_by = actor.username
        session.flush()
        audit.record_update(
            session, actor, "outcome_score", existing.id, before, audit.snapshot(existing)
        )
        return existing
    score = OutcomeScore(
        patient_id=patient.id,
        measure=scale.key,
        total=total,
        items=text,
        taken_at=when,
        session_id=None if visit is None else visit.id,
        recorded_by=actor.username,
    )
    session.add(score)
    session.flush()
    audit.record(session, actor, "create", "outcome_score", score.id, after=audit.snapshot(score))
    return score


def _mirror(
    session: Session, actor: Actor, visit: TreatmentSession, kind: ScoreKind, total: int
) -> None:
    """Write the score on the session row (the board and the outcomes report read it)."""
    before = audit.snapshot(visit)
    visit.score_kind, visit.score = kind, total
    try:
        session.flush()
    except StaleDataError:
        raise StaleEdit(
            f"{visit.reference} was changed on another workstation after you opened it; "
            "refresh and record the score again"
        ) from None
    audit.record_update(
        session, actor, "treatment_session", visit.id, before, audit.snapshot(visit)
    )


def _raise_alert(
    session: Session, actor: Actor, score: OutcomeScore, value: int, moment: datetime
) -> None:
    """An open alert for ``score`` (one per score: a corrected score keeps its alert)."""
    already = session.scalars(select(SafetyAlert).where(SafetyAlert.score_id == score.id)).first()
    if already is not None:
        return
    alert = SafetyAlert(
        patient_id=score.patient_id, score_id=score.id, item_value=value, raised_at=moment
    )
    session.add(alert)
    session.flush()
    audit.record(session, actor, "create", "safety_alert", alert.id, after=audit.snapshot(alert))


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("times given to outcomes must be time-zone-aware")
    return moment.astimezone(UTC)
