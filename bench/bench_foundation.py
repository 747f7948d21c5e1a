"""The foundation benchmark: demo data, search as you type and window start at chain scale.

Run it from the project folder::

    .venv/bin/python bench/bench_foundation.py [--patients 20000] [--out DIR]

It measures, on SQLite:

a. ``demo-data``: the wall time of the real command line in a fresh process
   (``ketadesk demo-data --db FILE --patients N --locations 5 --seed 1``), and of
   migrations plus :func:`ketadesk.demo.generator.generate` inside this process;
b. search as you type: realistic queries typed one keystroke at a time (family names,
   "family given", a date of birth, the last four digits of a phone number, an MRN)
   through :func:`ketadesk.clinic.patients.search_patients` and, when a full page came
   back, :func:`~ketadesk.clinic.patients.count_matching` for the count label, on the
   read-only connection the list keeps while a person types; each keystroke timed from
   starting its read to holding rows and count, as the patient list does it;
c. window start: the real window (``ketadesk --db FILE --screenshot OUT.png --view
   patients``, offscreen) from process start to the first paint of the Patients view,
   as the window reports it on stderr (``first-paint-ms: N`` when ``KETADESK_TIMING=1``).

It prints a table and writes everything, with the machine it ran on, to
``DIR/bench_foundation.json``. A part whose command is not installed is reported as not
measured rather than failing the run. The figures go to docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout without installing the package
sys.path.insert(0, str(ROOT / "bench"))

from floors import (  # noqa: E402
    compared,
    load_average,
    paired,
    ratio_row,
    raw_connection,
    recording,
    replay,
    summary,
)

TARGETS = {"demo_data_s": 20.0, "search_median_ms": 15.0, "first_paint_s": 1.5}
# Goals as ratios to a floor measured in the same run (bench/floors.py; issue 14).
RATIO_GOALS = {"search": 2.0, "first_paint": 2.0}
FIRST_PAINT = re.compile(r"first-paint-ms:\s*([0-9]+(?:\.[0-9]+)?)")
FIRST_PAINT_CPU = re.compile(r"first-paint-cpu-ms:\s*([0-9]+(?:\.[0-9]+)?)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, default=20_000)
    parser.add_argument("--locations", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=ROOT / "out" / "bench")
    parser.add_argument("--window-runs", type=int, default=5,
                        help="window starts to time (each beside a floor start); medians")
    parser.add_argument("--db", type=Path, metavar="FILE",
                        help="measure search and window start on this existing SQLite file "
                             "(e.g. a 20k, 5-year demo) instead of generating one")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    results: dict[str, Any] = {
        "benchmark": "foundation",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "parameters": {"patients": args.patients, "locations": args.locations,
                       "seed": args.seed},
        "targets": TARGETS,
    }
    cli_db = args.out / "foundation-cli.sqlite3"
    own_db = args.out / "foundation.sqlite3"
    if args.db:
        results["database"] = str(args.db)
        skipped = {"measured": False, "reason": "--db: measured on an existing file"}
        results["demo_data_cli"] = results["demo_data_in_process"] = skipped
        own_db = screen_db = args.db
    else:
        print(f"demo data: {args.patients} patients at {args.locations} locations …",
              flush=True)
        results["demo_data_cli"] = demo_data_cli(cli_db, args.patients, args.locations,
                                                 args.seed)
        results["demo_data_in_process"] = demo_data_in_process(
            own_db, args.patients, args.locations, args.seed)
        screen_db = cli_db if results["demo_data_cli"]["measured"] else own_db
    print("search as you type …", flush=True)
    results["search"] = search_as_you_type(own_db, args.seed)
    print("window start …", flush=True)
    results["window_start"] = window_start(screen_db, args.out, args.window_runs)
    results["load_average_at_end"] = load_average()

    results["verdict"] = verdict(results)
    path = args.out / "bench_foundation.json"
    path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print_table(results)
    print(f"\nwritten to {path}")
    return 0


# ---------------------------------------------------------------------------------------
# The machine
# ---------------------------------------------------------------------------------------

def machine() -> dict[str, Any]:
    cpu = platform.processor() or "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "nproc": _run_text(["nproc"]),
        "load_average_at_start": load,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
    }


def _run_text(command: list[str]) -> str | None:
    if shutil.which(command[0]) is None:
        return None
    return subprocess.run(command, capture_output=True, text=True, check=False).stdout.strip()


def ketadesk_command() -> list[str] | None:
    """How to start KetaDesk: the installed script beside this Python, or ``-m ketadesk``."""
    script = Path(sys.executable).parent / "ketadesk"
    if script.exists():
        return [str(script)]
    if (ROOT / "ketadesk" / "__main__.py").exists():
        return [sys.executable, "-m", "ketadesk"]
    return None


def _fresh(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    shutil.rmtree(path.parent / "backups", ignore_errors=True)


# ---------------------------------------------------------------------------------------
# a. demo data
# ---------------------------------------------------------------------------------------

def demo_data_cli(db: Path, patients: int, locations: int, seed: int) -> dict[str, Any]:
    return timed_demo_data(db, ["--patients", str(patients), "--locations", str(locations),
                                "--seed", str(seed)])


def timed_demo_data(db: Path, options: list[str]) -> dict[str, Any]:
    """``ketadesk demo-data --db DB OPTIONS`` into a fresh file, in its own process, timed.

    Not measured (with the reason) when the command is not installed or fails.
    """
    command = ketadesk_command()
    if command is None:
        return {"measured": False, "reason": "the ketadesk command is not installed yet"}
    _fresh(db)
    full = [*command, "demo-data", "--db", str(db), *options]
    started = time.perf_counter()
    done = subprocess.run(full, capture_output=True, text=True, check=False, cwd=ROOT)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
        return {"measured": False, "reason": f"exit {done.returncode}: {last}",
                "command": full}
    return {"measured": True, "seconds": round(seconds, 2), "command": full}


def demo_data_in_process(db: Path, patients: int, locations: int, seed: int) -> dict[str, Any]:
    started = time.perf_counter()
    from ketadesk.demo.generator import DemoSpec, generate
    from ketadesk.migrations import open_database
    imported = time.perf_counter()
    _fresh(db)
    database = open_database(f"sqlite:///{db}")
    migrated = time.perf_counter()
    stages: dict[str, float] = {}

    def progress(stage: str, done: int, total: int) -> None:
        stages[stage] = round(time.perf_counter() - migrated, 2)

    summary = generate(database, DemoSpec(patients=patients, locations=locations, seed=seed),
                       progress)
    finished = time.perf_counter()
    database.dispose()
    return {
        "measured": True,
        "import_s": round(imported - started, 2),
        "migrate_s": round(migrated - imported, 2),
        "generate_s": round(finished - migrated, 2),
        "seconds": round(finished - imported, 2),  # migrations + generate
        "stage_done_at_s": stages,
        "summary": summary.as_dict(),
        "file_mb": round(db.stat().st_size / 1e6, 1),
    }


# ---------------------------------------------------------------------------------------
# b. search as you type
# ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Typed:
    kind: str
    text: str  # what is in the search box after this keystroke


def keystrokes(kind: str, query: str) -> Iterator[Typed]:
    for end in range(1, len(query) + 1):
        if not query[end - 1].isspace():
            yield Typed(kind, query[:end])


def typing_session(db: Path, seed: int) -> list[Typed]:
    """What the front desk types: names, name and given name, DOBs, phone digits, MRNs."""
    from sqlalchemy import select

    from ketadesk.clinic.models import Patient
    from ketadesk.db import Database

    rng = random.Random(seed)
    database = Database(f"sqlite:///{db}")
    with database.reading() as session:
        rows = session.execute(select(
            Patient.search_family, Patient.search_given, Patient.date_of_birth,
            Patient.phone, Patient.mrn,
        ).where(Patient.active.is_(True))).all()
    database.dispose()
    plain = [r for r in rows if r.search_family.isascii() and " " not in r.search_family]
    typed: list[Typed] = []
    for row in rng.sample(plain, 25):
        typed += keystrokes("family name", row.search_family)
    typed += keystrokes("family name", "lukasiewicz")
    for row in rng.sample(plain, 10):
        typed += keystrokes("family given", f"{row.search_family} {row.search_given[:4]}")
    for row in rng.sample(rows, 10):
        typed += keystrokes("date of birth", row.date_of_birth.strftime("%m/%d/%Y"))
    for row in rng.sample([r for r in rows if r.phone], 20):
        typed += keystrokes("phone last 4", row.phone[-4:])
    for row in rng.sample(rows, 10):
        typed += keystrokes("mrn", row.mrn)
    return typed


def search_as_you_type(db: Path, seed: int) -> dict[str, Any]:
    """Every keystroke through the service, and beside it the same SQL through ``sqlite3``.

    A first pass records the statements each keystroke sends; the timed pass then runs
    the service and the replay of its statements back to back (:func:`floors.paired`).
    """
    from ketadesk.access.permissions import Actor, Role
    from ketadesk.clinic.patients import count_matching, search_patients
    from ketadesk.db import Database, HeldRows

    typed = typing_session(db, seed)
    actor = Actor(username="bench", role=Role.FRONT_DESK)
    database = Database(f"sqlite:///{db}")
    shown: dict[Typed, int] = {}
    held = database.held_rows()  # as the list model reads keystrokes

    def keystroke(stroke: Typed, on: HeldRows = held) -> None:
        with on.rows() as connection:
            found = search_patients(connection, actor, stroke.text, limit=100)
            if len(found) == 100:  # the list model counts only when there are more pages
                count_matching(connection, actor, stroke.text)
        shown[stroke] = len(found)

    for warm in ("a", "smith", "01/01/1980", "1234", "100"):
        keystroke(Typed("warm-up", warm))
    sent: dict[Typed, list[Any]] = {}
    # Recorded on a twin: once a listener has been added to an engine, SQLAlchemy keeps its
    # event dispatch on for good, and every timed keystroke would pay for it.
    twin = Database(f"sqlite:///{db}")
    twin_held = twin.held_rows()
    with recording(twin.engine) as statements:
        for stroke in typed:
            first = len(statements)
            keystroke(stroke, twin_held)
            sent[stroke] = statements[first:]
    twin.dispose()
    raw = raw_connection(db)
    load = load_average()
    times = paired(typed, keystroke, lambda stroke: replay(raw, sent[stroke]))
    raw.close()
    database.dispose()
    mine = times["wall"][0]
    cpu_mine, cpu_bare = times["cpu"]
    by_kind: dict[str, list[int]] = {}
    for number, stroke in enumerate(typed):
        by_kind.setdefault(stroke.kind, []).append(number)
    slowest = max(range(len(typed)), key=lambda n: mine[n])
    return {
        "measured": True,
        "keystrokes": len(typed),
        "load_average": load,
        **_spread(mine),
        **compared(times),
        "slowest_keystroke": {"text": typed[slowest].text, "kind": typed[slowest].kind,
                              "ms": round(mine[slowest], 2)},
        "median_rows_shown": statistics.median(shown[stroke] for stroke in typed),
        "by_kind": {kind: {"keystrokes": len(picked), **_spread([mine[n] for n in picked]),
                           "cpu": summary([cpu_mine[n] for n in picked],
                                          [cpu_bare[n] for n in picked])}
                    for kind, picked in by_kind.items()},
    }


def _spread(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"median_ms": round(statistics.median(ordered), 2), "p95_ms": round(p95, 2),
            "max_ms": round(ordered[-1], 2)}


# ---------------------------------------------------------------------------------------
# c. window start
# ---------------------------------------------------------------------------------------

def window_start(db: Path, out: Path, runs: int) -> dict[str, Any]:
    """The window's first paint, each start beside a start of the bare floor window.

    Both print ``first-paint-ms`` with the same clock (:mod:`ketadesk.ui.timing`), so the
    ratio compares like with like; the order alternates run by run.
    """
    command = ketadesk_command()
    if command is None:
        return {"measured": False, "reason": "the ketadesk command is not installed yet"}
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "KETADESK_TIMING": "1"}
    floor = [sys.executable, str(ROOT / "bench" / "floor_window.py"), str(db)]
    paints: list[float] = []
    floors: list[float] = []
    cpu: tuple[list[float], list[float]] = ([], [])
    walls: list[float] = []
    load = load_average()
    for run in range(runs):
        shot = out / f"window-start-{run + 1}.png"
        shot.unlink(missing_ok=True)
        full = [*command, "--db", str(db), "--screenshot", str(shot), "--view", "patients"]
        order = [(full, paints, cpu[0]), (floor, floors, cpu[1])]
        for argv, into, cpu_into in (order if run % 2 == 0 else order[::-1]):
            started = time.perf_counter()
            done = subprocess.run(argv, capture_output=True, text=True, check=False, env=env,
                                  cwd=ROOT, timeout=120)
            if argv is full:
                walls.append(time.perf_counter() - started)
            found = FIRST_PAINT.search(done.stderr)
            used = FIRST_PAINT_CPU.search(done.stderr)
            if done.returncode != 0 or found is None or used is None:
                last = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
                why = (f"exit {done.returncode}: {last}" if done.returncode
                       else "no 'first-paint-ms:' line on stderr")
                return {"measured": False, "reason": why, "command": argv}
            into.append(float(found.group(1)) / 1000)
            cpu_into.append(float(used.group(1)))
        if not shot.exists():
            return {"measured": False, "reason": "no screenshot written", "command": full}
    return {
        "measured": True,
        "runs": runs,
        "load_average": load,
        "first_paint_s": round(statistics.median(paints), 3),
        "first_paint_all_s": [round(p, 3) for p in paints],
        "floor_first_paint_s": round(statistics.median(floors), 3),
        "floor_all_s": [round(f, 3) for f in floors],
        "cpu": summary(*cpu),
        "wall": summary([p * 1000 for p in paints], [f * 1000 for f in floors]),
        "wall_s": round(statistics.median(walls), 3),
        "wall_all_s": [round(w, 3) for w in walls],
        "command": full,
        "floor_command": floor,
    }


# ---------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------

def verdict(results: dict[str, Any]) -> dict[str, Any]:
    cli, own = results["demo_data_cli"], results["demo_data_in_process"]
    demo = cli if cli["measured"] else own
    window = results["window_start"]
    search = results["search"]
    unmeasured = {"measured": None, "met": None}
    return {
        "demo_data_s": (_against(demo["seconds"], TARGETS["demo_data_s"])
                        if demo["measured"] else unmeasured),
        "search_median_ms": _against(search["median_ms"], TARGETS["search_median_ms"]),
        "search_cpu_ratio": _against(search["cpu"]["ratio"], RATIO_GOALS["search"],
                                     at_most=True),
        "first_paint_s": (_against(window["first_paint_s"], TARGETS["first_paint_s"])
                          if window["measured"] else unmeasured),
        "first_paint_cpu_ratio": (_against(window["cpu"]["ratio"], RATIO_GOALS["first_paint"],
                                           at_most=True) if window["measured"] else unmeasured),
    }


def _against(measured: float, target: float, *, at_most: bool = False) -> dict[str, Any]:
    met = measured <= target if at_most else measured < target
    return {"measured": measured, "target": target, "met": met}


def print_table(results: dict[str, Any]) -> None:
    print_machine(results["machine"])
    cli, own = results["demo_data_cli"], results["demo_data_in_process"]
    search, window = results["search"], results["window_start"]
    rows: list[tuple[str, str, str]] = [
        ("demo-data, command line (wall)",
         f"{cli['seconds']:.2f} s" if cli["measured"] else f"not measured: {cli['reason']}",
         "< 20 s"),
        ("demo-data, in process (migrate + generate)",
         f"{own['seconds']:.2f} s" if own["measured"] else f"not measured: {own['reason']}",
         "< 20 s"),
        (f"search, {search['keystrokes']} keystrokes: median", f"{search['median_ms']:.2f} ms",
         "< 15 ms"),
        ratio_row("search vs the same SQL through sqlite3", search, RATIO_GOALS["search"]),
        ("search: p95", f"{search['p95_ms']:.2f} ms", ""),
        ("search: max", f"{search['max_ms']:.2f} ms", ""),
    ]
    for kind, figures in search["by_kind"].items():
        rows.append((f"  {kind} ({figures['keystrokes']}): median / p95 / max; CPU ratio",
                     f"{figures['median_ms']:.2f} / {figures['p95_ms']:.2f} / "
                     f"{figures['max_ms']:.2f} ms; {figures['cpu']['ratio']:.2f}x", ""))
    if window["measured"]:
        rows += [("window start: first paint (median)", f"{window['first_paint_s']:.3f} s",
                  "< 1.5 s"),
                 ratio_row("window start vs a bare PySide6 window", window,
                           RATIO_GOALS["first_paint"]),
                 ("window start: process wall (median)", f"{window['wall_s']:.3f} s", "")]
    else:
        rows.append(("window start", f"not measured: {window['reason']}", "< 1.5 s"))
    print_rows(rows)
    print(f"load average: search {search['load_average']}, window "
          f"{window.get('load_average')}, end {results.get('load_average_at_end')}")


def print_machine(m: dict[str, Any]) -> None:
    print(f"\nmachine: {m['cpu']}, {m['nproc'] or m['cores']} cores, Python {m['python']}, "
          f"SQLite {m['sqlite']}, load {m['load_average_at_start']}")


def print_rows(rows: list[tuple[str, str, str]]) -> None:
    """(measure, measured, target) rows as a table, each column as wide as its widest cell."""
    width = max(len(r[0]) for r in rows)
    value_width = max(len(r[1]) for r in rows)
    print(f"\n{'measure':<{width}}  {'measured':<{value_width}}  target")
    print(f"{'-' * width}  {'-' * value_width}  ------")
    for name, value, target in rows:
        print(f"{name:<{width}}  {value:<{value_width}}  {target}")


if __name__ == "__main__":
    sys.exit(main())
