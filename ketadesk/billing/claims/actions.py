"""What billing staff do with a claim besides building and posting: send it on paper, record
a rejection, appeal a denial, correct or void a sent claim, bill the patient instead, write
off what the payer will not pay, close it. Each is one service in the caller's transaction,
with the claim's history and the audit log written; money moves only by new ledger entries.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from ketadesk.access.permissions import Actor, Permission
from ketadesk.billing import ledger
from ketadesk.billing.claims.building import next_number
from ketadesk.billing.claims.models import Claim, ClaimLine, ClaimStatus
from ketadesk.billing.claims.status import get_claim, move, move_many, record_event
from ketadesk.billing.claims.views import claim_money
from ketadesk.billing.models import AdjustmentReason, Charge, EntryKind, LedgerEntry
from ketadesk.errors import Conflict, InvalidValue
from ketadesk.money import ZERO

CORRECTED, VOID = "7", "8"


def _reason(text: str, what: str) -> str:
    words = " ".join(text.split())
    if not words:
        raise InvalidValue(f"say why you {what}")
    return words[:300]


def mark_submitted(
    session: Session, actor: Actor, claim_ids: Sequence[int], *, on: date, how: str
) -> list[Claim]:
    """Ready claims sent ``how`` ("837P batch 42", "printed CMS-1500") on ``on``."""
    claims = [get_claim(session, claim_id) for claim_id in claim_ids]
    not_ready = [c.number for c in claims if c.status is not ClaimStatus.READY]
    if not_ready:
        raise Conflict(
            "Only ready claims can be sent; check and fix these first: " + ", ".join(not_ready)
        )
    for claim in claims:
        claim.submitted_on = on
    move_many(session, actor, [(c, ClaimStatus.SUBMITTED, f"Sent as {how}") for c in claims])
    return claims


def record_acceptance(session: Session, actor: Actor, claim_id: int, note: str) -> Claim:
    """The payer or clearinghouse took the claim in for adjudication (a 277CA acceptance,
    or its portal says so): the claim waits for the payer's answer."""
    claim = get_claim(session, claim_id)
    if claim.status is not ClaimStatus.SUBMITTED:
        raise Conflict(
            f"Claim {claim.number} is {claim.status.label.lower()}; only a sent claim can be "
            "recorded as accepted"
        )
    return move(session, actor, claim, ClaimStatus.ACCEPTED, _reason(note, "record it"))


def record_rejection(session: Session, actor: Actor, claim_id: int, reason: str) -> Claim:
    """The payer or clearinghouse refused the claim before adjudicating it (a 999 or 277CA
    rejection, or a phone call): correct it and send it again."""
    claim = get_claim(session, claim_id)
    return move(session, actor, claim, ClaimStatus.REJECTED, _reason(reason, "record a rejection"))


def reopen(session: Session, actor: Actor, claim_id: int, *, today: date) -> Claim:
    """A rejected claim back to draft, to be fixed and checked again."""
    from ketadesk.billing.claims.scrubber import check_and_mark

    claim = get_claim(session, claim_id)
    move(session, actor, claim, ClaimStatus.DRAFT, "Reopened to correct")
    check_and_mark(session, actor, [claim], today=today)
    return claim


def appeal(session: Session, actor: Actor, claim_id: int, reason: str, *, on: date) -> Claim:
    """Appeal a denial (or an underpayment) before the payer's appeal deadline."""
    claim = get_claim(session, claim_id)
    if claim.appeal_deadline is not None and on > claim.appeal_deadline:
        raise Conflict(
            f"The appeal deadline for claim {claim.number} was {claim.appeal_deadline:%Y-%m-%d}; "
            "the payer will not hear it now"
        )
    return move(session, actor, claim, ClaimStatus.APPEALED, _reason(reason, "appeal"))


def _open_on_lines(session: Session, claim: Claim) -> list[tuple[LedgerEntry, Decimal]]:
    entries = ledger.open_debits(
        session, claim.patient_id, [line.entry_id for line in claim.lines], payer_id=claim.payer_id
    )
    return [(o.entry, o.left) for o in entries]


def bill_patient(
    session: Session, actor: Actor, claim_id: int, reason: str, *, on: date
) -> list[LedgerEntry]:
    """Bill the patient instead of the payer for what is still open on the claim.

    Each open line moves to the patient's side by a pair of transfers; where the moved
    amount is above the service's self-pay price, the difference is adjusted away, so a
    patient never owes more than self-pay care costs. The claim is closed.
    """
    actor.require(Permission.CLAIM_WORK)
    why = _reason(reason, "bill the patient instead")
    claim = get_claim(session, claim_id)
    posted: list[LedgerEntry] = []
    for entry, left in _open_on_lines(session, claim):
        posted += _move_to_patient(session, actor, claim, entry, left, why, on)
    if not posted:
        raise Conflict(f"Nothing is open on claim {claim.number}; there is nothing to bill")
    move(session, actor, claim, ClaimStatus.CLOSED, f"Billed to the patient: {why}")
    return posted


def _entry(
    session: Session,
    actor: Actor,
    claim: Claim,
    on: date,
    kind: EntryKind,
    amount: Decimal,
    description: str,
    *,
    note: str,
    insurer_side: bool,
    reason: AdjustmentReason | None = None,
) -> LedgerEntry:
    return ledger.post(
        session,
        actor,
        patient_id=claim.patient_id,
        location_id=claim.location_id,
        kind=kind,
        amount=amount,
        posted_on=on,
        description=description,
        note=note,
        reason=reason,
        payer_id=claim.payer_id if insurer_side else None,
        claim_id=claim.id,
    )


