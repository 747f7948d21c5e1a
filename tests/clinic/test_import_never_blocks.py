"""A patient import never blocks the clinic (issue 13): the file is read and checked before
any write lock, what a file may hold is bounded, the rows are staged ahead on the import's own
connection, and the write is one short transaction that copies them in.

The order is proved with the import's own progress hook, not with timings: while the rows
are being checked, another connection registers a patient (it could not on SQLite, nor
within the lock timeout on PostgreSQL, if the import held the write lock then).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from builders import add_payer, patient_raw
from sqlalchemy import event, func, select, text

from ketadesk import migrations
from ketadesk.access import audit, audit_chain
from ketadesk.access.models import AuditEntry
from ketadesk.access.permissions import Actor
from ketadesk.clinic import bulk_registration, patient_import, patients
from ketadesk.clinic.models import InsurancePolicy, Patient
from ketadesk.clinic.patient_import import ImportRefused, read_rows
from ketadesk.config import TimeLimits
from ketadesk.db import Database, reserve
from ketadesk.errors import Busy

HEADER = "family_name,given_name,date_of_birth,sex,phone,diagnoses"
ROWS = [
    "Okafor,Chinedu,1979-07-22,M,646-555-0193,F32.2",
    "Nguyen,Minh,1966-05-14,X,,",
    "Ng,Ana,1990-01-02,F,,F33.2;F43.10",
]
PG_ONLY = [pytest.param("postgresql", marks=pytest.mark.postgres)]


def csv_file(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "patients.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def stored_patients(db: Database) -> int:
    with db.reading() as session:
        return session.scalar(select(func.count()).select_from(Patient)) or 0


def when_checking(action: Callable[[], None]) -> patient_import.Progress:
    """A progress hook that runs ``action`` once, while the import checks its rows."""
    done: list[bool] = []

    def progress(stage: str, _done: int, _total: int) -> None:
        if stage == "checking rows" and not done:
            done.append(True)
            action()

    return progress


def register(db: Database, actor: Actor, **overrides: object) -> str:
    with db.transaction() as session:
        return patients.create_patient(session, actor, patient_raw(**overrides)).mrn


# --- the order: check, then lock ---------------------------------------------------------


def test_another_desk_saves_while_the_file_is_checked(
    database: Database, front_desk: Actor, tmp_path: Path
) -> None:
    saved: list[str] = []
    progress = when_checking(lambda: saved.append(register(database, front_desk)))
    report = patient_import.import_file(
        database, front_desk, csv_file(tmp_path, HEADER, *ROWS), progress=progress)
    assert saved and not report.problems
    assert report.imported == 3
    assert saved[0] not in report.mrns  # the desk's MRN and the import's block are apart
    assert stored_patients(database) == 4


def test_a_patient_registered_meanwhile_is_not_imported_twice(
    database: Database, front_desk: Actor, tmp_path: Path
) -> None:
    saved: list[str] = []
    progress = when_checking(lambda: saved.append(register(
        database, front_desk, family_name="Okafor", given_name="Chinedu",
        date_of_birth="1979-07-22", sex="M")))
    report = patient_import.import_file(
        database, front_desk, csv_file(tmp_path, HEADER, *ROWS), progress=progress)
    assert report.stopped and report.imported == 0
    assert [str(p) for p in report.problems] == [
        f"line 2: looks like MRN {saved[0]} already (Okafor, Chinedu, born 1979-07-22), "
        "registered while the file was being checked"]
    assert stored_patients(database) == 1


def test_skip_invalid_leaves_out_a_patient_registered_meanwhile(
    database: Database, front_desk: Actor, tmp_path: Path
) -> None:
    progress = when_checking(lambda: register(
        database, front_desk, family_name="Ng", given_name="Ana", date_of_birth="1990-01-02"))
    report = patient_import.import_file(
        database, front_desk, csv_file(tmp_path, HEADER, *ROWS), skip_invalid=True,
        progress=progress)
    assert (report.imported, report.skipped) == (2, 1)
    assert stored_patients(database) == 3


@pytest.mark.parametrize("database", PG_ONLY, indirect=True)
def test_the_mrn_counter_is_free_while_the_import_writes(
    database: Database, front_desk: Actor, tmp_path: Path
) -> None:
    """The import's MRNs are reserved in a transaction of their own: while it writes, a
    desk draws the next MRN at once (a held counter row would run into the lock timeout)."""
    quick = Database(database.url, limits=TimeLimits(lock_seconds=0.5))
    drawn: list[int] = []

    def progress(stage: str, _done: int, _total: int) -> None:
        if stage == "importing patients" and not drawn:
            with quick.transaction() as session:
                drawn.append(reserve(session, "mrn"))

    try:
        report = patient_import.import_file(
            database, front_desk, csv_file(tmp_path, HEADER, *ROWS), progress=progress)
    finally:
        quick.dispose()
    assert report.mrns == ("100001", "100002", "100003")
    assert drawn == [4]


def test_a_dry_run_and_a_refused_file_write_nothing(
    database: Database, front_desk: Actor, tmp_path: Path
) -> None:
    dry = patient_import.import_file(
        database, front_desk, csv_file(tmp_path, HEADER, *ROWS), dry_run=True)
    refused = patient_import.import_file(
        database, front_desk, csv_file(tmp_path, "name,dob", "Ng,1990"))
    assert (dry.dry_run, dry.imported, dry.mrns) == (True, 3, ())
    assert refused.stopped and refused.read == 0
    with database.reading() as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == 0
    assert stored_patients(database) == 0


def test_an_imported_patient_is_stored_and_audited_like_a_registered_one(
    database: Database, front_desk: Actor, tmp_path: Path
) -> None:
    typed = register(database, front_desk, family_name="Typed", date_of_birth="1980-01-31",
                     phone="646-555-0193",
                     diagnoses="F32.2", weight_kg="81.5", screening_flags="pregnancy",
                     state="", zip_code="")
    line = "Imported,Jo,1980-01-31,F,646-555-0193,F32.2"
    path = csv_file(tmp_path, "family_name,given_name,date_of_birth,sex,phone,diagnoses,"
                    "weight_kg,screening_flags", line + ",81.5,pregnancy")
    report = patient_import.import_file(database, front_desk, path)
    with database.reading() as session:
        rows = {entry.entity_id: entry.after for entry in session.scalars(
            select(AuditEntry).where(AuditEntry.action == "create"))}
        words = patients.search_patients(session, front_desk, "impo")
    typed_after, imported_after = rows[typed], rows[report.mrns[0]]
    assert typed_after is not None and imported_after is not None
    assert set(typed_after) - set(imported_after) == {"id"}  # named by MRN, as ids come late
    differ = {k for k in imported_after if typed_after[k] != imported_after[k]}
    assert differ == {"mrn", "family_name", "given_name", "created_at"}
    assert [row.mrn for row in words] == list(report.mrns)


# --- bounds ------------------------------------------------------------------------------


def refusal(source: Path | str) -> str:
    with pytest.raises(ImportRefused) as refused:
        read_rows(source)
    return str(refused.value)


def test_a_header_of_a_million_columns_is_refused_in_words() -> None:
    header = ",".join(["family_name", "given_name", "date_of_birth", "sex"]
                      + [f"c{n}" for n in range(1_000_000)])
    assert refusal(header + "\nNg,Ana,1990-01-02,F\n") == (
        "line 1: the header has 1,000,004 columns; a patient list has at most 200 (the "
        "patient and insurance columns); is this the right file?")


def test_many_unknown_and_repeated_columns_are_summed_up() -> None:
    names = ["family_name", "given_name", "date_of_birth", "sex"]
    names += [f"c{n}" for n in range(150)] + ["c0", "c1"]
    message = refusal(",".join(names) + "\n")
    assert "unknown columns: c0, c1, c2, c3, c4, c5, c6, c7, c8, c9 and 142 more;" in message
    assert "repeated columns: c0, c1" in message


def test_too_many_rows_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(patient_import, "MAX_ROWS", 2)
    assert refusal("\n".join([HEADER, *ROWS])) == (
        "line 4: the file has more than 2 patients, more than one import takes; split it "
        "into several files and import each")
    assert len(read_rows("\n".join([HEADER, *ROWS[:2]]))) == 2


def test_too_big_a_file_is_refused_before_it_is_read(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(patient_import, "MAX_BYTES", 100)
    path = csv_file(tmp_path, HEADER, *ROWS)
    assert refusal(path).startswith("line 1: the file is 0.0 MB; an import takes at most 0 MB")
    assert refusal(path.read_text()).startswith("line 1: the file is 0.0 MB")


@pytest.mark.parametrize("length", [5_001, 200_000])
def test_too_long_a_value_is_refused(length: int) -> None:
    text = "\n".join([HEADER, ROWS[0], "Ng,Ana,1990-01-02,F,," + "x" * length])
    assert refusal(text) == (
        "line 3: a value is longer than 5,000 characters, longer than any patient field "
        "takes (a missing closing quote?)")


def test_notes_of_the_longest_allowed_length_are_read() -> None:
    rows = read_rows("family_name,given_name,date_of_birth,sex,notes\n"
                     f"Ng,Ana,1990-01-02,F,{'n' * 4000}\n")
    assert len(rows[0].cells["notes"]) == 4000


# --- the write: staged ahead, then copied in by one short transaction --------------------


def impatient(database: Database) -> Database:
    """The same database, for a desk that gives up on a lock after half a second (on
    SQLite its busy timeout, on PostgreSQL its lock timeout): it fails, rather than waits,
    if the import holds what it needs."""
    quick = Database(database.url, limits=TimeLimits(lock_seconds=0.5))
    if quick.is_sqlite:
        event.listen(quick.engine, "connect",
                     lambda connection, _record: connection.execute("PRAGMA busy_timeout = 500"))
    return quick


def when_staging(action: Callable[[], None], *, every: bool = False) -> patient_import.Progress:
    """A progress hook that runs ``action`` while the import stages its rows (once, or at
    every batch staged when ``every``)."""
    calls: list[bool] = []

    def progress(stage: str, _done: int, _total: int) -> None:
        if stage == "importing patients" and (every or not calls):
            calls.append(True)
            action()

    return progress


def stage_tables_left(database: Database) -> list[str]:
    """Temporary staging tables still held by any pooled connection (there should be none)."""
    query = ("SELECT name FROM sqlite_temp_master WHERE name LIKE :prefix" if database.is_sqlite
             else "SELECT relname FROM pg_class WHERE relpersistence = 't' "
                  "AND relname LIKE :prefix")
    with database.engine.connect() as connection:
        return list(connection.execute(text(query), {"prefix": "stage%"}).scalars())


def chain_holds(database: Database) -> bool:
    with database.reading() as session:
        return audit_chain.verify_chain(session).ok


def test_desks_save_while_the_import_stages_its_rows(
    database: Database, front_desk: Actor, tmp_path: Path
) -> None:
    quick = impatient(database)
    saved: list[str] = []
    try:
        report = patient_import.import_file(
            database, front_desk, csv_file(tmp_path, HEADER, *ROWS),
            progress=when_staging(lambda: saved.append(register(quick, front_desk))))
    finally:
        quick.dispose()
    assert report.imported == 3 and len(saved) == 1
    with database.reading() as session:
        ids = {row.mrn: row.id for row in session.execute(select(Patient.mrn, Patient.id))}
    assert len(set(ids.values())) == 4 and set(report.mrns) | set(saved) == set(ids)
    assert chain_holds(database)  # the desk's audit row first, the import's chained after it
    assert stage_tables_left(database) == []


def test_imported_policies_are_audited_with_their_own_ids(
    database: Database, front_desk: Actor, tmp_path: Path
) -> None:
    with database.transaction() as session:
        add_payer(session, "Aetna")
    path = csv_file(tmp_path, "family_name,given_name,date_of_birth,sex,primary_payer,"
                    "primary_member_id,primary_effective_from",
                    "Ng,Ana,1990-01-02,F,Aetna,W1,2025-01-01", "Osei,Kofi,1975-06-30,M,,,")
    report = patient_import.import_file(database, front_desk, path)
    with database.reading() as session:
        policy = session.scalars(select(InsurancePolicy)).one()
        patient = session.scalars(select(Patient).where(Patient.id == policy.patient_id)).one()
        entry = session.scalars(select(AuditEntry).where(
            AuditEntry.entity == "insurance_policy")).one()
    assert patient.mrn == report.mrns[0]
    assert entry.entity_id == str(policy.id) and entry.after is not None
    assert (entry.after["id"], entry.after["patient_id"]) == (policy.id, patient.id)
    assert entry.after["member_id"] == "W1"
    assert chain_holds(database)


def test_ids_taken_while_staging_are_reserved_again(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, front_desk: Actor
) -> None:
    """On SQLite the import's ids start past the highest; with no room left, a desk saving
    meanwhile takes the first of them, and the import stages again above it."""
    database = sqlite_database(tmp_path)
    monkeypatch.setattr(bulk_registration, "ID_ROOM", 0)
    try:
        saved: list[str] = []
        report = patient_import.import_file(
            database, front_desk, csv_file(tmp_path, HEADER, *ROWS),
            progress=when_staging(lambda: saved.append(register(database, front_desk))))
        assert report.imported == 3 and len(saved) == 1
        assert stored_patients(database) == 4
        assert chain_holds(database)
    finally:
        database.dispose()


def test_an_import_outrun_every_try_says_so_and_writes_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, front_desk: Actor
) -> None:
    database = sqlite_database(tmp_path)
    monkeypatch.setattr(bulk_registration, "ID_ROOM", 0)
    try:
        with pytest.raises(Busy, match="kept registering patients while the import"):
            patient_import.import_file(
                database, front_desk, csv_file(tmp_path, HEADER, *ROWS),
                progress=when_staging(lambda: register(database, front_desk), every=True))
        assert stored_patients(database) == patient_import.WRITE_TRIES  # the desks' only
        assert stage_tables_left(database) == []
    finally:
        database.dispose()


def test_a_write_that_fails_leaves_nothing(
    monkeypatch: pytest.MonkeyPatch, database: Database, front_desk: Actor, tmp_path: Path
) -> None:
    def fail_after_copying(_self: audit.StagedAudit, _session: object) -> int:
        raise RuntimeError("the disk went away")

    monkeypatch.setattr(audit.StagedAudit, "link", fail_after_copying)
    with pytest.raises(RuntimeError, match="disk went away"):
        patient_import.import_file(database, front_desk, csv_file(tmp_path, HEADER, *ROWS))
    assert stored_patients(database) == 0
    with database.reading() as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == 0
    assert stage_tables_left(database) == []


def sqlite_database(tmp_path: Path) -> Database:
    db = Database(f"sqlite:///{tmp_path / 'clinic.sqlite3'}")
    migrations.upgrade(db)
    return db


def test_a_write_lock_held_elsewhere_is_refused_in_words(
    tmp_path: Path, front_desk: Actor
) -> None:
    """If another workstation held SQLite's lock past the busy timeout, the import says so
    and writes nothing (here the timeout is half a second and the lock is held throughout)."""
    database = sqlite_database(tmp_path)
    quick = impatient(database)
    holder = sqlite3.connect(tmp_path / "clinic.sqlite3", isolation_level=None)
    try:
        def hold_the_lock() -> None:
            holder.execute("BEGIN IMMEDIATE")

        with pytest.raises(Busy, match="another workstation is saving to the clinic's database"):
            patient_import.import_file(quick, front_desk, csv_file(tmp_path, HEADER, *ROWS),
                                       progress=when_staging(hold_the_lock))
        holder.rollback()
        assert stored_patients(database) == 0
        assert stage_tables_left(quick) == []
    finally:
        holder.close()
        quick.dispose()
        database.dispose()
