"""What the money stage reads, and the small records its books keep in memory.

:meth:`World.load` reads, once, everything the money stage of the demo needs: the
locations as billing sees them (:class:`Place`: time zone, invoice terms, late-cancel and
no-show fees), the package templates on sale (:class:`Offer`), the fee schedule
(:class:`MemoBook`, lookups remembered), every patient's insurance spans and diagnoses
(:class:`PatientBooks`), each series (:class:`SeriesRun`) with the sessions still holding a
chair and the sessions that ended (:class:`Visit`). The other records are what the stage's
parts keep while they replay the services in memory: a ledger entry with what is left of it
(:class:`Entry`), a package sold (:class:`Purchase`) and an issued invoice
(:class:`OpenInvoice`). Money is integer cents throughout.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from operator import attrgetter
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from ketadesk.billing.capture import CAPTURED_STATUSES, MAX_POINTERS, minutes_between
from ketadesk.billing.claims.building import MAX_DIAGNOSES
from ketadesk.billing.claims.routing import BillTo, route
from ketadesk.billing.fees import Fee, FeeBook
from ketadesk.billing.models import (
    BillingPolicy,
    ChargeSource,
    PackageStatus,
    PackageTemplate,
    PaymentMethod,
    UnitBasis,
    UnusedPolicy,
)
from ketadesk.billing.superbill import DoseGiven, drug_products
from ketadesk.clinic.models import Diagnosis, InsurancePolicy, Location, Patient, Provider
from ketadesk.clinic.policies import Coverage, coverage_from, span_in_force
from ketadesk.demo.bulk import table_of
from ketadesk.money import to_cents
from ketadesk.scheduling.models import (
    RELEASED,
    Protocol,
    Route,
    Series,
    SessionStatus,
    TreatmentSession,
)


@dataclass(frozen=True)
class Place:
    """A location as billing sees it."""

    id: int
    code: str
    zone: ZoneInfo
    due_days: int
    fees: dict[SessionStatus, tuple[ChargeSource, int]]  # fee charged per status, in cents
    name: str = ""
    npi: str = ""  # the billing NPI and TIN a claim names
    tin: str = ""


@dataclass(frozen=True)
class Offer:
    """A package template on sale."""

    id: int
    name: str
    service_code: str
    sessions: int
    price: int  # cents
    valid_days: int
    unused_policy: UnusedPolicy


@dataclass(eq=False)
class Visit:
    """A session that ended: what capture reads from it (the facts of
    :func:`ketadesk.billing.capture.session_facts`)."""

    session_id: int
    series: SeriesRun
    place: Place
    provider_id: int
    status: SessionStatus
    day: date  # the local service date
    infusion_minutes: int | None
    dose_mg: Decimal | None
    monitoring_minutes: int | None = None  # monitoring start to discharge
    route: Route | None = None
    ndc: str = ""  # the product recorded at the dose
    established: bool = True  # the patient completed a session before this one
    rows: list[dict[str, Any]] | None = None  # its charges, once priced

    @property
    def given(self) -> DoseGiven:
        """The dose as a drug line reads it (:func:`ketadesk.billing.superbill.charge_drug`)."""
        return DoseGiven(self.dose_mg, self.route, self.ndc)


@dataclass(eq=False)
class SeriesRun:
    id: int
    protocol: Protocol
    place: Place
    booked_on: date  # local day the series was booked
    patient_id: int = 0
    codes: tuple[str, ...] = ()  # the protocol's services, read once
    # Sessions still holding a chair: (local day, provider), in time order.
    holding: list[tuple[date, int]] = field(default_factory=list)
    visits: list[Visit] = field(default_factory=list)


@dataclass(eq=False)
class Entry:
    """A ledger entry as the books need it; ``left`` is owed (debit) or unapplied (credit)."""

    id: int
    amount: int  # signed cents
    left: int
    posted_on: date
    location_id: int
    description: str
    package: int | None = None
    reversed: bool = False
    paid: list[tuple[Entry, int]] = field(default_factory=list)  # a credit's allocations
    order: tuple[date, int] = field(init=False)  # the ledger's "oldest first"

    def __post_init__(self) -> None:
        self.order = (self.posted_on, self.id)


oldest_first = attrgetter("order")


@dataclass(eq=False)
class Purchase:
    id: int
    offer: Offer
    location_id: int
    purchased_on: date
    expires_on: date
    method: PaymentMethod
    reference: str
    prepayment: Entry | None = None
    uses: int = 0
    status: PackageStatus = PackageStatus.ACTIVE
    version: int = 1  # each change of status is a new version of the row

    def becomes(self, status: PackageStatus) -> None:
        self.status = status
        self.version += 1


@dataclass(eq=False)
class OpenInvoice:
    id: int
    number: str
    lines: list[Entry]


@dataclass(eq=False)
class PatientBooks:
    """One patient's insurance, habits and open books."""

    id: int
    pointers: str
    cover: list[tuple[date, date | None]]  # spans of active policies
    name: str = ""  # as a payer's answer names the patient
    diagnoses: tuple[str, ...] = ()  # the codes a claim carries, in the chart's order
    policies: list[InsurancePolicy] = field(default_factory=list)  # active, payers loaded
    series: list[SeriesRun] = field(default_factory=list)
    checkout: bool = False  # pays each session at check-out
    method: PaymentMethod = PaymentMethod.CARD
    card: str = ""
    hsa: str = ""
    checks: int = 0  # the next check number
    debits: list[Entry] = field(default_factory=list)  # open ones
    credits: list[Entry] = field(default_factory=list)  # open, not a package's
    packages: list[Purchase] = field(default_factory=list)
    to_invoice: dict[tuple[int, int, int], list[Entry]] = field(default_factory=dict)
    _coverage: Coverage | None = field(default=None, repr=False)

    def insured_on(self, day: date) -> bool:
        return in_force_on(self.cover, day)

    def bill_to(self, day: date, code: str) -> BillTo:
        """Where a charge for ``code`` goes: routing's own rule on the coverage of the day."""
        return route(self.coverage_on(day), code)

    def coverage_on(self, day: date) -> Coverage:
        """:func:`~ketadesk.clinic.policies.coverage_from` the patient's policies on ``day``,
        the last day asked remembered (a visit's lines ask for the same day in a row)."""
        if self._coverage is None or self._coverage.on != day:
            self._coverage = coverage_from(self.policies, day)
        return self._coverage


