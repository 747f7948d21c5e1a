"""The demo's scheduling history holds every rule a booked session must hold.

Sessions are placed by the generator's own in-memory allocator, not by the booking
service, so these tests check every generated session against the rules directly: no two
sessions in one chair, no provider over their limit, open days and opening hours only,
doses spaced as the protocol asks, esketamine only for REMS-enrolled patients with
REMS-enrolled providers, a floor record in time order and cut at ``now``, and series
statuses that agree with their sessions. Most run on one SQLite database generated once
for the module; one runs the whole check on PostgreSQL too.
"""

from __future__ import annotations

import dataclasses
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from ketadesk.clinic.locations import closed_reason, hours_on
from ketadesk.clinic.models import Location, Modality, Patient, Provider
from ketadesk.db import Base, Database
from ketadesk.demo import DEMO_USERS
from ketadesk.demo import history as h
from ketadesk.demo.generator import Accounts, DemoSpec, DemoSummary, generate
from ketadesk.errors import ValidationError
from ketadesk.migrations import open_database
from ketadesk.scheduling.models import (
    OPEN,
    RELEASED,
    Checkpoint,
    Observation,
    Protocol,
    Series,
    SeriesStatus,
    SessionStatus,
    SessionStep,
    TreatmentSession,
    VitalSign,
    WaitlistEntry,
)

TODAY = date(2025, 6, 30)  # a Monday
# 11:30 in New York, 10:30 in Chicago, 09:30 in Denver: every location is open.
NOW = datetime(2025, 6, 30, 15, 30, tzinfo=UTC)
SPEC = DemoSpec(
    patients=300, years=2, locations=3, seed=3, today=TODAY, now=NOW, accounts=Accounts.NONE
)
SMALL = dataclasses.replace(SPEC, patients=120)
SCHEDULING_TABLES = (
    "series",
    "treatment_session",
    "session_step",
    "vital_sign",
    "observation",
    "waitlist_entry",
)


# ---------------------------------------------------------------------------------------
# Generating
# ---------------------------------------------------------------------------------------


def _make(path: Path, spec: DemoSpec) -> tuple[Database, DemoSummary, list[tuple[str, int, int]]]:
    db = open_database(f"sqlite:///{path}")
    calls: list[tuple[str, int, int]] = []
    summary = generate(db, spec, lambda stage, done, total: calls.append((stage, done, total)))
    return db, summary, calls


@pytest.fixture(scope="module")
def made(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Database, DemoSummary, list[tuple[str, int, int]]]]:
    db, summary, calls = _make(tmp_path_factory.mktemp("history") / "demo.sqlite3", SPEC)
    yield db, summary, calls
    db.dispose()


@pytest.fixture
def db(made: tuple[Database, DemoSummary, Any]) -> Database:
    return made[0]


@dataclasses.dataclass
class World:
    """Everything the checks read, loaded once per test."""

    sessions: list[TreatmentSession]
    series: dict[int, Series]
    protocols: dict[int, Protocol]
    locations: dict[int, Location]
    providers: dict[int, Provider]
    patients: dict[int, Patient]

    def holding(self) -> list[TreatmentSession]:
        return [s for s in self.sessions if s.status.holds_chair]

    def protocol_of(self, ts: TreatmentSession) -> Protocol:
        return self.protocols[self.series[ts.series_id].protocol_id]

    def local(self, ts: TreatmentSession, moment: datetime) -> datetime:
        return moment.astimezone(ZoneInfo(self.locations[ts.location_id].time_zone))


def _world(session: Session) -> World:
    sessions = list(
        session.scalars(
            select(TreatmentSession)
            .order_by(TreatmentSession.id)
            .options(selectinload(TreatmentSession.vitals))
        )
    )
    locations = session.scalars(
        select(Location).options(
            selectinload(Location.hours),
            selectinload(Location.closures),
            selectinload(Location.holidays_worked),
        )
    )
    return World(
        sessions=sessions,
        series={s.id: s for s in session.scalars(select(Series))},
        protocols={p.id: p for p in session.scalars(select(Protocol))},
        locations={loc.id: loc for loc in locations},
        providers={p.id: p for p in session.scalars(select(Provider))},
        patients={p.id: p for p in session.scalars(select(Patient))},
    )


