"""The audit log's hash chain: linking new rows, and walking the chain to find tampering.

Every audit row stores ``chain = sha256(previous row's chain + canonical content)``, where
the content is the row's id, time, actor, user id, action, entity, entity id, before and
after as JSON with sorted keys. Changing, deleting or slipping in a row anywhere breaks the
link at that row, and :func:`verify_chain` names it.

Writing (:func:`link`): the writer takes the audit log's write lock before it reads the last
row (SQLite: the ``BEGIN IMMEDIATE`` every write transaction starts with already serialises
writers; PostgreSQL: a transaction-scoped advisory lock, held until commit or rollback), so
two workstations can never both chain onto the same row. Ids are assigned here, one past
the last row's, so the chain's ids run without gaps and a gap means a deleted row. Many rows
are linked in Python in one pass (:func:`ketadesk.access.audit.record_many`), so a bulk write
costs one read of the last row, not one per row.

Reading (:func:`verify_chain`): rows stream in id order; the first one whose chain does not
follow is diagnosed with a one-row look-ahead: if the next row follows the one before (or
would, with its old id, when the rows after were renumbered to make room), the row was
inserted out of order; if ids are missing just before it, rows were deleted;
otherwise the row was altered. A walk can start from a checkpoint (an id and the chain it
had when last verified) to check only what was written since; the chain itself cannot stop
someone who rewrites every row after the one they changed and recomputes the hashes, which
is what checkpoints kept elsewhere (backups, the verify rows in the log) guard against.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from json.encoder import encode_basestring_ascii
from typing import Any

from sqlalchemy import Row, select, text
from sqlalchemy.orm import Session

from ketadesk.access.models import AuditEntry

GENESIS = "0" * 64
# pg_advisory_xact_lock key for "the audit log's tail" (ASCII "KDAUDIT").
PG_LOCK_KEY = 0x4B444155444954
PENDING = "ketadesk.audit.pending"  # session.info: the last linked row not yet flushed
LOCKED = "ketadesk.audit.locked"  # session.info: the transaction that holds the lock

FIELDS = ("id", "at", "actor", "user_id", "action", "entity", "entity_id", "before", "after")


_values_text = json.JSONEncoder(sort_keys=True, separators=(",", ":")).encode
_string_text = encode_basestring_ascii  # a str as JSON, as json.dumps spells it
CONTENT = (
    '{"action":%s,"actor":%s,"after":%s,"at":"%s","before":%s,'
    '"entity":%s,"entity_id":%s,"id":%d,"user_id":%s}'
)


def json_safe(value: Any) -> tuple[Any, str]:
    """``value`` as the database will hand it back (through JSON and out again, so the
    content hashed when writing equals the content read when verifying), and its canonical
    JSON text, which :func:`content` takes instead of encoding the value a second time."""
    if value is None:
        return None, "null"
    text = _values_text(value)
    return json.loads(text), text


def instant_text(at: datetime) -> str:
    """An instant as the chain spells it: UTC to the microsecond."""
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def content(row: Any, texts: tuple[str, str] | None = None) -> bytes:
    """The canonical bytes of an audit row (a mapping or an object with the fields): the
    compact JSON of its fields with sorted keys, as ``json.dumps(..., sort_keys=True,
    separators=(",", ":"))`` writes it, put together here without building the document.
    ``texts`` are the before and after values' canonical JSON when already at hand."""
    get = row.__getitem__ if isinstance(row, dict) else partial(getattr, row)
    return (CONTENT % _content_values(get, get("id"), texts)).encode()


def content_around_id(row: dict[str, Any], texts: tuple[str, str]) -> tuple[bytes, bytes]:
    """:func:`content` of a row whose id is not given yet, as the bytes before the id and
    the bytes after it: a job works this out before it takes the write lock, and under the
    lock only the id is put between them (:func:`link_pieces`)."""
    whole = _CONTENT_AT_ID % _content_values(row.__getitem__, _ID_MARK, texts)
    before, after = whole.split(_ID_MARK)  # every string in it is JSON-escaped: one mark
    return before.encode(), after.encode()


