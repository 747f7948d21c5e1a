"""Coding that a payer accepts: the lines an insured session bills, payer by payer and by date.

Self-pay care is priced from the protocol's service list by
:func:`ketadesk.billing.capture.charge_drafts`, the same for everyone. An insurer wants the
session coded its own way, so for a patient covered on the day the flow is:

1. :func:`payer_codings` finds the policy in force on each session's day
   (:func:`ketadesk.clinic.policies.coverage_on`; which of primary and secondary codes the
   visit is :func:`coding_policy`'s pure choice) and :func:`coding_for` reads its payer's
   choices into a frozen :class:`PayerCoding` (Medicare or not, G-codes or a visit for
   esketamine, whether the clinic bills the drug, KX for REMS, its own code swaps).
2. :func:`coded_drafts` — pure — turns the session's facts into lines, rule by rule:

   * esketamine the Medicare way (:func:`esketamine_session_lines`): G2082 for 56 mg or less,
     G2083 above, alone: the code includes the visit, the drug and the two-hour observation,
     so there is no drug line and a visit the protocol lists is left out with a note (it
     needs modifier 25 and its own documentation); KX when the payer asks for REMS
     attestation; a note when the patient has no earlier completed session, since the codes
     are for established patients. :func:`rems_note` is the claim's note for the setting.
   * esketamine as a visit (:func:`esketamine_visit_lines`): the visit the protocol lists,
     prolonged clinical-staff time 99415/99416 from the monitoring minutes
     (:func:`prolonged_staff_units`), and the drug when the clinic buys and bills it (J0013
     per mg from 2026-01-01, S0013 before) with its NDC.
   * IV (:func:`iv_lines`): 96365 and 96366 from the infusion's times, and the drug as J3490
     with its NDC and a line note naming drug, dose and route (:func:`drug_line_note`),
     because an unlisted code is priced by hand. IM (:func:`im_lines`): 96372 and J3490.
   * any other code the protocol lists is priced as self-pay prices it;
   * last, the payer's own swaps replace a code it does not take (:func:`swapped`).

Lines a rule cannot settle keep a ``review_note``, as in capture. Charge capture
(:mod:`ketadesk.billing.capture`) calls :func:`payer_codings` and :func:`coded_drafts`;
a session with no policy in force gets today's self-pay drafts.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from types import MappingProxyType
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketadesk.billing.capture import (
    ESKETAMINE_DOSE_LIMIT_MG,
    VISIT_CODES,
    ChargeDraft,
    SessionFacts,
    charge_drafts,
    esketamine_drug_line,
    listed_lines,
    priced_line,
    unpriced_line,
)
from ketadesk.billing.fees import FeeBook, modifiers
from ketadesk.clinic import validation as v
from ketadesk.clinic.codes import procedure_code
from ketadesk.clinic.models import InsurancePolicy, Modality, Payer
from ketadesk.clinic.policies import Coverage, coverage_on
from ketadesk.errors import InvalidValue
from ketadesk.money import ZERO, round_cents
from ketadesk.scheduling.models import Route

__all__ = [
    "COMMERCIAL",
    "G_CODE",
    "MEDICARE",
    "NOTE_LENGTH",
    "TYPICAL_STAFF_MINUTES",
    "VISIT",
    "EsketamineBilling",
    "PayerCoding",
    "code_swaps_text",
    "coded_drafts",
    "coding_for",
    "coding_policy",
    "drug_line_note",
    "esketamine_drug_lines",
    "esketamine_session_lines",
    "esketamine_visit_lines",
    "im_lines",
    "iv_lines",
    "kit_ndc",
    "parse_code_swaps",
    "payer_codings",
    "prolonged_staff_units",
    "rems_note",
    "swapped",
    "unlisted_drug_line",
]

EsketamineBilling = Literal["g_code", "visit"]
G_CODE: EsketamineBilling = "g_code"  # G2082/G2083, Medicare's way
VISIT: EsketamineBilling = "visit"  # the E/M, prolonged staff time and the drug
NOTE_LENGTH = 80  # an NTE note (claim or line) and box 19 hold 80 characters
UNLISTED_DRUG = "J3490"
ESKETAMINE_CODES = frozenset({"G2082", "G2083", "S0013", "J0013"})
PROLONGED_STAFF_CODES = frozenset({"99415", "99416"})
# Spravato's dose kits (label, section 16 "How Supplied"): 56 mg = two 28 mg devices,
# NDC 50458-028-02; 84 mg = three, 50458-028-03. Eleven digits, as a claim carries them.
SPRAVATO_KITS: Mapping[Decimal, str] = MappingProxyType(
    {Decimal(56): "50458002802", Decimal(84): "50458002803"}
)

# Typical clinical-staff time of each office visit, in minutes: the time 99415/99416 count
# beyond. Source: AMA, "CPT Evaluation and Management (E/M) Code and Guideline Changes",
# effective 2023-01-01, prolonged clinical staff services (99415, 99416). A unit of time is
# reached at its midpoint: 99415 (the first hour) from 30 minutes beyond the typical time,
# each 99416 (30 minutes) from 15 minutes beyond the time already counted. 99211 takes
# neither since 2023. For 99213: 99415 from 57 minutes, 99416 from 102, a second from 132.
TYPICAL_STAFF_MINUTES: Mapping[str, int] = MappingProxyType(
    {
        "99202": 29,
        "99203": 34,
        "99204": 41,
        "99205": 46,
        "99212": 24,
        "99213": 27,
        "99214": 40,
        "99215": 45,
    }
)
FIRST_HOUR_FROM = 30  # 99415: minutes beyond the typical time
ADDITIONAL_FROM = 15  # each 99416: minutes beyond the hour or half hour before it
ADDITIONAL_SPAN = 30  # what one 99416 stands for


# ---------------------------------------------------------------------------------------
# A payer's coding choices
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PayerCoding:
    """How one payer wants sessions coded.

    ``swaps`` replaces a code the payer does not take by the one it does (a payer still on
    S0013 after 2026: ``{"J0013": "S0013"}``).
    """

    medicare: bool
    esketamine_billing: EsketamineBilling
    bills_drug: bool = True  # the clinic buys the drug and bills it (else a pharmacy does)
    rems_kx: bool = False  # the payer asks for KX to attest the REMS setting
    swaps: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.esketamine_billing not in (G_CODE, VISIT):
            raise ValueError(f"esketamine billing {self.esketamine_billing!r} is not g_code/visit")
        object.__setattr__(self, "swaps", MappingProxyType(dict(self.swaps)))

    @classmethod
    def default(cls, *, medicare: bool) -> PayerCoding:
        """Medicare's way (G-codes, no drug line) or a commercial payer's (visit and drug)."""
        return cls(medicare=medicare, esketamine_billing=G_CODE if medicare else VISIT)


MEDICARE = PayerCoding.default(medicare=True)
COMMERCIAL = PayerCoding.default(medicare=False)


def coding_for(payer: Payer) -> PayerCoding:
    """The coding ``payer`` asks for. A blank ``esketamine_billing`` takes the default
    (Medicare: ``g_code``, others: ``visit``); what the payer says wins.

    Raises :class:`InvalidValue` for a billing choice or swaps the rules cannot read.
    """
    billing = payer.esketamine_billing.strip().lower() or (G_CODE if payer.is_medicare else VISIT)
    if billing not in (G_CODE, VISIT):
        raise InvalidValue(
            f"{payer.name} bills esketamine as {payer.esketamine_billing!r}; "
            "choose g_code (G2082/G2083) or visit (the visit, staff time and the drug)"
        )
    return PayerCoding(
        medicare=payer.is_medicare,
        esketamine_billing=billing,
        bills_drug=payer.bills_drug,
        rems_kx=payer.rems_kx,
        swaps=parse_code_swaps(payer.code_swaps),
    )


def parse_code_swaps(value: object) -> dict[str, str]:
    """``"J0013>S0013, 99213>99214"`` -> ``{"J0013": "S0013", "99213": "99214"}``.

    Raises :class:`InvalidValue` naming every item that is not ``CODE>CODE`` with two
    procedure codes, a code swapped for itself, or a code swapped twice.
    """
    swaps: dict[str, str] = {}
    problems: list[str] = []
    for item in v.split_list(value):
        pair = [part.strip() for part in item.split(">")]
        if len(pair) != 2:
            problems.append(f"{item!r} is not a swap; write the code, '>', the payer's code")
            continue
        try:
            old, new = procedure_code(pair[0]), procedure_code(pair[1])
        except InvalidValue as error:
            problems.append(f"{item!r}: {error}")
            continue
        if old == new:
            problems.append(f"{item!r} swaps {old} for itself")
        elif old in swaps:
            problems.append(f"{old} is swapped twice ({swaps[old]} and {new})")
        else:
            swaps[old] = new
    if problems:
        raise InvalidValue("; ".join(problems))
    return swaps


def code_swaps_text(value: object) -> str:
    """Swaps as a payer form stores them: ``"j0013 > s0013"`` -> ``"J0013>S0013"``."""
    return ",".join(f"{old}>{new}" for old, new in parse_code_swaps(value).items())


def payer_codings(
    session: Session, visits: Iterable[tuple[int, date]]
) -> dict[tuple[int, date], PayerCoding]:
    """The coding of the payer in force for each ``(patient_id, day)``; a visit with no
    policy in force (self-pay) is left out.

    The primary policy's payer codes the claim; with only a secondary in force, that one's.
    One query finds which patients hold any active policy, so self-pay patients cost nothing
    more; each insured visit asks :func:`coverage_on`.
    """
    wanted = set(visits)
    patients = {patient_id for patient_id, _day in wanted}
    if not patients:
        return {}
    insured = set(
        session.scalars(
            select(InsurancePolicy.patient_id)
            .where(InsurancePolicy.patient_id.in_(patients), InsurancePolicy.active.is_(True))
            .distinct()
        )
    )
    found: dict[tuple[int, date], PayerCoding] = {}
    for patient_id, day in wanted:
        if patient_id not in insured:
            continue
        policy = coding_policy(coverage_on(session, patient_id, day))
        if policy is not None:
            found[(patient_id, day)] = coding_for(policy.payer)
    return found


def coding_policy(coverage: Coverage) -> InsurancePolicy | None:
    """The policy whose payer codes a visit with ``coverage``: the primary, or with only a
    secondary in force that one; None for self-pay. Pure, so the demo generator, which
    holds policies in memory (:func:`~ketadesk.clinic.policies.coverage_from`), asks it too.
    """
    return coverage.primary or coverage.secondary


# ---------------------------------------------------------------------------------------
# The rules (pure)
# ---------------------------------------------------------------------------------------


def coded_drafts(
    facts: SessionFacts, book: FeeBook, coding: PayerCoding | None
) -> list[ChargeDraft]:
    """The lines a completed session bills to a payer coding as ``coding``.

    ``None`` is self-pay: exactly :func:`~ketadesk.billing.capture.charge_drafts`. Each
    code bills once, the modality's own lines first, then the protocol's other services,
    then the payer's swaps.
    """
    if coding is None:
        return charge_drafts(facts, book)
    core, handled = _modality_lines(facts, book, coding)
    others = (
        draft
        for code in facts.service_codes
        if code not in handled
        for draft in listed_lines(code, facts, book)
    )
    drafts: list[ChargeDraft] = []
    seen: set[str] = set()
    for draft in (*core, *others):
        if draft.code not in seen:
            seen.add(draft.code)
            drafts.append(swapped(draft, coding, book, facts.service_date))
    return drafts


def _modality_lines(
    facts: SessionFacts, book: FeeBook, coding: PayerCoding
) -> tuple[list[ChargeDraft], frozenset[str]]:
    """The modality's own lines and the listed codes they stand for."""
    if facts.modality is Modality.ESKETAMINE:
        handled = ESKETAMINE_CODES | VISIT_CODES | PROLONGED_STAFF_CODES
        if coding.esketamine_billing == G_CODE:
            return esketamine_session_lines(facts, book, coding), handled
        return list(esketamine_visit_lines(facts, book, coding)), handled
    if facts.modality is Modality.IV:
        return iv_lines(facts, book), frozenset({"96365", "96366", UNLISTED_DRUG})
    if facts.modality is Modality.IM:
        return im_lines(facts, book), frozenset({"96372", UNLISTED_DRUG})
    return [], frozenset()