# ---------------------------------------------------------------------------------------
# The rules, each as a list of problems (empty when it holds)
# ---------------------------------------------------------------------------------------


def chair_overlaps(world: World) -> list[str]:
    by_chair: dict[int, list[TreatmentSession]] = defaultdict(list)
    for ts in world.holding():
        by_chair[ts.chair_id].append(ts)
    problems = []
    for items in by_chair.values():
        items.sort(key=lambda ts: ts.starts_at)
        for before, after in pairwise(items):
            if after.starts_at < before.ends_at:
                problems.append(f"S-{before.id} and S-{after.id} share chair {after.chair_id}")
    return problems


def provider_overloads(world: World) -> list[str]:
    events: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
    for ts in world.holding():
        events[ts.provider_id] += [(ts.starts_at, 1), (ts.ends_at, -1)]
    problems = []
    for provider_id, moments in events.items():
        load = peak = 0
        for _, change in sorted(moments):  # an end sorts before a start at the same moment
            load += change
            peak = max(peak, load)
        limit = world.providers[provider_id].max_concurrent_chairs
        if peak > limit:
            problems.append(f"provider {provider_id} supervises {peak} chairs (limit {limit})")
    return problems


def outside_hours(world: World) -> list[str]:
    problems = []
    for ts in world.holding():
        location = world.locations[ts.location_id]
        start, end = world.local(ts, ts.starts_at), world.local(ts, ts.ends_at)
        reason = closed_reason(location, start.date())
        inside = any(
            iv.opens <= start.time() and end.time() <= iv.closes
            for iv in hours_on(location, start.date())
        )
        if reason or not inside or end.date() != start.date():
            problems.append(f"S-{ts.id} {start:%a %Y-%m-%d %H:%M}-{end:%H:%M}: {reason or 'hours'}")
    return problems


def spacing_problems(world: World) -> list[str]:
    """A patient is never in two places, and doses keep the protocol's distance."""
    by_patient: dict[int, list[TreatmentSession]] = defaultdict(list)
    for ts in world.holding():
        by_patient[ts.patient_id].append(ts)
    problems = []
    for items in by_patient.values():
        items.sort(key=lambda ts: ts.starts_at)
        for before, after in pairwise(items):
            hours = max(
                world.protocol_of(before).min_hours_between,
                world.protocol_of(after).min_hours_between,
            )
            if after.starts_at - before.starts_at < timedelta(hours=hours):
                problems.append(f"S-{before.id} and S-{after.id} are less than {hours} h apart")
    return problems


def rems_problems(world: World) -> list[str]:
    problems = []
    for ts in world.sessions:
        if ts.modality is not Modality.ESKETAMINE:
            continue
        enrolled = world.patients[ts.patient_id].rems_enrolled_on
        if enrolled is None or enrolled > world.local(ts, ts.starts_at).date():
            problems.append(f"S-{ts.id}: the patient is not REMS-enrolled then")
        if not world.providers[ts.provider_id].rems_enrolled:
            problems.append(f"S-{ts.id}: the provider is not REMS-enrolled")
    return problems


def modality_problems(world: World) -> list[str]:
    problems = []
    for ts in world.sessions:
        protocol = world.protocol_of(ts)
        if ts.modality is not protocol.modality:
            problems.append(f"S-{ts.id} is {ts.modality} in a {protocol.key} series")
        if ts.ends_at - ts.starts_at != timedelta(minutes=protocol.chair_minutes):
            problems.append(f"S-{ts.id} does not last the protocol's chair time")
        if ts.location_id != world.series[ts.series_id].location_id:
            problems.append(f"S-{ts.id} is not at its series' location")
    return problems


