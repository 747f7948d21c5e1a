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
   back, :func:`~ketadesk.clinic.patients.count_matching` for the count label; each
   keystroke timed from opening the read session to holding rows and count, as the
   patient list does it;
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

TARGETS = {"demo_data_s": 20.0, "search_median_ms": 15.0, "first_paint_s": 1.5}
FIRST_PAINT = re.compile(r"first-paint-ms:\s*([0-9]+(?:\.[0-9]+)?)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, default=20_000)
    parser.add_argument("--locations", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=ROOT / "out" / "bench")
    parser.add_argument("--window-runs", type=int, default=3,
                        help="window starts to time; the median is reported")
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
    print(f"demo data: {args.patients} patients at {args.locations} locations …", flush=True)
    results["demo_data_cli"] = demo_data_cli(cli_db, args.patients, args.locations, args.seed)
    results["demo_data_in_process"] = demo_data_in_process(
        own_db, args.patients, args.locations, args.seed)
    print("search as you type …", flush=True)
    results["search"] = search_as_you_type(own_db, args.seed)
    print("window start …", flush=True)
    screen_db = cli_db if results["demo_data_cli"]["measured"] else own_db
    results["window_start"] = window_start(screen_db, args.out, args.window_runs)

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
    from ketadesk.access.permissions import Actor, Role
    from ketadesk.clinic.patients import count_matching, search_patients
    from ketadesk.db import Database

    typed = typing_session(db, seed)
    actor = Actor(username="bench", role=Role.FRONT_DESK)
    database = Database(f"sqlite:///{db}")
    for warm in ("a", "smith", "01/01/1980", "1234", "100"):
        with database.reading() as session:
            search_patients(session, actor, warm, limit=100)
    timed: list[tuple[float, Typed, int]] = []  # (ms, keystroke, rows shown)
    for stroke in typed:
        started = time.perf_counter()
        with database.reading() as session:
            found = search_patients(session, actor, stroke.text, limit=100)
            if len(found) == 100:  # the list model counts only when there are more pages
                count_matching(session, actor, stroke.text)
        timed.append(((time.perf_counter() - started) * 1000, stroke, len(found)))
    database.dispose()
    timings: dict[str, list[float]] = {}
    for ms, stroke, _ in timed:
        timings.setdefault(stroke.kind, []).append(ms)
    slowest = max(timed, key=lambda entry: entry[0])
    return {
        "measured": True,
        "keystrokes": len(timed),
        **_spread([ms for ms, _, _ in timed]),
        "slowest_keystroke": {"text": slowest[1].text, "kind": slowest[1].kind,
                              "ms": round(slowest[0], 2)},
        "median_rows_shown": statistics.median(rows for _, _, rows in timed),
        "by_kind": {kind: {"keystrokes": len(values), **_spread(values)}
                    for kind, values in timings.items()},
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
    command = ketadesk_command()
    if command is None:
        return {"measured": False, "reason": "the ketadesk command is not installed yet"}
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "KETADESK_TIMING": "1"}
    paints: list[float] = []
    walls: list[float] = []
    for run in range(runs):
        shot = out / f"window-start-{run + 1}.png"
        shot.unlink(missing_ok=True)
        full = [*command, "--db", str(db), "--screenshot", str(shot), "--view", "patients"]
        started = time.perf_counter()
        done = subprocess.run(full, capture_output=True, text=True, check=False, env=env,
                              cwd=ROOT, timeout=120)
        walls.append(time.perf_counter() - started)
        found = FIRST_PAINT.search(done.stderr)
        if done.returncode != 0 or found is None or not shot.exists():
            last = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
            why = (f"exit {done.returncode}: {last}" if done.returncode
                   else "no 'first-paint-ms:' line on stderr" if found is None
                   else "no screenshot written")
            return {"measured": False, "reason": why, "command": full}
        paints.append(float(found.group(1)) / 1000)
    return {
        "measured": True,
        "runs": runs,
        "first_paint_s": round(statistics.median(paints), 3),
        "first_paint_all_s": [round(p, 3) for p in paints],
        "wall_s": round(statistics.median(walls), 3),
        "wall_all_s": [round(w, 3) for w in walls],
        "command": full,
    }


# ---------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------

def verdict(results: dict[str, Any]) -> dict[str, Any]:
    cli, own = results["demo_data_cli"], results["demo_data_in_process"]
    demo = cli if cli["measured"] else own
    window = results["window_start"]
    return {
        "demo_data_s": _against(demo["seconds"], TARGETS["demo_data_s"]),
        "search_median_ms": _against(results["search"]["median_ms"],
                                     TARGETS["search_median_ms"]),
        "first_paint_s": (_against(window["first_paint_s"], TARGETS["first_paint_s"])
                          if window["measured"] else {"measured": None, "met": None}),
    }


def _against(measured: float, target: float) -> dict[str, Any]:
    return {"measured": measured, "target": target, "met": measured < target}


def print_table(results: dict[str, Any]) -> None:
    print_machine(results["machine"])
    cli, own = results["demo_data_cli"], results["demo_data_in_process"]
    search, window = results["search"], results["window_start"]
    rows: list[tuple[str, str, str]] = [
        ("demo-data, command line (wall)",
         f"{cli['seconds']:.2f} s" if cli["measured"] else f"not measured: {cli['reason']}",
         "< 20 s"),
        ("demo-data, in process (migrate + generate)", f"{own['seconds']:.2f} s", "< 20 s"),
        (f"search, {search['keystrokes']} keystrokes: median", f"{search['median_ms']:.2f} ms",
         "< 15 ms"),
        ("search: p95", f"{search['p95_ms']:.2f} ms", ""),
        ("search: max", f"{search['max_ms']:.2f} ms", ""),
    ]
    for kind, figures in search["by_kind"].items():
        rows.append((f"  {kind} ({figures['keystrokes']}): median / p95 / max",
                     f"{figures['median_ms']:.2f} / {figures['p95_ms']:.2f} / "
                     f"{figures['max_ms']:.2f} ms", ""))
    if window["measured"]:
        rows += [("window start: first paint (median)", f"{window['first_paint_s']:.3f} s",
                  "< 1.5 s"),
                 ("window start: process wall (median)", f"{window['wall_s']:.3f} s", "")]
    else:
        rows.append(("window start", f"not measured: {window['reason']}", "< 1.5 s"))
    print_rows(rows)


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
