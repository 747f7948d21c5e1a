"""A stored claim as the frozen values it is sent and printed as.

:func:`claim_form` turns a :class:`~.models.Claim` into a
:class:`~ketadesk.billing.edi.model.ClaimForm` (the 837P and the CMS-1500 draw from the same
values); :func:`claim_forms` does it for a batch with the lookups shared. A secondary
claim carries what the primary payer paid and adjusted (coordination of benefits) from
the primary's posted remittance. :func:`appeal_view` is the letter asking a payer to
reconsider a denial.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ketadesk.access.permissions import Actor, Permission
from ketadesk.billing.claims import remit_codes
from ketadesk.billing.claims.appeal_view import AppealView, DenialReason, DeniedLine
from ketadesk.billing.claims.models import Claim, ClaimLine, RemitAdjustment, RemitClaim
from ketadesk.billing.claims.status import get_claim
from ketadesk.billing.edi import model as x
from ketadesk.billing.invoices import read_account
from ketadesk.billing.parties import practice_info, printed_name
from ketadesk.clinic.models import InsurancePolicy, Location, Patient, Payer, Provider

_SEX = {"F": "F", "M": "M"}  # X12 and the form know F, M and U


def _address(line1: str, line2: str, city: str, state: str, zip_code: str) -> x.Address | None:
    if not (line1 and city and state and zip_code):
        return None
    return x.Address(line1=line1, line2=line2, city=city, state=state, zip_code=zip_code)


def _patient(patient: Patient) -> x.Person:
    return x.Person(
        family_name=patient.family_name,
        given_name=patient.given_name,
        middle_name=patient.middle_name,
        date_of_birth=patient.date_of_birth,
        sex=_SEX.get(patient.sex.value, "U"),
        address=_address(
            patient.address_line1,
            patient.address_line2,
            patient.city,
            patient.state,
            patient.zip_code,
        ),
        phone=patient.phone,
    )


def _subscriber(policy: InsurancePolicy, patient: x.Person, payer: Payer) -> x.Subscriber:
    if policy.relationship_to_subscriber.value == "self":
        person = patient
    else:
        family, _, given = policy.subscriber_name.partition(",")
        if not given:
            given, _, family = policy.subscriber_name.rpartition(" ")
        person = x.Person(
            family_name=family.strip(),
            given_name=given.strip(),
            date_of_birth=policy.subscriber_dob or patient.date_of_birth,
            sex="U",
            address=patient.address,
        )
    return x.Subscriber(
        person=person,
        member_id=policy.member_id,
        relationship=policy.relationship_to_subscriber.value,
        rank=policy.rank.value,
        group_number=policy.group_number,
        plan_name=payer.name,
        medicare=payer.is_medicare,
    )


def _payer(payer: Payer) -> x.PayerParty:
    return x.PayerParty(
        name=payer.name,
        edi_payer_id=payer.edi_payer_id,
        address=_address(payer.address_line1, "", payer.city, payer.state, payer.zip_code),
    )


def _billing(location: Location) -> x.BillingProvider:
    address = _address(
        location.address_line1,
        location.address_line2,
        location.city,
        location.state,
        location.zip_code,
    )
    if address is None:
        raise ValueError(f"location {location.code} has no full address")
    return x.BillingProvider(
        name=location.name,
        npi=location.npi,
        tin=location.tin,
        address=address,
        phone=location.phone,
    )


def _rendering(provider: Provider | None, location: Location) -> x.RenderingProvider:
    if provider is None:
        return x.RenderingProvider(family_name="", given_name="", npi="")
    return x.RenderingProvider(
        family_name=provider.family_name,
        given_name=provider.given_name,
        npi=provider.npi,
        credentials=provider.credentials,
    )


def _line(line: ClaimLine, earlier: tuple[x.LinePayment, ...]) -> x.ServiceLine:
    return x.ServiceLine(
        line_id=str(line.id),
        service_date=line.service_date,
        code=line.code,
        charge=line.billed,
        units=Decimal(line.units),
        pointers=tuple(line.pointer_list),
        modifiers=tuple(line.modifier_list),
        description=line.note if line.code == "J3490" else "",
        ndc=line.ndc,
        ndc_quantity=line.ndc_quantity,
        ndc_unit=line.ndc_unit,
        note=line.note,
        earlier_payments=earlier,
    )


def claim_form(
    session: Session,
    claim: Claim,
    *,
    places: dict[int, Location] | None = None,
    providers: dict[int, Provider] | None = None,
) -> x.ClaimForm:
    """``claim`` as it is sent: every value the 837P and the CMS-1500 need. ``places`` and
    ``providers`` (by id) spare a batch a lookup per claim."""
    patient = _patient(claim.patient)
    location = (places or {}).get(claim.location_id) or session.get(Location, claim.location_id)
    if location is None:
        raise ValueError(f"claim {claim.number} names no location")
    provider = None
    if claim.provider_id:
        provider = (providers or {}).get(claim.provider_id) or session.get(
            Provider, claim.provider_id
        )
    others, earlier = _primary_payments(session, claim)
    return x.ClaimForm(
        claim_number=claim.number,
        billing=_billing(location),
        rendering=_rendering(provider, location),
        payer=_payer(claim.payer),
        subscriber=_subscriber(claim.policy, patient, claim.payer),
        patient=patient,
        diagnoses=claim.diagnosis_codes,
        lines=tuple(_line(line, earlier.get(line.id, ())) for line in claim.lines),
        place_of_service=location.pos_code,
        frequency=claim.frequency,
        original_reference=claim.payer_claim_number if claim.frequency != "1" else "",
        prior_authorization=claim.prior_auth_number,
        note=claim.note,
        other_payers=others,
        signed_on=claim.submitted_on or claim.created_at.date(),
    )


def printed_claim(session: Session, actor: Actor, claim_id: int) -> x.ClaimForm:
    """Claim ``claim_id`` as the CMS-1500 prints it, read for ``actor``: it needs
    ``BILLING_VIEW`` and leaves a "view" audit row in the caller's transaction, as every read
    of a patient's account does (:func:`ketadesk.billing.invoices.read_account`)."""
    claim = get_claim(session, claim_id)
    read_account(session, actor, claim.patient_id, "claim_form")
    return claim_form(session, claim)


