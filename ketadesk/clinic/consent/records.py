"""Signing and withdrawing consents, and reading where a patient's consents stand.

:func:`record_consent` stores a signature on the version in effect on the day signed;
:func:`withdraw_consent` ends every consent for a treatment that still holds (the patient's
right to stop, or a consent recorded in error). Neither ever edits a row. The readers
(:func:`consent_states`, :func:`consents_for`) load a patient's rows in two queries and ask
:mod:`~ketadesk.clinic.consent.validity` for the answer.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ketadesk.access import audit
from ketadesk.access.permissions import Actor, Permission
from ketadesk.clinic.consent.models import ConsentKey, ConsentText, ConsentWithdrawal, SignedConsent
from ketadesk.clinic.consent.texts import all_versions, text_in_effect
from ketadesk.clinic.consent.validity import ConsentState, consent_state
from ketadesk.clinic.models import Location, Patient
from ketadesk.db import utcnow
from ketadesk.errors import Conflict, FieldProblem, NotFound, ValidationError

NAME_LENGTH = 120
RELATIONSHIP_LENGTH = 40
REASON_LENGTH = 200


def record_consent(
    session: Session,
    actor: Actor,
    patient_id: int,
    key: ConsentKey,
    *,
    signed_on: date,
    signer_name: str,
    witness_name: str,
    guardian_relationship: str = "",
    today: date,
) -> SignedConsent:
    """Record the form for ``key`` signed on ``signed_on`` by the patient, or by a guardian
    when ``guardian_relationship`` is given ("mother", "legal guardian").

    The signature is on the version in effect on ``signed_on``. Raises
    :class:`ValidationError` for a day after ``today`` (the location's), or a missing or
    too long name; :class:`NotFound` for no patient or no text in effect.
    """
    actor.require(Permission.CONSENT_TAKE)
    patient = _patient(session, patient_id)
    signer, witness = signer_name.strip(), witness_name.strip()
    relationship = guardian_relationship.strip()
    _check_signature(signed_on, signer, witness, relationship, today)
    text = text_in_effect(session, key, signed_on)
    consent = SignedConsent(
        patient_id=patient.id, key=key, text_id=text.id, text=text, signed_on=signed_on,
        signer_name=signer, guardian_relationship=relationship, witness_name=witness,
        taken_by=actor.username,
    )
    session.add(consent)
    session.flush()
    after = audit.snapshot(consent) | {"mrn": patient.mrn, "version": text.version}
    audit.record(session, actor, "create", "signed_consent", consent.id, after=after)
    return consent


def _check_signature(
    signed_on: date, signer: str, witness: str, relationship: str, today: date
) -> None:
    problems = []
    if signed_on > today:
        problems.append(
            FieldProblem("signed", f"{signed_on:%d %b %Y} is after today; record a signed form")
        )
    for field, value, length in (
        ("signer", signer, NAME_LENGTH),
        ("witness", witness, NAME_LENGTH),
        ("guardian", relationship, RELATIONSHIP_LENGTH),
    ):
        if field != "guardian" and not value:
            problems.append(FieldProblem(field, f"give the {field}'s name"))
        elif len(value) > length:
            problems.append(FieldProblem(field, f"keep it under {length} characters"))
    if problems:
        raise ValidationError(problems)


def withdraw_consent(
    session: Session,
    actor: Actor,
    patient_id: int,
    key: ConsentKey,
    *,
    withdrawn_on: date,
    reason: str = "",
    now: datetime | None = None,
) -> list[ConsentWithdrawal]:
    """End every consent for ``key`` that has not been withdrawn, from ``withdrawn_on``;
    ``now`` is when it is recorded (the clock; the demo states its own).

    Raises :class:`Conflict` when there is none to withdraw.
    """
    actor.require(Permission.CONSENT_TAKE)
    patient = _patient(session, patient_id)
    reason = reason.strip()
    if len(reason) > REASON_LENGTH:
        raise ValidationError.single("reason", f"keep the reason under {REASON_LENGTH} characters")
    standing = [c for c in _signed(session, [patient.id]) if c.key == key and c.withdrawal is None]
    if not standing:
        raise Conflict(f"{patient.mrn} has no {key.label} consent to withdraw")
    made = []
    for consent in standing:
        row = ConsentWithdrawal(
            consent=consent, withdrawn_on=withdrawn_on, reason=reason,
            withdrawn_by=actor.username, created_at=now or utcnow(),
        )
        session.add(row)
        made.append(row)
    session.flush()
    for row in made:
        after = audit.snapshot(row) | {"mrn": patient.mrn, "treatment": key.value}
        audit.record(session, actor, "create", "consent_withdrawal", row.id, after=after)
    return made


def consent_states(
    session: Session, patient_id: int, day: date, keys: Sequence[ConsentKey] = tuple(ConsentKey)
) -> list[ConsentState]:
    """Where each of the patient's consents (for ``keys``) stands on ``day``."""
    signed = _signed(session, [patient_id])
    versions = all_versions(session)
    return [consent_state(key, day, signed, versions) for key in keys]


def consents_for(
    session: Session, patient_ids: Collection[int]
) -> tuple[dict[int, list[SignedConsent]], list[ConsentText]]:
    """Many patients' signed consents by patient id, and every text version: two queries,
    for a board or a booking that asks about many patients or many days."""
    by_patient: dict[int, list[SignedConsent]] = defaultdict(list)
    for consent in _signed(session, patient_ids):
        by_patient[consent.patient_id].append(consent)
    return dict(by_patient), all_versions(session)


def patient_history(session: Session, patient_id: int) -> list[SignedConsent]:
    """Every consent the patient signed, newest first, with text and withdrawal."""
    return sorted(
        _signed(session, [patient_id]), key=lambda c: (c.signed_on, c.id), reverse=True
    )


def _signed(session: Session, patient_ids: Collection[int]) -> list[SignedConsent]:
    if not patient_ids:
        return []
    return list(
        session.scalars(
            select(SignedConsent)
            .where(SignedConsent.patient_id.in_(list(patient_ids)))
            .options(selectinload(SignedConsent.text), selectinload(SignedConsent.withdrawal))
            .order_by(SignedConsent.id)
        )
    )


def patient_today(session: Session, patient_id: int, now: datetime) -> date:
    """The patient's "today": the date of ``now`` at their home location, else at the
    first active location, else in UTC (the day a form is signed or withdrawn on)."""
    location = patient_location(session, _patient(session, patient_id))
    zone = ZoneInfo(location.time_zone) if location is not None else UTC
    return now.astimezone(zone).date()


def patient_location(session: Session, patient: Patient) -> Location | None:
    """Where the patient's consent is taken: the home location, else the first active one."""
    return patient.home_location or session.scalar(
        select(Location).where(Location.active.is_(True)).order_by(Location.id).limit(1)
    )


def _patient(session: Session, patient_id: int) -> Patient:
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise NotFound(f"no patient with id {patient_id}")
    return patient
