"""The desk's actions on sessions, with the Good Faith Estimate kept true: one home for each.

Booking or changing a session changes what a self-pay series is expected to cost, and the
No Surprises Act wants the estimate the patient holds to say so. Scheduling cannot reach up
to billing, so every face (the window, the command line) calls these functions instead of
the scheduling services, and each one, inside the caller's one transaction:

1. does the scheduling part — :func:`ketadesk.scheduling.booking.book_series` or
   :func:`~ketadesk.scheduling.booking.book_session`,
   :func:`ketadesk.scheduling.changes.move_session`,
   :func:`~ketadesk.scheduling.changes.shift_rest`,
   :func:`~ketadesk.scheduling.changes.cancel_session` or
   :func:`~ketadesk.scheduling.changes.record_no_show` — with its checks, locks and audit
   rows; a refusal raises before anything else is written;
2. refreshes the series' estimate (:func:`ketadesk.billing.estimates.refresh_estimates`,
   for that series only): drafted for a new self-pay series, re-drafted naming the change
   when the sessions, dates or provider changed, withdrawn when nothing is left; untouched
   for an insured patient or when nothing the estimate states changed;
3. returns a frozen result: the rows changed and the :class:`EstimateDrafted` the desk
   should hand to the patient, or ``None`` when no new estimate was drafted.

The clock is the caller's: ``now`` (UTC-aware) decides what is in the past, whether a
cancellation is late, and — read in the location's time zone — the estimate's date and its
deadline. Faces pass the real clock; tests state their time. Nothing here commits.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from ketadesk.access.permissions import Actor
from ketadesk.billing.estimates import refresh_estimates
from ketadesk.billing.models import Estimate
from ketadesk.clinic.models import Chair, Location, Patient, Provider
from ketadesk.errors import NotFound, ValidationError
from ketadesk.scheduling import booking, changes
from ketadesk.scheduling.changes import CancelResult
from ketadesk.scheduling.models import Protocol, Series, TreatmentSession
from ketadesk.scheduling.proposals import SeriesPlan

__all__ = [
    "Booked",
    "Cancelled",
    "EstimateDrafted",
    "Moved",
    "book_series",
    "book_session",
    "cancel_session",
    "move_session",
    "record_no_show",
    "shift_rest",
    "shift_rest_by",
]

MAX_SHIFT_DAYS = 366  # a shift of the rest of a series: up to a year either way


@dataclass(frozen=True)
class EstimateDrafted:
    """A Good Faith Estimate an action drafted: ``replaces`` names the one it superseded
    (``None`` for a first estimate), ``reason`` the change in words; ``give_by`` is the
    deadline to give it to the patient (``None`` when the first session is too close for
    one)."""

    number: str
    total: Decimal
    give_by: date | None
    replaces: str | None
    reason: str

    @property
    def sentence(self) -> str:
        """``"Good Faith Estimate GFE-2026-00012 drafted ($2,400.00); give it … by …."``"""
        due = (
            f"give it to the patient by {self.give_by:%a %d %b %Y}"
            if self.give_by
            else "the first session is under 3 business days away, so no deadline applies"
        )
        verb = f"re-drafted ({self.reason})" if self.replaces else "drafted"
        return f"Good Faith Estimate {self.number} {verb} (${self.total:,}); {due}."


@dataclass(frozen=True)
class Booked:
    """A booking: the series and the sessions this booking added, in order."""

    series: Series
    sessions: tuple[TreatmentSession, ...]
    estimate: EstimateDrafted | None


@dataclass(frozen=True)
class Moved:
    """A move or a shift: the sessions moved, in order of time."""

    sessions: tuple[TreatmentSession, ...]
    estimate: EstimateDrafted | None


@dataclass(frozen=True)
class Cancelled:
    """A cancellation (see :class:`~ketadesk.scheduling.changes.CancelResult`)."""

    result: CancelResult
    estimate: EstimateDrafted | None


def book_series(
    session: Session,
    actor: Actor,
    plan: SeriesPlan,
    *,
    now: datetime,
    acknowledged: Collection[str] = (),
) -> Booked:
    """Book every session of ``plan`` or none, then draft the series' estimate.

    Raises what :func:`ketadesk.scheduling.booking.book_series` raises: a plan that cannot
    be booked (hard stops, sessions without a time, no sessions) as
    :class:`~ketadesk.errors.ValidationError` under the field ``booking``, warnings not in
    ``acknowledged`` as :class:`~ketadesk.errors.Unacknowledged`, a session in the way as
    :class:`~ketadesk.errors.SlotTaken`.
    """
    series = booking.book_series(session, actor, plan, acknowledged, now=now)
    added = sorted(
        (s for s in series.sessions if s.number >= plan.first_number), key=lambda s: s.number
    )
    return Booked(series, tuple(added), _refresh(session, actor, series.id, series.location, now))


def book_session(
    session: Session,
    actor: Actor,
    patient: Patient,
    protocol: Protocol,
    chair: Chair,
    starts_at: datetime,
    *,
    now: datetime,
    provider: Provider | None = None,
    acknowledged: Collection[str] = (),
) -> Booked:
    """Book one session (a series of one) in ``chair``, then draft its estimate."""
    row = booking.book_session(
        session,
        actor,
        patient,
        protocol,
        chair,
        starts_at,
        provider=provider,
        acknowledged=acknowledged,
        now=now,
    )
    estimate = _refresh(session, actor, row.series_id, row.location, now)
    return Booked(row.series, (row,), estimate)


def move_session(
    session: Session,
    actor: Actor,
    session_id: int,
    starts_at: datetime,
    *,
    now: datetime,
    chair_id: int | None = None,
    provider_id: int | None = None,
    expected_version: int | None = None,
) -> Moved:
    """Move one session (see :func:`ketadesk.scheduling.changes.move_session`), then
    re-draft the series' estimate when its dates or provider changed."""
    row = changes.move_session(
        session,
        actor,
        session_id,
        starts_at,
        chair_id=chair_id,
        provider_id=provider_id,
        expected_version=expected_version,
        now=now,
    )
    return Moved((row,), _refresh(session, actor, row.series_id, row.location, now))


