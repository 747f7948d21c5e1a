"""Posting a payer's answer (an 835, or a paper EOB typed in) to claims and the ledger.

The flow:

1. :func:`plan` matches each claim payment (CLP) to our claim by its number (CLP01) and
   each service payment (SVC) to a claim line by the line id the 837P sent (REF*6R), and
   decides what every cent does, without writing anything: a :class:`RemitPlan` with one
   :class:`ClaimPlan` per CLP. The preview shows it before anything posts.
2. :func:`post` writes the plan: a :class:`~.models.Remit` row (an 835's SHA-256 is unique,
   so importing a file twice posts nothing twice), its claims, lines and adjustments, and
   on the ledger, per claim, on the payer's side:

   * the insurer's payment (``payment``, method EFT or check, the trace number as reference);
   * each contractual or other write-down (CO/OA/PI that is not a denial) as an
     ``adjustment`` with reason *contractual*;
   * the patient's share (PR: deductible, coinsurance, copay, non-covered) as a pair of
     ``transfer`` entries that move it from the payer's side to the patient's, where it can
     be invoiced and paid;
   * a denied amount stays open on the payer's side: the claim goes to the follow-up
     worklist with the reason in words, to appeal, correct, bill the patient or write off.

   Every credit is allocated to the line's charge entry, so a line's billed amount equals
   paid + adjusted + patient share + still open, to the cent.

Claim payments that match no claim, disagree with it, or reverse an earlier payment are kept
unposted (``RemitClaim.posted`` false) for a person in the worklist.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ketadesk.access import audit
from ketadesk.access.permissions import Actor, Permission
from ketadesk.billing import ledger
from ketadesk.billing.claims import remit_codes
from ketadesk.billing.claims.models import (
    Claim,
    ClaimLine,
    ClaimStatus,
    Remit,
    RemitAdjustment,
    RemitClaim,
    RemitLine,
    RemitSource,
)
from ketadesk.billing.claims.status import move
from ketadesk.billing.edi.model import Adjustment, ClaimPayment, Remittance, ServicePayment
from ketadesk.billing.edi.x835 import read_835s
from ketadesk.billing.models import AdjustmentReason, EntryKind, LedgerEntry, PaymentMethod
from ketadesk.clinic.models import InsurancePolicy, Payer, PolicyRank
from ketadesk.clinic.policies import coverage_on
from ketadesk.errors import Conflict, InvalidValue
from ketadesk.money import ZERO, money

DENIED = "4"  # CLP02: denied
REVERSAL = "22"  # CLP02: reversal of a previous payment
PRIOR_PAYER = "23"  # OA-23: the impact of an earlier payer's adjudication
PR_WORDS = {"1": "deductible", "2": "coinsurance", "3": "copay"}


@dataclass(frozen=True)
class LinePlan:
    """What one claim line receives: paid, written down, the patient's share, held."""

    line_id: int
    entry_id: int
    code: str
    billed: Decimal
    paid: Decimal
    adjusted: Decimal
    patient_share: Decimal
    held: Decimal  # denied: stays open on the payer's side
    prior: Decimal  # OA-23: what an earlier payer settled (a secondary claim); not posted
    adjustments: tuple[Adjustment, ...]
    remarks: tuple[str, ...]
    share_words: str  # "deductible $50.00, copay $20.00"
    payment: ServicePayment | None


@dataclass(frozen=True)
class ClaimPlan:
    """One CLP and what posting it does; ``problems`` non-empty: it waits for a person."""

    payment: ClaimPayment
    claim_id: int | None
    claim_number: str
    patient_name: str
    lines: tuple[LinePlan, ...]
    problems: tuple[str, ...]
    outcome: ClaimStatus | None  # the status the claim moves to when posted

    @property
    def postable(self) -> bool:
        return self.claim_id is not None and not self.problems

    def total(self, what: str) -> Decimal:
        return sum((getattr(line, what) for line in self.lines), ZERO)

    @property
    def denial_reasons(self) -> tuple[str, ...]:
        return tuple(
            remit_codes.describe(a.group, a.reason)
            for line in self.lines
            for a in line.adjustments
            if remit_codes.is_denial(a.group, a.reason)
        )


