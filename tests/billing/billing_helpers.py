"""Builders shared by the billing tests: a clinic with a fee schedule and a fee policy, and
sessions in the states charge capture reads.

Sessions are written directly (as the floor would leave them, see
:func:`scheduling.planning_helpers.existing_session`), so billing tests do not depend on the
floor's clinical rules. Each builder takes a ``start`` so a test can place several sessions
without two of them holding one chair at once (PostgreSQL forbids that).

::

    clinic = billing_clinic(session)
    ts = completed_iv_session(session, clinic, minutes=100)
    entries = posted_charges(session, billing_actor(), ts)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from builders import SchedulingClinic, at, scheduling_clinic
from scheduling.planning_helpers import existing_session
from sqlalchemy.orm import Session

from ketadesk.access.permissions import Actor, Role
from ketadesk.billing import ledger
from ketadesk.billing.models import BillingPolicy, Charge, EntryKind, FeeItem, LedgerEntry
from ketadesk.clinic.models import Chair, Location, Patient
from ketadesk.money import money
from ketadesk.scheduling.models import Route, SessionStatus, TreatmentSession

ADMIN = Actor(username="test-admin", role=Role.ADMIN)
BILLING = Actor(username="test-billing", role=Role.BILLING)
LATE_CANCEL_FEE = Decimal("75.00")
NO_SHOW_FEE = Decimal("150.00")
SERVICE_DAY = "2026-12-01"


def billing_actor() -> Actor:
    """Someone in the billing office (reviews and posts charges, edits the fee schedule)."""
    return BILLING


@dataclass
class BillingClinic(SchedulingClinic):
    """:class:`SchedulingClinic` plus the shipped fee schedule and the location's fee policy
    (late cancellation $75, no-show $150, invoices due in 30 days)."""

    fees: list[FeeItem]
    policy: BillingPolicy


def billing_clinic(session: Session, actor: Actor = ADMIN) -> BillingClinic:
    from ketadesk.billing.fees import ensure_default_fee_schedule, save_billing_policy

    base = scheduling_clinic(session, actor)
    fees = ensure_default_fee_schedule(session, actor)
    policy = save_billing_policy(
        session,
        actor,
        base.location.id,
        {"late_cancel_fee": "75.00", "no_show_fee": "150.00", "invoice_due_days": 30},
    )
    return BillingClinic(**vars(base), fees=fees, policy=policy)


def completed_iv_session(
    session: Session,
    clinic: SchedulingClinic,
    start: str = f"{SERVICE_DAY} 09:00",
    minutes: int | None = 100,
    *,
    key: str = "iv-induction",
    chair: Chair | None = None,
    patient: Patient | None = None,
    dose_mg: Decimal = Decimal("35.0"),
) -> TreatmentSession:
    """A completed IV infusion that ran ``minutes`` (None: the times were never recorded),
    started 10 minutes after the booked ``start`` (clinic time)."""
    begins = at(start)
    infusion_from = begins + timedelta(minutes=10)
    stopped = None if minutes is None else infusion_from + timedelta(minutes=minutes)
    return existing_session(
        session,
        patient or clinic.patient,
        clinic.protocols[key],
        chair or clinic.iv_chairs[0],
        clinic.provider,
        begins,
        status=SessionStatus.COMPLETED,
        checked_in_at=begins,
        dosed_at=infusion_from,
        infusion_started_at=None if minutes is None else infusion_from,
        infusion_stopped_at=stopped,
        dose_mg=dose_mg,
        route=Route.IV,
        lot_number="KET-1",
        discharged_at=(stopped or infusion_from) + timedelta(minutes=30),
    )


def completed_esketamine_session(
    session: Session,
    clinic: SchedulingClinic,
    start: str = f"{SERVICE_DAY} 09:00",
    dose_mg: Decimal | None = Decimal("56"),
    *,
    key: str = "esketamine-induction",
    chair: Chair | None = None,
) -> TreatmentSession:
    """A completed esketamine session with ``dose_mg`` recorded (None: no dose on file)."""
    begins = at(start)
    dosed = begins + timedelta(minutes=5)
    return existing_session(
        session,
        clinic.patient,
        clinic.protocols[key],
        chair or clinic.esketamine_chairs[0],
        clinic.provider,
        begins,
        status=SessionStatus.COMPLETED,
        checked_in_at=begins,
        dosed_at=None if dose_mg is None else dosed,
        dose_mg=dose_mg,
        route=None if dose_mg is None else Route.INTRANASAL,
        monitoring_from=dosed,
        discharged_at=dosed + timedelta(minutes=120),
    )


def ended_session(
    session: Session,
    clinic: SchedulingClinic,
    status: SessionStatus,
    start: str = f"{SERVICE_DAY} 09:00",
    *,
    key: str = "iv-induction",
    chair: Chair | None = None,
) -> TreatmentSession:
    """A session that ended without treatment: cancelled, late-cancelled or a no-show."""
    begins = at(start)
    return existing_session(
        session,
        clinic.patient,
        clinic.protocols[key],
        chair or clinic.iv_chairs[0],
        clinic.provider,
        begins,
        status=status,
        ended_at=begins - timedelta(hours=2),
        ended_reason=status.label,
        policy_window_hours=24,
    )


def captured(session: Session, actor: Actor, ts: TreatmentSession) -> list[Charge]:
    """The pending charges capture makes for ``ts``."""
    from ketadesk.billing.capture import capture_session

    return capture_session(session, actor, ts)


def posted_charges(session: Session, actor: Actor, ts: TreatmentSession) -> list[LedgerEntry]:
    """Capture ``ts``'s charges and post them all; return their ledger entries."""
    from ketadesk.billing.capture import capture_session
    from ketadesk.billing.review import post_charges
    from ketadesk.scheduling.floor import session_day

    charges = capture_session(session, actor, ts)
    return post_charges(session, actor, [c.id for c in charges], on=session_day(ts))


def ledger_charge(
    session: Session,
    clinic: BillingClinic,
    amount: str,
    on: date = date(2026, 12, 1),
    *,
    location: Location | None = None,
    patient: Patient | None = None,
    description: str = "",
) -> LedgerEntry:
    """A posted charge written straight to the ledger (a fee billing keyed in)."""
    return ledger.post(
        session,
        ADMIN,
        patient_id=(patient or clinic.patient).id,
        location_id=(location or clinic.location).id,
        kind=EntryKind.CHARGE,
        amount=money(amount),
        posted_on=on,
        description=description or f"Fee {amount}",
    )
