"""The audit log: one row per change to clinic records and per opening of a patient record.

Services call :func:`record` inside their own transaction, so the audit row commits or
rolls back together with the change it describes. :func:`snapshot` turns a model into the
JSON-safe dictionary kept as "before" and "after".

:func:`search` reads the log for the viewer, ``ketadesk audit`` and a patient's accounting
of disclosures, filtered by patient, user, dates and entity, as frozen :class:`AuditLine`
values; :func:`sentence` says one in words. :func:`check_at_login` walks the chain from the
last verified row, a bounded number of rows at a time, for the banner an administrator sees
after logging in.

Every row is linked into the log's hash chain as it is added (:mod:`ketadesk.access.audit_chain`
takes the log's write lock, assigns the id and computes the chain), so rows must be written
through :func:`record` or :func:`record_many`, never inserted directly.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, Table, insert, inspect, or_, select
from sqlalchemy.orm import Session

from ketadesk.access.audit_chain import (
    ChainBreak,
    ChainReport,
    Checkpoint,
    content_around_id,
    json_safe,
    link,
    link_pieces,
    lock,
    remember_pending,
    tail,
    verify_chain,
)
from ketadesk.access.models import AuditEntry
from ketadesk.access.permissions import Actor, Permission, Role
from ketadesk.db import Base, Database, utcnow
from ketadesk.staging import Staging

ACTOR_LENGTH = 80  # AuditEntry.actor
AUDIT_TABLE: Table = AuditEntry.__table__  # type: ignore[assignment]


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, frozenset | set):
        return sorted(_plain(v) for v in value)
    return value


def snapshot(obj: Base, exclude: Iterable[str] = ("password_hash",)) -> dict[str, Any]:
    """The column values of ``obj`` as plain JSON types."""
    skip = set(exclude)
    return {
        attr.key: _plain(getattr(obj, attr.key))
        for attr in inspect(obj).mapper.column_attrs
        if attr.key not in skip
    }


def snapshot_values(
    model: type[Base], values: Mapping[str, Any], exclude: Iterable[str] = ("password_hash",)
) -> dict[str, Any]:
    """What :func:`snapshot` gives for a ``model`` row stored from the plain ``values`` (a
    bulk insert's parameters, id included): a column left out takes its default."""
    skip = set(exclude)
    return {
        attr.key: _plain(values[attr.key] if attr.key in values else _default(attr.columns[0]))
        for attr in inspect(model).column_attrs
        if attr.key not in skip
    }


def _default(column: Any) -> Any:
    default = column.default
    if default is None or not default.is_scalar:
        return None
    return default.arg


def changed(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the keys whose values differ, so an audit row shows what really changed."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


__all__ = [
    "AuditFilter",
    "AuditLine",
    "ChainReport",
    "StagedAudit",
    "changed",
    "check_at_login",
    "history",
    "prepare_many",
    "record",
    "record_many",
    "record_prepared",
    "record_update",
    "search",
    "sentence",
    "snapshot",
    "snapshot_values",
    "verify_chain",
]


def record(
    session: Session,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: object,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    """Add an audit row to the caller's transaction, linked into the chain."""
    row, texts = _row(actor, action, entity, entity_id, before, after)
    link(session, [row], [texts])
    entry = AuditEntry(**row)
    session.add(entry)
    remember_pending(session, entry)
    return entry


def _row(
    actor: Actor,
    action: str,
    entity: str,
    entity_id: object,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    at: datetime | None = None,
) -> tuple[dict[str, Any], tuple[str, str]]:
    """An audit row's fields, and its before and after as canonical JSON for the chain."""
    before_value, before_text = json_safe(before)
    after_value, after_text = json_safe(after)
    row = {
        "at": at or utcnow(),
        "actor": actor.signature[:ACTOR_LENGTH],
        "user_id": actor.user_id,
        "action": action,
        "entity": entity,
        "entity_id": str(entity_id),
        "before": before_value,
        "after": after_value,
    }
    return row, (before_text, after_text)


def record_many(
    session: Session,
    actor: Actor,
    action: str,
    entity: str,
    rows: Iterable[tuple[object, dict[str, Any]]],
) -> int:
    """:func:`record` for many records at once, one ``(id, after)`` pair each, written in one
    bulk insert (posting an 835 audits thousands of ledger entries); returns how many."""
    return record_prepared(session, prepare_many(actor, action, entity, rows))


@dataclass(frozen=True)
class PreparedRows:
    """Audit rows made ready (their values turned to JSON) but not yet linked into the
    chain: what :func:`record_prepared` writes."""

    rows: list[dict[str, Any]]
    texts: list[tuple[str, str]]


def prepare_many(
    actor: Actor, action: str, entity: str, rows: Iterable[tuple[object, dict[str, Any]]]
) -> PreparedRows:
    """The audit rows of :func:`record_many`, made ready without a session: a big job (the
    patient import) prepares them before it takes the write lock, which is then held only
    to chain and insert them."""
    made = [_row(actor, action, entity, entity_id, None, after) for entity_id, after in rows]
    return PreparedRows([row for row, _texts in made], [texts for _row, texts in made])


def record_prepared(session: Session, prepared: PreparedRows) -> int:
    """Chain and insert rows from :func:`prepare_many`, stamped with the present moment."""
    if not prepared.rows:
        return 0
    now = utcnow()
    values = [{**row, "at": now} for row in prepared.rows]
    link(session, values, prepared.texts)
    session.execute(insert(AuditEntry), values)
    return len(values)


class StagedAudit:
    """Audit rows of a big job staged ahead (:mod:`ketadesk.staging`): written, stamped
    ``at``, into the staging connection's copy of the log with their position for an id,
    and their canonical content worked out around the id. Under the write lock
    :meth:`link` reads the log's tail, chains the rows onto it and copies them in: hashing
    and one ``INSERT ... SELECT``, a tenth of a second for 30,000 rows."""

    def __init__(self, staging: Staging, at: datetime) -> None:
        self._staging = staging
        self._at = at
        self._pieces: list[tuple[bytes, bytes]] = []

    def __len__(self) -> int:
        return len(self._pieces)

    def add(self, prepared: PreparedRows) -> None:
        first = len(self._pieces) + 1
        rows = [{**row, "at": self._at, "id": n, "chain": None}
                for n, row in enumerate(prepared.rows, start=first)]
        self._pieces += [content_around_id(row, texts)
                         for row, texts in zip(rows, prepared.texts, strict=True)]
        self._staging.stage(AUDIT_TABLE, rows)

    def link(self, session: Session) -> int:
        """Chain the staged rows onto the log and copy them in (the caller's transaction,
        which holds the write lock); returns how many."""
        if not self._pieces:
            return 0
        lock(session)
        last_id, previous = tail(session)
        chains = link_pieces(previous, last_id + 1, self._pieces)
        linked = self._staging.pairs(session, "stage_audit_chain",
                                     list(enumerate(chains, start=1)))
        staged = self._staging.table(AUDIT_TABLE)
        columns = [column.name for column in AUDIT_TABLE.columns]
        return self._staging.copy(
            session, AUDIT_TABLE, columns,
            {"id": staged.c.id + last_id, "chain": linked.c.value},
            staged.join(linked, linked.c.n == staged.c.id),
        )


def record_update(
    session: Session,
    actor: Actor,
    entity: str,
    entity_id: object,
    before: dict[str, Any],
    after: dict[str, Any],
) -> AuditEntry | None:
    """An "update" row holding only the fields that changed; no row when nothing did."""
    old, new = changed(before, after)
    if not new:
        return None
    return record(session, actor, "update", entity, entity_id, before=old, after=new)


def history(
    session: Session,
    actor: Actor,
    entity: str | None = None,
    entity_id: object = None,
    *,
    limit: int = 200,
) -> Sequence[AuditEntry]:
    """The newest audit rows, optionally for one record."""
    actor.require(Permission.AUDIT_VIEW)
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if entity is not None:
        query = query.where(AuditEntry.entity == entity)
    if entity_id is not None:
        query = query.where(AuditEntry.entity_id == str(entity_id))
    return session.scalars(query).all()


@dataclass(frozen=True)
class AuditFilter:
    """Which audit rows to show. ``mrn`` and ``patient_id`` name one patient (the caller
    looks the id up; rows name a patient by MRN or carry its id in their values); ``start``
    and ``end`` are days, both included, in UTC."""

    mrn: str | None = None
    patient_id: int | None = None
    username: str | None = None
    start: date | None = None
    end: date | None = None
    entity: str | None = None


@dataclass(frozen=True)
class AuditLine:
    """One audit row, as the viewer, the command line and the disclosures PDF show it."""

    id: int
    at: datetime
    actor: str
    action: str
    entity: str
    entity_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


def _patient_clause(flt: AuditFilter) -> ColumnElement[bool]:
    named: list[ColumnElement[bool]] = []
    if flt.mrn is not None:
        named += [AuditEntry.entity_id == flt.mrn, AuditEntry.after["mrn"].as_string() == flt.mrn]
    if flt.patient_id is not None:
        pid = flt.patient_id
        named += [
            AuditEntry.after["patient_id"].as_integer() == pid,
            AuditEntry.before["patient_id"].as_integer() == pid,
        ]
    return or_(*named)


def _filtered(query: Select[Any], flt: AuditFilter) -> Select[Any]:
    if flt.mrn is not None or flt.patient_id is not None:
        query = query.where(_patient_clause(flt))
    if flt.username is not None:
        name = flt.username.strip().lower()
        query = query.where(  # a command line's rows read "nina (os:nina)"
            or_(AuditEntry.actor == name,
                AuditEntry.actor.startswith(f"{name} (os:", autoescape=True))
        )
    if flt.entity is not None:
        query = query.where(AuditEntry.entity == flt.entity)
    if flt.start is not None:
        query = query.where(AuditEntry.at >= datetime.combine(flt.start, time(0), UTC))
    if flt.end is not None:
        query = query.where(AuditEntry.at < datetime.combine(flt.end + timedelta(1), time(0), UTC))
    return query


def search(
    session: Session,
    actor: Actor,
    flt: AuditFilter,
    *,
    limit: int = 1000,
    oldest_first: bool = False,
) -> list[AuditLine]:
    """The audit rows ``flt`` selects, newest first (oldest first for an accounting),
    at most ``limit``. Needs ``AUDIT_VIEW``."""
    actor.require(Permission.AUDIT_VIEW)
    columns = (
        AuditEntry.id,
        AuditEntry.at,
        AuditEntry.actor,
        AuditEntry.action,
        AuditEntry.entity,
        AuditEntry.entity_id,
        AuditEntry.before,
        AuditEntry.after,
    )
    order = AuditEntry.id.asc() if oldest_first else AuditEntry.id.desc()
    query = _filtered(select(*columns), flt).order_by(order).limit(limit)
    return [AuditLine(*row) for row in session.execute(query)]


VERBS = {
    "view": "viewed",
    "create": "created",
    "update": "changed",
    "delete": "deleted",
    "post": "posted",
    "allocate": "applied a payment to",
    "login": "logged in as",
    "rename": "renamed",
    "reset-password": "reset the password of",
    "change-password": "changed the password of",
    "export": "exported",
    "print": "printed",
    "verify": "verified",
    "link-os-account": "linked an operating-system account to",
    "unlink-os-account": "unlinked the operating-system account of",
}


def sentence(line: AuditLine) -> str:
    """One audit row in words: who did what to which record (the time is shown apart)."""
    if line.action == "login-failed":  # the actor is only the name that was typed
        reason = (line.after or {}).get("reason")
        return f"A log-in as {line.actor} was refused" + (f": {reason}." if reason else ".")
    verb = VERBS.get(line.action, line.action.replace("_", " ").replace("-", " "))
    what = f"{line.entity.replace('_', ' ')} {line.entity_id}"
    text = f"{line.actor} {verb} {what}"
    if line.action == "update" and line.after:
        fields = ", ".join(sorted(line.after))
        text += f" ({fields})"
    return text + "."


LOGIN_BUDGET = 20_000  # rows checked per log-in: well under a second; the rest next time


def check_at_login(
    session: Session, actor: Actor, *, budget: int = LOGIN_BUDGET
) -> ChainReport | None:
    """For an administrator just logged in: walk the chain from the last verified row, at
    most ``budget`` rows, and leave a "verify" row as the next checkpoint when it holds.
    ``None`` for anyone else. A broken chain is returned for the banner, not raised; so is
    a break the last daily full check found (:func:`check_daily`), which a walk from the
    checkpoint would never see again."""
    if actor.role is not Role.ADMIN:
        return None
    start = _last_checkpoint(session)
    report = verify_chain(session, start=start, limit=budget)
    if report.ok and report.last_good is not None and report.last_good != start:
        good = report.last_good
        after = {"through": good.row_id, "chain": good.chain, "complete": report.complete}
        record(session, actor, "verify", "audit_log", good.row_id, after=after)
    standing = _standing_break(session)
    if report.ok and standing is not None:
        return ChainReport(report.rows_checked, report.last_good, standing)
    return report


DAILY_CHECK = Actor(username="system:daily-check", role=Role.ADMIN)


def check_daily(db: Database) -> ChainReport:
    """Walk the whole chain from its first row (the daily backup runs this) and record the
    outcome: ``verify_full`` when it holds, ``verify_failed`` naming the first break, which
    every administrator's log-in then shows until a full check holds again.

    The walk reads without the write lock (it may take seconds on years of rows, and nobody
    at a desk should wait for it); only the one row recording the outcome is a write."""
    with db.reading() as session:
        report = verify_chain(session)
    with db.transaction() as session:
        if report.broken is not None:
            broken = report.broken
            after = {"row": broken.row_id, "kind": broken.kind, "sentence": broken.sentence}
            record(session, DAILY_CHECK, "verify_failed", "audit_log", broken.row_id, after=after)
        elif report.last_good is not None:
            good = report.last_good
            after = {"through": good.row_id, "chain": good.chain, "complete": True}
            record(session, DAILY_CHECK, "verify_full", "audit_log", good.row_id, after=after)
    return report


def _standing_break(session: Session) -> ChainBreak | None:
    """The break the latest daily full check found, unless it held since."""
    latest = session.execute(
        select(AuditEntry.action, AuditEntry.after)
        .where(
            AuditEntry.entity == "audit_log",
            AuditEntry.action.in_(("verify_full", "verify_failed")),
        )
        .order_by(AuditEntry.id.desc())
        .limit(1)
    ).first()
    if latest is None or latest.action != "verify_failed" or not latest.after:
        return None
    found = latest.after
    return ChainBreak(int(found["row"]), str(found["kind"]), str(found["sentence"]))


def _last_checkpoint(session: Session) -> Checkpoint | None:
    after = session.scalar(
        select(AuditEntry.after)
        .where(
            AuditEntry.action.in_(("verify", "verify_full")), AuditEntry.entity == "audit_log"
        )
        .order_by(AuditEntry.id.desc())
        .limit(1)
    )
    if not after:
        return None
    return Checkpoint(int(after["through"]), str(after["chain"]))
