"""What the faces show of claims: list rows, counts by status and payer, one claim's detail.

Frozen records read in a few queries; the window and the command line format them. A
claim's money is read from the ledger: its lines' charge entries, and the entries posted
against it (``ledger_entry.claim_id``) on the payer's side: payments, adjustments, and the
transfers that moved a share to the patient or to the next payer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from ketadesk.access.permissions import Actor, Permission
from ketadesk.billing import ledger
from ketadesk.billing.claims import remit_codes
from ketadesk.billing.claims.models import (
    Claim,
    ClaimLine,
    ClaimStatus,
    RemitAdjustment,
    RemitClaim,
    RemitLine,
)
from ketadesk.billing.claims.status import get_claim
from ketadesk.billing.models import Allocation, EntryKind, LedgerEntry
from ketadesk.clinic.models import Patient, Payer
from ketadesk.money import ZERO


@dataclass(frozen=True)
class ClaimMoney:
    """A claim's money from the payer's side: what was billed and what became of it."""

    billed: Decimal
    paid: Decimal  # by this payer
    adjusted: Decimal  # contractual and other write-downs
    to_patient: Decimal  # moved to the patient's side (their share, or billed to them)
    to_other_payer: Decimal  # moved to the next payer
    open: Decimal  # still waiting on this payer


@dataclass(frozen=True)
class ClaimRow:
    id: int
    number: str
    patient_id: int
    patient_name: str
    mrn: str
    payer_name: str
    rank: str
    service_from: date
    status: ClaimStatus
    billed: Decimal
    open: Decimal
    filing_deadline: date
    problem_count: int


@dataclass(frozen=True)
class StatusCount:
    status: ClaimStatus
    payer_name: str  # "" in the totals by status
    count: int
    billed: Decimal


@dataclass(frozen=True)
class LineView:
    position: int
    service_date: date
    code: str
    modifiers: str
    units: int
    billed: Decimal
    pointers: str
    ndc: str
    note: str
    description: str


@dataclass(frozen=True)
class EventView:
    at: datetime
    actor: str
    from_status: str
    to_status: ClaimStatus
    reason: str


@dataclass(frozen=True)
class RemitLineView:
    code: str
    billed: Decimal
    paid: Decimal
    adjustments: tuple[str, ...]  # "CO-45 $120.00: Charges exceed the contracted fee."
    remarks: tuple[str, ...]  # "N130: ..."


@dataclass(frozen=True)
class RemitView:
    """One payer decision on the claim (an 835 CLP or an EOB)."""

    paid_on: date
    source: str
    trace_number: str
    status_code: str
    paid: Decimal
    patient_share: Decimal
    payer_claim_number: str
    adjustments: tuple[str, ...]  # claim-level
    lines: tuple[RemitLineView, ...]


@dataclass(frozen=True)
class ClaimDetail:
    id: int
    number: str
    status: ClaimStatus
    frequency: str
    patient_id: int
    patient_name: str
    mrn: str
    payer_id: int
    payer_name: str
    rank: str
    member_id: str
    service_from: date
    service_to: date
    diagnoses: tuple[str, ...]
    prior_auth_number: str
    note: str
    payer_claim_number: str
    filing_deadline: date
    appeal_deadline: date | None
    submitted_on: date | None
    money: ClaimMoney
    lines: tuple[LineView, ...]
    problems: tuple[str, ...]
    history: tuple[EventView, ...]
    remits: tuple[RemitView, ...]
    replaces: str = ""  # the number of the claim this one corrects or voids


def claim_money(session: Session, claim: Claim) -> ClaimMoney:
    """What became of ``claim``'s billed amount, from the ledger."""
    rows = session.execute(
        select(LedgerEntry.kind, LedgerEntry.payer_id, ledger.cents_sum(LedgerEntry.amount))
        .where(LedgerEntry.claim_id == claim.id)
        .group_by(LedgerEntry.kind, LedgerEntry.payer_id)
    ).all()
    sums: dict[tuple[EntryKind, int | None], Decimal] = {
        (EntryKind(kind), payer): ledger.decimal_of(cents) for kind, payer, cents in rows
    }
    mine = claim.payer_id
    to_patient = sums.get((EntryKind.TRANSFER, None), ZERO)
    moved_away = -sums.get((EntryKind.TRANSFER, mine), ZERO)
    return ClaimMoney(
        billed=claim.billed,
        paid=-sums.get((EntryKind.PAYMENT, mine), ZERO),
        adjusted=-sums.get((EntryKind.ADJUSTMENT, mine), ZERO),
        to_patient=to_patient,
        to_other_payer=moved_away - to_patient,
        open=still_open(session, [claim.id]).get(claim.id, ZERO),
    )