def _content_values(get: Any, row_id: object, texts: tuple[str, str] | None) -> tuple[Any, ...]:
    user_id = get("user_id")
    before, after = texts or (_values_text(get("before")), _values_text(get("after")))
    return (
        _string_text(get("action")),
        _string_text(get("actor")),
        after,
        instant_text(get("at")),
        before,
        _string_text(get("entity")),
        _string_text(get("entity_id")),
        row_id,
        "null" if user_id is None else int(user_id),
    )


_ID_MARK = "\x00"  # JSON text escapes a NUL as \u0000, so this appears only where put
_CONTENT_AT_ID = CONTENT.replace('"id":%d', '"id":%s')


def link_pieces(previous: str, first_id: int, pieces: Sequence[tuple[bytes, bytes]]) -> list[str]:
    """The chains of rows given as :func:`content_around_id` pieces, numbered from
    ``first_id`` on, following a row whose chain is ``previous``."""
    chains = []
    sha256 = hashlib.sha256
    for row_id, (before, after) in enumerate(pieces, start=first_id):
        previous = sha256(
            previous.encode("ascii") + before + str(row_id).encode("ascii") + after
        ).hexdigest()
        chains.append(previous)
    return chains


def next_chain(previous: str, row: Any, texts: tuple[str, str] | None = None) -> str:
    """The chain of ``row`` when it follows a row whose chain is ``previous``."""
    return hashlib.sha256(previous.encode("ascii") + content(row, texts)).hexdigest()


def lock(session: Session) -> None:
    """Take the audit log's write lock until the transaction ends (PostgreSQL; SQLite's
    write transactions hold the database's lock from their first statement)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    held = session.get_transaction()
    if held is not None and session.info.get(LOCKED) is held:
        return  # taken already in this transaction; it holds until commit or rollback
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_LOCK_KEY})
    session.info[LOCKED] = held


def tail(session: Session) -> tuple[int, str]:
    """The id and chain of the last audit row, counting the row :func:`link` gave out last
    in this session if it is still waiting to be flushed; ``(0, GENESIS)`` for an empty log.

    The last row linked is remembered in ``session.info``; once flushed (or dropped by a
    rolled-back savepoint) it is no longer pending and the database is asked instead.
    """
    pending = session.info.get(PENDING)
    if pending is not None and pending in session.new:
        return pending.id, str(pending.chain)
    with session.no_autoflush:
        row = session.execute(
            select(AuditEntry.id, AuditEntry.chain).order_by(AuditEntry.id.desc()).limit(1)
        ).first()
    if row is None:
        return 0, GENESIS
    return row.id, row.chain or GENESIS


def remember_pending(session: Session, entry: AuditEntry) -> None:
    """Note ``entry``, just linked and added to ``session``, as the log's last row."""
    session.info[PENDING] = entry


def link(
    session: Session,
    rows: Sequence[dict[str, Any]],
    texts: Sequence[tuple[str, str]] | None = None,
) -> None:
    """Give each row (a dict of the audit fields but id and chain) its id and chain, in
    order, after the log's current last row; ``texts`` are each row's before and after as
    :func:`json_safe` spelled them. Takes the write lock first."""
    if not rows:
        return
    lock(session)
    last_id, previous = tail(session)
    for offset, row in enumerate(rows, start=1):
        row["id"] = last_id + offset
        previous = next_chain(previous, row, texts[offset - 1] if texts else None)
        row["chain"] = previous


@dataclass(frozen=True)
class Checkpoint:
    """A row known good: its id and the chain it had when it was verified."""

    row_id: int
    chain: str


@dataclass(frozen=True)
class ChainBreak:
    """The first row where the chain does not follow: what happened, in words."""

    row_id: int
    kind: str  # "altered", "deleted", "inserted" or "unchained"
    sentence: str


@dataclass(frozen=True)
class ChainReport:
    """The outcome of a walk: how many rows were checked, the last good one, and the first
    break (``None`` when the chain holds)."""

    rows_checked: int
    last_good: Checkpoint | None
    broken: ChainBreak | None
    complete: bool = True  # False when a row budget stopped the walk early

    @property
    def ok(self) -> bool:
        return self.broken is None

    def sentence(self) -> str:
        if self.broken is not None:
            return self.broken.sentence
        through = f" through row {self.last_good.row_id}" if self.last_good else ""
        more = "" if self.complete else " (more rows remain to be checked)"
        return f"The audit log's chain holds: {self.rows_checked} rows checked{through}{more}."