def _move_to_patient(
    session: Session,
    actor: Actor,
    claim: Claim,
    entry: LedgerEntry,
    left: Decimal,
    why: str,
    on: date,
) -> list[LedgerEntry]:
    payer = claim.payer.name
    out = _entry(
        session,
        actor,
        claim,
        on,
        EntryKind.TRANSFER,
        -left,
        f"{entry.description}: billed to the patient instead of {payer}",
        note=why,
        insurer_side=True,
    )
    ledger.allocate(session, actor, out, entry, left)
    into = _entry(
        session,
        actor,
        claim,
        on,
        EntryKind.TRANSFER,
        left,
        f"{entry.description} (not billed to {payer})",
        note=why,
        insurer_side=False,
    )
    made = [out, into]
    self_pay = _self_pay_price(session, entry)
    if self_pay is not None and self_pay < left:
        down = _entry(
            session,
            actor,
            claim,
            on,
            EntryKind.ADJUSTMENT,
            -(left - self_pay),
            f"Self-pay price for {entry.description}",
            note=why,
            insurer_side=False,
            reason=AdjustmentReason.SELF_PAY_RATE,
        )
        ledger.allocate(session, actor, down, into, left - self_pay)
        made.append(down)
    return made


def _self_pay_price(session: Session, entry: LedgerEntry) -> Decimal | None:
    from sqlalchemy import select

    charge = session.scalar(select(Charge).where(Charge.entry_id == entry.id))
    return charge.amount if charge is not None else None


def write_off(
    session: Session, actor: Actor, claim_id: int, reason: str, *, on: date
) -> list[LedgerEntry]:
    """Write off what the payer will not pay and the clinic will not bill (a missed
    deadline, a lost appeal), and close the claim."""
    actor.require(Permission.MONEY_CORRECT)
    why = _reason(reason, "write off the claim")
    claim = get_claim(session, claim_id)
    posted = []
    for entry, left in _open_on_lines(session, claim):
        down = _entry(
            session,
            actor,
            claim,
            on,
            EntryKind.ADJUSTMENT,
            -left,
            f"Write-off of {entry.description} (claim {claim.number})",
            note=why,
            insurer_side=True,
            reason=AdjustmentReason.WRITE_OFF,
        )
        ledger.allocate(session, actor, down, entry, left)
        posted.append(down)
    move(session, actor, claim, ClaimStatus.CLOSED, f"Written off: {why}")
    return posted


def close(session: Session, actor: Actor, claim_id: int, reason: str) -> Claim:
    """Close a claim with nothing left to do (settled in full, or abandoned as a draft)."""
    claim = get_claim(session, claim_id)
    money = claim_money(session, claim)
    if money.open != ZERO and claim.status not in (ClaimStatus.DRAFT, ClaimStatus.READY):
        raise Conflict(
            f"${money.open:,.2f} is still open on claim {claim.number}: bill the patient, "
            "write it off or wait for the payer first"
        )
    return move(session, actor, claim, ClaimStatus.CLOSED, _reason(reason, "close the claim"))


def replace(
    session: Session, actor: Actor, claim_id: int, reason: str, *, void: bool, today: date
) -> Claim:
    """A corrected (frequency 7) or void (8) claim for one already sent, naming the payer's
    claim number; the original is closed. The new claim carries the same lines."""
    from ketadesk.billing.claims.scrubber import check_and_mark

    actor.require(Permission.CLAIM_WORK)
    why = _reason(reason, "void the claim" if void else "correct the claim")
    original = get_claim(session, claim_id)
    if original.status in (ClaimStatus.DRAFT, ClaimStatus.READY):
        raise Conflict(f"Claim {original.number} was never sent: edit it instead")
    if not original.payer_claim_number:
        raise Conflict(
            f"Claim {original.number} has no payer claim number yet; a corrected or void claim "
            "must name it (wait for the payer's answer, or enter it from their portal)"
        )
    new = _copy(session, actor, original, VOID if void else CORRECTED)
    record_event(
        session, actor, new, ClaimStatus.DRAFT, f"Replaces {original.number}: {why}", was=""
    )
    if original.status is not ClaimStatus.CLOSED:
        move(session, actor, original, ClaimStatus.CLOSED, f"Replaced by {new.number}: {why}")
    check_and_mark(session, actor, [new], today=today)
    return new


def _copy(session: Session, actor: Actor, original: Claim, frequency: str) -> Claim:
    new = Claim(
        number=next_number(session, original.service_from.year),
        patient_id=original.patient_id,
        payer_id=original.payer_id,
        policy_id=original.policy_id,
        location_id=original.location_id,
        provider_id=original.provider_id,
        rank=original.rank,
        status=ClaimStatus.DRAFT,
        frequency=frequency,
        replaces_id=original.id,
        service_from=original.service_from,
        service_to=original.service_to,
        billed=original.billed,
        diagnoses=original.diagnoses,
        prior_auth_number=original.prior_auth_number,
        note=original.note,
        payer_claim_number=original.payer_claim_number,
        filing_deadline=original.filing_deadline,
        created_by=actor.username,
    )
    new.lines = [_copy_line(line) for line in original.lines]
    session.add(new)
    session.flush()
    return new


def _copy_line(line: ClaimLine) -> ClaimLine:
    return ClaimLine(
        position=line.position,
        charge_id=line.charge_id,
        entry_id=line.entry_id,
        service_date=line.service_date,
        code=line.code,
        modifiers=line.modifiers,
        description=line.description,
        units=line.units,
        billed=line.billed,
        pointers=line.pointers,
        ndc=line.ndc,
        ndc_quantity=line.ndc_quantity,
        ndc_unit=line.ndc_unit,
        note=line.note,
    )
