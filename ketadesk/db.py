"""Storage: the engine, sessions, shared column types and migrations.

Every model derives from :class:`Base`. A :class:`Database` wraps one engine and hands out
transactions: ``with db.transaction() as s:`` commits on success and rolls back on any
error, so a refused action changes nothing. On SQLite a write transaction starts with
``BEGIN IMMEDIATE``, taking the write lock before anything is read, so two processes cannot
both check a chair and both book it; WAL lets readers carry on meanwhile. Reads come as an
ORM session (``db.reading()``) or, for plain rows read often such as a search as you type,
as a bare connection (``db.rows()``, or ``db.held_rows()`` to keep one while a person types);
each is rolled back at its end.

The database guards what must never change: triggers (migration 0005) refuse to update or
delete ledger entries, allocations, an issued invoice's lines and audit rows, and a
transaction that runs into one raises :class:`~ketadesk.errors.AppendOnly` with the
trigger's sentence.

Column types that hold the project's invariants live here:

* :class:`Cents` stores money as integer cents and hands out ``Decimal``;
* :class:`UTCDateTime` stores instants in UTC and refuses naive datetimes;
* :class:`EnumSet` stores a small set of ``StrEnum`` members (a chair's modalities).
"""

from __future__ import annotations

import enum
import os
import sqlite3
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Generic, TypeVar

from sqlalchemy import (
    BigInteger,
    Connection,
    DateTime,
    Dialect,
    Engine,
    MetaData,
    String,
    create_engine,
    event,
    inspect,
    text,
)
from sqlalchemy import Enum as SAEnum
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.sql.dml import Insert, Update
from sqlalchemy.types import TypeDecorator

from ketadesk.busy import busy_refusal
from ketadesk.config import TimeLimits, time_limits
from ketadesk.errors import AppendOnly, Conflict, FieldProblem, ValidationError
from ketadesk.money import from_cents, to_cents
from ketadesk.safe_text import first_unsafe, refusal

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Cents(TypeDecorator[Decimal]):
    """Money: ``Decimal`` in Python, a 64-bit integer count of cents in the database."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> int | None:
        return None if value is None else to_cents(value)

    def process_result_value(self, value: int | None, dialect: Dialect) -> Decimal | None:
        return None if value is None else from_cents(int(value))


class UTCDateTime(TypeDecorator[datetime]):
    """An instant, stored in UTC; naive datetimes are refused rather than guessed at."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} given; instants need a zone")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            # Stored naive in UTC (SQLite). combine() rather than replace(tzinfo=UTC): it
            # costs a quarter as much, and a week view reads two instants for each of its
            # hundreds of sessions (issue 14).
            return datetime.combine(value.date(), value.time(), UTC)
        return value.astimezone(UTC)