def shift_rest(
    session: Session, actor: Actor, session_id: int, starts_at: datetime, *, now: datetime
) -> Moved:
    """Move a session to ``starts_at`` and every later one of its series still ahead by the
    same local amount (see :func:`ketadesk.scheduling.changes.shift_rest`), then re-draft
    the estimate."""
    rows = changes.shift_rest(session, actor, session_id, starts_at, now=now)
    first = rows[0]
    return Moved(tuple(rows), _refresh(session, actor, first.series_id, first.location, now))


def shift_rest_by(
    session: Session, actor: Actor, session_id: int, days: int, *, now: datetime
) -> Moved:
    """:func:`shift_rest` by ``days`` whole days of local time (negative: earlier).

    Raises :class:`~ketadesk.errors.ValidationError` on ``days`` for 0 or more than
    :data:`MAX_SHIFT_DAYS` either way, :class:`~ketadesk.errors.NotFound` for no session.
    """
    if days == 0 or abs(days) > MAX_SHIFT_DAYS:
        raise ValidationError.single(
            "days",
            f"move by a whole number of days from -{MAX_SHIFT_DAYS} to {MAX_SHIFT_DAYS}, not "
            f"{days}",
        )
    row = session.get(TreatmentSession, session_id)
    if row is None:
        raise NotFound(f"there is no session S-{session_id}")
    zone = ZoneInfo(row.location.time_zone)
    starts_at = changes.shifted(row.starts_at, timedelta(days=days), zone)
    return shift_rest(session, actor, session_id, starts_at, now=now)


def cancel_session(
    session: Session, actor: Actor, session_id: int, reason: str, *, now: datetime
) -> Cancelled:
    """Cancel a session with a reason (late inside the location's window), then re-draft
    the estimate without it."""
    result = changes.cancel_session(session, actor, session_id, reason, now=now)
    row = result.session
    return Cancelled(result, _refresh(session, actor, row.series_id, row.location, now))


def record_no_show(
    session: Session, actor: Actor, session_id: int, *, now: datetime
) -> Moved:
    """Record that the patient did not come, then re-draft the estimate without the
    session."""
    row = changes.record_no_show(session, actor, session_id, now=now)
    return Moved((row,), _refresh(session, actor, row.series_id, row.location, now))


def _refresh(
    session: Session, actor: Actor, series_id: int, location: Location, now: datetime
) -> EstimateDrafted | None:
    """Refresh the series' estimate on the location's today; the new draft, if any."""
    today = now.astimezone(ZoneInfo(location.time_zone)).date()
    drafted = refresh_estimates(session, actor, today=today, series_id=series_id)
    if not drafted:
        return None
    estimate = drafted[-1]
    previous = (
        session.get(Estimate, estimate.supersedes_id)
        if estimate.supersedes_id is not None
        else None
    )
    return EstimateDrafted(
        number=estimate.number,
        total=estimate.total,
        give_by=estimate.give_by,
        replaces=previous.number if previous is not None else None,
        reason=estimate.redraft_reason,
    )

