"""The demo's bulk writer: rows as plain dictionaries, written with SQLAlchemy Core in chunks.

Every stage of the generator (patients, sessions, money) writes through here, so there is one
way rows reach the database:

- :func:`insert_rows` writes one table's rows (all with the same keys). Money columns hold
  integer cents in the rows (:class:`~ketadesk.db.Cents`). On SQLite the values go straight
  into the driver's ``executemany``, each converted as its column stores it
  (:func:`_converter`): the generic per-row parameter handling would otherwise take as long
  as a whole stage. Elsewhere cents become ``Decimal`` and SQLAlchemy's usual parameter
  handling writes them.
- :class:`Sink` buffers rows of several tables, hands out ids (so rows can point at each
  other before they are written), writes the tables in foreign-key order whenever
  :data:`CHUNK` rows wait, and finally moves PostgreSQL's id sequences past the ids it
  assigned, so the services continue from there.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from functools import lru_cache
from operator import itemgetter
from typing import Any

from sqlalchemy import Date, Dialect, Table, func, insert, select, text
from sqlalchemy import Enum as SAEnum
from sqlalchemy.orm import Session

from ketadesk.db import Base, Cents, UTCDateTime
from ketadesk.money import from_cents

CHUNK = 20_000  # buffered rows (all tables together) per round of bulk INSERTs
Processor = Callable[[Any], Any]


def table_of(model: type[Base]) -> Table:
    """The Core table behind an ORM model."""
    return Base.metadata.tables[model.__tablename__]


def insert_rows(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """A Core bulk ``INSERT`` of ``rows`` (all with the same keys), money in cents."""
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    names = list(rows[0])
    if dialect.name != "sqlite":
        cents = [name for name in names if isinstance(table.c[name].type, Cents)]
        if cents:
            rows = [
                {**row, **{n: from_cents(row[n]) for n in cents if row[n] is not None}}
                for row in rows
            ]
        connection.execute(insert(table), rows)
        return
    quote = dialect.identifier_preparer.quote
    sql = (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) "
        f"VALUES ({', '.join('?' * len(names))})"
    )
    # Column by column: the loops run in C but for the few values that need converting.
    columns = []
    for name in names:
        values = list(map(itemgetter(name), rows))
        convert = _converter(table, name, _sample(values), dialect)
        if convert is not None:
            values = [None if value is None else convert(value) for value in values]
        columns.append(values)
    connection.exec_driver_sql(sql, list(zip(*columns, strict=True)))


def _sample(values: list[Any]) -> Any:
    """A value to check a converter on (the first few rows are enough)."""
    return next((value for value in values[:1000] if value is not None), None)


def _converter(table: Table, name: str, sample: Any, dialect: Dialect) -> Processor | None:
    """How a value of ``table.name`` reaches SQLite: money as the integer cents the rows
    already hold, and for enums, days and instants a faster function than the column's own
    bind processor that gives the very same value (checked on ``sample``, so a change of
    storage cannot slip through); anything else through the bind processor."""
    column_type = table.c[name].type
    if isinstance(column_type, Cents):
        return None
    process: Processor | None = column_type.dialect_impl(dialect).bind_processor(dialect)
    if process is None:
        return None
    fast: Processor | None
    if isinstance(column_type, UTCDateTime):
        fast = sqlite_instant
    elif isinstance(column_type, Date):
        fast = date.isoformat
    elif isinstance(column_type, SAEnum):
        fast = None  # a StrEnum member is the very text stored; the driver takes it as is
    else:
        return process
    if sample is not None and (fast or str.__str__)(sample) != process(sample):
        raise RuntimeError(f"{table.name}.{name} is no longer stored as it was")
    return fast


@lru_cache(maxsize=4096)  # a day's rows share one instant
def sqlite_instant(moment: datetime) -> str:
    """An instant as SQLite stores a :class:`~ketadesk.db.UTCDateTime`: naive UTC text."""
    utc = moment if moment.tzinfo is UTC else moment.astimezone(UTC)
    return utc.replace(tzinfo=None).isoformat(" ", "microseconds")


class Sink:
    """Buffers rows of ``models`` (in foreign-key order: a row only points at rows of
    tables before it, or at earlier rows of its own) and writes them in chunks."""

    def __init__(
        self, session: Session, models: Sequence[type[Base]], *, chunk: int = CHUNK
    ) -> None:
        self.session = session
        self.models = tuple(models)
        self.chunk = chunk
        self.rows: dict[type[Base], list[dict[str, Any]]] = {model: [] for model in models}
        self.written = dict.fromkeys(self.models, 0)
        self.buffered = 0
        self._ids: dict[type[Base], int] = {}

    def next_id(self, model: type[Base]) -> int:
        """A new id for a row of ``model``, after every id already in the table."""
        last = self._ids.get(model)
        if last is None:
            last = int(self.session.scalar(select(func.max(table_of(model).c.id))) or 0)
        self._ids[model] = last + 1
        return last + 1

    def add(self, model: type[Base], row: dict[str, Any]) -> None:
        self.rows[model].append(row)
        self.buffered += 1

    def full(self) -> bool:
        return self.buffered >= self.chunk

    def flush(self) -> None:
        """Write every buffered row, table by table in foreign-key order."""
        for model, rows in self.rows.items():
            if rows:
                insert_rows(self.session, table_of(model), rows)
                self.written[model] += len(rows)
                rows.clear()
        self.buffered = 0

    def sync_sequences(self) -> None:
        """Move PostgreSQL's id sequences past the ids assigned here."""
        if self.session.get_bind().dialect.name != "postgresql":
            return
        for model in self._ids:
            name = model.__tablename__
            self.session.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                    f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {name}), false)"
                )
            )