class Scaled(TypeDecorator[Decimal]):
    """A fixed-point ``Decimal`` (a weight in kg to 0.1) stored as a scaled integer."""

    impl = BigInteger
    cache_ok = True

    def __init__(self, places: int) -> None:
        super().__init__()
        self.places = places
        self.quantum = Decimal(1).scaleb(-places)

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> int | None:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError(f"expected Decimal, got {type(value).__name__}")
        return int(value.quantize(self.quantum).scaleb(self.places))

    def process_result_value(self, value: int | None, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(int(value)).scaleb(-self.places)


E = TypeVar("E", bound=enum.StrEnum)


class EnumSet(TypeDecorator[frozenset[Any]], Generic[E]):
    """A set of ``StrEnum`` members stored as sorted comma-separated values."""

    impl = String(200)
    cache_ok = True

    def __init__(self, enum_type: type[E]) -> None:
        super().__init__()
        self.enum_type = enum_type

    def process_bind_param(self, value: frozenset[E] | None, dialect: Dialect) -> str:
        return ",".join(sorted(str(member) for member in value or ()))

    def process_result_value(self, value: str | None, dialect: Dialect) -> frozenset[E]:
        return frozenset(self.enum_type(part) for part in (value or "").split(",") if part)


def enum_column(enum_type: type[enum.StrEnum]) -> SAEnum:
    """A ``StrEnum`` stored by its value as plain text (portable, readable in SQL)."""
    return SAEnum(
        enum_type,
        native_enum=False,
        length=30,
        validate_strings=True,
        values_callable=lambda members: [m.value for m in members],
    )


intpk = Annotated[int, mapped_column(primary_key=True)]
created_at = Annotated[datetime, mapped_column(UTCDateTime, default=utcnow)]
money_column = Annotated[Decimal, mapped_column(Cents)]


class Counter(Base):
    """Named counters for numbers people read: MRNs now, invoice numbers later."""

    __tablename__ = "counter"
    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


def reserve(session: Session, name: str, count: int = 1) -> int:
    """Reserve ``count`` consecutive values of counter ``name``; return the first.

    One upsert inside the caller's transaction: it creates the counter at its first use and
    otherwise adds ``count``, returning the new value. Two workstations never draw the same
    number, and the first use of a counter never collides: on PostgreSQL, two desks issuing
    the first invoice of a year at once used to both find no row and both insert one, and
    the second was refused as a conflict; ``ON CONFLICT`` makes it wait for the first and
    add to its value. The counter row stays locked until the caller's transaction ends, so
    numbers that must have no gaps (invoices) are drawn in the transaction that uses them.
    """
    if count < 1:
        raise ValueError("count must be at least 1")
    statement: Any
    if session.get_bind().dialect.name == "postgresql":
        # Imported here, so a start-up on SQLite loads no PostgreSQL code.
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        statement = pg_insert(Counter)
    else:
        statement = sqlite_insert(Counter)
    upsert = (
        statement.values(name=name, value=count)
        .on_conflict_do_update(index_elements=[Counter.name], set_={"value": Counter.value + count})
        .returning(Counter.value)
    )
    last = session.execute(upsert).scalar_one()
    return int(last) - count + 1


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Autocommit at the driver level: the dialect below sends BEGIN itself, and a write
    # transaction's "begin" hook BEGIN IMMEDIATE, which is how pysqlite is made to honour it
    # (SQLAlchemy's pysqlite notes).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA busy_timeout = 15000")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()


class SQLiteDialect(SQLiteDialect_pysqlite):
    """pysqlite, beginning each transaction itself (the driver's own BEGIN is off).

    ``BEGIN`` goes straight to the driver. Sent from an engine's ``begin`` event instead, as
    SQLAlchemy's pysqlite notes show, it ran one more statement through the engine per
    transaction and switched on the engine's event dispatch for every statement after it:
    together about a tenth of a keystroke's search. Write transactions keep such an event on
    their own engine (:func:`write_engine`); its ``BEGIN IMMEDIATE`` comes first.
    """

    supports_statement_cache = True  # a subclass must say so, or SQLAlchemy stops caching

    def do_begin(self, dbapi_connection: Any) -> None:
        if not dbapi_connection.in_transaction:
            dbapi_connection.execute("BEGIN")


registry.register("sqlite.ketadesk", __name__, "SQLiteDialect")


def _sqlite_begin_immediate(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine for ``url`` with KetaDesk's connection settings applied."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            create_private_file(Path(parsed.database))
        engine = create_engine(parsed.set(drivername="sqlite+ketadesk"), echo=echo,
                               connect_args={"timeout": 15})
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, echo=echo, pool_pre_ping=True)
    event.listen(engine, "before_execute", refuse_unsafe_text)
    return engine


def create_private_file(path: Path) -> None:
    """Create the database file (and its folder) readable by its owner only, if new.

    SQLite creates a new database world-readable under the usual umask (0644); it gives its
    ``-wal`` and ``-shm`` files the database file's own mode, so creating the file first,
    empty and 0600, keeps all three private. A folder made here is 0700.
    """
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with suppress(FileExistsError):  # another process created it a moment ago
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def write_engine(engine: Engine) -> Engine:
    """``engine`` as write transactions use it: on SQLite each begins with ``BEGIN
    IMMEDIATE``, taking the write lock before anything is read."""
    writes = engine.execution_options()
    if engine.dialect.name == "sqlite":
        event.listen(writes, "begin", _sqlite_begin_immediate)
    return writes


# The audit log keeps what was there, as it was; its JSON escapes control characters itself.
_TEXT_GUARD_EXEMPT = frozenset({"audit_entry"})


def refuse_unsafe_text(
    _connection: Connection,
    statement: Any,
    multiparams: Any,
    params: Any,
    _options: Any,
) -> None:
    """Refuse, before it is written, text holding a control or invisible character.

    One home for every free-text field (a payment's reference, a note, a reason, a name),
    whether the ORM or a bulk Core insert writes it: the values of every INSERT and UPDATE
    are checked (:mod:`ketadesk.safe_text`) and the statement is refused with a
    :class:`~ketadesk.errors.ValidationError` naming the field, so the transaction rolls back,
    a form shows the problem beside the field and the command line in one line.
    """
    if not isinstance(statement, (Insert, Update)):
        return
    if getattr(statement.table, "name", None) in _TEXT_GUARD_EXEMPT:
        return
    problems = {
        key: refusal(found)
        for row in _parameter_rows(multiparams, params)
        for key, value in row.items()
        if isinstance(value, str) and (found := first_unsafe(value)) is not None
    }
    if problems:
        raise ValidationError(
            FieldProblem(str(key).replace("_", " "), message) for key, message in problems.items()
        )


def _parameter_rows(multiparams: Any, params: Any) -> Iterator[dict[str, Any]]:
    for given in (*multiparams, params):
        if isinstance(given, dict):
            yield given
        elif isinstance(given, (list, tuple)):
            yield from (row for row in given if isinstance(row, dict))


_LIMITS = text("SELECT set_config('lock_timeout', :lock, true), "
               "set_config('statement_timeout', :statement, true)")


class Database:
    """One database: its engine and the transactions the faces open around services."""

    def __init__(self, url: str, *, echo: bool = False,
                 limits: TimeLimits | None = None) -> None:
        self.url = url
        self.engine = make_engine(url, echo=echo)
        self.limits = limits or time_limits()
        self._reads = sessionmaker(self.engine, expire_on_commit=False)
        self._writes = sessionmaker(write_engine(self.engine), expire_on_commit=False)
        self._held: weakref.WeakSet[HeldRows] = weakref.WeakSet()

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def transaction(self, *, job: bool = False) -> Iterator[Session]:
        """A write transaction: commits if the block succeeds, rolls back if it raises.

        The transaction begins at once (on SQLite: ``BEGIN IMMEDIATE``, the write lock),
        not lazily at the first statement, so every read inside it sees a settled database.
        On PostgreSQL a person's action (the default) waits at most :attr:`limits` for a
        lock and for each statement; a ``job`` (an import's write, a migration) has no such
        limit. Waiting too long, on either database, raises :class:`~ketadesk.errors.Busy`
        saying what was busy.
        """
        with self.refusals(), self._writes() as session, session.begin():
            self._begin(session, job=job)
            yield session

    @contextmanager
    def refusals(self) -> Iterator[None]:
        """Turn what a write transaction's database refuses into a sentence: an append-only
        row touched (:class:`~ketadesk.errors.AppendOnly`), a clash with a record saved at the
        same moment (:class:`~ketadesk.errors.Conflict`), a lock or statement waited on too
        long (:class:`~ketadesk.errors.Busy`)."""
        try:
            yield
        except IntegrityError as error:
            refused = append_only_refusal(error)
            if refused is not None:
                raise refused from error
            # Services check uniqueness first and name the clash; this catches the race
            # where another workstation saved the same thing a moment earlier.
            raise Conflict(
                "this change collides with a record saved at the same moment elsewhere "
                "(for example the same code or name); reload and try again"
            ) from error
        except DBAPIError as error:
            busy = busy_refusal(error, self.limits.statement_seconds)
            if busy is None:
                raise
            raise busy from error

    def _begin(self, session: Session, *, job: bool) -> None:
        """Start the transaction now, with a person's time limits unless it is a job.

        ``SET LOCAL`` (``set_config(..., true)``) holds until the transaction ends, so the
        pooled connection goes back to the next user without the limits.
        """
        connection = session.connection()
        if job or connection.dialect.name != "postgresql":
            return
        connection.execute(_LIMITS, {
            "lock": f"{round(self.limits.lock_seconds * 1000)}ms",
            "statement": f"{round(self.limits.statement_seconds * 1000)}ms",
        })

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A read-only session (no write lock); whatever it did is rolled back at the end.

        Closing the session ends its transaction with a rollback and hands the connection
        back. An explicit ``rollback()`` before it cost every read (each keystroke of the
        patient search) a second pass through the session's state machine -- about a tenth
        of a keystroke -- and expired every object read, so none could be looked at once the
        block was over; now what was read stays readable, detached, and nothing is written.
        """
        with self._reads() as session:
            yield session

    @contextmanager
    def rows(self) -> Iterator[Connection]:
        """A read-only Core connection, for services that read plain rows (search as you type).

        What :meth:`reading` does without an ORM session: no session to build, flush and
        close around the statements, which was most of a keystroke's cost beyond SQLite's
        own work. The transaction begins at the first statement (one snapshot for all of
        them) and is rolled back when the block ends; nothing is written.
        """
        with self.engine.connect() as connection:
            yield connection

    def held_rows(self, *, idle: float = 2.0,
                  clock: Callable[[], float] = time.monotonic) -> HeldRows:
        """:meth:`rows` for a burst of reads on one kept connection (:class:`HeldRows`)."""
        held = HeldRows(self.engine, idle=idle, clock=clock)
        self._held.add(held)
        return held

    def dispose(self) -> None:
        for held in list(self._held):
            held.release()
        self.engine.dispose()


class HeldRows:
    """A read-only connection kept across a burst of short reads: a person typing a search.

    Each read (:meth:`rows`) is its own transaction, rolled back when its block ends, as
    with :meth:`Database.rows`. What is kept is the connection: a keystroke no longer pays
    for a check-out from the pool and a return to it, an eighth of a keystroke's search
    (docs/PERFORMANCE.md). A read coming more than ``idle`` seconds after the last one
    returns the kept connection and checks out a fresh one, so a pause in typing never
    leaves an unchecked connection in use (the pool pre-pings PostgreSQL ones); a read that
    fails returns it too, and so does :meth:`Database.dispose`, so the last connection to a
    SQLite file still closes (and folds its write-ahead log back in). Made by
    :meth:`Database.held_rows`, for one thread, like the window that types.
    """

    def __init__(self, engine: Engine, *, idle: float = 2.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._engine = engine
        self._idle = idle
        self._clock = clock
        self._connection: Connection | None = None
        self._last = 0.0

    @contextmanager
    def rows(self) -> Iterator[Connection]:
        """The kept connection for one read; whatever the block did is rolled back."""
        if self._connection is not None and self._clock() - self._last > self._idle:
            self.release()
        if self._connection is None:
            self._connection = self._engine.connect()
        connection = self._connection
        try:
            yield connection
            connection.rollback()
        except BaseException:
            self.release()
            raise
        self._last = self._clock()

    def release(self) -> None:
        """Return the kept connection to the pool; the next read checks one out again."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None


# Services that read plain rows take either: a session in the middle of other work, or the
# bare connection of Database.rows() or HeldRows.rows().
Reader = Session | Connection


def connection_of(reader: Reader) -> Connection:
    """The connection to run a plain-row statement on: ``reader`` itself if it is one, else
    the session's, flushed first so that rows the session added but has not committed are
    read too."""
    if isinstance(reader, Connection):
        return reader
    reader.flush()
    return reader.connection()


# Every message of the append-only triggers (migration 0005) carries this word.
APPEND_ONLY_MARK = "append-only"


def append_only_refusal(error: DBAPIError) -> AppendOnly | None:
    """The readable refusal inside ``error`` when an append-only trigger raised it, else None.

    SQLite's ``RAISE(ABORT, ...)`` and PostgreSQL's ``restrict_violation`` both arrive as an
    integrity error whose first line is the trigger's sentence; PostgreSQL adds context lines
    (which function, which statement) that a person need not read.
    """
    lines = str(error.orig).strip().splitlines()
    first = lines[0].strip() if lines else ""
    return AppendOnly(first) if APPEND_ONLY_MARK in first else None


def sqlite_path(engine: Engine) -> Path | None:
    """The file behind a SQLite engine, or ``None`` for other databases and memory."""
    if engine.dialect.name != "sqlite":
        return None
    name = engine.url.database
    return Path(name) if name and name != ":memory:" else None


def backup_sqlite(engine: Engine, target: Path) -> Path:
    """Copy a live SQLite database to ``target`` with SQLite's online backup API."""
    source_path = sqlite_path(engine)
    if source_path is None:
        raise ValueError("only a SQLite file can be backed up this way")
    target.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))  # PHI: owner only
    source = sqlite3.connect(source_path)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
    finally:
        copy.close()
        source.close()
    return target


def has_tables(engine: Engine) -> bool:
    return bool(inspect(engine).get_table_names())
