"""kill -9 at the worst moments: the real commands, killed, leave everything whole.

For each of ``demo-data``, ``patient import``, ``superbill --month``, a loop of payments
(``payment add``, which allocates as it goes) and ``backup``, the real command runs in a
subprocess in its own process group and is SIGKILLed at several points, chosen by what it
has shown (its progress stages, its output) or done (files in its folder), so the points
land where they are meant to on a fast or a busy machine. After every kill
(tests/reliability/kill_helpers.py):

* the database passes its integrity check (SQLite) or has no transaction left open
  (PostgreSQL), the books balance, and the audit chain verifies;
* no file is half-written under its final name (every PDF parses, every backup verifies);
* no process of the killed command survives it (its process group, after a grace period).

Whatever writes in one transaction is all or nothing: the patients a killed import or demo
adds are none or all of them. Linux only (reads /proc; uses a pseudo-terminal).
"""

from __future__ import annotations

import csv
import shutil
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from cli.cli_helpers import link_os_admin
from reliability.kill_helpers import (
    Killed,
    KillPoint,
    command_env,
    database_problems,
    file_problems,
    ketadesk,
    parts_in,
    run_and_kill,
)

from ketadesk.db import Database
from ketadesk.demo.generator import Accounts, DemoSpec, generate

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes in /proc"),
]

TODAY = date(2025, 6, 30)
MONTH = "2025-05"  # the month with the most self-pay visits in the clinic below: a pool's worth
CLINIC_PATIENTS = 600
DEMO_PATIENTS = 40
IMPORT_ROWS = 1500


def _patients(url: str) -> int:
    db = Database(url)
    try:
        with db.reading() as session:
            if not sa.inspect(session.connection()).has_table("patient"):
                return 0
            return int(session.scalar(sa.text("SELECT count(*) FROM patient")) or 0)
    finally:
        db.dispose()


def assert_clean(killed: Killed, url: str, *folders: Path, parts_allowed: bool = False) -> None:
    """Everything the suite checks after a kill, every problem listed at once."""
    problems = list(killed.survivors) + database_problems(url)
    for folder in folders:
        problems += file_problems(folder, parts_allowed=parts_allowed)
    assert killed.was_killed, f"the command ended before the kill point:\n{killed.output}"
    assert problems == []


