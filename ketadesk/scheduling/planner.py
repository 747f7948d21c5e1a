"""The series planner: every session of a series with a chair, a provider and a time.

:func:`plan_series` proposes a new series, :func:`plan_more` adds sessions to an existing
one (boosters, more maintenance). Both answer with a
:class:`~ketadesk.scheduling.proposals.SeriesPlan`; nothing is written — booking does that.

How a plan is made
------------------

1. **One load.** :func:`~ketadesk.scheduling.rules.load_context` reads the location's
   hours, closures, chairs, providers and the occupancy once, from the start day to the
   last wanted day plus :data:`HORIZON_DAYS` (where alternatives are looked for). Every
   check after that is in memory: candidates are tested with
   :func:`~ketadesk.scheduling.rules.slot_is_free`, which runs no query. Only what a plan
   reports is worded, and a session in the way is named by its reference and time
   (``S-12 (08:00–10:15)``) except the patient's own, named in full by one query each.

2. **The wanted day of each session.**

   * *Weekly pattern* (inductions): ``protocol.pattern`` gives the sessions of each
     consecutive week counted from ``start`` (week *i* is ``start + 7i`` …
     ``start + 7i + 6``). The *k* sessions of a week are spread over its days at
     ``floor(j * n / k)`` among the *n* days allowed — all seven (Mon/Wed/Fri for three,
     Mon/Thu for two), or only the patient's preferred weekdays.
   * *Interval* (open-ended maintenance): session *n* is wanted ``n * interval`` weeks after
     the first, on the same weekday; the interval is ``preferences.interval_weeks`` (one
     of ``protocol.interval_choices``, the first by default) and the count
     ``preferences.count`` (default :func:`default_count`).

3. **The allowed days.** A session may only go on a day of its window:

   * its own week of the pattern (interval protocols: up to
     :data:`INTERVAL_DRIFT_DAYS` either side of the wanted day, never before ``start``);
   * not before the previous placed session, and at most ``max_gap_days`` after it;
   * at most ``max_span_days`` after the first session of the series;
   * on a preferred weekday, when the patient gave any. Preferences (weekdays, time
     window, chair, provider) bind placement; only alternatives may break them.

   The days are tried from the wanted day forward to the window's end, then backward.
   On each day the start times are those inside the opening hours and the patient's
   time window (``preferences.earliest``/``latest``, local), on the quarter hour, nearest
   first to the series' steady time: the first session's local time (or
   ``preferences.earliest``), so 09:00 stays 09:00 across a daylight-saving change while
   spacing counts real elapsed hours (a Saturday→Monday gap over the spring change is 47 h).

4. **A slot** at a time needs the patient free (no other session, ``min_hours_between``
   from every other dose), a chair that hosts the modality and is free — the preferred
   chair, else the chair of the previous session, else the first by name — and a provider
   under their concurrent-chair limit: the preferred one, else the least loaded then.
   A placed session is held in the occupancy, so the plan never collides with itself.

5. **When the wanted time fails** — a holiday, a closure, no chair, no provider with
   room, spacing — the session takes the first valid slot of its window (another time
   that day, or another allowed day of the same week) and its ``problems`` say first where
   it was placed, then why the wanted time could not be used (``"Session 2 placed on Fri
   27 Nov 2026 at 08:00, in week 1 of the pattern, instead of the wanted Thu 26 Nov 2026
   at 08:00."``, ``"Thu 26 Nov 2026: KetaDesk NYC is closed — Thanksgiving Day (public
   holiday)."``; a reason about the time alone reads ``"At the wanted time: only 16 h
   45 min from …"``, so nobody takes it for a fault of the placed time).
   Such a plan is still bookable. When no day of the window works, ``slot`` is ``None``:
   the session is never moved outside its week, gap or span in silence, and the plan is
   not bookable until the user picks an alternative or another start.

6. **Alternatives**, once every session is placed: for each moved or unplaced session,
   the nearest valid slots to its wanted time (:func:`alternatives`) between the
   previous and the next placed session, so a choice keeps the series in order, and
   never before the start day. They may
   break the patient's preferences, the week and the gap, but never a rule of
   :func:`~ketadesk.scheduling.rules.slot_problems` (hours, chair, provider capacity, the
   patient elsewhere, spacing).

7. **Gates** (:func:`~ketadesk.scheduling.gates.booking_gates`) add blockers and warnings.
   A plan with blockers still lists its sessions, so the user sees the dates.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from math import ceil
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from ketadesk.access.permissions import Actor, Permission
from ketadesk.clinic.locations import WEEKDAY_NAMES
from ketadesk.clinic.models import Chair, Location, Modality, Patient, Provider
from ketadesk.errors import Conflict, FieldProblem, ValidationError
from ketadesk.scheduling.availability import Held
from ketadesk.scheduling.gates import booking_gates
from ketadesk.scheduling.models import Protocol, Series, SeriesStatus
from ketadesk.scheduling.proposals import Preferences, ProposedSession, SeriesPlan, Slot
from ketadesk.scheduling.rules import (
    PlanningContext,
    chair_problem,
    hours_problem,
    load_context,
    patient_problems,
    provider_problems,
    provider_unfit,
    slot_is_free,
)

STEP = timedelta(minutes=15)  # start times are tried on the quarter hour
HORIZON_DAYS = 14  # alternatives are looked for this many days either side
INTERVAL_DRIFT_DAYS = 3  # how far an interval session may move off its wanted day
MAX_COUNT = 52  # sessions of an interval protocol planned at once, at most
ALTERNATIVES = 3
NO_PREFERENCES = Preferences()  # "any day, any time, any chair and provider"


def default_count(protocol: Protocol) -> int:
    """Sessions of an interval protocol planned when the user gives no count.

    Esketamine maintenance books six visits ahead (REMS visits are weekly or every two
    weeks, so six cover one to three months); every other interval protocol — the IV
    booster — books a single session, as boosters are booked one at a time.
    """
    return 6 if protocol.modality is Modality.ESKETAMINE else 1


# ---------------------------------------------------------------------------------------
# Small date helpers
# ---------------------------------------------------------------------------------------


def week_days(week_start: date, weekdays: frozenset[int] = frozenset()) -> list[date]:
    """The days of the week beginning ``week_start``, only the preferred ones if given."""
    days = [week_start + timedelta(days=offset) for offset in range(7)]
    return [d for d in days if not weekdays or d.weekday() in weekdays]


def spread(days: Sequence[date], count: int) -> list[date]:
    """``count`` sessions spread over ``days``: ``days[floor(j * len(days) / count)]``.

    Over a whole week from Monday this gives Mon/Wed/Fri for three and Mon/Thu for two.
    With fewer days than sessions, days repeat (the later sessions then move or fail).
    """
    if not days:
        return []
    return [days[j * len(days) // count] for j in range(count)]


def day_order(wanted: date, first: date, last: date, weekdays: frozenset[int]) -> list[date]:
    """The days to try: from ``wanted`` forward to ``last``, then back to ``first``.

    Only preferred weekdays when any are given; empty when ``first`` is after ``last``.
    """
    allowed = [
        first + timedelta(days=n)
        for n in range((last - first).days + 1)
        if not weekdays or (first + timedelta(days=n)).weekday() in weekdays
    ]
    return [d for d in allowed if d >= wanted] + [d for d in reversed(allowed) if d < wanted]


def nearest_days(wanted: date, horizon: int) -> Iterator[date]:
    """``wanted``, then one day after, one before, two after, two before … ``horizon``."""
    yield wanted
    for distance in range(1, horizon + 1):
        yield wanted + timedelta(days=distance)
        yield wanted - timedelta(days=distance)


def _minutes(clock: time) -> int:
    return clock.hour * 60 + clock.minute


def _clock(minutes: int) -> time:
    return time(minutes // 60, minutes % 60)


def start_times(
    ctx: PlanningContext,
    day: date,
    earliest: time | None = None,
    latest: time | None = None,
    near: time | None = None,
) -> list[time]:
    """Local start times to try on ``day``: inside an opening interval with the whole chair
    time, inside ``earliest``…``latest``, on the quarter hour (plus ``earliest`` and
    ``near`` themselves); nearest to ``near`` first (earlier on a tie), else earliest first.
    """
    _reason, intervals = ctx.opening(day)
    length = ctx.protocol.chair_minutes
    step = int(STEP.total_seconds() // 60)
    found: set[int] = set()
    for interval in intervals:
        low = _minutes(interval.opens)
        high = _minutes(interval.closes) - length
        if earliest is not None:
            low = max(low, _minutes(earliest))
        if latest is not None:
            high = min(high, _minutes(latest))
        if low > high:
            continue
        found.update(range(ceil(low / step) * step, high + 1, step))
        extra = (low, _minutes(near) if near is not None else None)
        found.update(m for m in extra if m is not None and low <= m <= high)
    if near is None:
        return [_clock(m) for m in sorted(found)]
    target = _minutes(near)
    return [_clock(m) for m in sorted(found, key=lambda m: (abs(m - target), m))]


# ---------------------------------------------------------------------------------------
# Chairs, providers and one slot
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Staff:
    """The chairs and providers a search may use, in the order to try them."""

    chairs: tuple[Chair, ...]
    providers: tuple[Provider, ...]
    first_provider: int | None = None  # tried before the least loaded, when it has room

    def with_chair_first(self, chair_id: int | None) -> _Staff:
        if chair_id is None:
            return self
        first = [c for c in self.chairs if c.id == chair_id]
        rest = [c for c in self.chairs if c.id != chair_id]
        return _Staff((*first, *rest), self.providers, self.first_provider)


def _staff(ctx: PlanningContext, preferences: Preferences, *, strict: bool) -> _Staff:
    """Usable chairs and providers; ``strict`` keeps only the preferred ones when usable."""
    chairs = tuple(ctx.usable_chairs())
    providers = tuple(ctx.usable_providers())
    chosen_chairs = tuple(c for c in chairs if c.id == preferences.chair_id)
    chosen_providers = tuple(p for p in providers if p.id == preferences.provider_id)
    if strict:
        return _Staff(chosen_chairs or chairs, chosen_providers or providers)
    staff = _Staff(chairs, providers, preferences.provider_id)
    return staff.with_chair_first(preferences.chair_id)


def _preference_notes(ctx: PlanningContext, preferences: Preferences) -> list[str]:
    """Sentences for a preferred chair or provider that cannot take this protocol."""
    notes = []
    if preferences.chair_id is not None:
        problem = chair_problem(ctx, preferences.chair_id)
        if problem is not None:
            notes.append(_sentence(f"{problem.text}, so another chair was chosen"))
    if preferences.provider_id is not None:
        provider = ctx.providers.get(preferences.provider_id)
        unfit = (
            provider_unfit(provider, ctx.protocol)
            if provider is not None
            else f"the chosen provider does not work at {ctx.location.name}"
        )
        if unfit:
            notes.append(_sentence(f"{unfit}, so another provider was chosen"))
    return notes


def _least_loaded(
    ctx: PlanningContext, staff: _Staff, starts_at: datetime, ends_at: datetime
) -> Provider | None:
    """The first choice if it has room, else the provider with the lowest load then."""
    best: tuple[int, int, Provider] | None = None
    for rank, provider in enumerate(staff.providers):
        load = ctx.occupancy.provider_load(provider.id, starts_at, ends_at)
        if load >= provider.max_concurrent_chairs:
            continue
        if provider.id == staff.first_provider:
            return provider
        if best is None or (load, rank) < best[:2]:
            best = (load, rank, provider)
    return best[2] if best else None


def _slot_at(ctx: PlanningContext, starts_at: datetime, staff: _Staff) -> Slot | None:
    """A valid slot starting at ``starts_at`` with the staff's first free chair, or None."""
    ends_at = starts_at + ctx.chair_time
    occupancy, patient_id = ctx.occupancy, ctx.patient.id
    if occupancy.patient_conflict(patient_id, starts_at, ends_at) is not None:
        return None
    if occupancy.spacing_conflict(patient_id, starts_at, ctx.protocol.min_hours_between):
        return None
    chair = next(
        (c for c in staff.chairs if occupancy.chair_conflict(c.id, starts_at, ends_at) is None),
        None,
    )
    provider = _least_loaded(ctx, staff, starts_at, ends_at) if chair else None
    if chair is None or provider is None:
        return None
    if not slot_is_free(ctx, starts_at, chair.id, provider.id):
        return None
    return Slot(starts_at, ends_at, chair.id, chair.name, provider.id, provider.display_name)