def esketamine_session_lines(
    facts: SessionFacts, book: FeeBook, coding: PayerCoding
) -> list[ChargeDraft]:
    """Medicare's way: G2082 (56 mg or less) or G2083 (over) alone, with KX if asked."""
    dose, day = facts.dose_mg, facts.service_date
    if dose is None:
        draft = unpriced_line(
            "G2083",
            "Esketamine session",
            "no esketamine dose is recorded: choose G2082 (56 mg or less) or G2083 (over "
            "56 mg) and its price, or dismiss",
        )
    else:
        code = "G2082" if dose <= ESKETAMINE_DOSE_LIMIT_MG else "G2083"
        fee = book.item(code, day)
        draft = (
            priced_line(fee, fee.units)
            if fee is not None
            else unpriced_line(code, code, f"{code} is not on the fee schedule in force on {day}")
        )
    if coding.rems_kx:
        draft = replace(draft, modifiers=modifiers(f"{draft.modifiers},KX"))
    notes = []
    if not facts.established:
        notes.append(
            "G2082/G2083 are for established patients and this is the patient's first "
            "completed session: check how the payer wants a first dose billed"
        )
    visit = facts.listed_visit
    if visit is not None:
        notes.append(
            f"{visit} left out: G2082/G2083 include the visit; bill one only if a separately "
            "identifiable E/M was documented, with modifier 25"
        )
    return [_noted(draft, *notes)]


