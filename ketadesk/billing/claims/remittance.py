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
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ketadesk.access.permissions import Actor, Permission
from ketadesk.billing.claims import remit_codes
from ketadesk.billing.claims.models import (
    Claim,
    ClaimLine,
    ClaimStatus,
    Remit,
    RemitSource,
)
from ketadesk.billing.edi.model import Adjustment, ClaimPayment, Remittance, ServicePayment
from ketadesk.billing.edi.x835 import read_835s
from ketadesk.errors import InvalidValue
from ketadesk.money import ZERO

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
    def what_happens(self) -> tuple[str, ...]:
        """This payment's fate in words: why it waits, else the patient's share and any
        denial (what the preview in the window and on the command line says)."""
        if not self.postable:
            return ("Waits for a person: " + "; ".join(self.problems),)
        shares = [line.share_words for line in self.lines if line.share_words]
        said = ["Patient owes " + ", ".join(shares)] if shares else []
        return tuple(said + [f"Denied: {r}" for r in dict.fromkeys(self.denial_reasons)])

    @property
    def denial_reasons(self) -> tuple[str, ...]:
        """Each denial reason of the payment in words, once however many lines it hit."""
        found = (
            remit_codes.describe(a.group, a.reason)
            for line in self.lines
            for a in line.adjustments
            if remit_codes.is_denial(a.group, a.reason)
        )
        return tuple(dict.fromkeys(found))


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
        payments = "payment" if self.posted_claims == 1 else "payments"
        return (
            f"Posted {self.posted_claims:,} claim {payments} (${self.paid:,.2f} from the payer, "
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
    """Write ``remit_plan`` (from :func:`plan` in the same transaction): see
    :mod:`ketadesk.billing.claims.posting`. A plan with file-level problems posts nothing;
    one already imported posts nothing again."""
    from ketadesk.billing.claims import posting  # it builds on this module's plans

    actor.require(Permission.CLAIM_WORK)
    if remit_plan.problems:
        raise InvalidValue("Nothing was posted: " + "; ".join(remit_plan.problems) + ".")
    if remit_plan.already_imported:
        return PostResult(None, 0, 0, ZERO, ZERO, True)
    return posting.write(session, actor, remit_plan, file_name=file_name)


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
