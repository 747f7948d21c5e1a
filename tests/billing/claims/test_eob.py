"""A paper EOB typed in for one claim: checked field by field, then posted by the 835 rules.

The claim is the insured esketamine visit of :func:`sent_claim`: four lines, 99213 $225.00,
99415 $130.00, 99416 $65.00 and J0013 $2,100.00 ($2,520.00), sent on 12/07/2026.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from billing.claims.claims_helpers import esketamine_visit, insured_clinic
from billing.claims.test_remittance import sent_claim
from sqlalchemy import select
from sqlalchemy.orm import Session

from ketadesk.access.permissions import Actor, Role
from ketadesk.billing import ledger
from ketadesk.billing.claims import remittance
from ketadesk.billing.claims.building import build_claims
from ketadesk.billing.claims.eob import (
    EobForm,
    EobLine,
    eob_plan,
    eob_remittance,
    eob_sheet,
    left_to_account,
)
from ketadesk.billing.claims.models import Claim, ClaimStatus, Remit, RemitSource
from ketadesk.billing.claims.views import claim_detail
from ketadesk.billing.models import EntryKind, LedgerEntry, PaymentMethod
from ketadesk.errors import PermissionDenied, ValidationError
from ketadesk.money import ZERO

TODAY = date(2026, 12, 21)
PAID_ON = "12/18/2026"

# Every line paid, written down by contract, and the patient's share: copay on the visit,
# deductible and coinsurance on the drug. The patient owes $50 + $100 + $100.
PAID_IN_FULL = (
    EobLine(1, paid="140.00", contractual="35.00", copay="50"),
    EobLine(2, paid="100", contractual="30.00"),
    EobLine(3, paid="50.00", contractual="15.00"),
    EobLine(4, paid="$1,500.00", contractual="400", deductible="100.00", coinsurance="100.00"),
)


def eob(*lines: EobLine, paid_on: str = PAID_ON, check: str = "104577") -> EobForm:
    return EobForm(paid_on, check, lines or PAID_IN_FULL, payer_claim_number="AET-55012")


def denied_in_full(claim: Claim, reason: str = "50") -> EobForm:
    return eob(
        *(
            EobLine(line.position, denied=str(line.billed), denial_reason=reason)
            for line in claim.lines
        ),
        check="",
    )


def problems_of(session: Session, actor: Actor, claim: Claim, form: EobForm) -> dict[str, str]:
    with pytest.raises(ValidationError) as refused:
        eob_remittance(session, actor, claim.id, form, today=TODAY)
    return {p.field: p.message for p in refused.value.problems}


def post_eob(session: Session, actor: Actor, claim: Claim, form: EobForm) -> str:
    plan = eob_plan(session, actor, claim.id, form, today=TODAY)
    return remittance.post(session, actor, plan).sentence


def entries(session: Session, claim: Claim, kind: EntryKind) -> list[LedgerEntry]:
    query = select(LedgerEntry).where(LedgerEntry.claim_id == claim.id, LedgerEntry.kind == kind)
    return list(session.scalars(query.order_by(LedgerEntry.id)))


# --- posting -----------------------------------------------------------------------------


def test_a_posted_eob_balances_the_claim_and_moves_the_patients_share(
    session: Session, admin: Actor
) -> None:
    claim = sent_claim(session, admin)

    sentence = post_eob(session, admin, claim, eob())

    assert sentence.startswith("Posted 1 claim payment ($1,790.00 from the payer, $250.00")
    assert claim.status is ClaimStatus.PAID
    assert claim.payer_claim_number == "AET-55012"
    assert claim.adjudicated_on == date(2026, 12, 18)
    assert ledger.balance(session, claim.patient_id) == Decimal("250.00")
    assert ledger.insurer_balance(session, claim.patient_id) == ZERO
    money = claim_detail(session, admin, claim.id).money
    assert (money.paid, money.adjusted, money.to_patient) == (
        Decimal("1790.00"),
        Decimal("480.00"),
        Decimal("250.00"),
    )
    assert money.paid + money.adjusted + money.to_patient == claim.billed and money.open == ZERO
    (payment,) = entries(session, claim, EntryKind.PAYMENT)
    assert (payment.method, payment.reference) == (PaymentMethod.CHECK, "104577")
    remit = session.scalars(select(Remit)).one()
    assert remit.source is RemitSource.PAPER_EOB and remit.sha256 is None
    history = claim_detail(session, admin, claim.id).history
    assert history[-1].to_status is ClaimStatus.PAID
    assert history[-1].reason == "Paper EOB 104577"


def test_the_patients_share_is_named_on_their_side_of_the_ledger(
    session: Session, admin: Actor
) -> None:
    claim = sent_claim(session, admin)
    post_eob(session, admin, claim, eob())
    shares = [
        e.description
        for e in entries(session, claim, EntryKind.TRANSFER)
        if e.payer_id is None and e.amount > ZERO
    ]
    assert shares == [
        f"Your share of claim {claim.number} (Aetna), 99213: copay $50.00",
        f"Your share of claim {claim.number} (Aetna), J0013: "
        "deductible $100.00, coinsurance $100.00",
    ]


def test_a_denied_line_is_held_on_the_payers_side_with_its_reason_in_the_history(
    session: Session, admin: Actor
) -> None:
    claim = sent_claim(session, admin)
    form = eob(
        *PAID_IN_FULL[:3], EobLine(4, denied="2,100.00", denial_reason="co-197", remarks="M62")
    )

    post_eob(session, admin, claim, form)

    assert claim.status is ClaimStatus.PARTLY_PAID
    assert claim.appeal_deadline is not None and claim.appeal_deadline > date(2026, 12, 18)
    assert ledger.insurer_balance(session, claim.patient_id) == Decimal("2100.00")
    assert ledger.balance(session, claim.patient_id) == Decimal("50.00")
    detail = claim_detail(session, admin, claim.id)
    assert detail.money.open == Decimal("2100.00")
    assert detail.history[-1].reason.startswith("Paper EOB 104577: CO-197: No prior auth")
    (answer,) = detail.remits
    j0013 = next(line for line in answer.lines if line.code == "J0013")
    assert j0013.adjustments[0].startswith("CO-197 $2,100.00")
    assert j0013.remarks[0].startswith("M62: ")


def test_a_claim_denied_in_full_is_denied_and_needs_no_check_number(
    session: Session, admin: Actor
) -> None:
    claim = sent_claim(session, admin)
    post_eob(session, admin, claim, denied_in_full(claim))
    assert claim.status is ClaimStatus.DENIED
    assert entries(session, claim, EntryKind.PAYMENT) == []
    assert ledger.insurer_balance(session, claim.patient_id) == claim.billed


def test_an_eft_posts_as_an_electronic_payment(session: Session, admin: Actor) -> None:
    claim = sent_claim(session, admin)
    post_eob(session, admin, claim, eob(check="EFT 8812345"))
    (payment,) = entries(session, claim, EntryKind.PAYMENT)
    assert (payment.method, payment.reference) == (PaymentMethod.EFT, "EFT 8812345")


def test_another_contractual_reason_is_posted_with_its_code(session: Session, admin: Actor) -> None:
    claim = sent_claim(session, admin)
    lines = (EobLine(2, paid="100", contractual="30.00", contractual_reason="253"),)
    post_eob(session, admin, claim, eob(PAID_IN_FULL[0], *lines, *PAID_IN_FULL[2:]))
    words = [e.description for e in entries(session, claim, EntryKind.ADJUSTMENT)]
    assert "Aetna contractual adjustment, 99415 (CO-253)" in words
    assert "Aetna contractual adjustment, 99213 (CO-45)" in words


def test_an_appealed_claim_takes_the_payers_answer_to_the_appeal(
    session: Session, admin: Actor
) -> None:
    from ketadesk.billing.claims.actions import appeal

    claim = sent_claim(session, admin)
    post_eob(session, admin, claim, denied_in_full(claim))
    appeal(session, admin, claim.id, "PHQ-9 of 24, two SSRIs failed", on=date(2026, 12, 19))

    post_eob(session, admin, claim, eob(paid_on="12/21/2026"))

    assert claim.status is ClaimStatus.PAID
    assert ledger.insurer_balance(session, claim.patient_id) == ZERO
    assert ledger.balance(session, claim.patient_id) == Decimal("250.00")


def test_an_appeal_answer_may_not_settle_a_line_twice(session: Session, admin: Actor) -> None:
    from ketadesk.billing.claims.actions import appeal

    claim = sent_claim(session, admin)
    post_eob(
        session,
        admin,
        claim,
        eob(*PAID_IN_FULL[:3], EobLine(4, denied="2100", denial_reason="197")),
    )
    appeal(session, admin, claim.id, "authorisation PA-77812 was on file", on=date(2026, 12, 19))

    found = problems_of(session, admin, claim, eob(paid_on="12/21/2026"))

    assert set(found) == {"line 1", "line 2", "line 3"}
    assert found["line 1"] == (
        "99213: an earlier answer already settled $225.00 of it; an EOB posts to lines "
        "nothing has settled yet (a denied line, for one): post what changed by hand"
    )
    assert ledger.insurer_balance(session, claim.patient_id) == Decimal("2100.00")


# --- what is refused, in words -----------------------------------------------------------


def test_every_problem_is_listed_at_once_with_its_field(session: Session, admin: Actor) -> None:
    claim = sent_claim(session, admin)
    form = eob(
        EobLine(1, paid="12,50", contractual="35.00", copay="50"),
        EobLine(2, paid="100", contractual="20.00"),
        PAID_IN_FULL[2],
        EobLine(4, paid="1500", contractual="400", denied="200", denial_reason="999"),
        paid_on="12/22/2026",
    )

    found = problems_of(session, admin, claim, form)

    assert set(found) == {"line 1 paid", "line 2", "line 4 denial reason", "paid on"}
    assert (
        found["line 1 paid"] == "'12,50' has a comma for cents; put cents after a point, like 12.50"
    )
    assert found["line 2"] == (
        "99415: the parts add up to $120.00, $10.00 less than the $130.00 billed; every "
        "dollar billed is paid, written down, the patient's or denied"
    )
    assert found["line 4 denial reason"].startswith("999 is not a reason code (CARC) KetaDesk")
    assert found["paid on"] == "12/22/2026 is in the future; today is 12/21/2026"


def test_parts_that_add_up_to_more_than_billed_say_by_how_much(
    session: Session, admin: Actor
) -> None:
    claim = sent_claim(session, admin)
    form = eob(EobLine(3, paid="50.00", contractual="15.00", copay="5"), *PAID_IN_FULL[:2],
               PAID_IN_FULL[3])  # fmt: skip
    assert problems_of(session, admin, claim, form) == {
        "line 3": "99416: the parts add up to $70.00, $5.00 more than the $65.00 billed; "
        "every dollar billed is paid, written down, the patient's or denied"
    }


def test_amounts_are_money_and_never_below_zero(session: Session, admin: Actor) -> None:
    claim = sent_claim(session, admin)
    form = eob(
        EobLine(1, paid="1.000,00", contractual="-35", copay="50"),
        EobLine(2, paid="100", contractual="30.001"),
        *PAID_IN_FULL[2:],
    )
    found = problems_of(session, admin, claim, form)
    assert set(found) == {"line 1 paid", "line 1 contractual", "line 2 contractual"}
    assert "'1.000,00'" in found["line 1 paid"]
    assert found["line 1 contractual"].startswith("-35 is below zero")
    assert "fraction of a cent" in found["line 2 contractual"]


def test_a_denial_needs_a_reason_that_is_a_denial(session: Session, admin: Actor) -> None:
    claim = sent_claim(session, admin)
    form = eob(
        EobLine(1, paid="140.00", contractual="35.00", denied="50"),
        EobLine(2, paid="100", denied="30.00", denial_reason="45"),
        EobLine(3, paid="50.00", contractual="15.00", denial_reason="50"),
        EobLine(4, paid="1500", contractual="400", denied="200", denial_reason="PR-1"),
    )
    found = problems_of(session, admin, claim, form)
    assert found == {
        "line 1 denial reason": (
            "say the reason code (CARC) the EOB gives for the denial, like 50 or CO-197"
        ),
        "line 2 denial reason": (
            "CO-45 is not a denial but a contractual write-down; type the amount where it belongs"
        ),
        "line 3 denied": "CO-50 is given but no amount is denied",
        "line 4 denial reason": (
            "PR-1 is the patient's share: type it under deductible, coinsurance or copay"
        ),
    }


def test_a_contractual_reason_must_be_a_write_down(session: Session, admin: Actor) -> None:
    claim = sent_claim(session, admin)
    form = eob(
        EobLine(1, paid="140.00", contractual="35.00", copay="50", contractual_reason="2"),
        EobLine(2, paid="100", contractual="30.00", contractual_reason="CO-50"),
        EobLine(3, paid="50.00", contractual="15.00", contractual_reason="4-5"),
        PAID_IN_FULL[3],
    )
    found = problems_of(session, admin, claim, form)
    assert found["line 1 contractual reason"].startswith("CO-2 is the patient's share")
    assert found["line 2 contractual reason"].startswith("CO-50 is a denial")
    assert (
        found["line 3 contractual reason"]
        == "'4-5' is not a reason code; write it like 50 or CO-50"
    )


def test_an_unknown_remark_code_is_refused(session: Session, admin: Actor) -> None:
    claim = sent_claim(session, admin)
    form = eob(PAID_IN_FULL[0], EobLine(2, paid="100", contractual="30", remarks="N130, ZZ9"),
               *PAID_IN_FULL[2:])  # fmt: skip
    assert problems_of(session, admin, claim, form)["line 2 remarks"].startswith(
        "ZZ9: not a remark code (RARC) KetaDesk knows"
    )


def test_the_day_paid_is_read_and_not_before_the_claim_was_sent(
    session: Session, admin: Actor
) -> None:
    claim = sent_claim(session, admin)
    assert problems_of(session, admin, claim, eob(paid_on="12/01/2026")) == {
        "paid on": "12/01/2026 is before the claim was sent (12/07/2026); check the EOB's date"
    }
    assert problems_of(session, admin, claim, eob(paid_on="31/12/2026"))["paid on"].startswith(
        "31/12/2026 has month 31"
    )
    assert problems_of(session, admin, claim, eob(paid_on=" ")) == {
        "paid on": "say the day the payer paid (or denied)"
    }
    remit = eob_remittance(session, admin, claim.id, eob(paid_on="2026-12-21"), today=TODAY)
    assert remit.paid_on == TODAY and remit.total_paid == Decimal("1790.00")


def test_a_payment_needs_its_check_number(session: Session, admin: Actor) -> None:
    claim = sent_claim(session, admin)
    assert problems_of(session, admin, claim, eob(check="  ")) == {
        "check number": "say the check number, or EFT and the transfer's trace number"
    }


def test_a_line_the_claim_does_not_have_and_a_line_left_out(session: Session, admin: Actor) -> None:
    claim = sent_claim(session, admin)
    found = problems_of(session, admin, claim, eob(*PAID_IN_FULL[:3], EobLine(7, paid="1")))
    assert found["line 7"] == f"claim {claim.number} has no line 7"
    assert found["line 4"].startswith("J0013: the parts add up to $0.00, $2,100.00 less")


def test_an_eob_is_posted_only_to_a_claim_waiting_for_its_payer(
    session: Session, admin: Actor
) -> None:
    insured = insured_clinic(session, admin)
    esketamine_visit(session, admin, insured)
    (claim_id,) = build_claims(session, admin, today=date(2026, 12, 7)).claim_ids
    claim = session.get(Claim, claim_id)
    assert claim is not None and claim.status is ClaimStatus.READY
    found = problems_of(session, admin, claim, eob())
    assert found == {
        "claim": f"claim {claim.number} is ready; an EOB is posted to a claim that was sent "
        "(submitted, accepted or appealed) and not yet answered"
    }
    with pytest.raises(ValidationError):
        eob_plan(session, admin, claim.id, eob(), today=TODAY)


def test_posting_needs_claim_work(session: Session, admin: Actor) -> None:
    claim = sent_claim(session, admin)
    desk = Actor("desk-dana", Role.FRONT_DESK)
    with pytest.raises(PermissionDenied):
        eob_plan(session, desk, claim.id, eob(), today=TODAY)
    with pytest.raises(PermissionDenied):
        eob_sheet(session, desk, claim.id)


# --- what the form shows -----------------------------------------------------------------


def test_the_sheet_lists_the_claims_lines_with_what_each_billed(
    session: Session, admin: Actor
) -> None:
    claim = sent_claim(session, admin)
    sheet = eob_sheet(session, admin, claim.id)
    assert [(line.position, line.code, line.billed) for line in sheet.lines] == [
        (1, "99213", Decimal("225.00")),
        (2, "99415", Decimal("130.00")),
        (3, "99416", Decimal("65.00")),
        (4, "J0013", Decimal("2100.00")),
    ]
    assert (sheet.number, sheet.status, sheet.billed) == (
        claim.number,
        ClaimStatus.SUBMITTED,
        Decimal("2520.00"),
    )
    assert sheet.submitted_on == date(2026, 12, 7) and sheet.payer_name == "Aetna"


def test_left_to_account_for_runs_as_amounts_are_typed() -> None:
    billed = Decimal("225.00")
    assert left_to_account(billed, EobLine(1)) == billed
    assert left_to_account(billed, EobLine(1, paid="140")) == Decimal("85.00")
    assert left_to_account(billed, EobLine(1, paid="140", contractual="35", copay="50")) == ZERO
    assert left_to_account(billed, EobLine(1, paid="240")) == Decimal("-15.00")
    assert left_to_account(billed, EobLine(1, paid="12,50")) is None
