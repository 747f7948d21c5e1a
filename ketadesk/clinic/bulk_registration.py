"""Registering thousands of validated patients in a few statements (the CSV import).

:func:`ketadesk.clinic.patients.register_patients` builds an ORM object per patient, per
search word and per diagnosis: about two milliseconds a patient, so a 30,000-row import
held the database's write lock for a minute and every other workstation's save failed
(issue 13). :func:`register_many` stores the very same rows -- the values
:func:`~ketadesk.clinic.patients.clean_patient` returned, the same derived search columns
and words, the same audit row per patient -- as plain rows, a few bulk ``INSERT``\\ s per
batch, so the write lock is held for a moment rather than a minute. Everything it writes
goes into the caller's transaction; nothing is committed here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from ketadesk.access import audit
from ketadesk.access.permissions import Actor, Permission
from ketadesk.clinic.models import Diagnosis, InsurancePolicy, Location, Patient, PatientSearchWord
from ketadesk.clinic.patients import NOT_AUDITED, format_mrn, search_columns
from ketadesk.clinic.text import name_words
from ketadesk.db import utcnow

_PATIENTS: Table = Patient.__table__  # type: ignore[assignment]
_POLICIES: Table = InsurancePolicy.__table__  # type: ignore[assignment]
_NAMES = ("family_name", "given_name", "middle_name", "preferred_name")


@dataclass(frozen=True)
class Registered:
    """A patient :func:`register_many` stored: its row id and MRN."""

    id: int
    mrn: str


def register_many(
    session: Session, actor: Actor, cleans: Sequence[Mapping[str, Any]], first_number: int
) -> list[Registered]:
    """Store patients already validated by ``clean_patient``, numbered from MRN counter value
    ``first_number`` on (the caller reserved the block), each with its audit row.

    Home locations are given by code and must exist (the import checked them).
    """
    actor.require(Permission.PATIENT_EDIT)
    if not cleans:
        return []
    found = session.execute(select(Location.code, Location.id))
    locations: dict[str, int] = {code: location_id for code, location_id in found}  # noqa: C416
    now = utcnow()
    rows = [
        _patient_row(clean, format_mrn(first_number + offset), locations, now)
        for offset, clean in enumerate(cleans)
    ]
    ids = _insert_returning_ids(session, _PATIENTS, rows)
    _insert(session, PatientSearchWord.__table__, [
        {"patient_id": pid, "word": word}
        for pid, clean in zip(ids, cleans, strict=True)
        for word in sorted(name_words(*(clean[name] for name in _NAMES)))
    ])
    _insert(session, Diagnosis.__table__, [
        {"patient_id": pid, "code": code, "position": position}
        for pid, clean in zip(ids, cleans, strict=True)
        for position, code in enumerate(clean["diagnoses"], start=1)
    ])
    audit.record_many(session, actor, "create", "patient", [
        (row["mrn"], _audited(row, pid, clean))
        for pid, row, clean in zip(ids, rows, cleans, strict=True)
    ])
    return [Registered(pid, row["mrn"]) for pid, row in zip(ids, rows, strict=True)]


def add_policies(
    session: Session, actor: Actor, policies: Sequence[tuple[int, Mapping[str, Any]]]
) -> int:
    """Store active policies, ``(patient id, clean_policy values)`` each, with their audit
    rows; returns how many."""
    if not policies:
        return 0
    actor.require(Permission.POLICY_EDIT)
    rows = [{"patient_id": pid, "active": True, **clean} for pid, clean in policies]
    ids = _insert_returning_ids(session, _POLICIES, rows)
    audit.record_many(session, actor, "create", "insurance_policy", [
        (pid, audit.snapshot_values(InsurancePolicy, {**row, "id": pid}))
        for pid, row in zip(ids, rows, strict=True)
    ])
    return len(ids)


def _patient_row(
    clean: Mapping[str, Any], mrn: str, locations: Mapping[str, int], now: Any
) -> dict[str, Any]:
    row = {key: value for key, value in clean.items() if key not in ("diagnoses", "home_location")}
    code = clean["home_location"]
    row |= search_columns(clean["family_name"], clean["given_name"], clean["phone"])
    row |= {
        "mrn": mrn,
        "home_location_id": locations[code.upper()] if code else None,
        "active": True,
        "created_at": now,
        "updated_at": now,
        "version": 1,
    }
    return row


def _audited(row: Mapping[str, Any], pid: int, clean: Mapping[str, Any]) -> dict[str, Any]:
    """What :func:`~ketadesk.clinic.patients.register_patients` audits for the same patient."""
    data = audit.snapshot_values(Patient, {**row, "id": pid}, exclude=NOT_AUDITED)
    data["diagnoses"] = list(clean["diagnoses"])
    return data


def _insert_returning_ids(
    session: Session, table: Any, rows: Sequence[Mapping[str, Any]]
) -> list[int]:
    """Insert ``rows`` in one executemany and return their new ids, in the rows' order."""
    statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return list(session.execute(statement, list(rows)).scalars())


def _insert(session: Session, table: Any, rows: Sequence[Mapping[str, Any]]) -> None:
    if rows:
        session.execute(insert(table), list(rows))