_MOMENTS = (
    "confirmed_at",
    "checked_in_at",
    "checklist_passed_at",
    "dosed_at",
    "monitoring_from",
    "discharged_at",
)
_STATUS_AFTER = {  # the last moment recorded -> the status a holding session shows
    None: (SessionStatus.SCHEDULED,),
    "confirmed_at": (SessionStatus.CONFIRMED,),
    "checked_in_at": (SessionStatus.CHECKED_IN,),
    "checklist_passed_at": (SessionStatus.CHECKED_IN,),
    "dosed_at": (SessionStatus.DOSING,),
    "monitoring_from": (SessionStatus.MONITORING,),
    "discharged_at": (SessionStatus.COMPLETED,),
}


def floor_problems(world: World, now: datetime) -> list[str]:
    """The floor's record is in time order, never after now, and matches the status."""
    problems = []
    for ts in world.sessions:
        moments = [(name, getattr(ts, name)) for name in _MOMENTS if getattr(ts, name)]
        times = [ts.created_at] + [moment for _, moment in moments]
        if times != sorted(times) or max(times) > now:
            problems.append(f"S-{ts.id}: floor times out of order or after now")
        if ts.status in RELEASED:
            if not (
                ts.ended_at
                and ts.ended_at <= now
                and ts.ended_reason
                and ts.policy_window_hours == 24
                and ts.dosed_at is None
            ):
                problems.append(f"S-{ts.id}: a release without its time, reason or window")
            continue
        last = moments[-1][0] if moments else None
        if ts.status not in _STATUS_AFTER[last]:
            problems.append(f"S-{ts.id} is {ts.status} after {last}")
        problems += _record_problems(ts)
    return problems


def _record_problems(ts: TreatmentSession) -> list[str]:
    problems = []
    if ts.dosed_at and not (
        ts.dose_mg
        and ts.route
        and ts.lot_number
        and ts.driver_confirmed
        and ts.fasting_confirmed
        and ts.score is not None
    ):
        problems.append(f"S-{ts.id}: dosed without a dose, route, lot, checklist or score")
    if (
        ts.modality in (Modality.IV, Modality.IM)
        and ts.dosed_at
        and (ts.dose_mg_per_kg is None or not 0.45 <= ts.dose_mg_per_kg <= 1.05)
    ):
        problems.append(f"S-{ts.id}: {ts.dose_mg_per_kg} mg/kg")
    if (
        ts.modality is Modality.IV
        and ts.monitoring_from
        and not (
            ts.infusion_started_at == ts.dosed_at
            and ts.infusion_stopped_at == ts.monitoring_from
            and timedelta(minutes=40)
            <= ts.infusion_stopped_at - ts.infusion_started_at
            <= timedelta(minutes=55)
        )
    ):
        problems.append(f"S-{ts.id}: infusion times missing or out of range")
    if ts.modality is Modality.ESKETAMINE and ts.status is SessionStatus.COMPLETED:
        problems += _esketamine_problems(ts)
    return problems


def _esketamine_problems(ts: TreatmentSession) -> list[str]:
    problems = []
    assert ts.dosed_at and ts.discharged_at
    if ts.dose_mg not in (56, 84) or ts.discharged_at - ts.dosed_at < timedelta(hours=2):
        problems.append(f"S-{ts.id}: {ts.dose_mg} mg, discharged before two hours")
    checkpoints = {v.checkpoint: v for v in ts.vitals}
    if set(checkpoints) != {Checkpoint.PRE_DOSE, Checkpoint.FORTY_MINUTES, Checkpoint.DISCHARGE}:
        problems.append(f"S-{ts.id}: vital signs at {sorted(checkpoints)}")
    elif not (
        checkpoints[Checkpoint.FORTY_MINUTES].taken_at - ts.dosed_at >= timedelta(minutes=35)
        and checkpoints[Checkpoint.PRE_DOSE].systolic < 150
    ):
        problems.append(f"S-{ts.id}: the 40-minute or pre-dose blood pressure is off")
    day = ts.starts_at.date()  # every demo location is west of UTC and closes before 19:00
    if ts.rems_form_due_on is None or not 6 <= (ts.rems_form_due_on - day).days <= 7:
        problems.append(f"S-{ts.id}: REMS form due {ts.rems_form_due_on}")
    return problems


