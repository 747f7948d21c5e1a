"""Building claims from the charges posted on an insurer's side of the ledger.

:func:`build_claims` finds every charge entry an insurer was billed (``payer_id`` set) that
no claim carries yet and not reversed, and groups them: one claim per patient, payer and
date of service, its lines in posting order. Each claim copies what the payer must see at
the moment it is built (the policy, the prior authorisation, the diagnoses, the drug's NDC
and dose) so a later edit of the chart does not change a claim already sent. A new claim is
checked at once (:mod:`.scrubber`): with no problems it is ready to send, otherwise it stays
a draft with its problems listed.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, aliased

from ketadesk import db
from ketadesk.access import audit
from ketadesk.access.permissions import Actor, Permission
from ketadesk.billing.claims import scrubber
from ketadesk.billing.claims.coding import rems_note
from ketadesk.billing.claims.models import Claim, ClaimLine, ClaimStatus
from ketadesk.billing.claims.routing import Router
from ketadesk.billing.claims.status import record_events
from ketadesk.billing.models import Charge, EntryKind, LedgerEntry
from ketadesk.billing.superbill import drug_info
from ketadesk.billing.views import DrugInfo
from ketadesk.clinic.models import Diagnosis, InsurancePolicy, Location, Payer
from ketadesk.money import ZERO

MAX_DIAGNOSES = 12  # box 21 and HI hold twelve
G_CODES = frozenset({"G2082", "G2083"})
ESKETAMINE_DEVICE_MG = 28  # one Spravato nasal device holds 28 mg

Progress = Callable[[str, int, int], None]
"""``progress(stage, done, total)``, called as each claim is built (a face's progress bar)."""


@dataclass(frozen=True)
class BuildResult:
    """What a build made: the claims (ids), how many are ready and how many need a look."""

    claim_ids: tuple[int, ...]
    ready: int
    with_problems: int

    @property
    def sentence(self) -> str:
        if not self.claim_ids:
            return "No claims to build: every charge billed to an insurer is on a claim."
        built = len(self.claim_ids)
        return (
            f"Built {built} claim{'s' if built != 1 else ''}: {self.ready} ready to send, "
            f"{self.with_problems} with problems to fix."
        )


_Reversal = aliased(LedgerEntry)


def unclaimed_entries(
    session: Session, *, through: date | None = None, patient_id: int | None = None
) -> list[tuple[LedgerEntry, Charge]]:
    """Insurer-side charge entries that no claim carries and nothing reversed, with their
    charge rows, by patient, payer, day and id."""
    query = (
        select(LedgerEntry, Charge)
        .join(Charge, Charge.entry_id == LedgerEntry.id)
        .where(
            LedgerEntry.payer_id.is_not(None),
            LedgerEntry.kind == EntryKind.CHARGE,
            ~exists().where(ClaimLine.entry_id == LedgerEntry.id),
            ~exists().where(_Reversal.reverses_id == LedgerEntry.id),
        )
        .order_by(
            LedgerEntry.patient_id, LedgerEntry.payer_id, LedgerEntry.posted_on, LedgerEntry.id
        )
    )
    if through is not None:
        query = query.where(LedgerEntry.posted_on <= through)
    if patient_id is not None:
        query = query.where(LedgerEntry.patient_id == patient_id)
    return [(entry, charge) for entry, charge in session.execute(query)]


def build_claims(
    session: Session,
    actor: Actor,
    *,
    today: date,
    through: date | None = None,
    patient_id: int | None = None,
    progress: Progress | None = None,
) -> BuildResult:
    """Build a claim for each patient, payer and date of service with unclaimed charges.

    ``through`` limits the dates of service; ``today`` dates the checks (timely filing);
    ``progress`` hears of each claim built.
    """
    actor.require(Permission.CLAIM_WORK)
    groups: dict[tuple[int, int, date], list[tuple[LedgerEntry, Charge]]] = defaultdict(list)
    for entry, charge in unclaimed_entries(session, through=through, patient_id=patient_id):
        payer_id = entry.payer_id if entry.payer_id is not None else 0  # never 0: see the query
        groups[(entry.patient_id, payer_id, entry.posted_on)].append((entry, charge))
    if not groups:
        return BuildResult((), 0, 0)
    drugs = drug_info(session, [charge for rows in groups.values() for _, charge in rows])
    diagnoses = _diagnoses(session, {key[0] for key in groups})
    router = Router(session).prime(key[0] for key in groups)
    numbers = _numbers(session, [key[2].year for key in groups])
    claims: list[Claim] = []
    for (key, rows), number in zip(groups.items(), numbers, strict=True):
        policy = policy_for(session, key[0], key[1], key[2], router=router)
        claims.append(_build_one(session, actor, key, rows, policy, number, drugs, diagnoses))
        if progress is not None:
            progress("building claims", len(claims), len(groups))
    _store(session, actor, claims, [len(rows) for rows in groups.values()])
    ready = scrubber.check_and_mark(session, actor, claims, today=today)
    return BuildResult(tuple(c.id for c in claims), ready, len(claims) - ready)


def _diagnoses(session: Session, patient_ids: set[int]) -> dict[int, tuple[str, ...]]:
    found: dict[int, list[str]] = defaultdict(list)
    rows = session.execute(
        select(Diagnosis.patient_id, Diagnosis.code)
        .where(Diagnosis.patient_id.in_(patient_ids))
        .order_by(Diagnosis.patient_id, Diagnosis.position)
    )
    for patient_id, code in rows:
        found[patient_id].append(code)
    return {pid: tuple(codes[:MAX_DIAGNOSES]) for pid, codes in found.items()}


def policy_for(
    session: Session, patient_id: int, payer_id: int, on: date, *, router: Router | None = None
) -> InsurancePolicy:
    """The patient's policy with ``payer_id`` on ``on``: the one in force, else the latest.
    ``router`` (primed for many patients) saves a query per claim."""
    coverage = (router or Router(session)).coverage(patient_id, on)
    for policy in (coverage.primary, coverage.secondary):
        if policy is not None and policy.payer_id == payer_id:
            return policy
    latest = session.scalars(
        select(InsurancePolicy)
        .where(InsurancePolicy.patient_id == patient_id, InsurancePolicy.payer_id == payer_id)
        .order_by(InsurancePolicy.effective_from.desc(), InsurancePolicy.id.desc())
        .limit(1)
    ).first()
    if latest is None:
        raise LookupError(f"patient {patient_id} has no policy with payer {payer_id}")
    return latest


def next_number(session: Session, year: int) -> str:
    """``CL-2026-00042``: numbered per year; fits box 26's fourteen characters."""
    return claim_number(year, db.reserve(session, number_counter(year)))


def number_counter(year: int) -> str:
    """The counter claims of ``year`` are numbered from."""
    return f"claim:{year}"


def claim_number(year: int, number: int) -> str:
    """The ``number``-th claim of ``year`` as people read it: ``CL-2026-00042``."""
    return f"CL-{year}-{number:05d}"


def _numbers(session: Session, years: Sequence[int]) -> list[str]:
    """A claim number for each of ``years``, each year's drawn from its counter at once."""
    wanted = Counter(years)
    first = {
        year: db.reserve(session, number_counter(year), count) for year, count in wanted.items()
    }
    taken: dict[int, int] = defaultdict(int)
    numbers = []
    for year in years:
        numbers.append(claim_number(year, first[year] + taken[year]))
        taken[year] += 1
    return numbers


def _build_one(
    session: Session,
    actor: Actor,
    key: tuple[int, int, date],
    rows: Sequence[tuple[LedgerEntry, Charge]],
    policy: InsurancePolicy,
    number: str,
    drugs: dict[int, DrugInfo],
    diagnoses: dict[int, tuple[str, ...]],
) -> Claim:
    patient_id, payer_id, on = key
    payer = policy.payer
    first_entry, first_charge = rows[0]
    claim = Claim(
        number=number,
        patient_id=patient_id,
        payer_id=payer_id,
        policy_id=policy.id,
        location_id=first_entry.location_id,
        provider_id=first_charge.provider_id,
        rank=policy.rank,
        status=ClaimStatus.DRAFT,
        service_from=on,
        service_to=on,
        billed=sum((entry.amount for entry, _ in rows), ZERO),
        diagnoses=",".join(diagnoses.get(patient_id, ())),
        prior_auth_number=policy.prior_auth_number,
        filing_deadline=on + timedelta(days=payer.timely_filing_days),
        created_by=actor.username,
    )
    claim.lines = [
        _line(position, entry, charge, drugs.get(charge.id))
        for position, (entry, charge) in enumerate(rows, start=1)
    ]
    claim.note = _claim_note(session, payer, claim)
    return claim


def _store(session: Session, actor: Actor, claims: Sequence[Claim], counts: Sequence[int]) -> None:
    """Write the new claims in one flush, then each one's first history row and audit row."""
    session.add_all(claims)
    session.flush()
    audit.record_many(
        session, actor, "create", "claim", ((c.id, audit.snapshot(c)) for c in claims)
    )
    record_events(
        session,
        actor,
        [
            (claim, ClaimStatus.DRAFT, f"Built from {n} charge{'s' if n != 1 else ''}", "")
            for claim, n in zip(claims, counts, strict=True)
        ],
    )


def _line(position: int, entry: LedgerEntry, charge: Charge, drug: DrugInfo | None) -> ClaimLine:
    line = ClaimLine(
        position=position,
        charge_id=charge.id,
        entry_id=entry.id,
        service_date=entry.posted_on,
        code=charge.code,
        modifiers=charge.modifiers,
        description=charge.description[:200],
        units=charge.units,
        billed=entry.amount,
        pointers=charge.diagnosis_pointers,
    )
    if drug is not None:
        given = claim_drug(charge.code, drug)
        line.ndc, line.note = given.ndc, given.note
        line.ndc_quantity, line.ndc_unit = given.quantity, given.unit
    return line


@dataclass(frozen=True)
class ClaimDrug:
    """What a claim's drug line carries: the NDC, its quantity and unit, and the line note."""

    ndc: str
    quantity: Decimal
    unit: str  # NUCC qualifier: UN for esketamine's devices, else the dose's
    note: str  # drug name and dose, capitals, 80 characters at most


def claim_drug(code: str, drug: DrugInfo) -> ClaimDrug:
    """The drug fields of a claim line billed as ``code`` for ``drug`` (pure: the claim
    builder and the demo generator both call it)."""
    quantity, unit = ndc_quantity(code, drug)
    return ClaimDrug(drug.ndc, quantity, unit, f"{drug.name} {drug.dose}".upper()[:80])


def ndc_quantity(code: str, drug: DrugInfo) -> tuple[Decimal, str]:
    """Esketamine is dispensed in 28 mg devices (unit ``UN``); ketamine by the milligram."""
    if code in {"J0013", "S0013"}:
        devices = -(-int(drug.quantity) // ESKETAMINE_DEVICE_MG)
        return Decimal(devices), "UN"
    return drug.quantity, drug.unit


def _claim_note(session: Session, payer: Payer, claim: Claim) -> str:
    """Box 19 / NTE: a Medicare contractor asking for REMS attestation reads the setting."""
    if not (payer.rems_kx and any(line.code in G_CODES for line in claim.lines)):
        return ""
    location = session.get(Location, claim.location_id)
    return rems_note(location.name if location is not None else "the clinic")