def _after_all(starts_at: datetime, bounds: Iterable[datetime | None]) -> bool:
    return all(bound is None or starts_at > bound for bound in bounds)


def find_slot(
    ctx: PlanningContext,
    day: date,
    preferences: Preferences = NO_PREFERENCES,
    *,
    near: time | None = None,
    prefer_chair: int | None = None,
    after: datetime | None = None,
    now: datetime | None = None,
) -> Slot | None:
    """The first valid slot on local ``day`` within the preference window, or ``None``.

    "First" is the earliest start, or the start nearest ``near`` (local) when given. The
    patient's ``earliest``/``latest`` bound the start; ``chair_id`` and ``provider_id``
    restrict the search when they can take the protocol (otherwise they are ignored);
    ``prefer_chair`` is tried first. Weekday preferences are the caller's business. The
    slot starts after ``after`` (the previous session) and after ``now`` (default: now).
    """
    staff = _staff(ctx, preferences, strict=True).with_chair_first(prefer_chair)
    return _first_slot(ctx, day, preferences, staff, near, (after, now or datetime.now(UTC)))


def _first_slot(
    ctx: PlanningContext,
    day: date,
    preferences: Preferences,
    staff: _Staff,
    near: time | None,
    bounds: tuple[datetime | None, ...],
) -> Slot | None:
    for clock in start_times(ctx, day, preferences.earliest, preferences.latest, near):
        starts_at = ctx.instant(day, clock)
        if _after_all(starts_at, bounds):
            slot = _slot_at(ctx, starts_at, staff)
            if slot is not None:
                return slot
    return None


