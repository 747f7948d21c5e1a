"""Recording an intake assessment and a provider's override of a finding, and reading them.

:func:`record_intake` validates everything the provider entered (every problem at once, as
field errors) and adds a new assessment that supersedes the patient's current one; nothing
is ever edited in place. :func:`override_finding` records a provider's written reason that
an absolute finding of the current intake does not stop dosing. :func:`intake_view` is the
frozen picture the chart, the command line and the tests read (an audited "view"). Writes
need ``CLINICAL_RECORD`` (intake) or ``CLINICAL_DECIDE`` (override); every one is audited in
the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ketadesk.access import audit
from ketadesk.access.permissions import Actor, Permission
from ketadesk.clinic import validation
from ketadesk.clinic.intake.conditions import condition_keys, interactions_in, label_of
from ketadesk.clinic.intake.findings import Finding, findings_of
from ketadesk.clinic.intake.models import (
    FindingOverride,
    FindingRule,
    IntakeAnswer,
    IntakeAssessment,
    IntakeMedication,
)
from ketadesk.clinic.intake.rules import effective_rules, valid_months
from ketadesk.clinic.intake.state import IntakeState, intake_state_of
from ketadesk.clinic.models import Patient, Provider
from ketadesk.errors import Conflict, FieldProblem, InvalidValue, NotFound, ValidationError

PLAUSIBLE = {"systolic": (60, 260), "diastolic": (30, 160), "heart_rate": (20, 250)}
DETAILS_LENGTH = 200
NAME_LENGTH = 80
DOSE_LENGTH = 40
MAX_MEDICATIONS = 40
REASON_LENGTH = 2000


@dataclass(frozen=True)
class IntakeInput:
    """What the provider entered: the conditions found (key -> details), medications as
    (name, dose), and the baseline readings as typed."""

    provider_id: int
    assessed_on: date
    findings: Mapping[str, str]
    medications: Sequence[tuple[str, str]]
    systolic: int | str
    diastolic: int | str
    heart_rate: int | str
    weight: Decimal | str


@dataclass(frozen=True)
class MedicationView:
    name: str
    dose: str
    interactions: tuple[str, ...]  # interaction class labels


@dataclass(frozen=True)
class AssessmentView:
    id: int
    assessed_on: date
    provider: str
    provider_npi: str
    recorded_by: str
    systolic: int
    diastolic: int
    heart_rate: int
    weight_kg: Decimal
    answers: tuple[tuple[str, str, bool, str], ...]  # key, label, present, details
    findings: tuple[Finding, ...]
    medications: tuple[MedicationView, ...]


@dataclass(frozen=True)
class IntakeView:
    """A patient's intake as the chart shows it: the current assessment, its state, the
    earlier ones by date."""

    patient_id: int
    mrn: str
    patient_name: str
    state: IntakeState
    current: AssessmentView | None
    history: tuple[tuple[int, date, str], ...] = field(default=())  # id, day, provider


# --- Reading ----------------------------------------------------------------------------


def current_intake(session: Session, patient_id: int) -> IntakeAssessment | None:
    """The patient's latest assessment (by its date, then the latest recorded)."""
    return session.scalar(
        select(IntakeAssessment)
        .where(IntakeAssessment.patient_id == patient_id)
        .order_by(IntakeAssessment.assessed_on.desc(), IntakeAssessment.id.desc())
        .options(
            selectinload(IntakeAssessment.answers),
            selectinload(IntakeAssessment.medications),
            selectinload(IntakeAssessment.overrides).joinedload(FindingOverride.provider),
        )
        .limit(1)
    )


def intakes_in_use(session: Session) -> bool:
    """Whether the clinic has recorded any intake at all (it has taken intakes up)."""
    return session.scalar(select(IntakeAssessment.id).limit(1)) is not None


def intake_state(session: Session, patient: Patient, today: date) -> IntakeState:
    """Valid until / due in N days / expired / missing, on ``today``."""
    current = current_intake(session, patient.id)
    return intake_state_of(current.assessed_on if current else None, valid_months(session), today)


def intake_view(session: Session, actor: Actor, patient_id: int, today: date) -> IntakeView:
    """The patient's intake for the chart or the command line; the read is audited."""
    actor.require(Permission.PATIENT_VIEW)
    patient = _patient(session, patient_id)
    current = current_intake(session, patient_id)
    state = intake_state_of(current.assessed_on if current else None, valid_months(session), today)
    rows = session.execute(
        select(IntakeAssessment.id, IntakeAssessment.assessed_on, Provider)
        .join(Provider, Provider.id == IntakeAssessment.provider_id)
        .where(IntakeAssessment.patient_id == patient_id)
        .order_by(IntakeAssessment.assessed_on.desc(), IntakeAssessment.id.desc())
    ).all()
    audit.record(session, actor, "view", "intake", patient.mrn)
    return IntakeView(
        patient.id,
        patient.mrn,
        patient.display_name,
        state,
        _assessment_view(current, effective_rules(session)) if current else None,
        tuple((row_id, day, provider.display_name) for row_id, day, provider in rows),
    )