def claim_forms(session: Session, claim_ids: Sequence[int]) -> list[x.ClaimForm]:
    claims = session.scalars(
        select(Claim)
        .where(Claim.id.in_(list(claim_ids)))
        .options(
            selectinload(Claim.lines),
            selectinload(Claim.patient),
            selectinload(Claim.payer),
            selectinload(Claim.policy),
        )
        .order_by(Claim.id)
    ).all()
    places = {loc.id: loc for loc in session.scalars(select(Location))}
    providers = {p.id: p for p in session.scalars(select(Provider))}
    return [claim_form(session, c, places=places, providers=providers) for c in claims]


def _primary_payments(
    session: Session, claim: Claim
) -> tuple[tuple[x.OtherPayer, ...], dict[int, tuple[x.LinePayment, ...]]]:
    """On a secondary claim: what the primary paid and adjusted, claim- and line-level."""
    if claim.primary_claim_id is None:
        return (), {}
    primary = session.get(Claim, claim.primary_claim_id)
    answer = session.scalars(
        select(RemitClaim)
        .where(RemitClaim.claim_id == claim.primary_claim_id, RemitClaim.posted.is_(True))
        .options(
            selectinload(RemitClaim.lines),
            selectinload(RemitClaim.adjustments),
            selectinload(RemitClaim.remit),
        )
        .order_by(RemitClaim.id.desc())
    ).first()
    if primary is None or answer is None:
        return (), {}
    paid_on = answer.remit.paid_on
    patient = _patient(claim.patient)
    other = x.OtherPayer(
        payer=_payer(primary.payer),
        subscriber=_subscriber(primary.policy, patient, primary.payer),
        paid=answer.paid,
        paid_on=paid_on,
        payer_claim_number=answer.payer_claim_number,
    )
    by_line = _line_payments(answer, primary, claim, paid_on)
    return (other,), by_line