@dataclass(frozen=True)
class RemitPlan:
    """The preview of a whole remittance."""

    remittance: Remittance
    source: RemitSource
    sha256: str | None
    payer_id: int | None
    claims: tuple[ClaimPlan, ...]
    already_imported: bool
    problems: tuple[str, ...] = field(default=())  # refuse the whole file

    @property
    def posts(self) -> Decimal:
        """What the matched, postable claims pay."""
        return sum((c.payment.paid for c in self.claims if c.postable), ZERO)

    @property
    def waiting(self) -> tuple[ClaimPlan, ...]:
        return tuple(c for c in self.claims if not c.postable)


@dataclass(frozen=True)
class PostResult:
    remit_id: int | None
    posted_claims: int
    waiting_claims: int
    paid: Decimal
    patient_share: Decimal
    already_imported: bool

    @property
    def sentence(self) -> str:
        if self.already_imported:
            return "This remittance was imported before; nothing was posted again."
        return (
            f"Posted {self.posted_claims} claim payments (${self.paid:,.2f} from the payer, "
            f"${self.patient_share:,.2f} moved to patients); {self.waiting_claims} wait in "
            "the follow-up worklist."
        )


# ---------------------------------------------------------------------------------------
# Planning (reads only)
# ---------------------------------------------------------------------------------------


def file_sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def plan(
    session: Session,
    actor: Actor,
    remittance: Remittance,
    *,
    sha256: str | None,
    source: RemitSource = RemitSource.EDI_835,
) -> RemitPlan:
    """What posting ``remittance`` would do; writes nothing."""
    actor.require(Permission.CLAIM_WORK)
    already = sha256 is not None and (
        session.scalar(select(Remit.id).where(Remit.sha256 == sha256)) is not None
    )
    claims = _claims_by_number(session, [c.claim_number for c in remittance.claims])
    plans = tuple(
        plan_claim(payment, claims.get(payment.claim_number)) for payment in remittance.claims
    )
    return RemitPlan(
        remittance=remittance,
        source=source,
        sha256=sha256,
        payer_id=_payer_of(plans, claims),
        claims=plans,
        already_imported=already,
        problems=_file_problems(remittance),
    )


def _claims_by_number(session: Session, numbers: Sequence[str]) -> dict[str, Claim]:
    found = session.scalars(
        select(Claim)
        .where(Claim.number.in_(list(numbers)))
        .options(selectinload(Claim.lines), selectinload(Claim.patient))
    )
    return {claim.number: claim for claim in found}


def _payer_of(plans: Sequence[ClaimPlan], claims: dict[str, Claim]) -> int | None:
    for claim_plan in plans:
        claim = claims.get(claim_plan.claim_number)
        if claim is not None:
            return claim.payer_id
    return None


def _file_problems(remittance: Remittance) -> tuple[str, ...]:
    claimed = sum((c.paid for c in remittance.claims), ZERO)
    if claimed != remittance.total_paid:
        return (
            f"the file says it pays ${remittance.total_paid:,.2f} but its claims add up to "
            f"${claimed:,.2f}; ask the payer for a corrected remittance",
        )
    return ()


def plan_claim(payment: ClaimPayment, claim: Claim | None) -> ClaimPlan:
    """What one claim payment does to ``claim`` (its lines and patient loaded): pure, so the
    demo's replay of years of answers plans each one by this same rule."""
    if claim is None:
        return ClaimPlan(
            payment,
            None,
            payment.claim_number,
            payment.patient_name,
            (),
            (f"no claim numbered {payment.claim_number} in KetaDesk",),
            None,
        )
    problems = list(_claim_problems(payment, claim))
    lines = _plan_lines(payment, claim, problems)
    outcome = _outcome(payment, lines) if not problems else None
    return ClaimPlan(
        payment,
        claim.id,
        claim.number,
        claim.patient.display_name,
        tuple(lines),
        tuple(problems),
        outcome,
    )