def _assessment_view(
    assessment: IntakeAssessment, rules: Mapping[str, FindingRule]
) -> AssessmentView:
    answered = {a.condition: a for a in assessment.answers}
    answers = tuple(
        (key, label_of(key), answered[key].present, answered[key].details)
        for key in condition_keys()
        if key in answered
    )
    classes = interactions_in(m.name for m in assessment.medications)
    medications = tuple(
        MedicationView(
            m.name, m.dose, tuple(label_of(k) for k, names in classes.items() if m.name in names)
        )
        for m in assessment.medications
    )
    return AssessmentView(
        assessment.id,
        assessment.assessed_on,
        assessment.provider.display_name,
        assessment.provider.npi,
        assessment.recorded_by,
        assessment.systolic,
        assessment.diastolic,
        assessment.heart_rate,
        assessment.weight_kg,
        answers,
        findings_of(assessment, rules),
        medications,
    )


# --- Recording --------------------------------------------------------------------------


def split_medication(text: str) -> tuple[str, str]:
    """``"Adderall XR 20 mg"`` -> ``("Adderall XR", "20 mg")``: the dose starts at the first
    word that starts with a digit (how a medication is typed on one line, in the window and
    on the command line). Raises :class:`ValidationError` when there is no name."""
    words = text.split()
    at = next((i for i, w in enumerate(words) if w[:1].isdigit()), len(words))
    if at == 0:
        raise ValidationError.single("medications", f"{text.strip()!r} has no medication name")
    return " ".join(words[:at]), " ".join(words[at:])


def record_intake(
    session: Session, actor: Actor, patient_id: int, data: IntakeInput, *, today: date
) -> IntakeAssessment:
    """Add a signed intake for the patient; it supersedes the current one.

    Raises :class:`ValidationError` listing every problem (unknown condition, readings out
    of range, a weight that is not one, a day in the future or before the current intake,
    an unknown provider), and :class:`NotFound` for an unknown patient.
    """
    actor.require(Permission.CLINICAL_RECORD)
    patient = _patient(session, patient_id)
    previous = current_intake(session, patient_id)
    problems = list(_input_problems(session, data, patient, previous, today))
    readings = _readings(data, problems)
    if problems:
        raise ValidationError(problems)
    assessment = IntakeAssessment(
        patient_id=patient.id,
        assessed_on=data.assessed_on,
        provider_id=data.provider_id,
        recorded_by=actor.username,
        recorded_by_user_id=actor.user_id,
        supersedes_id=previous.id if previous else None,
        **readings,
    )
    assessment.answers = [
        IntakeAnswer(
            condition=key,
            present=key in data.findings,
            details=data.findings.get(key, "").strip(),
        )
        for key in condition_keys()
    ]
    assessment.medications = [
        IntakeMedication(position=i, name=" ".join(name.split()), dose=" ".join(dose.split()))
        for i, (name, dose) in enumerate(data.medications, start=1)
    ]
    session.add(assessment)
    session.flush()
    audit.record(
        session,
        actor,
        "create",
        "intake_assessment",
        assessment.id,
        after=_audit_after(patient, assessment),
    )
    return assessment


def _audit_after(patient: Patient, assessment: IntakeAssessment) -> dict[str, object]:
    return {
        **audit.snapshot(assessment),
        "mrn": patient.mrn,
        "findings": [a.condition for a in assessment.answers if a.present],
        "medications": [f"{m.name} {m.dose}".strip() for m in assessment.medications],
    }


def _input_problems(
    session: Session,
    data: IntakeInput,
    patient: Patient,
    previous: IntakeAssessment | None,
    today: date,
) -> Iterator[FieldProblem]:
    yield from _day_problems(data.assessed_on, patient, previous, today)
    if session.get(Provider, data.provider_id) is None:
        yield FieldProblem("provider", "choose the provider who assessed the patient")
    known = set(condition_keys())
    for key, details in data.findings.items():
        if key not in known:
            yield FieldProblem(
                "findings",
                f"{key!r} is not a condition the intake asks about; expected one "
                f"of {', '.join(condition_keys())}",
            )
        elif len(details.strip()) > DETAILS_LENGTH:
            yield FieldProblem(f"details:{key}", f"is longer than {DETAILS_LENGTH} characters")
    yield from _medication_problems(data.medications)


