"""The demo's money: charges, the ledger, invoices, payments, packages and Good Faith Estimates
for the sessions :mod:`ketadesk.demo.history` wrote.

:func:`add_money` runs after the sessions stage of :func:`ketadesk.demo.generator.generate`:

1. **Seeding through the services.** The shipped fee schedule
   (:func:`~ketadesk.billing.fees.ensure_default_fee_schedule`), the package templates
   (:func:`~ketadesk.billing.packages.ensure_default_templates`) and each location's fee
   policy (late cancellation $75, no-show $150, :func:`~ketadesk.billing.fees.save_billing_policy`)
   are written exactly as a new clinic gets them.
2. **Loading.** Every session that ended (completed, late-cancelled, no-show), each series'
   sessions still holding a chair, the patients' insurance and how many diagnoses they have.
3. **One calendar for the whole chain.** Each thing a person would have done is an event on
   a day: a package sold at check-in, a payment at check-out, charges posted from the review
   queue a few days after the session, the month's invoices issued early the next month,
   payments, adjustments, returned checks, refunds, package expiry, estimates drafted when a
   series is booked and given. The events run in date order, so entries, invoices and
   estimates get their ids and numbers in the order they happened (``NYC-2024-00001`` is
   the first invoice of 2024 at NYC), and the ``counter`` rows are left where the services
   continue the sequence. An event that would fall after ``today`` has not happened.
4. **The books in memory.** Each event does what its service does — the same entries with
   the same descriptions and the same allocations, oldest first — on a small in-memory copy
   of the patient's open debits and unapplied credits, so nothing is read back from the
   database. Charges are priced by charge capture's own pure
   :func:`~ketadesk.billing.capture.charge_drafts`; a package use follows
   :func:`~ketadesk.billing.packages.cover_session` step for step; estimates are priced as
   :mod:`ketadesk.billing.estimates` prices them.
5. **Writing.** Rows are buffered as plain dictionaries and written with SQLAlchemy Core bulk
   ``INSERT`` in chunks, money as integer cents; PostgreSQL's id sequences are moved past the
   ids assigned here. No audit row is written per entry: the generator's one audit row
   records the whole demo.

Who pays for what. Ketamine by infusion, injection or with psychotherapy is off-label, so
every patient pays for it themselves (and may send a superbill to their insurer); esketamine
is billed to the insurer when the patient has a policy in force on the day, so those
charges are posted and left for claims (issue 5). Clinic fees are always the patient's.
What the patient pays is invoiced monthly per location. Good Faith Estimates go to patients
with no policy in force on a series' first day, as :func:`~ketadesk.billing.estimates.is_self_pay`
decides.

The last :data:`PENDING_DAYS` days of sessions stay ``pending`` in the review queue, so the
queue has a realistic fortnight of work. Every draw comes from the stage's own
:class:`random.Random` in a fixed order (patients by id at set-up, then events in date
order), so a seed and ``today`` give the same money every time.
"""

from __future__ import annotations

import heapq
import random
from bisect import bisect
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache, partial
from itertools import accumulate, count
from operator import attrgetter, itemgetter
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import Date, Dialect, Table, bindparam, func, insert, select, text, update
from sqlalchemy import Enum as SAEnum
from sqlalchemy.orm import Session

from ketadesk.access.permissions import Actor
from ketadesk.billing import estimates
from ketadesk.billing.capture import (
    CAPTURED_STATUSES,
    MAX_POINTERS,
    ChargeDraft,
    SessionFacts,
    charge_drafts,
)
from ketadesk.billing.fees import Fee, FeeBook, ensure_default_fee_schedule, save_billing_policy
from ketadesk.billing.models import (
    AdjustmentReason,
    Allocation,
    BillingPolicy,
    Charge,
    ChargeSource,
    ChargeStatus,
    EntryKind,
    Estimate,
    EstimateLine,
    EstimateStatus,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    LedgerEntry,
    PackagePurchase,
    PackageStatus,
    PackageTemplate,
    PackageUse,
    PaymentMethod,
    UnitBasis,
    UnusedPolicy,
)
from ketadesk.billing.packages import ensure_default_templates, use_value
from ketadesk.billing.review import entry_description
from ketadesk.clinic.models import Diagnosis, InsurancePolicy, Location, Modality, Patient
from ketadesk.db import Base, Cents, Counter, UTCDateTime
from ketadesk.money import ZERO, from_cents, to_cents
from ketadesk.scheduling.models import (
    RELEASED,
    Protocol,
    Series,
    SessionStatus,
    TreatmentSession,
)

# The demo users who do the work (see generator.DEMO_USERS).
BILLING_USER = "billing"
FRONT_DESK_USER = "frontdesk"

CHUNK = 20_000  # buffered rows (all tables together) per round of bulk INSERTs
SQLITE_CACHE_KIB = 200_000  # page cache while writing (SQLite's default is about 2 MB)
LATE_CANCEL_FEE = "75.00"
NO_SHOW_FEE = "150.00"
PENDING_DAYS = 14  # sessions of the last two weeks wait in the review queue
POST_LAG_DAYS = (1, 3)  # billing posts the queue this many days after a session
INVOICE_RUN_DAY = 3  # the month's invoices go out on the first weekday from the 3rd
DRAFT_RATE = 0.15  # of the latest month's invoices, still drafts (not yet sent)
FEE_WAIVED_RATE = 0.12  # clinic fees dismissed in review (the patient called ahead, was ill)
CHECKOUT_RATE = 0.45  # patients who pay for each session at check-out
# Packages sold at the first session of a series, by protocol: (share of series, sessions
# of the template sold).
PACKAGE_RATES = {"iv-induction": (0.15, 6), "im-induction": (0.08, 6), "iv-booster": (0.05, 3)}
PACKAGE_REFUND_RATE = 0.6  # expired packages whose unused sessions the patient asks back
EXPIRY_RUN_DAYS = 7  # expiry is run this many days after a package's last day
# What happens to an issued invoice with something owed, and how often.
OUTCOMES = (
    ("paid", 79.0),  # in full, within the month
    ("partly", 8.0),  # part now; half of them pay the rest later
    ("reduced", 5.0),  # a sliding-scale or courtesy reduction, then the rest
    ("unpaid", 6.0),  # overdue; half are written off after five months
    ("twice", 2.0),  # paid twice by mistake; the second payment refunded
)
PAY_WITHIN = (2, 28)  # days after issue
WRITE_OFF_AFTER = (150, 200)  # days after issue
RETURNED_CHECK_RATE = 0.05
METHODS = (
    (PaymentMethod.CARD, 58.0),
    (PaymentMethod.HSA_FSA, 18.0),
    (PaymentMethod.CHECK, 12.0),
    (PaymentMethod.CASH, 8.0),
    (PaymentMethod.OTHER, 4.0),
)
OTHER_METHOD_RATE = 0.2  # a payment not made the patient's usual way
CARD_BRANDS = ("Visa", "Visa", "Mastercard", "Mastercard", "Amex", "Discover")
GFE_DRAFT_RATE = 0.5  # estimates of series booked in the last days not given yet
GFE_RECENT_DAYS = 7
GFE_OVERDUE = 2  # estimates left past their deadline, at most
GIVEN_HOW = (("in person", 55.0), ("email", 30.0), ("portal", 10.0), ("mail", 5.0))

