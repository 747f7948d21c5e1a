"""Changes to booked sessions: move one, shift the rest of a series, cancel, no-show.

Every session of a series is its own row, so a change touches only the sessions it names:

* :func:`move_session` moves one session (time, and optionally chair or provider). It
  takes the same locks and runs the same checks as booking
  (:func:`ketadesk.scheduling.booking.check_slots`), with the session itself left out of
  the occupancy, so spacing is checked against the series' other sessions. A confirmed
  session goes back to *scheduled*: the patient confirmed the old time, not the new one.
* :func:`shift_rest` moves a session and every later session of its series still ahead
  by the same local wall-clock amount (days plus the change of local time), so 09:00
  stays 09:00 across a daylight-saving change and the series keeps its spacing. All or
  nothing; a refusal lists the first problem of each session that cannot move.
* :func:`cancel_session` ends a session with a reason, *late-cancelled* when inside the
  location's ``late_cancel_hours`` before the start (the window is recorded for billing's
  fee), and returns the waitlist entries that could take the freed slot.
* :func:`record_no_show` ends a session the patient did not come to, after its start.

Each change adds a :class:`SessionStep` (what, when, who, a note) and an audit row with
before and after, in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from ketadesk.access import audit
from ketadesk.access.permissions import Actor, Permission
from ketadesk.errors import Conflict, NotFound, StaleEdit
from ketadesk.scheduling.booking import (
    Wanted,
    as_instant,
    chair_backstop,
    check_slots,
    lock_for_booking,
    refuse,
)
from ketadesk.scheduling.models import SessionStatus, SessionStep, TreatmentSession
from ketadesk.scheduling.rules import PlanningContext, load_context
from ketadesk.scheduling.series import AHEAD, refresh_series_status, required_reason
from ketadesk.scheduling.waitlist import WaitlistOffer, offers_for_slot

# A session may be cancelled until it is dosed (a failed pre-dose checklist cancels it).
CANCELLABLE = AHEAD | {SessionStatus.CHECKED_IN}
# A single session may be moved until it is dosed: a failed pre-dose checklist reschedules
# it, and the moved session starts over as scheduled.
MOVABLE = AHEAD | {SessionStatus.CHECKED_IN}


@dataclass(frozen=True)
class CancelResult:
    """The cancelled session, whether it was late, and who on the waitlist could take it."""

    session: TreatmentSession
    late: bool
    offers: tuple[WaitlistOffer, ...]


def move_session(
    session: Session,
    actor: Actor,
    session_id: int,
    starts_at: datetime,
    *,
    chair_id: int | None = None,
    provider_id: int | None = None,
    expected_version: int | None = None,
    now: datetime,
) -> TreatmentSession:
    """Move one session not yet dosed to ``starts_at`` (and chair, provider).

    A confirmed or checked-in session (sent home after a failed pre-dose checklist) goes
    back to scheduled.

    Raises :class:`SlotTaken` naming the session in the way, :class:`ValidationError`
    (fields ``starts_at``, ``chair``, ``provider``) for other broken rules,
    :class:`StaleEdit` when the session changed since version ``expected_version``.
    """
    actor.require(Permission.SCHEDULE_BOOK)
    ts = _load(session, session_id)
    _require(ts, MOVABLE, "moved")
    if expected_version is not None and ts.version != expected_version:
        raise _stale(ts)
    want = Wanted(
        ts.reference,
        as_instant(starts_at),
        chair_id if chair_id is not None else ts.chair_id,
        provider_id if provider_id is not None else ts.provider_id,
        ts.id,
    )
    if (want.starts_at, want.chair_id, want.provider_id) == (
        ts.starts_at,
        ts.chair_id,
        ts.provider_id,
    ):
        return ts
    ctx = _context(session, ts, [want])
    refuse(ctx, check_slots(ctx, [want], now=now), by_rule=True)
    _apply(session, actor, ctx, [(ts, want)], "", now)
    return ts


def shift_rest(
    session: Session,
    actor: Actor,
    session_id: int,
    starts_at: datetime,
    *,
    now: datetime,
) -> list[TreatmentSession]:
    """Move this session to ``starts_at`` and every later one still ahead alike.

    The shift is in local wall-clock terms, so each session keeps its local time of day
    (plus the same change) across daylight-saving changes. Returns the moved sessions in
    order. Refused as a whole (:class:`SlotTaken` or :class:`ValidationError`) listing the
    first problem of each session that cannot move.
    """
    actor.require(Permission.SCHEDULE_BOOK)
    ts = _load(session, session_id)
    _require(ts, AHEAD, "moved")
    zone = ZoneInfo(ts.location.time_zone)
    delta = _wall(as_instant(starts_at), zone) - _wall(ts.starts_at, zone)
    rest = _later_ahead(session, ts)
    if not delta:
        return rest
    wanted = [
        Wanted(
            f"{s.reference} (session {s.number})",
            shifted(s.starts_at, delta, zone),
            s.chair_id,
            s.provider_id,
            s.id,
        )
        for s in rest
    ]
    ctx = _context(session, ts, wanted)
    refuse(ctx, check_slots(ctx, wanted, now=now), first_per_slot=True)
    moves = list(zip(rest, wanted, strict=True))
    # Later sessions first when moving later (and earlier first when moving earlier), so
    # no row passes through a slot another row of the series still holds.
    if delta > timedelta(0):
        moves.reverse()
    _apply(session, actor, ctx, moves, " (with the rest of the series)", now)
    return rest


def cancel_session(
    session: Session,
    actor: Actor,
    session_id: int,
    reason: str,
    *,
    now: datetime,
) -> CancelResult:
    """Cancel a session not yet dosed, with a reason; the chair is free again at once.

    Late (``LATE_CANCELLED``, with ``policy_window_hours``) when ``now`` is within the
    location's ``late_cancel_hours`` before the start. ``offers`` are the waitlist
    entries that could take the freed slot (none when the slot has already begun).
    """
    actor.require(Permission.SCHEDULE_BOOK)
    reason = required_reason(reason, "say why the session is cancelled")
    now = as_instant(now, "now")
    ts = _load(session, session_id)
    _require(ts, CANCELLABLE, "cancelled")
    window = ts.location.late_cancel_hours
    late = now >= ts.starts_at - timedelta(hours=window)
    status = SessionStatus.LATE_CANCELLED if late else SessionStatus.CANCELLED
    _end(session, actor, ts, status, reason, now, window if late else None)
    offers: tuple[WaitlistOffer, ...] = ()
    if ts.starts_at > now:
        offers = offers_for_slot(
            session, ts.location_id, ts.modality, ts.starts_at, exclude_patient_id=ts.patient_id
        )
    return CancelResult(session=ts, late=late, offers=offers)


def record_no_show(
    session: Session, actor: Actor, session_id: int, *, now: datetime
) -> TreatmentSession:
    """Record that the patient did not come, once the session's start has passed."""
    actor.require(Permission.SESSION_ARRIVAL)
    now = as_instant(now, "now")
    ts = _load(session, session_id)
    _require(ts, AHEAD, "recorded as a no-show")
    if now < ts.starts_at:
        zone = ZoneInfo(ts.location.time_zone)
        raise Conflict(
            f"{ts.reference} starts at {ts.starts_at.astimezone(zone):%a %d %b %Y %H:%M}; "
            "a no-show can be recorded only after that"
        )
    window = ts.location.late_cancel_hours
    _end(session, actor, ts, SessionStatus.NO_SHOW, "no-show", now, window)
    return ts


