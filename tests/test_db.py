"""Column types and connection settings, on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from ketadesk.clinic.models import Modality
from ketadesk.db import Cents, Database, EnumSet, UTCDateTime, reserve


class SampleBase(DeclarativeBase):
    """Kept apart from the application's metadata, so migrations never see this table."""


class Sample(SampleBase):
    """A table only the tests create, to exercise the column types in isolation."""

    __tablename__ = "test_sample"
    id: Mapped[int] = mapped_column(primary_key=True)
    amount: Mapped[Decimal | None] = mapped_column(Cents)
    when: Mapped[datetime | None] = mapped_column(UTCDateTime)
    kinds: Mapped[frozenset[Modality]] = mapped_column(EnumSet(Modality), default=frozenset)


@pytest.fixture
def sample_session(session: Session) -> Session:
    Sample.__table__.create(session.connection(), checkfirst=True)  # type: ignore[attr-defined]
    return session


def test_money_is_stored_as_integer_cents(sample_session: Session) -> None:
    sample_session.add(Sample(id=1, amount=Decimal("450.10")))
    sample_session.flush()
    raw = sample_session.execute(sa.text("SELECT amount FROM test_sample")).scalar_one()
    assert raw == 45010
    sample_session.expire_all()
    assert sample_session.get(Sample, 1).amount == Decimal("450.10")  # type: ignore[union-attr]
    total = sample_session.execute(sa.select(sa.func.sum(Sample.amount))).scalar_one()
    assert total == Decimal("450.10")


def test_float_never_enters_a_money_column(sample_session: Session) -> None:
    sample_session.add(Sample(id=2, amount=0.1))  # type: ignore[arg-type]
    with pytest.raises(sa.exc.StatementError, match="money takes str, int or Decimal"):
        sample_session.flush()


def test_instants_are_stored_in_utc_and_come_back_aware(sample_session: Session) -> None:
    local = datetime(2026, 3, 8, 9, 30, tzinfo=ZoneInfo("America/New_York"))  # DST day
    sample_session.add(Sample(id=3, when=local))
    sample_session.flush()
    sample_session.expire_all()
    back = sample_session.get(Sample, 3).when  # type: ignore[union-attr]
    assert back == local
    assert back.tzinfo == UTC
    assert back.hour == 13  # 09:30 EDT


def test_naive_datetimes_are_refused(sample_session: Session) -> None:
    sample_session.add(Sample(id=4, when=datetime(2026, 1, 1, 9, 0)))
    with pytest.raises(sa.exc.StatementError, match="naive datetime"):
        sample_session.flush()


def test_enum_sets_round_trip(sample_session: Session) -> None:
    sample_session.add(Sample(id=5, kinds=frozenset({Modality.KAP, Modality.IV})))
    sample_session.flush()
    raw = sample_session.execute(sa.text("SELECT kinds FROM test_sample")).scalar_one()
    assert raw == "iv,kap"
    sample_session.expire_all()
    assert sample_session.get(Sample, 5).kinds == {Modality.IV, Modality.KAP}  # type: ignore[union-attr]


def test_counters_hand_out_blocks(session: Session) -> None:
    assert reserve(session, "test") == 1
    assert reserve(session, "test", 10) == 2
    assert reserve(session, "test") == 12
    with pytest.raises(ValueError, match="at least 1"):
        reserve(session, "test", 0)


def test_sqlite_connection_settings(sqlite_db: Database) -> None:
    with sqlite_db.reading() as s:
        pragmas = {
            name: s.execute(sa.text(f"PRAGMA {name}")).scalar_one()
            for name in ("journal_mode", "foreign_keys", "busy_timeout")
        }
    assert pragmas == {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 15000}


def test_write_transactions_take_the_sqlite_lock_up_front(sqlite_db: Database) -> None:
    """A second writer cannot start while the first holds BEGIN IMMEDIATE."""
    with sqlite_db.transaction():
        other = sqlite3.connect(
            sqlite_db.engine.url.database or "", timeout=0.1, isolation_level=None
        )
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        other.close()


