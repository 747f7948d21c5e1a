"""Insurance policies and prior authorisations on a patient."""

from __future__ import annotations

from typing import Any

import pytest
from builders import add_payer, patient_raw
from sqlalchemy import select
from sqlalchemy.orm import Session

from ketadesk.access.models import AuditEntry
from ketadesk.access.permissions import Actor, Role
from ketadesk.clinic import patients, policies
from ketadesk.clinic.models import Patient, PolicyRank, Relationship
from ketadesk.errors import PermissionDenied, StaleEdit, ValidationError


@pytest.fixture
def patient(session: Session, front_desk: Actor) -> Patient:
    return patients.create_patient(session, front_desk, patient_raw())


def policy_raw(payer_id: int, **overrides: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "payer_id": payer_id,
        "rank": "primary",
        "member_id": "w123 456 789",
        "effective_from": "2026-01-01",
    }
    raw.update(overrides)
    return raw


def test_add_primary_and_secondary(session: Session, front_desk: Actor, patient: Patient) -> None:
    aetna, cigna = add_payer(session), add_payer(session, "Cigna", edi_payer_id="62308")
    first = policies.add_policy(session, front_desk, patient.id, policy_raw(aetna.id))
    second = policies.add_policy(
        session,
        front_desk,
        patient.id,
        policy_raw(
            cigna.id,
            rank="secondary",
            relationship_to_subscriber="spouse",
            subscriber_name="Piotr Łukasiewicz",
            subscriber_dob="1980-05-05",
        ),
    )
    assert first.member_id == "W123456789"
    assert first.relationship_to_subscriber is Relationship.SELF
    assert second.rank is PolicyRank.SECONDARY
    session.refresh(patient)
    assert [p.payer.name for p in patient.policies] == ["Aetna", "Cigna"]


def test_one_active_policy_per_rank(session: Session, front_desk: Actor, patient: Patient) -> None:
    aetna = add_payer(session)
    policies.add_policy(session, front_desk, patient.id, policy_raw(aetna.id))
    with pytest.raises(ValidationError, match="already has an active primary policy"):
        policies.add_policy(session, front_desk, patient.id, policy_raw(aetna.id))


def test_ending_a_policy_frees_its_rank(
    session: Session, front_desk: Actor, patient: Patient
) -> None:
    aetna = add_payer(session)
    old = policies.add_policy(session, front_desk, patient.id, policy_raw(aetna.id))
    policies.update_policy(
        session,
        front_desk,
        old.id,
        policy_raw(aetna.id, effective_to="2026-06-30"),
        expected_version=old.version,
        active=False,
    )
    new = policies.add_policy(
        session, front_desk, patient.id, policy_raw(aetna.id, effective_from="2026-07-01")
    )
    assert new.active and not old.active


def test_dates_and_authorisation_rules(
    session: Session, front_desk: Actor, patient: Patient
) -> None:
    aetna = add_payer(session)
    raw = policy_raw(
        aetna.id,
        effective_to="2025-12-31",
        auth_from="2026-03-01",
        auth_to="2026-02-01",
        prior_auth_number="PA-778",
        member_id="",
    )
    with pytest.raises(ValidationError) as caught:
        policies.add_policy(session, front_desk, patient.id, raw)
    messages = {p.field: p.message for p in caught.value.problems}
    assert messages == {
        "member_id": "is required",
        "effective_to": "the policy ends before it starts",
        "auth_to": "the authorisation ends before it starts",
        "sessions_authorized": "say how many sessions the authorisation covers",
    }


def test_unknown_payer_is_refused(session: Session, front_desk: Actor, patient: Patient) -> None:
    with pytest.raises(ValidationError, match="payer_id: is not a payer"):
        policies.add_policy(session, front_desk, patient.id, policy_raw(9999))


def test_stale_policy_edit(session: Session, front_desk: Actor, patient: Patient) -> None:
    aetna = add_payer(session)
    policy = policies.add_policy(session, front_desk, patient.id, policy_raw(aetna.id))
    version = policy.version
    policies.update_policy(
        session,
        front_desk,
        policy.id,
        policy_raw(aetna.id, group_number="G1"),
        expected_version=version,
    )
    with pytest.raises(StaleEdit):
        policies.update_policy(
            session,
            front_desk,
            policy.id,
            policy_raw(aetna.id, group_number="G2"),
            expected_version=version,
        )
    assert policy.group_number == "G1"


def test_clinical_staff_cannot_edit_policies(session: Session, patient: Patient) -> None:
    aetna = add_payer(session)
    nurse = Actor(username="nurse", role=Role.CLINICAL)
    with pytest.raises(PermissionDenied):
        policies.add_policy(session, nurse, patient.id, policy_raw(aetna.id))


def test_policy_changes_are_audited(session: Session, front_desk: Actor, patient: Patient) -> None:
    aetna = add_payer(session)
    policy = policies.add_policy(
        session,
        front_desk,
        patient.id,
        policy_raw(
            aetna.id,
            prior_auth_number="PA-1",
            sessions_authorized="12",
            auth_from="2026-01-01",
            auth_to="2026-06-30",
        ),
    )
    assert policy.sessions_authorized == 12
    values = policies.policy_values(policy)
    policies.update_policy(
        session,
        front_desk,
        policy.id,
        {**values, "sessions_authorized": "24"},
        expected_version=policy.version,
    )
    rows = session.scalars(
        select(AuditEntry).where(AuditEntry.entity == "insurance_policy").order_by(AuditEntry.id)
    ).all()
    assert [r.action for r in rows] == ["create", "update"]
    assert rows[1].before == {"sessions_authorized": 12, "version": 1}
    assert rows[1].after == {"sessions_authorized": 24, "version": 2}
