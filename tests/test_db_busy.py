"""Jobs that never block the clinic (issue 13): counters drawn by racing workstations, and
time limits that turn a long wait into words, on real SQLite and PostgreSQL databases.

Another connection holds a lock; no timing is asserted, only what comes back.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from builders import patient_raw
from sqlalchemy import event

from ketadesk.access.permissions import Actor
from ketadesk.clinic import patients
from ketadesk.config import TimeLimits, time_limits
from ketadesk.db import Database, reserve, sqlite_path
from ketadesk.errors import Busy, InvalidValue

PG_ONLY = [pytest.param("postgresql", marks=pytest.mark.postgres)]
DESKS = 8


def draw_together(db: Database, name: str, desks: int = DESKS) -> tuple[list[int], list[str]]:
    """``desks`` threads, each with its own connection, begin a transaction, wait for one
    another, then draw from counter ``name`` at the same moment. (On SQLite, where a write
    transaction holds the whole database, they wait for one another before beginning.)"""
    ready = threading.Barrier(desks)
    drawn: list[int] = []
    failed: list[str] = []

    def desk() -> None:
        try:
            if db.is_sqlite:
                ready.wait(timeout=30)
            with db.transaction() as session:
                if not db.is_sqlite:
                    ready.wait(timeout=30)
                drawn.append(reserve(session, name))
        except Exception as error:  # a failure is what the test looks for
            failed.append(f"{type(error).__name__}: {error}")

    threads = [threading.Thread(target=desk) for _ in range(desks)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return drawn, failed


@pytest.mark.parametrize("database", PG_ONLY, indirect=True)
def test_eight_desks_draw_a_new_counter_at_once(database: Database) -> None:
    """The first invoice of a year at a location, issued by eight desks at once: the counter
    row does not exist yet, and every desk must still get its own number, with no gap."""
    drawn, failed = draw_together(database, "invoice:NYC:2031")
    assert failed == []
    assert sorted(drawn) == list(range(1, DESKS + 1))


def test_eight_desks_draw_an_existing_counter_at_once(database: Database) -> None:
    with database.transaction() as session:
        assert reserve(session, "claim:2031", 3) == 1
    drawn, failed = draw_together(database, "claim:2031")
    assert failed == []
    assert sorted(drawn) == list(range(4, 4 + DESKS))


def test_a_rolled_back_draw_leaves_no_gap(database: Database) -> None:
    with pytest.raises(RuntimeError), database.transaction() as session:
        reserve(session, "invoice:NYC:2032")
        raise RuntimeError("the invoice was not saved")
    with database.transaction() as session:
        assert reserve(session, "invoice:NYC:2032") == 1


# --- PostgreSQL time limits ----------------------------------------------------------------


def limited(database: Database, lock: float, statement: float) -> Iterator[Database]:
    db = Database(database.url, limits=TimeLimits(lock_seconds=lock, statement_seconds=statement))
    yield db
    db.dispose()


@pytest.fixture
def quick(database: Database) -> Iterator[Database]:
    """The same database, waiting for locks no longer than a test would."""
    yield from limited(database, lock=0.2, statement=30)


@pytest.fixture
def hasty(database: Database) -> Iterator[Database]:
    """The same database, letting a statement run no longer than a test would."""
    yield from limited(database, lock=5, statement=0.2)


@pytest.mark.parametrize("database", PG_ONLY, indirect=True)
def test_a_held_counter_row_becomes_words(
    database: Database, quick: Database, front_desk: Actor
) -> None:
    with database.transaction() as session:
        reserve(session, "mrn")
    with database.engine.connect() as other:
        other.execute(sa.text("SELECT value FROM counter WHERE name = 'mrn' FOR UPDATE"))
        with pytest.raises(Busy) as busy, quick.transaction() as session:
            patients.create_patient(session, front_desk, patient_raw())
        other.rollback()
    assert str(busy.value) == (
        "another workstation is saving record numbers (MRNs, invoice and claim numbers); "
        "nothing was changed; try again in a moment")
    with quick.transaction() as session:  # free again: the desk's next try works
        patients.create_patient(session, front_desk, patient_raw())


@pytest.mark.parametrize("database", PG_ONLY, indirect=True)
def test_a_held_patient_row_becomes_words(
    database: Database, quick: Database, front_desk: Actor
) -> None:
    with database.transaction() as session:
        patient = patients.create_patient(session, front_desk, patient_raw())
    with database.engine.connect() as other:
        other.execute(sa.text("UPDATE patient SET notes = 'busy' WHERE id = :id"),
                      {"id": patient.id})
        with pytest.raises(Busy, match=r"^another workstation is saving patient records;"), \
                quick.transaction() as session:
            patients.update_patient(session, front_desk, patient.id,
                                    patient_raw(notes="mine"), expected_version=1)
        other.rollback()


@pytest.mark.parametrize("database", PG_ONLY, indirect=True)
def test_a_long_statement_becomes_words_but_a_job_may_run(hasty: Database) -> None:
    with pytest.raises(Busy) as busy, hasty.transaction() as session:
        session.execute(sa.text("SELECT pg_sleep(2), (SELECT count(*) FROM patient)"))
    assert str(busy.value) == (
        "working on patient records took longer than 0.2 seconds, the database is very busy; "
        "nothing was changed; try again in a moment")
    with hasty.transaction(job=True) as session:
        session.execute(sa.text("SELECT pg_sleep(0.4)"))


@pytest.mark.parametrize("database", PG_ONLY, indirect=True)
def test_limits_hold_for_the_transaction_only(quick: Database) -> None:
    with quick.transaction() as session:
        assert session.execute(sa.text("SHOW lock_timeout")).scalar() == "200ms"
        assert session.execute(sa.text("SHOW statement_timeout")).scalar() == "30s"
    with quick.engine.connect() as connection:
        assert connection.execute(sa.text("SHOW lock_timeout")).scalar() == "0"


# --- SQLite's write lock ------------------------------------------------------------------


def test_sqlite_locked_becomes_words(sqlite_db: Database, front_desk: Actor) -> None:
    sqlite_db.engine.dispose()
    event.listen(sqlite_db.engine, "connect",
                 lambda dbapi, _record: dbapi.execute("PRAGMA busy_timeout = 50"))
    other = sqlite3.connect(str(sqlite_path(sqlite_db.engine)), isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # another workstation holds the write lock
        with pytest.raises(Busy) as busy, sqlite_db.transaction() as session:
            patients.create_patient(session, front_desk, patient_raw())
    finally:
        other.close()
    assert str(busy.value) == (
        "another workstation is saving to the clinic's database (perhaps a long import); "
        "nothing was changed; try again in a moment")


# --- settings ------------------------------------------------------------------------------


def test_time_limits_come_from_the_environment() -> None:
    assert time_limits({}) == TimeLimits(5.0, 30.0)
    assert time_limits({"KETADESK_LOCK_TIMEOUT": "2.5",
                        "KETADESK_STATEMENT_TIMEOUT": " 60 "}) == TimeLimits(2.5, 60.0)
    for wrong in ("0", "-1", "soon", "nan", "1e9"):
        with pytest.raises(InvalidValue, match="KETADESK_LOCK_TIMEOUT must be a number of"):
            time_limits({"KETADESK_LOCK_TIMEOUT": wrong})