REDUCTIONS = (
    (AdjustmentReason.SLIDING_SCALE, "Sliding scale: household income below 200% of poverty line"),
    (AdjustmentReason.SLIDING_SCALE, "Sliding scale approved by the practice manager"),
    (AdjustmentReason.COURTESY, "Courtesy: long wait on the day of the infusion"),
    (AdjustmentReason.COURTESY, "Courtesy for a long-standing patient"),
    (AdjustmentReason.DISCOUNT, "Prompt-pay discount"),
)
WRITE_OFF_NOTE = "Uncollectible: no reply to three statements"
WAIVED_REASONS = (
    "Fee waived: patient was ill and called ahead",
    "Fee waived: weather closure of the patient's route",
    "Fee waived: first missed session",
    "Fee waived by the practice manager",
)
RETURNED_CHECK = "Check returned unpaid (insufficient funds)"
PAID_TWICE = "Paid twice for invoice {number}; the second payment refunded"
PACKAGE_REFUND_REASONS = (
    "Stopped treatment before the package was used",
    "Moved out of the area",
    "Side effects: patient chose to stop",
)

ProgressCallback = Callable[[str, int, int], None]
Processor = Callable[[Any], Any]
T = TypeVar("T")

# Steps of one day, in the order they happen.
SELL, CHECKOUT, CAPTURE, POST, INVOICE, ADJUST, PAY, REVERSE, REFUND, EXPIRE, ESTIMATE = range(11)


@dataclass(frozen=True)
class MoneyCounts:
    """How many money records :func:`add_money` wrote."""

    fee_items: int
    package_templates: int
    charges: int
    pending_charges: int
    ledger_entries: int
    allocations: int
    invoices: int
    packages_sold: int
    estimates: int

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def add_money(
    session: Session,
    rng: random.Random,
    *,
    actor: Actor,
    today: date,
    now: datetime,
    report: ProgressCallback,
) -> MoneyCounts:
    """Write the money history of every session up to ``today``.

    The clinic, the patients and the sessions must be in ``session`` already. ``actor``
    seeds the fee schedule, templates and fee policies; nothing is stamped later than
    ``now`` (UTC-aware); ``report`` is called as ``report("money", days done, days)``.
    """
    fees, templates = _seed(session, actor)
    world = _World.load(session, today, now)
    sink = _Sink(session)
    biller = _Biller(_Dice(rng), world, sink)
    biller.plan()
    with _roomy_cache(session):
        biller.run(report)
        sink.flush()
    sink.finish(biller.purchases, biller.numbers)
    return MoneyCounts(
        fee_items=fees,
        package_templates=templates,
        charges=sink.written[Charge],
        pending_charges=biller.pending,
        ledger_entries=sink.written[LedgerEntry],
        allocations=sink.written[Allocation],
        invoices=sink.written[Invoice],
        packages_sold=sink.written[PackagePurchase],
        estimates=sink.written[Estimate],
    )


@contextmanager
def _roomy_cache(session: Session) -> Iterator[None]:
    """On SQLite, a page cache of :data:`SQLITE_CACHE_KIB` while the stage writes, then the
    connection's own again. Rows arrive in date order, so each patient's index entries
    (their ledger, their charges) land all over the file; the default cache of a few MB
    spent a fifth of the writing time re-reading index pages."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        yield
        return
    before = connection.exec_driver_sql("PRAGMA cache_size").scalar()
    connection.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size = {int(before or 0)}")


def _seed(session: Session, actor: Actor) -> tuple[int, int]:
    fees = ensure_default_fee_schedule(session, actor)
    templates = ensure_default_templates(session, actor)
    for location_id in session.scalars(select(Location.id).order_by(Location.id)):
        save_billing_policy(
            session,
            actor,
            location_id,
            {"late_cancel_fee": LATE_CANCEL_FEE, "no_show_fee": NO_SHOW_FEE},
        )
    return len(fees), len(templates)


# ---------------------------------------------------------------------------------------
# Draws
# ---------------------------------------------------------------------------------------


class _Dice:
    """Draws from ``rng.random()`` alone, as the other stages do (fast, stable)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self._cumulative: dict[int, list[float]] = {}  # by the id of a weights table

    def chance(self, rate: float) -> bool:
        return self.rng.random() < rate

    def between(self, low: int, high: int) -> int:
        return low + int(self.rng.random() * (high - low + 1))

    def one(self, items: Sequence[T]) -> T:
        return items[int(self.rng.random() * len(items))]

    def weighted(self, items: Sequence[tuple[T, float]]) -> T:
        """One value by weight, from a table of (value, weight) that lives as long as the
        dice (the module's constant tables)."""
        cumulative = self._cumulative.get(id(items))
        if cumulative is None:
            cumulative = self._cumulative[id(items)] = list(accumulate(w for _, w in items))
        return items[bisect(cumulative, self.rng.random() * cumulative[-1])][0]

    def digits(self, n: int) -> str:
        return f"{int(self.rng.random() * 10**n):0{n}d}"


# ---------------------------------------------------------------------------------------
# What the stage reads: places, prices, patients, their visits and series
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Place:
    """A location as billing sees it."""

    id: int
    code: str
    zone: ZoneInfo
    due_days: int
    fees: dict[SessionStatus, tuple[ChargeSource, int]]  # fee charged per status, in cents


@dataclass(frozen=True)
class _Offer:
    """A package template on sale."""

    id: int
    name: str
    service_code: str
    sessions: int
    price: int  # cents
    valid_days: int
    unused_policy: UnusedPolicy


@dataclass(eq=False)
class _Visit:
    """A session that ended: what capture reads from it."""

    session_id: int
    series: _Series
    place: _Place
    provider_id: int
    status: SessionStatus
    day: date  # the local service date
    infusion_minutes: int | None
    dose_mg: Decimal | None
    rows: list[dict[str, Any]] | None = None  # its charges, once priced


@dataclass(eq=False)
class _Series:
    id: int
    protocol: Protocol
    place: _Place
    booked_on: date  # local day the series was booked
    codes: tuple[str, ...] = ()  # the protocol's services, read once
    # Sessions still holding a chair: (local day, provider), in time order.
    holding: list[tuple[date, int]] = field(default_factory=list)
    visits: list[_Visit] = field(default_factory=list)


@dataclass(eq=False)
class _Entry:
    """A ledger entry as the books need it; ``left`` is owed (debit) or unapplied (credit)."""

    id: int
    amount: int  # signed cents
    left: int
    posted_on: date
    location_id: int
    description: str
    package: int | None = None
    reversed: bool = False
    paid: list[tuple[_Entry, int]] = field(default_factory=list)  # a credit's allocations
    order: tuple[date, int] = field(init=False)  # the ledger's "oldest first"

    def __post_init__(self) -> None:
        self.order = (self.posted_on, self.id)


_oldest_first = attrgetter("order")


@dataclass(eq=False)
class _Purchase:
    id: int
    offer: _Offer
    location_id: int
    purchased_on: date
    expires_on: date
    method: PaymentMethod
    reference: str
    prepayment: _Entry | None = None
    uses: int = 0
    status: PackageStatus = PackageStatus.ACTIVE
    version: int = 1  # each change of status is a new version of the row

    def becomes(self, status: PackageStatus) -> None:
        self.status = status
        self.version += 1


@dataclass(eq=False)
class _Invoice:
    id: int
    number: str
    lines: list[_Entry]


@dataclass(eq=False)
class _Patient:
    """One patient's insurance, habits and open books."""

    id: int
    pointers: str
    cover: list[tuple[date, date | None]]  # spans of active policies
    series: list[_Series] = field(default_factory=list)
    checkout: bool = False  # pays each session at check-out
    method: PaymentMethod = PaymentMethod.CARD
    card: str = ""
    hsa: str = ""
    checks: int = 0  # the next check number
    debits: list[_Entry] = field(default_factory=list)  # open ones
    credits: list[_Entry] = field(default_factory=list)  # open, not a package's
    packages: list[_Purchase] = field(default_factory=list)
    to_invoice: dict[tuple[int, int, int], list[_Entry]] = field(default_factory=dict)

    def insured_on(self, day: date) -> bool:
        if not self.cover:
            return False
        return any(start <= day and (end is None or day <= end) for start, end in self.cover)


