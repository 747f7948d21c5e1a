"""The claim scrubber: every problem a payer would reject a claim for, listed at once.

:func:`check` is pure: it takes a :class:`ClaimFacts` (what the claim says and what it is
checked against: the payer's rules, the policy and its prior authorisation, the provider
numbers, today's date and any claim already sent for the same services) and returns each
:class:`Problem` with the field it is about and a sentence saying what to do. One small
function per rule, so each has its own test. :func:`check_and_mark` gathers the facts for
many claims in a few queries, stores each claim's problems, and moves a claim without any
to *ready* (and a ready claim that gained one back to *draft*).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketadesk.access.permissions import Actor
from ketadesk.billing.claims.models import SENT_STATUSES, Claim, ClaimLine, ClaimStatus
from ketadesk.billing.claims.status import load_claims, move_many
from ketadesk.clinic import validation as v
from ketadesk.clinic.codes import icd10cm
from ketadesk.clinic.models import (
    InsurancePolicy,
    Location,
    Patient,
    Payer,
    Provider,
    Relationship,
)
from ketadesk.errors import InvalidValue
from ketadesk.money import ZERO

MAX_DIAGNOSES = 12
MAX_POINTERS = 4
MAX_MODIFIERS = 4
J0013_FROM = date(2026, 1, 1)  # esketamine per mg: S0013 before, J0013 from this day
G_CODES = frozenset({"G2082", "G2083"})
ESKETAMINE_DRUGS = frozenset({"J0013", "S0013"})
NEEDS_NDC = ESKETAMINE_DRUGS | {"J3490"}
NEEDS_PRIOR_AUTH = G_CODES | ESKETAMINE_DRUGS
OFFICE_VISITS = frozenset({f"992{n:02d}" for n in range(2, 6)} | {f"992{n}" for n in range(11, 16)})
# add-on code -> the codes one of which must be on the claim with it
ADD_ON_PRIMARY: dict[str, frozenset[str]] = {
    "96366": frozenset({"96365"}),
    "99415": OFFICE_VISITS,
    "99416": frozenset({"99415"}),
}


@dataclass(frozen=True)
class Problem:
    """One reason a payer would refuse the claim: the field it is about and what to do."""

    field: str
    message: str

    @property
    def sentence(self) -> str:
        return f"{self.field}: {self.message}"


@dataclass(frozen=True)
class LineFacts:
    position: int
    service_date: date
    code: str
    modifiers: tuple[str, ...]
    units: int
    billed: Decimal
    pointers: tuple[int, ...]
    ndc: str
    note: str

    @property
    def name(self) -> str:
        return f"line {self.position} ({self.code})"


@dataclass(frozen=True)
class ClaimFacts:
    """Everything :func:`check` reads; built by :func:`facts_for` or by hand in tests."""

    number: str
    service_date: date
    today: date
    filing_deadline: date
    diagnoses: tuple[str, ...]
    lines: tuple[LineFacts, ...]
    payer_name: str
    medicare: bool
    rems_kx: bool
    covered: frozenset[str]
    swaps: dict[str, str]
    member_id: str
    relationship: Relationship
    subscriber_name: str
    subscriber_dob: date | None
    prior_auth_number: str
    auth_from: date | None
    auth_to: date | None
    sessions_authorized: int | None
    sessions_claimed: int  # other claims under this authorisation, this one not counted
    billing_npi: str
    tin: str
    rendering_npi: str | None  # None: no rendering provider on the claim
    duplicates: tuple[str, ...] = ()  # numbers of claims already sent for these services
    secondary: bool = False  # after a primary payer: its authorisation was the primary's
    patient_address: bool = True  # street, city, state and ZIP all on file
    billing_phone: str = "0000000000"  # the location's: the claim file's contact


Rule = Callable[[ClaimFacts], Iterator[Problem]]


def check(facts: ClaimFacts) -> list[Problem]:
    """Every problem of the claim, in the order of the rules."""
    return [problem for rule in RULES for problem in rule(facts)]


# ---------------------------------------------------------------------------------------
# Who is billed, and by whom
# ---------------------------------------------------------------------------------------


def subscriber_rule(f: ClaimFacts) -> Iterator[Problem]:
    if not f.member_id.strip():
        yield Problem("member id", "the policy has no member id; copy it from the card")
    if f.relationship is not Relationship.SELF:
        if not f.subscriber_name.strip():
            yield Problem(
                "subscriber",
                f"the patient is the subscriber's {f.relationship.value}: enter the "
                "subscriber's name on the policy",
            )
        if f.subscriber_dob is None:
            yield Problem("subscriber", "enter the subscriber's date of birth on the policy")


def addresses_rule(f: ClaimFacts) -> Iterator[Problem]:
    if not f.patient_address:
        yield Problem(
            "patient address", "a claim needs the patient's street, city, state and ZIP code"
        )
    if len(f.billing_phone) != 10:
        yield Problem(
            "billing phone",
            "the location needs a phone number (Settings → Locations): claims name it as the "
            "contact",
        )


def provider_numbers_rule(f: ClaimFacts) -> Iterator[Problem]:
    for field, value, check_value in (
        ("billing NPI", f.billing_npi, v.npi),
        ("TIN", f.tin, v.tin),
    ):
        yield from _number_problem(field, value, check_value)
    if f.rendering_npi is None:
        yield Problem("rendering provider", "no provider is named on the claim's charges")
    else:
        yield from _number_problem("rendering NPI", f.rendering_npi, v.npi)


def _number_problem(field: str, value: str, check_value: Callable[[str], str]) -> Iterator[Problem]:
    try:
        check_value(value)
    except InvalidValue as error:
        yield Problem(field, str(error))


# ---------------------------------------------------------------------------------------
# Diagnoses and pointers
# ---------------------------------------------------------------------------------------


def diagnoses_rule(f: ClaimFacts) -> Iterator[Problem]:
    if not f.diagnoses:
        yield Problem("diagnoses", "the patient has no diagnosis; add one to the chart")
    if len(f.diagnoses) > MAX_DIAGNOSES:
        yield Problem("diagnoses", f"a claim holds at most {MAX_DIAGNOSES} diagnoses")
    for code in f.diagnoses:
        try:
            icd10cm(code)
        except InvalidValue as error:
            yield Problem("diagnoses", str(error))


def pointers_rule(f: ClaimFacts) -> Iterator[Problem]:
    for line in f.lines:
        if not line.pointers:
            yield Problem(f"{line.name} pointers", "point the line at one to four diagnoses")
        elif len(line.pointers) > MAX_POINTERS:
            yield Problem(f"{line.name} pointers", "a line points at four diagnoses at most")
        bad = [p for p in line.pointers if not 1 <= p <= len(f.diagnoses)]
        if bad:
            yield Problem(
                f"{line.name} pointers",
                f"points at diagnosis {', '.join(map(str, bad))}, but the claim has "
                f"{len(f.diagnoses)}",
            )


# ---------------------------------------------------------------------------------------
# Coding
# ---------------------------------------------------------------------------------------


def lines_rule(f: ClaimFacts) -> Iterator[Problem]:
    if not f.lines:
        yield Problem("lines", "the claim has no service lines")
    for line in f.lines:
        if line.units < 1:
            yield Problem(line.name, "bill at least one unit")
        if line.billed <= ZERO:
            yield Problem(line.name, "the line bills $0.00; price it or remove it")
        if len(line.modifiers) > MAX_MODIFIERS:
            yield Problem(line.name, "a line carries four modifiers at most")


def covered_rule(f: ClaimFacts) -> Iterator[Problem]:
    for line in f.lines:
        if line.code not in f.covered:
            yield Problem(
                line.name,
                f"{f.payer_name} does not cover {line.code} (Settings → Payers); bill the "
                "patient instead or add the code to what the payer covers",
            )


def medicare_bundle_rule(f: ClaimFacts) -> Iterator[Problem]:
    """G2082/G2083 bundle the visit, the drug and the observation."""
    if not f.medicare or not any(line.code in G_CODES for line in f.lines):
        return
    for line in f.lines:
        if line.code in ESKETAMINE_DRUGS:
            yield Problem(
                line.name,
                "Medicare's G2082/G2083 include the esketamine itself: remove the drug line",
            )
        elif line.code in OFFICE_VISITS and "25" not in line.modifiers:
            yield Problem(
                line.name,
                "a visit on the day of G2082/G2083 is paid only when separately "
                "identifiable: add modifier 25 with its own documentation, or remove it",
            )


def kx_rule(f: ClaimFacts) -> Iterator[Problem]:
    if not f.rems_kx:
        return
    for line in f.lines:
        if line.code in G_CODES and "KX" not in line.modifiers:
            yield Problem(line.name, f"{f.payer_name} asks for modifier KX to attest REMS")


def esketamine_drug_code_rule(f: ClaimFacts) -> Iterator[Problem]:
    """J0013 for dates of service from 2026-01-01, S0013 before (unless the payer swaps)."""
    for line in f.lines:
        wanted = "J0013" if line.service_date >= J0013_FROM else "S0013"
        wanted = f.swaps.get(wanted, wanted)
        if line.code in ESKETAMINE_DRUGS and line.code != wanted:
            yield Problem(
                line.name,
                f"esketamine given on {line.service_date:%Y-%m-%d} is billed to "
                f"{f.payer_name} as {wanted}, not {line.code}",
            )


def drug_line_rule(f: ClaimFacts) -> Iterator[Problem]:
    for line in f.lines:
        if line.code in NEEDS_NDC and len(line.ndc) != 11:
            yield Problem(line.name, "a drug line needs the product's 11-digit NDC")
        if line.code == "J3490" and not line.note.strip():
            yield Problem(
                line.name,
                "J3490 is an unlisted code priced by hand: give the drug's name, dose and unit",
            )


def add_on_rule(f: ClaimFacts) -> Iterator[Problem]:
    codes = {line.code for line in f.lines}
    for line in f.lines:
        primary = ADD_ON_PRIMARY.get(line.code)
        if primary is not None and not codes & primary:
            needs = " or ".join(sorted(primary)) if len(primary) < 4 else "an office visit"
            yield Problem(line.name, f"{line.code} is an add-on code: bill it with {needs}")


# ---------------------------------------------------------------------------------------
# Authorisation, deadlines, duplicates
# ---------------------------------------------------------------------------------------


def prior_auth_rule(f: ClaimFacts) -> Iterator[Problem]:
    if f.secondary or not any(line.code in NEEDS_PRIOR_AUTH for line in f.lines):
        return
    if not f.prior_auth_number.strip():
        yield Problem("prior authorisation", "esketamine needs a prior authorisation number")
        return
    if f.auth_to is not None and f.service_date > f.auth_to:
        yield Problem(
            "prior authorisation",
            f"the authorisation ended on {f.auth_to:%Y-%m-%d}; ask {f.payer_name} to extend it",
        )
    if f.auth_from is not None and f.service_date < f.auth_from:
        yield Problem("prior authorisation", f"the authorisation starts on {f.auth_from:%Y-%m-%d}")
    if f.sessions_authorized is not None and f.sessions_claimed >= f.sessions_authorized:
        yield Problem(
            "prior authorisation",
            f"all {f.sessions_authorized} authorised sessions are already claimed; ask for more",
        )


def timely_filing_rule(f: ClaimFacts) -> Iterator[Problem]:
    if f.today > f.filing_deadline:
        yield Problem(
            "timely filing",
            f"{f.payer_name} took claims for this date until {f.filing_deadline:%Y-%m-%d}; "
            "it will be denied as late unless you have proof of timely filing",
        )


def duplicate_rule(f: ClaimFacts) -> Iterator[Problem]:
    for number in f.duplicates:
        yield Problem(
            "duplicate",
            f"claim {number} already sent these services for this day; correct that claim "
            "instead of sending them twice",
        )


RULES: tuple[Rule, ...] = (
    subscriber_rule,
    addresses_rule,
    provider_numbers_rule,
    diagnoses_rule,
    pointers_rule,
    lines_rule,
    covered_rule,
    medicare_bundle_rule,
    kx_rule,
    esketamine_drug_code_rule,
    drug_line_rule,
    add_on_rule,
    prior_auth_rule,
    timely_filing_rule,
    duplicate_rule,
)


# ---------------------------------------------------------------------------------------
# Facts from the database, and marking claims
# ---------------------------------------------------------------------------------------


def swaps_of(payer: Payer) -> dict[str, str]:
    swaps: dict[str, str] = {}
    for word in payer.code_swaps.split(","):
        old, arrow, new = word.partition(">")
        if arrow:
            swaps[old] = new
    return swaps


def line_facts(line: ClaimLine) -> LineFacts:
    return LineFacts(
        position=line.position,
        service_date=line.service_date,
        code=line.code,
        modifiers=tuple(line.modifier_list),
        units=line.units,
        billed=line.billed,
        pointers=tuple(line.pointer_list),
        ndc=line.ndc,
        note=line.note,
    )


@dataclass(frozen=True)
class _Neighbours:
    """Other claims that bear on a check, read once for a whole batch."""

    claimed_days: dict[tuple[int, str], list[tuple[int, date]]]  # (policy, PA) -> (id, day)
    sent: dict[tuple[int, int, date], list[tuple[int, str, str]]]  # -> (id, number, code)


def _neighbours(session: Session, claims: Sequence[Claim]) -> _Neighbours:
    """Claims under the same authorisations, and claims sent for the same patients' days:
    what the authorisation and duplicate rules compare against, in two queries."""
    policies = list({c.policy_id for c in claims})
    claimed: dict[tuple[int, str], list[tuple[int, date]]] = defaultdict(list)
    for claim_id, policy_id, number, day in session.execute(
        select(Claim.id, Claim.policy_id, Claim.prior_auth_number, Claim.service_from).where(
            Claim.policy_id.in_(policies),
            Claim.prior_auth_number != "",
            Claim.status != ClaimStatus.CLOSED,
            Claim.frequency == "1",
        )
    ):
        claimed[(policy_id, number)].append((claim_id, day))
    sent: dict[tuple[int, int, date], list[tuple[int, str, str]]] = defaultdict(list)
    for claim_id, number, patient_id, payer_id, day, code in session.execute(
        select(
            Claim.id,
            Claim.number,
            Claim.patient_id,
            Claim.payer_id,
            Claim.service_from,
            ClaimLine.code,
        )
        .join(ClaimLine, ClaimLine.claim_id == Claim.id)
        .where(
            Claim.patient_id.in_(list({c.patient_id for c in claims})),
            Claim.service_from.in_(list({c.service_from for c in claims})),
            Claim.status.in_(SENT_STATUSES),
        )
    ):
        sent[(patient_id, payer_id, day)].append((claim_id, number, code))
    return _Neighbours(dict(claimed), dict(sent))


def _load_parties(session: Session, claims: Sequence[Claim]) -> list[object]:
    """Patients, policies and payers of ``claims`` into the session in three queries, so
    reading ``claim.patient`` and the like asks the database nothing more. The caller
    keeps the returned list while it reads: the session holds what it loaded only weakly."""
    held: list[object] = []
    for model, ids in (
        (Patient, {c.patient_id for c in claims}),
        (InsurancePolicy, {c.policy_id for c in claims}),
        (Payer, {c.payer_id for c in claims}),
    ):
        held += session.scalars(select(model).where(model.id.in_(list(ids)))).all()
    return held


def facts_for(session: Session, claims: Sequence[Claim], today: date) -> list[ClaimFacts]:
    """What :func:`check` needs to know about each of ``claims``, read from the database,
    with what they share read once."""
    if not claims:
        return []
    with session.no_autoflush:  # reading only: pending changes need not be written first
        held = _load_parties(session, claims)  # noqa: F841  (kept alive while reading)
        around = _neighbours(session, claims)
        places = {loc.id: loc for loc in session.scalars(select(Location))}
        providers = {p.id: p for p in session.scalars(select(Provider))}
        return [
            _facts(claim, today, around, places.get(claim.location_id),
                   providers.get(claim.provider_id or 0))
            for claim in claims
        ]  # fmt: skip


def _facts(
    claim: Claim,
    today: date,
    around: _Neighbours,
    location: Location | None,
    provider: Provider | None,
) -> ClaimFacts:
    policy: InsurancePolicy = claim.policy
    payer: Payer = claim.payer
    patient = claim.patient
    return ClaimFacts(
        number=claim.number,
        service_date=claim.service_from,
        today=today,
        filing_deadline=claim.filing_deadline,
        diagnoses=claim.diagnosis_codes,
        lines=tuple(line_facts(line) for line in claim.lines),
        payer_name=payer.name,
        medicare=payer.is_medicare,
        rems_kx=payer.rems_kx,
        covered=payer.covered,
        swaps=swaps_of(payer),
        member_id=policy.member_id,
        relationship=policy.relationship_to_subscriber,
        subscriber_name=policy.subscriber_name,
        subscriber_dob=policy.subscriber_dob,
        prior_auth_number=claim.prior_auth_number,
        auth_from=policy.auth_from,
        auth_to=policy.auth_to,
        sessions_authorized=policy.sessions_authorized,
        sessions_claimed=_sessions_claimed(claim, policy, around),
        billing_npi=location.npi if location is not None else "",
        tin=location.tin if location is not None else "",
        rendering_npi=provider.npi if provider is not None else None,
        duplicates=_duplicates(claim, around),
        secondary=claim.primary_claim_id is not None,
        patient_address=all((patient.address_line1, patient.city, patient.state, patient.zip_code)),
        billing_phone=location.phone if location is not None else "",
    )


def _sessions_claimed(claim: Claim, policy: InsurancePolicy, around: _Neighbours) -> int:
    """Other dates of service claimed under the same authorisation (not closed ones)."""
    if not claim.prior_auth_number:
        return 0
    others = around.claimed_days.get((policy.id, claim.prior_auth_number), [])
    return len(
        {
            day
            for claim_id, day in others
            if claim_id != claim.id
            and day != claim.service_from
            and (policy.auth_from is None or day >= policy.auth_from)
        }
    )


def _duplicates(claim: Claim, around: _Neighbours) -> tuple[str, ...]:
    if claim.frequency != "1":
        return ()
    codes = {line.code for line in claim.lines}
    others = around.sent.get((claim.patient_id, claim.payer_id, claim.service_from), [])
    return tuple(
        sorted(
            {number for claim_id, number, code in others if claim_id != claim.id and code in codes}
        )
    )


UNSENT = (ClaimStatus.DRAFT, ClaimStatus.READY)


def scrub(
    session: Session, actor: Actor, *, today: date, claim_ids: Sequence[int] | None = None
) -> tuple[list[Claim], int]:
    """Check the unsent claims among ``claim_ids`` (all drafts and ready claims when
    ``None``) again after a fix; return them and how many are ready."""
    if claim_ids is None:
        claim_ids = session.scalars(select(Claim.id).where(Claim.status.in_(UNSENT))).all()
    claims = [c for c in load_claims(session, claim_ids) if c.status in UNSENT]
    return claims, check_and_mark(session, actor, claims, today=today)


def check_and_mark(session: Session, actor: Actor, claims: Sequence[Claim], *, today: date) -> int:
    """Check ``claims``, store their problems, move clean drafts to ready (and ready claims
    with problems back to draft); return how many are ready."""
    ready = 0
    open_ones = [c for c in claims if c.status in UNSENT]
    moves: list[tuple[Claim, ClaimStatus, str]] = []
    for claim, facts in zip(open_ones, facts_for(session, open_ones, today), strict=True):
        problems = check(facts)
        claim.problems = "\n".join(p.sentence for p in problems)
        if problems and claim.status is ClaimStatus.READY:
            moves.append((claim, ClaimStatus.DRAFT, f"{len(problems)} problems found"))
        elif not problems and claim.status is ClaimStatus.DRAFT:
            moves.append((claim, ClaimStatus.READY, "Checked: no problems"))
        ready += not problems
    move_many(session, actor, moves)
    session.flush()
    return ready