def esketamine_visit_lines(
    facts: SessionFacts, book: FeeBook, coding: PayerCoding
) -> Iterator[ChargeDraft]:
    """A commercial payer's way: the visit, prolonged staff time, and the drug if billed."""
    visit = facts.listed_visit
    if visit is None:
        yield unpriced_line(
            "99213",
            "Office visit",
            "the protocol lists no office visit (99212-99215): choose the level the provider "
            "documented (prolonged staff time is counted beyond it), or dismiss",
        )
    else:
        yield from listed_lines(visit, facts, book)
        yield from _prolonged_staff_lines(visit, facts, book)
    if coding.bills_drug:
        yield from esketamine_drug_lines(facts, book)


def prolonged_staff_units(visit: str, minutes: int) -> tuple[int, int]:
    """``(99415 units, 99416 units)`` for ``minutes`` of clinical-staff time with ``visit``.

    For 99213 (27 typical minutes): 56 -> (0, 0), 57 -> (1, 0), 101 -> (1, 0),
    102 -> (1, 1), 132 -> (1, 2). A visit without a typical time (99211) gets none.
    """
    typical = TYPICAL_STAFF_MINUTES.get(visit)
    if typical is None or minutes < typical + FIRST_HOUR_FROM:
        return 0, 0
    beyond_hour = minutes - typical - 60
    if beyond_hour < ADDITIONAL_FROM:
        return 1, 0
    return 1, (beyond_hour - ADDITIONAL_FROM) // ADDITIONAL_SPAN + 1


