"""The follow-up worklist: unsent claims count down, silence is chased, denials explained."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from billing.claims.claims_helpers import TODAY, esketamine_visit, insured_clinic
from billing.claims.test_remittance import answer, sent_claim
from sqlalchemy.orm import Session

from ketadesk.access.permissions import Actor
from ketadesk.billing.claims import remittance
from ketadesk.billing.claims.building import build_claims
from ketadesk.billing.claims.followup import NO_ANSWER_DAYS, worklist
from ketadesk.money import ZERO


def test_an_unsent_claim_counts_down_to_its_filing_deadline(session: Session, admin: Actor) -> None:
    insured = insured_clinic(session, admin, timely_filing_days=90)
    esketamine_visit(session, admin, insured, "2026-12-01 09:00")
    build_claims(session, admin, today=TODAY)
    [item] = worklist(session, admin, today=TODAY)
    assert item.kind == "unsent" and item.words == "Ready: send it."
    assert item.due is not None and item.due.isoformat() == "2027-03-01"
    assert item.days_left == (item.due - TODAY).days


def test_a_sent_claim_is_chased_only_after_a_month_of_silence(
    session: Session, admin: Actor
) -> None:
    sent_claim(session, admin)
    assert worklist(session, admin, today=TODAY + timedelta(days=NO_ANSWER_DAYS - 1)) == []
    [item] = worklist(session, admin, today=TODAY + timedelta(days=NO_ANSWER_DAYS))
    assert item.kind == "no answer" and "no answer after 30 days" in item.words


def test_a_denial_says_why_and_counts_down_to_the_appeal_deadline(
    session: Session, admin: Actor
) -> None:
    claim = sent_claim(session, admin)
    remit = answer(claim, share=ZERO, denied_code=claim.lines[-1].code)
    remittance.post(session, admin, remittance.plan(session, admin, remit, sha256=None))
    [item] = worklist(session, admin, today=TODAY)
    assert item.kind == "denied" and item.due == claim.appeal_deadline
    assert "CO-50" in item.words and item.amount == claim.billed
    assert Decimal(item.days_left or 0) > 0


def test_an_accepted_claim_is_still_chased_when_the_payer_stays_silent(
    session: Session, admin: Actor
) -> None:
    import pytest

    from ketadesk.billing.claims.actions import record_acceptance
    from ketadesk.billing.claims.models import ClaimStatus
    from ketadesk.errors import Conflict

    claim = sent_claim(session, admin)
    record_acceptance(session, admin, claim.id, "277CA accepted")
    assert claim.status is ClaimStatus.ACCEPTED
    assert claim.events[-1].reason == "277CA accepted"
    with pytest.raises(Conflict, match="only a sent claim"):
        record_acceptance(session, admin, claim.id, "again")
    [item] = worklist(session, admin, today=TODAY + timedelta(days=NO_ANSWER_DAYS))
    assert item.kind == "no answer"