def _claim_problems(payment: ClaimPayment, claim: Claim) -> Iterable[str]:
    if payment.status == REVERSAL or payment.paid < ZERO:
        yield "the payer reverses an earlier payment: post the takeback by hand"
    if payment.billed != claim.billed:
        yield (
            f"the payer has ${payment.billed:,.2f} billed, the claim ${claim.billed:,.2f}; "
            "check which claim this answers"
        )
    if claim.status in (ClaimStatus.DRAFT, ClaimStatus.READY, ClaimStatus.CLOSED):
        yield f"claim {claim.number} is {claim.status.label.lower()}, not waiting for a payer"


def _plan_lines(payment: ClaimPayment, claim: Claim, problems: list[str]) -> list[LinePlan]:
    """Each claim line with its service payment; claim-level adjustments go to the first
    line with room (a payer that answers without SVC loops pays the claim as a whole)."""
    services = _match_services(payment.services, claim.lines)
    lines: list[LinePlan] = []
    for line in claim.lines:
        svc = services.get(line.id)
        adjustments = svc.adjustments if svc is not None else ()
        paid = svc.paid if svc is not None else ZERO
        lines.append(_line_plan(line, svc, paid, adjustments))
    if not payment.services:
        lines = _spread_claim_level(payment, lines)
    elif payment.adjustments:
        problems.append("the payer adjusted the whole claim as well as its lines: post by hand")
    for planned in lines:
        settled = (
            planned.paid + planned.adjusted + planned.patient_share + planned.held + planned.prior
        )
        if settled != planned.billed:
            problems.append(
                f"line {planned.code}: ${planned.billed:,.2f} billed is not what the payer "
                "paid and adjusted; check the remittance"
            )
    unmatched = len(payment.services) - len(services)
    if unmatched:
        problems.append(f"{unmatched} service lines match no line of the claim")
    return lines


def _match_services(
    services: Sequence[ServicePayment], lines: Sequence[ClaimLine]
) -> dict[int, ServicePayment]:
    """Claim line id -> its SVC: by the echoed line id, else by code in order."""
    by_id = {str(line.id): line for line in lines}
    found: dict[int, ServicePayment] = {}
    for svc in services:
        line = by_id.get(svc.line_id) or next(
            (x for x in lines if x.code == svc.code and x.id not in found), None
        )
        if line is not None and line.id not in found:
            found[line.id] = svc
    return found


def _line_plan(
    line: ClaimLine, svc: ServicePayment | None, paid: Decimal, adjustments: Sequence[Adjustment]
) -> LinePlan:
    adjusted = held = share = prior = ZERO
    words = []
    for a in adjustments:
        if a.group == "OA" and a.reason == PRIOR_PAYER:
            prior += a.amount
        elif a.group == "PR":
            share += a.amount
            words.append(f"{PR_WORDS.get(a.reason, 'not covered')} ${a.amount:,.2f}")
        elif remit_codes.is_denial(a.group, a.reason):
            held += a.amount
        else:
            adjusted += a.amount
    return LinePlan(
        line_id=line.id,
        entry_id=line.entry_id,
        code=line.code,
        billed=line.billed,
        paid=paid,
        adjusted=adjusted,
        patient_share=share,
        held=held,
        prior=prior,
        adjustments=tuple(adjustments),
        remarks=svc.remarks if svc is not None else (),
        share_words=", ".join(words),
        payment=svc,
    )