def alternatives(
    ctx: PlanningContext,
    wanted: datetime,
    *,
    limit: int = ALTERNATIVES,
    horizon_days: int = HORIZON_DAYS,
    after: datetime | None = None,
    before: datetime | None = None,
    preferences: Preferences = NO_PREFERENCES,
    now: datetime | None = None,
) -> tuple[Slot, ...]:
    """The valid slots nearest to ``wanted``: for the user to pick instead.

    The wanted local day first (several times, nearest the wanted clock first), then one
    slot per day: a day after, a day before, two after … up to ``horizon_days`` away.
    Slots obey every rule of :func:`~ketadesk.scheduling.rules.slot_problems` but may break
    the patient's preferences: the preferred chair and provider are only tried first.
    ``after``/``before`` keep the slot between two sessions (exclusive), ``now`` (default:
    now) keeps it in the future. ``ctx`` must hold the occupancy of that horizon.
    """
    staff = _staff(ctx, preferences, strict=False)
    local = ctx.local(wanted)
    bounds = (after, now or datetime.now(UTC))
    found: list[Slot] = []
    for day in nearest_days(local.date(), horizon_days):
        per_day = limit if day == local.date() else 1
        for clock in start_times(ctx, day, near=local.time()):
            starts_at = ctx.instant(day, clock)
            if not _after_all(starts_at, bounds) or (before and starts_at >= before):
                continue
            slot = _slot_at(ctx, starts_at, staff)
            if slot is not None:
                found.append(slot)
                per_day -= 1
                if len(found) == limit:
                    return tuple(found)
                if per_day == 0:
                    break
    return tuple(found)


