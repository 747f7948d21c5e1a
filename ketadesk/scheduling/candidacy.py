"""Candidacy at booking, at the chair and on the board: what the intake means for a dose.

The intake (:mod:`ketadesk.clinic.intake`) records findings; this module decides what they
do, by the clinic's screening rules:

* at **booking** (:func:`booking_warnings`, called by the gates) every finding not ignored
  is a warning ``intake:<key>`` to acknowledge; an absolute one says dosing will be refused
  unless a provider overrides it (an overridden one no longer warns). A missing intake is
  ``intake:missing``, an expired one ``intake:expired``, and one that runs out before the
  last planned session ``intake:expires``.
* at the **pre-dose checklist** (:func:`checklist_checks`, called by
  :func:`ketadesk.scheduling.floor.run_checklist`) an absolute finding without an override
  fails the checklist, so dosing is refused with the reason; each relative finding must be
  acknowledged one by one (:func:`to_acknowledge` lists them; the checklist is told which
  were), or the checklist fails naming those that were not. The intake's state on the
  session's day follows the rules ``intake_missing`` (relative by default: acknowledged
  like a finding) and ``intake_expired`` (absolute by default: an expired intake stops
  dosing until a provider records a new one).
* on the **board** (:func:`board_intake`) one short line per patient.

A clinic that has not recorded a single intake yet has not taken intakes up: there a
missing intake is ignored whatever the rule says, so a clinic (or a database from before
intakes) is not asked to acknowledge "no intake" on every booking. From its first intake on,
``intake_missing`` applies to everyone.

The older ``Patient.screening_flags`` are the record only while a patient has no intake:
without one, the flags still warn at booking (``screening:<flag>``) beside
``intake:missing``; once an intake is recorded, its findings are the record and the flags
are no longer read here.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ketadesk.clinic.intake.assessments import current_intake, intakes_in_use
from ketadesk.clinic.intake.findings import Finding, findings_of
from ketadesk.clinic.intake.models import FindingOverride, FindingRule, IntakeAssessment
from ketadesk.clinic.intake.rules import effective_rules, valid_months
from ketadesk.clinic.intake.state import IntakeState, IntakeStatus, intake_state_of
from ketadesk.clinic.models import Patient
from ketadesk.scheduling.proposals import PlanWarning

_STATE_RULE = {IntakeStatus.MISSING: "intake_missing", IntakeStatus.EXPIRED: "intake_expired"}


@dataclass(frozen=True)
class Candidacy:
    """A patient's intake read on one day: its state, findings, and the state's rule."""

    state: IntakeState
    findings: tuple[Finding, ...]
    state_rule: FindingRule | None  # the rule for a missing or expired intake, else None
    provider: str = ""

    @property
    def blocking(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.blocks)

    @property
    def state_blocks(self) -> bool:
        return self.state_rule is FindingRule.ABSOLUTE

    @property
    def dosing_allowed(self) -> bool:
        return not self.blocking and not self.state_blocks


@dataclass(frozen=True)
class CandidacyCheck:
    """One line the pre-dose checklist adds (floor turns it into a ``ChecklistItem``)."""

    key: str
    label: str
    passed: bool
    detail: str


@dataclass(frozen=True)
class BoardIntake:
    """What the Today card says: ``level`` is "ok", "due", "warn" or "stop"."""

    text: str
    level: str


def read_candidacy(
    assessment: IntakeAssessment | None,
    rules: dict[str, FindingRule],
    months: int,
    day: date,
    *,
    in_use: bool = True,
    provider: str = "",
) -> Candidacy:
    """``in_use``: whether the clinic records intakes at all (see :func:`intakes_in_use`);
    ``provider``: who signed the assessment, for the checklist's words."""
    state = intake_state_of(assessment.assessed_on if assessment else None, months, day)
    key = _STATE_RULE.get(state.status)
    state_rule = rules[key] if key else None
    if state.status is IntakeStatus.MISSING and not in_use:
        state_rule = FindingRule.IGNORE
    findings = findings_of(assessment, rules) if assessment else ()
    return Candidacy(state, findings, state_rule, provider)


def candidacy_on(session: Session, patient: Patient, day: date) -> Candidacy:
    """The patient's current intake read against the clinic's rules on ``day``."""
    assessment = current_intake(session, patient.id)
    rules, months = effective_rules(session), valid_months(session)
    in_use = assessment is not None or intakes_in_use(session)
    provider = assessment.provider.display_name if assessment else ""
    return read_candidacy(assessment, rules, months, day, in_use=in_use, provider=provider)


