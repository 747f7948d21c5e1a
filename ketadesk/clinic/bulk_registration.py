"""Registering thousands of validated patients in a few statements (the CSV import).

:func:`ketadesk.clinic.patients.register_patients` builds an ORM object per patient, per
search word and per diagnosis: about two milliseconds a patient, so a 30,000-row import
held the database's write lock for a minute and every other workstation's save failed
(issue 13). Here the same rows -- the values :func:`~ketadesk.clinic.patients.clean_patient`
returned, the same derived search columns and words, an audit row per patient and policy --
are made ready first, without a session and so before any lock (:func:`prepare`), and then
stored with a few bulk ``INSERT``\\ s (:func:`store`), which is all the write lock is held
for. Row ids are given by :func:`new_ids`: on PostgreSQL drawn from the table's sequence
ahead of the write; on SQLite, where the write transaction holds the whole database, the
next free ones.

An imported patient's audit row names it by MRN and holds every value but the row id (which
is given only when the rows are stored): the audit log finds a patient by MRN.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.orm import Session

from ketadesk.access import audit
from ketadesk.access.permissions import Actor, Permission
from ketadesk.clinic.models import Diagnosis, InsurancePolicy, Location, Patient, PatientSearchWord
from ketadesk.clinic.patients import NOT_AUDITED, format_mrn, search_columns
from ketadesk.clinic.text import name_words
from ketadesk.db import utcnow
from ketadesk.staging import Staging

PATIENTS: Table = Patient.__table__  # type: ignore[assignment]
POLICIES: Table = InsurancePolicy.__table__  # type: ignore[assignment]
WORDS: Table = PatientSearchWord.__table__  # type: ignore[assignment]
DIAGNOSES: Table = Diagnosis.__table__  # type: ignore[assignment]
ID_ROOM = 1000  # ids left free on SQLite for other workstations while a job stages rows
_NAMES = ("family_name", "given_name", "middle_name", "preferred_name")
_SEQUENCE_IDS = text(
    "SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :count)"
)


@dataclass(frozen=True)
class Prepared:
    """Patients made ready to store: their rows without ids, their words and diagnoses by
    position, their policies by position, and their audit rows."""

    patients: list[dict[str, Any]]
    words: list[tuple[int, str]]
    diagnoses: list[tuple[int, str, int]]
    policies: list[tuple[int, dict[str, Any]]]
    audit: audit.PreparedRows

    @property
    def mrns(self) -> list[str]:
        return [row["mrn"] for row in self.patients]


def locations(session: Session) -> dict[str, int]:
    """Location codes and ids, as :func:`prepare` takes them."""
    found = session.execute(select(Location.code, Location.id)).all()
    return {row.code: row.id for row in found}


def prepare(
    actor: Actor,
    cleans: Sequence[Mapping[str, Any]],
    policies: Sequence[Sequence[Mapping[str, Any]]],
    first_number: int,
    location_ids: Mapping[str, int],
) -> Prepared:
    """Patients validated by ``clean_patient`` and each one's clean policies, numbered from
    MRN counter value ``first_number`` on (the caller reserved the block). No session: this
    is the work done before the write lock. Home locations must be in ``location_ids``."""
    actor.require(Permission.PATIENT_EDIT)
    if any(policies):
        actor.require(Permission.POLICY_EDIT)
    now = utcnow()
    rows = [
        _patient_row(clean, format_mrn(first_number + offset), location_ids, now)
        for offset, clean in enumerate(cleans)
    ]
    return Prepared(
        patients=rows,
        words=[(n, word) for n, clean in enumerate(cleans)
               for word in sorted(name_words(*(clean[name] for name in _NAMES)))],
        diagnoses=[(n, code, position) for n, clean in enumerate(cleans)
                   for position, code in enumerate(clean["diagnoses"], start=1)],
        policies=[(n, dict(policy)) for n, kept in enumerate(policies) for policy in kept],
        audit=audit.prepare_many(actor, "create", "patient", [
            (row["mrn"], _audited(row, clean)) for row, clean in zip(rows, cleans, strict=True)
        ]),
    )


def new_ids(session: Session, table: Table, count: int) -> list[int]:
    """``count`` ids for new rows of ``table``: on PostgreSQL drawn from its sequence (in any
    transaction: a sequence never gives a number twice); on SQLite the next free ones, which
    hold only inside the write transaction that stores the rows."""
    if count < 1:
        return []
    if session.get_bind().dialect.name == "postgresql":
        drawn = session.execute(_SEQUENCE_IDS, {"table": table.name, "count": count})
        return list(drawn.scalars())
    last = session.scalar(select(func.max(table.c.id))) or 0
    return list(range(last + 1, last + 1 + count))


def store(
    session: Session,
    actor: Actor,
    prepared: Prepared,
    patient_ids: Sequence[int] | None = None,
) -> list[int]:
    """Insert what :func:`prepare` made, with ``patient_ids`` (from :func:`new_ids`; drawn
    here when not given), into the caller's transaction; returns the patients' ids."""
    ids = list(patient_ids) if patient_ids is not None else new_ids(
        session, PATIENTS, len(prepared.patients))
    _insert(session, PATIENTS, [
        {**row, "id": pid} for row, pid in zip(prepared.patients, ids, strict=True)])
    _insert(session, PatientSearchWord.__table__, [
        {"patient_id": ids[n], "word": word} for n, word in prepared.words])
    _insert(session, Diagnosis.__table__, [
        {"patient_id": ids[n], "code": code, "position": position}
        for n, code, position in prepared.diagnoses])
    audit.record_prepared(session, prepared.audit)
    _store_policies(session, actor, [(ids[n], policy) for n, policy in prepared.policies])
    return ids


def reserve_ids(session: Session, table: Table, count: int) -> list[int]:
    """``count`` ids for rows staged ahead of their write (:func:`stage`), given before the
    write lock: on PostgreSQL drawn from the table's sequence; on SQLite, which gives a new
    row the id after the highest, a block starting :data:`ID_ROOM` past the highest id, so
    the ids other workstations take meanwhile stay below it. :func:`ids_still_free` checks,
    under the lock, that they did (a gap of unused ids is harmless, as in a sequence)."""
    if count < 1 or session.get_bind().dialect.name == "postgresql":
        return new_ids(session, table, count)
    last = session.scalar(select(func.max(table.c.id))) or 0
    first = last + ID_ROOM + 1
    return list(range(first, first + count))


def ids_still_free(session: Session, table: Table, ids: Sequence[int]) -> bool:
    """Whether ids from :func:`reserve_ids` are still above every stored row's (SQLite;
    a sequence's are free by design). Ask inside the write transaction."""
    if not ids or session.get_bind().dialect.name == "postgresql":
        return True
    last = session.scalar(select(func.max(table.c.id))) or 0
    return last < min(ids)