# ---------------------------------------------------------------------------------------
# Placing the sessions of a plan
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Want:
    """One session to place: its wanted day and the window of days it may use."""

    number: int
    wanted: date
    first: date
    last: date
    window: str  # the window in words, e.g. "in week 2 of the pattern"


@dataclass
class _Draft:
    """A session being placed: the wanted instant, the slot found, what went wrong."""

    number: int
    wanted: datetime
    slot: Slot | None = None
    problems: list[str] = field(default_factory=list)
    alternatives: tuple[Slot, ...] = ()

    def held(self, patient_id: int) -> Held | None:
        if self.slot is None:
            return None
        slot = self.slot
        return Held(None, slot.chair_id, slot.provider_id, patient_id, slot.starts_at, slot.ends_at)


class _Planner:
    """Places sessions one after another, holding each, and words what went wrong."""

    def __init__(self, ctx: PlanningContext, preferences: Preferences, now: datetime) -> None:
        self.ctx = ctx
        self.preferences = preferences
        self.now = now
        self.staff = _staff(ctx, preferences, strict=True)
        self.notes = _preference_notes(ctx, preferences)
        self.steady: time | None = None
        self.drafts: list[_Draft] = []
        # The last placed session: of this plan, or the series' own when adding more.
        self.previous: Slot | None = None
        self.previous_start: datetime | None = None
        self.previous_day: date | None = None
        self.previous_number: int | None = None
        self.first_day: date | None = None  # of this plan, for the maximum span
        # Nothing of the plan goes before this: the start day, or the series' last session.
        self.not_before: datetime | None = None

    # -- placing --------------------------------------------------------------------------

    def place(self, want: _Want) -> _Draft:
        ctx = self.ctx
        near = self.steady or self.preferences.earliest
        wanted_day = min(max(want.wanted, want.first), want.last)
        draft = _Draft(want.number, ctx.instant(wanted_day, near or self._opening(wanted_day)))
        staff = self.staff.with_chair_first(self.previous.chair_id if self.previous else None)
        bounds = (self.previous_start, self.now)
        weekdays = self.preferences.weekdays
        for day in day_order(wanted_day, want.first, want.last, weekdays):
            draft.slot = _first_slot(ctx, day, self.preferences, staff, near, bounds)
            if draft.slot is not None:
                break
        self._explain(draft, want, staff)
        if draft.slot is not None:
            self._hold(draft)
        self.drafts.append(draft)
        return draft

    def _hold(self, draft: _Draft) -> None:
        held = draft.held(self.ctx.patient.id)
        if held is None:
            return
        self.ctx.occupancy.hold(held)
        local = self.ctx.local(held.starts_at)
        self.steady = self.steady or local.time()
        self.previous, self.previous_start = draft.slot, held.starts_at
        self.previous_day, self.previous_number = local.date(), draft.number
        self.first_day = self.first_day or local.date()

    def _opening(self, day: date) -> time:
        """A clock to name a wanted day by: its opening, or the weekday's usual opening."""
        _reason, intervals = self.ctx.opening(day)
        usual = [h.opens for h in self.ctx.location.hours if h.weekday == day.weekday()]
        return intervals[0].opens if intervals else min(usual, default=time(9))

    # -- wording -------------------------------------------------------------------------

    def _explain(self, draft: _Draft, want: _Want, staff: _Staff) -> None:
        slot, ctx = draft.slot, self.ctx
        if slot is not None:
            local = ctx.local(slot.starts_at)
            wanted_local = ctx.local(draft.wanted)
            same_day = local.date() == wanted_local.date() == want.wanted
            if same_day and (self.steady is None or local.time() == self.steady):
                return
            # What was placed comes first, then why the wanted time was not used, each
            # reason saying it is about the wanted time: the placed time is fine.
            wanted_text = _day_clock(wanted_local)
            if local.date() == wanted_local.date():
                placed = (
                    f"Session {draft.number} placed at {local:%H:%M} the same day, instead of "
                    f"the wanted {wanted_text}."
                )
            else:
                placed = (
                    f"Session {draft.number} placed on {_day_clock(local)}, {want.window}, "
                    f"instead of the wanted {wanted_text}."
                )
            draft.problems.append(placed)
            draft.problems.extend(self._why_not(draft.wanted, staff, want, placed=True))
            return
        if want.first <= want.last:
            draft.problems.extend(self._why_not(draft.wanted, staff, want))
        span = f"{_day(want.first)} to {_day(want.last)}" if want.first <= want.last else ""
        draft.problems.append(
            f"No valid time for session {draft.number} {want.window}"
            + (f" ({span})." if span else ".")
        )

    def _why_not(
        self, wanted: datetime, staff: _Staff, want: _Want, *, placed: bool = False
    ) -> list[str]:
        """Why ``wanted`` could not be used, in sentences (queries only to name sessions).

        With ``placed`` (the session went elsewhere) a reason about the time itself, which
        names no day, says it is about the wanted time.
        """
        ctx = self.ctx
        if wanted <= self.now:
            return [f"{_day_clock(ctx.local(wanted))} has already passed."]
        if want.wanted != ctx.local(wanted).date():
            if self.previous_day is not None and want.wanted <= self.previous_day:
                return [
                    f"{_day(want.wanted)} is not after session {self.previous_number} "
                    f"on {_day(self.previous_day)}."
                ]
            return [f"{_day(want.wanted)} is outside the days allowed {want.window}."]
        closed = hours_problem(ctx, wanted)
        if closed is not None:
            return [_sentence(closed.text)]
        ends_at = wanted + ctx.chair_time
        reasons = [p.text for p in patient_problems(ctx, wanted, ends_at)]
        reasons.extend(self._chairs_taken(wanted, ends_at, staff))
        reasons.extend(self._providers_busy(wanted, ends_at, staff))
        if self.previous_start is not None and wanted <= self.previous_start:
            reasons.append(f"it would come before session {self.previous_number}")
        if placed:
            return [_sentence(f"At the wanted time: {text}") for text in reasons] or [
                f"{_day_clock(ctx.local(wanted))} could not be used."
            ]
        return [_sentence(text) for text in reasons] or [
            f"{_day_clock(ctx.local(wanted))} could not be used."
        ]

    def _chairs_taken(self, wanted: datetime, ends_at: datetime, staff: _Staff) -> list[str]:
        """Every chair taken then, each named by the session in it (no query: by reference)."""
        taken = [
            (c, self.ctx.occupancy.chair_conflict(c.id, wanted, ends_at)) for c in staff.chairs
        ]
        if not taken or any(held is None for _chair, held in taken):
            return []
        named = [
            f"{chair.name} is taken by {self._reference(held)}" for chair, held in taken if held
        ]
        return [f"no chair is free then: {'; '.join(named)}"]

    def _reference(self, held: Held) -> str:
        """``S-12 (08:00–10:15)``: a session in the way, named without a query."""
        when = f"{self.ctx.local(held.starts_at):%H:%M}–{self.ctx.local(held.ends_at):%H:%M}"
        return f"S-{held.session_id} ({when})" if held.session_id else f"this plan ({when})"

    def _providers_busy(self, wanted: datetime, ends_at: datetime, staff: _Staff) -> list[str]:
        if not staff.providers or _least_loaded(self.ctx, staff, wanted, ends_at) is not None:
            return []
        busy = [
            p.text
            for provider in staff.providers
            for p in provider_problems(self.ctx, provider.id, wanted, ends_at)
        ]
        return [f"no provider has room then: {'; '.join(busy)}"]

    # -- alternatives ---------------------------------------------------------------------

    def add_alternatives(self) -> None:
        """Alternatives for every moved or unplaced session, between its placed neighbours."""
        patient_id = self.ctx.patient.id
        for index, draft in enumerate(self.drafts):
            if not draft.problems:
                continue
            before = next((d.slot for d in self.drafts[index + 1 :] if d.slot), None)
            after = next((d.slot for d in reversed(self.drafts[:index]) if d.slot), None)
            held = draft.held(patient_id)
            if held is not None:
                self.ctx.occupancy.release(held)
            found = alternatives(
                self.ctx,
                draft.wanted,
                limit=ALTERNATIVES + (1 if draft.slot else 0),
                after=after.starts_at if after else self.not_before,
                before=before.starts_at if before else None,
                preferences=self.preferences,
                now=self.now,
            )
            if held is not None:
                self.ctx.occupancy.hold(held)
            draft.alternatives = tuple(s for s in found if s != draft.slot)[:ALTERNATIVES]
            if draft.slot is None:
                draft.problems.append(self._what_now(index, draft.alternatives))

    def _what_now(self, index: int, found: tuple[Slot, ...]) -> str:
        """The last sentence of an unplaced session: pick an alternative, or why none."""
        if found:
            return "Choose one of the alternatives below, or another start date."
        after = next((d for d in reversed(self.drafts[:index]) if d.slot), None)
        before = next((d for d in self.drafts[index + 1 :] if d.slot), None)
        around = [
            f"{word} session {d.number} ({_day_clock(self.ctx.local(d.slot.starts_at))})"
            for word, d in (("after", after), ("before", before))
            if d is not None and d.slot is not None
        ]
        where = f" {' and '.join(around)}" if around else ""
        return (
            f"No other valid time lies within {HORIZON_DAYS} days{where} either; "
            "choose another start date."
        )

    def proposed(self) -> tuple[ProposedSession, ...]:
        notes = tuple(self.notes)
        return tuple(
            ProposedSession(d.number, d.slot, notes + tuple(d.problems), d.alternatives)
            for d in self.drafts
        )


