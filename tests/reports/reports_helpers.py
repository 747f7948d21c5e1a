"""Builders shared by the report tests: a small clinic and money posted the way billing posts it.

:func:`report_clinic` builds two locations, two providers, two payers that cover the test
codes, and three patients: one self-pay, one insured by each payer. Every cent then goes
through the real billing services, never a raw insert of money: :func:`charge` adds a charge
by hand and posts it (:func:`ketadesk.billing.review.post_charges` routes it to the insurer
whose policy covers the code, or to the patient); :func:`credit` posts a payment or an
adjustment and applies it to the charges named; :func:`debit` posts a refund or a forfeit;
:func:`transfer` moves an amount between an insurer's side and the patient's; reversals are
:func:`ketadesk.billing.ledger.reverse` itself. Claims are built, sent and answered by the
claim services: :func:`claim_of` builds and checks one, :func:`send` marks it sent, and
:func:`answer` posts a payer's answer typed from a paper EOB (the 835 posting rules).

::

    clinic = report_clinic(session)
    visit = charge(session, clinic, clinic.aetna_patient, "96365", "400.00", date(2026, 3, 2))
    credit(session, clinic.aetna_patient, PAYMENT, "250.00", date(2026, 3, 20), pays=[visit])

Dates default to 2026; the policies are in force from 2020 so any test date is covered.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from builders import (
    SchedulingClinic,
    add_location,
    add_payer,
    add_provider,
    insure,
    patient_raw,
    scheduling_clinic,
)
from scheduling.planning_helpers import existing_session
from sqlalchemy.orm import Session

from ketadesk.access.permissions import Actor, Role
from ketadesk.billing import ledger
from ketadesk.billing.claims import remittance
from ketadesk.billing.claims.actions import mark_submitted
from ketadesk.billing.claims.building import build_claims
from ketadesk.billing.claims.eob import EobForm, EobLine, eob_plan
from ketadesk.billing.claims.models import Claim, ClaimStatus
from ketadesk.billing.models import AdjustmentReason, EntryKind, LedgerEntry, PaymentMethod
from ketadesk.billing.review import add_manual_charge, post_charges
from ketadesk.clinic.models import Location, Patient, Payer, Provider
from ketadesk.clinic.patients import create_patient
from ketadesk.money import ZERO, money
from ketadesk.scheduling.models import SessionStatus, TreatmentSession

ADMIN = Actor(username="test-admin", role=Role.ADMIN)
MANAGER = Actor(username="test-manager", role=Role.MANAGER)
FRONT_DESK = Actor(username="test-front", role=Role.FRONT_DESK)

PAYMENT = EntryKind.PAYMENT
ADJUSTMENT = EntryKind.ADJUSTMENT
REFUND = EntryKind.REFUND
FORFEIT = EntryKind.FORFEIT

COVERED = "96365,99214,G2082,S0013"  # the codes both payers cover


@dataclass
class ReportClinic:
    """Two locations (NYC, BOS), two providers, two payers covering :data:`COVERED`, and a
    self-pay patient and one patient insured by each payer (primary, from 2020)."""

    location: Location
    other_location: Location
    provider: Provider
    other_provider: Provider
    aetna: Payer
    cigna: Payer
    self_pay: Patient
    aetna_patient: Patient
    cigna_patient: Patient
    base: SchedulingClinic  # underneath: chairs and protocols for sessions


def report_clinic(session: Session, actor: Actor = ADMIN) -> ReportClinic:
    base = scheduling_clinic(session, actor)
    other = add_location(session, "BOS", name="KetaDesk Boston", city="Boston", state="MA")
    second = add_provider(
        session, "1245319599", family_name="Brandt", given_name="Lena", credentials="NP"
    )
    aetna = add_payer(session, "Aetna", covered_codes=COVERED)
    cigna = add_payer(session, "Cigna", edi_payer_id="62308", covered_codes=COVERED)
    insured = []
    for payer, name in ((aetna, "Abara"), (cigna, "Castillo")):
        patient = create_patient(
            session,
            actor,
            patient_raw(
                family_name=name,
                given_name="Ines",
                address_line1="22 Orchard St",
                city="New York",
            ),
        )
        insure(session, patient.id, payer_id=payer.id, effective_from=date(2020, 1, 1))
        insured.append(patient)
    for location in (base.location, other):
        location.phone = location.phone or "2125550100"  # claims name it as the contact
    return ReportClinic(
        location=base.location,
        other_location=other,
        provider=base.provider,
        other_provider=second,
        aetna=aetna,
        cigna=cigna,
        self_pay=base.patient,
        aetna_patient=insured[0],
        cigna_patient=insured[1],
        base=base,
    )


def treatment(
    session: Session, clinic: ReportClinic, patient: Patient, protocol: str, starts: datetime
) -> TreatmentSession:
    """A completed session of ``protocol`` (``iv-induction``, ``esketamine-induction``…)
    for ``patient``, so a charge can carry its modality."""
    base = clinic.base
    found = base.protocols[protocol]
    iv = found.modality.value in ("iv", "im")
    chairs = base.iv_chairs if iv else base.esketamine_chairs
    return existing_session(
        session,
        patient,
        found,
        chairs[0],
        clinic.provider,
        starts,
        status=SessionStatus.COMPLETED,
    )


def charge(
    session: Session,
    clinic: ReportClinic,
    patient: Patient,
    code: str,
    price: str,
    on: date,
    *,
    location: Location | None = None,
    provider: Provider | None = None,
    visit: TreatmentSession | None = None,
    actor: Actor = ADMIN,
) -> LedgerEntry:
    """A charge added by hand at ``price`` and posted: on the insurer's side when the
    patient's policy covers ``code``, else on the patient's."""
    line = add_manual_charge(
        session,
        actor,
        patient_id=patient.id,
        location_id=(location or clinic.location).id,
        service_date=on,
        code=code,
        unit_price=price,
        provider_id=(provider or clinic.provider).id,
        session_id=visit.id if visit is not None else None,
    )
    (entry,) = post_charges(session, actor, [line.id], on=on)
    return entry


def credit(
    session: Session,
    patient: Patient,
    kind: EntryKind,
    amount: str,
    on: date,
    *,
    location: Location | None = None,
    payer: Payer | None = None,
    reason: AdjustmentReason | None = None,
    pays: Sequence[LedgerEntry] = (),
    actor: Actor = ADMIN,
) -> LedgerEntry:
    """A payment or adjustment of ``amount`` (given positive), applied to ``pays`` in order
    for as much as each still owes; what is left stays unapplied."""
    entry = ledger.post(
        session,
        actor,
        patient_id=patient.id,
        location_id=(location.id if location else _location_of(session, patient, pays)),
        kind=kind,
        amount=-money(amount),
        posted_on=on,
        description=f"{kind.label} {amount}",
        method=PaymentMethod.CARD if kind is EntryKind.PAYMENT and payer is None else None,
        reason=reason if kind is EntryKind.ADJUSTMENT else None,
        payer_id=payer.id if payer is not None else None,
    )
    left = money(amount)
    for debit in pays:
        take = min(left, ledger.open_amount(session, debit))
        if take > ZERO:
            ledger.allocate(session, actor, entry, debit, take)
            left -= take
    return entry


def debit(
    session: Session,
    patient: Patient,
    kind: EntryKind,
    amount: str,
    on: date,
    *,
    location: Location,
    payer: Payer | None = None,
    paid_from: Sequence[LedgerEntry] = (),
    actor: Actor = ADMIN,
) -> LedgerEntry:
    """A refund or forfeit of ``amount``, settled against the credits ``paid_from``."""
    entry = ledger.post(
        session,
        actor,
        patient_id=patient.id,
        location_id=location.id,
        kind=kind,
        amount=money(amount),
        posted_on=on,
        description=f"{kind.label} {amount}",
        method=PaymentMethod.CARD if kind is EntryKind.REFUND else None,
        payer_id=payer.id if payer is not None else None,
    )
    left = money(amount)
    for source in paid_from:
        take = min(left, ledger.unapplied(session, source))
        if take > ZERO:
            ledger.allocate(session, actor, source, entry, take)
            left -= take
    return entry


def transfer(
    session: Session,
    patient: Patient,
    amount: str,
    on: date,
    *,
    location: Location,
    payer: Payer,
    actor: Actor = ADMIN,
) -> tuple[LedgerEntry, LedgerEntry]:
    """``amount`` moved from ``payer``'s side of the account to the patient's (the pair
    sums to zero), as 835 posting moves a patient's share."""
    drafts = [
        ledger.EntryDraft(
            patient_id=patient.id,
            location_id=location.id,
            kind=EntryKind.TRANSFER,
            amount=sign * money(amount),
            posted_on=on,
            description=f"Patient share {amount}",
            payer_id=side,
        )
        for sign, side in ((Decimal(-1), payer.id), (Decimal(1), None))
    ]
    out, into = ledger.post_many(session, actor, drafts)
    return out, into


