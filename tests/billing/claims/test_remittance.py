"""Posting an 835 (as frozen values) to claims and the ledger."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from billing.claims.claims_helpers import TODAY, esketamine_visit, insured_clinic
from sqlalchemy import select
from sqlalchemy.orm import Session

from ketadesk.access.permissions import Actor
from ketadesk.billing import ledger
from ketadesk.billing.claims import remittance
from ketadesk.billing.claims.actions import mark_submitted
from ketadesk.billing.claims.building import build_claims
from ketadesk.billing.claims.models import Claim, ClaimStatus, RemitClaim
from ketadesk.billing.claims.views import claim_detail
from ketadesk.billing.edi.model import Adjustment, ClaimPayment, Remittance, ServicePayment
from ketadesk.money import ZERO

PAID_ON = date(2026, 12, 20)


def sent_claim(session: Session, actor: Actor) -> Claim:
    insured = insured_clinic(session, actor)
    esketamine_visit(session, actor, insured)
    built = build_claims(session, actor, today=TODAY)
    mark_submitted(session, actor, built.claim_ids, on=TODAY, how="837P batch 1")
    claim = session.get(Claim, built.claim_ids[0])
    assert claim is not None
    return claim


def answer(claim: Claim, *, share: Decimal, denied_code: str = "") -> Remittance:
    """Each line paid 60%, 30% contractual, the first line carrying ``share`` deductible;
    the line coded ``denied_code`` denied in full (CO-50)."""
    services = []
    for i, line in enumerate(claim.lines):
        if line.code == denied_code:
            services.append(
                ServicePayment(
                    line.code,
                    line.billed,
                    ZERO,
                    Decimal(line.units),
                    (Adjustment("CO", "50", line.billed),),
                    ("N180",),
                    line_id=str(line.id),
                )
            )
            continue
        contractual = (line.billed * Decimal("0.30")).quantize(Decimal("0.01"))
        patient = share if i == 0 else ZERO
        paid = line.billed - contractual - patient
        adjustments = [Adjustment("CO", "45", contractual)]
        if patient:
            adjustments.append(Adjustment("PR", "1", patient))
        services.append(
            ServicePayment(
                line.code,
                line.billed,
                paid,
                Decimal(line.units),
                tuple(adjustments),
                line_id=str(line.id),
            )
        )
    paid = sum((s.paid for s in services), ZERO)
    status = "4" if paid == ZERO else "1"
    payment = ClaimPayment(
        claim.number,
        status,
        claim.billed,
        paid,
        share,
        payer_claim_number="ICN-2026-77",
        services=tuple(services),
    )
    return Remittance(
        "AETNA", "60054", "NYC", "1234567893", paid, "ACH", PAID_ON, "EFT-9001", (payment,)
    )


def test_a_paid_claim_moves_the_patients_share_to_their_side(
    session: Session, admin: Actor
) -> None:
    claim = sent_claim(session, admin)
    remit = answer(claim, share=Decimal("50.00"))
    preview = remittance.plan(session, admin, remit, sha256="a" * 64)
    assert preview.posts == remit.total_paid and not preview.waiting

    result = remittance.post(session, admin, preview, file_name="aetna.835")

    assert (result.posted_claims, result.waiting_claims) == (1, 0)
    assert claim.status is ClaimStatus.PAID
    assert claim.payer_claim_number == "ICN-2026-77"
    assert ledger.balance(session, claim.patient_id) == Decimal("50.00")
    assert ledger.insurer_balance(session, claim.patient_id) == ZERO
    money = claim_detail(session, admin, claim.id).money
    assert money.paid + money.adjusted + money.to_patient == claim.billed
    assert money.open == ZERO


def test_importing_the_same_file_twice_posts_nothing_twice(session: Session, admin: Actor) -> None:
    claim = sent_claim(session, admin)
    remit = answer(claim, share=Decimal("20.00"))
    remittance.post(session, admin, remittance.plan(session, admin, remit, sha256="b" * 64))
    again = remittance.plan(session, admin, remit, sha256="b" * 64)
    assert again.already_imported
    assert remittance.post(session, admin, again).already_imported
    assert ledger.balance(session, claim.patient_id) == Decimal("20.00")


def test_a_denied_line_stays_open_on_the_payers_side_with_its_reason(
    session: Session, admin: Actor
) -> None:
    claim = sent_claim(session, admin)
    denied = claim.lines[-1]
    remittance.post(
        session,
        admin,
        remittance.plan(
            session, admin, answer(claim, share=ZERO, denied_code=denied.code), sha256=None
        ),
    )
    assert claim.status in (ClaimStatus.PARTLY_PAID, ClaimStatus.DENIED)
    assert claim.appeal_deadline is not None and claim.appeal_deadline > PAID_ON
    assert ledger.insurer_balance(session, claim.patient_id) == denied.billed
    detail = claim_detail(session, admin, claim.id)
    assert any(
        "CO-50" in words for r in detail.remits for line in r.lines for words in line.adjustments
    )
    assert "CO-50" in detail.history[-1].reason


def test_a_payment_for_an_unknown_claim_waits_in_the_worklist(
    session: Session, admin: Actor
) -> None:
    claim = sent_claim(session, admin)
    remit = answer(claim, share=ZERO)
    stray = ClaimPayment("CL-1999-00001", "1", Decimal("10.00"), Decimal("10.00"), ZERO)
    remit = Remittance(
        remit.payer_name,
        remit.payer_id,
        remit.payee_name,
        remit.payee_npi,
        remit.total_paid + Decimal("10.00"),
        "ACH",
        PAID_ON,
        "EFT-9002",
        (*remit.claims, stray),
    )
    result = remittance.post(session, admin, remittance.plan(session, admin, remit, sha256=None))
    assert (result.posted_claims, result.waiting_claims) == (1, 1)
    waiting = session.scalars(select(RemitClaim).where(RemitClaim.posted.is_(False))).all()
    assert [w.claim_number for w in waiting] == ["CL-1999-00001"]


def test_a_file_whose_total_is_not_its_claims_is_refused_whole(
    session: Session, admin: Actor
) -> None:
    claim = sent_claim(session, admin)
    remit = answer(claim, share=ZERO)
    wrong = Remittance(
        remit.payer_name,
        remit.payer_id,
        remit.payee_name,
        remit.payee_npi,
        remit.total_paid + Decimal("1.00"),
        "ACH",
        PAID_ON,
        "EFT-1",
        remit.claims,
    )
    preview = remittance.plan(session, admin, wrong, sha256=None)
    assert preview.problems
    import pytest

    from ketadesk.errors import InvalidValue

    with pytest.raises(InvalidValue, match="claims add up to"):
        remittance.post(session, admin, preview)
    assert claim.status is ClaimStatus.SUBMITTED