def _sentence(text: str) -> str:
    text = text.strip()
    text = text[:1].upper() + text[1:]
    return text if text.endswith(".") else text + "."


def _day(day: date) -> str:
    return f"{day:%a %d %b %Y}"


def _day_clock(moment: datetime) -> str:
    return f"{moment:%a %d %b %Y} at {moment:%H:%M}"


# ---------------------------------------------------------------------------------------
# Shapes of a series: weekly pattern or interval
# ---------------------------------------------------------------------------------------


def _check_preferences(preferences: Preferences) -> list[FieldProblem]:
    problems = []
    if any(not 0 <= day <= 6 for day in preferences.weekdays):
        problems.append(FieldProblem("weekdays", "weekdays run from 0 (Monday) to 6 (Sunday)"))
    early, late = preferences.earliest, preferences.latest
    if early is not None and late is not None and late < early:
        problems.append(
            FieldProblem("latest", f"{late:%H:%M} is before the earliest time {early:%H:%M}")
        )
    return problems


def _interval(protocol: Protocol, preferences: Preferences, series_interval: int | None) -> int:
    choices = protocol.interval_choices
    chosen = preferences.interval_weeks or series_interval or choices[0]
    if chosen not in choices:
        offered = ", ".join(str(c) for c in choices)
        raise ValidationError.single(
            "interval_weeks",
            f"every {chosen} weeks is not offered for {protocol.name}; choose {offered} weeks",
        )
    return chosen


