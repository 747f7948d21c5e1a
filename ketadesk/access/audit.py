"""The audit log: one row per change to clinic records and per opening of a patient record.

Services call :func:`record` inside their own transaction, so the audit row commits or
rolls back together with the change it describes. :func:`snapshot` turns a model into the
JSON-safe dictionary kept as "before" and "after".

Every row is linked into the log's hash chain as it is added (:mod:`ketadesk.access.audit_chain`
takes the log's write lock, assigns the id and computes the chain), so rows must be written
through :func:`record` or :func:`record_many`, never inserted directly.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, inspect, select
from sqlalchemy.orm import Session

from ketadesk.access.audit_chain import ChainReport, json_safe, link, verify_chain
from ketadesk.access.models import AuditEntry
from ketadesk.access.permissions import Actor, Permission
from ketadesk.db import Base, utcnow


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


def changed(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the keys whose values differ, so an audit row shows what really changed."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


__all__ = [
    "ChainReport",
    "changed",
    "history",
    "record",
    "record_many",
    "record_update",
    "snapshot",
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
    row = _row(actor, action, entity, entity_id, before, after)
    link(session, [row])
    entry = AuditEntry(**row)
    session.add(entry)
    return entry


def _row(
    actor: Actor,
    action: str,
    entity: str,
    entity_id: object,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> dict[str, Any]:
    return {
        "at": utcnow(),
        "actor": actor.username,
        "user_id": actor.user_id,
        "action": action,
        "entity": entity,
        "entity_id": str(entity_id),
        "before": json_safe(before),
        "after": json_safe(after),
    }


def record_many(
    session: Session,
    actor: Actor,
    action: str,
    entity: str,
    rows: Iterable[tuple[object, dict[str, Any]]],
) -> int:
    """:func:`record` for many records at once, one ``(id, after)`` pair each, written in one
    bulk insert (posting an 835 audits thousands of ledger entries); returns how many."""
    values = [_row(actor, action, entity, entity_id, None, after) for entity_id, after in rows]
    if values:
        link(session, values)
        session.execute(insert(AuditEntry), values)
    return len(values)


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