def _spread_claim_level(payment: ClaimPayment, lines: list[LinePlan]) -> list[LinePlan]:
    """A CLP with no SVC: its payment and adjustments fill the lines in order."""
    pool = [("paid", None, payment.paid)] + [(None, a, a.amount) for a in payment.adjustments]
    room = [line.billed for line in lines]
    parts: list[list[tuple[str | None, Adjustment | None, Decimal]]] = [[] for _ in lines]
    for what, adj, amount in pool:
        left = amount
        for i in range(len(lines)):
            take = min(left, room[i])
            if take > ZERO:
                parts[i].append((what, adj, take))
                room[i] -= take
                left -= take
    return [
        _line_plan(
            _shell(lines[i]),
            None,
            sum((amt for what, _, amt in parts[i] if what == "paid"), ZERO),
            [Adjustment(a.group, a.reason, amt) for _, a, amt in parts[i] if a is not None],
        )
        for i in range(len(lines))
    ]


def _shell(line: LinePlan) -> ClaimLine:
    return ClaimLine(id=line.line_id, entry_id=line.entry_id, code=line.code, billed=line.billed)


def _outcome(payment: ClaimPayment, lines: Sequence[LinePlan]) -> ClaimStatus:
    paid = sum((line.paid for line in lines), ZERO)
    held = sum((line.held for line in lines), ZERO)
    if payment.status == DENIED or (paid == ZERO and held > ZERO):
        return ClaimStatus.DENIED
    if held > ZERO:
        return ClaimStatus.PARTLY_PAID
    return ClaimStatus.PAID


# ---------------------------------------------------------------------------------------
# Posting
# ---------------------------------------------------------------------------------------


def post(
    session: Session, actor: Actor, remit_plan: RemitPlan, *, file_name: str = ""
) -> PostResult:
    """Write ``remit_plan`` (from :func:`plan` in the same transaction)."""
    actor.require(Permission.CLAIM_WORK)
    if remit_plan.problems:
        raise InvalidValue("Nothing was posted: " + "; ".join(remit_plan.problems) + ".")
    if remit_plan.already_imported:
        return PostResult(None, 0, 0, ZERO, ZERO, True)
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
    session.add(remit)
    session.flush()
    posted = [c for c in remit_plan.claims if c.postable]
    for claim_plan in remit_plan.claims:
        stored = _store_claim(session, remit, claim_plan)
        if claim_plan.postable:
            _post_claim(session, actor, remit, claim_plan, stored)
    audit.record(session, actor, "import", "remit", remit.id, after=audit.snapshot(remit))
    return PostResult(
        remit.id,
        len(posted),
        len(remit_plan.claims) - len(posted),
        sum((c.payment.paid for c in posted), ZERO),
        sum((c.total("patient_share") for c in posted), ZERO),
        False,
    )


