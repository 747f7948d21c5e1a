"""Superbills: what a self-pay patient sends an insurer to be paid back out of network.

:func:`superbill_view` reads one patient's posted, coded charges in a date range and hands
``documents/superbill.py`` a frozen :class:`~ketadesk.billing.views.SuperbillView`:

1. the charge lines: ``charge`` rows that are posted, carry a CPT/HCPCS code (clinic fees
   have none and never reach an insurer) and whose ledger entry is not reversed;
2. grouped into visits by service date, rendering provider and location, each with its
   location's place-of-service code;
3. each line's charge is its ledger entry's amount and its *paid* is what payments have
   paid on it: money the patient handed over, including a package's prepayment spent on
   the session, but not discounts or other adjustments, which nobody paid;
4. every item an insurer requires is checked before anything is built; if any is missing
   the superbill is refused with :class:`~ketadesk.errors.Incomplete` naming every one
   (the provider's NPI, the practice's TIN, the patient's diagnoses, the subscriber of a
   dependant's policy …), so billing can fix them all at once;
5. the patient's primary policy in force on the last day
   (:func:`~ketadesk.clinic.policies.coverage_on`) gives the member id, and when the patient
   is not its subscriber, the subscriber block (name, date of birth, relationship, group);
6. a drug line (a J code, S0013, or a code whose fee item names a product) carries the
   product's NDC with the dose given (:class:`~ketadesk.billing.views.DrugInfo`): the NDC
   recorded at the dose, else the one the fee item in force on the day holds. A drug line
   without a known NDC or dose is printed as before, without it. The rule is the pure
   :func:`charge_drug`, which the claim builder and the demo generator read too.

:func:`superbill_patients` picks the month's batch: self-pay patients (no insurance policy
in force at any time in the range) with posted coded charges in it.

Both take the acting user and check ``BILLING_VIEW``; :func:`superbill_view` reads one
patient's account, so it also leaves a "view" audit row (through
:func:`~ketadesk.billing.invoices.read_account`) in the caller's transaction.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import groupby

from sqlalchemy import ColumnElement, and_, exists, func, select
from sqlalchemy.orm import Session, aliased, selectinload

from ketadesk.access.permissions import Actor, Permission
from ketadesk.billing import parties
from ketadesk.billing.capture import ESKETAMINE_DRUG_CODES
from ketadesk.billing.claims.coding import kit_ndc
from ketadesk.billing.fees import Fee
from ketadesk.billing.invoices import read_account
from ketadesk.billing.ledger import cents_sum, decimal_of
from ketadesk.billing.models import (
    Allocation,
    Charge,
    ChargeStatus,
    EntryKind,
    FeeItem,
    LedgerEntry,
)
from ketadesk.billing.views import (
    DiagnosisInfo,
    DrugInfo,
    SubscriberInfo,
    SuperbillLine,
    SuperbillView,
    SuperbillVisit,
)
from ketadesk.clinic.codes import NDC_UNIT_MILLIGRAM, is_drug_code
from ketadesk.clinic.models import InsurancePolicy, Location, Patient, Provider, Relationship
from ketadesk.clinic.policies import coverage_on, in_force
from ketadesk.errors import Incomplete, InvalidValue, NotFound
from ketadesk.money import ZERO
from ketadesk.scheduling.models import Route, TreatmentSession

_Reversal = aliased(LedgerEntry)
_Own = aliased(LedgerEntry)


@dataclass(frozen=True)
class _Line:
    """A billable line as read: the posted charge and its ledger entry's sums."""

    charge: Charge
    amount: Decimal  # the ledger entry's amount
    paid: Decimal  # by payments (package prepayments included)
    owed: Decimal  # still open on the entry


def _billable(date_from: date, date_to: date) -> list[ColumnElement[bool]]:
    """Conditions for a superbill line: posted, coded, in range, entry not reversed, and
    on the patient's own side (a charge the clinic claims from an insurer itself is not
    the patient's to send)."""
    return [
        Charge.status == ChargeStatus.POSTED,
        Charge.code != "",
        Charge.entry_id.is_not(None),
        Charge.service_date >= date_from,
        Charge.service_date <= date_to,
        ~exists().where(_Reversal.reverses_id == Charge.entry_id),
        exists().where(_Own.id == Charge.entry_id, _Own.payer_id.is_(None)),
    ]