def _prolonged_staff_lines(visit: str, facts: SessionFacts, book: FeeBook) -> Iterator[ChargeDraft]:
    if visit not in TYPICAL_STAFF_MINUTES:
        return
    minutes, day = facts.monitoring_minutes, facts.service_date
    if minutes is None:
        yield unpriced_line(
            "99415",
            "Prolonged clinical staff time, first hour",
            "the monitoring start or discharge time is not recorded: check the record, then "
            "enter 99415 (and 99416) from the staff time, or dismiss",
        )
        return
    for code, units in zip(("99415", "99416"), prolonged_staff_units(visit, minutes), strict=True):
        if not units:
            continue
        fee = book.item(code, day)
        if fee is None:
            yield unpriced_line(code, code, f"{code} is not on the fee schedule in force on {day}")
        else:
            yield priced_line(fee, units)


def esketamine_drug_lines(facts: SessionFacts, book: FeeBook) -> Iterator[ChargeDraft]:
    """The drug per mg (J0013 from 2026-01-01, S0013 before) with its NDC: the one recorded
    at the dose, else the Spravato dose kit of that many mg, else the fee schedule's."""
    kit = kit_ndc(facts.dose_mg)
    if not facts.ndc and kit:
        facts = replace(facts, ndc=kit)
    yield _with_product(esketamine_drug_line(facts, book), facts, book, note=False)


