"""The reports benchmark: every report at chain scale, beside the same SQL with nothing of ours.

Run it from the project folder on a chain-scale demo database (read only)::

    .venv/bin/ketadesk demo-data --db sqlite:////tmp/bench20k.sqlite3 --patients 20000
    .venv/bin/python bench/bench_reports.py --db /tmp/bench20k.sqlite3 [--runs 7]
        [--pg postgresql+psycopg://postgres@127.0.0.1:5432/bench20k]

Items (the issue's goals first):

* **revenue by month × payer over five years** (2022-01-01 to 2026-12-31, with the same
  months a year before): under 300 ms, and within 1.5× of its floor;
* **aging as of a day** (the newest posting day): under 300 ms;
* **the dashboard's data** for the last twelve months (six key figures against the twelve
  months before, and its four charts): its share of the "click to painted under 1 s" goal
  (``bench/bench_dashboard.py`` measures the painted window);
* each other report over the last year, as the window opens it.

Each item's floor is the very SQL the report sent (captured with :func:`floors.recording`)
replayed through the standard ``sqlite3`` module, fetching every row: the same GROUP BY with
nothing of KetaDesk's in the way. Times are medians of ``--runs`` interleaved runs, in wall
milliseconds (the figure a manager waits for) and CPU milliseconds of this thread (which
other processes on a busy machine do not inflate). With ``--pg`` the same reports run on a
PostgreSQL copy of the demo and are printed beside (wall time: the server works in its own
process).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from floors import Statement, load_average, raw_connection, recording, replay  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from ketadesk.access.permissions import Actor, Role  # noqa: E402
from ketadesk.billing.models import LedgerEntry  # noqa: E402
from ketadesk.db import Database  # noqa: E402
from ketadesk.reports.catalog import NAMES, run_report, spec  # noqa: E402
from ketadesk.reports.dashboard import dashboard  # noqa: E402
from ketadesk.reports.model import ReportFilter  # noqa: E402

ACTOR = Actor(username="bench", role=Role.ADMIN)
GOAL_MS = 300.0
GOAL_RATIO = 1.5

Work = Callable[[Any], object]


def items(last: date) -> list[tuple[str, Work]]:
    """What is timed: (label, work on a session)."""
    five_years = ReportFilter(date(last.year - 4, 1, 1), date(last.year, 12, 31))
    year = ReportFilter(last - timedelta(days=364), last)
    as_of = ReportFilter(last, last)
    chosen: list[tuple[str, Work]] = [
        ("revenue month x payer, 5 years",
         lambda s: run_report(s, ACTOR, "revenue", five_years, ["month", "payer"])),
        ("aging as of the last day",
         lambda s: run_report(s, ACTOR, "aging", as_of, ["side"])),
        ("dashboard data, last 12 months", lambda s: dashboard(s, ACTOR, year)),
    ]
    for name in NAMES:
        found = spec(name)
        flt = as_of if found.as_of else year
        chosen.append(
            (f"{name} by {','.join(found.default_by)}, last year",
             lambda s, n=name, f=flt: run_report(s, ACTOR, n, f)))
    return chosen


def newest_day(database: Database) -> date:
    with database.reading() as session:
        found: date = session.execute(select(func.max(LedgerEntry.posted_on))).scalar_one()
    return found


def measure(database: Database, path: Path | None, work: Work, runs: int) -> dict[str, Any]:
    """Median wall and CPU ms of ``work``, and of its SQL replayed through sqlite3."""
    # Warm the caches and capture the SQL.
    with database.reading() as session, recording(database.engine) as sent:
        work(session)
    statements: list[Statement] = list(sent)
    raw = raw_connection(path) if path is not None else None
    ours: dict[str, list[float]] = {"wall": [], "cpu": []}
    floor: dict[str, list[float]] = {"wall": [], "cpu": []}
    for run in range(runs):
        sides = [("ours", ours), ("floor", floor)]
        for side, times in sides if run % 2 == 0 else sides[::-1]:
            if side == "floor" and raw is None:
                continue
            wall, cpu = time.perf_counter(), time.thread_time()
            if side == "ours":
                with database.reading() as session:
                    work(session)
            else:
                assert raw is not None
                replay(raw, statements)
            times["wall"].append((time.perf_counter() - wall) * 1000)
            times["cpu"].append((time.thread_time() - cpu) * 1000)
    result: dict[str, Any] = {
        "wall_ms": round(statistics.median(ours["wall"]), 1),
        "cpu_ms": round(statistics.median(ours["cpu"]), 1),
        "statements": len(statements),
    }
    if floor["wall"]:
        result["floor_wall_ms"] = round(statistics.median(floor["wall"]), 1)
        result["floor_cpu_ms"] = round(statistics.median(floor["cpu"]), 1)
        result["ratio_wall"] = round(result["wall_ms"] / result["floor_wall_ms"], 2)
        result["ratio_cpu"] = round(result["cpu_ms"] / max(result["floor_cpu_ms"], 0.001), 2)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, required=True, help="the SQLite demo database")
    parser.add_argument("--pg", default="", help="a PostgreSQL URL holding the same demo")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    sqlite = Database(f"sqlite:///{args.db}")
    last = newest_day(sqlite)
    postgres = Database(args.pg) if args.pg else None
    results: dict[str, Any] = {"load_before": load_average(), "last_day": last.isoformat()}
    for label, work in items(last):
        row = {"sqlite": measure(sqlite, args.db, work, args.runs)}
        if postgres is not None:
            row["postgresql"] = measure(postgres, None, work, args.runs)
        results[label] = row
        if not args.json:
            print(_line(label, row), flush=True)
    results["load_after"] = load_average()
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(f"load average before {results['load_before']}, after {results['load_after']}")
    return 0


def _line(label: str, row: dict[str, Any]) -> str:
    lite = row["sqlite"]
    text = (f"{label:<44} sqlite {lite['wall_ms']:>7.1f} ms (cpu {lite['cpu_ms']:.1f})"
            f"  floor {lite.get('floor_wall_ms', 0):>7.1f} ms"
            f"  ratio {lite.get('ratio_wall', 0):.2f}x wall / {lite.get('ratio_cpu', 0):.2f}x cpu")
    if "postgresql" in row:
        text += f"  |  postgresql {row['postgresql']['wall_ms']:.1f} ms"
    return text


if __name__ == "__main__":
    raise SystemExit(main())