def series_problems(world: World) -> list[str]:
    by_series: dict[int, list[TreatmentSession]] = defaultdict(list)
    for ts in world.sessions:
        by_series[ts.series_id].append(ts)
    problems = []
    for series_id, series in world.series.items():
        sessions = by_series[series_id]
        protocol = world.protocols[series.protocol_id]
        started = any(ts.checked_in_at for ts in sessions if ts.status.holds_chair)
        open_ = any(ts.status in OPEN for ts in sessions)
        completed = {ts.number for ts in sessions if ts.status is SessionStatus.COMPLETED}
        expected = {
            SeriesStatus.PLANNED: not started and not series.discontinued_reason,
            SeriesStatus.DISCONTINUED: bool(series.discontinued_reason) and not open_,
            SeriesStatus.COMPLETED: (
                protocol.session_count is not None
                and not open_
                and completed == set(range(1, protocol.session_count + 1))
            ),
            SeriesStatus.ACTIVE: started and not series.discontinued_reason,
        }[series.status]
        if not sessions or not expected:
            problems.append(f"series {series_id} ({protocol.key}) is {series.status}")
    return problems


def all_problems(session: Session, now: datetime) -> list[str]:
    world = _world(session)
    return (
        chair_overlaps(world)
        + provider_overloads(world)
        + outside_hours(world)
        + spacing_problems(world)
        + rems_problems(world)
        + modality_problems(world)
        + floor_problems(world, now)
        + series_problems(world)
    )


# ---------------------------------------------------------------------------------------
# The tests
# ---------------------------------------------------------------------------------------


def test_every_generated_session_obeys_the_rules(db: Database) -> None:
    with db.reading() as s:
        assert all_problems(s, NOW) == []


def test_the_checks_catch_a_broken_rule(db: Database) -> None:
    """The checks above are not vacuous: each finds its rule broken on a doctored copy."""
    with db.reading() as s:
        world = _world(s)
        done = [
            ts
            for ts in world.holding()
            if ts.modality is Modality.ESKETAMINE and ts.status is SessionStatus.COMPLETED
        ]
        first, second = done[0], done[1]
        second.chair_id = first.chair_id
        second.starts_at = first.starts_at + timedelta(minutes=30)
        second.ends_at = second.starts_at + timedelta(minutes=135)
        assert chair_overlaps(world)
        world.providers[first.provider_id].max_concurrent_chairs = 0
        assert provider_overloads(world)
        second.patient_id = first.patient_id
        assert spacing_problems(world)
        world.providers[second.provider_id].rems_enrolled = False
        assert rems_problems(world)
        first.starts_at = first.starts_at.replace(hour=4)
        assert outside_hours(world)
        first.discharged_at = NOW + timedelta(minutes=5)
        assert floor_problems(world, NOW)
        world.series[first.series_id].status = SeriesStatus.PLANNED
        assert series_problems(world)
        s.rollback()


def test_counts_and_progress(db: Database, made: tuple[Database, DemoSummary, Any]) -> None:
    _, summary, calls = made
    with db.reading() as s:

        def count(model: type[Base]) -> int:
            return s.scalar(select(func.count()).select_from(model)) or 0

        assert count(Series) == summary.series > 100
        assert count(TreatmentSession) == summary.sessions > 10 * summary.series // 2
        assert count(SessionStep) == summary.session_steps > 0
        assert count(VitalSign) == summary.vital_signs > 0
        assert count(Observation) == summary.observations > 0
        assert count(WaitlistEntry) == summary.waitlist_entries
        completed = s.scalar(
            select(func.count()).where(TreatmentSession.status == SessionStatus.COMPLETED)
        )
        assert completed == summary.completed_sessions
        assert summary.protocols == 6
        # Instants are stored exactly as SQLAlchemy stores them: comparisons find them.
        last = s.scalars(
            select(TreatmentSession)
            .where(TreatmentSession.status == SessionStatus.COMPLETED)
            .order_by(TreatmentSession.id.desc())
        ).first()
        assert last is not None and last.checked_in_at is not None
        same = select(func.count()).where(
            TreatmentSession.starts_at == last.starts_at,
            TreatmentSession.checked_in_at == last.checked_in_at,
        )
        assert s.scalar(same) == 1
    sessions = [(done, total) for stage, done, total in calls if stage == "sessions"]
    assert sessions[0] == (0, SPEC.patients) and sessions[-1] == (SPEC.patients, SPEC.patients)
    stages = [stage for stage, _, _ in calls]
    assert stages.index("sessions") < stages.index("money") and stages[-1] == "money"