@dataclass
class _World:
    today: date
    now: datetime
    places: dict[int, _Place]
    offers: dict[tuple[str, int], _Offer]  # by (service code, sessions)
    book: FeeBook
    patients: list[_Patient]

    @classmethod
    def load(cls, session: Session, today: date, now: datetime) -> _World:
        places = _places(session)
        protocols = {p.id: p for p in session.scalars(select(Protocol))}
        patients = _patients(session)
        series = _series(session, patients, places, protocols)
        _sessions(session, series, places)
        offers = {
            (t.service_code, t.sessions): _Offer(
                t.id,
                t.name,
                t.service_code,
                t.sessions,
                to_cents(t.price),
                t.valid_days,
                t.unused_policy,
            )
            for t in session.scalars(
                select(PackageTemplate)
                .where(PackageTemplate.active.is_(True))
                .order_by(PackageTemplate.id)
            )
        }
        book = _MemoBook.load(session)
        return cls(today, now, places, offers, book, list(patients.values()))


class _MemoBook(FeeBook):
    """The fee schedule with its lookups remembered: the demo prices every session of five
    years, a few hundred a day, from the same handful of rows."""

    def __init__(self, fees: Iterable[Fee]) -> None:
        super().__init__(fees)
        self._items: dict[tuple[str, date, str | None], Fee | None] = {}
        self._bases: dict[tuple[UnitBasis, date], list[Fee]] = {}

    def item(self, code: str, on: date, modifiers: str | None = None) -> Fee | None:
        key = (code, on, modifiers)
        if key not in self._items:
            self._items[key] = super().item(code, on, modifiers)
        return self._items[key]

    def by_basis(self, basis: UnitBasis, on: date) -> list[Fee]:
        key = (basis, on)
        if key not in self._bases:
            self._bases[key] = super().by_basis(basis, on)
        return list(self._bases[key])


_CENTS: dict[Decimal, int] = {}


def _cents(amount: Decimal) -> int:
    """:func:`~ketadesk.money.to_cents`, remembered: prices repeat."""
    found = _CENTS.get(amount)
    if found is None:
        found = _CENTS[amount] = to_cents(amount)
    return found


def _places(session: Session) -> dict[int, _Place]:
    policies = {p.location_id: p for p in session.scalars(select(BillingPolicy))}
    places = {}
    for location in session.scalars(select(Location).order_by(Location.id)):
        policy = policies.get(location.id)
        fees: dict[SessionStatus, tuple[ChargeSource, int]] = {}
        if policy is not None:
            late, no_show = policy.late_cancel_fee, policy.no_show_fee
            for status, source, amount in (
                (SessionStatus.LATE_CANCELLED, ChargeSource.LATE_CANCEL_FEE, late),
                (SessionStatus.NO_SHOW, ChargeSource.NO_SHOW_FEE, no_show),
            ):
                if amount > 0:
                    fees[status] = (source, to_cents(amount))
        places[location.id] = _Place(
            location.id,
            location.code,
            ZoneInfo(location.time_zone),
            policy.invoice_due_days if policy is not None else 30,
            fees,
        )
    return places


def _patients(session: Session) -> dict[int, _Patient]:
    patient_t, diagnosis_t, policy_t = _table(Patient), _table(Diagnosis), _table(InsurancePolicy)
    diagnoses: dict[int, int] = dict(
        session.execute(
            select(diagnosis_t.c.patient_id, func.count()).group_by(diagnosis_t.c.patient_id)
        ).all()
    )
    cover: dict[int, list[tuple[date, date | None]]] = {}
    for patient_id, starts, ends in session.execute(
        select(policy_t.c.patient_id, policy_t.c.effective_from, policy_t.c.effective_to).where(
            policy_t.c.active.is_(True)
        )
    ):
        cover.setdefault(patient_id, []).append((starts, ends))
    return {
        pid: _Patient(
            pid,
            # As capture points a service line at the patient's diagnoses.
            ",".join(str(n) for n in range(1, min(diagnoses.get(pid, 0), MAX_POINTERS) + 1)),
            cover.get(pid, []),
        )
        for pid in session.scalars(select(patient_t.c.id).order_by(patient_t.c.id))
    }


def _series(
    session: Session,
    patients: dict[int, _Patient],
    places: dict[int, _Place],
    protocols: dict[int, Protocol],
) -> dict[int, _Series]:
    series_t = _table(Series)
    found = {}
    for sid, patient_id, protocol_id, location_id, created in session.execute(
        select(
            series_t.c.id,
            series_t.c.patient_id,
            series_t.c.protocol_id,
            series_t.c.location_id,
            series_t.c.created_at,
        ).order_by(series_t.c.id)
    ):
        place = places[location_id]
        protocol = protocols[protocol_id]
        booked = created.astimezone(place.zone).date()
        run = _Series(sid, protocol, place, booked, tuple(protocol.service_codes))
        found[sid] = run
        patients[patient_id].series.append(run)
    return found


def _sessions(session: Session, series: dict[int, _Series], places: dict[int, _Place]) -> None:
    """Attach each session to its series: those holding a chair, and those that ended."""
    ts = _table(TreatmentSession)
    rows = session.execute(
        select(
            ts.c.id,
            ts.c.series_id,
            ts.c.location_id,
            ts.c.provider_id,
            ts.c.status,
            ts.c.starts_at,
            ts.c.infusion_started_at,
            ts.c.infusion_stopped_at,
            ts.c.dose_mg,
        ).order_by(ts.c.starts_at, ts.c.id)
    )
    for sid, series_id, location_id, provider_id, status, starts, began, stopped, dose in rows:
        place = places[location_id]
        day = starts.astimezone(place.zone).date()
        run = series[series_id]
        if status not in RELEASED:
            run.holding.append((day, provider_id))
        if status not in CAPTURED_STATUSES:
            continue
        minutes = None
        if began is not None and stopped is not None and stopped >= began:
            minutes = int((stopped - began).total_seconds() // 60)  # as capture counts it
        run.visits.append(_Visit(sid, run, place, provider_id, status, day, minutes, dose))


# ---------------------------------------------------------------------------------------
# Writing rows
# ---------------------------------------------------------------------------------------


def _table(model: type[Base]) -> Table:
    return Base.metadata.tables[model.__tablename__]


# Foreign-key order: a row only points at rows of tables before it (or earlier rows of its
# own table, which are written first).
_MODELS: tuple[type[Base], ...] = (
    PackagePurchase,
    LedgerEntry,
    Charge,
    Allocation,
    PackageUse,
    Invoice,
    InvoiceLine,
    Estimate,
    EstimateLine,
)


class _Sink:
    """Buffers rows (money as integer cents) and writes them with Core in chunks."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.dialect = session.get_bind().dialect
        self.rows: dict[type[Base], list[dict[str, Any]]] = {model: [] for model in _MODELS}
        self.written = dict.fromkeys(_MODELS, 0)
        self.buffered = 0
        self._ids = {model: self._max_id(model) for model in _MODELS}

    def _max_id(self, model: type[Base]) -> int:
        return int(self.session.scalar(select(func.max(_table(model).c.id))) or 0)

    def next_id(self, model: type[Base]) -> int:
        self._ids[model] += 1
        return self._ids[model]

    def add(self, model: type[Base], row: dict[str, Any]) -> None:
        self.rows[model].append(row)
        self.buffered += 1

    def full(self) -> bool:
        return self.buffered >= CHUNK

    def flush(self) -> None:
        for model, rows in self.rows.items():
            if rows:
                _insert(self.session, _table(model), rows)
                self.written[model] += len(rows)
                rows.clear()
        self.buffered = 0

    def finish(self, purchases: Iterable[_Purchase], numbers: dict[str, int]) -> None:
        """The packages' final statuses, the counters the services continue from, and
        PostgreSQL's sequences."""
        table = _table(PackagePurchase)
        changed = [
            {"pid": p.id, "new_status": p.status, "new_version": p.version}
            for p in purchases
            if p.status is not PackageStatus.ACTIVE
        ]
        if changed:
            self.session.execute(
                update(table)
                .where(table.c.id == bindparam("pid"))
                .values(
                    status=bindparam("new_status", type_=table.c.status.type),
                    version=bindparam("new_version"),
                ),
                changed,
            )
        if numbers:
            self.session.execute(
                insert(_table(Counter)),
                [{"name": name, "value": value} for name, value in sorted(numbers.items())],
            )
        if self.dialect.name == "postgresql":
            for model in _MODELS:
                name = model.__tablename__
                self.session.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                        f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {name}), false)"
                    )
                )


