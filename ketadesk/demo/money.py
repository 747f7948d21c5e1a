"""The demo's money: charges, the ledger, invoices, payments, packages and Good Faith Estimates
for the sessions :mod:`ketadesk.demo.history` wrote.

:func:`add_money` runs after the sessions stage of :func:`ketadesk.demo.generator.generate`:

1. **Seeding through the services.** The shipped fee schedule
   (:func:`~ketadesk.billing.fees.ensure_default_fee_schedule`), the package templates
   (:func:`~ketadesk.billing.packages.ensure_default_templates`) and each location's fee
   policy (late cancellation $75, no-show $150, :func:`~ketadesk.billing.fees.save_billing_policy`)
   are written exactly as a new clinic gets them.
2. **Loading** (:mod:`ketadesk.demo.money_world`). Every session that ended (completed,
   late-cancelled, no-show), each series' sessions still holding a chair, the patients'
   insurance and how many diagnoses they have.
3. **One calendar for the whole chain** (:mod:`ketadesk.demo.money_calendar`). Each thing a
   person would have done is an event on a day, planned here patient by patient
   (:class:`_Planner`); the events run in date order, so entries, invoices and estimates get
   their ids and numbers in the order they happened (``NYC-2024-00001`` is the first invoice
   of 2024 at NYC), and the ``counter`` rows are left where the services continue the
   sequence. An event that would fall after ``today`` has not happened.
4. **The books in memory.** Each event does what its service does — the same entries with
   the same descriptions and the same allocations, oldest first — on a small in-memory copy
   of the patient's open debits and unapplied credits, so nothing is read back from the
   database. One part of the stage per kind of work, each in its own module: the ledger
   (:mod:`~ketadesk.demo.money_books`), charges captured and posted
   (:mod:`~ketadesk.demo.money_charges`, priced by charge capture's own pure
   :func:`~ketadesk.billing.capture.charge_drafts`), packages
   (:mod:`~ketadesk.demo.money_packages`), invoices (:mod:`~ketadesk.demo.money_invoices`),
   payments (:mod:`~ketadesk.demo.money_payments`) and estimates
   (:mod:`~ketadesk.demo.money_estimates`, priced by the estimate service's own helpers).
5. **Writing** (:mod:`ketadesk.demo.bulk`). Rows are buffered as plain dictionaries and
   written with SQLAlchemy Core bulk ``INSERT`` in chunks, money as integer cents;
   PostgreSQL's id sequences are moved past the ids assigned here. No audit row is written
   per entry: the generator's one audit row records the whole demo.

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

Claims (issue 5) add their work as one more part: a module beside these with its own class,
planned from :class:`_Planner` and run on the same calendar and books.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from functools import partial

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from ketadesk.access.permissions import Actor
from ketadesk.billing.claims.models import (
    Claim,
    ClaimBatch,
    ClaimEvent,
    ClaimLine,
    Remit,
    RemitAdjustment,
    RemitClaim,
    RemitLine,
)
from ketadesk.billing.fees import ensure_default_fee_schedule, save_billing_policy
from ketadesk.billing.models import (
    Allocation,
    Charge,
    Estimate,
    EstimateLine,
    Invoice,
    InvoiceLine,
    LedgerEntry,
    PackagePurchase,
    PackageStatus,
    PackageUse,
)
from ketadesk.billing.packages import ensure_default_templates
from ketadesk.clinic.models import Location
from ketadesk.db import Base, Counter
from ketadesk.demo.bulk import Sink, table_of
from ketadesk.demo.dice import Dice
from ketadesk.demo.money_books import Books
from ketadesk.demo.money_calendar import (
    CAPTURE,
    CHECKOUT,
    ESTIMATE,
    POST,
    SELL,
    Calendar,
    ProgressCallback,
)
from ketadesk.demo.money_charges import (
    FEE_WAIVED_RATE,
    PENDING_DAYS,
    POST_LAG_DAYS,
    Charges,
)
from ketadesk.demo.money_claims import Claims
from ketadesk.demo.money_estimates import GFE_OVERDUE, Estimates
from ketadesk.demo.money_invoices import Invoices
from ketadesk.demo.money_packages import PACKAGE_RATES, Packages
from ketadesk.demo.money_payments import CARD_BRANDS, METHODS_TABLE, Payments
from ketadesk.demo.money_world import Offer, PatientBooks, Purchase, SeriesRun, World
from ketadesk.scheduling.models import Protocol, SessionStatus

__all__ = ["GFE_OVERDUE", "PENDING_DAYS", "MoneyCounts", "add_money"]

SQLITE_CACHE_KIB = 200_000  # page cache while writing (SQLite's default is about 2 MB)
LATE_CANCEL_FEE = "75.00"
NO_SHOW_FEE = "150.00"
CHECKOUT_RATE = 0.45  # patients who pay for each session at check-out
# What the stage writes, in foreign-key order: a row only points at rows of tables before
# it (or earlier rows of its own table, which are written first).
MONEY_MODELS: tuple[type[Base], ...] = (
    PackagePurchase,
    ClaimBatch,
    Claim,
    LedgerEntry,
    Charge,
    ClaimLine,
    ClaimEvent,
    Allocation,
    PackageUse,
    Invoice,
    InvoiceLine,
    Estimate,
    EstimateLine,
    Remit,
    RemitClaim,
    RemitLine,
    RemitAdjustment,
)


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
    world = World.load(session, today, now)
    sink = Sink(session, MONEY_MODELS)
    cal = Calendar(sink, today, now)
    planner = _Planner(Dice(rng), world, sink, cal)
    planner.plan()
    with _roomy_cache(session):
        cal.run(report)
        sink.flush()
    _finish(sink, planner.packages.purchases, cal.numbers)
    _finish_claims(sink, planner.claims)
    return MoneyCounts(
        fee_items=fees,
        package_templates=templates,
        charges=sink.written[Charge],
        pending_charges=planner.charges.pending,
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

def _finish(sink: Sink, purchases: Iterable[Purchase], numbers: dict[str, int]) -> None:
    """The packages' final statuses, the counters the services continue from, and
    PostgreSQL's sequences."""
    session = sink.session
    table = table_of(PackagePurchase)
    changed = [
        {"pid": p.id, "new_status": p.status, "new_version": p.version}
        for p in purchases
        if p.status is not PackageStatus.ACTIVE
    ]
    if changed:
        session.execute(
            update(table)
            .where(table.c.id == bindparam("pid"))
            .values(
                status=bindparam("new_status", type_=table.c.status.type),
                version=bindparam("new_version"),
            ),
            changed,
        )
    if numbers:
        session.execute(
            insert(table_of(Counter)),
            [{"name": name, "value": value} for name, value in sorted(numbers.items())],
        )
    sink.sync_sequences()


