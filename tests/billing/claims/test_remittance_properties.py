"""Property: whatever an 835 says about a claim, posting it keeps the books straight.

For any answer to a sent claim (each line paid, written down under a contract, left to the
patient as deductible or coinsurance, or denied, in any proportions that add up to what it
billed): paid + adjusted + patient share + still open = billed, to the cent; the patient's
side holds exactly the shares; the payer's side exactly what was denied; and importing the
same file again changes nothing.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from billing.claims.claims_helpers import TODAY, esketamine_visit, insured_clinic
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ketadesk.access.permissions import Actor, Role
from ketadesk.billing import ledger
from ketadesk.billing.claims import remittance
from ketadesk.billing.claims.actions import mark_submitted
from ketadesk.billing.claims.building import build_claims
from ketadesk.billing.claims.models import Claim
from ketadesk.billing.claims.views import claim_money
from ketadesk.billing.edi.model import Adjustment, ClaimPayment, Remittance, ServicePayment
from ketadesk.billing.models import LedgerEntry
from ketadesk.db import Database
from ketadesk.money import ZERO, from_cents, to_cents

ADMIN = Actor(username="test-admin", role=Role.ADMIN)
PAID_ON = date(2026, 12, 20)


@pytest.fixture
def sent(sqlite_db: Database) -> tuple[Database, int]:
    """One sent esketamine claim, committed; each example posts on top and rolls back."""
    with sqlite_db.transaction() as s:
        insured = insured_clinic(s, ADMIN)
        esketamine_visit(s, ADMIN, insured)
        built = build_claims(s, ADMIN, today=TODAY)
        mark_submitted(s, ADMIN, built.claim_ids, on=TODAY, how="837P batch 1")
        claim_id = built.claim_ids[0]
    return sqlite_db, claim_id


# How one line's billed cents split: denied in full, or four cut points making
# paid / contractual (CO-45) / deductible (PR-1) / coinsurance (PR-2).
line_answer = st.one_of(
    st.just("denied"),
    st.lists(st.floats(min_value=0, max_value=1, allow_nan=False), min_size=3, max_size=3),
)


def _service(line_id: int, code: str, billed: Decimal, units: int, how: object) -> ServicePayment:
    if how == "denied":
        return ServicePayment(
            code, billed, ZERO, Decimal(units), (Adjustment("CO", "50", billed),),
            line_id=str(line_id),
        )  # fmt: skip
    assert isinstance(how, list)
    cents = to_cents(billed)
    cuts = sorted(int(cents * f) for f in how)
    parts = [cuts[0], cuts[1] - cuts[0], cuts[2] - cuts[1], cents - cuts[2]]
    paid, contractual, deductible, coinsurance = (from_cents(p) for p in parts)
    groups = (("CO", "45", contractual), ("PR", "1", deductible), ("PR", "2", coinsurance))
    adjustments = tuple(Adjustment(g, r, a) for g, r, a in groups if a > ZERO)
    return ServicePayment(code, billed, paid, Decimal(units), adjustments, line_id=str(line_id))


def _remittance(claim: Claim, answers: list[object]) -> Remittance:
    services = tuple(
        _service(line.id, line.code, line.billed, line.units, how)
        for line, how in zip(claim.lines, answers, strict=False)
    )
    paid = sum((s.paid for s in services), ZERO)
    share = sum((a.amount for s in services for a in s.adjustments if a.group == "PR"), ZERO)
    status = "4" if paid == ZERO and share == ZERO else "1"
    payment = ClaimPayment(claim.number, status, claim.billed, paid, share, services=services)
    return Remittance("AETNA", "60054", "NYC", "1234567893", paid, "ACH", PAID_ON, "EFT-1",
                      (payment,))  # fmt: skip


def _entries(s: Session) -> int:
    return s.scalar(select(func.count()).select_from(LedgerEntry)) or 0


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(answers=st.lists(line_answer, min_size=8, max_size=8))
def test_any_answer_keeps_the_books_straight(
    sent: tuple[Database, int], answers: list[object]
) -> None:
    db, claim_id = sent
    with db.reading() as s:
        claim = s.get(Claim, claim_id)
        assert claim is not None
        remit = _remittance(claim, answers)
        preview = remittance.plan(s, ADMIN, remit, sha256="f" * 64)
        assert not preview.waiting, preview.claims[0].problems
        remittance.post(s, ADMIN, preview)

        plan = preview.claims[0]
        held = plan.total("held")
        share = plan.total("patient_share")
        money = claim_money(s, claim)
        assert money.paid + money.adjusted + money.to_patient + money.open == claim.billed
        assert (money.paid, money.to_patient, money.open) == (remit.total_paid, share, held)
        assert ledger.balance(s, claim.patient_id) == share
        assert ledger.insurer_balance(s, claim.patient_id) == held

        before = _entries(s)
        again = remittance.plan(s, ADMIN, remit, sha256="f" * 64)
        assert remittance.post(s, ADMIN, again).already_imported
        assert _entries(s) == before