def _count(protocol: Protocol, count: int | None) -> int:
    count = default_count(protocol) if count is None else count
    if not 1 <= count <= MAX_COUNT:
        raise ValidationError.single(
            "count", f"{count} sessions cannot be planned; choose 1 to {MAX_COUNT}"
        )
    return count


def _shape_problem(protocol: Protocol) -> None:
    if not protocol.pattern and not protocol.interval_choices:
        raise ValidationError.single(
            "protocol",
            f"{protocol.name} has neither a weekly pattern nor interval choices; "
            "set one in Settings → Protocols before planning it",
        )


def _weekly_wants(
    planner: _Planner, pattern: Sequence[int], start: date, first_number: int, span: bool
) -> None:
    """Place the sessions of a weekly pattern, week by week."""
    weekdays = planner.preferences.weekdays
    number = first_number
    for week, count in enumerate(pattern):
        week_start = start + timedelta(days=7 * week)
        window = f"in week {week + 1} of the pattern"
        for wanted in spread(week_days(week_start, weekdays), count):
            last = week_start + timedelta(days=6)
            planner.place(_bounded(planner, number, wanted, week_start, last, window, span))
            number += 1


def _interval_wants(
    planner: _Planner, interval: int, count: int, start: date, first_number: int
) -> None:
    """Place ``count`` sessions ``interval`` weeks apart on one weekday.

    The weekday is ``start``'s, or the first preferred weekday from ``start``; each
    session is wanted ``n * interval`` weeks after that first day, so one moved session
    does not drag the others.
    """
    anchor = week_days(start, planner.preferences.weekdays)[0]
    drift = timedelta(days=INTERVAL_DRIFT_DAYS)
    every = "every week" if interval == 1 else f"every {interval} weeks"
    window = f"within {INTERVAL_DRIFT_DAYS} days of {every}"
    for n in range(count):
        wanted = anchor + timedelta(weeks=interval * n)
        first = start if n == 0 else wanted - drift
        planner.place(
            _bounded(planner, first_number + n, wanted, first, wanted + drift, window, False)
        )