def _rows(session: Session, after_id: int, limit: int | None) -> Generator[Row[Any], None, None]:
    columns = [getattr(AuditEntry, name) for name in (*FIELDS, "chain")]
    query = select(*columns).where(AuditEntry.id > after_id).order_by(AuditEntry.id)
    if limit is not None:
        query = query.limit(limit + 1)  # one more, for the look-ahead
    result = session.execute(query.execution_options(yield_per=5000))
    try:
        yield from result
    finally:
        result.close()  # a walk that stops early must not leave PostgreSQL's cursor open


def _diagnose(previous: Checkpoint | None, row: Row[Any], following: Row[Any] | None) -> ChainBreak:
    prev_id = previous.row_id if previous else 0
    prev_chain = previous.chain if previous else GENESIS
    after = f"row {prev_id}" if prev_id else "the start of the log"
    if row.chain is None:
        return ChainBreak(
            row.id, "unchained", f"Row {row.id} has no chain: it was written around the audit log."
        )
    if following is not None and following.chain == next_chain(prev_chain, following):
        return ChainBreak(
            row.id,
            "inserted",
            f"Row {row.id} was inserted out of order: row {following.id} follows {after} "
            f"as if row {row.id} were not there.",
        )
    if following is not None and following.chain == next_chain(
        prev_chain, {**following._asdict(), "id": following.id - 1}
    ):
        return ChainBreak(
            row.id,
            "inserted",
            f"Row {row.id} was inserted out of order: the rows after it were renumbered to "
            f"make room (row {following.id} was row {following.id - 1}).",
        )
    if row.id > prev_id + 1:
        missing = str(prev_id + 1) if row.id == prev_id + 2 else f"{prev_id + 1}–{row.id - 1}"
        plural = "" if row.id == prev_id + 2 else "s"
        return ChainBreak(
            row.id,
            "deleted",
            f"Row{plural} {missing} {'was' if not plural else 'were'} deleted: "
            f"row {row.id} no longer follows {after}.",
        )
    return ChainBreak(
        row.id,
        "altered",
        f"Row {row.id} was altered after it was written: its content no longer matches its chain.",
    )


def _start(session: Session, start: Checkpoint | None) -> ChainBreak | None:
    """Check that the checkpoint row is still there with the chain it had."""
    if start is None:
        return None
    chain = session.scalar(select(AuditEntry.chain).where(AuditEntry.id == start.row_id))
    if chain is None:
        return ChainBreak(
            start.row_id,
            "deleted",
            f"Row {start.row_id}, verified earlier, was deleted.",
        )
    if chain != start.chain:
        return ChainBreak(
            start.row_id,
            "altered",
            f"Row {start.row_id}, verified earlier, was altered since: its chain changed.",
        )
    return None


def verify_chain(
    session: Session, *, start: Checkpoint | None = None, limit: int | None = None
) -> ChainReport:
    """Walk the chain from ``start`` (or the first row), at most ``limit`` rows, and report
    the first row that does not follow (read-only; the daily backup can call it)."""
    broken = _start(session, start)
    if broken is not None:
        return ChainReport(0, None, broken)
    rows = _rows(session, start.row_id if start else 0, limit)
    try:
        return _walk(rows, start, limit)
    finally:
        rows.close()


def _walk(rows: Iterator[Row[Any]], start: Checkpoint | None, limit: int | None) -> ChainReport:
    previous = start
    checked = 0
    current = next(rows, None)
    while current is not None:
        if limit is not None and checked == limit:
            return ChainReport(checked, previous, None, complete=False)
        following = next(rows, None)
        prev_chain = previous.chain if previous else GENESIS
        if current.chain is None or current.chain != next_chain(prev_chain, current):
            return ChainReport(checked, previous, _diagnose(previous, current, following))
        previous = Checkpoint(current.id, current.chain)
        checked += 1
        current = following
    return ChainReport(checked, previous, None)