def _insert(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """A Core bulk ``INSERT`` of ``rows`` (all with the same keys), money in cents.

    On SQLite the values go straight into the driver's ``executemany``, each converted as
    its column stores it (:func:`_converter`), as the sessions stage does. Elsewhere cents
    become ``Decimal`` and SQLAlchemy's usual parameter handling writes them.
    """
    connection = session.connection()
    dialect = connection.dialect
    names = list(rows[0])
    if dialect.name != "sqlite":
        cents = [name for name in names if isinstance(table.c[name].type, Cents)]
        for row in rows:
            for name in cents:
                if row[name] is not None:
                    row[name] = from_cents(row[name])
        connection.execute(insert(table), rows)
        return
    quote = dialect.identifier_preparer.quote
    sql = (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) "
        f"VALUES ({', '.join('?' * len(names))})"
    )
    # Column by column: the loops run in C but for the few values that need converting.
    columns = []
    for name in names:
        values = list(map(itemgetter(name), rows))
        convert = _converter(table, name, _sample(values), dialect)
        if convert is not None:
            values = [None if value is None else convert(value) for value in values]
        columns.append(values)
    connection.exec_driver_sql(sql, list(zip(*columns, strict=True)))


def _sample(values: list[Any]) -> Any:
    """A value to check a converter on (the first few rows are enough)."""
    return next((value for value in values[:1000] if value is not None), None)


def _converter(table: Table, name: str, sample: Any, dialect: Dialect) -> Processor | None:
    """How a value of ``table.name`` reaches SQLite: money as the integer cents the rows
    already hold, and for enums, days and instants a faster function than the column's own
    bind processor that gives the very same value (checked on ``sample``, so a change of
    storage cannot slip through); anything else through the bind processor."""
    column_type = table.c[name].type
    if isinstance(column_type, Cents):
        return None
    process: Processor | None = column_type.dialect_impl(dialect).bind_processor(dialect)
    if process is None:
        return None
    fast: Processor | None
    if isinstance(column_type, UTCDateTime):
        fast = _sqlite_instant
    elif isinstance(column_type, Date):
        fast = date.isoformat
    elif isinstance(column_type, SAEnum):
        fast = None  # a StrEnum member is the very text stored; the driver takes it as is
    else:
        return process
    if sample is not None and (fast or str.__str__)(sample) != process(sample):
        raise RuntimeError(f"{table.name}.{name} is no longer stored as it was")
    return fast


@lru_cache(maxsize=4096)  # a day's rows share one instant
def _sqlite_instant(moment: datetime) -> str:
    utc = moment if moment.tzinfo is UTC else moment.astimezone(UTC)
    return utc.replace(tzinfo=None).isoformat(" ", "microseconds")


# ---------------------------------------------------------------------------------------
# The chain's calendar of money events
# ---------------------------------------------------------------------------------------


