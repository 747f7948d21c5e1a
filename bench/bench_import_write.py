"""How long a patient import holds its write transaction (issue 13), in-process.

Run it from the project folder::

    .venv/bin/python bench/bench_import_write.py [--backend sqlite|postgresql] [--rows 30000]

It imports ``--rows`` patients into a fresh database with
:func:`ketadesk.clinic.patient_import.import_file` and prints the whole import's time and
how long each write transaction it opened was held (the MRN block's, then the write that
copies the staged rows in):
the longest another workstation's save can wait behind the import.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_import_lock import DESK, drop_database, fresh_database, patients_csv  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from ketadesk import staging  # noqa: E402
from ketadesk.clinic import patient_import  # noqa: E402
from ketadesk.db import Database  # noqa: E402

HELD: list[float] = []


class TimedDatabase(Database):
    """A database that notes how long each write transaction stayed open."""

    @contextmanager
    def transaction(self, *, job: bool = False) -> Iterator[Session]:
        started = time.perf_counter()
        with super().transaction(job=job) as session:
            yield session
        HELD.append(time.perf_counter() - started)


class TimedStaging(staging.Staging):
    """The import's staging, noting how long its write transaction stayed open."""

    @contextmanager
    def writing(self) -> Iterator[Session]:
        started = time.perf_counter()
        with super().writing() as session:
            yield session
        HELD.append(time.perf_counter() - started)


TABLES = ("patient", "patient_search_word", "diagnosis", "insurance_policy", "audit_entry")


def sqlite_floor(imported: Path, empty: Path) -> float:
    """The floor for SQLite: the same rows copied into an empty clinic by bare ``sqlite3``,
    one ``INSERT ... SELECT`` a table from temporary tables, in one ``BEGIN IMMEDIATE``
    transaction (no hashing, no checks): what the import's write can at best take."""
    connection = sqlite3.connect(empty, isolation_level=None)
    try:
        for pragma in ("journal_mode = WAL", "synchronous = NORMAL", "foreign_keys = ON"):
            connection.execute(f"PRAGMA {pragma}")
        connection.execute("ATTACH ? AS source", (str(imported),))
        for table in TABLES:
            connection.execute(f"CREATE TEMP TABLE s_{table} AS SELECT * FROM source.{table} "
                               f"WHERE id > (SELECT coalesce(max(id), 0) FROM main.{table})"
                               if table != "patient_search_word" else
                               f"CREATE TEMP TABLE s_{table} AS SELECT * FROM source.{table}")
        connection.execute("DETACH source")
        started = time.perf_counter()
        connection.execute("BEGIN IMMEDIATE")
        for table in TABLES:
            connection.execute(f"INSERT INTO main.{table} SELECT * FROM temp.s_{table}")
        connection.execute("COMMIT")
        return time.perf_counter() - started
    finally:
        connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--rows", type=int, default=30000)
    parser.add_argument("--insured", action="store_true",
                        help="every other imported patient with a primary policy")
    args = parser.parse_args()
    floor = None
    with tempfile.TemporaryDirectory(prefix="bench-import-write-") as folder:
        url = fresh_database(args.backend, Path(folder))
        if args.backend == "sqlite":
            shutil.copyfile(Path(folder) / "clinic.sqlite3", Path(folder) / "empty.sqlite3")
        db = TimedDatabase(url)
        patient_import.Staging = TimedStaging  # type: ignore[misc]
        try:
            started = time.perf_counter()
            report = patient_import.import_file(
                db, DESK, patients_csv(Path(folder) / "p.csv", args.rows, insured=args.insured))
            took = time.perf_counter() - started
        finally:
            db.dispose()
            drop_database(url)
        if args.backend == "sqlite":
            floor = sqlite_floor(Path(folder) / "clinic.sqlite3", Path(folder) / "empty.sqlite3")
    held = ", ".join(f"{seconds:.2f} s" for seconds in HELD)
    print(f"{args.backend}, {report.imported} patients imported in {took:.1f} s; write "
          f"transactions held {held}; load average {os.getloadavg()[0]:.2f}")
    if floor is not None:
        print(f"floor (the same rows by bare sqlite3, INSERT ... SELECT): {floor:.2f} s; "
              f"the import's write is {HELD[-1] / floor:.1f}x it")


if __name__ == "__main__":
    main()