def _store_claim(session: Session, remit: Remit, claim_plan: ClaimPlan) -> RemitClaim:
    p = claim_plan.payment
    stored = RemitClaim(
        remit_id=remit.id,
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
    session.add(stored)
    session.flush()
    for a in p.adjustments:
        session.add(_adjustment_row(stored.id, None, a))
    for line in claim_plan.lines:
        _store_line(session, stored, line)
    if not claim_plan.lines:
        for svc in p.services:
            _store_service(session, stored, None, svc)
    session.flush()
    return stored


def _store_line(session: Session, stored: RemitClaim, line: LinePlan) -> None:
    if line.payment is None:
        return
    _store_service(session, stored, line.line_id, line.payment)


def _store_service(
    session: Session, stored: RemitClaim, line_id: int | None, svc: ServicePayment
) -> None:
    row = RemitLine(
        remit_claim_id=stored.id,
        claim_line_id=line_id,
        code=svc.code[:5],
        billed=svc.billed,
        paid=svc.paid,
        allowed=svc.allowed,
        units=svc.units,
        remarks=",".join(svc.remarks)[:120],
    )
    session.add(row)
    session.flush()
    for a in svc.adjustments:
        session.add(_adjustment_row(stored.id, row.id, a))


def _adjustment_row(remit_claim_id: int, line_id: int | None, a: Adjustment) -> RemitAdjustment:
    return RemitAdjustment(
        remit_claim_id=remit_claim_id,
        remit_line_id=line_id,
        group=a.group[:2],
        reason=a.reason[:5],
        amount=a.amount,
    )


def _post_claim(
    session: Session, actor: Actor, remit: Remit, claim_plan: ClaimPlan, stored: RemitClaim
) -> None:
    claim = session.get(Claim, claim_plan.claim_id)
    if claim is None:
        raise Conflict(f"claim {claim_plan.claim_number} disappeared while posting")
    charges = {e.id: e for e in _entries(session, [line.entry_id for line in claim_plan.lines])}
    _post_payment(session, actor, remit, claim, claim_plan, charges)
    _post_adjustments(session, actor, remit, claim, claim_plan, charges)
    _post_shares(session, actor, remit, claim, claim_plan, charges)
    claim.payer_claim_number = (
        claim_plan.payment.payer_claim_number[:50] or claim.payer_claim_number
    )
    claim.adjudicated_on = remit.paid_on
    outcome = claim_plan.outcome or ClaimStatus.PAID
    if outcome in (ClaimStatus.DENIED, ClaimStatus.PARTLY_PAID):
        payer = session.get(Payer, claim.payer_id)
        days = payer.appeal_days if payer is not None else 180
        claim.appeal_deadline = date.fromordinal(remit.paid_on.toordinal() + days)
    words = f"{remit.source.label} {remit.trace_number}".strip()
    reasons = "; ".join(claim_plan.denial_reasons)
    move(session, actor, claim, outcome, f"{words}: {reasons}" if reasons else words)


def _entries(session: Session, ids: Sequence[int]) -> Sequence[LedgerEntry]:
    return session.scalars(select(LedgerEntry).where(LedgerEntry.id.in_(list(ids)))).all()


def _post_payment(
    session: Session,
    actor: Actor,
    remit: Remit,
    claim: Claim,
    claim_plan: ClaimPlan,
    charges: dict[int, LedgerEntry],
) -> None:
    paid = claim_plan.total("paid")
    if paid <= ZERO:
        return
    entry = _post(
        session,
        actor,
        claim,
        remit,
        EntryKind.PAYMENT,
        -paid,
        f"{remit.payer_name} paid claim {claim.number}",
        method=PaymentMethod.EFT if remit.method == "ACH" else PaymentMethod.CHECK,
        reference=remit.trace_number,
    )
    for line in claim_plan.lines:
        if line.paid > ZERO:
            ledger.allocate(session, actor, entry, charges[line.entry_id], line.paid)


def _post_adjustments(
    session: Session,
    actor: Actor,
    remit: Remit,
    claim: Claim,
    claim_plan: ClaimPlan,
    charges: dict[int, LedgerEntry],
) -> None:
    for line in claim_plan.lines:
        if line.adjusted <= ZERO:
            continue
        codes = ", ".join(
            f"{a.group}-{a.reason}"
            for a in line.adjustments
            if a.group != "PR" and not remit_codes.is_denial(a.group, a.reason)
        )
        entry = _post(
            session,
            actor,
            claim,
            remit,
            EntryKind.ADJUSTMENT,
            -line.adjusted,
            f"{remit.payer_name} contractual adjustment, {line.code} ({codes})",
            reason=AdjustmentReason.CONTRACTUAL,
        )
        ledger.allocate(session, actor, entry, charges[line.entry_id], line.adjusted)


def _post_shares(
    session: Session,
    actor: Actor,
    remit: Remit,
    claim: Claim,
    claim_plan: ClaimPlan,
    charges: dict[int, LedgerEntry],
) -> None:
    """Move each line's patient share off the payer's side: to the secondary payer when the
    patient has one covering the service (a secondary claim is built for those lines), else
    to the patient's own side."""
    moved: list[tuple[LinePlan, LedgerEntry]] = []
    secondary = _secondary_policy(session, claim)
    for line in claim_plan.lines:
        if line.patient_share <= ZERO:
            continue
        onward = secondary if secondary and line.code in secondary.payer.covered else None
        to = f"{onward.payer.name} (secondary)" if onward is not None else "the patient"
        words = f"{line.code} patient share to {to}: {line.share_words}"
        out = _post(session, actor, claim, remit, EntryKind.TRANSFER, -line.patient_share, words)
        ledger.allocate(session, actor, out, charges[line.entry_id], line.patient_share)
        if onward is not None:
            words = f"{line.code} after {remit.payer_name} ({claim.number}): {line.share_words}"
            into = _post(
                session, actor, claim, remit, EntryKind.TRANSFER, line.patient_share, words,
                to_payer=onward.payer_id,
            )  # fmt: skip
            moved.append((line, into))
            continue
        words = f"Your share of claim {claim.number} ({remit.payer_name}), {line.code}: "
        _post(
            session, actor, claim, remit, EntryKind.TRANSFER, line.patient_share,
            words + line.share_words, to_payer=None,
        )  # fmt: skip
    if moved and secondary is not None:
        from ketadesk.billing.claims.secondary import build_secondary

        build_secondary(session, actor, claim, secondary, moved, paid_on=remit.paid_on)


def _secondary_policy(session: Session, claim: Claim) -> InsurancePolicy | None:
    """The patient's secondary policy on the claim's date, when ``claim`` is a primary."""
    if claim.rank is not PolicyRank.PRIMARY:
        return None
    secondary = coverage_on(session, claim.patient_id, claim.service_from).secondary
    if secondary is None or secondary.payer_id == claim.payer_id:
        return None
    return secondary


def _post(
    session: Session,
    actor: Actor,
    claim: Claim,
    remit: Remit,
    kind: EntryKind,
    amount: Decimal,
    description: str,
    *,
    to_payer: int | Literal["same"] | None = "same",
    method: PaymentMethod | None = None,
    reference: str = "",
    reason: AdjustmentReason | None = None,
) -> LedgerEntry:
    return ledger.post(
        session,
        actor,
        patient_id=claim.patient_id,
        location_id=claim.location_id,
        kind=kind,
        amount=money(amount),
        posted_on=remit.paid_on,
        description=description,
        method=method,
        reference=reference[:80],
        reason=reason,
        payer_id=claim.payer_id if to_payer == "same" else to_payer,
        claim_id=claim.id,
    )


# ---------------------------------------------------------------------------------------
# 835 files
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RemitFile:
    """The payments in one 835 file, each with the fingerprint that makes it post once."""

    name: str
    payments: tuple[tuple[Remittance, str], ...]  # (remittance, sha256)


def read_file(path: Path) -> RemitFile:
    """Read the 835 at ``path``; raise :class:`InvalidValue` in words for a file that cannot
    be read or is not an 835. A file holding several payments gives each its own
    fingerprint (the file's, numbered), so each posts once."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidValue(f"{path.name} could not be read: {error}") from error
    return read_text(text, name=path.name)


def read_text(text: str, *, name: str = "") -> RemitFile:
    found = read_835s(text)
    whole = file_sha256(text)
    if len(found) == 1:
        return RemitFile(name, ((found[0], whole),))
    return RemitFile(name, tuple((r, file_sha256(f"{whole}#{i}")) for i, r in enumerate(found)))


@dataclass(frozen=True)
class ImportOutcome:
    plans: tuple[RemitPlan, ...]
    results: tuple[PostResult, ...]  # empty on a dry run


def import_835(
    session: Session, actor: Actor, remit_file: RemitFile, *, dry_run: bool = False
) -> ImportOutcome:
    """Plan every payment in ``remit_file`` and, unless ``dry_run``, post them all (a file
    that does not add up refuses the whole import)."""
    plans = tuple(
        plan(session, actor, remittance, sha256=sha) for remittance, sha in remit_file.payments
    )
    refused = [problem for p in plans for problem in p.problems]
    if dry_run:
        return ImportOutcome(plans, ())
    if refused:
        raise InvalidValue("Nothing was posted: " + "; ".join(refused) + ".")
    results = tuple(post(session, actor, p, file_name=remit_file.name) for p in plans)
    return ImportOutcome(plans, results)
