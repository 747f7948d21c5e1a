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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--rows", type=int, default=30000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-import-write-") as folder:
        url = fresh_database(args.backend, Path(folder))
        db = TimedDatabase(url)
        patient_import.Staging = TimedStaging  # type: ignore[misc]
        try:
            started = time.perf_counter()
            report = patient_import.import_file(
                db, DESK, patients_csv(Path(folder) / "p.csv", args.rows))
            took = time.perf_counter() - started
        finally:
            db.dispose()
            drop_database(url)
    held = ", ".join(f"{seconds:.2f} s" for seconds in HELD)
    print(f"{args.backend}, {report.imported} patients imported in {took:.1f} s; write "
          f"transactions held {held}; load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
