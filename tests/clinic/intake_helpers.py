"""Builders for intake tests: an intake recorded the way the chart records one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from sqlalchemy.orm import Session

from ketadesk.access.permissions import Actor, Role
from ketadesk.clinic.intake.assessments import IntakeInput, record_intake
from ketadesk.clinic.intake.models import IntakeAssessment
from ketadesk.clinic.models import Patient, Provider

CLINICIAN = Actor(username="dr-osei", role=Role.CLINICAL)


def intake_input(
    provider: Provider,
    on: date,
    findings: Mapping[str, str] | None = None,
    medications: Sequence[tuple[str, str]] = (),
    **readings: object,
) -> IntakeInput:
    values: dict[str, object] = {
        "systolic": 128,
        "diastolic": 82,
        "heart_rate": 72,
        "weight": "80.5",
    }
    values.update(readings)
    return IntakeInput(
        provider_id=provider.id,
        assessed_on=on,
        findings=dict(findings or {}),
        medications=list(medications),
        systolic=values["systolic"],  # type: ignore[arg-type]
        diastolic=values["diastolic"],  # type: ignore[arg-type]
        heart_rate=values["heart_rate"],  # type: ignore[arg-type]
        weight=values["weight"],  # type: ignore[arg-type]
    )


def record(
    session: Session,
    patient: Patient,
    provider: Provider,
    on: date,
    findings: Mapping[str, str] | None = None,
    medications: Sequence[tuple[str, str]] = (),
    *,
    today: date | None = None,
) -> IntakeAssessment:
    data = intake_input(provider, on, findings, medications)
    return record_intake(session, CLINICIAN, patient.id, data, today=today or on)