def stage(
    staging: Staging,
    audit_rows: audit.StagedAudit,
    actor: Actor,
    prepared: Prepared,
    patient_ids: Sequence[int],
    policy_ids: Sequence[int],
) -> None:
    """Write what :func:`prepare` made, with the ids reserved for it, into ``staging``,
    and its audit rows (the patients', then their policies') into ``audit_rows``; no lock
    is taken. :func:`copy` moves it all into the clinic's tables."""
    ids = list(patient_ids)
    staging.stage(PATIENTS, [
        {**row, "id": pid} for row, pid in zip(prepared.patients, ids, strict=True)])
    staging.stage(WORDS, [{"patient_id": ids[n], "word": word} for n, word in prepared.words])
    staging.stage(DIAGNOSES, [
        {"patient_id": ids[n], "code": code, "position": position}
        for n, code, position in prepared.diagnoses])
    policies = _policy_rows(prepared, ids, policy_ids)
    staging.stage(POLICIES, policies)
    audit_rows.add(prepared.audit)
    if policies:
        audit_rows.add(audit.prepare_many(actor, "create", "insurance_policy", [
            (row["id"], audit.snapshot_values(InsurancePolicy, row)) for row in policies]))


def copy(session: Session, staging: Staging) -> int:
    """Move the staged patients, search words, diagnoses and policies into the clinic's
    tables (the caller's write transaction); returns how many patients."""
    moved = staging.copy(session, PATIENTS, _names(PATIENTS))
    staging.copy(session, WORDS, _names(WORDS))
    staging.copy(session, DIAGNOSES, _names(DIAGNOSES, without="id"))  # numbered on insert
    staging.copy(session, POLICIES, _names(POLICIES))
    return moved


def _names(table: Table, without: str = "") -> list[str]:
    return [column.name for column in table.columns if column.name != without]


def _policy_rows(
    prepared: Prepared, patient_ids: Sequence[int], policy_ids: Sequence[int]
) -> list[dict[str, Any]]:
    return [
        {"id": pid, "patient_id": patient_ids[n], "active": True, "version": 1, **clean}
        for pid, (n, clean) in zip(policy_ids, prepared.policies, strict=True)
    ]


def _store_policies(
    session: Session, actor: Actor, policies: Sequence[tuple[int, Mapping[str, Any]]]
) -> None:
    if not policies:
        return
    rows = [
        {"id": pid, "patient_id": patient_id, "active": True, "version": 1, **clean}
        for pid, (patient_id, clean) in zip(
            new_ids(session, POLICIES, len(policies)), policies, strict=True)
    ]
    _insert(session, POLICIES, rows)
    audit.record_many(session, actor, "create", "insurance_policy", [
        (row["id"], audit.snapshot_values(InsurancePolicy, row)) for row in rows])


def _patient_row(
    clean: Mapping[str, Any], mrn: str, location_ids: Mapping[str, int], now: Any
) -> dict[str, Any]:
    row = {key: value for key, value in clean.items() if key not in ("diagnoses", "home_location")}
    code = clean["home_location"]
    row |= search_columns(clean["family_name"], clean["given_name"], clean["phone"])
    row |= {
        "mrn": mrn,
        "home_location_id": location_ids[code.upper()] if code else None,
        "active": True,
        "created_at": now,
        "updated_at": now,
        "version": 1,
    }
    return row


def _audited(row: Mapping[str, Any], clean: Mapping[str, Any]) -> dict[str, Any]:
    """What :func:`~ketadesk.clinic.patients.register_patients` audits for the same patient,
    but the row id."""
    data = audit.snapshot_values(Patient, row, exclude=(*NOT_AUDITED, "id"))
    data["diagnoses"] = list(clean["diagnoses"])
    return data


def _insert(session: Session, table: Any, rows: Sequence[Mapping[str, Any]]) -> None:
    if rows:
        session.execute(insert(table), list(rows))