# --- Booking ------------------------------------------------------------------------------


def booking_warnings(
    session: Session,
    patient: Patient,
    today: date,
    days: Sequence[date],
    flag_warnings: Sequence[PlanWarning],
) -> list[PlanWarning]:
    """The intake's warnings for booking sessions on ``days``; ``flag_warnings`` (the
    screening flags') count only while the patient has no intake."""
    candidacy = candidacy_on(session, patient, today)
    name = f"{patient.given_name} {patient.family_name}"
    warnings = _state_warnings(candidacy, name, days)
    if candidacy.state.status is IntakeStatus.MISSING:
        return [*warnings, *flag_warnings]
    warnings.extend(_finding_warning(f) for f in candidacy.findings if f.override is None)
    return warnings


def _state_warnings(candidacy: Candidacy, name: str, days: Sequence[date]) -> list[PlanWarning]:
    state, rule = candidacy.state, candidacy.state_rule
    absolute = rule is FindingRule.ABSOLUTE
    if state.status is IntakeStatus.MISSING and rule is not FindingRule.IGNORE:
        tail = " Dosing will be refused until a provider records one." if absolute else ""
        return [
            PlanWarning(
                "intake:missing",
                f"{name} has no intake assessment on record; a provider assesses the patient "
                f"before the first dose.{tail}",
            )
        ]
    if state.status is IntakeStatus.EXPIRED and rule is not FindingRule.IGNORE:
        tail = " Dosing will be refused until a provider records a new intake." if absolute else ""
        return [
            PlanWarning(
                "intake:expired",
                f"{name}'s intake expired on {state.expires_on:%d %b %Y}; a new one is due.{tail}",
            )
        ]
    late = [d for d in days if state.expires_on is not None and d >= state.expires_on]
    if late and state.usable:
        return [
            PlanWarning(
                "intake:expires",
                f"{name}'s intake expires on {state.expires_on:%d %b %Y}, before {len(late)} "
                "of the planned session(s); record a new intake before then.",
            )
        ]
    return []


def _finding_warning(finding: Finding) -> PlanWarning:
    details = f" ({finding.details})" if finding.details else ""
    if finding.rule is FindingRule.ABSOLUTE:
        tail = (
            "an absolute finding: dosing will be refused unless a provider overrides it with "
            "a written reason."
        )
    else:
        tail = "confirm with the provider that the series may go ahead."
    return PlanWarning(finding.code, f"Intake: {finding.label}{details} — {tail}")


# --- The pre-dose checklist --------------------------------------------------------------


@dataclass(frozen=True)
class ToAcknowledge:
    """One thing the nurse confirms, one by one, before a dose: ``key`` is what the
    checklist is told (a finding's warning code, ``intake:missing`` or ``intake:expired``),
    ``words`` what the box says."""

    key: str
    words: str


def to_acknowledge(session: Session, patient: Patient, day: date) -> tuple[ToAcknowledge, ...]:
    """What must be acknowledged before a dose on ``day``: each relative finding, and a
    missing or expired intake whose rule is relative."""
    return _to_acknowledge(candidacy_on(session, patient, day))


def _to_acknowledge(candidacy: Candidacy) -> tuple[ToAcknowledge, ...]:
    found = []
    state, rule = candidacy.state, candidacy.state_rule
    if rule is FindingRule.RELATIVE and state.status in _STATE_RULE:
        found.append(ToAcknowledge(f"intake:{state.status.value}", state.text))
    found += [ToAcknowledge(f.code, _named(f)) for f in candidacy.findings
              if f.rule is FindingRule.RELATIVE]
    return tuple(found)


def checklist_checks(
    session: Session, patient: Patient, day: date, acknowledged: Collection[str] = ()
) -> tuple[CandidacyCheck, ...]:
    """The checklist's intake lines for a dose on ``day``: the intake's state, and its
    findings when there are any. A relative finding (or a missing intake whose rule is
    relative) passes only when its key from :func:`to_acknowledge` is in ``acknowledged``."""
    candidacy = candidacy_on(session, patient, day)
    ignored = candidacy.state_rule is FindingRule.IGNORE
    checks = (
        []
        if ignored and candidacy.state.status is IntakeStatus.MISSING
        else [_state_check(candidacy, acknowledged)]
    )
    if candidacy.findings:
        checks.append(_findings_check(candidacy.findings, acknowledged))
    return tuple(checks)


