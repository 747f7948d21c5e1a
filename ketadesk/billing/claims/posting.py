"""Writing a planned remittance (:func:`ketadesk.billing.claims.remittance.plan`): the remit
rows, the ledger entries and their allocations, the secondary claims, the claims' new
status — in a few round trips however many claims the file pays.

Per postable claim, on the payer's side of the ledger (see :mod:`.remittance` for what
each posting means): the payer's payment, one contractual adjustment per line written down,
and per line with a patient share a pair of transfers moving it to the patient's side (or
to the secondary payer's, who then gets a claim). Every credit is allocated to its line's
charge entry. All entries of the file go through :func:`ketadesk.billing.ledger.post_many`
and all allocations through :func:`~ketadesk.billing.ledger.allocate_many`, so the
ledger's rules (signs, amounts, what a debit still owes) are checked as for one entry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, selectinload

from ketadesk.access import audit
from ketadesk.access.permissions import Actor
from ketadesk.billing import ledger
from ketadesk.billing.claims import remit_codes
from ketadesk.billing.claims.models import (
    Claim,
    ClaimStatus,
    Remit,
    RemitAdjustment,
    RemitClaim,
    RemitLine,
)
from ketadesk.billing.claims.remittance import ClaimPlan, LinePlan, PostResult, RemitPlan
from ketadesk.billing.claims.routing import Router
from ketadesk.billing.claims.secondary import build_secondary
from ketadesk.billing.claims.status import move_many
from ketadesk.billing.edi.model import Adjustment, ServicePayment
from ketadesk.billing.models import AdjustmentReason, EntryKind, LedgerEntry, PaymentMethod
from ketadesk.clinic.models import InsurancePolicy, PolicyRank
from ketadesk.errors import Conflict
from ketadesk.money import ZERO


@dataclass
class _Posting:
    """One entry to write, and the charge entry it pays (allocated after the write)."""

    draft: ledger.EntryDraft
    pays: int | None = None  # the charge entry's id
    amount: Decimal = ZERO
    onward: tuple[int, LinePlan] | None = None  # (claim id, line) moved to a secondary


@dataclass
class _Claimed:
    claim: Claim
    plan: ClaimPlan
    secondary: InsurancePolicy | None
    postings: list[_Posting] = field(default_factory=list)
    moved: list[tuple[LinePlan, LedgerEntry]] = field(default_factory=list)  # to a secondary


@dataclass(frozen=True)
class _Entries:
    """Drafts of one claim's entries, dated and described by the remittance."""

    claim: Claim
    remit: Remit

    @property
    def payer(self) -> int:
        """The claim's payer's side of the account."""
        return self.claim.payer_id

    def draft(
        self,
        kind: EntryKind,
        amount: Decimal,
        words: str,
        *,
        side: int | None,
        reason: AdjustmentReason | None = None,
        method: PaymentMethod | None = None,
        reference: str = "",
    ) -> ledger.EntryDraft:
        """An entry on ``side`` (a payer's id; ``None``: the patient's own side)."""
        return ledger.EntryDraft(
            patient_id=self.claim.patient_id,
            location_id=self.claim.location_id,
            kind=kind,
            amount=amount,
            posted_on=self.remit.paid_on,
            description=words,
            reason=reason,
            method=method,
            reference=reference,
            payer_id=side,
            claim_id=self.claim.id,
        )


def write(session: Session, actor: Actor, remit_plan: RemitPlan, *, file_name: str) -> PostResult:
    r = remit_plan.remittance
    remit = Remit(
        source=remit_plan.source,
        sha256=remit_plan.sha256,
        file_name=file_name[:260],
        payer_id=remit_plan.payer_id,
        payer_name=r.payer_name[:120],
        trace_number=r.trace_number[:50],
        method=r.method[:3],
        paid_on=r.paid_on,
        total_paid=r.total_paid,
        created_by=actor.username,
    )
    stored = [_stored(claim_plan) for claim_plan in remit_plan.claims]
    remit.claims = [claim for claim, _ in stored]
    session.add(remit)
    session.flush()
    _store_adjustments(session, [pending for _, adjustments in stored for pending in adjustments])
    postable = [c for c in remit_plan.claims if c.postable]
    claimed = _claimed(session, postable)
    for item in claimed:
        item.postings = _postings(remit, item)
    _write_ledger(session, actor, claimed)
    move_many(session, actor, [_settle(session, actor, remit, item) for item in claimed])
    audit.record(session, actor, "import", "remit", remit.id, after=audit.snapshot(remit))
    return PostResult(
        remit.id,
        len(postable),
        len(remit_plan.claims) - len(postable),
        sum((c.payment.paid for c in postable), ZERO),
        sum((c.total("patient_share") for c in postable), ZERO),
        False,
    )