@pytest.mark.parametrize("opened", ["reading", "rows"])
def test_a_read_sees_one_snapshot_of_sqlite(sqlite_db: Database, opened: str) -> None:
    """Reads begin a transaction (the dialect's own BEGIN): a row another workstation
    commits meanwhile shows in the next read, not in the one under way."""
    counted = sa.text("SELECT count(*) FROM counter")
    with getattr(sqlite_db, opened)() as reader:
        before = reader.execute(counted).scalar_one()
        other = sqlite3.connect(sqlite_db.engine.url.database or "", isolation_level=None)
        other.execute("INSERT INTO counter (name, value) VALUES ('elsewhere', 1)")
        other.close()
        assert reader.execute(counted).scalar_one() == before
    with getattr(sqlite_db, opened)() as reader:
        assert reader.execute(counted).scalar_one() == before + 1


def test_a_failed_transaction_changes_nothing(database: Database) -> None:
    with pytest.raises(RuntimeError), database.transaction() as s:
        reserve(s, "rollback-check")
        raise RuntimeError("refused")
    with database.reading() as s:
        assert (
            s.execute(
                sa.text("SELECT count(*) FROM counter WHERE name = 'rollback-check'")
            ).scalar_one()
            == 0
        )


def test_a_read_session_writes_nothing(database: Database) -> None:
    with database.reading() as s:
        reserve(s, "read-only-check")
    with database.reading() as s:
        found = s.execute(sa.text("SELECT count(*) FROM counter WHERE name = 'read-only-check'"))
        assert found.scalar_one() == 0


def test_a_rows_connection_writes_nothing(database: Database) -> None:
    with database.rows() as connection:
        connection.execute(sa.text("INSERT INTO counter (name, value) VALUES ('rows-check', 1)"))
        assert connection.in_transaction()  # its statements share one transaction
    with database.reading() as s:
        found = s.execute(sa.text("SELECT count(*) FROM counter WHERE name = 'rows-check'"))
        assert found.scalar_one() == 0


def checked_out(pool: sa.pool.Pool) -> int:
    assert isinstance(pool, sa.pool.QueuePool)  # what files and servers are opened with
    return pool.checkedout()


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_held_rows_keep_one_connection_while_reads_come_quickly(database: Database) -> None:
    clock = Clock()
    held = database.held_rows(idle=2.0, clock=clock)
    checkouts: list[object] = []
    sa.event.listen(database.engine, "checkout", lambda *args: checkouts.append(args[0]))
    counted = sa.text("SELECT count(*) FROM counter")
    with held.rows() as connection:
        before = connection.execute(counted).scalar_one()
        connection.execute(sa.text("INSERT INTO counter (name, value) VALUES ('held', 1)"))
    assert checked_out(database.engine.pool) == 1  # kept between reads
    clock.now += 1.5
    with held.rows() as connection:  # a read of its own: the insert was rolled back
        assert connection.execute(counted).scalar_one() == before
    assert len(checkouts) == 1
    clock.now += 2.5  # a pause: the kept connection goes back and a fresh one comes out
    with held.rows() as connection:
        connection.execute(counted)
    assert len(checkouts) == 2
    pool = database.engine.pool
    database.dispose()  # and the held one is returned, so the pool can close it
    assert checked_out(pool) == 0


def test_held_rows_return_the_connection_when_a_read_fails(database: Database) -> None:
    held = database.held_rows()
    with pytest.raises(sa.exc.DBAPIError), held.rows() as connection:
        connection.execute(sa.text("SELECT * FROM no_such_table"))
    assert checked_out(database.engine.pool) == 0
    with held.rows() as connection:
        assert connection.execute(sa.text("SELECT 1")).scalar_one() == 1


def test_what_a_read_session_loaded_stays_readable_after_it(database: Database) -> None:
    from ketadesk.clinic.models import Payer

    with database.transaction() as s:
        s.add(Payer(name="Cigna", edi_payer_id="62308"))
    with database.reading() as s:
        payer = s.scalars(sa.select(Payer).where(Payer.name == "Cigna")).one()
    assert (payer.name, payer.edi_payer_id) == ("Cigna", "62308")


def test_a_uniqueness_race_reads_as_a_conflict(database: Database) -> None:
    """Two workstations saving the same unique value: the loser gets words, not a trace."""
    from ketadesk.clinic.models import Payer
    from ketadesk.errors import Conflict

    with database.transaction() as s:
        s.add(Payer(name="Aetna", edi_payer_id="60054"))
    with pytest.raises(Conflict, match="collides with a record saved"), database.transaction() as s:
        s.add(Payer(name="Aetna", edi_payer_id="60054"))
    with database.reading() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Payer)) == 1