# --------------------------------------------------------------------------------------
# Databases to kill commands on
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def clinic(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Path:
    """A SQLite clinic with a pool's worth of self-pay patients seen in May 2025."""
    path = tmp_path_factory.mktemp("kill9") / "clinic.sqlite3"
    shutil.copyfile(sqlite_template, path)
    db = Database(f"sqlite:///{path}")
    try:
        generate(db, DemoSpec(patients=CLINIC_PATIENTS, years=1, locations=1, seed=4,
                              today=TODAY, accounts=Accounts.NONE))
    finally:
        db.dispose()
    link_os_admin(path)  # the commands act as the clinic's administrator, as after init
    return path


@pytest.fixture
def clinic_copy(clinic: Path, tmp_path: Path) -> str:
    path = tmp_path / "clinic.sqlite3"
    shutil.copyfile(clinic, path)
    return f"sqlite:///{path}"


@pytest.fixture
def empty_sqlite(sqlite_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "empty.sqlite3"
    shutil.copyfile(sqlite_template, path)
    link_os_admin(path)  # as 'ketadesk init --admin' leaves a new clinic
    return f"sqlite:///{path}"


@pytest.fixture(scope="module")
def pg_clinic(pg_template: str) -> Iterator[str]:
    """A small clinic on PostgreSQL, a template for each killed run's own copy."""
    from conftest import _pg_admin, _pg_url

    name = f"{pg_template}_kill9"
    admin = _pg_admin()
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"'))
    db = Database(_pg_url(name))
    try:
        generate(db, DemoSpec(patients=DEMO_PATIENTS, years=1, locations=1, seed=5,
                              today=TODAY, accounts=Accounts.NONE))
    finally:
        db.dispose()
    link_os_admin(_pg_url(name))
    yield name
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _pg_copy(template: str) -> Iterator[str]:
    from conftest import _pg_admin, _pg_url

    name = f"{template[:40]}_{uuid.uuid4().hex[:6]}"
    admin = _pg_admin()
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    yield _pg_url(name)
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def pg_empty(pg_template: str) -> Iterator[str]:
    for url in _pg_copy(pg_template):
        link_os_admin(url)  # as 'ketadesk init --admin' leaves a new clinic
        yield url


@pytest.fixture
def pg_clinic_copy(pg_clinic: str) -> Iterator[str]:
    yield from _pg_copy(pg_clinic)


# --------------------------------------------------------------------------------------
# demo-data: one transaction, so all of the clinic or none of it
# --------------------------------------------------------------------------------------

DEMO_POINTS = [
    KillPoint("while starting", 300),
    KillPoint("patients", 0, r"patients\s+\["),
    KillPoint("sessions", 0, r"sessions\s+\["),
    KillPoint("money", 150, r"money\s+\["),
]


def _demo(url: str) -> list[str]:
    return ketadesk("demo-data", "--db", url, "--patients", str(DEMO_PATIENTS), "--years", "1",
                    "--locations", "1", "--seed", "3")


@pytest.mark.parametrize("point", DEMO_POINTS, ids=str)
def test_demo_data_killed_leaves_all_or_nothing(
    point: KillPoint, tmp_path: Path, empty_sqlite: str
) -> None:
    new = f"sqlite:///{tmp_path / 'demo.sqlite3'}"  # a new file: demo-data makes it itself
    url = new if point.name == "while starting" else empty_sqlite
    killed = run_and_kill(_demo(url), point)
    assert_clean(killed, url)
    assert _patients(url) in (0, DEMO_PATIENTS)


@pytest.mark.postgres
@pytest.mark.parametrize("point", DEMO_POINTS[1:3], ids=str)
def test_demo_data_killed_on_postgresql(point: KillPoint, pg_empty: str) -> None:
    killed = run_and_kill(_demo(pg_empty), point)
    assert_clean(killed, pg_empty)
    assert _patients(pg_empty) in (0, DEMO_PATIENTS)


# --------------------------------------------------------------------------------------
# patient import: checked, then written in one transaction
# --------------------------------------------------------------------------------------

IMPORT_POINTS = [
    KillPoint("checking", 0, r"checking rows"),
    KillPoint("importing", 0, r"importing patients"),
    KillPoint("half imported", 0, r"importing patients.*\b([7-9]\d\d|1\d\d\d)/"),
]


def _csv(folder: Path) -> Path:
    path = folder / "patients.csv"
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["family_name", "given_name", "date_of_birth", "sex", "diagnoses"])
        for n in range(IMPORT_ROWS):
            born = f"19{50 + n % 50}-0{1 + n % 9}-1{n % 9}"
            writer.writerow([f"Kill{n:05d}", f"Nine{n % 97}", born, "FM"[n % 2], "F33.2"])
    return path


def _import(url: str, folder: Path) -> list[str]:
    return ketadesk("patient", "import", str(_csv(folder)), "--db", url)


@pytest.mark.parametrize("point", IMPORT_POINTS, ids=str)
def test_patient_import_killed_adds_none_or_all(
    point: KillPoint, tmp_path: Path, empty_sqlite: str
) -> None:
    killed = run_and_kill(_import(empty_sqlite, tmp_path), point)
    assert_clean(killed, empty_sqlite)
    assert _patients(empty_sqlite) in (0, IMPORT_ROWS)


@pytest.mark.postgres
def test_patient_import_killed_on_postgresql(tmp_path: Path, pg_clinic_copy: str) -> None:
    before = _patients(pg_clinic_copy)
    killed = run_and_kill(_import(pg_clinic_copy, tmp_path), IMPORT_POINTS[2])
    assert_clean(killed, pg_clinic_copy)
    assert _patients(pg_clinic_copy) - before in (0, IMPORT_ROWS)


# --------------------------------------------------------------------------------------
# superbill --month: a pool of workers that must die with the command
# --------------------------------------------------------------------------------------


def _pdfs(folder: Path) -> int:
    return len(list(folder.glob("*.pdf"))) if folder.exists() else 0


def _batch(url: str, folder: Path, workers: int = 2) -> list[str]:
    return ketadesk("superbill", "--db", url, "--month", MONTH, "--out", str(folder),
                    "--workers", str(workers))


@pytest.mark.parametrize("pdfs", [0, 1, 25], ids=lambda n: f"after {n} PDFs")
def test_superbill_batch_killed_leaves_no_worker_and_no_half_pdf(
    pdfs: int, tmp_path: Path, clinic_copy: str
) -> None:
    folder = tmp_path / "superbills"
    point = KillPoint(f"after {pdfs} PDFs", 0 if pdfs else 2500)  # 0: the pool is starting
    killed = run_and_kill(_batch(clinic_copy, folder), point,
                          before_kill=(lambda: _pdfs(folder) >= pdfs) if pdfs else None)
    assert_clean(killed, clinic_copy, folder, parts_allowed=True)


def test_the_next_batch_removes_what_a_killed_one_left(tmp_path: Path, clinic_copy: str) -> None:
    """One process writing (``--workers 1``) killed mid-batch: what it was writing may stay
    as its ``.part``; the next batch into the folder removes it and writes every PDF."""
    folder = tmp_path / "superbills"
    killed = run_and_kill(_batch(clinic_copy, folder, workers=1), KillPoint("after 5 PDFs", 0),
                          before_kill=lambda: _pdfs(folder) >= 5)
    assert_clean(killed, clinic_copy, folder, parts_allowed=True)
    again = run_and_kill(_batch(clinic_copy, folder, workers=1), KillPoint("never", 600_000))
    assert again.returncode == 0, again.output
    assert again.survivors == [] and parts_in(folder) == []
    assert file_problems(folder) == [] and _pdfs(folder) >= 60


# --------------------------------------------------------------------------------------
# payments: each one a transaction that posts the payment and allocates it
# --------------------------------------------------------------------------------------

PAYMENT_POINTS = [
    KillPoint("after 2 payments", 0, r"paid 2\b"),
    KillPoint("mid-payment 6", 40, r"paid 5\b"),
    KillPoint("mid-payment 12", 90, r"paid 11\b"),
]


def _payments(url: str) -> list[str]:
    loop = Path(__file__).with_name("payments_loop.py")
    return [ketadesk()[0], str(loop), url]


@pytest.mark.parametrize("point", PAYMENT_POINTS, ids=str)
def test_payments_killed_keep_the_books(point: KillPoint, clinic_copy: str) -> None:
    killed = run_and_kill(_payments(clinic_copy), point, env=command_env())
    assert_clean(killed, clinic_copy)


@pytest.mark.postgres
@pytest.mark.parametrize("point", PAYMENT_POINTS[1:], ids=str)
def test_payments_killed_on_postgresql(point: KillPoint, pg_clinic_copy: str) -> None:
    killed = run_and_kill(_payments(pg_clinic_copy), point, env=command_env())
    assert_clean(killed, pg_clinic_copy)


# --------------------------------------------------------------------------------------
# backup: a snapshot in a scratch folder, then the archive through a temporary name
# --------------------------------------------------------------------------------------


def _backup_stage(folder: Path, stage: str) -> bool:
    if stage == "snapshot":
        return any(p.name.startswith(".ketadesk-") for p in folder.glob(".*")) if \
            folder.exists() else False
    return bool(parts_in(folder))


@pytest.mark.parametrize("stage", ["snapshot", "archive"])
def test_backup_killed_leaves_no_half_backup(stage: str, tmp_path: Path, clinic_copy: str) -> None:
    from ketadesk.backups.backup import verify_backup

    folder = tmp_path / "backups"
    target = folder / "clinic.kdbk"
    argv = ketadesk("backup", "--db", clinic_copy, "--out", str(target))
    killed = run_and_kill(argv, KillPoint(stage, 0),
                          before_kill=lambda: _backup_stage(folder, stage))
    assert_clean(killed, clinic_copy, parts_allowed=True)
    assert not target.exists() or verify_backup(target).matches
    # The next backup to the same name takes the killed one's temporary file away.
    again = run_and_kill(argv, KillPoint("never", 600_000))
    assert again.returncode == 0, again.output
    assert parts_in(folder) == [] and verify_backup(target).matches
    assert not list(folder.glob(".ketadesk-*"))  # nor the killed one's snapshot


# --------------------------------------------------------------------------------------
# The checks themselves see what they look for
# --------------------------------------------------------------------------------------


def test_the_checks_see_money_applied_twice_and_a_cut_pdf(
    clinic_copy: str, tmp_path: Path
) -> None:
    import sqlite3

    path = sa.make_url(clinic_copy).database or ""
    with sqlite3.connect(path) as connection:  # a payment applied again, past its size
        credit, debit, patient, amount = connection.execute(
            "SELECT a.credit_id, a.debit_id, a.patient_id, e.amount FROM allocation a "
            "JOIN ledger_entry e ON e.id = a.debit_id LIMIT 1").fetchone()
        connection.execute(
            "INSERT INTO allocation (patient_id, credit_id, debit_id, amount, created_at, "
            "created_by) VALUES (?, ?, ?, ?, '2025-06-30 12:00:00', 'test')",
            (patient, credit, debit, amount))
    problems = database_problems(clinic_copy)
    assert any(f"entry {debit} " in p for p in problems), problems
    whole = tmp_path / "whole.pdf"
    from ketadesk.documents.cms1500 import alignment_page

    whole.write_bytes(alignment_page())
    (tmp_path / "cut.pdf").write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    (tmp_path / ".cut.pdf.1.part").write_bytes(b"%PDF")
    assert file_problems(tmp_path) == [
        "cut.pdf is not a whole PDF (PdfStreamError)", "temporary files left: .cut.pdf.1.part"]


@pytest.mark.postgres
def test_backup_killed_on_postgresql_leaves_no_pg_dump_behind(
    tmp_path: Path, pg_clinic_copy: str
) -> None:
    from ketadesk.backups.backup import verify_backup

    folder = tmp_path / "backups"
    target = folder / "clinic.kdbk"
    argv = ketadesk("backup", "--db", pg_clinic_copy, "--out", str(target))
    killed = run_and_kill(argv, KillPoint("snapshot", 0),
                          before_kill=lambda: _backup_stage(folder, "snapshot"))
    assert_clean(killed, pg_clinic_copy, parts_allowed=True)
    assert not target.exists() or verify_backup(target, url=pg_clinic_copy).matches