def _bounded(
    planner: _Planner,
    number: int,
    wanted: date,
    first: date,
    last: date,
    window: str,
    span: bool,
) -> _Want:
    """The days ``first`` … ``last`` cut by order, the maximum gap and (``span``) span."""
    protocol = planner.ctx.protocol
    if planner.previous_day is not None:
        first = max(first, planner.previous_day)
        if protocol.max_gap_days is not None:
            gap_end = planner.previous_day + timedelta(days=protocol.max_gap_days)
            if gap_end < last:
                last = gap_end
                window += (
                    f", at most {protocol.max_gap_days} days after session "
                    f"{planner.previous_number}"
                )
    if span and planner.first_day is not None and protocol.max_span_days is not None:
        span_end = planner.first_day + timedelta(days=protocol.max_span_days)
        if span_end < last:
            last = span_end
            window += f", within {protocol.max_span_days} days of the first session"
    if planner.preferences.weekdays:
        names = ", ".join(WEEKDAY_NAMES[d][:3] for d in sorted(planner.preferences.weekdays))
        window += f", on the preferred days ({names})"
    return _Want(number, wanted, first, last, window)


# ---------------------------------------------------------------------------------------
# The services
# ---------------------------------------------------------------------------------------


def plan_series(
    session: Session,
    actor: Actor,
    patient: Patient,
    protocol: Protocol,
    location: Location,
    start: date,
    preferences: Preferences = NO_PREFERENCES,
    *,
    now: datetime | None = None,
) -> SeriesPlan:
    """Propose every session of a new series of ``protocol`` from local day ``start``.

    Needs :data:`Permission.SCHEDULE_VIEW`. Raises :class:`ValidationError` for a ``start``
    before the location's today, bad preferences (``weekdays``, ``latest``,
    ``interval_weeks``, ``count``) or a protocol with no spacing shape. ``now`` (UTC-aware,
    default now) keeps sessions in the future.
    For a weekly-pattern protocol the pattern gives the count, so ``preferences.count``
    and ``preferences.interval_weeks`` are not used.
    """
    actor.require(Permission.SCHEDULE_VIEW)
    now = now or datetime.now(UTC)
    _refuse_past_start(location, start, now)
    problems = _check_preferences(preferences)
    if problems:
        raise ValidationError(problems)
    _shape_problem(protocol)
    interval = None if protocol.pattern else _interval(protocol, preferences, None)
    count = _count(protocol, preferences.count) if interval else sum(protocol.pattern)
    days = 7 * len(protocol.pattern) if not interval else 7 * interval * count
    planner = _new_planner(session, patient, protocol, location, start, days, preferences, now)
    if interval:
        _interval_wants(planner, interval, count, start, 1)
    else:
        _weekly_wants(planner, protocol.pattern, start, 1, True)
    return _finish(planner, interval, 1, None, start)


