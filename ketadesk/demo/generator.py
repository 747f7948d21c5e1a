"""The chain-scale data generator: a realistic ketamine clinic chain in an empty database.

:func:`generate` fills a new database with what a clinic chain holds after ``years`` of
work: locations in several states and time zones (organisation NPI, TIN, POS 11, opening
hours), chairs with a mix of modalities, providers with NPIs, licences and REMS
enrolment, the usual payers with their EDI ids, the demo users, and ``patients`` patients
with contact details, emergency contact and driver, diagnoses, screening flags, REMS
enrolment and insurance (self-pay, one policy, or primary and secondary with prior
authorisations).

How data moves through it, in one write transaction that either lands whole or not at all:

1. The database must hold nothing but what ``ketadesk init`` makes (users, protocols,
   the fee schedule, package templates): any clinic record, session or money raises
   :class:`~ketadesk.errors.Conflict` (:func:`refuse_if_not_empty`). Demo users whose
   names are already taken are left as they are.
2. The clinic setup (a few dozen rows) is built as ORM objects.
3. The demo users go through :func:`ketadesk.access.users.create_user`, which hashes
   each password with argon2 — slow on purpose, so only a handful of users. Their
   passwords follow ``spec.accounts`` (:class:`Accounts`): the published
   :data:`DEMO_PASSWORD` only for the demo clinic's own file, otherwise a random password
   for each, handed back once in :attr:`DemoSummary.accounts`, or no users at all.
4. Patients are drawn as plain dictionaries (every draw through :mod:`ketadesk.demo.dice`)
   and written in chunks of :data:`CHUNK` with the demo's bulk writer
   (:func:`ketadesk.demo.bulk.insert_rows`), followed by their diagnoses and policies. No ORM
   object and no validator call is made per patient: every value is drawn from data that
   is valid by construction (the tests run every generated value through
   :mod:`ketadesk.clinic.validation` to keep it so). This is what lets 20,000 patients
   land in a few seconds.
5. The shipped protocols are written
   (:func:`~ketadesk.scheduling.protocols.ensure_default_protocols`), and
   :func:`ketadesk.demo.history.add_history` books every patient's series and sessions
   over those years: outcomes, the floor's records, REMS monitoring forms, the weeks ahead,
   and today's floor as it stands at ``spec.now`` (progress stage ``sessions``);
   :func:`ketadesk.demo.clinical_consent.add_consents` then signs the consents those
   treatments need (two patients booked later today are left without a valid one).
6. :func:`ketadesk.demo.money.add_money` seeds the fee schedule, package templates and fee
   policies through the billing services and writes the money of those sessions: charges
   (the last two weeks still in review), the ledger, monthly invoices, payments,
   adjustments, refunds, packages and Good Faith Estimates (progress stage ``money``).
7. One audit row (action ``generate``, entity ``demo``) records the counts, instead of
   one row per patient or session (each protocol, fee item, package template and fee
   policy has its own, as when a clinic sets them up).

The same seed gives the same data, byte for byte, apart from the creation times of the
users and the audit row: every draw comes from a :class:`random.Random` seeded from
``spec.seed`` and the stage's name (never the global generator), dates are computed from
``spec.today`` (and the floor of today from ``spec.now``), and nothing depends on set or
hash order.

Where later parts extend it: claims (issue 5) will add a stage after the money. Each stage
draws from its own stage-seeded generator, so the stages before it stay exactly as they
are, and reports its progress under its own name.
"""

from __future__ import annotations

import dataclasses
import random
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ketadesk.access import audit
from ketadesk.access.models import User
from ketadesk.access.os_accounts import link
from ketadesk.access.permissions import Actor, Role, seeding_actor
from ketadesk.access.users import create_user
from ketadesk.billing.models import (
    Charge,
    Estimate,
    Invoice,
    LedgerEntry,
    PackagePurchase,
)
from ketadesk.clinic.models import (
    Chair,
    Location,
    Modality,
    OpeningHours,
    Patient,
    Payer,
    PolicyRank,
    Provider,
    Relationship,
    ScreeningFlag,
    Sex,
)
from ketadesk.clinic.patients import format_mrn, search_columns
from ketadesk.clinic.payers import ESKETAMINE_SERVICES, clean_payer
from ketadesk.clinic.text import fold, name_words
from ketadesk.db import Base, Database, reserve
from ketadesk.demo import names
from ketadesk.demo.bulk import insert_rows, table_of
from ketadesk.demo.clinical_consent import add_consents
from ketadesk.demo.clinical_history import add_treatment_histories
from ketadesk.demo.clinical_intake import add_intakes
from ketadesk.demo.clinical_outcomes import add_outcomes
from ketadesk.demo.clinical_sideeffects import add_side_effects
from ketadesk.demo.dice import Dice, table
from ketadesk.demo.dice import Table as Weights
from ketadesk.demo.history import add_history
from ketadesk.demo.money import add_money
from ketadesk.demo.names import HERITAGES, METROS, Heritage, Metro, Town
from ketadesk.errors import Conflict, FieldProblem, ValidationError
from ketadesk.scheduling.models import Series, TreatmentSession
from ketadesk.scheduling.protocols import ensure_default_protocols

DEMO_USER = "demo"
DEMO_PASSWORD = "demo-clinic-password"  # published; strong enough for the strength rule

# (user name, full name, role): the demo manager first, then one user for every other role.
DEMO_USERS: tuple[tuple[str, str, Role], ...] = (
    (DEMO_USER, "Dana Whitfield", Role.MANAGER),
    ("frontdesk", "Rosa Delgado", Role.FRONT_DESK),
    ("nurse", "Kwame Mensah", Role.CLINICAL),
    ("billing", "Priya Raman", Role.BILLING),
    ("admin", "Alex Kim", Role.ADMIN),
)



class Accounts(StrEnum):
    """How :func:`generate` makes the demo users (:data:`DEMO_USERS`)."""

    PUBLIC = "public"  # the published DEMO_PASSWORD: for the demo clinic's own file only
    RANDOM = "random"  # a random password each, handed back once in DemoSummary.accounts
    NONE = "none"  # no demo users: data sets made to measure or test with


