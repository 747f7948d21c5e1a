"""A batch of claims as an X12 837P (005010X222A1), written segment by segment.

The loops of the professional claim, in the order this module writes them::

    ISA GS ST BHT                    envelope and beginning of the transaction
      1000A NM1*41 PER               submitter (the clinic or its clearinghouse account)
      1000B NM1*40                   receiver
      2000A HL*20 PRV                one per distinct billing provider
        2010AA NM1*85 N3 N4 REF*EI   billing provider: NPI, address, TIN
        2000B HL*22 SBR              one per claim: the subscriber and the policy
          2010BA NM1*IL (N3 N4 DMG)  subscriber; address and birth date when it is the patient
          2010BB NM1*PR (N3 N4)      payer
          2000C HL*23 PAT            only when the patient is not the subscriber
            2010CA NM1*QC N3 N4 DMG
          2300 CLM REF NTE HI        the claim: number, total, place, frequency, diagnoses
            2310B NM1*82             rendering provider
            2310C NM1*77 N3 N4       service facility, when given
            2320 SBR CAS AMT*D OI    each earlier payer (coordination of benefits) ...
              2330A NM1*IL           ... its subscriber
              2330B NM1*PR DTP REF   ... and the payer itself
            2400 LX SV1 DTP REF NTE  each service line
              2410 LIN CTP           the drug's NDC and quantity
              2430 SVD CAS DTP       what an earlier payer did with the line
    SE GE IEA

Segments are written here by hand, from the frozen values in :mod:`.model`, rather than with
a library: pyx12 validates but builds nothing, and x12sdk stamps a version pyx12 refuses
(see the claims notes). Each loop is one short function returning its segments.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from decimal import Decimal

from ketadesk.billing.edi.model import (
    CORRECTED,
    ORIGINAL,
    RANK_CODES,
    RELATIONSHIP_CODES,
    VOID,
    Address,
    Batch837,
    BillingProvider,
    ClaimForm,
    LinePayment,
    OtherPayer,
    PayerParty,
    Person,
    ServiceLine,
    Subscriber,
)
from ketadesk.billing.edi.segments import (
    Envelope,
    amount,
    cas,
    composite,
    d8,
    digits,
    interchange,
    procedure,
    quantity,
    segment,
    text,
)
from ketadesk.errors import FieldProblem, ValidationError

VERSION = "005010X222A1"


def write_837p(batch: Batch837) -> str:
    """The 837P file for ``batch``: one interchange, one group, one transaction.

    Raises:
        ValidationError: something the guide requires cannot be written (no claims, a
            void without the original claim number, a pointer past the diagnoses, …);
            every such problem is listed at once.
    """
    problems = batch_problems(batch)
    if problems:
        raise ValidationError(problems)
    envelope = Envelope(
        sender_id=batch.submitter.identifier,
        receiver_id=batch.receiver.identifier,
        control_number=batch.control_number,
        created_at=batch.created_at,
        functional_code="HC",
        version=VERSION,
        transaction="837",
        production=batch.production,
    )
    return interchange(envelope, _header(batch) + _providers(batch.claims))


# --- what cannot be written ------------------------------------------------------------


def batch_problems(batch: Batch837) -> list[FieldProblem]:
    """Every reason ``batch`` cannot become a valid 837P (empty when it can)."""
    problems = []
    if not batch.claims:
        problems.append(FieldProblem("claims", "a claim file needs at least one claim"))
    if not digits(batch.submitter.phone):
        problems.append(
            FieldProblem("submitter", "the submitter needs a contact phone number (1000A PER)")
        )
    for claim in batch.claims:
        problems.extend(_claim_problems(claim))
    return problems


def _claim_problems(claim: ClaimForm) -> list[FieldProblem]:
    field = f"claim {claim.claim_number}"
    found = []
    if not claim.lines:
        found.append("has no service lines")
    if not 1 <= len(claim.diagnoses) <= 12:
        found.append("needs one to twelve diagnoses")
    if claim.frequency not in (ORIGINAL, CORRECTED, VOID):
        found.append(f"has frequency {claim.frequency!r}; it must be 1, 7 (corrected) or 8 (void)")
    if claim.frequency in (CORRECTED, VOID) and not claim.original_reference:
        found.append("replaces or voids a claim, so it needs the payer's original claim number")
    if claim.subscriber.relationship not in RELATIONSHIP_CODES:
        found.append(f"has an unknown relationship {claim.subscriber.relationship!r}")
    patient = claim.subscriber.person if _is_self(claim) else claim.patient
    if patient.address is None:
        found.append("needs the patient's address (N3/N4)")
    found.extend(_line_problems(claim))
    return [FieldProblem(field, sentence) for sentence in found]


def _line_problems(claim: ClaimForm) -> list[str]:
    found = []
    for line in claim.lines:
        name = f"line {line.line_id}"
        if not line.pointers or len(line.pointers) > 4:
            found.append(f"{name} needs one to four diagnosis pointers")
        if any(not 1 <= p <= len(claim.diagnoses) for p in line.pointers):
            found.append(f"{name} points past the claim's {len(claim.diagnoses)} diagnoses")
        if len(line.modifiers) > 4:
            found.append(f"{name} has more than four modifiers")
        if line.ndc and (line.ndc_quantity is None or not line.ndc_unit):
            found.append(f"{name} gives an NDC without its quantity and unit")
    return found


# --- header and the billing provider (2000A) ---------------------------------------------


def _header(batch: Batch837) -> list[str]:
    submitter, receiver, stamp = batch.submitter, batch.receiver, batch.created_at
    return [
        segment("BHT", "0019", "00", str(batch.control_number), d8(stamp),
                stamp.strftime("%H%M"), "CH"),
        _organisation("41", submitter.name, "46", submitter.identifier),
        segment("PER", "IC", text(submitter.contact_name or submitter.name, 60),
                "TE", digits(submitter.phone)),
        _organisation("40", receiver.name, "46", receiver.identifier),
    ]  # fmt: skip


def _providers(claims: tuple[ClaimForm, ...]) -> list[str]:
    """2000A per distinct billing provider, in first-seen order, each with its claims."""
    by_provider: dict[BillingProvider, list[ClaimForm]] = {}
    for claim in claims:
        by_provider.setdefault(claim.billing, []).append(claim)
    numbers = itertools.count(1)
    segments: list[str] = []
    for provider, its_claims in by_provider.items():
        parent = next(numbers)
        segments += _billing_provider(parent, provider)
        for claim in its_claims:
            segments += _subscriber_loop(numbers, parent, claim)
    return segments


def _billing_provider(number: int, provider: BillingProvider) -> list[str]:
    return [
        segment("HL", str(number), "", "20", "1"),
        segment("PRV", "BI", "PXC", text(provider.taxonomy, 50)),
        _organisation("85", provider.name, "XX", provider.npi),
        *_address(provider.address),
        segment("REF", "EI", digits(provider.tin)),
    ]


# --- subscriber (2000B), payer (2010BB) and patient (2000C) ------------------------------


def _subscriber_loop(numbers: Iterator[int], parent: int, claim: ClaimForm) -> list[str]:
    number = next(numbers)
    subscriber = claim.subscriber
    is_self = _is_self(claim)
    segments = [
        segment("HL", str(number), str(parent), "22", "0" if is_self else "1"),
        _sbr(subscriber, relationship="18" if is_self else ""),
        _person("IL", subscriber.person, "MI", subscriber.member_id),
    ]
    if is_self:
        segments += [*_address(subscriber.person.address), _dmg(subscriber.person)]
    segments += _payer(claim.payer)
    if not is_self:
        segments += _patient_loop(next(numbers), number, claim)
    return segments + _claim(claim)


def _is_self(claim: ClaimForm) -> bool:
    return claim.subscriber.relationship == "self"


def _sbr(subscriber: Subscriber, relationship: str) -> str:
    return segment(
        "SBR",
        RANK_CODES.get(subscriber.rank, "P"),
        relationship,
        text(subscriber.group_number, 50),
        "" if subscriber.group_number else text(subscriber.plan_name, 60),
        "", "", "", "",
        "MB" if subscriber.medicare else "CI",
    )  # fmt: skip


def _payer(payer: PayerParty) -> list[str]:
    return [_organisation("PR", payer.name, "PI", payer.edi_payer_id), *_address(payer.address)]


def _patient_loop(number: int, parent: int, claim: ClaimForm) -> list[str]:
    patient = claim.patient
    return [
        segment("HL", str(number), str(parent), "23", "0"),
        segment("PAT", RELATIONSHIP_CODES[claim.subscriber.relationship]),
        _person("QC", patient),
        *_address(patient.address),
        _dmg(patient),
    ]


# --- the claim (2300) and its providers (2310B/C) ----------------------------------------


def _claim(claim: ClaimForm) -> list[str]:
    segments = [_clm(claim)]
    if claim.prior_authorization:
        segments.append(segment("REF", "G1", text(claim.prior_authorization, 50)))
    if claim.frequency in (CORRECTED, VOID):
        segments.append(segment("REF", "F8", text(claim.original_reference, 50)))
    if claim.note:
        segments.append(segment("NTE", "ADD", text(claim.note, 80)))
    segments.append(_hi(claim.diagnoses))
    segments.append(_rendering(claim))
    if claim.facility is not None:
        facility = claim.facility
        segments += [_organisation("77", facility.name, "XX", facility.npi),
                     *_address(facility.address)]  # fmt: skip
    for other in claim.other_payers:
        segments += _other_payer(other, claim)
    for number, line in enumerate(claim.lines, start=1):
        segments += _service_line(number, line, claim.place_of_service)
    return segments


def _clm(claim: ClaimForm) -> str:
    return segment(
        "CLM",
        text(claim.claim_number, 38),
        amount(claim.total_charge),
        "",
        "",
        composite(claim.place_of_service, "B", claim.frequency),
        "Y",
        "A" if claim.accept_assignment else "C",
        "Y" if claim.accept_assignment else "N",
        "Y" if claim.signature_on_file else "I",
    )


def _hi(diagnoses: tuple[str, ...]) -> str:
    """HI: the principal diagnosis as ABK, the others as ABF, without the dot."""
    qualifiers = ["ABK"] + ["ABF"] * (len(diagnoses) - 1)
    pairs = zip(qualifiers, diagnoses, strict=True)
    codes = [composite(q, text(code.replace(".", ""), 30)) for q, code in pairs]
    return segment("HI", *codes)


def _rendering(claim: ClaimForm) -> str:
    provider = claim.rendering
    return segment(
        "NM1", "82", "1", text(provider.family_name, 60), text(provider.given_name, 35),
        "", "", "", "XX", text(provider.npi, 80),
    )  # fmt: skip


# --- earlier payers (2320, 2330A, 2330B) -------------------------------------------------


def _other_payer(other: OtherPayer, claim: ClaimForm) -> list[str]:
    subscriber = other.subscriber
    segments = [
        _sbr(subscriber, RELATIONSHIP_CODES.get(subscriber.relationship, "G8")),
        *cas(other.adjustments),
        segment("AMT", "D", amount(other.paid)),
        segment("OI", "", "", "Y" if claim.accept_assignment else "N", "", "",
                "Y" if claim.signature_on_file else "I"),
        _person("IL", subscriber.person, "MI", subscriber.member_id),
        _organisation("PR", other.payer.name, "PI", other.payer.edi_payer_id),
    ]  # fmt: skip
    paid_by_line = any(
        p.payer_edi_id == other.payer.edi_payer_id
        for line in claim.lines
        for p in line.earlier_payments
    )
    if not paid_by_line:
        segments.append(segment("DTP", "573", "D8", d8(other.paid_on)))
    if other.payer_claim_number:
        segments.append(segment("REF", "F8", text(other.payer_claim_number, 50)))
    return segments


# --- service lines (2400, 2410, 2430) ----------------------------------------------------


def _service_line(number: int, line: ServiceLine, claim_place: str) -> list[str]:
    segments = [
        segment("LX", str(number)),
        _sv1(line, claim_place),
        segment("DTP", "472", "D8", d8(line.service_date)),
        segment("REF", "6R", text(line.line_id, 50)),
    ]
    if line.note:
        segments.append(segment("NTE", "ADD", text(line.note, 80)))
    if line.ndc and line.ndc_quantity is not None:
        segments += [
            segment("LIN", "", "N4", digits(line.ndc)),
            segment("CTP", "", "", "", quantity(line.ndc_quantity), text(line.ndc_unit, 2)),
        ]
    for payment in line.earlier_payments:
        segments += _line_adjudication(payment, line)
    return segments


def _sv1(line: ServiceLine, claim_place: str) -> str:
    place = line.place_of_service if line.place_of_service not in ("", claim_place) else ""
    return segment(
        "SV1",
        procedure(line.code, line.modifiers, line.description),
        amount(line.charge),
        "UN",
        quantity(line.units),
        place,
        "",
        composite(*(str(p) for p in line.pointers)),
    )


def _line_adjudication(payment: LinePayment, line: ServiceLine) -> list[str]:
    return [
        segment("SVD", text(payment.payer_edi_id, 80), amount(payment.paid),
                procedure(payment.code, line.modifiers), "", quantity(Decimal(payment.units))),
        *cas(payment.adjustments),
        segment("DTP", "573", "D8", d8(payment.paid_on)),
    ]  # fmt: skip


# --- names and addresses ----------------------------------------------------------------


def _organisation(entity: str, name: str, qualifier: str, identifier: str) -> str:
    """NM1 for an organisation: entity code, ``2``, name, then the id and its qualifier."""
    return segment(
        "NM1", entity, "2", text(name, 60), "", "", "", "", qualifier, text(identifier, 80)
    )


def _person(entity: str, person: Person, qualifier: str = "", identifier: str = "") -> str:
    return segment(
        "NM1", entity, "1", text(person.family_name, 60), text(person.given_name, 35),
        text(person.middle_name, 25), "", "", qualifier, text(identifier, 80),
    )  # fmt: skip


def _address(address: Address | None) -> list[str]:
    if address is None:
        return []
    return [
        segment("N3", text(address.line1, 55), text(address.line2, 55)),
        segment("N4", text(address.city, 30), text(address.state, 2), digits(address.zip_code)),
    ]


def _dmg(person: Person) -> str:
    sex = person.sex if person.sex in ("F", "M") else "U"
    return segment("DMG", "D8", d8(person.date_of_birth), sex)