def _line_payments(
    answer: RemitClaim, primary: Claim, claim: Claim, paid_on: date
) -> dict[int, tuple[x.LinePayment, ...]]:
    """Secondary line id -> the primary's payment of the same charge."""
    entry_of = {line.id: line.charge_id for line in primary.lines}
    secondary_of = {line.charge_id: line.id for line in claim.lines}
    found: dict[int, tuple[x.LinePayment, ...]] = {}
    for remit_line in answer.lines:
        entry = entry_of.get(remit_line.claim_line_id or 0)
        target = secondary_of.get(entry) if entry is not None else None
        if target is None:
            continue
        adjustments = tuple(
            x.Adjustment(a.group, a.reason, a.amount)
            for a in answer.adjustments
            if a.remit_line_id == remit_line.id
        )
        found[target] = (
            x.LinePayment(
                primary.payer.edi_payer_id,
                remit_line.code,
                remit_line.paid,
                int(remit_line.units),
                adjustments,
                paid_on,
            ),
        )
    return found


# ---------------------------------------------------------------------------------------
# The appeal letter
# ---------------------------------------------------------------------------------------


def appeal_view(
    session: Session,
    actor: Actor,
    claim_id: int,
    *,
    body: str,
    signer_name: str,
    signer_title: str,
    on: date,
    enclosures: Sequence[str] = (),
) -> AppealView:
    """The request for reconsideration of ``claim_id``'s denied lines."""
    actor.require(Permission.CLAIM_WORK)
    claim = get_claim(session, claim_id)
    location = session.get(Location, claim.location_id)
    if location is None:
        raise ValueError(f"claim {claim.number} names no location")
    answer = session.scalars(
        select(RemitClaim)
        .where(RemitClaim.claim_id == claim.id)
        .options(
            selectinload(RemitClaim.lines),
            selectinload(RemitClaim.adjustments),
            selectinload(RemitClaim.remit),
        )
        .order_by(RemitClaim.id.desc())
    ).first()
    provider = session.get(Provider, claim.provider_id) if claim.provider_id else None
    payer = claim.payer
    address = _address(payer.address_line1, "", payer.city, payer.state, payer.zip_code)
    return AppealView(
        practice=practice_info(location),
        payer_name=payer.name,
        payer_address_lines=(
            (address.line1, f"{address.city}, {address.state} {address.zip_code}")
            if address is not None
            else ()
        ),
        patient_name=printed_name(
            claim.patient.given_name, claim.patient.middle_name, claim.patient.family_name
        ),
        patient_date_of_birth=claim.patient.date_of_birth,
        member_id=claim.policy.member_id,
        claim_number=claim.number,
        payer_claim_number=claim.payer_claim_number,
        service_dates=tuple(sorted({line.service_date for line in claim.lines})),
        denied_lines=tuple(_denied_lines(claim, answer)),
        appeal_deadline=claim.appeal_deadline,
        body=body,
        signer_name=signer_name,
        signer_title=signer_title,
        letter_date=on,
        group_number=claim.policy.group_number,
        rendering_provider=provider.display_name if provider is not None else "",
        rendering_npi=provider.npi if provider is not None else "",
        denial_date=answer.remit.paid_on if answer is not None else None,
        enclosures=tuple(enclosures),
    )


def _denied_lines(claim: Claim, answer: RemitClaim | None) -> list[DeniedLine]:
    if answer is None:
        return []
    lines = {line.id: line for line in claim.lines}
    found = []
    for remit_line in answer.lines:
        denials = [
            a
            for a in answer.adjustments
            if a.remit_line_id == remit_line.id and remit_codes.is_denial(a.group, a.reason)
        ]
        line = lines.get(remit_line.claim_line_id or 0)
        if not denials or line is None:
            continue
        found.append(
            DeniedLine(
                service_date=line.service_date,
                code=line.code,
                description=line.description,
                billed=line.billed,
                reasons=tuple(_reasons(denials, remit_line.remarks)),
                modifiers=tuple(line.modifier_list),
                units=Decimal(line.units),
            )
        )
    return found


def _reasons(denials: Sequence[RemitAdjustment], remarks: str) -> list[DenialReason]:
    reasons = [DenialReason(a.reason, remit_codes.carc(a.reason).text, a.group) for a in denials]
    reasons += [
        DenialReason(code, remit_codes.rarc(code).text) for code in remarks.split(",") if code
    ]
    return reasons