def test_outcome_rates_are_about_as_configured(db: Database) -> None:
    with db.reading() as s:
        rows = s.execute(
            select(TreatmentSession.status, TreatmentSession.ended_reason).where(
                TreatmentSession.starts_at < NOW - timedelta(days=1)
            )
        ).all()
    booked = [status for status, reason in rows if not reason.startswith(h.SERIES_CANCEL_PREFIX)]
    share = {status: n / len(booked) for status, n in Counter(booked).items()}
    assert len(booked) > 2000
    assert abs(share[SessionStatus.CANCELLED] - h.CANCEL_RATE) < 0.02
    assert abs(share[SessionStatus.LATE_CANCELLED] - h.LATE_CANCEL_RATE) < 0.012
    assert abs(share[SessionStatus.NO_SHOW] - h.NO_SHOW_RATE) < 0.015
    assert share[SessionStatus.COMPLETED] > 0.85
    assert set(share) == {SessionStatus.COMPLETED, *RELEASED}  # nothing left open in the past


def test_journeys_are_plausible(db: Database) -> None:
    with db.reading() as s:
        world = _world(s)
        keys = Counter(world.protocols[series.protocol_id].key for series in world.series.values())
        inductions = {
            k: keys[k] for k in ("iv-induction", "esketamine-induction", "im-induction", "kap")
        }
        assert max(inductions, key=lambda k: inductions[k]) == "iv-induction"
        assert all(inductions.values()) and keys["iv-booster"] and keys["esketamine-maintenance"]
        statuses = Counter(series.status for series in world.series.values())
        assert all(statuses[status] for status in SeriesStatus)
        discontinued = [
            series for series in world.series.values() if series.status is SeriesStatus.DISCONTINUED
        ]
        assert all(series.discontinued_reason for series in discontinued)
        treated = {series.patient_id for series in world.series.values()}
        for patient in world.patients.values():
            if patient.weight_kg is None or patient.screening_flags & h.CONTRAINDICATIONS:
                assert patient.id not in treated
        assert len(treated) > 0.7 * len(world.patients)


def test_boosters_come_every_two_to_six_weeks(db: Database) -> None:
    with db.reading() as s:
        world = _world(s)
        gaps = []
        by_series: dict[int, list[TreatmentSession]] = defaultdict(list)
        for ts in world.holding():
            if world.protocol_of(ts).key == "iv-booster":
                by_series[ts.series_id].append(ts)
        for items in by_series.values():
            items.sort(key=lambda ts: ts.starts_at)
            gaps += [(b.starts_at - a.starts_at).days for a, b in pairwise(items)]
        assert 14 <= statistics.median(gaps) <= 42


def test_scores_fall_over_an_induction(db: Database) -> None:
    with db.reading() as s:
        rows = s.execute(
            select(TreatmentSession.number, TreatmentSession.score)
            .join(Series, Series.id == TreatmentSession.series_id)
            .join(Protocol, Protocol.id == Series.protocol_id)
            .where(
                Protocol.key == "iv-induction", TreatmentSession.status == SessionStatus.COMPLETED
            )
        ).all()
    by_number: dict[int, list[int]] = defaultdict(list)
    for number, score in rows:
        by_number[number].append(score)
    first, last = statistics.mean(by_number[1]), statistics.mean(by_number[6])
    assert first > 14 and last < first - 4
    assert len(set(by_number[6])) > 5  # noise, not one value for everybody


