"""The demo's insurance claims: built, sent and answered as the claim services do it.

The money stage replays years of claims in memory (:mod:`ketadesk.demo.money_claims`) and
writes them with bulk inserts. These tests read the result back through the claim views and
the ledger's own sums: claims in every part of their cycle, histories that only take the
moves the status service allows, remittances that balance line by line and claim by claim,
and books whose insurer and patient sides add up to every entry.
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from ketadesk.access.permissions import Actor, Role
from ketadesk.billing import ledger
from ketadesk.billing.claims import remit_codes, scrubber, views
from ketadesk.billing.claims.building import G_CODES, claim_drug
from ketadesk.billing.claims.models import (
    NEXT_STATUSES,
    Claim,
    ClaimEvent,
    ClaimLine,
    ClaimStatus,
    RemitAdjustment,
    RemitClaim,
    RemitLine,
)
from ketadesk.billing.edi.validate import problems
from ketadesk.billing.edi.x835 import read_835
from ketadesk.billing.models import Allocation, Charge, EntryKind, LedgerEntry
from ketadesk.billing.superbill import drug_info
from ketadesk.clinic.models import Payer
from ketadesk.db import Database
from ketadesk.demo import samples
from ketadesk.demo.generator import Accounts, DemoSpec, generate
from ketadesk.migrations import open_database
from ketadesk.money import ZERO

TODAY = date(2026, 11, 18)
NOW = datetime(2026, 11, 18, 18, 0, tzinfo=UTC)
READER = Actor(username="test-billing", role=Role.BILLING)
SPEC = DemoSpec(
    patients=300, years=2, locations=3, seed=11, today=TODAY, now=NOW, accounts=Accounts.NONE
)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    made = open_database(f"sqlite:///{tmp_path_factory.mktemp('claims') / 'demo.sqlite3'}")
    generate(made, SPEC)
    yield made
    made.dispose()


def test_payers_are_set_up_as_a_clinic_would(db: Database) -> None:
    with db.reading() as s:
        payers = {p.name: p for p in s.scalars(select(Payer))}
    medicare = [p for p in payers.values() if p.is_medicare]
    assert medicare and all(
        p.esketamine_billing == "g_code" and p.rems_kx and not p.bills_drug for p in medicare
    )
    commercial = [p for p in payers.values() if not p.is_medicare]
    assert all(p.esketamine_billing == "visit" and "J0013" in p.covered for p in commercial)
    assert not payers["Humana"].in_network and payers["Aetna"].in_network
    assert "96365" in payers["Premera Blue Cross"].covered
    assert "96365" not in payers["Aetna"].covered


def test_the_demo_has_claims_in_every_part_of_their_cycle(db: Database) -> None:
    with db.reading() as s:
        counts = {
            row.status: row.count for row in views.status_counts(s, READER) if not row.payer_name
        }
        reasons = Counter(a.reason for a in s.scalars(select(RemitAdjustment)) if a.group == "CO")
        events = Counter(e.to_status for e in s.scalars(select(ClaimEvent)))
    for status in (ClaimStatus.PAID, ClaimStatus.CLOSED, ClaimStatus.SUBMITTED):
        assert counts.get(status, 0) > 0, status
    assert counts.get(ClaimStatus.READY, 0) + counts.get(ClaimStatus.DRAFT, 0) > 0
    assert counts[ClaimStatus.PAID] > sum(counts.values()) / 2  # most claims are paid
    assert events[ClaimStatus.PARTLY_PAID] > 0 and events[ClaimStatus.DENIED] > 0
    assert events[ClaimStatus.APPEALED] > 0
    assert reasons["45"] > 100
    assert {"50", "197", "16", "27", "97"} <= set(reasons)
    # An appeal that was won: appealed, then paid.
    with db.reading() as s:
        won = _histories(s)
    assert any(history[-2:] == [ClaimStatus.APPEALED, ClaimStatus.PAID] for history in won.values())


def _histories(s: Session) -> dict[int, list[ClaimStatus]]:
    found: dict[int, list[ClaimStatus]] = defaultdict(list)
    for event in s.scalars(select(ClaimEvent).order_by(ClaimEvent.id)):
        found[event.claim_id].append(event.to_status)
    return found


def test_every_history_takes_only_the_moves_the_status_service_allows(db: Database) -> None:
    with db.reading() as s:
        histories = _histories(s)
        claims = {c.id: c for c in s.scalars(select(Claim))}
    assert histories.keys() == claims.keys()
    for claim_id, history in histories.items():
        assert history[0] is ClaimStatus.DRAFT
        for was, then in itertools.pairwise(history):
            assert then in NEXT_STATUSES[was], (claim_id, history)
        assert history[-1] is claims[claim_id].status
        assert claims[claim_id].version == len(history)


def test_ready_claims_have_no_problems_and_drafts_say_what_to_fix(db: Database) -> None:
    with db.reading() as s:
        for claim in s.scalars(select(Claim).options(selectinload(Claim.lines))):
            if claim.status is ClaimStatus.DRAFT:
                assert claim.problems
                continue
            assert claim.problems == ""
            if any(line.code in scrubber.NEEDS_PRIOR_AUTH for line in claim.lines):
                assert claim.prior_auth_number  # esketamine is never sent without one


def test_every_remittance_balances_line_by_line_and_claim_by_claim(db: Database) -> None:
    with db.reading() as s:
        lines = s.scalars(select(RemitLine)).all()
        adjustments: dict[int, list[RemitAdjustment]] = defaultdict(list)
        for a in s.scalars(select(RemitAdjustment)):
            assert a.remit_line_id is not None
            adjustments[a.remit_line_id].append(a)
        for line in lines:
            assert line.paid + sum((a.amount for a in adjustments[line.id]), ZERO) == line.billed
        for remit_claim in s.scalars(select(RemitClaim)):
            mine = [line for line in lines if line.remit_claim_id == remit_claim.id]
            assert sum((line.paid for line in mine), ZERO) == remit_claim.paid
            assert sum((line.billed for line in mine), ZERO) == remit_claim.billed
            shares = sum(
                (a.amount for line in mine for a in adjustments[line.id] if a.group == "PR"),
                ZERO,
            )
            assert shares == remit_claim.patient_share
            assert remit_claim.posted


def test_each_claim_line_is_paid_adjusted_moved_or_still_open(db: Database) -> None:
    """paid + adjustments + patient share + open = billed, on the ledger, for every line."""
    with db.reading() as s:
        entries = {
            e.id: e for e in s.scalars(select(LedgerEntry).where(LedgerEntry.payer_id.is_not(None)))
        }
        applied: dict[int, Decimal] = defaultdict(lambda: ZERO)
        for debit_id, amount in s.execute(select(Allocation.debit_id, Allocation.amount)):
            applied[debit_id] += amount
        claims = {c.id: c for c in s.scalars(select(Claim))}
        for line in s.scalars(select(ClaimLine)):
            charge = entries[line.entry_id]
            assert (
                charge.kind is EntryKind.CHARGE
                and charge.payer_id == claims[line.claim_id].payer_id
            )
            assert charge.amount == line.billed
            left = line.billed - applied[line.entry_id]
            assert ZERO <= left <= line.billed
            status = claims[line.claim_id].status
            if status is ClaimStatus.PAID:
                assert left == ZERO
            if status is ClaimStatus.DENIED:
                assert left == line.billed  # a denial stays open on the payer's side


def test_insurer_and_patient_sides_add_up_to_the_ledger(db: Database) -> None:
    with db.reading() as s:
        totals = dict(
            s.execute(
                select(LedgerEntry.patient_id, func.count()).group_by(LedgerEntry.patient_id)
            ).all()
        )
        insured = s.scalars(
            select(LedgerEntry.patient_id).where(LedgerEntry.payer_id.is_not(None)).distinct()
        ).all()
        assert insured
        for patient_id in insured:
            assert totals[patient_id] > 0
            every = sum((line.amount for line in ledger.lines(s, patient_id)), ZERO)
            patient_side = ledger.balance(s, patient_id)
            insurer_side = ledger.insurer_balance(s, patient_id)
            assert patient_side + insurer_side == every


def test_patients_are_invoiced_their_share_and_mostly_pay_it(db: Database) -> None:
    with db.reading() as s:
        shares = s.scalars(
            select(LedgerEntry).where(
                LedgerEntry.kind == EntryKind.TRANSFER,
                LedgerEntry.payer_id.is_(None),
                LedgerEntry.amount > 0,
            )
        ).all()
        assert len(shares) > 20
        assert all(e.description.startswith("Your share of claim CL-") for e in shares)
        paid = dict(
            s.execute(
                select(Allocation.debit_id, func.sum(Allocation.amount))
                .where(Allocation.debit_id.in_([e.id for e in shares]))
                .group_by(Allocation.debit_id)
            ).all()
        )
    settled = sum(1 for e in shares if paid.get(e.id, ZERO) == e.amount)
    assert settled > len(shares) / 2


def test_denials_are_told_in_words(db: Database) -> None:
    with db.reading() as s:
        denied = s.scalars(select(Claim).where(Claim.status == ClaimStatus.DENIED)).all()
        reasons = [e.reason for e in s.scalars(select(ClaimEvent).where(
            ClaimEvent.to_status == ClaimStatus.DENIED))]  # fmt: skip
        for claim in denied:
            assert claim.appeal_deadline is not None and claim.adjudicated_on is not None
    assert reasons and all(
        any(remit_codes.describe("CO", code) in reason for code in ("50", "197", "16", "27", "97"))
        for reason in reasons
    )


def test_insured_sessions_are_coded_for_their_payer(db: Database) -> None:
    """Medicare is billed the G-code bundle with KX and the REMS setting in the note, so no
    claim waits for a modifier 25; commercial payers the visit, prolonged staff time from
    the monitoring minutes and the drug."""
    with db.reading() as s:
        claims = s.scalars(
            select(Claim).options(selectinload(Claim.lines), selectinload(Claim.payer))
        ).all()
    medicare = [c for c in claims if c.payer.is_medicare]
    esketamine = [c for c in claims if any(line.code in ("J0013", "S0013") for line in c.lines)]
    assert medicare and esketamine
    for claim in medicare:
        assert [(line.code in G_CODES, line.modifiers) for line in claim.lines] == [(True, "KX")]
        assert claim.note.startswith("SPRAVATO REMS")
    assert not [c.number for c in claims if "modifier 25" in c.problems]
    # What holds a Medicare claim back is a missing or used-up authorisation, not its coding.
    held = [p for c in medicare for p in c.problems.splitlines()]
    assert all(p.startswith("prior authorisation:") for p in held), held
    assert sum(c.status is ClaimStatus.DRAFT for c in medicare) < len(medicare) / 2
    for claim in esketamine:
        codes = [line.code for line in claim.lines]
        assert codes[:3] == ["99213", "99415", "99416"], codes  # two hours of monitoring


def test_drug_lines_carry_what_the_claim_builder_gives_them(db: Database) -> None:
    """Every drug line has its NDC, quantity and note, as build_claims reads them from the
    session and the fee schedule (superbill.drug_info, building.claim_drug)."""
    with db.reading() as s:
        lines = s.scalars(select(ClaimLine).where(ClaimLine.code.in_(scrubber.NEEDS_NDC))).all()
        assert len(lines) > 20
        charges = {
            c.id: c
            for c in s.scalars(select(Charge).where(Charge.id.in_([x.charge_id for x in lines])))
        }
        drugs = drug_info(s, list(charges.values()))
    for line in lines:
        assert line.charge_id is not None
        drug = drugs[line.charge_id]
        given = claim_drug(line.code, drug)
        assert (line.ndc, line.ndc_quantity, line.ndc_unit, line.note) == (
            given.ndc,
            given.quantity,
            given.unit,
            given.note,
        )
        assert len(line.ndc) == 11 and line.ndc_unit


def test_the_demos_remittances_are_written_as_valid_835_files(db: Database) -> None:
    """The sample writer picks a different remittance for each kind, and each one's 835
    passes pyx12 and reads back as the payer's answer that was posted."""
    with db.reading() as s:
        picked = samples.pick_samples(s)
        assert [name for name, _id in picked] == [name for name, _wanted in samples.SAMPLES]
        assert len({remit_id for _name, remit_id in picked}) == len(picked)
        for _name, remit_id in picked:
            text = samples.sample_835(s, remit_id)
            assert problems(text) == []
            back = read_835(text)
            sent = samples.remittance_of(s, remit_id)
            assert (back.total_paid, back.trace_number, back.paid_on, back.payee_npi) == (
                sent.total_paid, sent.trace_number, sent.paid_on, sent.payee_npi,
            )  # fmt: skip
            assert [c.services for c in back.claims] == [c.services for c in sent.claims]
            assert [c.patient_name for c in back.claims] == [
                c.patient_name.upper() for c in sent.claims
            ]
            stored = s.scalars(
                select(RemitClaim).where(RemitClaim.remit_id == remit_id).order_by(RemitClaim.id)
            ).all()
            assert [(c.claim_number, c.paid, c.patient_responsibility) for c in back.claims] == [
                (c.claim_number, c.paid, c.patient_share) for c in stored
            ]
            claims = {c.claim.location_id for c in stored if c.claim is not None}
            assert len(claims) == 1  # one payee: the location whose claims it pays