def superbill_view(
    session: Session,
    actor: Actor,
    patient_id: int,
    date_from: date,
    date_to: date,
    *,
    issued_on: date,
) -> SuperbillView:
    """The superbill of ``patient_id``'s visits from ``date_from`` to ``date_to``.

    Raises :class:`NotFound` when the patient does not exist or has nothing to bill in the
    range (saying how many charges are still in review), and :class:`Incomplete` listing
    every required item that is missing.
    """
    if date_to < date_from:
        raise InvalidValue(
            f"the period ends ({date_to.isoformat()}) before it starts ({date_from.isoformat()})"
        )
    read_account(session, actor, patient_id, "superbill")
    patient = session.get(
        Patient,
        patient_id,
        options=[selectinload(Patient.diagnoses)],
    )
    if patient is None:
        raise NotFound(f"there is no patient {patient_id}")
    name = parties.printed_name(patient.given_name, patient.middle_name, patient.family_name)
    lines = _lines(session, patient_id, date_from, date_to)
    if not lines:
        raise NotFound(_nothing_to_bill(session, patient_id, name, date_from, date_to))
    locations = {line.charge.location_id: line.charge.location for line in lines}
    practice_location = _practice_location(lines, locations)
    diagnoses = parties.diagnoses_info(patient)
    policy = coverage_on(session, patient_id, date_to).primary
    someone_elses = (
        policy
        if policy is not None and policy.relationship_to_subscriber is not Relationship.SELF
        else None
    )  # the patient is a dependant on it: the subscriber must be printed
    missing = _missing(patient, name, diagnoses, lines, locations)
    if someone_elses is not None and not someone_elses.subscriber_name.strip():
        missing.append(
            f"the subscriber's name on {name}'s {someone_elses.payer.name} policy "
            f"({name} is the subscriber's {someone_elses.relationship_to_subscriber.value})"
        )
    if missing:
        raise Incomplete(f"The superbill for {name}", missing)
    drugs = drug_info(session, [line.charge for line in lines])
    visits = _visits(lines, diagnoses, practice_location, drugs)
    total = sum((line.amount for line in lines), ZERO)
    paid = sum((line.paid for line in lines), ZERO)
    return SuperbillView(
        number=f"SB-{patient.mrn}-{date_from:%Y%m%d}-{date_to:%Y%m%d}",
        practice=parties.practice_info(practice_location),
        patient=parties.patient_info(patient, date_to),
        period_from=date_from,
        period_to=date_to,
        issued_on=issued_on,
        diagnoses=diagnoses,
        visits=visits,
        total_charges=total,
        total_paid=paid,
        balance=sum((line.owed for line in lines), ZERO),
        subscriber=_subscriber(someone_elses) if someone_elses is not None else None,
        group_number=policy.group_number if policy is not None and someone_elses is None else "",
    )


def _subscriber(policy: InsurancePolicy) -> SubscriberInfo:
    return SubscriberInfo(
        name=policy.subscriber_name,
        date_of_birth=policy.subscriber_dob,
        relationship=policy.relationship_to_subscriber.value,
        payer_name=policy.payer.name,
        member_id=policy.member_id,
        group_number=policy.group_number,
    )


def drug_info(session: Session, charges: Sequence[Charge]) -> dict[int, DrugInfo]:
    """Charge id -> the product and dose of each drug line whose NDC and dose are known:
    what a superbill and a claim print on a drug line.

    Two queries: the treatment sessions of the charges (dose, route, NDC recorded at the
    dose) and the fee items of their codes that name a product; each charge is then read
    by the pure :func:`charge_drug`.
    """
    session_ids = {c.session_id for c in charges if c.session_id is not None}
    doses = {
        ts.id: DoseGiven(ts.dose_mg, ts.route, ts.ndc)
        for ts in session.scalars(
            select(TreatmentSession).where(TreatmentSession.id.in_(session_ids))
        )
    }
    products = drug_products(session, {c.code for c in charges})
    found: dict[int, DrugInfo] = {}
    for charge in charges:
        given = doses.get(charge.session_id) if charge.session_id is not None else None
        drug = charge_drug(
            charge.code, charge.modifiers, charge.description, charge.service_date, given, products
        )
        if drug is not None:
            found[charge.id] = drug
    return found


@dataclass(frozen=True)
class DoseGiven:
    """What the floor recorded at a session's dose: how much, how, and which product."""

    dose_mg: Decimal | None
    route: Route | None
    ndc: str = ""  # 11 digits; blank when the floor recorded none


def drug_products(session: Session, codes: Collection[str] | None = None) -> list[Fee]:
    """The fee items (of ``codes``, or all) that name a product, active ones first: what
    :func:`charge_drug` picks a drug line's product from."""
    query = select(FeeItem).where(FeeItem.ndc != "").order_by(FeeItem.active.desc(), FeeItem.id)
    if codes is not None:
        query = query.where(FeeItem.code.in_(codes))
    return [Fee.of(item) for item in session.scalars(query)]