def test_steps_cover_the_last_sixty_days_and_name_the_demo_users(db: Database) -> None:
    with db.reading() as s:
        steps = s.execute(
            select(
                SessionStep.session_id, SessionStep.status, SessionStep.at, SessionStep.actor
            ).order_by(SessionStep.id)
        ).all()
        recent = set(
            s.scalars(
                select(TreatmentSession.id).where(
                    TreatmentSession.starts_at >= NOW - timedelta(days=h.STEP_WINDOW_DAYS)
                )
            )
        )
    by_session: dict[int, list[Any]] = defaultdict(list)
    for step in steps:
        by_session[step.session_id].append(step)
    assert set(by_session) == recent
    assert {step.actor for step in steps} == {h.FRONT_DESK_USER, h.NURSE_USER}
    assert {h.FRONT_DESK_USER, h.NURSE_USER} <= {name for name, _, _ in DEMO_USERS}
    for items in by_session.values():
        assert items[0].status is SessionStatus.SCHEDULED
        assert [step.at for step in items] == sorted(step.at for step in items) <= [NOW] * 99


def test_rems_forms_are_mostly_filed_with_a_few_overdue(db: Database) -> None:
    with db.reading() as s:
        forms = s.execute(
            select(TreatmentSession.rems_form_due_on, TreatmentSession.rems_form_filed_on).where(
                TreatmentSession.rems_form_due_on.is_not(None)
            )
        ).all()
    filed = [f for _, f in forms if f is not None]
    overdue = [due for due, f in forms if f is None and due < TODAY]
    assert len(filed) > 0.9 * len(forms)
    assert overdue and all(due >= TODAY - timedelta(days=h.RECENT_UNFILED_DAYS) for due in overdue)
    assert all(f <= TODAY for f in filed)


def test_the_weeks_ahead_are_booked_and_the_next_days_confirmed(db: Database) -> None:
    with db.reading() as s:
        ahead = s.execute(
            select(TreatmentSession.starts_at, TreatmentSession.status).where(
                TreatmentSession.starts_at > NOW
            )
        ).all()
    assert {status for _, status in ahead} <= {
        SessionStatus.SCHEDULED,
        SessionStatus.CONFIRMED,
        *RELEASED,
    }
    weeks = {(starts_at - NOW).days // 7 for starts_at, _ in ahead}
    assert set(range(5)) <= weeks
    soon = [
        status
        for starts_at, status in ahead
        if starts_at - NOW < timedelta(days=2) and status.holds_chair
    ]
    assert soon and soon.count(SessionStatus.CONFIRMED) > 0.8 * len(soon)
    later = [status for starts_at, status in ahead if starts_at - NOW > timedelta(days=5)]
    assert SessionStatus.CONFIRMED not in later


def _today(session: Session, location: Location) -> list[TreatmentSession]:
    zone = ZoneInfo(location.time_zone)
    start = datetime.combine(TODAY, time(0), zone)
    return list(
        session.scalars(
            select(TreatmentSession)
            .where(
                TreatmentSession.location_id == location.id,
                TreatmentSession.starts_at >= start,
                TreatmentSession.starts_at < start + timedelta(days=1),
            )
            .order_by(TreatmentSession.starts_at)
        )
    )


def test_todays_floor_is_live_at_now(db: Database) -> None:
    with db.reading() as s:
        for location in s.scalars(select(Location).options(selectinload(Location.hours))):
            today = [ts for ts in _today(s, location) if ts.status.holds_chair]
            on_floor = {SessionStatus.CHECKED_IN, SessionStatus.DOSING, SessionStatus.MONITORING}
            assert any(ts.status in on_floor for ts in today), location.code
            for ts in today:
                if ts.discharged_at is not None:
                    assert ts.status is SessionStatus.COMPLETED
                if ts.starts_at > NOW + timedelta(minutes=15):
                    assert ts.status in (SessionStatus.SCHEDULED, SessionStatus.CONFIRMED)
            zone = ZoneInfo(location.time_zone)
            for interval in hours_on(location, TODAY):
                mark = datetime.combine(TODAY, interval.opens, zone)
                while mark.time() < interval.closes:
                    taken = sum(1 for ts in today if ts.starts_at <= mark < ts.ends_at)
                    assert taken >= h.TODAY_MIN_IN_CHAIRS, (location.code, mark)
                    mark += timedelta(minutes=30)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (
            datetime(2025, 6, 30, 3, 0, tzinfo=UTC),  # 23:00 the day before in New York
            {SessionStatus.SCHEDULED, SessionStatus.CONFIRMED},
        ),
        (
            datetime(2025, 7, 1, 5, 0, tzinfo=UTC),  # every location has closed
            {SessionStatus.COMPLETED, *RELEASED},
        ),
    ],
)
def test_outside_opening_hours_today_is_all_ahead_or_all_done(
    tmp_path: Path,
    now: datetime,
    expected: set[SessionStatus],
) -> None:
    db, _, _ = _make(tmp_path / "demo.sqlite3", dataclasses.replace(SMALL, now=now))
    try:
        with db.reading() as s:
            today = [ts for loc in s.scalars(select(Location)) for ts in _today(s, loc)]
            assert today and {ts.status for ts in today} <= expected
            assert all_problems(s, now) == []
    finally:
        db.dispose()


