"""Does a big patient import block the clinic? (issue 13, "Jobs that never block the clinic")

Run it from the project folder::

    .venv/bin/python bench/bench_import_lock.py [--backend sqlite|postgresql] [--rows 30000]
        [--columns 60000 1000000] [--header-timeout 120]

It measures, on a fresh migrated database with an administrator linked to the user running
it (as ``ketadesk init --admin`` leaves one, since the command line acts as an account):

a. a ``--rows``-row import through the real command line (``ketadesk patient import FILE``,
   a process of its own) while a second process -- a workstation -- registers a patient
   every ~200 ms through :func:`ketadesk.clinic.patients.create_patient` in its own
   ``db.transaction()``. It prints the import's wall time and the workstation's median and
   worst wait per registration, and its failures (such as "database is locked");
b. for each ``--columns`` count, an import of a file whose header has that many columns,
   with the same workstation writing meanwhile: the import's time (or "did not finish" after
   ``--header-timeout`` seconds) and the workstation's worst wait, which says whether the
   write lock was held while the header was read.

The figures go to docs/RELIABILITY.md.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout without installing the package

import sqlalchemy as sa  # noqa: E402

from ketadesk import migrations  # noqa: E402
from ketadesk.access import os_accounts, users  # noqa: E402
from ketadesk.access.permissions import Actor, Role  # noqa: E402
from ketadesk.clinic.models import Payer  # noqa: E402
from ketadesk.db import Database  # noqa: E402

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DESK = Actor(username="desk", role=Role.ADMIN)
ADMIN_PASSWORD = "correct horse battery staple 1729"
PAYER = "Aetna"  # in every fresh database, for --insured files
PAUSE = 0.2  # seconds between the workstation's registrations


@dataclass(frozen=True)
class Waits:
    """What the workstation saw: each registration's wait in seconds, and its failures."""

    waits: tuple[float, ...]
    failures: tuple[str, ...]

    def line(self) -> str:
        if not self.waits:
            return "workstation: no registration finished"
        ms = sorted(w * 1000 for w in self.waits)
        failed = f"{len(self.failures)} failed" + (
            f" (first: {self.failures[0][:90]})" if self.failures else "")
        return (f"workstation: {len(ms)} registrations, median wait {statistics.median(ms):.0f} ms,"
                f" worst {ms[-1]:.0f} ms; {failed}")


def fresh_database(backend: str, folder: Path) -> str:
    """The URL of a new, migrated database."""
    if backend == "sqlite":
        url = f"sqlite:///{folder / 'clinic.sqlite3'}"
    else:
        name = f"bench_import_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = sa.make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)
    db = Database(url)
    migrations.upgrade(db)
    with db.transaction() as session:  # the command line acts as a linked account
        users.create_user(session, DESK, username="benchadmin", full_name="Bench Administrator",
                          role=Role.ADMIN, password=ADMIN_PASSWORD)
        os_accounts.link(session, DESK, "benchadmin", os_accounts.os_user_name())
        session.add(Payer(name=PAYER, edi_payer_id="60054"))
    db.dispose()
    return url


def drop_database(url: str) -> None:
    if not url.startswith("postgresql"):
        return
    name = sa.make_url(url).database
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def patients_csv(path: Path, rows: int, *, insured: bool = False) -> Path:
    """``rows`` distinct, valid patients; with ``insured``, every other one with a primary
    policy of the payer every fresh database has (:data:`PAYER`)."""
    header = "family_name,given_name,date_of_birth,sex,phone,diagnoses"
    lines = [header + (",primary_payer,primary_member_id,primary_effective_from" if insured
                       else "")]
    for n in range(rows):
        born = f"19{40 + n % 60:02d}-{1 + n % 12:02d}-{1 + n % 28:02d}"
        line = f"Family{n},Given{n // 7},{born},{'FM'[n % 2]},212-555-{n % 10000:04d},F33.2"
        if insured:
            line += f",{PAYER},W{n:07d},2026-01-01" if n % 2 == 0 else ",,,"
        lines.append(line)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def wide_csv(path: Path, columns: int) -> Path:
    """A header of ``columns`` columns (the required ones first) and one row."""
    names = ["family_name", "given_name", "date_of_birth", "sex"]
    names += [f"extra{n}" for n in range(columns - len(names))]
    path.write_text(",".join(names) + "\nNg,Ana,1990-01-02,F\n", encoding="utf-8")
    return path