# ---------------------------------------------------------------------------------------
# The remit rows: what the payer said, kept whether it posts or waits
# ---------------------------------------------------------------------------------------


_Pending = tuple[RemitClaim, RemitLine | None, Adjustment]  # written once both have ids


def _stored(claim_plan: ClaimPlan) -> tuple[RemitClaim, list[_Pending]]:
    p = claim_plan.payment
    stored = RemitClaim(
        claim_id=claim_plan.claim_id,
        claim_number=p.claim_number[:38],
        status_code=p.status[:2],
        billed=p.billed,
        paid=p.paid,
        patient_share=p.patient_responsibility,
        payer_claim_number=p.payer_claim_number[:50],
        patient_name=(claim_plan.patient_name or p.patient_name)[:120],
        remarks=",".join(p.remarks)[:120],
        posted=claim_plan.postable,
    )
    adjustments: list[_Pending] = [(stored, None, a) for a in p.adjustments]
    lines: list[RemitLine] = []
    services: list[tuple[int | None, ServicePayment]] = [
        (line.line_id, line.payment) for line in claim_plan.lines if line.payment
    ]
    if not claim_plan.lines:
        services = [(None, svc) for svc in p.services]
    for line_id, svc in services:
        row = _service(line_id, svc)
        lines.append(row)
        adjustments += [(stored, row, a) for a in svc.adjustments]
    stored.lines = lines
    return stored, adjustments


def _service(line_id: int | None, svc: ServicePayment) -> RemitLine:
    return RemitLine(
        claim_line_id=line_id,
        code=svc.code[:5],
        billed=svc.billed,
        paid=svc.paid,
        allowed=svc.allowed,
        units=svc.units,
        remarks=",".join(svc.remarks)[:120],
    )


def _store_adjustments(session: Session, pending: Sequence[_Pending]) -> None:
    """Every CAS adjustment of the file in one bulk insert (they need no ids back)."""
    rows = [
        {
            "remit_claim_id": claim.id,
            "remit_line_id": line.id if line is not None else None,
            "group": a.group[:2],
            "reason": a.reason[:5],
            "amount": a.amount,
        }
        for claim, line, a in pending
    ]
    if rows:
        session.execute(insert(RemitAdjustment), rows)


# ---------------------------------------------------------------------------------------
# The ledger
# ---------------------------------------------------------------------------------------


def _claimed(session: Session, plans: Sequence[ClaimPlan]) -> list[_Claimed]:
    ids = [c.claim_id for c in plans if c.claim_id is not None]
    claims = {
        c.id: c
        for c in session.scalars(
            select(Claim)
            .where(Claim.id.in_(ids))
            .options(selectinload(Claim.lines), selectinload(Claim.payer))
        )
    }
    router = Router(session).prime(c.patient_id for c in claims.values())
    found = []
    for claim_plan in plans:
        claim = claims.get(claim_plan.claim_id or 0)
        if claim is None:
            raise Conflict(f"claim {claim_plan.claim_number} disappeared while posting")
        found.append(_Claimed(claim, claim_plan, _secondary_policy(router, claim)))
    return found


def _secondary_policy(router: Router, claim: Claim) -> InsurancePolicy | None:
    """The patient's secondary policy on the claim's date, when ``claim`` is a primary."""
    if claim.rank is not PolicyRank.PRIMARY:
        return None
    secondary = router.coverage(claim.patient_id, claim.service_from).secondary
    if secondary is None or secondary.payer_id == claim.payer_id:
        return None
    return secondary


def _postings(remit: Remit, item: _Claimed) -> list[_Posting]:
    entries = _Entries(item.claim, remit)
    out: list[_Posting] = []
    paid = item.plan.total("paid")
    if paid > ZERO:
        method = PaymentMethod.EFT if remit.method == "ACH" else PaymentMethod.CHECK
        payment = entries.draft(
            EntryKind.PAYMENT, -paid, f"{remit.payer_name} paid claim {item.claim.number}",
            side=entries.payer, method=method, reference=remit.trace_number[:80],
        )  # fmt: skip
        out += _spread(payment, [(line.entry_id, line.paid) for line in item.plan.lines])
    for line in item.plan.lines:
        out += _adjustment_postings(entries, line) + _share_postings(entries, item, line)
    return out