@dataclass
class World:
    today: date
    now: datetime
    places: dict[int, Place]
    offers: dict[tuple[str, int], Offer]  # by (service code, sessions)
    book: FeeBook
    patients: list[PatientBooks]
    npis: dict[int, str] = field(default_factory=dict)  # provider id -> NPI
    products: list[Fee] = field(default_factory=list)  # fee items naming a drug product

    @classmethod
    def load(cls, session: Session, today: date, now: datetime) -> World:
        places = _places(session)
        protocols = {p.id: p for p in session.scalars(select(Protocol))}
        patients = _patients(session)
        series = _series(session, patients, places, protocols)
        _sessions(session, series, places)
        offers = {
            (t.service_code, t.sessions): Offer(
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
        book = MemoBook.load(session)
        npis = dict(session.execute(select(Provider.id, Provider.npi)).all())
        return cls(
            today, now, places, offers, book, list(patients.values()), npis,
            drug_products(session),
        )  # fmt: skip


class MemoBook(FeeBook):
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


def cents_of(amount: Decimal) -> int:
    """:func:`~ketadesk.money.to_cents`, remembered: prices repeat."""
    found = _CENTS.get(amount)
    if found is None:
        found = _CENTS[amount] = to_cents(amount)
    return found


def _places(session: Session) -> dict[int, Place]:
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
        places[location.id] = Place(
            location.id,
            location.code,
            ZoneInfo(location.time_zone),
            policy.invoice_due_days if policy is not None else 30,
            fees,
            location.name,
            location.npi,
            location.tin,
        )
    return places


def _patients(session: Session) -> dict[int, PatientBooks]:
    patient_t, diagnosis_t = table_of(Patient), table_of(Diagnosis)
    policy_t = table_of(InsurancePolicy)
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
    policies: dict[int, list[InsurancePolicy]] = {}
    for policy in session.scalars(
        select(InsurancePolicy)
        .where(InsurancePolicy.active.is_(True))
        .options(joinedload(InsurancePolicy.payer))
        .order_by(InsurancePolicy.id)
    ):
        policies.setdefault(policy.patient_id, []).append(policy)
    codes = _diagnosis_codes(session, set(policies))
    return {
        pid: PatientBooks(
            pid,
            # As capture points a service line at the patient's diagnoses.
            ",".join(str(n) for n in range(1, min(diagnoses.get(pid, 0), MAX_POINTERS) + 1)),
            cover.get(pid, []),
            f"{family}, {given}",
            codes.get(pid, ()),
            policies.get(pid, []),
        )
        for pid, family, given in session.execute(
            select(patient_t.c.id, patient_t.c.family_name, patient_t.c.given_name).order_by(
                patient_t.c.id
            )
        )
    }


def _diagnosis_codes(session: Session, insured: set[int]) -> dict[int, tuple[str, ...]]:
    """The insured patients' diagnosis codes, as a claim copies them (at most twelve)."""
    diagnosis_t = table_of(Diagnosis)
    found: dict[int, list[str]] = {}
    for patient_id, code in session.execute(
        select(diagnosis_t.c.patient_id, diagnosis_t.c.code).order_by(
            diagnosis_t.c.patient_id, diagnosis_t.c.position
        )
    ):
        if patient_id in insured:
            found.setdefault(patient_id, []).append(code)
    return {pid: tuple(codes[:MAX_DIAGNOSES]) for pid, codes in found.items()}


def _series(
    session: Session,
    patients: dict[int, PatientBooks],
    places: dict[int, Place],
    protocols: dict[int, Protocol],
) -> dict[int, SeriesRun]:
    series_t = table_of(Series)
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
        run = SeriesRun(sid, protocol, place, booked, patient_id, tuple(protocol.service_codes))
        found[sid] = run
        patients[patient_id].series.append(run)
    return found


def _sessions(session: Session, series: dict[int, SeriesRun], places: dict[int, Place]) -> None:
    """Attach each session to its series: those holding a chair, and those that ended.

    Sessions come in time order, so a patient is established (as
    :func:`ketadesk.billing.capture.established_patients` says) from the first session that
    starts after their first completed one.
    """
    ts = table_of(TreatmentSession)
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
            ts.c.monitoring_from,
            ts.c.discharged_at,
            ts.c.route,
            ts.c.ndc,
        ).order_by(ts.c.starts_at, ts.c.id)
    )
    first_completed: dict[int, datetime] = {}
    for row in rows:
        place = places[row.location_id]
        day = row.starts_at.astimezone(place.zone).date()
        run = series[row.series_id]
        if row.status not in RELEASED:
            run.holding.append((day, row.provider_id))
        first = first_completed.get(run.patient_id)
        if first is None and row.status is SessionStatus.COMPLETED:
            first_completed[run.patient_id] = row.starts_at
        if row.status not in CAPTURED_STATUSES:
            continue
        run.visits.append(
            Visit(
                row.id, run, place, row.provider_id, row.status, day,
                minutes_between(row.infusion_started_at, row.infusion_stopped_at), row.dose_mg,
                minutes_between(row.monitoring_from, row.discharged_at), row.route, row.ndc or "",
                established=first is not None and first < row.starts_at,
            )
        )  # fmt: skip


def in_force_on(spans: list[tuple[date, date | None]], day: date) -> bool:
    """Whether any of a patient's active policy spans (effective from, to) is in force on
    ``day``: the demo replays in memory, so it asks the rule's in-memory form,
    :func:`ketadesk.clinic.policies.span_in_force`."""
    return any(span_in_force(start, end, day) for start, end in spans)


def owed_on(invoice: OpenInvoice) -> int:
    """What is still owed on an issued invoice's lines, in cents."""
    return sum(e.left for e in invoice.lines)
