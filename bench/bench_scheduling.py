"""The scheduling benchmark: demo history, planning and booking, the week view, the board.

Run it from the project folder::

    .venv/bin/python bench/bench_scheduling.py [--patients 20000] [--years 5] [--out DIR]

On a SQLite file made by ``ketadesk demo-data --patients N --years Y`` it measures:

a. ``demo-data``: the wall time of the real command line in a fresh process;
b. plan and book: :func:`~ketadesk.scheduling.planner.plan_series` followed by
   :func:`~ketadesk.scheduling.booking.book_series` of a 12-session esketamine induction
   for a REMS-enrolled patient, every check included, each run in its own write
   transaction (``BEGIN IMMEDIATE``) that is rolled back so the runs do not fill the
   calendar; the start dates spread over the three weeks after the demo's booked
   horizon (:data:`START_AFTER_DAYS`), where a full clinic would book it;
c. the week view's data: :func:`~ketadesk.scheduling.calendar.calendar_window` for seven
   days of one location, for weeks in the past, this week and the next;
d. the chair board refresh: :func:`~ketadesk.scheduling.board.chair_board` for one
   location at moments from 08:00 to 18:00 of the next weekday, whose sessions are all
   booked and ahead (today's are all done when the benchmark runs after closing).

Each figure is timed from opening the session to holding the result, as the window does
it. It prints a table and writes everything, with the machine, to
``DIR/bench_scheduling.json``; the figures go to docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import floors  # noqa: E402
from bench_foundation import (  # noqa: E402
    _spread,
    machine,
    print_machine,
    print_rows,
    timed_demo_data,
)

# At 20,000 patients the demo's esketamine chairs are booked solid for about three
# months ahead (the series already running); a new 12-session induction starts after.
START_AFTER_DAYS = 90

TARGETS = {
    "demo_data_s": 120.0,
    "plan_and_book_median_ms": 50.0,
    "week_view_median_ms": 20.0,
    "board_median_ms": 10.0,
}
WEEK_VIEW_RATIO_GOAL = 2.0  # against the same SQL through sqlite3 (bench/floors.py)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, default=20_000)
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=40, help="timed runs of each query")
    parser.add_argument("--reuse", action="store_true",
                        help="reuse the database of an earlier run instead of generating")
    parser.add_argument("--out", type=Path, default=ROOT / "out" / "bench")
    parser.add_argument("--db", type=Path, metavar="FILE",
                        help="measure this existing demo-data SQLite file (implies --reuse)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    db = args.db or args.out / "scheduling.sqlite3"
    args.reuse = args.reuse or args.db is not None
    results: dict[str, Any] = {
        "benchmark": "scheduling",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "parameters": {"patients": args.patients, "years": args.years, "seed": args.seed,
                       "runs": args.runs},
        "targets": TARGETS,
    }
    if args.reuse and db.exists():
        results["demo_data_cli"] = {"measured": False, "reason": "--reuse"}
    else:
        print(f"demo data: {args.patients} patients, {args.years} years …", flush=True)
        results["demo_data_cli"] = demo_data(db, args.patients, args.years, args.seed)
    from ketadesk.migrations import open_database

    database = open_database(f"sqlite:///{db}")
    results["rows"] = row_counts(database)
    print("plan and book …", flush=True)
    results["plan_and_book"] = plan_and_book(database, args.runs, args.seed)
    print("week view …", flush=True)
    results["week_view"] = week_view(database, args.runs, db)
    print("chair board …", flush=True)
    results["board"] = board(database, args.runs)
    database.dispose()
    results["verdict"] = verdict(results)
    (args.out / "bench_scheduling.json").write_text(json.dumps(results, indent=2, default=str))
    print_table(results)
    return 0


def demo_data(db: Path, patients: int, years: int, seed: int) -> dict[str, Any]:
    result = timed_demo_data(db, ["--patients", str(patients), "--years", str(years),
                                  "--seed", str(seed)])
    if "command" in result and not result["measured"]:
        raise SystemExit(f"demo-data failed: {result['reason']}")
    if result["measured"]:
        result["file_mb"] = round(db.stat().st_size / 1e6, 1)
    return result


def row_counts(database: Any) -> dict[str, int]:
    from sqlalchemy import text

    counts = {}
    with database.reading() as session:
        for table in ("patient", "series", "treatment_session", "session_step", "vital_sign"):
            counts[table] = session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
    return counts


def _actor() -> Any:
    from ketadesk.access.permissions import Actor, Role

    return Actor(username="bench", role=Role.ADMIN)


def _locations(database: Any) -> list[Any]:
    from sqlalchemy import select

    from ketadesk.clinic.models import Location

    with database.reading() as session:
        found = list(session.scalars(select(Location).order_by(Location.id)))
        session.expunge_all()  # kept readable after the read's rollback expires the rest
        return found


def _rems_patients(database: Any, seed: int, count: int) -> list[tuple[int, int]]:
    """(patient id, home location id) of REMS-enrolled patients, drawn reproducibly."""
    from sqlalchemy import select

    from ketadesk.clinic.models import Patient

    with database.reading() as session:
        rows = session.execute(
            select(Patient.id, Patient.home_location_id)
            .where(Patient.rems_enrolled_on.is_not(None), Patient.home_location_id.is_not(None))
            .order_by(Patient.id)
        ).all()
    rng = random.Random(seed)
    return [(r[0], r[1]) for r in rng.sample(rows, min(count, len(rows)))]


def plan_and_book(database: Any, runs: int, seed: int) -> dict[str, Any]:
    from ketadesk.clinic.models import Location, Patient
    from ketadesk.scheduling.booking import book_series
    from ketadesk.scheduling.planner import plan_series
    from ketadesk.scheduling.proposals import Preferences
    from ketadesk.scheduling.protocols import get_protocol

    actor = _actor()
    timings, sessions, unbookable = [], [], 0
    today = datetime.now(UTC).date()
    for n, (patient_id, location_id) in enumerate(_rems_patients(database, seed, runs)):
        start = today + timedelta(days=START_AFTER_DAYS + (n % 21))
        started = time.perf_counter()
        with database.transaction() as session:
            patient = session.get(Patient, patient_id)
            location = session.get(Location, location_id)
            protocol = get_protocol(session, "esketamine-induction")
            plan = plan_series(session, actor, patient, protocol, location, start, Preferences())
            if plan.bookable:
                codes = [w.code for w in plan.warnings]
                series = book_series(
                    session, actor, plan, acknowledged=codes, now=datetime.now(UTC)
                )
                session.flush()
                sessions.append(len(series.sessions))
            else:
                unbookable += 1
            elapsed = (time.perf_counter() - started) * 1000
            session.rollback()
        if plan.bookable:
            timings.append(elapsed)
    if not timings:
        return {"measured": False, "reason": f"no plan was bookable ({unbookable} tried)"}
    return {"measured": True, "runs": len(timings), "not_bookable": unbookable,
            "sessions_per_series": sorted(set(sessions)), **_spread(timings)}


def week_view(database: Any, runs: int, path: Path) -> dict[str, Any]:
    """``calendar_window`` for a week, and beside each run the same SQL through ``sqlite3``.

    A first pass records the statements of each (location, week); the timed pass runs the
    service and the replay back to back (:func:`floors.paired`).
    """
    from ketadesk.scheduling.calendar import calendar_window, week_start

    actor = _actor()
    locations = _locations(database)
    monday = week_start(datetime.now(UTC).date())
    weeks = [monday + timedelta(weeks=w) for w in (-52, -4, -1, 0, 1)]
    asked = [(locations[n % len(locations)].id, weeks[n % len(weeks)]) for n in range(runs)]
    entries: list[int] = []

    def view(item: tuple[int, date], on: Any = database) -> None:
        with on.reading() as session:
            window = calendar_window(session, actor, item[0], item[1], 7)
        entries.append(len(window.entries))

    sent: dict[tuple[int, date], list[Any]] = {}
    # Recorded on a twin: once a listener has been added to an engine, SQLAlchemy keeps its
    # event dispatch on for good, and every timed view would pay for it.
    twin = type(database)(database.url)
    with floors.recording(twin.engine) as statements:
        for item in asked:
            first = len(statements)
            view(item, twin)
            sent[item] = statements[first:]
    twin.dispose()
    entries.clear()
    raw = floors.raw_connection(path)
    load = floors.load_average()
    times = floors.paired(asked, view, lambda item: floors.replay(raw, sent[item]))
    raw.close()
    return {"measured": True, "runs": runs, "load_average": load,
            "sessions_per_week": _range(entries), **_spread(times["wall"][0]),
            **floors.compared(times)}


def board(database: Any, runs: int) -> dict[str, Any]:
    from ketadesk.scheduling.board import chair_board

    actor = _actor()
    locations = _locations(database)
    timings, cards = [], []
    for n in range(runs):
        location = locations[n % len(locations)]
        zone = ZoneInfo(location.time_zone)
        today = _next_weekday(datetime.now(zone).date())
        moment = datetime.combine(today, datetime.min.time(), tzinfo=zone) + timedelta(
            hours=8 + (n % 10), minutes=7 * (n % 8))
        started = time.perf_counter()
        with database.reading() as session:
            result = chair_board(session, actor, location.id, moment.astimezone(UTC))
        timings.append((time.perf_counter() - started) * 1000)
        cards.append(sum(1 for c in result.cards if c.current is not None))
    return {"measured": True, "runs": runs, "chairs_in_use": _range(cards), **_spread(timings)}


def _next_weekday(day: date) -> date:
    """The next Monday-to-Friday day after ``day``: its sessions are all still ahead, so
    the board has patients arriving and in the chairs at every moment measured."""
    day += timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _range(values: list[int]) -> dict[str, float]:
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def verdict(results: dict[str, Any]) -> dict[str, Any]:
    def against(part: dict[str, Any], key: str, target: str) -> dict[str, Any]:
        if not part.get("measured"):
            return {"measured": None, "met": None}
        value = part[key]
        return {"measured": value, "target": TARGETS[target], "met": value < TARGETS[target]}

    return {
        "demo_data_s": against(results["demo_data_cli"], "seconds", "demo_data_s"),
        "plan_and_book_median_ms": against(results["plan_and_book"], "median_ms",
                                           "plan_and_book_median_ms"),
        "week_view_median_ms": against(results["week_view"], "median_ms",
                                       "week_view_median_ms"),
        "week_view_cpu_ratio": {
            "measured": results["week_view"]["cpu"]["ratio"], "target": WEEK_VIEW_RATIO_GOAL,
            "met": results["week_view"]["cpu"]["ratio"] <= WEEK_VIEW_RATIO_GOAL},
        "board_median_ms": against(results["board"], "median_ms", "board_median_ms"),
    }


def print_table(results: dict[str, Any]) -> None:
    print_machine(results["machine"])
    print(f"rows: {results['rows']}")
    demo = results["demo_data_cli"]
    rows = [("demo-data, command line (wall)",
             f"{demo['seconds']:.1f} s" if demo["measured"] else demo["reason"], "< 120 s")]
    for key, label, target in (
        ("plan_and_book", "plan + book 12-session esketamine induction", "< 50 ms"),
        ("week_view", "week view data, one location", "< 20 ms"),
        ("board", "chair board refresh", "< 10 ms"),
    ):
        part = results[key]
        if part.get("measured"):
            rows.append((f"{label}: median", f"{part['median_ms']:.2f} ms", target))
            rows.append(("  p95 / max", f"{part['p95_ms']:.2f} / {part['max_ms']:.2f} ms", ""))
        else:
            rows.append((label, f"not measured: {part['reason']}", target))
        if key == "week_view" and part.get("measured"):
            rows.append(floors.ratio_row("  week view vs the same SQL through sqlite3", part,
                                  WEEK_VIEW_RATIO_GOAL))
    print_rows(rows)
    print(f"load average during the week view: {results['week_view'].get('load_average')}")


if __name__ == "__main__":
    sys.exit(main())