def _finish_claims(sink: Sink, claims: Claims) -> None:
    """Each claim's status and what moved with it, as its history left it."""
    changed = claims.final_rows()
    if not changed:
        return
    table = table_of(Claim)
    sink.session.execute(
        update(table)
        .where(table.c.id == bindparam("cid"))
        .values(
            status=bindparam("new_status", type_=table.c.status.type),
            version=bindparam("new_version"),
            batch_id=bindparam("new_batch"),
            submitted_on=bindparam("new_submitted", type_=table.c.submitted_on.type),
            adjudicated_on=bindparam("new_adjudicated", type_=table.c.adjudicated_on.type),
            appeal_deadline=bindparam("new_appeal", type_=table.c.appeal_deadline.type),
            payer_claim_number=bindparam("new_payer_number"),
        ),
        changed,
    )


class _Planner:
    """Draws each patient's habits and puts every money event of theirs on the calendar,
    for the part of the stage that does it."""

    def __init__(self, dice: Dice, world: World, sink: Sink, cal: Calendar) -> None:
        self.dice = dice
        self.world = world
        self.cal = cal
        self.pending_from = world.today - timedelta(days=PENDING_DAYS - 1)
        books = Books(sink, cal)
        payments = Payments(dice, books, cal)
        self.packages = Packages(dice, sink, books, payments, cal)
        invoices = Invoices(dice, world, sink, books, payments, cal)
        # The claims' draws come from their own generator (seeded from the stage's at the
        # start), so the payers' answers do not shift the patients' habits.
        claims_dice = Dice(random.Random(dice.rng.getrandbits(64)))
        self.claims = Claims(claims_dice, world, sink, books, invoices, cal)
        self.charges = Charges(
            dice, world, sink, books, self.packages, payments, invoices, self.claims
        )
        self.estimates = Estimates(dice, world, sink, cal)

    def plan(self) -> None:
        """Draw each patient's habits and put their sessions' and series' events on the
        calendar, patients by id."""
        for patient in self.world.patients:
            self._habits(patient)
            for run in patient.series:
                self._plan_series(patient, run)

    def _habits(self, patient: PatientBooks) -> None:
        dice = self.dice
        patient.checkout = dice.chance(CHECKOUT_RATE)
        patient.method = dice.pick(METHODS_TABLE)
        patient.card = f"{dice.one(CARD_BRANDS)} ending {dice.digits(4)}"
        patient.hsa = f"HSA/FSA card ending {dice.digits(4)}"
        patient.checks = dice.between(1001, 4800)

    def _plan_series(self, patient: PatientBooks, run: SeriesRun) -> None:
        dice = self.dice
        for visit in run.visits:
            if visit.day >= self.pending_from:
                self.cal.at(visit.day, CAPTURE, partial(self.charges.capture, patient, visit))
            else:
                lag = dice.between(*POST_LAG_DAYS)
                waived = visit.status is not SessionStatus.COMPLETED and dice.chance(
                    FEE_WAIVED_RATE
                )
                self.cal.at(
                    visit.day + timedelta(days=lag),
                    POST,
                    partial(self.charges.post, patient, visit, waived),
                )
            if visit.status is SessionStatus.COMPLETED and patient.checkout:
                # The desk takes what is the patient's: nothing when their payer is billed.
                self.cal.at(visit.day, CHECKOUT, partial(self.charges.checkout, patient, visit))
        sold = PACKAGE_RATES.get(run.protocol.key)
        first = next((v for v in run.visits if v.status is SessionStatus.COMPLETED), None)
        if sold is not None and first is not None and dice.chance(sold[0]):
            offer = self._offer(run.protocol, sold[1])
            if offer is not None:
                self.cal.at(first.day, SELL, partial(self.packages.sell, patient, first, offer))
        if run.holding and not patient.insured_on(run.holding[0][0]):
            self.cal.at(run.booked_on, ESTIMATE, partial(self.estimates.draft, patient, run))

    def _offer(self, protocol: Protocol, sessions: int) -> Offer | None:
        return next(
            (
                self.world.offers[code, sessions]
                for code in protocol.service_codes
                if (code, sessions) in self.world.offers
            ),
            None,
        )
