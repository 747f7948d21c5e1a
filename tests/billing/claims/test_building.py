"""Routing covered charges to an insurer, and building claims from them."""

from __future__ import annotations

from billing.claims.claims_helpers import TODAY, esketamine_visit, insured_clinic
from sqlalchemy import select
from sqlalchemy.orm import Session

from ketadesk.access.permissions import Actor
from ketadesk.billing import ledger
from ketadesk.billing.claims.building import build_claims
from ketadesk.billing.claims.models import Claim, ClaimEvent, ClaimStatus
from ketadesk.money import ZERO


def test_a_covered_charge_is_posted_on_the_insurers_side(session: Session, admin: Actor) -> None:
    insured = insured_clinic(session, admin)
    entries = esketamine_visit(session, admin, insured)
    assert entries and all(e.payer_id == insured.payer.id for e in entries)
    patient = insured.clinic.patient.id
    assert ledger.balance(session, patient) == ZERO
    assert ledger.insurer_balance(session, patient) == sum(e.amount for e in entries)


def test_a_payer_that_covers_nothing_leaves_the_charge_with_the_patient(
    session: Session, admin: Actor
) -> None:
    insured = insured_clinic(session, admin, covered_codes="")
    entries = esketamine_visit(session, admin, insured)
    assert all(e.payer_id is None for e in entries)
    assert ledger.insurer_balance(session, insured.clinic.patient.id) == ZERO


def test_one_claim_per_patient_payer_and_day_with_a_line_per_charge(
    session: Session, admin: Actor
) -> None:
    insured = insured_clinic(session, admin)
    first = esketamine_visit(session, admin, insured, "2026-12-01 09:00")
    esketamine_visit(session, admin, insured, "2026-12-04 09:00")

    result = build_claims(session, admin, today=TODAY)

    claims = session.scalars(select(Claim).order_by(Claim.service_from)).all()
    assert [c.service_from.isoformat() for c in claims] == ["2026-12-01", "2026-12-04"]
    assert len(result.claim_ids) == 2
    claim = claims[0]
    assert [line.entry_id for line in claim.lines] == [e.id for e in first]
    assert claim.billed == sum(e.amount for e in first)
    assert claim.number.startswith("CL-2026-") and len(claim.number) <= 14
    assert claim.prior_auth_number == "PA-77812"
    assert claim.diagnosis_codes == ("F33.2", "F43.10")
    events = session.scalars(select(ClaimEvent).where(ClaimEvent.claim_id == claim.id)).all()
    assert events[0].to_status is ClaimStatus.DRAFT
    # a second build finds nothing left to claim
    assert build_claims(session, admin, today=TODAY).claim_ids == ()


def test_a_clean_claim_is_ready_and_one_with_problems_stays_a_draft(
    session: Session, admin: Actor
) -> None:
    insured = insured_clinic(session, admin)
    esketamine_visit(session, admin, insured)
    result = build_claims(session, admin, today=TODAY)
    claim = session.get(Claim, result.claim_ids[0])
    assert claim is not None
    assert (claim.status, claim.problems) == (ClaimStatus.READY, ""), claim.problems

    insured.policy.member_id = ""
    esketamine_visit(session, admin, insured, "2026-12-04 09:00")
    later = build_claims(session, admin, today=TODAY)
    draft = session.get(Claim, later.claim_ids[0])
    assert draft is not None and draft.status is ClaimStatus.DRAFT
    assert "member id" in draft.problems


def test_the_account_and_statement_show_what_insurers_owe_apart(
    session: Session, admin: Actor
) -> None:
    from datetime import date

    from ketadesk.billing.account import account_summary, statement_view

    insured = insured_clinic(session, admin)
    entries = esketamine_visit(session, admin, insured)
    billed = sum(e.amount for e in entries)
    patient = insured.clinic.patient.id
    summary = account_summary(session, admin, patient, year=2026)
    assert (summary.balance, summary.charged_total, summary.insurers_owe) == (ZERO, ZERO, billed)
    view = statement_view(session, admin, patient, on=date(2026, 12, 31))
    assert (view.closing_balance, view.lines, view.insurance_pending) == (ZERO, (), billed)


def test_a_build_reports_its_progress_claim_by_claim(session: Session, admin: Actor) -> None:
    insured = insured_clinic(session, admin)
    esketamine_visit(session, admin, insured, "2026-12-01 09:00")
    esketamine_visit(session, admin, insured, "2026-12-04 09:00")
    heard: list[tuple[str, int, int]] = []

    build_claims(session, admin, today=TODAY, progress=lambda *step: heard.append(step))

    assert heard == [("building claims", 1, 2), ("building claims", 2, 2)]
