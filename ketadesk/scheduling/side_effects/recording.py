"""Recording a side effect of a session, correcting one, and the floor's blood-pressure rule.

A side effect belongs to a session that has been dosed (dosing, monitoring or completed: a
bladder symptom may be reported days later). Onset is given as minutes after the dose or as
the instant; neither means now. Rows are never changed: :func:`record_side_effect` with
``corrects`` adds the corrected row, :func:`withdraw_side_effect` adds a row saying the first
was entered in error. Every row is audited in the caller's transaction.

:func:`note_blood_pressure` is the floor's rule: a reading after the dose at or above the
clinic's limit (:mod:`~ketadesk.scheduling.vital_limits`, the limit the pre-dose checklist
uses) is recorded as a mild "blood pressure above the limit", once per session; the nurse
corrects its severity and adds what was done with a correction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from sqlalchemy import Exists, select
from sqlalchemy.orm import Session

from ketadesk.access import audit
from ketadesk.access.permissions import Actor, Permission
from ketadesk.errors import Conflict, FieldProblem, NotFound, ValidationError
from ketadesk.scheduling.models import Checkpoint, SessionStatus, TreatmentSession, VitalSign
from ketadesk.scheduling.side_effects.models import (
    SideEffect,
    SideEffectKind,
    SideEffectSeverity,
)
from ketadesk.scheduling.vital_limits import above_limit_words

T = TypeVar("T")
V = TypeVar("V")
TEXT_LENGTH = 200  # detail and action, as the columns hold them
MAX_ONSET_MINUTES = 7 * 24 * 60  # a week after the dose: later is not this session's effect
DOSED_STATUSES = frozenset(
    {SessionStatus.DOSING, SessionStatus.MONITORING, SessionStatus.COMPLETED}
)
# What a hurried person types for a kind, beyond the values themselves.
KIND_WORDS = {
    "bp": SideEffectKind.BLOOD_PRESSURE,
    "blood pressure": SideEffectKind.BLOOD_PRESSURE,
    "hypertension": SideEffectKind.BLOOD_PRESSURE,
    "dissociation beyond the expected": SideEffectKind.DISSOCIATION,
    "bladder symptoms": SideEffectKind.BLADDER,
    "sedation beyond the expected": SideEffectKind.SEDATION,
}


@dataclass(frozen=True)
class SideEffectInput:
    """A side effect as staff describe it; ``kind`` and ``severity`` may be typed words."""

    kind: SideEffectKind | str
    severity: SideEffectSeverity | str
    serious: bool = False
    onset_minutes: int | None = None  # after the dose
    onset_at: datetime | None = None  # or the instant (aware)
    action: str = ""
    detail: str = ""  # what it was, for "other"


def read_kind(text: SideEffectKind | str) -> SideEffectKind:
    """``"nausea"``, ``"BP"``, ``"blood pressure"``…; raises ValidationError on ``kind``."""
    if isinstance(text, SideEffectKind):
        return text
    words = " ".join(text.strip().lower().replace("_", " ").replace("-", " ").split())
    for kind in SideEffectKind:
        if words in (kind.value.replace("_", " "), kind.label.lower()):
            return kind
    if words in KIND_WORDS:
        return KIND_WORDS[words]
    choices = ", ".join(kind.value for kind in SideEffectKind)
    raise ValidationError.single("kind", f"{text.strip()!r} is not a side effect; use {choices}")


def read_severity(text: SideEffectSeverity | str) -> SideEffectSeverity:
    """``"mild"``, ``"Moderate"``, ``"severe"``; raises ValidationError on ``severity``."""
    if isinstance(text, SideEffectSeverity):
        return text
    try:
        return SideEffectSeverity(text.strip().lower())
    except ValueError:
        raise ValidationError.single(
            "severity", f"{text.strip()!r} is not a severity; use mild, moderate or severe"
        ) from None


def record_side_effect(
    session: Session,
    actor: Actor,
    session_id: int,
    given: SideEffectInput,
    *,
    corrects: int | None = None,
    now: datetime | None = None,
) -> SideEffect:
    """Record a side effect of session ``session_id`` (or a correction of row ``corrects``).

    Needs ``CLINICAL_RECORD``. Raises :class:`ValidationError` naming every bad field,
    :class:`Conflict` for a session not dosed or a row already corrected, :class:`NotFound`.
    """
    actor.require(Permission.CLINICAL_RECORD)
    moment = now_utc(now)
    ts = _dosed_session(session, session_id)
    earlier = _correctable(session, ts, corrects) if corrects is not None else None
    kind, severity, onset, problems = _read(ts, given, moment)
    if problems:
        raise ValidationError(problems)
    row = SideEffect(
        session_id=ts.id,
        patient_id=ts.patient_id,
        kind=kind,
        detail=given.detail.strip(),
        severity=severity,
        serious=given.serious,
        onset_at=onset,
        action=given.action.strip(),
        recorded_by=actor.username,
        recorded_at=moment,
        corrects_id=None if earlier is None else earlier.id,
    )
    return _add(session, actor, row)


def withdraw_side_effect(
    session: Session, actor: Actor, side_effect_id: int, reason: str, *, now: datetime | None = None
) -> SideEffect:
    """Say side effect ``side_effect_id`` was entered in error: a withdrawing row, with why."""
    actor.require(Permission.CLINICAL_RECORD)
    moment = now_utc(now)
    words = required_words("reason", reason, TEXT_LENGTH, "say why the side effect is withdrawn")
    earlier = session.get(SideEffect, side_effect_id)
    if earlier is None:
        raise NotFound(f"there is no side effect SE-{side_effect_id}")
    _correctable(session, earlier.session, side_effect_id)
    row = SideEffect(
        session_id=earlier.session_id,
        patient_id=earlier.patient_id,
        kind=earlier.kind,
        detail=earlier.detail,
        severity=earlier.severity,
        serious=earlier.serious,
        onset_at=earlier.onset_at,
        action=f"withdrawn: {words}"[:TEXT_LENGTH],
        recorded_by=actor.username,
        recorded_at=moment,
        corrects_id=earlier.id,
        withdrawn=True,
    )
    return _add(session, actor, row)


def required_words(field: str, text: str, limit: int, missing: str) -> str:
    """``text`` stripped; raises ValidationError on ``field`` (``missing`` when blank)."""
    words = text.strip()
    if not words:
        raise ValidationError.single(field, missing)
    if len(words) > limit:
        raise ValidationError.single(field, f"keep the {field} under {limit} characters")
    return words


def note_blood_pressure(
    session: Session, actor: Actor, ts: TreatmentSession, vital: VitalSign
) -> SideEffect | None:
    """The floor's rule: record a reading after the dose at or above the limit, once a session.

    Called by :func:`ketadesk.scheduling.floor.record_vitals` inside its transaction (its
    permission, ``FLOOR_CLINICAL``, covers it). A pre-dose reading is the checklist's
    business, not a side effect. Returns the row added, or ``None``.
    """
    if ts.dosed_at is None or vital.checkpoint is Checkpoint.PRE_DOSE:
        return None
    above = above_limit_words(ts.modality, vital.systolic, vital.diastolic)
    if above is None or _has_blood_pressure_row(session, ts.id):
        return None
    row = SideEffect(
        session_id=ts.id,
        patient_id=ts.patient_id,
        kind=SideEffectKind.BLOOD_PRESSURE,
        detail=f"{vital.checkpoint.label} reading: {above}",
        severity=SideEffectSeverity.MILD,
        serious=False,
        onset_at=vital.taken_at,
        recorded_by=actor.username,
        recorded_at=vital.taken_at,
    )
    return _add(session, actor, row)


def in_force(session: Session, patient_id: int) -> list[SideEffect]:
    """The patient's side effects as they stand (corrected rows replaced, withdrawn left
    out), newest onset first."""
    rows = session.scalars(
        select(SideEffect)
        .where(SideEffect.patient_id == patient_id, ~corrected(), SideEffect.withdrawn.is_(False))
        .order_by(SideEffect.onset_at.desc(), SideEffect.id.desc())
    ).all()
    return list(rows)


def corrected() -> Exists:
    """The SQL condition "a later row corrects this side effect"."""
    later = SideEffect.__table__.alias("later")
    return select(later.c.id).where(later.c.corrects_id == SideEffect.id).exists()


def minutes_after_dose(row: SideEffect) -> int | None:
    """Whole minutes from the session's dose to the onset; ``None`` when not dosed."""
    dosed = row.session.dosed_at
    if dosed is None:
        return None
    return int((row.onset_at - dosed).total_seconds() // 60)


# --- Reading and checking --------------------------------------------------------------------


def _read(
    ts: TreatmentSession, given: SideEffectInput, moment: datetime
) -> tuple[SideEffectKind, SideEffectSeverity, datetime, list[FieldProblem]]:
    problems: list[FieldProblem] = []
    kind = _collect(problems, read_kind, given.kind, None)
    severity = _collect(problems, read_severity, given.severity, SideEffectSeverity.MILD)
    problems.extend(_text_problems(kind, given))
    onset, onset_problems = _onset(ts, given, moment)
    problems.extend(onset_problems)
    return kind or SideEffectKind.OTHER, severity, onset, problems


def _collect(problems: list[FieldProblem], reader: Callable[[V], T], value: V, fallback: T) -> T:
    """``reader(value)``, or ``fallback`` with its problems kept, so all are named at once."""
    try:
        return reader(value)
    except ValidationError as error:
        problems.extend(error.problems)
        return fallback


def _text_problems(kind: SideEffectKind | None, given: SideEffectInput) -> Iterator[FieldProblem]:
    if kind is SideEffectKind.OTHER and not given.detail.strip():
        yield FieldProblem("detail", "say in words what the other side effect was")
    if len(given.detail.strip()) > TEXT_LENGTH:
        yield FieldProblem("detail", f"keep the words under {TEXT_LENGTH} characters")
    if len(given.action.strip()) > TEXT_LENGTH:
        yield FieldProblem("action", f"keep what was done under {TEXT_LENGTH} characters")


def _onset(
    ts: TreatmentSession, given: SideEffectInput, moment: datetime
) -> tuple[datetime, list[FieldProblem]]:
    dosed = ts.dosed_at
    assert dosed is not None  # _dosed_session refused an undosed session
    if given.onset_minutes is not None and given.onset_at is not None:
        return moment, [FieldProblem("onset", "give the onset as minutes or as a time, not both")]
    if given.onset_minutes is not None:
        minutes = given.onset_minutes
        if not 0 <= minutes <= MAX_ONSET_MINUTES:
            return moment, [
                FieldProblem(
                    "onset", f"the onset is 0 to {MAX_ONSET_MINUTES} minutes after the dose"
                )
            ]
        onset = dosed + timedelta(minutes=minutes)
    else:
        onset = moment if given.onset_at is None else now_utc(given.onset_at)
    if onset < dosed:
        return moment, [FieldProblem("onset", "a side effect of the dose starts after the dose")]
    if onset > moment:
        return moment, [FieldProblem("onset", "the onset cannot be later than now")]
    return onset, []


def _dosed_session(session: Session, session_id: int) -> TreatmentSession:
    ts = session.get(TreatmentSession, session_id)
    if ts is None:
        raise NotFound(f"there is no session S-{session_id}")
    if ts.status not in DOSED_STATUSES or ts.dosed_at is None:
        raise Conflict(
            f"{ts.reference} is {ts.status.label.lower()} and was not dosed; a side effect is "
            "recorded for a session once the dose is given"
        )
    return ts


def _correctable(session: Session, ts: TreatmentSession, side_effect_id: int) -> SideEffect:
    earlier = session.get(SideEffect, side_effect_id)
    if earlier is None or earlier.session_id != ts.id:
        raise NotFound(f"there is no side effect SE-{side_effect_id} in {ts.reference}")
    later = session.scalar(select(SideEffect.id).where(SideEffect.corrects_id == earlier.id))
    if later is not None:
        raise Conflict(
            f"SE-{earlier.id} was already corrected by SE-{later}; correct that one instead"
        )
    if earlier.withdrawn:
        raise Conflict(f"SE-{earlier.id} withdraws an entry made in error; record a new one")
    return earlier


def _has_blood_pressure_row(session: Session, session_id: int) -> bool:
    found = session.scalar(
        select(SideEffect.id)
        .where(
            SideEffect.session_id == session_id,
            SideEffect.kind == SideEffectKind.BLOOD_PRESSURE,
        )
        .limit(1)
    )
    return found is not None


def _add(session: Session, actor: Actor, row: SideEffect) -> SideEffect:
    session.add(row)
    session.flush()
    audit.record(session, actor, "create", "side_effect", row.id, after=audit.snapshot(row))
    return row


def now_utc(now: datetime | None) -> datetime:
    """``now`` in UTC (the clock when ``None``); a naive datetime is a bug in the caller."""
    if now is None:
        return datetime.now(UTC)
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be a time-zone-aware datetime")
    return now.astimezone(UTC)