def workstation(url: str, stop: mp.synchronize.Event, ready: mp.synchronize.Event,
                out: mp.Queue) -> None:  # type: ignore[type-arg]
    """Register a patient every ~200 ms until told to stop; report every wait."""
    from ketadesk.clinic import patients

    db = Database(url)
    waits: list[float] = []
    failures: list[str] = []
    n = 0
    ready.set()
    while not stop.is_set():
        n += 1
        started = time.perf_counter()
        try:
            with db.transaction() as session:
                patients.create_patient(session, DESK, {
                    "family_name": f"Walkin{n}", "given_name": "Desk",
                    "date_of_birth": "1980-01-01", "sex": "F"})
        except Exception as error:  # any failure is a figure here
            failures.append(f"{type(error).__name__}: {error}".replace("\n", " "))
        waits.append(time.perf_counter() - started)
        time.sleep(PAUSE)
    db.dispose()
    out.put(Waits(tuple(waits), tuple(failures)))


def ketadesk_command() -> list[str]:
    script = Path(sys.executable).with_name("ketadesk")
    return [str(script)] if script.exists() else [sys.executable, "-m", "ketadesk"]


def timed_import(url: str, path: Path, timeout: float) -> tuple[float | None, str]:
    """The wall time of ``ketadesk patient import`` (None past ``timeout``) and its last
    line of output."""
    started = time.perf_counter()
    try:
        done = subprocess.run([*ketadesk_command(), "patient", "import", str(path), "--db", url],
                              capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return None, f"did not finish in {timeout:.0f} s"
    said = (done.stdout.strip() + "\n" + done.stderr.strip()).strip().splitlines()
    return time.perf_counter() - started, (said[-1][:160] if said else "")


def with_workstation(url: str, path: Path, timeout: float) -> tuple[float | None, str, Waits]:
    context = mp.get_context("spawn")
    stop, ready, out = context.Event(), context.Event(), context.Queue()
    desk = context.Process(target=workstation, args=(url, stop, ready, out))
    desk.start()
    ready.wait(60)
    time.sleep(1.0)  # a few registrations before the import starts
    seconds, said = timed_import(url, path, timeout)
    time.sleep(1.0)
    stop.set()
    waits = out.get(timeout=120)
    desk.join(30)
    return seconds, said, waits


def shown(seconds: float | None) -> str:
    return "did not finish" if seconds is None else f"{seconds:.1f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--rows", type=int, default=30000)
    parser.add_argument("--columns", type=int, nargs="*", default=[60000, 1000000])
    parser.add_argument("--header-timeout", type=float, default=120.0)
    parser.add_argument("--skip-rows", action="store_true", help="only the header part")
    parser.add_argument("--insured", action="store_true",
                        help="every other imported patient with a primary policy")
    args = parser.parse_args()
    print(f"backend {args.backend}; load average {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory(prefix="bench-import-") as folder:
        work = Path(folder)
        if not args.skip_rows:
            url = fresh_database(args.backend, work)
            try:
                csv = patients_csv(work / "patients.csv", args.rows, insured=args.insured)
                seconds, said, waits = with_workstation(url, csv, 3600)
                print(f"a. import of {args.rows} rows: {shown(seconds)} ({said})")
                print(f"   {waits.line()}")
            finally:
                drop_database(url)
                for leftover in work.glob("clinic.sqlite3*"):
                    leftover.unlink()
        for columns in args.columns:
            url = fresh_database(args.backend, work)
            try:
                csv = wide_csv(work / f"wide{columns}.csv", columns)
                seconds, said, waits = with_workstation(url, csv, args.header_timeout)
                print(f"b. header of {columns} columns: {shown(seconds)} ({said[:100]})")
                print(f"   {waits.line()}")
            finally:
                drop_database(url)
                for leftover in work.glob("clinic.sqlite3*"):
                    leftover.unlink()


if __name__ == "__main__":
    main()