def charge_drug(
    code: str,
    modifiers: str,
    description: str,
    day: date,
    given: DoseGiven | None,
    products: Sequence[Fee],
) -> DrugInfo | None:
    """The product and dose a drug line prints (pure), or None when it is not a drug line
    or its NDC or dose is unknown.

    A line is a drug line when its code is a drug code or a fee item of ``products`` names a
    product for it on ``day``. Its NDC is the one recorded at the dose, else that fee
    item's, else for esketamine the Spravato dose kit of that many mg (:func:`kit_ndc`).
    """
    fee = product_for(products, code, modifiers, day)
    if (fee is None and not is_drug_code(code)) or given is None:
        return None
    ndc = given.ndc or (fee.ndc if fee is not None else "")
    if not ndc and code in ESKETAMINE_DRUG_CODES:
        ndc = kit_ndc(given.dose_mg)  # the Spravato dose kit of that many mg
    if not ndc or given.dose_mg is None:
        return None
    route = f" {given.route.label}" if given.route is not None else ""
    return DrugInfo(
        ndc=ndc,
        name=(fee.drug_name if fee is not None else "") or description,
        quantity=given.dose_mg,
        unit=NDC_UNIT_MILLIGRAM,
        dose=f"{given.dose_mg} mg{route}",
    )


def product_for(products: Sequence[Fee], code: str, modifiers: str, day: date) -> Fee | None:
    """The fee item naming the product of ``code`` on ``day``, one with the line's own
    modifiers first, else the first of ``products`` in force."""
    usable = [f for f in products if f.code == code and f.ndc and f.in_force(day)]
    same = [f for f in usable if f.modifiers == modifiers]
    return next(iter(same or usable), None)


def _lines(session: Session, patient_id: int, date_from: date, date_to: date) -> list[_Line]:
    charges = session.scalars(
        select(Charge)
        .where(Charge.patient_id == patient_id, *_billable(date_from, date_to))
        .options(selectinload(Charge.provider), selectinload(Charge.location))
        .order_by(Charge.service_date, Charge.provider_id, Charge.id)
    ).all()
    if not charges:
        return []
    entry_ids = [c.entry_id for c in charges if c.entry_id is not None]
    amounts: dict[int, Decimal] = dict(
        session.execute(
            select(LedgerEntry.id, LedgerEntry.amount).where(LedgerEntry.id.in_(entry_ids))
        ).all()
    )
    credit = aliased(LedgerEntry)
    allocated: dict[int, Decimal] = {}
    paid: dict[int, Decimal] = {}
    for debit_id, kind, cents in session.execute(
        select(Allocation.debit_id, credit.kind, cents_sum(Allocation.amount))
        .join(credit, credit.id == Allocation.credit_id)
        .where(Allocation.debit_id.in_(entry_ids))
        .group_by(Allocation.debit_id, credit.kind)
    ):
        amount = decimal_of(cents)
        allocated[debit_id] = allocated.get(debit_id, ZERO) + amount
        if kind is EntryKind.PAYMENT:
            paid[debit_id] = paid.get(debit_id, ZERO) + amount
    result = []
    for charge in charges:
        entry_id = charge.entry_id
        if entry_id is None:  # never: the query selects posted charges only
            continue
        amount = amounts[entry_id]
        result.append(
            _Line(
                charge=charge,
                amount=amount,
                paid=paid.get(entry_id, ZERO),
                owed=amount - allocated.get(entry_id, ZERO),
            )
        )
    return result


def _nothing_to_bill(
    session: Session, patient_id: int, name: str, date_from: date, date_to: date
) -> str:
    pending = session.scalar(
        select(func.count(Charge.id)).where(
            Charge.patient_id == patient_id,
            Charge.status == ChargeStatus.PENDING,
            Charge.code != "",
            Charge.service_date >= date_from,
            Charge.service_date <= date_to,
        )
    )
    sentence = (
        f"{name} has no posted services from {_us(date_from)} to {_us(date_to)} "
        "to put on a superbill"
    )
    if pending:
        plural = "charge is" if pending == 1 else "charges are"
        sentence += f"; {pending} {plural} still in the review queue"
    return sentence


def _practice_location(lines: list[_Line], locations: dict[int, Location]) -> Location:
    """The location most of the visits were at; on a tie the earliest visit's, then the
    location created first (so the same lines always give the same practice)."""
    visits = {(line.charge.service_date, line.charge.location_id) for line in lines}
    counts = Counter(location_id for _day, location_id in visits)
    first_seen: dict[int, date] = {}
    for day, location_id in sorted(visits):
        first_seen.setdefault(location_id, day)
    best = max(counts, key=lambda lid: (counts[lid], -first_seen[lid].toordinal(), -lid))
    return locations[best]


