"""Big writes staged ahead, then copied in by one short write transaction (issue 13).

A job that stores tens of thousands of rows (the patient import) would hold the database's
write lock for as long as it takes to insert them one by one: SQLAlchemy processes every
value of every row and the database binds it, two seconds for 30,000 patients on an idle
machine, and every other workstation's save waits that long (on SQLite the whole database
is locked; on PostgreSQL the audit log's tail is).

:class:`Staging` keeps one connection for the job. :meth:`Staging.stage` writes rows, with
the values already final, into a temporary table of that connection: it is private to the
connection, so no other workstation sees it or waits for it (SQLite writes it to the
connection's own temporary database, not the clinic's file). :meth:`Staging.writing` then
opens the one write transaction, in which :meth:`Staging.copy` moves each table's rows in a
single ``INSERT ... SELECT`` that the database runs by itself, a tenth of a second for
30,000 patients. The job stays all or nothing: until that transaction commits, nothing of
it is in the clinic's tables, and the temporary tables vanish with the connection.

Every staged value goes through the same checks as any insert (``refuse_unsafe_text``), at
staging time; the copy carries no values of its own.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    CursorResult,
    Integer,
    MetaData,
    Table,
    Text,
    insert,
    select,
    text,
)
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from ketadesk.db import Database

STAGE_PREFIX = "stage_"


class Staging:
    """One job's staging connection and its temporary tables; use it as a context manager
    (the tables are dropped and the connection returned when the block ends)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._connection: Connection | None = None
        self._metadata = MetaData()
        self._tables: dict[str, Table] = {}

    def __enter__(self) -> Staging:
        self._connection = self._db.engine.connect()
        return self

    def __exit__(self, *_exc: object) -> None:
        connection = self._connection
        if connection is None:
            return
        self._connection = None
        try:
            if connection.in_transaction():
                connection.rollback()
            with connection.begin():
                for table in self._tables.values():
                    table.drop(connection, checkfirst=True)
        except SQLAlchemyError:
            # A connection that cannot drop them is not handed back: closing it for good
            # takes its temporary tables with it, and the job's own error is the one raised.
            connection.invalidate()
        finally:
            connection.close()

    @property
    def connection(self) -> Connection:
        if self._connection is None:
            raise RuntimeError("a Staging is used inside its with-block")
        return self._connection

    def table(self, source: Table) -> Table:
        """The temporary copy of ``source``: the same columns and types, no constraints."""
        staged = self._tables.get(source.name)
        if staged is None:
            staged = Table(
                STAGE_PREFIX + source.name,
                self._metadata,
                *(Column(column.name, column.type.copy()) for column in source.columns),
                prefixes=["TEMPORARY"],
            )
            with self.connection.begin():
                staged.create(self.connection)
            self._tables[source.name] = staged
        return staged

    def stage(self, source: Table, rows: Sequence[Mapping[str, Any]]) -> None:
        """Write ``rows`` (values as for an insert into ``source``) into its temporary copy,
        in a transaction of the staging connection's own that locks nothing of the clinic's."""
        staged = self.table(source)
        if rows:
            with self.connection.begin():
                self.connection.execute(insert(staged), list(rows))

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """The job's write transaction, on the staging connection: the write lock, with the
        refusals of :meth:`Database.transaction` (Busy, Conflict, AppendOnly) in words.
        Commits if the block succeeds; rolls back if it raises."""
        connection = self.connection
        with self._db.refusals():
            if self._db.is_sqlite:
                _begin_immediate(connection)
            with connection.begin(), Session(bind=connection) as session:
                yield session
                session.flush()

    def clear(self) -> None:
        """Empty every staged table (to stage again after a try that could not be written)."""
        with self.connection.begin():
            for table in self._tables.values():
                self.connection.execute(table.delete())

    def copy(self, session: Session, target: Table, columns: Sequence[str],
             expressions: Mapping[str, Any] | None = None, source: Any = None) -> int:
        """Move the staged rows of ``target`` into it: ``columns`` of it,
        each taken from the staged column of that name or from ``expressions``, selected
        from the staged table or from ``source`` (a join with it); returns how many."""
        staged = self._tables.get(target.name)
        if staged is None:
            return 0
        expressions = expressions or {}
        chosen = select(*(expressions.get(name, staged.c[name]) for name in columns))
        chosen = chosen.select_from(staged if source is None else source)
        moved: CursorResult[Any] = session.execute(  # type: ignore[assignment]
            insert(target).from_select(list(columns), chosen))
        return int(moved.rowcount or 0)

    def pairs(self, session: Session, name: str, values: Sequence[tuple[int, str]]) -> Table:
        """A temporary table ``name`` (``n`` integer, ``value`` text) holding ``values``,
        written inside ``session``'s transaction in one statement's worth of driver work
        (for ids and hashes worked out under the lock)."""
        connection = session.connection()
        table = self._tables.get(name)
        if table is None:
            table = Table(name, self._metadata, Column("n", Integer(), primary_key=True),
                          Column("value", Text()), prefixes=["TEMPORARY"])
            self._tables[name] = table
        table.create(connection, checkfirst=True)  # a rolled-back try took it away
        if connection.dialect.name == "postgresql":
            connection.execute(
                text(f"INSERT INTO {table.name} (n, value) "
                     "SELECT * FROM unnest(CAST(:ns AS bigint[]), CAST(:values AS text[]))"),
                {"ns": [n for n, _ in values], "values": [v for _, v in values]})
        else:
            connection.exec_driver_sql(
                f"INSERT INTO {table.name} (n, value) VALUES (?, ?)", list(values))
        return table



def _begin_immediate(connection: Connection) -> None:
    """Take SQLite's write lock before anything is read, as every write transaction does.

    Sent to the driver, since SQLAlchemy would begin a transaction of its own first (and
    then sees this one and adds none); a lock that stays taken past the busy timeout comes
    back as SQLAlchemy's error, which :meth:`Database.refusals` turns into words.
    """
    driver = connection.connection.driver_connection
    try:
        driver.execute("BEGIN IMMEDIATE")  # type: ignore[union-attr]
    except sqlite3.OperationalError as error:
        raise OperationalError("BEGIN IMMEDIATE", None, error) from error
