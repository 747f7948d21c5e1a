"""Coordination of benefits: the primary's patient share goes to the secondary payer."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from billing.claims.claims_helpers import TODAY, esketamine_visit, insured_clinic
from billing.claims.test_remittance import PAID_ON, answer
from builders import add_payer, insure
from sqlalchemy import select
from sqlalchemy.orm import Session

from ketadesk.access.permissions import Actor
from ketadesk.billing import ledger
from ketadesk.billing.claims import remittance
from ketadesk.billing.claims.actions import mark_submitted
from ketadesk.billing.claims.building import build_claims
from ketadesk.billing.claims.forms import claim_form
from ketadesk.billing.claims.models import Claim, ClaimStatus
from ketadesk.billing.edi.model import Adjustment, ClaimPayment, Remittance, ServicePayment
from ketadesk.clinic.models import PolicyRank
from ketadesk.clinic.payers import ESKETAMINE_SERVICES
from ketadesk.money import ZERO


def test_the_primarys_patient_share_becomes_a_secondary_claim(
    session: Session, admin: Actor
) -> None:
    insured = insured_clinic(session, admin)
    medigap = add_payer(
        session, "Medigap Plan F", covered_codes=ESKETAMINE_SERVICES, edi_payer_id="MGAP1"
    )
    insure(
        session,
        insured.clinic.patient.id,
        payer_id=medigap.id,
        rank=PolicyRank.SECONDARY,
        member_id="MG-555",
    )
    esketamine_visit(session, admin, insured)
    built = build_claims(session, admin, today=TODAY)
    mark_submitted(session, admin, built.claim_ids, on=TODAY, how="837P batch 1")
    primary = session.get(Claim, built.claim_ids[0])
    assert primary is not None

    remittance.post(
        session,
        admin,
        remittance.plan(session, admin, answer(primary, share=Decimal("50.00")), sha256=None),
    )

    secondary = session.scalars(select(Claim).where(Claim.primary_claim_id == primary.id)).one()
    patient = primary.patient_id
    assert (secondary.payer_id, secondary.rank) == (medigap.id, PolicyRank.SECONDARY)
    assert secondary.status is ClaimStatus.READY, secondary.problems
    assert ledger.balance(session, patient) == ZERO
    assert ledger.insurer_balance(session, patient) == Decimal("50.00")
    # the secondary bills the full charge and says what the primary paid
    first = secondary.lines[0]
    assert first.billed == primary.lines[0].billed
    form = claim_form(session, secondary)
    assert form.other_payers and form.other_payers[0].paid == primary_paid(primary)
    assert form.lines[0].earlier_payments[0].payer_edi_id == "60054"

    # the secondary pays 40 and leaves 10 coinsurance
    mark_submitted(session, admin, [secondary.id], on=TODAY, how="837P batch 2")
    remittance.post(
        session,
        admin,
        remittance.plan(session, admin, secondary_answer(secondary, first.billed), sha256=None),
    )
    assert secondary.status is ClaimStatus.PAID
    assert ledger.balance(session, patient) == Decimal("10.00")
    assert ledger.insurer_balance(session, patient) == ZERO


def primary_paid(claim: Claim) -> Decimal:
    from sqlalchemy.orm import object_session

    from ketadesk.billing.claims.models import RemitClaim

    s = object_session(claim)
    assert s is not None
    return s.scalars(select(RemitClaim.paid).where(RemitClaim.claim_id == claim.id)).one()


def secondary_answer(claim: Claim, billed: Decimal) -> Remittance:
    line = claim.lines[0]
    prior = billed - Decimal("50.00")
    svc = ServicePayment(
        line.code,
        billed,
        Decimal("40.00"),
        Decimal(line.units),
        (Adjustment("OA", "23", prior), Adjustment("PR", "2", Decimal("10.00"))),
        line_id=str(line.id),
    )
    payment = ClaimPayment(
        claim.number,
        "2",
        billed,
        Decimal("40.00"),
        Decimal("10.00"),
        payer_claim_number="MG-ICN-1",
        services=(svc,),
    )
    return Remittance(
        "MEDIGAP",
        "MGAP1",
        "NYC",
        "1234567893",
        Decimal("40.00"),
        "CHK",
        date(2026, 12, 28),
        "CHK-42",
        (payment,),
    )


__all__ = ["PAID_ON"]
