"""A pasted page of words in the patient search (issue 13): time and peak memory.

Run it from the project folder::

    .venv/bin/python bench/bench_search_words.py [--patients 2000] [--words 2000 30000]

It imports ``--patients`` patients into a fresh SQLite file, then searches once for each
count of ``--words`` distinct words through
:func:`ketadesk.clinic.patients.search_patients` on a read-only connection, printing the
time, the growth of the process's peak memory and what came back (rows, or the error).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_import_lock import DESK, fresh_database, patients_csv  # noqa: E402

from ketadesk.clinic import patient_import, patients  # noqa: E402
from ketadesk.db import Database  # noqa: E402


def search_once(db: Database, words: int) -> str:
    text = " ".join(f"family{n}" for n in range(words))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    try:
        with db.rows() as connection:
            result = f"{len(patients.search_patients(connection, DESK, text))} rows"
    except Exception as error:  # the failure is the figure
        result = f"{type(error).__name__}: {str(error).splitlines()[0][:90]}"
    took = time.perf_counter() - started
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    return f"{words} words: {took:.2f} s, peak memory +{grown:.0f} MB, {result}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, default=2000)
    parser.add_argument("--words", type=int, nargs="*", default=[2000, 30000])
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory(prefix="bench-search-") as folder:
        db = Database(fresh_database("sqlite", Path(folder)))
        with db.transaction() as session:
            patient_import.import_patients(
                session, DESK, patients_csv(Path(folder) / "p.csv", args.patients))
        for words in args.words:
            print(search_once(db, words))
        db.dispose()


if __name__ == "__main__":
    main()