def plan_more(
    session: Session,
    actor: Actor,
    series: Series,
    count: int,
    preferences: Preferences = NO_PREFERENCES,
    *,
    start: date | None = None,
    now: datetime | None = None,
) -> SeriesPlan:
    """Propose ``count`` more sessions for ``series`` (boosters, more maintenance).

    Numbering continues after the series' highest number. Spacing counts from the series'
    last session holding a chair: an interval protocol's next session is wanted one
    interval after it (the series' interval unless ``preferences.interval_weeks`` says
    otherwise); a weekly pattern continues at the rhythm of its last week (one a week
    for the esketamine induction, three for IV), from the day after the last session.
    ``start`` overrides that first wanted day. ``max_gap_days`` counts from the last
    session; ``max_span_days`` does not apply, since more sessions extend the series.

    Raises :class:`Conflict` for a discontinued series and :class:`ValidationError` for
    ``count`` outside 1…:data:`MAX_COUNT`.
    """
    actor.require(Permission.SCHEDULE_VIEW)
    if series.status is SeriesStatus.DISCONTINUED:
        raise Conflict(
            f"This series of {series.protocol.name} was discontinued"
            + (f" ({series.discontinued_reason})" if series.discontinued_reason else "")
            + "; start a new series instead of adding sessions."
        )
    now = now or datetime.now(UTC)
    if start is not None:
        _refuse_past_start(series.location, start, now)
    problems = _check_preferences(preferences)
    if problems:
        raise ValidationError(problems)
    protocol = series.protocol
    _shape_problem(protocol)
    count = _count(protocol, count)
    interval = (
        _interval(protocol, preferences, series.interval_weeks) if not protocol.pattern else None
    )
    last = _last_holding(series)
    zone_day = _local_day(series.location, last or now)
    if start is None:  # after the last session, or from today when none holds a chair
        step = timedelta(weeks=interval) if interval else timedelta(days=1)
        start = zone_day + step if last is not None else zone_day
    rhythm = protocol.pattern[-1] if protocol.pattern else 1
    weeks = [min(rhythm, count - done) for done in range(0, count, rhythm)]
    days = 7 * interval * count if interval else 7 * len(weeks)
    planner = _new_planner(
        session, series.patient, protocol, series.location, start, days, preferences, now
    )
    first_number = max((s.number for s in series.sessions), default=0) + 1
    if last is not None:
        planner.previous_start = last
        planner.not_before = max(last, planner.not_before or last)
        planner.previous_day = zone_day
        planner.previous_number = first_number - 1
    if interval:
        _interval_wants(planner, interval, count, start, first_number)
    else:
        _weekly_wants(planner, weeks, start, first_number, False)
    return _finish(planner, interval, first_number, series.id, start)


def _refuse_past_start(location: Location, start: date, now: datetime) -> None:
    """A plan starting on a day already gone is refused as a whole, in one sentence,
    instead of proposing every session with "has already passed" under it."""
    today = _local_day(location, now)
    if start < today:
        raise ValidationError.single(
            "start",
            f"{_day(start)} has already passed at {location.name}; "
            f"start on {_day(today)} or later",
        )


def _last_holding(series: Series) -> datetime | None:
    starts = [s.starts_at for s in series.sessions if s.status.holds_chair]
    return max(starts, default=None)


def _local_day(location: Location, moment: datetime) -> date:
    return moment.astimezone(ZoneInfo(location.time_zone)).date()


def _new_planner(
    session: Session,
    patient: Patient,
    protocol: Protocol,
    location: Location,
    start: date,
    days: int,
    preferences: Preferences,
    now: datetime,
) -> _Planner:
    """One load of everything the plan needs: from the start day to the alternatives'
    horizon after the last wanted day, with a week to spare for interval drift
    (alternatives never go before the start)."""
    zone = ZoneInfo(location.time_zone)
    first = datetime.combine(start, time(), tzinfo=zone)
    last = datetime.combine(start + timedelta(days=days + HORIZON_DAYS + 7), time(), tzinfo=zone)
    ctx = load_context(session, patient, protocol, location, first, last)
    planner = _Planner(ctx, preferences, now)
    planner.not_before = first.astimezone(UTC)
    return planner


def _finish(
    planner: _Planner, interval: int | None, first_number: int, series_id: int | None, start: date
) -> SeriesPlan:
    ctx = planner.ctx
    planner.add_alternatives()
    blockers: list[str] = []
    if not planner.staff.chairs:
        blockers.append(
            f"No chair at {ctx.location.name} can host {Modality(ctx.protocol.modality).label}."
        )
    if not planner.staff.providers:
        blockers.append(f"No provider at {ctx.location.name} may supervise {ctx.protocol.name}.")
    days = [ctx.local(d.slot.starts_at if d.slot else d.wanted).date() for d in planner.drafts]
    gate_blockers, warnings = booking_gates(
        ctx.session,
        ctx.patient,
        ctx.protocol,
        ctx.location,
        min(days, default=start),
        days,
        today=ctx.local(planner.now).date(),
        series_id=series_id,
    )
    return SeriesPlan(
        patient_id=ctx.patient.id,
        protocol_id=ctx.protocol.id,
        location_id=ctx.location.id,
        time_zone=ctx.location.time_zone,
        interval_weeks=interval,
        sessions=planner.proposed(),
        blockers=(*blockers, *gate_blockers),
        warnings=warnings,
        first_number=first_number,
        series_id=series_id,
    )