def reverse(session: Session, entry: LedgerEntry, on: date, actor: Actor = ADMIN) -> LedgerEntry:
    return ledger.reverse(session, actor, entry, "entered in error", on)


def _location_of(session: Session, patient: Patient, pays: Sequence[LedgerEntry]) -> int:
    if pays:
        return pays[0].location_id
    raise ValueError("say where the credit was taken (location=) when it pays nothing")


def claim_of(session: Session, patient: Patient, *, today: date, actor: Actor = ADMIN) -> Claim:
    """The claim built (and checked) for ``patient``'s unclaimed insurer charges."""
    built = build_claims(session, actor, today=today, patient_id=patient.id)
    (claim_id,) = built.claim_ids
    claim = session.get(Claim, claim_id)
    if claim is None or claim.status is not ClaimStatus.READY:
        problems = claim.problems if claim is not None else "not built"
        raise AssertionError(f"the test claim is not ready: {problems}")
    return claim


def send(session: Session, claim: Claim, on: date, actor: Actor = ADMIN) -> None:
    mark_submitted(session, actor, [claim.id], on=on, how="837P batch")


def answer(
    session: Session,
    claim: Claim,
    paid_on: date,
    *lines: EobLine,
    today: date,
    actor: Actor = ADMIN,
) -> None:
    """The payer's answer typed from a paper EOB and posted by the 835 rules."""
    check = "" if all(not line.paid for line in lines) else "104577"
    form = EobForm(paid_on, check, tuple(lines), payer_claim_number=f"P-{claim.id}")
    plan = eob_plan(session, actor, claim.id, form, today=today)
    remittance.post(session, actor, plan)