RANDOM_PASSWORD_BYTES = 12  # token_urlsafe: 16 characters, above MIN_PASSWORD_LENGTH

# What `ketadesk init` never makes: a database holding any of these is a clinic's (or an
# earlier demo's), and demo data is refused there. Claims will add theirs here.
# (one, many, model)
CLINIC_RECORDS: tuple[tuple[str, str, type[Base]], ...] = (
    ("location", "locations", Location), ("provider", "providers", Provider),
    ("payer", "payers", Payer), ("patient", "patients", Patient),
    ("series", "series", Series), ("session", "sessions", TreatmentSession),
    ("charge", "charges", Charge), ("ledger entry", "ledger entries", LedgerEntry),
    ("invoice", "invoices", Invoice), ("package sold", "packages sold", PackagePurchase),
    ("estimate", "estimates", Estimate),
)

CHUNK = 5000  # patients per bulk INSERT: large enough to be fast, small enough to report
MAX_YEARS = 20
ProgressCallback = Callable[[str, int, int], None]


def _local_today() -> date:
    return datetime.now().astimezone().date()


# The floor of a fixed past or future day is shown as it stands at this time (UTC): the
# middle of the working day in every US time zone (14:00 in New York, 11:00 in Los Angeles).
FIXED_DAY_NOW = time(18, 0)


@dataclass(frozen=True)
class DemoSpec:
    """What to generate: how many patients, over how many years, at how many locations.

    ``today`` is the last day of the generated history; tests pass a fixed one so that
    the data does not depend on the day they run. ``now`` (UTC-aware) is the moment
    today's floor is shown at: sessions before it happened, those after it are booked;
    ``None`` means the real now when ``today`` is the real today, else
    :data:`FIXED_DAY_NOW` on ``today`` (see :meth:`moment`). ``accounts`` says how the
    demo users are made (:class:`Accounts`); the default never uses a known password.
    """

    patients: int = 2000
    years: int = 5
    locations: int = 3
    seed: int = 1
    today: date = field(default_factory=_local_today)
    accounts: Accounts = Accounts.RANDOM
    now: datetime | None = None

    def __post_init__(self) -> None:
        problems = []
        if self.patients < 0:
            problems.append(FieldProblem("patients", f"{self.patients} is negative"))
        if not 1 <= self.years <= MAX_YEARS:
            problems.append(FieldProblem(
                "years", f"{self.years} is not between 1 and {MAX_YEARS}"))
        if not 1 <= self.locations <= len(METROS):
            problems.append(FieldProblem(
                "locations", f"{self.locations} is not between 1 and {len(METROS)}"))
        if self.now is not None and self.now.utcoffset() is None:
            problems.append(FieldProblem(
                "now", f"{self.now.isoformat()} has no time zone; give an instant"))
        if problems:
            raise ValidationError(problems)

    def moment(self) -> datetime:
        """The instant today's floor stands at (UTC)."""
        if self.now is not None:
            return self.now.astimezone(UTC)
        if self.today == _local_today():
            return datetime.now(UTC)
        return datetime.combine(self.today, FIXED_DAY_NOW, UTC)


@dataclass(frozen=True)
class DemoAccount:
    """A demo user made with a random password: shown once, stored only as its hash."""

    username: str
    full_name: str
    role: Role
    password: str


@dataclass(frozen=True)
class DemoSummary:
    """How many records of each kind :func:`generate` wrote.

    ``accounts`` holds the demo users made with random passwords (:attr:`Accounts.RANDOM`);
    it is not part of :meth:`as_dict`, so the counts (and the audit row made of them)
    never carry a password.
    """

    seed: int
    years: int
    locations: int
    opening_hours: int
    chairs: int
    providers: int
    payers: int
    users: int  # demo users created (existing user names are left alone)
    patients: int
    diagnoses: int
    policies: int
    self_pay_patients: int
    prior_authorizations: int
    protocols: int
    series: int
    sessions: int
    completed_sessions: int
    session_steps: int
    vital_signs: int
    observations: int
    waitlist_entries: int
    fee_items: int
    package_templates: int
    charges: int
    pending_charges: int
    ledger_entries: int
    allocations: int
    invoices: int
    packages_sold: int
    estimates: int
    accounts: tuple[DemoAccount, ...] = ()

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                if f.name != "accounts"}


def generate(
    db: Database,
    spec: DemoSpec,
    progress: ProgressCallback | None = None,
    *,
    actor: Actor | None = None,
    os_account: str | None = None,
) -> DemoSummary:
    """Fill the empty database ``db`` with a demo clinic chain as ``spec`` describes.

    ``progress`` is called as ``progress(stage, done, total)`` for the stages ``clinic``,
    ``users`` (unless ``spec.accounts`` is :attr:`Accounts.NONE`), ``patients``,
    ``sessions`` and ``money``. ``actor`` (KetaDesk's own seeding actor by default) is named
    in the audit log. ``os_account`` is linked to the demo administrator, unless it is
    linked to someone already, so the commands its owner runs act as that administrator.
    Raises :class:`~ketadesk.errors.Conflict` if ``db`` holds anything ``ketadesk init``
    does not make (:func:`refuse_if_not_empty`); then nothing is written.
    """
    report: ProgressCallback = progress or _ignore_progress
    actor = actor or seeding_actor()
    with db.transaction(job=True) as session:
        refuse_if_not_empty(session)
        report("clinic", 0, 1)
        clinic = _build_clinic(session, Dice(_stage_random(spec.seed, "clinic")), spec)
        report("clinic", 1, 1)
        accounts = _create_users(session, actor, spec.accounts, report)
        if os_account is not None and any(a.role is Role.ADMIN for a in accounts):
            _link_demo_admin(session, actor, os_account)
        people = _insert_patients(session, Dice(_stage_random(spec.seed, "patients")), spec,
                                  clinic, report)
        protocols = ensure_default_protocols(session, actor)
        now = spec.moment()
        history = add_history(session, _stage_random(spec.seed, "sessions"),
                              today=spec.today, now=now, report=report)
        add_treatment_histories(session, _stage_random(spec.seed, "histories"), today=spec.today,
                                now=now)
        add_consents(session, _stage_random(spec.seed, "consents"), actor,
                     today=spec.today, now=now)
        add_outcomes(session, _stage_random(spec.seed, "outcomes"), now=now)
        money = add_money(session, _stage_random(spec.seed, "money"), actor=actor,
                          today=spec.today, now=now, report=report)
        add_intakes(session, _stage_random(spec.seed, "intake"), actor=actor,
                    today=spec.today, now=now)
        add_side_effects(session, _stage_random(spec.seed, "side_effects"), now=now)
        summary = DemoSummary(
            seed=spec.seed, years=spec.years, locations=len(clinic.locations),
            opening_hours=clinic.opening_hours, chairs=clinic.chairs,
            providers=clinic.providers, payers=len(clinic.payers), users=len(accounts),
            patients=people.patients, diagnoses=people.diagnoses, policies=people.policies,
            self_pay_patients=people.self_pay, prior_authorizations=people.prior_auths,
            protocols=len(protocols), **history.as_dict(), **money.as_dict(),
            accounts=tuple(a for a in accounts if spec.accounts is Accounts.RANDOM),
        )
        audit.record(session, actor, "generate", "demo", spec.seed,
                     after={**summary.as_dict(), "today": spec.today.isoformat(),
                            "now": now.isoformat()})
    return summary