def _load(session: Session, session_id: int) -> TreatmentSession:
    ts = session.get(TreatmentSession, session_id)
    if ts is None:
        raise NotFound(f"there is no session S-{session_id}")
    return ts


def _require(ts: TreatmentSession, allowed: frozenset[SessionStatus], what: str) -> None:
    if ts.status not in allowed:
        raise Conflict(
            f"{ts.reference} is {SessionStatus(ts.status).label.lower()} and can no longer "
            f"be {what}"
        )


def _stale(ts: TreatmentSession) -> StaleEdit:
    return StaleEdit(
        f"{ts.reference} was changed by someone else after you opened it; "
        "reload the schedule and try again"
    )


def _later_ahead(session: Session, ts: TreatmentSession) -> list[TreatmentSession]:
    later = session.scalars(
        select(TreatmentSession)
        .where(
            TreatmentSession.series_id == ts.series_id,
            TreatmentSession.id != ts.id,
            TreatmentSession.status.in_(AHEAD),
            TreatmentSession.starts_at > ts.starts_at,
        )
        .order_by(TreatmentSession.starts_at)
    ).all()
    return [ts, *later]


def _wall(moment: datetime, zone: ZoneInfo) -> datetime:
    """The local wall-clock reading of ``moment``, without its zone."""
    return moment.astimezone(zone).replace(tzinfo=None)


