"""The claims follow-up worklist: what billing must chase, each with its deadline.

One list, oldest deadline first, of:

* claims not yet sent or rejected, counting down to the payer's timely-filing date;
* claims sent with no answer after :data:`NO_ANSWER_DAYS` days;
* denied and partly paid claims, with the denial in words and the appeal deadline;
* appealed claims still waiting;
* payer payments (835 claim payments) that matched no claim or could not be posted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ketadesk.access.permissions import Actor, Permission
from ketadesk.billing.claims import remit_codes
from ketadesk.billing.claims.models import Claim, ClaimStatus, RemitClaim
from ketadesk.clinic.models import Patient, Payer

NO_ANSWER_DAYS = 30  # chase a payer after a month without an answer
APPEAL_WAIT_DAYS = 45


@dataclass(frozen=True)
class FollowUp:
    kind: str  # "unsent", "rejected", "no answer", "denied", "appealed", "unmatched payment"
    claim_id: int | None
    number: str
    patient_name: str
    payer_name: str
    amount: Decimal
    due: date | None  # the deadline that matters for this item
    days_left: int | None  # negative: past
    words: str  # what happened and what to do


_UNSENT = (ClaimStatus.DRAFT, ClaimStatus.READY, ClaimStatus.REJECTED)
_WAITING = (ClaimStatus.SUBMITTED, ClaimStatus.ACCEPTED)
_DENIED = (ClaimStatus.DENIED, ClaimStatus.PARTLY_PAID)


def worklist(session: Session, actor: Actor, *, today: date) -> list[FollowUp]:
    """Everything to chase on ``today``, most urgent first."""
    actor.require(Permission.BILLING_VIEW)
    statuses = (*_UNSENT, *_WAITING, *_DENIED, ClaimStatus.APPEALED)
    claims = session.execute(
        select(Claim, Patient.family_name, Patient.given_name, Payer.name)
        .join(Patient, Patient.id == Claim.patient_id)
        .join(Payer, Payer.id == Claim.payer_id)
        .where(Claim.status.in_(statuses))
        .options(selectinload(Claim.events))
    ).all()
    items = [
        item
        for claim, family, given, payer in claims
        if (item := _item(claim, f"{family}, {given}", payer, today)) is not None
    ]
    items += _unmatched(session, today)
    far = date.max
    return sorted(items, key=lambda i: (i.due or far, i.number))


def _item(claim: Claim, patient: str, payer: str, today: date) -> FollowUp | None:
    def make(kind: str, due: date | None, words: str) -> FollowUp:
        left = (due - today).days if due is not None else None
        return FollowUp(
            kind, claim.id, claim.number, patient, payer, claim.billed, due, left, words
        )

    status = claim.status
    if status in _UNSENT:
        first = claim.problems.splitlines()[0] if claim.problems else ""
        kind = "rejected" if status is ClaimStatus.REJECTED else "unsent"
        last = claim.events[-1].reason if claim.events else ""
        words = (
            f"Rejected: {last}. Correct it and send it again."
            if kind == "rejected"
            else (f"Fix before sending: {first}" if first else "Ready: send it.")
        )
        return make(kind, claim.filing_deadline, words)
    if status in _WAITING:
        sent = claim.submitted_on or claim.service_from
        if (today - sent).days < NO_ANSWER_DAYS:
            return None
        return make(
            "no answer",
            claim.filing_deadline,
            f"Sent {sent:%Y-%m-%d}, no answer after {(today - sent).days} days: call "
            f"{payer} or check their portal.",
        )
    if status in _DENIED:
        return make("denied", claim.appeal_deadline, _denial_words(claim))
    appealed = claim.events[-1].at.date() if claim.events else today
    return make(
        "appealed",
        appealed + timedelta(days=APPEAL_WAIT_DAYS),
        f"Appealed {appealed:%Y-%m-%d}; waiting for the payer's decision.",
    )


def _denial_words(claim: Claim) -> str:
    reason = claim.events[-1].reason if claim.events else ""
    _, _, why = reason.partition(": ")
    action = ""
    for code in why.split("; "):
        group, _, carc = code.partition(":")[0].partition("-")
        if carc:
            action = remit_codes.next_step(group, carc)
            break
    text = f"Denied: {why}" if why else "Denied."
    return f"{text} {action}".strip()


def _unmatched(session: Session, today: date) -> list[FollowUp]:
    rows = session.scalars(
        select(RemitClaim)
        .where(RemitClaim.posted.is_(False))
        .options(selectinload(RemitClaim.remit))
    ).all()
    return [
        FollowUp(
            "unmatched payment",
            row.claim_id,
            row.claim_number,
            row.patient_name,
            row.remit.payer_name,
            row.paid,
            row.remit.paid_on,
            (row.remit.paid_on - today).days,
            f"A payment of ${row.paid:,.2f} from {row.remit.payer_name} "
            f"({row.remit.trace_number}) could not be posted: find its claim and post it by hand.",
        )
        for row in rows
    ]