def _spread(draft: ledger.EntryDraft, parts: list[tuple[int, Decimal]]) -> list[_Posting]:
    """One entry paying several lines: the entry once, an allocation per line."""
    return [_Posting(draft, entry_id, amount) for entry_id, amount in parts if amount > ZERO]


def _adjustment_postings(entries: _Entries, line: LinePlan) -> list[_Posting]:
    if line.adjusted <= ZERO:
        return []
    codes = ", ".join(
        f"{a.group}-{a.reason}"
        for a in line.adjustments
        if a.group != "PR" and not remit_codes.is_denial(a.group, a.reason)
    )
    words = f"{entries.remit.payer_name} contractual adjustment, {line.code} ({codes})"
    draft = entries.draft(
        EntryKind.ADJUSTMENT, -line.adjusted, words, side=entries.payer,
        reason=AdjustmentReason.CONTRACTUAL,
    )  # fmt: skip
    return [_Posting(draft, line.entry_id, line.adjusted)]


def _share_postings(entries: _Entries, item: _Claimed, line: LinePlan) -> list[_Posting]:
    """The line's patient share off the payer's side: to the secondary payer when it covers
    the service, else to the patient's own side."""
    if line.patient_share <= ZERO:
        return []
    share, payer, number = line.patient_share, entries.remit.payer_name, item.claim.number
    onward = (
        item.secondary if item.secondary and line.code in item.secondary.payer.covered else None
    )
    to = f"{onward.payer.name} (secondary)" if onward is not None else "the patient"
    words = f"{line.code} patient share to {to}: {line.share_words}"
    away = entries.draft(EntryKind.TRANSFER, -share, words, side=entries.payer)
    if onward is not None:
        words = f"{line.code} after {payer} ({number}): {line.share_words}"
        into = entries.draft(EntryKind.TRANSFER, share, words, side=onward.payer_id)
        return [_Posting(away, line.entry_id, share), _Posting(into, onward=(item.claim.id, line))]
    words = f"Your share of claim {number} ({payer}), {line.code}: {line.share_words}"
    into = entries.draft(EntryKind.TRANSFER, share, words, side=None)
    return [_Posting(away, line.entry_id, share), _Posting(into)]


def _write_ledger(session: Session, actor: Actor, claimed: Sequence[_Claimed]) -> None:
    """Every entry of the file in one write, then every allocation in one more."""
    postings = [p for item in claimed for p in item.postings]
    drafts: list[ledger.EntryDraft] = []
    index: dict[int, int] = {}  # id(draft) -> its position, so a spread entry posts once
    for posting in postings:
        if id(posting.draft) not in index:
            index[id(posting.draft)] = len(drafts)
            drafts.append(posting.draft)
    entries = ledger.post_many(session, actor, drafts)
    paying = [p.pays for p in postings if p.pays is not None]
    charges = {
        e.id: e for e in session.scalars(select(LedgerEntry).where(LedgerEntry.id.in_(paying)))
    }
    ledger.allocate_many(
        session,
        actor,
        [
            ledger.Application(entries[index[id(p.draft)]], charges[p.pays], p.amount)
            for p in postings
            if p.pays is not None
        ],
    )
    for item in claimed:
        item.moved = [(p.onward[1], entries[index[id(p.draft)]]) for p in item.postings if p.onward]


def _settle(
    session: Session, actor: Actor, remit: Remit, item: _Claimed
) -> tuple[Claim, ClaimStatus, str]:
    """The claim's answer recorded: payer claim number, dates, status; a secondary claim."""
    claim, claim_plan = item.claim, item.plan
    if item.moved and item.secondary is not None:
        build_secondary(session, actor, claim, item.secondary, item.moved, paid_on=remit.paid_on)
    if claim_plan.payment.payer_claim_number:
        claim.payer_claim_number = claim_plan.payment.payer_claim_number[:50]
    claim.adjudicated_on = remit.paid_on
    outcome = claim_plan.outcome or ClaimStatus.PAID
    if outcome in (ClaimStatus.DENIED, ClaimStatus.PARTLY_PAID):
        claim.appeal_deadline = remit.paid_on + timedelta(days=claim.payer.appeal_days)
    words = f"{remit.source.label} {remit.trace_number}".strip()
    reasons = "; ".join(claim_plan.denial_reasons)
    return claim, outcome, f"{words}: {reasons}" if reasons else words