def shifted(moment: datetime, delta: timedelta, zone: ZoneInfo) -> datetime:
    """``moment`` moved by ``delta`` of local wall-clock time, as a UTC instant."""
    return (_wall(moment, zone) + delta).replace(tzinfo=zone).astimezone(UTC)


def _context(session: Session, ts: TreatmentSession, wanted: Sequence[Wanted]) -> PlanningContext:
    """Lock the chairs and the patient, then load the occupancy without the moved rows."""
    lock_for_booking(session, [w.chair_id for w in wanted], patient_ids=[ts.patient_id])
    protocol = ts.series.protocol
    chair_time = timedelta(minutes=protocol.chair_minutes)
    return load_context(
        session,
        ts.patient,
        protocol,
        ts.location,
        min(w.starts_at for w in wanted),
        max(w.starts_at for w in wanted) + chair_time,
        ignore=[w.session_id for w in wanted if w.session_id is not None],
    )


def _apply(
    session: Session,
    actor: Actor,
    ctx: PlanningContext,
    moves: Sequence[tuple[TreatmentSession, Wanted]],
    note_suffix: str,
    now: datetime,
) -> None:
    before = {ts.id: audit.snapshot(ts) for ts, _want in moves}
    notes = {ts.id: f"moved from {_place(ctx, ts)}{note_suffix}" for ts, _want in moves}
    wanted = [want for _ts, want in moves]
    try:
        with chair_backstop(session, wanted, ctx.chair_time, ctx.location.time_zone):
            for ts, want in moves:
                _move_row(ts, want, ctx.chair_time)
                session.flush()
    except StaleDataError:
        raise _stale(moves[0][0]) from None
    for ts, _want in moves:
        step = SessionStep(
            session_id=ts.id, status=ts.status, at=now, actor=actor.username, note=notes[ts.id]
        )
        session.add(step)
        audit.record_update(session, actor, "session", ts.id, before[ts.id], audit.snapshot(ts))
    session.flush()


def _move_row(ts: TreatmentSession, want: Wanted, chair_time: timedelta) -> None:
    ts.starts_at = want.starts_at
    ts.ends_at = want.starts_at + chair_time
    ts.chair_id = want.chair_id
    ts.provider_id = want.provider_id
    if ts.status is SessionStatus.CONFIRMED:
        ts.status = SessionStatus.SCHEDULED
        ts.confirmed_at = None
    if ts.status is SessionStatus.CHECKED_IN:  # sent home undosed: arrives again later
        ts.status = SessionStatus.SCHEDULED
        ts.confirmed_at = ts.checked_in_at = ts.checklist_passed_at = None
        ts.fasting_confirmed = False


def _place(ctx: PlanningContext, ts: TreatmentSession) -> str:
    chair = ctx.chairs.get(ts.chair_id)
    where = f" in {chair.name}" if chair else ""
    return f"{ctx.local(ts.starts_at):%a %d %b %Y %H:%M}{where}"


def _end(
    session: Session,
    actor: Actor,
    ts: TreatmentSession,
    status: SessionStatus,
    reason: str,
    now: datetime,
    window: int | None,
) -> None:
    before = audit.snapshot(ts)
    ts.status = status
    ts.ended_at = now
    ts.ended_reason = reason
    ts.policy_window_hours = window
    session.add(
        SessionStep(session_id=ts.id, status=status, at=now, actor=actor.username, note=reason)
    )
    try:
        session.flush()
    except StaleDataError:
        raise _stale(ts) from None
    audit.record_update(session, actor, "session", ts.id, before, audit.snapshot(ts))
    refresh_series_status(session, ts.series)