class _Biller:
    """Plans every patient's money events, then runs them in date order against the books."""

    def __init__(self, dice: _Dice, world: _World, sink: _Sink) -> None:
        self.dice = dice
        self.w = world
        self.sink = sink
        self.today = world.today
        self.pending_from = world.today - timedelta(days=PENDING_DAYS - 1)
        # Each day's events by ordinal, a heap of (step, order of planning, action).
        self._days: dict[int, list[tuple[int, int, Callable[[], None]]]] = {}
        self._tie = count()
        self.day = date.min
        self.stamp = datetime.min.replace(tzinfo=UTC)
        self.purchases: list[_Purchase] = []
        self.numbers: dict[str, int] = {}  # counter name -> last number used
        self.pending = 0
        self._rounds: dict[tuple[int, int, int], dict[int, _Patient]] = {}
        self._descriptions: dict[tuple[str, str, str, int], str] = {}
        self._overdue_left = GFE_OVERDUE
        self._expected: dict[tuple[int, date], list[ChargeDraft]] = {}

    # -- the calendar --------------------------------------------------------------------

    def at(self, day: date, step: int, action: Callable[[], None]) -> None:
        """Do ``action`` on ``day`` at ``step`` of the day, unless that is after today."""
        if day <= self.today:
            ordinal = day.toordinal()
            waiting = self._days.get(ordinal)
            if waiting is None:
                waiting = self._days[ordinal] = []
            heapq.heappush(waiting, (step, next(self._tie), action))

    def run(self, report: ProgressCallback) -> None:
        """Every day from the first event to today, each day's events in step order (an
        event may add more to its own day)."""
        last = self.today.toordinal()
        first = min(self._days, default=last)
        total = max(1, last - first)
        report("money", 0, total)
        for ordinal in range(first, last + 1):
            if (ordinal - first) % 30 == 0 and ordinal > first:
                report("money", ordinal - first, total)
            waiting = self._days.pop(ordinal, None)
            if waiting is None:
                continue
            self.day = date.fromordinal(ordinal)
            # Late afternoon in the US, or now on today's events.
            self.stamp = min(datetime.combine(self.day, time(21, 0), UTC), self.w.now)
            while waiting:
                _step, _tie, action = heapq.heappop(waiting)
                action()
            if self.sink.full():
                self.sink.flush()
        report("money", total, total)

    # -- planning ------------------------------------------------------------------------

    def plan(self) -> None:
        """Draw each patient's habits and put their sessions' and series' events on the
        calendar, patients by id."""
        for patient in self.w.patients:
            self._habits(patient)
            for run in patient.series:
                self._plan_series(patient, run)

    def _habits(self, patient: _Patient) -> None:
        dice = self.dice
        patient.checkout = dice.chance(CHECKOUT_RATE)
        patient.method = dice.weighted(METHODS)
        patient.card = f"{dice.one(CARD_BRANDS)} ending {dice.digits(4)}"
        patient.hsa = f"HSA/FSA card ending {dice.digits(4)}"
        patient.checks = dice.between(1001, 4800)

    def _plan_series(self, patient: _Patient, run: _Series) -> None:
        dice = self.dice
        for visit in run.visits:
            if visit.day >= self.pending_from:
                self.at(visit.day, CAPTURE, partial(self._capture, patient, visit))
            else:
                lag = dice.between(*POST_LAG_DAYS)
                waived = visit.status is not SessionStatus.COMPLETED and dice.chance(
                    FEE_WAIVED_RATE
                )
                self.at(
                    visit.day + timedelta(days=lag),
                    POST,
                    partial(self._post, patient, visit, waived),
                )
            if (
                visit.status is SessionStatus.COMPLETED
                and patient.checkout
                and self._patient_pays(patient, visit)
            ):
                self.at(visit.day, CHECKOUT, partial(self._checkout, patient, visit))
        sold = PACKAGE_RATES.get(run.protocol.key)
        first = next((v for v in run.visits if v.status is SessionStatus.COMPLETED), None)
        if sold is not None and first is not None and dice.chance(sold[0]):
            offer = self._offer(run.protocol, sold[1])
            if offer is not None:
                self.at(first.day, SELL, partial(self._sell, patient, first, offer))
        if run.holding and not patient.insured_on(run.holding[0][0]):
            self.at(run.booked_on, ESTIMATE, partial(self._estimate, patient, run))

    def _offer(self, protocol: Protocol, sessions: int) -> _Offer | None:
        return next(
            (
                self.w.offers[code, sessions]
                for code in protocol.service_codes
                if (code, sessions) in self.w.offers
            ),
            None,
        )

    @staticmethod
    def _patient_pays(patient: _Patient, visit: _Visit) -> bool:
        """Everything but esketamine for an insured patient, which is the insurer's."""
        if visit.status is not SessionStatus.COMPLETED:
            return True
        return visit.series.protocol.modality is not Modality.ESKETAMINE or not (
            patient.insured_on(visit.day)
        )

    # -- the books -----------------------------------------------------------------------

    def _post_entry(
        self,
        patient: _Patient,
        kind: EntryKind,
        cents: int,
        on: date,
        location_id: int,
        description: str,
        *,
        by: str = BILLING_USER,
        method: PaymentMethod | None = None,
        reference: str = "",
        reason: AdjustmentReason | None = None,
        note: str = "",
        reverses: _Entry | None = None,
        package: int | None = None,
    ) -> _Entry:
        """What :func:`ketadesk.billing.ledger.post` writes."""
        entry = _Entry(
            self.sink.next_id(LedgerEntry),
            cents,
            abs(cents),
            on,
            location_id,
            description[:300],
            package,
        )
        self.sink.add(
            LedgerEntry,
            {
                "id": entry.id,
                "patient_id": patient.id,
                "location_id": location_id,
                "kind": kind,
                "amount": cents,
                "posted_on": on,
                "description": entry.description,
                "method": method,
                "reference": reference,
                "reason": reason,
                "note": note[:300],
                "reverses_id": reverses.id if reverses is not None else None,
                "package_purchase_id": package,
                "created_at": self.stamp,
                "created_by": by,
            },
        )
        if cents > 0:
            patient.debits.append(entry)
        elif package is None:
            patient.credits.append(entry)
        return entry

    def _allocate(
        self, patient: _Patient, credit: _Entry, debit: _Entry, cents: int, by: str
    ) -> None:
        if not 0 < cents <= min(credit.left, debit.left):
            raise RuntimeError(f"allocation of {cents} from {credit.id} to {debit.id} overdraws")
        self._allocation(patient, credit, debit, cents, by)

    def _allocation(
        self, patient: _Patient, credit: _Entry, debit: _Entry, cents: int, by: str
    ) -> None:
        credit.left -= cents
        debit.left -= cents
        credit.paid.append((debit, cents))
        self.sink.add(
            Allocation,
            {
                "id": self.sink.next_id(Allocation),
                "patient_id": patient.id,
                "credit_id": credit.id,
                "debit_id": debit.id,
                "amount": cents,
                "created_at": self.stamp,
                "created_by": by,
            },
        )

    def _apply(
        self,
        patient: _Patient,
        credits: Sequence[tuple[_Entry, int]],
        debits: Sequence[_Entry],
        by: str = BILLING_USER,
    ) -> int:
        """:func:`ledger.apply_oldest_first`: pay ``debits`` in order from ``credits`` (each
        up to its limit) until one runs out; return the cents applied."""
        applied = 0
        ci = di = 0
        credit_left = [min(limit, entry.left) for entry, limit in credits]
        while ci < len(credits) and di < len(debits):
            debit = debits[di]
            cents = min(credit_left[ci], debit.left)
            if cents > 0:
                self._allocate(patient, credits[ci][0], debit, cents, by)
                credit_left[ci] -= cents
                applied += cents
            if credit_left[ci] == 0:
                ci += 1
            if debit.left == 0:
                di += 1
        return applied

    @staticmethod
    def _open_debits(patient: _Patient, only: Iterable[_Entry] | None = None) -> list[_Entry]:
        """The patient's debits still owed (of ``only``), oldest first."""
        patient.debits = [e for e in patient.debits if e.left > 0]
        found = patient.debits if only is None else [e for e in only if e.left > 0]
        return sorted(found, key=_oldest_first)

    @staticmethod
    def _open_credits(patient: _Patient) -> list[tuple[_Entry, int]]:
        """The patient's ordinary credit (never a package's), oldest first."""
        patient.credits = [e for e in patient.credits if e.left > 0]
        return [(e, e.left) for e in sorted(patient.credits, key=_oldest_first)]

    def _apply_credit(self, patient: _Patient, only: Iterable[_Entry] | None = None) -> None:
        credits = self._open_credits(patient)
        if credits:
            self._apply(patient, credits, self._open_debits(patient, only))

    # -- sessions: capture, check-out, posting -------------------------------------------

    def _drafts(self, patient: _Patient, visit: _Visit) -> list[dict[str, Any]]:
        """The charge rows capture writes for the visit (without status and ids), priced
        once: check-out and posting both read them."""
        if visit.rows is None:
            visit.rows = self._price(patient, visit)
        return visit.rows

    def _price(self, patient: _Patient, visit: _Visit) -> list[dict[str, Any]]:
        base = {
            "patient_id": patient.id,
            "location_id": visit.place.id,
            "provider_id": visit.provider_id,
            "session_id": visit.session_id,
            "service_date": visit.day,
            "dismissed_reason": "",
            "created_by": BILLING_USER,
            "version": 1,
        }
        if visit.status is not SessionStatus.COMPLETED:
            fee = visit.place.fees.get(visit.status)
            if fee is None:
                return []
            source, cents = fee
            return [
                {
                    **base,
                    "source": source,
                    "code": "",
                    "modifiers": "",
                    "description": source.label,
                    "units": 1,
                    "unit_price": cents,
                    "amount": cents,
                    "billed_charge": cents,
                    "diagnosis_pointers": "",
                    "review_note": "",
                }
            ]
        facts = SessionFacts(
            session_id=visit.session_id,
            modality=visit.series.protocol.modality,
            service_codes=visit.series.codes,
            service_date=visit.day,
            status=visit.status,
            infusion_minutes=visit.infusion_minutes,
            dose_mg=visit.dose_mg,
        )
        return [
            {
                **base,
                "source": ChargeSource.SESSION,
                "code": d.code,
                "modifiers": d.modifiers,
                "description": d.description,
                "units": d.units,
                "unit_price": _cents(d.unit_price),
                "amount": _cents(d.amount),
                "billed_charge": _cents(d.billed_charge),
                "diagnosis_pointers": patient.pointers,
                "review_note": d.review_note[:300],
            }
            for d in charge_drafts(facts, self.w.book)
        ]

    def _charge_row(
        self, row: dict[str, Any], status: ChargeStatus, captured: datetime
    ) -> dict[str, Any]:
        return {
            **row,
            "id": self.sink.next_id(Charge),
            "status": status,
            "entry_id": None,
            "created_at": captured,
            "posted_at": None,
            "posted_by": "",
        }

    def _capture(self, patient: _Patient, visit: _Visit) -> None:
        """A recent session: its charges wait in the review queue."""
        for row in self._drafts(patient, visit):
            self.sink.add(Charge, self._charge_row(row, ChargeStatus.PENDING, self.stamp))
            self.pending += 1

    def _checkout(self, patient: _Patient, visit: _Visit) -> None:
        """The patient pays the session's price at the desk (:func:`payments.take_payment`
        with no invoice: what they owe oldest first, the rest as credit)."""
        codes = set(visit.series.codes)
        if any(self._covers(p, codes, visit.day) for p in patient.packages):
            return  # prepaid
        cents = sum(row["amount"] for row in self._drafts(patient, visit))
        if cents <= 0:
            return
        method = self._method(patient)
        self._payment(patient, cents, method, visit.place.id, None, by=FRONT_DESK_USER)

    def _post(self, patient: _Patient, visit: _Visit, waived: bool) -> None:
        """:func:`review.post_charges` for one session's captured charges."""
        captured = datetime.combine(visit.day, time(23, 30), UTC)
        entries = []
        for row in self._drafts(patient, visit):
            if waived:
                charge = self._charge_row(row, ChargeStatus.DISMISSED, captured)
                charge["dismissed_reason"] = self.dice.one(WAIVED_REASONS)
                self.sink.add(Charge, charge)
                continue
            if row["amount"] <= 0:  # capture could not price it: it waits for a person
                self.sink.add(Charge, self._charge_row(row, ChargeStatus.PENDING, captured))
                self.pending += 1
                continue
            entry = self._post_entry(
                patient,
                EntryKind.CHARGE,
                row["amount"],
                visit.day,
                visit.place.id,
                self._describe(row),
            )
            charge = self._charge_row(row, ChargeStatus.POSTED, captured)
            charge.update(entry_id=entry.id, posted_at=self.stamp, posted_by=BILLING_USER)
            self.sink.add(Charge, charge)
            entries.append((entry, row["code"]))
        visit.rows = None  # written; the memory is not needed again
        if not entries:
            return
        if visit.status is SessionStatus.COMPLETED:
            self._cover(patient, visit, entries)
        self._apply_credit(patient)
        if self._patient_pays(patient, visit):
            key = (visit.place.id, visit.day.year, visit.day.month)
            patient.to_invoice.setdefault(key, []).extend(e for e, _code in entries)
            waiting = self._rounds.get(key)
            if waiting is None:
                waiting = self._rounds[key] = {}
                self.at(_invoice_day(visit.day), INVOICE, partial(self._invoice_round, key))
            waiting[patient.id] = patient

    def _describe(self, row: dict[str, Any]) -> str:
        """:func:`review.entry_description` of the charge (one ORM object per kind of line)."""
        key = (row["code"], row["modifiers"], row["description"], row["units"])
        found = self._descriptions.get(key)
        if found is None:
            found = self._descriptions[key] = entry_description(
                Charge(
                    code=row["code"],
                    modifiers=row["modifiers"],
                    description=row["description"],
                    units=row["units"],
                )
            )
        return found

    # -- packages ------------------------------------------------------------------------

    def _sell(self, patient: _Patient, visit: _Visit, offer: _Offer) -> None:
        """:func:`packages.sell_package` at the first session's check-in."""
        method = self._method(patient)
        purchase = _Purchase(
            self.sink.next_id(PackagePurchase),
            offer,
            visit.place.id,
            visit.day,
            visit.day + timedelta(days=offer.valid_days),
            method,
            self._reference(patient, method),
        )
        self.sink.add(
            PackagePurchase,
            {
                "id": purchase.id,
                "template_id": offer.id,
                "patient_id": patient.id,
                "location_id": purchase.location_id,
                "name": offer.name,
                "service_code": offer.service_code,
                "sessions_total": offer.sessions,
                "price": offer.price,
                "unused_policy": offer.unused_policy,
                "purchased_on": purchase.purchased_on,
                "expires_on": purchase.expires_on,
                "status": PackageStatus.ACTIVE,  # the final status is written at the end
                "created_at": self.stamp,
                "created_by": FRONT_DESK_USER,
                "version": 1,
            },
        )
        purchase.prepayment = self._post_entry(
            patient,
            EntryKind.PAYMENT,
            -offer.price,
            visit.day,
            purchase.location_id,
            f"Package prepayment: {offer.name}",
            by=FRONT_DESK_USER,
            method=method,
            reference=purchase.reference,
            package=purchase.id,
        )
        patient.packages.append(purchase)
        self.purchases.append(purchase)
        self.at(
            purchase.expires_on + timedelta(days=EXPIRY_RUN_DAYS),
            EXPIRE,
            partial(self._expire, patient, purchase),
        )

    @staticmethod
    def _covers(purchase: _Purchase, codes: set[str], day: date) -> bool:
        return (
            purchase.status is PackageStatus.ACTIVE
            and purchase.offer.service_code in codes
            and purchase.expires_on >= day
            and purchase.uses < purchase.offer.sessions
        )

    def _cover(self, patient: _Patient, visit: _Visit, posted: list[tuple[_Entry, str]]) -> None:
        """:func:`packages.cover_session`: the soonest-expiring package of a service the
        session billed pays for it, up to one use's value."""
        codes = {code for _entry, code in posted}
        candidates = sorted(
            (p for p in patient.packages if self._covers(p, codes, visit.day)),
            key=lambda p: (p.expires_on, p.id),
        )
        for purchase in candidates:
            prepayment = purchase.prepayment
            number = purchase.uses + 1
            value = to_cents(
                use_value(from_cents(purchase.offer.price), purchase.offer.sessions, number)
            )
            if prepayment is None or prepayment.left < value:
                continue
            self._use(patient, visit, purchase, prepayment, number, value, [e for e, _ in posted])
            return

    def _use(
        self,
        patient: _Patient,
        visit: _Visit,
        purchase: _Purchase,
        prepayment: _Entry,
        number: int,
        value: int,
        charges: list[_Entry],
    ) -> None:
        offer = purchase.offer
        label = f"{offer.name}: session {number} of {offer.sessions}"
        owed = self._open_debits(patient, charges)
        total = sum(e.left for e in owed)
        used = self._apply(patient, [(prepayment, value)], owed)
        adjustment = None
        if total > value:
            adjustment = self._post_entry(
                patient,
                EntryKind.ADJUSTMENT,
                -(total - value),
                visit.day,
                charges[0].location_id,
                label,
                reason=AdjustmentReason.PACKAGE,
                note="package rate below the listed fees",
                package=purchase.id,
            )
            self._apply(patient, [(adjustment, total - value)], self._open_debits(patient, charges))
        elif used < value:
            self._forfeit(patient, purchase, value - used, visit.day, f"{label} (rate above fees)")
        self.sink.add(
            PackageUse,
            {
                "id": self.sink.next_id(PackageUse),
                "purchase_id": purchase.id,
                "session_id": visit.session_id,
                "number": number,
                "value": value,
                "adjustment_entry_id": adjustment.id if adjustment is not None else None,
                "used_on": visit.day,
                "created_at": self.stamp,
            },
        )
        purchase.uses = number
        if number == offer.sessions:
            purchase.becomes(PackageStatus.USED_UP)

    def _forfeit(
        self, patient: _Patient, purchase: _Purchase, cents: int, on: date, description: str
    ) -> None:
        if purchase.prepayment is None:
            return
        entry = self._post_entry(
            patient,
            EntryKind.FORFEIT,
            cents,
            on,
            purchase.location_id,
            description,
            package=purchase.id,
        )
        self._allocate(patient, purchase.prepayment, entry, cents, BILLING_USER)

    def _expire(self, patient: _Patient, purchase: _Purchase) -> None:
        """:func:`packages.expire_packages`, run a week after the package's last day."""
        if purchase.status is not PackageStatus.ACTIVE:
            return
        purchase.becomes(PackageStatus.EXPIRED)
        left = purchase.prepayment.left if purchase.prepayment is not None else 0
        offer = purchase.offer
        if offer.unused_policy is UnusedPolicy.FORFEIT:
            if left > 0:
                self._forfeit(
                    patient,
                    purchase,
                    left,
                    self.day,
                    f"{offer.name}: {offer.sessions - purchase.uses} of {offer.sessions} "
                    f"sessions unused, expired {purchase.expires_on.isoformat()}",
                )
        elif left > 0 and self.dice.chance(PACKAGE_REFUND_RATE):
            self.at(
                self.day + timedelta(days=self.dice.between(3, 30)),
                REFUND,
                partial(self._refund_unused, patient, purchase),
            )

    def _refund_unused(self, patient: _Patient, purchase: _Purchase) -> None:
        """:func:`packages.refund_unused`: the unused sessions' value paid back."""
        prepayment = purchase.prepayment
        if prepayment is None or prepayment.left <= 0:
            return
        offer = purchase.offer
        left = prepayment.left
        entry = self._post_entry(
            patient,
            EntryKind.REFUND,
            left,
            self.day,
            purchase.location_id,
            f"Refund of unused package sessions: {offer.name} "
            f"({offer.sessions - purchase.uses} of {offer.sessions} unused)",
            method=purchase.method,
            reference=purchase.reference,
            note=self.dice.one(PACKAGE_REFUND_REASONS),
            package=purchase.id,
        )
        self._allocate(patient, prepayment, entry, left, BILLING_USER)
        purchase.becomes(PackageStatus.REFUNDED)

    # -- invoices and what happens to them -----------------------------------------------

    def _invoice_round(self, key: tuple[int, int, int]) -> None:
        """The month's invoices at one location: :func:`invoices.create_invoice` and
        :func:`invoices.issue_invoice` for every patient with charges to invoice."""
        location_id, year, month = key
        place = self.w.places[location_id]
        start = date(year, month, 1)
        end = _month_end(start)
        for _patient_id, patient in sorted(self._rounds.pop(key).items()):
            lines = sorted(
                (e for e in patient.to_invoice.pop(key, []) if not e.reversed),
                key=_oldest_first,
            )
            if lines:
                self._invoice(patient, place, start, end, lines)

    def _invoice(
        self, patient: _Patient, place: _Place, start: date, end: date, lines: list[_Entry]
    ) -> None:
        counter = f"invoice:{place.code}:{self.day.year}"
        number = self.numbers.get(counter, 0) + 1
        self.numbers[counter] = number
        invoice = _Invoice(
            self.sink.next_id(Invoice), f"{place.code}-{self.day.year}-{number:05d}", lines
        )
        latest = _invoice_day(end + timedelta(days=1)) > self.today
        draft = latest and self.dice.chance(DRAFT_RATE)
        self.sink.add(
            Invoice,
            {
                "id": invoice.id,
                "number": invoice.number,
                "patient_id": patient.id,
                "location_id": place.id,
                "status": InvoiceStatus.DRAFT if draft else InvoiceStatus.ISSUED,
                "period_from": start,
                "period_to": end,
                "issued_on": None if draft else self.day,
                "due_on": None if draft else self.day + timedelta(days=place.due_days),
                "voided_at": None,
                "void_reason": "",
                "created_at": self.stamp,
                "created_by": BILLING_USER,
                "version": 1 if draft else 2,
            },
        )
        for entry in lines:
            self.sink.add(
                InvoiceLine,
                {
                    "id": self.sink.next_id(InvoiceLine),
                    "invoice_id": invoice.id,
                    "entry_id": entry.id,
                },
            )
        if draft:
            return
        self._apply_credit(patient, lines)  # issuing spends ordinary credit on the lines
        self._plan_invoice(patient, invoice)

    def _plan_invoice(self, patient: _Patient, invoice: _Invoice) -> None:
        """Draw how the patient settles an issued invoice and put it on the calendar."""
        owed = _owed(invoice)
        if owed == 0:
            return
        dice, issued = self.dice, self.day

        def later(low: int, high: int) -> date:
            return issued + timedelta(days=dice.between(low, high))

        outcome = dice.weighted(OUTCOMES)
        pay = partial(self._pay_invoice, patient, invoice)
        if outcome == "paid":
            self.at(later(*PAY_WITHIN), PAY, partial(pay, None))
        elif outcome == "partly":
            part = max(1000, owed * dice.between(3, 7) // 10 // 1000 * 1000)  # whole $10s
            if part < owed:
                self.at(later(3, 25), PAY, partial(pay, part))
                if dice.chance(0.5):
                    self.at(later(35, 70), PAY, partial(pay, None))
            else:
                self.at(later(*PAY_WITHIN), PAY, partial(pay, None))
        elif outcome == "reduced":
            reason, note = dice.one(REDUCTIONS)
            off = owed * dice.between(15, 40) // 100 // 100 * 100  # whole dollars
            if off > 0:
                self.at(
                    later(0, 6), ADJUST, partial(self._adjust, patient, invoice, off, reason, note)
                )
            self.at(later(7, 28), PAY, partial(pay, None))
        elif outcome == "unpaid":
            if dice.chance(0.5):
                self.at(
                    later(*WRITE_OFF_AFTER),
                    ADJUST,
                    partial(
                        self._adjust,
                        patient,
                        invoice,
                        None,
                        AdjustmentReason.WRITE_OFF,
                        WRITE_OFF_NOTE,
                    ),
                )
        else:  # paid twice
            first = later(*PAY_WITHIN)
            self.at(first, PAY, partial(pay, None))
            again = first + timedelta(days=dice.between(0, 2))
            self.at(again, PAY, partial(self._pay_again, patient, invoice, owed))
            self.at(
                again + timedelta(days=dice.between(3, 12)),
                REFUND,
                partial(self._refund, patient, owed, PAID_TWICE.format(number=invoice.number)),
            )

    def _pay_invoice(self, patient: _Patient, invoice: _Invoice, cents: int | None) -> None:
        """:func:`payments.take_payment` on the invoice: what is still owed on it (or
        ``cents`` of it)."""
        owed = _owed(invoice)
        if owed == 0:
            return
        method = self._method(patient)
        size = owed if cents is None else min(cents, owed)
        by = self.dice.one((BILLING_USER, FRONT_DESK_USER))  # by mail or online, or at the desk
        entry = self._payment(patient, size, method, invoice.lines[0].location_id, invoice, by=by)
        if method is PaymentMethod.CHECK and self.dice.chance(RETURNED_CHECK_RATE):
            self.at(
                self.day + timedelta(days=self.dice.between(7, 14)),
                REVERSE,
                partial(self._returned_check, patient, invoice, entry),
            )

    def _pay_again(self, patient: _Patient, invoice: _Invoice, cents: int) -> None:
        """The same bill paid a second time (online after mailing a check): all credit."""
        method = self._method(patient)
        self._payment(
            patient, cents, method, invoice.lines[0].location_id, invoice, by=BILLING_USER
        )

    def _payment(
        self,
        patient: _Patient,
        cents: int,
        method: PaymentMethod,
        location_id: int,
        invoice: _Invoice | None,
        *,
        by: str,
    ) -> _Entry:
        """:func:`payments.take_payment`: to the invoice's lines, else to everything owed,
        oldest first; the rest stays as credit."""
        on_invoice = f", invoice {invoice.number}" if invoice is not None else ""
        entry = self._post_entry(
            patient,
            EntryKind.PAYMENT,
            -cents,
            self.day,
            location_id,
            f"Payment, {method.label}{on_invoice}",
            by=by,
            method=method,
            reference=self._reference(patient, method),
        )
        owed = self._open_debits(patient, invoice.lines if invoice is not None else None)
        self._apply(patient, [(entry, cents)], owed, by)
        return entry

    def _adjust(
        self,
        patient: _Patient,
        invoice: _Invoice,
        cents: int | None,
        reason: AdjustmentReason,
        note: str,
    ) -> None:
        """:func:`payments.adjust` on the invoice, never more than is owed on it."""
        owed = self._open_debits(patient, invoice.lines)
        left = sum(e.left for e in owed)
        size = left if cents is None else min(cents, left)
        if size <= 0:
            return
        entry = self._post_entry(
            patient,
            EntryKind.ADJUSTMENT,
            -size,
            self.day,
            owed[0].location_id,
            f"Adjustment, {reason.label.lower()}",
            reason=reason,
            note=note,
        )
        self._apply(patient, [(entry, size)], owed)

    def _returned_check(self, patient: _Patient, invoice: _Invoice, payment: _Entry) -> None:
        """:func:`payments.reverse_entry` of a bounced check (what it paid is owed again),
        then the patient pays by card."""
        if payment.reversed:
            return
        net: dict[int, tuple[_Entry, int]] = {}
        for debit, cents in payment.paid:
            held = net.get(debit.id)
            net[debit.id] = (debit, cents + (held[1] if held is not None else 0))
        for debit, cents in sorted(net.values(), key=lambda pair: pair[0].id):
            if cents:  # a release is an allocation of the opposite amount
                self._allocation(patient, payment, debit, -cents, BILLING_USER)
                if debit not in patient.debits:
                    patient.debits.append(debit)
        undo = self._post_entry(
            patient,
            EntryKind.REVERSAL,
            -payment.amount,
            self.day,
            payment.location_id,
            f"Reversal of {payment.description}",
            note=RETURNED_CHECK,
            reverses=payment,
        )
        payment.reversed = True
        self._allocate(patient, payment, undo, -payment.amount, BILLING_USER)
        later = self.day + timedelta(days=self.dice.between(3, 15))
        self.at(later, PAY, partial(self._pay_by_card, patient, invoice))

    def _pay_by_card(self, patient: _Patient, invoice: _Invoice) -> None:
        owed = _owed(invoice)
        if owed:
            self._payment(
                patient,
                owed,
                PaymentMethod.CARD,
                invoice.lines[0].location_id,
                invoice,
                by=FRONT_DESK_USER,
            )

    def _refund(self, patient: _Patient, cents: int, note: str) -> None:
        """:func:`payments.refund` out of ordinary credit, oldest first."""
        credits = self._open_credits(patient)
        size = min(cents, sum(left for _e, left in credits))
        if size <= 0:
            return
        method = self._method(patient)
        entry = self._post_entry(
            patient,
            EntryKind.REFUND,
            size,
            self.day,
            credits[0][0].location_id,
            f"Refund, {method.label}",
            method=method,
            reference=self._reference(patient, method),
            note=note,
        )
        self._apply(patient, credits, [entry])

    def _method(self, patient: _Patient) -> PaymentMethod:
        if self.dice.chance(OTHER_METHOD_RATE):
            return self.dice.weighted(METHODS)
        return patient.method

    def _reference(self, patient: _Patient, method: PaymentMethod) -> str:
        dice = self.dice
        if method is PaymentMethod.CARD:
            return f"{patient.card}, auth {dice.digits(6)}"
        if method is PaymentMethod.HSA_FSA:
            return patient.hsa
        if method is PaymentMethod.CHECK:
            patient.checks += 1
            return f"Check {patient.checks}"
        if method is PaymentMethod.OTHER:
            return f"CareCredit {dice.digits(8)}"
        return ""

    # -- Good Faith Estimates ------------------------------------------------------------

    def _estimate(self, patient: _Patient, run: _Series) -> None:
        """The estimate drafted when the series was booked, priced as
        :func:`estimates.draft_for_series` prices it, and given (or not yet)."""
        protocol = run.protocol
        holding = run.holding
        if protocol.session_count is None:  # open-ended: twelve months from the first
            horizon = _a_year_after(holding[0][0])
            holding = [(day, provider) for day, provider in holding if day < horizon]
        lines = self._estimate_lines(protocol, [day for day, _provider in holding])
        counter = f"estimate:{self.day.year}"
        number = self.numbers.get(counter, 0) + 1
        self.numbers[counter] = number
        upcoming = [day for day, _provider in holding if day >= self.day]
        give_by = estimates.give_deadline(self.day, upcoming[0]) if upcoming else None
        given_on = self._given_on(give_by, holding[-1][0])
        estimate_id = self.sink.next_id(Estimate)
        self.sink.add(
            Estimate,
            {
                "id": estimate_id,
                "number": f"GFE-{self.day.year}-{number:05d}",
                "patient_id": patient.id,
                "series_id": run.id,
                "location_id": run.place.id,
                "provider_id": holding[0][1],
                "status": EstimateStatus.DRAFT if given_on is None else EstimateStatus.GIVEN,
                "first_service_on": holding[0][0],
                "last_service_on": holding[-1][0],
                "session_count": len(holding),
                "total": sum(line["amount"] for line in lines),
                "drafted_on": self.day,
                "give_by": give_by,
                "given_on": given_on,
                "given_by": FRONT_DESK_USER if given_on is not None else "",
                "given_how": self.dice.weighted(GIVEN_HOW) if given_on is not None else "",
                "redraft_reason": "",
                "supersedes_id": None,
                "created_at": self.stamp,
                "created_by": FRONT_DESK_USER,
                "version": 1 if given_on is None else 2,
            },
        )
        for position, line in enumerate(lines, start=1):
            self.sink.add(
                EstimateLine,
                {
                    "id": self.sink.next_id(EstimateLine),
                    "estimate_id": estimate_id,
                    "position": position,
                    **line,
                },
            )

    def _estimate_lines(self, protocol: Protocol, days: list[date]) -> list[dict[str, Any]]:
        """The estimate's lines for sessions on ``days``: each day priced and explained by
        the estimate service's own helpers, equal items grouped into one line per code and
        price, in the order they first appear."""
        groups: dict[tuple[object, ...], list[ChargeDraft]] = {}
        notes: dict[tuple[object, ...], str] = {}
        for day in days:
            for draft in self._expected_drafts(protocol, day):
                key = (draft.code, draft.modifiers, draft.description, draft.unit_price)
                groups.setdefault(key, []).append(draft)
                if key not in notes:
                    notes[key] = estimates._note(draft, protocol, day, self.w.book)
        return [
            {
                "code": drafts[0].code,
                "modifiers": drafts[0].modifiers,
                "description": drafts[0].description,
                "sessions": len(drafts),
                "units": sum(d.units for d in drafts),
                "unit_price": _cents(drafts[0].unit_price),
                "amount": _cents(sum((d.amount for d in drafts), ZERO)),
                "note": notes[key],
            }
            for key, drafts in groups.items()
        ]

    def _expected_drafts(self, protocol: Protocol, day: date) -> list[ChargeDraft]:
        # The estimate service prices an expected session with this (kept private there).
        key = (protocol.id, day)
        found = self._expected.get(key)
        if found is None:
            found = self._expected[key] = estimates._session_drafts(
                protocol, protocol.modality, day, self.w.book
            )
        return found

    def _given_on(self, give_by: date | None, last_day: date) -> date | None:
        """When the estimate was given: at once or by its deadline, except that some of
        the newest for series still ahead wait (and the first few past their deadline are
        left overdue, for the desk to see)."""
        recent = (self.today - self.day).days < GFE_RECENT_DAYS and last_day >= self.today
        if recent:
            if give_by is not None and give_by < self.today:
                if self._overdue_left > 0:
                    self._overdue_left -= 1
                    return None
            elif self.dice.chance(GFE_DRAFT_RATE):
                return None
        latest = min(give_by or self.day + timedelta(days=1), self.today)
        return self.day if self.dice.chance(0.7) else max(self.day, latest)


def _owed(invoice: _Invoice) -> int:
    return sum(e.left for e in invoice.lines)


def _month_end(first: date) -> date:
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)


def _invoice_day(service_day: date) -> date:
    """The day the month's invoices go out: the first weekday from the 3rd of the next
    month (every charge of the month is posted by then)."""
    day = _month_end(service_day.replace(day=1)) + timedelta(days=INVOICE_RUN_DAY)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _a_year_after(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)