def _day_problems(
    day: date, patient: Patient, previous: IntakeAssessment | None, today: date
) -> Iterator[FieldProblem]:
    if day > today:
        yield FieldProblem("assessed_on", f"{day:%d %b %Y} is in the future")
    elif day < patient.date_of_birth:
        yield FieldProblem("assessed_on", f"{day:%d %b %Y} is before the patient was born")
    elif previous is not None and day < previous.assessed_on:
        yield FieldProblem(
            "assessed_on",
            f"{day:%d %b %Y} is before the current intake of {previous.assessed_on:%d %b %Y}; "
            "a new intake supersedes it, so it cannot be dated earlier",
        )


def _medication_problems(medications: Sequence[tuple[str, str]]) -> Iterator[FieldProblem]:
    if len(medications) > MAX_MEDICATIONS:
        yield FieldProblem("medications", f"at most {MAX_MEDICATIONS} medications fit")
    for number, (name, dose) in enumerate(medications, start=1):
        if not name.strip():
            yield FieldProblem("medications", f"medication {number} has no name")
        elif len(name.strip()) > NAME_LENGTH:
            yield FieldProblem("medications", f"medication {number}'s name is too long")
        if len(dose.strip()) > DOSE_LENGTH:
            yield FieldProblem("medications", f"medication {number}'s dose is too long")


def _readings(data: IntakeInput, problems: list[FieldProblem]) -> dict[str, object]:
    """The vital signs and weight as stored; a problem for each that is not one."""
    readings: dict[str, object] = {}
    for name, (low, high) in PLAUSIBLE.items():
        value = _whole(getattr(data, name))
        if value is None or not low <= value <= high:
            problems.append(
                FieldProblem(
                    name,
                    f"{str(getattr(data, name)).strip()!r} is not a reading from {low} to {high}",
                )
            )
        readings[name] = value
    systolic, diastolic = readings["systolic"], readings["diastolic"]
    if isinstance(systolic, int) and isinstance(diastolic, int) and systolic <= diastolic:
        problems.append(FieldProblem("diastolic", "must be below the systolic pressure"))
    try:
        readings["weight_kg"] = validation.weight_kg(
            data.weight if isinstance(data.weight, Decimal) else str(data.weight)
        )
    except InvalidValue as error:
        problems.append(FieldProblem("weight", str(error)))
    return readings


def _whole(value: int | str) -> int | None:
    if isinstance(value, int):
        return value
    text = str(value).strip()
    return int(text) if text.isascii() and text.isdigit() else None


def override_finding(
    session: Session,
    actor: Actor,
    patient_id: int,
    key: str,
    provider_id: int,
    reason: str,
) -> FindingOverride:
    """A provider's written reason that the current intake's absolute finding ``key`` does
    not stop dosing. Refused (:class:`Conflict`) without a current intake, for a finding not
    present or not absolute, or one already overridden; the reason is required."""
    actor.require(Permission.CLINICAL_DECIDE)
    patient = _patient(session, patient_id)
    current = current_intake(session, patient_id)
    if current is None:
        raise Conflict(f"{patient.display_name} has no intake on record; record one first")
    finding = next(
        (f for f in findings_of(current, effective_rules(session)) if f.key == key), None
    )
    _check_override(finding, key, reason, session.get(Provider, provider_id))
    row = FindingOverride(
        condition=key,
        provider_id=provider_id,
        reason=reason.strip(),
        recorded_by=actor.username,
    )
    current.overrides.append(row)
    session.flush()
    audit.record(
        session,
        actor,
        "create",
        "intake_override",
        row.id,
        after={**audit.snapshot(row), "mrn": patient.mrn},
    )
    return row


def _check_override(
    finding: Finding | None, key: str, reason: str, provider: Provider | None
) -> None:
    problems = []
    if provider is None:
        problems.append(FieldProblem("provider", "choose the provider who decides"))
    if not reason.strip():
        problems.append(FieldProblem("reason", "write why dosing may go ahead"))
    elif len(reason.strip()) > REASON_LENGTH:
        problems.append(FieldProblem("reason", f"is longer than {REASON_LENGTH} characters"))
    if problems:
        raise ValidationError(problems)
    if finding is None:
        raise Conflict(f"the current intake has no finding {label_of(key).lower()!r} to override")
    if finding.rule is not FindingRule.ABSOLUTE:
        raise Conflict(
            f"{finding.label} is a {finding.rule.value} finding; only an absolute one is overridden"
        )
    if finding.override is not None:
        raise Conflict(f"{finding.label} was already overridden by {finding.override.provider}")


def _patient(session: Session, patient_id: int) -> Patient:
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise NotFound(f"no patient with id {patient_id}")
    return patient