def kit_ndc(dose_mg: Decimal | None) -> str:
    """The NDC of the Spravato dose kit holding ``dose_mg`` (56 or 84 mg); else blank."""
    return SPRAVATO_KITS.get(dose_mg, "") if dose_mg is not None else ""


def iv_lines(facts: SessionFacts, book: FeeBook) -> list[ChargeDraft]:
    """96365, 96366 from the infusion's recorded times, and the drug as J3490."""
    return [
        *listed_lines("96365", facts, book),
        *listed_lines("96366", facts, book),
        unlisted_drug_line(facts, book),
    ]


def im_lines(facts: SessionFacts, book: FeeBook) -> list[ChargeDraft]:
    """96372 for the injection, and the drug as J3490."""
    return [*listed_lines("96372", facts, book), unlisted_drug_line(facts, book)]


def unlisted_drug_line(facts: SessionFacts, book: FeeBook) -> ChargeDraft:
    """J3490 with the product's NDC and a note a person prices it by (drug, dose, route)."""
    day = facts.service_date
    fee = book.item(UNLISTED_DRUG, day)
    if fee is None:
        return unpriced_line(
            UNLISTED_DRUG, UNLISTED_DRUG, f"J3490 is not on the fee schedule in force on {day}"
        )
    return _with_product(priced_line(fee, fee.units), facts, book, note=True)


def _with_product(
    draft: ChargeDraft, facts: SessionFacts, book: FeeBook, *, note: bool
) -> ChargeDraft:
    """``draft`` with the NDC given (or the fee schedule's) and, for ``note``, the line note."""
    fee = book.item(draft.code, facts.service_date)
    ndc = facts.ndc or (fee.ndc if fee is not None else "")
    notes = []
    if not ndc:
        notes.append(
            f"no NDC is recorded for the drug given nor on the fee schedule's {draft.code}: "
            "a payer returns a drug line without one; add it, then post"
        )
    line_note = ""
    if note:
        if facts.dose_mg is None:
            notes.append(f"no dose is recorded: {draft.code} is priced by the dose in its note")
        else:
            name = (fee.drug_name if fee is not None else "") or draft.description
            line_note = drug_line_note(name, facts.dose_mg, facts.route)
    return _noted(replace(draft, ndc=ndc, line_note=line_note), *notes)


def drug_line_note(drug_name: str, dose_mg: Decimal, route: Route | None) -> str:
    """A drug line's note: ``"KETAMINE HCL 50 MG/ML, 35 MG IV"`` (80 characters at most)."""
    amount = format(dose_mg.normalize(), "f")
    given = f" {route.label.upper()}" if route is not None else ""
    return f"{drug_name.upper()}, {amount} MG{given}"[:NOTE_LENGTH]


def rems_note(location_name: str) -> str:
    """The claim's note (NTE, box 19) naming the REMS-certified setting the dose was given in."""
    return f"SPRAVATO REMS CERTIFIED SETTING {location_name.upper()}"[:NOTE_LENGTH]


def swapped(draft: ChargeDraft, coding: PayerCoding, book: FeeBook, day: date) -> ChargeDraft:
    """``draft`` under the payer's own code when it swaps this one.

    Priced from the new code's fee when the schedule has one in force on ``day`` (a line
    left at $0.00 for a person stays so); otherwise the line keeps its price under the new
    code, since it is the same service the payer names differently.
    """
    code = coding.swaps.get(draft.code)
    if code is None:
        return draft
    fee = book.item(code, day)
    if fee is None or draft.unit_price == ZERO:
        return replace(draft, code=code)
    return replace(
        draft,
        code=code,
        description=fee.description,
        unit_price=fee.self_pay_price,
        amount=round_cents(fee.self_pay_price * draft.units),
        billed_charge=round_cents(fee.billed_charge * draft.units),
    )


def _noted(draft: ChargeDraft, *notes: str) -> ChargeDraft:
    """``draft`` with ``notes`` added to its review note."""
    joined = "; ".join(n for n in (draft.review_note, *notes) if n)
    return replace(draft, review_note=joined)