def _ignore_progress(stage: str, done: int, total: int) -> None:
    return None


def _stage_random(seed: int, stage: str) -> random.Random:
    # A string seed is hashed with SHA-512, the same on every run and platform.
    return random.Random(f"ketadesk-demo:{seed}:{stage}")


def clinic_records(session: Session) -> dict[str, int]:
    """How many records of each kind ``ketadesk init`` never makes the database holds
    (:data:`CLINIC_RECORDS`), only the kinds it has any of."""
    found = {
        many: session.scalar(select(func.count()).select_from(model)) or 0
        for _one, many, model in CLINIC_RECORDS
    }
    return {noun: count for noun, count in found.items() if count}


def describe_records(held: dict[str, int]) -> str:
    """``clinic_records`` in words: "1 location, 12 patients"."""
    singular = {many: one for one, many, _model in CLINIC_RECORDS}
    return ", ".join(f"{count} {singular[noun] if count == 1 else noun}"
                     for noun, count in held.items())


def refuse_if_not_empty(session: Session) -> None:
    """Raise :class:`~ketadesk.errors.Conflict` naming what the database holds beyond what
    ``ketadesk init`` makes: demo data never mixes with a clinic's (or an earlier demo's)."""
    held = clinic_records(session)
    if held:
        raise Conflict(
            f"this database already holds clinic records ({describe_records(held)}); demo "
            "data goes into a database that holds nothing but what 'ketadesk init' made"
        )


def _create_users(
    session: Session, actor: Actor, accounts: Accounts, report: ProgressCallback,
) -> list[DemoAccount]:
    """The demo users whose names are free, with passwords as ``accounts`` says."""
    if accounts is Accounts.NONE:
        return []
    taken = set(session.scalars(select(User.username)))
    created = []
    for done, (username, full_name, role) in enumerate(DEMO_USERS, start=1):
        if username not in taken:
            password = (DEMO_PASSWORD if accounts is Accounts.PUBLIC
                        else secrets.token_urlsafe(RANDOM_PASSWORD_BYTES))
            create_user(session, actor, username=username, full_name=full_name, role=role,
                        password=password)
            created.append(DemoAccount(username, full_name, role, password))
        report("users", done, len(DEMO_USERS))
    return created


def _link_demo_admin(session: Session, actor: Actor, os_account: str) -> None:
    """The demo administrator acts for ``os_account`` at the command line (``make run``'s
    owner, a developer), unless another user already does."""
    if session.scalar(select(User.id).where(User.os_account == os_account)) is not None:
        return
    admin = next(name for name, _full, role in DEMO_USERS if role is Role.ADMIN)
    link(session, actor, admin, os_account)


# ---------------------------------------------------------------------------------------
# Identifiers and small draws
# ---------------------------------------------------------------------------------------

def npi_check_digit(first_nine: str) -> str:
    """The Luhn check digit of an NPI, computed over the ``80840`` prefix and nine digits."""
    total = 0
    for position, char in enumerate(reversed("80840" + first_nine)):
        digit = int(char)
        if position % 2 == 0:  # doubled once the check digit is appended
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return str((10 - total % 10) % 10)


def _npi(dice: Dice, first: str, taken: set[str]) -> str:
    while True:
        body = first + "".join(dice.one("0123456789") for _ in range(8))
        number = body + npi_check_digit(body)
        if number not in taken:
            taken.add(number)
            return number


# Campus prefixes the IRS issues employer identification numbers under.
_EIN_PREFIXES = ("20", "26", "27", "45", "46", "47", "81", "82", "83", "84", "85", "86",
                 "87", "88", "92", "93", "98", "99")


def _tin(dice: Dice) -> str:
    return dice.one(_EIN_PREFIXES) + f"{dice.below(10_000_000):07d}"


def _phone(dice: Dice, area_codes: Sequence[str]) -> str:
    """A valid NANP number: the exchange starts 2-9 and is not a service code (N11)."""
    while True:
        exchange = dice.between(200, 999)
        if exchange % 100 != 11:
            return f"{dice.one(area_codes)}{exchange}{dice.below(10_000):04d}"


def _digits(dice: Dice, count: int) -> str:
    return f"{dice.below(10 ** count):0{count}d}"


def _at(day: date, hour: int, minute: int, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(hour, minute), zone).astimezone(UTC)


# ---------------------------------------------------------------------------------------
# The clinic: locations, hours, chairs, providers, payers
# ---------------------------------------------------------------------------------------