def still_open(session: Session, claim_ids: Sequence[int]) -> dict[int, Decimal]:
    """Per claim, what is still owed on its lines' entries on the payer's side: their
    amounts less everything allocated to them (two queries for any number of claims)."""
    if not claim_ids:
        return {}
    ids = list(claim_ids)
    owed = session.execute(
        select(ClaimLine.claim_id, ledger.cents_sum(LedgerEntry.amount))
        .join(LedgerEntry, LedgerEntry.id == ClaimLine.entry_id)
        .where(ClaimLine.claim_id.in_(ids))
        .group_by(ClaimLine.claim_id)
    ).all()
    allocated = dict(
        session.execute(
            select(ClaimLine.claim_id, ledger.cents_sum(Allocation.amount))
            .join(Allocation, Allocation.debit_id == ClaimLine.entry_id)
            .where(ClaimLine.claim_id.in_(ids))
            .group_by(ClaimLine.claim_id)
        ).all()
    )
    return {
        claim_id: ledger.decimal_of(cents) - ledger.decimal_of(allocated.get(claim_id, 0))
        for claim_id, cents in owed
    }


def list_claims(
    session: Session,
    actor: Actor,
    *,
    status: ClaimStatus | None = None,
    payer_id: int | None = None,
    patient_id: int | None = None,
    limit: int | None = None,
) -> list[ClaimRow]:
    """Claims newest service date first, with what is still open on each."""
    actor.require(Permission.BILLING_VIEW)
    query = (
        select(Claim, Patient, Payer)
        .join(Patient, Patient.id == Claim.patient_id)
        .join(Payer, Payer.id == Claim.payer_id)
        .order_by(Claim.service_from.desc(), Claim.id.desc())
    )
    if status is not None:
        query = query.where(Claim.status == status)
    if payer_id is not None:
        query = query.where(Claim.payer_id == payer_id)
    if patient_id is not None:
        query = query.where(Claim.patient_id == patient_id)
    if limit is not None:
        query = query.limit(limit)
    found = session.execute(query).all()
    open_by_claim = still_open(session, [claim.id for claim, _, _ in found])
    return [
        ClaimRow(
            id=claim.id,
            number=claim.number,
            patient_id=patient.id,
            patient_name=patient.display_name,
            mrn=patient.mrn,
            payer_name=payer.name,
            rank=claim.rank.value,
            service_from=claim.service_from,
            status=claim.status,
            billed=claim.billed,
            open=open_by_claim.get(claim.id, ZERO),
            filing_deadline=claim.filing_deadline,
            problem_count=len([p for p in claim.problems.splitlines() if p.strip()]),
        )
        for claim, patient, payer in found
    ]


def status_counts(session: Session, actor: Actor) -> list[StatusCount]:
    """How many claims, and how much billed, in each status: in all and per payer."""
    actor.require(Permission.BILLING_VIEW)
    rows = session.execute(
        select(Claim.status, Payer.name, func.count(), ledger.cents_sum(Claim.billed))
        .join(Payer, Payer.id == Claim.payer_id)
        .group_by(Claim.status, Payer.name)
        .order_by(Claim.status, Payer.name)
    ).all()
    per_payer = [
        StatusCount(ClaimStatus(status), name, count, ledger.decimal_of(cents))
        for status, name, count, cents in rows
    ]
    totals: dict[ClaimStatus, tuple[int, Decimal]] = {}
    for row in per_payer:
        count, billed = totals.get(row.status, (0, ZERO))
        totals[row.status] = (count + row.count, billed + row.billed)
    order = list(ClaimStatus)
    by_status = [
        StatusCount(status, "", count, billed)
        for status, (count, billed) in sorted(totals.items(), key=lambda i: order.index(i[0]))
    ]
    return by_status + per_payer