@pytest.mark.slow
def test_history_is_deterministic(tmp_path: Path) -> None:
    def tables(name: str, spec: DemoSpec) -> dict[str, Sequence[Any]]:
        db, _, _ = _make(tmp_path / name, spec)
        try:
            with db.reading() as s:
                return {
                    table: s.execute(
                        select(Base.metadata.tables[table]).order_by(
                            *Base.metadata.tables[table].primary_key
                        )
                    ).all()
                    for table in SCHEDULING_TABLES
                }
        finally:
            db.dispose()

    first, second = tables("a.sqlite3", SMALL), tables("b.sqlite3", SMALL)
    assert first["treatment_session"] and first == second
    later = tables("c.sqlite3", dataclasses.replace(SMALL, now=NOW + timedelta(hours=2)))
    assert later["treatment_session"] != first["treatment_session"]


@pytest.mark.slow
def test_a_full_location_puts_recent_patients_on_the_waitlist(tmp_path: Path) -> None:
    crowded = DemoSpec(
        patients=900, years=1, locations=1, seed=4, today=TODAY, now=NOW, accounts=Accounts.NONE
    )
    db, summary, _ = _make(tmp_path / "crowded.sqlite3", crowded)
    try:
        with db.reading() as s:
            waiting = s.scalars(select(WaitlistEntry)).all()
            booked = set(s.scalars(select(Series.patient_id)))
            assert summary.waitlist_entries == len(waiting) > 0
            assert all(entry.patient_id not in booked for entry in waiting)
            assert all(
                entry.created_at > NOW - timedelta(days=h.ADMISSION_WAIT_DAYS) for entry in waiting
            )
            assert all_problems(s, NOW) == []
    finally:
        db.dispose()


def test_history_holds_on_both_back_ends_and_leaves_ids_free(database: Database) -> None:
    generate(database, SMALL)
    with database.transaction() as s:
        assert all_problems(s, NOW) == []
        series = s.scalars(select(Series).order_by(Series.id)).first()
        assert series is not None
        # The next session booked the ordinary way gets a fresh id (PostgreSQL's sequence
        # was moved past the ids the generator assigned).
        copy = Series(
            patient_id=series.patient_id,
            protocol_id=series.protocol_id,
            location_id=series.location_id,
        )
        s.add(copy)
        s.flush()
        assert copy.id > (s.scalar(select(func.max(TreatmentSession.series_id))) or 0)
        s.rollback()


def test_now_must_be_an_instant() -> None:
    with pytest.raises(ValidationError) as caught:
        DemoSpec(today=TODAY, now=datetime(2025, 6, 30, 12, 0))
    assert [p.field for p in caught.value.problems] == ["now"]