# Opening hours as (weekdays, opens, closes); Monday is 0.
_HOURS_PATTERNS: tuple[tuple[tuple[tuple[int, ...], time, time], ...], ...] = (
    (((0, 1, 2, 3), time(7, 30), time(19, 0)), ((4,), time(8, 0), time(16, 0)),
     ((5,), time(9, 0), time(13, 0))),
    (((0, 1, 2, 3, 4), time(8, 0), time(18, 0)),),
    (((0, 1, 2, 3, 4), time(8, 0), time(12, 0)), ((0, 1, 2, 3, 4), time(13, 0), time(17, 30))),
    (((1, 2, 3, 4, 5), time(9, 0), time(17, 0)),),
)

_CHAIR_KINDS = {
    "iv": frozenset({Modality.IV, Modality.IM}),
    "flex": frozenset({Modality.IV, Modality.IM, Modality.ESKETAMINE}),
    "esketamine": frozenset({Modality.ESKETAMINE}),
    "kap": frozenset({Modality.KAP, Modality.ORAL, Modality.IM}),
}


def _chair_layout(count: int) -> list[tuple[str, frozenset[Modality]]]:
    """Chairs of one location: mostly IV, dedicated esketamine chairs, one KAP room."""
    esketamine = max(1, count // 4)
    iv = count - 1 - 1 - esketamine  # one flexible chair, one KAP room
    kinds = ["iv"] * iv + ["flex"] + ["esketamine"] * esketamine
    layout = [(f"Chair {n}", _CHAIR_KINDS[kind]) for n, kind in enumerate(kinds, start=1)]
    return [*layout, ("KAP Room", _CHAIR_KINDS["kap"])]


_CREDENTIALS = table([("MD", 2.0), ("DO", 1.0), ("NP", 3.0), ("CRNA", 3.0)])


@dataclass(frozen=True)
class _PayerSeed:
    name: str
    edi_payer_id: str
    address_line1: str
    city: str
    state: str
    zip_code: str
    timely_filing_days: int
    kind: str  # "national", "blue" (one state's plan) or "medicare"
    member_form: str  # how member ids look; see _member_id
    region: str = ""  # the states of a blue plan, or the Medicare region


# Real payers with their widely published EDI payer ids and timely-filing limits. The
# claims addresses are plausible demo values: a clinic enters its own from each payer's
# provider manual.
_PAYERS: tuple[_PayerSeed, ...] = (
    _PayerSeed("Aetna", "60054", "PO Box 981106", "El Paso", "TX", "79998", 120,
               "national", "W"),
    _PayerSeed("Cigna", "62308", "PO Box 188061", "Chattanooga", "TN", "37422", 90,
               "national", "U"),
    _PayerSeed("UnitedHealthcare", "87726", "PO Box 30555", "Salt Lake City", "UT", "84130",
               90, "national", "9"),
    _PayerSeed("Humana", "61101", "PO Box 14601", "Lexington", "KY", "40512", 180,
               "national", "H"),
    _PayerSeed("Empire BlueCross BlueShield", "803", "PO Box 1407", "New York", "NY",
               "10008", 120, "blue", "YLS", "NY NJ CT"),
    _PayerSeed("Blue Cross and Blue Shield of Texas", "84980", "PO Box 660044", "Dallas",
               "TX", "75266", 180, "blue", "ZGD", "TX"),
    _PayerSeed("Anthem Blue Cross", "47198", "PO Box 60007", "Los Angeles", "CA", "90060",
               90, "blue", "XEA", "CA"),
    _PayerSeed("Premera Blue Cross", "47570", "PO Box 91059", "Seattle", "WA", "98111", 365,
               "blue", "PRM", "WA"),
    _PayerSeed("Medicare Part B (Novitas Solutions)", "04412", "PO Box 3098",
               "Mechanicsburg", "PA", "17055", 365, "medicare", "MBI", "novitas"),
    _PayerSeed("Medicare Part B (Noridian JE)", "01182", "PO Box 6775", "Fargo", "ND",
               "58108", 365, "medicare", "MBI", "noridian"),
    _PayerSeed("Medicare Part B (National Government Services)", "13202", "PO Box 6178",
               "Indianapolis", "IN", "46206", 365, "medicare", "MBI", "ngs"),
)


# What each kind of payer pays for and how it wants esketamine coded, as a clinic sets it
# up in Settings → Payers (what clean_payer leaves blank takes the service's defaults).
# Medicare bills esketamine as its G-code bundle with KX for REMS and pays no separate drug
# or visit; commercial plans cover the esketamine services (visit, prolonged staff time, the
# drug), Humana with the clinic out of its network, and Premera covers IV ketamine as well.
_IV_KETAMINE = "96365,96366,96372,J3490"
_PAYER_TERMS: dict[str, dict[str, Any]] = {
    "medicare": {"is_medicare": True, "esketamine_billing": "g_code", "rems_kx": True,
                 "bills_drug": False, "appeal_days": 120},
    "Humana": {"in_network": False, "appeal_days": 180},
    "Premera Blue Cross": {"covered_codes": f"{ESKETAMINE_SERVICES},{_IV_KETAMINE}",
                           "appeal_days": 180},
    "Cigna": {"appeal_days": 180},
    "UnitedHealthcare": {"appeal_days": 365},
}


def _payer_terms(seed: _PayerSeed) -> dict[str, Any]:
    return dict(_PAYER_TERMS.get(seed.kind if seed.kind == "medicare" else seed.name, {}))


@dataclass
class _Clinic:
    """What the patient stage needs to know about the clinic that was just built."""

    locations: list[tuple[int, Metro]] = field(default_factory=list)
    payers: dict[str, tuple[int, _PayerSeed]] = field(default_factory=dict)
    opening_hours: int = 0
    chairs: int = 0
    providers: int = 0


def _build_clinic(session: Session, dice: Dice, spec: DemoSpec) -> _Clinic:
    clinic = _Clinic()
    npis: set[str] = set()
    opened = spec.today - timedelta(days=round(spec.years * 365.25) + 30)
    hires: list[tuple[Provider, int]] = []
    placed: list[Location] = []
    for index, metro in enumerate(METROS[: spec.locations]):
        zone = ZoneInfo(metro.time_zone)
        location = Location(
            code=metro.code, name=f"{names.CLINIC_BRAND} — {metro.area}",
            address_line1=metro.address_line1, address_line2=metro.address_line2,
            city=metro.city, state=metro.state, zip_code=metro.zip_code,
            phone=_phone(dice, metro.towns[0].area_codes[:1]), pos_code="11",
            npi=_npi(dice, dice.one("12"), npis), tin=_tin(dice), time_zone=metro.time_zone,
            observe_holidays=True, active=True, created_at=_at(opened, 9, 0, zone),
        )
        for weekdays, opens, closes in _HOURS_PATTERNS[index % len(_HOURS_PATTERNS)]:
            location.hours.extend(
                OpeningHours(weekday=day, opens=opens, closes=closes) for day in weekdays
            )
        session.add(location)
        session.flush()
        clinic.locations.append((location.id, metro))
        placed.append(location)
        clinic.opening_hours += len(location.hours)
        for name, modalities in _chair_layout(dice.between(4, 8)):
            session.add(Chair(location_id=location.id, name=name, modalities=modalities))
            clinic.chairs += 1
        for rank in range(dice.between(2, 4)):
            credentials = "MD" if rank == 0 else dice.pick(_CREDENTIALS)
            hires.append((_provider(dice, metro, credentials, npis), index))
    for provider, index in hires:
        provider.locations.append(placed[index])
        # Some providers also cover the next location of the chain on certain days.
        if len(placed) > 1 and dice.chance(0.25):
            provider.locations.append(placed[(index + 1) % len(placed)])
        session.add(provider)
    clinic.providers = len(hires)
    for seed in _PAYERS:
        payer = Payer(**clean_payer({
            "name": seed.name, "edi_payer_id": seed.edi_payer_id,
            "address_line1": seed.address_line1, "city": seed.city, "state": seed.state,
            "zip_code": seed.zip_code, "timely_filing_days": seed.timely_filing_days,
            **_payer_terms(seed),
        }))
        session.add(payer)
        session.flush()
        clinic.payers[seed.name] = (payer.id, seed)
    session.flush()
    return clinic


def _provider(dice: Dice, metro: Metro, credentials: str, npis: set[str]) -> Provider:
    heritage = dice.one(HERITAGES)
    female = dice.chance(0.55)
    given = dice.one(heritage.female if female else heritage.male)
    family = _family_for(heritage, dice.one(heritage.family), female)
    if credentials in ("MD", "DO"):
        licence = metro.licence_prefix + dice.digits(metro.licence_digits)
    else:
        licence = f"{'APRN' if credentials == 'NP' else 'CRNA'}-{dice.digits(6)}"
    return Provider(
        family_name=family, given_name=given, credentials=credentials,
        npi=_npi(dice, "1", npis), licence_number=licence, licence_state=metro.state,
        rems_enrolled=dice.chance(0.85), max_concurrent_chairs=dice.one((3, 4)),
        active=True,
    )


def _family_for(heritage: Heritage, family: str, female: bool) -> str:
    """Polish family names agree with sex: Wiśniewski -> Wiśniewska for a woman."""
    if heritage.gendered_family and female and family.endswith(("ski", "cki", "dzki")):
        return family[:-1] + "a"
    return family


# ---------------------------------------------------------------------------------------
# Patients
# ---------------------------------------------------------------------------------------

# Primary diagnoses, weighted as a ketamine clinic's caseload: treatment-resistant
# depression first, then PTSD, bipolar depression, anxiety and chronic pain. All are
# billable ICD-10-CM codes (the tests check every one with validation.icd10cm).
_PRIMARY = table([
    ("F33.2", 22), ("F33.1", 14), ("F32.2", 8), ("F32.1", 6), ("F33.9", 4), ("F32.A", 3),
    ("F33.41", 1), ("F43.12", 8), ("F43.10", 6), ("F31.81", 4), ("F31.32", 2), ("F41.1", 5),
    ("F42.2", 2), ("G89.29", 4), ("G89.4", 3), ("G90.521", 1), ("G90.522", 1),
    ("G43.709", 1), ("M79.7", 2),
])
_SECONDARY = table([
    ("F41.1", 10), ("R45.851", 6), ("F43.10", 3), ("F43.12", 2), ("F41.0", 3),
    ("G89.29", 3), ("F90.2", 2), ("F10.20", 1), ("M79.7", 2), ("G43.709", 1), ("F42.2", 1),
])
_DIAGNOSIS_COUNT = table([(1, 45), (2, 38), (3, 17)])


def _diagnosis_group(code: str) -> str:
    """Codes of one group do not appear together (one depression code, one PTSD code)."""
    return "mood" if code[:3] in ("F31", "F32", "F33") else code[:3]


# (flag, share of patients); pregnancy is drawn separately (women of child-bearing age).
_FLAG_RATES: tuple[tuple[ScreeningFlag, float], ...] = (
    (ScreeningFlag.PSYCHOSIS_HISTORY, 0.010),
    (ScreeningFlag.UNCONTROLLED_HYPERTENSION, 0.040),
    (ScreeningFlag.ANEURYSMAL_VASCULAR_DISEASE, 0.003),
    (ScreeningFlag.INTRACEREBRAL_HEMORRHAGE, 0.002),
    (ScreeningFlag.SUBSTANCE_USE_DISORDER, 0.070),
    (ScreeningFlag.CARDIAC_DISEASE, 0.030),
    (ScreeningFlag.SEIZURE_DISORDER, 0.012),
)
_SEXES = table([(Sex.FEMALE, 58.0), (Sex.MALE, 40.0), (Sex.NONBINARY, 1.5),
                    (Sex.UNKNOWN, 0.5)])
# Age at registration: (youngest, oldest, weight).
_AGES = table([((18, 24), 8), ((25, 34), 22), ((35, 44), 25), ((45, 54), 20),
                   ((55, 64), 15), ((65, 74), 8), ((75, 85), 2)])
# Relative shares of the commercial payers; a state's Blue plan gets 30.
_MARKET_SHARE = {"Aetna": 18.0, "Cigna": 16.0, "UnitedHealthcare": 24.0, "Humana": 6.0}
_SESSIONS_AUTHORIZED = (6, 8, 8, 12, 16, 24)
_MBI_LETTERS = "ACDEFGHJKMNPQRTUVWXY"  # Medicare Beneficiary Identifiers avoid S L O I B Z
_ASCII = frozenset("abcdefghijklmnopqrstuvwxyz")
_name_words = lru_cache(maxsize=16384)(name_words)


def _words(row: dict[str, Any]) -> set[str]:
    """The search words of a drawn patient, as patients.patient_words() makes them."""
    return (_name_words(row["family_name"]) | _name_words(row["given_name"])
            | _name_words(row["middle_name"]) | _name_words(row["preferred_name"]))
_NICKNAMES: dict[tuple[str, str], tuple[str, ...]] = {
    (heritage.key, given): tuple(short for name, short in heritage.nicknames if name == given)
    for heritage in HERITAGES for given, _ in heritage.nicknames
}


@lru_cache(maxsize=8192)
def _ascii_key(name: str) -> str:
    """The letters of a name that can go into an email address: "Łucja" -> "lucja"."""
    return "".join(c for c in fold(name) if c in _ASCII)


@dataclass
class _Counts:
    patients: int = 0
    diagnoses: int = 0
    policies: int = 0
    self_pay: int = 0
    prior_auths: int = 0


@dataclass
class _Draft:
    """One patient's row, and the diagnoses and policies that wait for its id."""

    row: dict[str, Any]
    diagnoses: list[str]
    policies: list[dict[str, Any]]


def _insert_patients(
    session: Session, dice: Dice, spec: DemoSpec, clinic: _Clinic,
    report: ProgressCallback,
) -> _Counts:
    counts = _Counts()
    report("patients", 0, spec.patients)
    if spec.patients == 0:
        return counts
    patient_t, diagnosis_t = table_of(Patient), Base.metadata.tables["diagnosis"]
    policy_t = Base.metadata.tables["insurance_policy"]
    word_t = Base.metadata.tables["patient_search_word"]
    drawer = _PatientDrawer(dice, spec, clinic)
    first_number = reserve(session, "mrn", spec.patients)
    for start in range(0, spec.patients, CHUNK):
        drafts = [drawer.draw(format_mrn(first_number + n))
                  for n in range(start, min(start + CHUNK, spec.patients))]
        insert_rows(session, patient_t, [draft.row for draft in drafts])
        # Read the new ids back by MRN: RETURNING in parameter order would make SQLite
        # insert one row per statement.
        mrns = [draft.row["mrn"] for draft in drafts]
        id_of: dict[str, int] = dict(session.execute(
            select(patient_t.c.mrn, patient_t.c.id).where(patient_t.c.mrn.in_(mrns))
        ).all())
        ids = [id_of[mrn] for mrn in mrns]
        diagnoses = [
            {"patient_id": patient_id, "code": code, "position": position}
            for patient_id, draft in zip(ids, drafts, strict=True)
            for position, code in enumerate(draft.diagnoses, start=1)
        ]
        policies = [
            {**policy, "patient_id": patient_id}
            for patient_id, draft in zip(ids, drafts, strict=True)
            for policy in draft.policies
        ]
        words = [
            {"patient_id": patient_id, "word": word}
            for patient_id, draft in zip(ids, drafts, strict=True)
            for word in _words(draft.row)
        ]
        insert_rows(session, word_t, words)
        insert_rows(session, diagnosis_t, diagnoses)
        insert_rows(session, policy_t, policies)
        counts.patients += len(drafts)
        counts.diagnoses += len(diagnoses)
        counts.policies += len(policies)
        counts.self_pay += sum(1 for draft in drafts if not draft.policies)
        counts.prior_auths += sum(1 for policy in policies if policy["prior_auth_number"])
        report("patients", counts.patients, spec.patients)
    return counts


class _PatientDrawer:
    """Draws one patient at a time from a seeded generator; holds the prepared tables."""

    def __init__(self, dice: Dice, spec: DemoSpec, clinic: _Clinic) -> None:
        self.dice = dice
        self.today = spec.today
        self.days = round(spec.years * 365.25)
        # The flagship location sees the most patients; the others a little fewer each.
        self.homes = table([
            ((location_id, metro, ZoneInfo(metro.time_zone)), max(0.5, 1.4 - 0.15 * i))
            for i, (location_id, metro) in enumerate(clinic.locations)
        ])
        self.heritages = {metro.code: table(_biased(metro)) for _, metro in clinic.locations}
        self.towns = {metro.code: table([(town, 3.0 if i == 0 else 1.0)
                                             for i, town in enumerate(metro.towns)])
                      for _, metro in clinic.locations}
        self.payers = clinic.payers
        self._commercial_tables: dict[tuple[str, str], Weights[Any]] = {}

    def draw(self, mrn: str) -> _Draft:
        dice = self.dice
        location_id, metro, zone = dice.pick(self.homes)
        days_ago = 1 + int((self.days - 1) * dice.rng.random() ** 1.3)  # the chain grows
        registered = self.today - timedelta(days=days_ago)
        created = _at(registered, dice.between(8, 17), dice.below(60), zone)
        sex: Sex = dice.pick(_SEXES)
        born = self._birth_date(registered, days_ago)
        family, given, middle, preferred = self._name(metro, sex)
        town: Town = dice.pick(self.towns[metro.code])
        age_now = (self.today - born).days // 365
        row: dict[str, Any] = {
            "mrn": mrn, "family_name": family, "given_name": given, "middle_name": middle,
            "preferred_name": preferred, "date_of_birth": born, "sex": sex,
            "phone": "" if dice.chance(0.02) else _phone(dice, town.area_codes),
            "email": "" if dice.chance(0.08) else self._email(given, family, born),
            **self._address(town),
            **self._contacts(family, metro, town, age_now),
            "screening_flags": self._flags(sex, age_now),
            "rems_enrolled_on": self._rems(registered),
            "weight_kg": self._weight(sex),
            "home_location_id": location_id,
            "notes": dice.one(names.NOTES) if dice.chance(0.04) else "",
            "active": not dice.chance(0.02), "created_at": created, "updated_at": created,
            "version": 1,
        }
        row.update(search_columns(family, given, row["phone"]))
        policies = self._policies(row, metro, age_now, registered)
        return _Draft(row, self._diagnoses(), policies)

    # -- who -----------------------------------------------------------------------------

    def _birth_date(self, registered: date, days_ago: int) -> date:
        youngest, oldest = self.dice.pick(_AGES)
        # Nobody is older than 85 today, however long ago they registered.
        oldest = min(oldest, 84 - days_ago // 365)
        age = self.dice.between(min(youngest, oldest), oldest)
        return registered - timedelta(days=round(age * 365.25) + self.dice.below(365))

    def _name(self, metro: Metro, sex: Sex) -> tuple[str, str, str, str]:
        dice = self.dice
        if dice.chance(0.004):
            family, given, middle = dice.one(names.LONG_NAMES)
            return family, given, middle, ""
        heritage: Heritage = dice.pick(self.heritages[metro.code])
        female = sex is Sex.FEMALE or (sex in (Sex.NONBINARY, Sex.UNKNOWN) and dice.chance(0.5))
        pool = heritage.female if female else heritage.male
        given = dice.one(pool)
        family = _family_for(heritage, dice.one(heritage.family), female)
        middle = ""
        own_middles = heritage.middle_female if female else heritage.middle_male
        if own_middles and dice.chance(0.8):
            middle = dice.one(own_middles)
        elif dice.chance(0.3):
            middle = dice.one(pool)
            middle = "" if middle == given else middle
        return family, given, middle, self._goes_by(heritage, given, female)

    def _goes_by(self, heritage: Heritage, given: str, female: bool) -> str:
        """The preferred name: a short form of the given name, or an adopted name."""
        dice = self.dice
        short_forms = _NICKNAMES.get((heritage.key, given))
        if short_forms and dice.chance(0.3):
            return dice.one(short_forms)
        adopted = heritage.adopted_female if female else heritage.adopted_male
        if adopted and dice.chance(heritage.adopted_rate):
            return dice.one(adopted)
        return ""

    def _person(self, metro: Metro, family: str | None = None, sex: str = "") -> str:
        """Someone the patient knows: a relative (same family name) or anyone else."""
        dice = self.dice
        heritage: Heritage = dice.pick(self.heritages[metro.code])
        female = sex == "F" if sex else dice.chance(0.55)
        given = dice.one(heritage.female if female else heritage.male)
        if family is None:
            family = _family_for(heritage, dice.one(heritage.family), female)
        return f"{given} {family}"

    def _email(self, given: str, family: str, born: date) -> str:
        dice = self.dice
        first, last = _ascii_key(given), _ascii_key(family)
        form = dice.below(5)
        if not first or not last:
            local = f"{first or last or 'patient'}{dice.between(100, 9999)}"
        elif form == 0:
            local = f"{first}.{last}"
        elif form == 1:
            local = f"{first}{last}{born.year % 100:02d}"
        elif form == 2:
            local = f"{first[0]}{last}"
        elif form == 3:
            local = f"{last}.{first}{dice.between(1, 99)}"
        else:
            local = f"{first}_{last}"
        return f"{local}@{dice.one(names.EMAIL_DOMAINS)}"

    def _address(self, town: Town) -> dict[str, str]:
        dice = self.dice
        line2 = ""
        if dice.chance(0.25):
            line2 = dice.one(names.UNIT_FORMS).format(
                n=dice.between(1, 40), letter=dice.one("ABCDEF"))
        return {
            "address_line1": f"{dice.between(1, 9899)} {dice.one(names.STREETS)} "
                             f"{dice.one(names.STREET_TYPES)}",
            "address_line2": line2, "city": town.city, "state": town.state,
            "zip_code": dice.one(town.zips),
        }

    def _contacts(self, family: str, metro: Metro, town: Town, age: int) -> dict[str, str]:
        dice = self.dice
        contact = {"emergency_contact_name": "", "emergency_contact_phone": "",
                   "emergency_contact_relationship": "", "driver_name": "", "driver_phone": ""}
        if dice.chance(0.92):
            relation = dice.one(names.RELATIONS)
            if relation.min_patient_age > age:
                relation = names.RELATIONS[0]
            same_name = relation.shares_family_name and dice.chance(0.85)
            contact["emergency_contact_name"] = self._person(
                metro, family if same_name else None, relation.sex)
            contact["emergency_contact_phone"] = _phone(dice, town.area_codes)
            contact["emergency_contact_relationship"] = relation.label
        if dice.chance(0.85):
            if contact["emergency_contact_name"] and dice.chance(0.7):
                contact["driver_name"] = contact["emergency_contact_name"]
                contact["driver_phone"] = contact["emergency_contact_phone"]
            else:
                contact["driver_name"] = self._person(metro)
                contact["driver_phone"] = _phone(dice, town.area_codes)
        return contact

    # -- clinical ------------------------------------------------------------------------

    def _flags(self, sex: Sex, age: int) -> frozenset[ScreeningFlag]:
        dice = self.dice
        flags = {flag for flag, rate in _FLAG_RATES if dice.chance(rate)}
        if sex is Sex.FEMALE and age <= 45 and dice.chance(0.015):
            flags.add(ScreeningFlag.PREGNANCY)
        return frozenset(flags)

    def _rems(self, registered: date) -> date | None:
        if not self.dice.chance(0.30):
            return None
        span = (self.today - registered).days
        return registered + timedelta(days=self.dice.between(0, min(span, 60)))

    def _weight(self, sex: Sex) -> Decimal | None:
        dice = self.dice
        if dice.chance(0.05):
            return None
        mean = 86.0 if sex is Sex.MALE else 74.0
        tenths = round(min(180.0, max(42.0, dice.gauss(mean, 17.0))) * 10)
        return Decimal(tenths).scaleb(-1)

    def _diagnoses(self) -> list[str]:
        dice = self.dice
        codes = [dice.pick(_PRIMARY)]
        wanted = dice.pick(_DIAGNOSIS_COUNT)
        for _ in range(8):  # a few tries; a clash just means one code fewer
            if len(codes) == wanted:
                break
            code = dice.pick(_SECONDARY)
            if _diagnosis_group(code) not in {_diagnosis_group(c) for c in codes}:
                codes.append(code)
        return codes

    # -- insurance -----------------------------------------------------------------------

    def _policies(
        self, patient: dict[str, Any], metro: Metro, age: int, registered: date,
    ) -> list[dict[str, Any]]:
        dice = self.dice
        draw = dice.rng.random()
        if draw < 0.45:
            return []
        medicare = age >= 65 and dice.chance(0.8)
        if medicare:
            primary = self._medicare(metro)
            born: date = patient["date_of_birth"]
            starts = _first_of_month(_years_after(born, 65))
        else:
            primary = self._commercial(metro, exclude="")
            starts = _first_of_month(registered - timedelta(days=dice.below(6 * 365)))
        policies = [self._policy(primary, PolicyRank.PRIMARY, patient, starts,
                                 subscriber=not medicare, authorize=True)]
        if draw >= 0.90:
            secondary = self._commercial(metro, exclude=primary[1].name)
            starts = _first_of_month(registered - timedelta(days=dice.below(4 * 365)))
            policies.append(self._policy(secondary, PolicyRank.SECONDARY, patient, starts,
                                         subscriber=not medicare, authorize=False))
        return policies

    def _medicare(self, metro: Metro) -> tuple[int, _PayerSeed]:
        return next(p for p in self.payers.values()
                    if p[1].kind == "medicare" and p[1].region == metro.medicare_region)

    def _commercial(self, metro: Metro, exclude: str) -> tuple[int, _PayerSeed]:
        """A national plan, or the Blue plan of the location's state, by market share."""
        key = (metro.state, exclude)
        if key not in self._commercial_tables:
            options = [
                (payer, _MARKET_SHARE.get(payer[1].name, 30.0))
                for payer in self.payers.values()
                if payer[1].name != exclude and (
                    payer[1].kind == "national"
                    or (payer[1].kind == "blue" and metro.state in payer[1].region.split()))
            ]
            self._commercial_tables[key] = table(options)
        choice: tuple[int, _PayerSeed] = self.dice.pick(self._commercial_tables[key])
        return choice

    def _policy(
        self, payer: tuple[int, _PayerSeed], rank: PolicyRank, patient: dict[str, Any],
        starts: date, *, subscriber: bool, authorize: bool,
    ) -> dict[str, Any]:
        dice = self.dice
        payer_id, seed = payer
        starts = min(starts, self.today)
        born: date = patient["date_of_birth"]
        relationship, name, dob = Relationship.SELF, None, born
        if subscriber and dice.chance(0.3):
            age = (self.today - born).days // 365
            if age < 26 and dice.chance(0.7):
                relationship = Relationship.CHILD
                dob = born - timedelta(days=dice.between(20 * 365, 38 * 365))
            else:
                relationship = Relationship.SPOUSE
                dob = born + timedelta(days=dice.between(-8 * 365, 8 * 365))
                dob = min(dob, self.today - timedelta(days=18 * 366))
            name = f"{dice.one(HERITAGES[0].female + HERITAGES[0].male)} {patient['family_name']}"
        if name is None:
            name = f"{patient['given_name']} {patient['family_name']}"
        policy: dict[str, Any] = {
            "payer_id": payer_id, "rank": rank, "member_id": self._member_id(seed),
            "group_number": "" if seed.kind == "medicare" else dice.digits(dice.one((6, 7))),
            "subscriber_name": name, "subscriber_dob": dob,
            "relationship_to_subscriber": relationship, "effective_from": starts,
            "effective_to": date(self.today.year, 12, 31) if dice.chance(0.05) else None,
            "prior_auth_number": "", "sessions_authorized": None, "auth_from": None,
            "auth_to": None, "active": True, "version": 1,
        }
        if authorize and dice.chance(0.4):
            earliest = max(starts, self.today - timedelta(days=300))
            auth_from = earliest + timedelta(days=dice.between(0, (self.today - earliest).days))
            policy.update(
                prior_auth_number=f"PA{dice.digits(9)}",
                sessions_authorized=dice.one(_SESSIONS_AUTHORIZED),
                auth_from=auth_from,
                auth_to=auth_from + timedelta(days=dice.one((89, 179))),
            )
        return policy

    def _member_id(self, seed: _PayerSeed) -> str:
        dice = self.dice
        form = seed.member_form
        if form == "MBI":
            letters = _MBI_LETTERS
            either = letters + "0123456789"
            return "".join((
                dice.one("123456789"), dice.one(letters), dice.one(either),
                dice.one("0123456789"), dice.one(letters), dice.one(either),
                dice.one("0123456789"), dice.one(letters), dice.one(letters),
                dice.one("0123456789"), dice.one("0123456789"),
            ))
        if form == "W":
            return "W" + dice.digits(9)
        if form == "U":
            return "U" + dice.digits(8) + "01"
        if form == "H":
            return "H" + dice.digits(8)
        if form == "9":
            return dice.digits(9)
        return form + dice.digits(9)  # a blue plan's three-letter prefix


def _biased(metro: Metro) -> list[tuple[Heritage, float]]:
    bias = dict(metro.heritage_bias)
    return [(heritage, heritage.weight * bias.get(heritage.key, 1.0)) for heritage in HERITAGES]


def _first_of_month(day: date) -> date:
    return day.replace(day=1)


def _years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # born on 29 February
        return day.replace(year=day.year + years, day=28)