def claim_detail(session: Session, actor: Actor, claim_id: int) -> ClaimDetail:
    """Everything about one claim: lines, problems, history, the payer's answers, money."""
    actor.require(Permission.BILLING_VIEW)
    claim = get_claim(session, claim_id)
    replaced = session.get(Claim, claim.replaces_id) if claim.replaces_id else None
    return ClaimDetail(
        id=claim.id,
        number=claim.number,
        status=claim.status,
        frequency=claim.frequency,
        patient_id=claim.patient_id,
        patient_name=claim.patient.display_name,
        mrn=claim.patient.mrn,
        payer_id=claim.payer_id,
        payer_name=claim.payer.name,
        rank=claim.rank.value,
        member_id=claim.policy.member_id,
        service_from=claim.service_from,
        service_to=claim.service_to,
        diagnoses=claim.diagnosis_codes,
        prior_auth_number=claim.prior_auth_number,
        note=claim.note,
        payer_claim_number=claim.payer_claim_number,
        filing_deadline=claim.filing_deadline,
        appeal_deadline=claim.appeal_deadline,
        submitted_on=claim.submitted_on,
        money=claim_money(session, claim),
        lines=tuple(_line_view(line) for line in claim.lines),
        problems=tuple(p for p in claim.problems.splitlines() if p.strip()),
        history=tuple(
            EventView(e.at, e.actor, e.from_status, e.to_status, e.reason) for e in claim.events
        ),
        remits=tuple(_remit_views(session, claim.id)),
        replaces=replaced.number if replaced is not None else "",
    )


def _line_view(line: ClaimLine) -> LineView:
    return LineView(
        position=line.position,
        service_date=line.service_date,
        code=line.code,
        modifiers=line.modifiers,
        units=line.units,
        billed=line.billed,
        pointers=line.pointers,
        ndc=line.ndc,
        note=line.note,
        description=line.description,
    )


def adjustment_words(adjustment: RemitAdjustment) -> str:
    """``"CO-45 $120.00: <what the code means>"``."""
    text = remit_codes.describe(adjustment.group, adjustment.reason)
    code, _, words = text.partition(": ")
    return f"{code} ${adjustment.amount:,.2f}: {words}" if words else f"{text} ${adjustment.amount}"


def _remit_views(session: Session, claim_id: int) -> list[RemitView]:
    found = session.scalars(
        select(RemitClaim)
        .where(RemitClaim.claim_id == claim_id)
        .options(
            selectinload(RemitClaim.remit),
            selectinload(RemitClaim.lines),
            selectinload(RemitClaim.adjustments),
        )
        .order_by(RemitClaim.id)
    ).all()
    return [_remit_view(rc) for rc in found]


def _remit_view(rc: RemitClaim) -> RemitView:
    claim_level = tuple(adjustment_words(a) for a in rc.adjustments if a.remit_line_id is None)
    return RemitView(
        paid_on=rc.remit.paid_on,
        source=rc.remit.source.label,
        trace_number=rc.remit.trace_number,
        status_code=rc.status_code,
        paid=rc.paid,
        patient_share=rc.patient_share,
        payer_claim_number=rc.payer_claim_number,
        adjustments=claim_level,
        lines=tuple(_remit_line_view(line, rc.adjustments) for line in rc.lines),
    )


def _remit_line_view(line: RemitLine, adjustments: Sequence[RemitAdjustment]) -> RemitLineView:
    mine = tuple(adjustment_words(a) for a in adjustments if a.remit_line_id == line.id)
    remarks = tuple(
        f"{code}: {remit_codes.rarc(code).text}" for code in line.remarks.split(",") if code
    )
    return RemitLineView(line.code, line.billed, line.paid, mine, remarks)