def _missing(
    patient: Patient,
    name: str,
    diagnoses: tuple[DiagnosisInfo, ...],
    lines: list[_Line],
    locations: dict[int, Location],
) -> list[str]:
    """Every required item that is missing, in words, in the order a reader checks them."""
    missing: list[str] = []  # the date of birth needs no check: the database requires it
    if not diagnoses:
        missing.append(f"a diagnosis (ICD-10-CM code) on {name}'s chart")
    for location in sorted(locations.values(), key=lambda loc: loc.code):
        missing += _location_missing(location)
    providers: dict[int, Provider] = {}
    for line in lines:
        charge = line.charge
        if charge.provider is None:
            missing.append(f"the rendering provider of {charge.code} on {_us(charge.service_date)}")
        else:
            providers[charge.provider.id] = charge.provider
    for provider in sorted(providers.values(), key=lambda p: p.id):
        who = parties.printed_name(provider.given_name, "", provider.family_name)
        if not provider.npi.strip():
            missing.append(f"the NPI of rendering provider {who}")
        if not provider.credentials.strip():
            missing.append(f"the credentials of rendering provider {who} (MD, DO, NP …)")
    return missing


def _location_missing(location: Location) -> list[str]:
    where = f"{location.name} ({location.code})"
    missing = []
    if not location.npi.strip():
        missing.append(f"the organisation NPI of {where}")
    if not location.tin.strip():
        missing.append(f"the TIN (tax identification number) of {where}")
    address = (location.address_line1, location.city, location.state, location.zip_code)
    if not all(part.strip() for part in address):
        missing.append(f"the full street address of {where}")
    if not location.phone.strip():
        missing.append(f"the phone number of {where}")
    if not location.pos_code.strip():
        missing.append(f"the place-of-service code of {where}")
    return missing


def _visits(
    lines: list[_Line],
    diagnoses: tuple[DiagnosisInfo, ...],
    practice: Location,
    drugs: dict[int, DrugInfo],
) -> tuple[SuperbillVisit, ...]:
    """Lines grouped by service date, provider and place, in date order."""
    visits = []
    key = _visit_key
    for (day, _provider_id, _location_id), group in groupby(sorted(lines, key=key), key=key):
        members = list(group)
        first = members[0].charge
        if first.provider is None:  # never: _missing refused the superbill first
            raise Incomplete("The superbill", [f"the rendering provider of {first.code}"])
        visits.append(
            SuperbillVisit(
                service_date=day,
                pos_code=first.location.pos_code,
                provider=parties.provider_info(first.provider),
                lines=tuple(
                    _line(line, len(diagnoses), drugs.get(line.charge.id)) for line in members
                ),
                facility=_facility(first.location) if first.location_id != practice.id else "",
            )
        )
    return tuple(visits)


def _visit_key(line: _Line) -> tuple[date, int, int]:
    charge = line.charge
    return (charge.service_date, charge.provider_id or 0, charge.location_id)


def _line(line: _Line, diagnosis_count: int, drug: DrugInfo | None) -> SuperbillLine:
    charge = line.charge
    return SuperbillLine(
        code=charge.code,
        modifiers=charge.modifiers,
        description=charge.description,
        units=charge.units,
        diagnosis_pointers=pointers(charge.diagnosis_pointers, diagnosis_count),
        charge=line.amount,
        paid=line.paid,
        drug=drug,
    )


def pointers(stored: str, diagnosis_count: int) -> str:
    """A line's diagnosis pointers as letters ("A,B"), keeping only diagnoses the patient
    has; a line pointing at none points at the primary diagnosis, A, because an insurer
    rejects a service line without a pointer."""
    kept = [p for p in stored.split(",") if p.strip().isdigit() and 1 <= int(p) <= diagnosis_count]
    letters = parties.pointer_letters(",".join(kept))
    return letters or ("A" if diagnosis_count else "")


def _facility(location: Location) -> str:
    street = ", ".join(p for p in (location.address_line1, location.address_line2) if p)
    return f"{location.name}, {street}, {location.city}, {location.state} {location.zip_code}"


def _us(day: date) -> str:
    return f"{day.month:02}/{day.day:02}/{day.year}"


def superbill_patients(
    session: Session,
    actor: Actor,
    date_from: date,
    date_to: date,
    *,
    location_id: int | None = None,
) -> list[int]:
    """Ids of self-pay patients with posted, coded charges from ``date_from`` to
    ``date_to`` (at ``location_id`` when given), in id order: the month's batch.

    Self-pay here means no active insurance policy in force on any day of the range.
    """
    actor.require(Permission.BILLING_VIEW)
    insured = exists().where(
        InsurancePolicy.patient_id == Charge.patient_id, in_force(date_from, date_to)
    )
    query = (
        select(Charge.patient_id)
        .where(and_(*_billable(date_from, date_to)), ~insured)
        .distinct()
        .order_by(Charge.patient_id)
    )
    if location_id is not None:
        query = query.where(Charge.location_id == location_id)
    return list(session.scalars(query))
