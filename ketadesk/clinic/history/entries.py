"""Recording prior treatments: add, correct by superseding, remove with a reason.

Every action takes the session and the acting user, requires ``CLINICAL_RECORD``, and
writes its audit row (naming the patient by id, so the accounting of disclosures finds it)
in the caller's transaction. :func:`clean_treatment` reads the typed words of a form or the
command line (:mod:`ketadesk.clinic.history.words`) and reports every bad field at once as
a :class:`~ketadesk.errors.ValidationError`; nothing is written then.

Nothing is edited in place: :func:`correct_treatment` removes the old entry with the
reason "corrected: …" and adds the new one pointing back at it, so the chart shows what is
believed now and the table keeps what was believed before.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketadesk.access import audit
from ketadesk.access.permissions import Actor, Permission
from ketadesk.clinic.history import words
from ketadesk.clinic.history.models import PriorTreatment, Response, TreatmentKind
from ketadesk.clinic.models import Patient
from ketadesk.db import utcnow
from ketadesk.errors import FieldProblem, InvalidValue, NotFound, ValidationError

TREATMENT_LIMIT, STOPPED_LIMIT, REASON_LIMIT = 80, 200, 200
ENTITY = "prior_treatment"


@dataclass(frozen=True)
class TreatmentDraft:
    """A prior treatment as typed and cleaned, before it is recorded."""

    kind: TreatmentKind
    treatment: str
    dose_amount: Decimal | None
    dose_unit: str
    weeks: int | None
    response: Response
    stopped_because: str
    started_on: date | None
    current_episode: bool = True


def clean_treatment(raw: Mapping[str, Any], today: date) -> TreatmentDraft:
    """The draft from typed words (``kind``, ``treatment``, ``dose``, ``weeks``,
    ``response``, ``stopped``, ``started``; ``earlier_episode`` a bool). Raises
    :class:`ValidationError` naming every bad field."""
    problems: list[FieldProblem] = []

    def read(field: str, parse: Callable[[str], Any], default: Any = None) -> Any:
        try:
            return parse(str(raw.get(field) or ""))
        except InvalidValue as error:
            problems.append(FieldProblem(field, str(error)))
            return default

    kind = read("kind", words.parse_kind)
    treatment = read("treatment", lambda t: words.clean_words(t, "treatment", TREATMENT_LIMIT))
    if not treatment and not any(p.field == "treatment" for p in problems):
        problems.append(FieldProblem("treatment", "say which drug or therapy"))
    dose = read("dose", words.parse_dose, (None, ""))
    weeks = read("weeks", words.parse_weeks)
    response = read("response", lambda t: words.parse_response(t or "unknown"))
    stopped = read("stopped", lambda t: words.clean_words(t, "reason stopped", STOPPED_LIMIT))
    started = read("started", lambda t: words.parse_month(t, today))
    if kind is TreatmentKind.ANTIDEPRESSANT and dose[1] not in ("", "mg", "mcg", "g"):
        problems.append(FieldProblem("dose", f"a drug's dose is in mg, not {dose[1]}"))
    if problems:
        raise ValidationError(problems)
    return TreatmentDraft(kind, treatment, dose[0], dose[1], weeks, response, stopped or "",
                          started, not bool(raw.get("earlier_episode")))


def live_entries(session: Session, patient_id: int) -> list[PriorTreatment]:
    """The patient's entries neither removed nor superseded, oldest start first."""
    query = (
        select(PriorTreatment)
        .where(PriorTreatment.patient_id == patient_id, PriorTreatment.removed_at.is_(None))
        .order_by(PriorTreatment.started_on.is_(None), PriorTreatment.started_on,
                  PriorTreatment.id)
    )
    return list(session.scalars(query))


def add_treatment(
    session: Session, actor: Actor, patient_id: int, draft: TreatmentDraft,
    *, supersedes_id: int | None = None, now: datetime | None = None,
) -> PriorTreatment:
    """Record ``draft`` on the patient's history; audited as ``add``."""
    actor.require(Permission.CLINICAL_RECORD)
    if session.get(Patient, patient_id) is None:
        raise NotFound(f"no patient with id {patient_id}")
    entry = PriorTreatment(patient_id=patient_id, recorded_by=actor.username,
                           recorded_at=now or utcnow(), supersedes_id=supersedes_id,
                           **asdict(draft))
    session.add(entry)
    session.flush()
    audit.record(session, actor, "add", ENTITY, entry.id, after=audit.snapshot(entry))
    return entry


def remove_treatment(
    session: Session, actor: Actor, patient_id: int, entry_id: int, reason: str,
    *, now: datetime | None = None,
) -> PriorTreatment:
    """Take an entry off the history with the reason; it stays in the table, audited."""
    actor.require(Permission.CLINICAL_RECORD)
    why = _reason(reason)
    entry = _live_entry(session, patient_id, entry_id)
    before = audit.snapshot(entry)
    entry.removed_at, entry.removed_by, entry.removed_reason = now or utcnow(), actor.username, why
    session.flush()
    changed_before, changed_after = audit.changed(before, audit.snapshot(entry))
    audit.record(session, actor, "remove", ENTITY, entry.id,
                 before={**changed_before, "patient_id": patient_id},
                 after={**changed_after, "patient_id": patient_id})
    return entry


def correct_treatment(
    session: Session, actor: Actor, patient_id: int, entry_id: int, draft: TreatmentDraft,
    reason: str, *, now: datetime | None = None,
) -> PriorTreatment:
    """Replace an entry by a corrected one: the old removed ("corrected: reason"), the new
    one recorded as superseding it."""
    why = _reason(reason)
    old = remove_treatment(session, actor, patient_id, entry_id,
                           words.clean_words(f"corrected: {why}", "reason", REASON_LIMIT),
                           now=now)
    return add_treatment(session, actor, patient_id, draft, supersedes_id=old.id, now=now)


def _reason(reason: str) -> str:
    try:
        why = words.clean_words(reason, "reason", REASON_LIMIT)
    except InvalidValue as error:
        raise ValidationError.single("reason", str(error)) from None
    if not why:
        raise ValidationError.single("reason", "say why the entry is removed")
    return why


def _live_entry(session: Session, patient_id: int, entry_id: int) -> PriorTreatment:
    entry = session.get(PriorTreatment, entry_id)
    if entry is None or entry.patient_id != patient_id:
        raise NotFound(f"no treatment history entry {entry_id} for this patient")
    if entry.removed_at is not None:
        raise ValidationError.single(
            "entry", f"entry {entry_id} was already removed ({entry.removed_reason})"
        )
    return entry