def _state_check(candidacy: Candidacy, acknowledged: Collection[str]) -> CandidacyCheck:
    state, rule = candidacy.state, candidacy.state_rule
    label = "Intake assessment"
    if rule is None:
        signed = f", signed by {candidacy.provider}" if candidacy.provider else ""
        return CandidacyCheck("intake", label, True, f"{state.text}{signed}")
    if rule is FindingRule.ABSOLUTE:
        return CandidacyCheck(
            "intake",
            label,
            False,
            f"{state.text}; dosing is refused until a provider records a new intake",
        )
    if rule is FindingRule.RELATIVE:
        seen = f"intake:{state.status.value}" in acknowledged
        note = " — acknowledged" if seen else " — not acknowledged; confirm it before dosing"
        return CandidacyCheck("intake", label, seen, f"{state.text}{note}")
    return CandidacyCheck("intake", label, True, state.text)


def _findings_check(findings: Sequence[Finding], acknowledged: Collection[str]) -> CandidacyCheck:
    parts = []
    refused = [f for f in findings if f.blocks]
    if refused:
        parts.append(
            "Refused: "
            + "; ".join(_named(f) for f in refused)
            + " (absolute; a provider overrides with a written reason)"
        )
    for finding in findings:
        if finding.override is not None:
            parts.append(
                f"Overridden: {finding.label} by {finding.override.provider} — "
                f"{finding.override.reason}"
            )
    relative = [f for f in findings if f.rule is FindingRule.RELATIVE]
    unseen = [f for f in relative if f.code not in acknowledged]
    if unseen:
        parts.append("Not acknowledged: " + "; ".join(_named(f) for f in unseen)
                     + " (confirm each with the patient and the provider before dosing)")
    seen = [f for f in relative if f.code in acknowledged]
    if seen:
        parts.append("Acknowledged: " + "; ".join(_named(f) for f in seen))
    passed = not refused and not unseen
    return CandidacyCheck("intake_findings", "Intake findings", passed, ". ".join(parts))


def _named(finding: Finding) -> str:
    return finding.label + (f" ({finding.details})" if finding.details else "")


# --- The board ----------------------------------------------------------------------------


def board_intake(
    session: Session, patient_ids: Collection[int], today: date
) -> dict[int, BoardIntake]:
    """One line for each patient's card on ``today``: six queries at most for the whole day
    (the assessments, their answers, medications and overrides, the rules, the period)."""
    if not patient_ids:
        return {}
    latest: dict[int, IntakeAssessment] = {}
    rows = session.scalars(
        select(IntakeAssessment)
        .where(IntakeAssessment.patient_id.in_(patient_ids))
        .order_by(IntakeAssessment.assessed_on, IntakeAssessment.id)
        .options(
            selectinload(IntakeAssessment.answers),
            selectinload(IntakeAssessment.medications),
            selectinload(IntakeAssessment.overrides).joinedload(FindingOverride.provider),
        )
    )
    for row in rows:
        latest[row.patient_id] = row
    rules, months = effective_rules(session), valid_months(session)
    in_use = bool(latest) or intakes_in_use(session)
    return {
        pid: _board_line(read_candidacy(latest.get(pid), rules, months, today, in_use=in_use))
        for pid in patient_ids
    }


def _board_line(candidacy: Candidacy) -> BoardIntake:
    state = candidacy.state
    if candidacy.blocking:
        names = ", ".join(f.label for f in candidacy.blocking)
        return BoardIntake(f"Absolute finding: {names} — provider override needed", "stop")
    if candidacy.state_blocks:
        return BoardIntake(state.text, "stop")
    if state.status is IntakeStatus.DUE:
        return BoardIntake(state.text, "due")
    if state.status in (IntakeStatus.MISSING, IntakeStatus.EXPIRED):
        return BoardIntake(state.text, "warn")
    overridden = [f.label for f in candidacy.findings if f.override is not None]
    if overridden:
        return BoardIntake(f"Overridden by provider: {', '.join(overridden)}", "ok")
    return BoardIntake(state.text, "ok")
