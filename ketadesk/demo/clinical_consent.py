"""The demo's consents: nearly every treated patient signed the forms their treatments need.

:func:`add_consents` runs after the history stage. For every patient and modality with
sessions, it signs each form the modality needs (:func:`~ketadesk.clinic.consent.models.
required_for`) a few days before the first session, and again a few weeks before each
signature would lapse, as long as sessions continue and the day has come — so everyone on
today's floor holds a valid consent and a few lapse within the month. Two patients booked
later today are the exceptions the Today board shows refused at check-in: one whose consent
ran out yesterday, and one who withdrew it this morning (through the withdrawal service).

Signatures go in bulk through :mod:`ketadesk.demo.bulk`, on version 1 of the shipped texts.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ketadesk.access.permissions import Actor
from ketadesk.clinic.consent.models import ConsentKey, SignedConsent, required_for
from ketadesk.clinic.consent.records import withdraw_consent
from ketadesk.clinic.consent.texts import ensure_default_consent_texts, latest_versions
from ketadesk.clinic.consent.validity import add_months
from ketadesk.clinic.models import Location, Modality, Patient
from ketadesk.demo.bulk import insert_rows, table_of
from ketadesk.scheduling.models import RELEASED, SessionStatus, TreatmentSession

WITNESSES = ("Kim Park, RN", "Ana Ruiz", "Tom Okafor, RN", "Lea Weiss")
REFUSED_TODAY = 2  # patients booked later today whose check-in the board refuses


@dataclass(frozen=True)
class Course:
    """One patient's sessions of one modality: their first and last local days."""

    patient_id: int
    name: str
    modality: Modality
    first: date
    last: date


def add_consents(
    session: Session, rng: random.Random, actor: Actor, *, today: date, now: datetime
) -> int:
    """Sign the demo patients' consents; return how many signatures were written."""
    ensure_default_consent_texts(session, actor, now=now)
    texts = latest_versions(session)
    refused = _refused_today(session, now)
    rows: list[dict[str, Any]] = []
    for course in _courses(session):
        for key in required_for(course.modality):
            lapse = refused.get(course.patient_id) == "expired"
            for signed_on in _signing_days(rng, course, texts[key].valid_months, today, lapse):
                rows.append(_row(course, key, texts[key].id, signed_on, rng, actor))
    rows = _unique(rows)
    insert_rows(session, table_of(SignedConsent), rows)
    for patient_id, how in refused.items():
        if how == "withdrawn":
            for key in _keys_today(session, patient_id, now):
                withdraw_consent(session, actor, patient_id, key, withdrawn_on=today,
                                 reason="the patient wants to think it over", now=now)
    return len(rows)


def _signing_days(
    rng: random.Random, course: Course, months: int | None, today: date, lapse: bool
) -> Iterator[date]:
    """A signature before the first session, then one before each would lapse while
    sessions continue (never after ``today``). ``lapse``: the last one ran out yesterday."""
    chain = list(_chain(rng, course, months, today))
    if not lapse or months is None:
        yield from chain
        return
    lapsed = add_months(today - timedelta(days=1), -months)
    yield from (day for day in chain if day < lapsed)
    yield lapsed


def _chain(
    rng: random.Random, course: Course, months: int | None, today: date
) -> Iterator[date]:
    signed = course.first - timedelta(days=rng.randint(0, 14))
    yield signed
    if months is None:
        return
    until = min(course.last, today)
    while add_months(signed, months) < until:
        signed = add_months(signed, months) - timedelta(days=rng.randint(3, 40))
        if signed > today:
            return
        yield signed


def _row(
    course: Course, key: ConsentKey, text_id: int, signed_on: date, rng: random.Random,
    actor: Actor,
) -> dict[str, Any]:
    return {
        "patient_id": course.patient_id, "key": key.value, "text_id": text_id,
        "signed_on": signed_on, "signer_name": course.name, "guardian_relationship": "",
        "witness_name": rng.choice(WITNESSES), "taken_by": actor.username,
        "created_at": datetime.combine(signed_on, time(12), UTC),  # recorded as signed
    }


def _unique(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One signature per patient, form and day (two modalities may need the same form)."""
    seen: dict[tuple[int, str, date], dict[str, Any]] = {}
    for row in rows:
        seen.setdefault((row["patient_id"], row["key"], row["signed_on"]), row)
    return list(seen.values())


def _courses(session: Session) -> Iterator[Course]:
    query = (
        select(
            TreatmentSession.patient_id, Patient.given_name, Patient.family_name,
            TreatmentSession.modality, Location.time_zone,
            func.min(TreatmentSession.starts_at), func.max(TreatmentSession.starts_at),
        )
        .join(Patient, Patient.id == TreatmentSession.patient_id)
        .join(Location, Location.id == TreatmentSession.location_id)
        .where(TreatmentSession.status.not_in(RELEASED))
        .group_by(
            TreatmentSession.patient_id, Patient.given_name, Patient.family_name,
            TreatmentSession.modality, Location.time_zone,
        )
    )
    for patient_id, given, family, modality, zone, first, last in session.execute(query):
        local = ZoneInfo(zone)
        yield Course(
            patient_id, f"{given} {family}", Modality(modality),
            _aware(first).astimezone(local).date(), _aware(last).astimezone(local).date(),
        )


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo("UTC"))


def _refused_today(session: Session, now: datetime) -> dict[int, str]:
    """Patients booked later today (not yet arrived) whose check-in the board will refuse:
    the first ``REFUSED_TODAY`` by start, one expired and one withdrawn. A patient with any
    other session today is passed over, so no one already on the floor loses a consent."""
    later = _today_sessions(session, now)
    waiting = [ts for ts in later if ts.status in (SessionStatus.SCHEDULED,
                                                   SessionStatus.CONFIRMED)]
    busy = {ts.patient_id for ts in later if ts not in waiting}
    chosen: dict[int, str] = {}
    for ts in sorted(waiting, key=lambda ts: (ts.starts_at, ts.id)):
        if ts.patient_id in busy or ts.patient_id in chosen:
            continue
        chosen[ts.patient_id] = ("expired", "withdrawn")[len(chosen) % 2]
        if len(chosen) == REFUSED_TODAY:
            break
    return chosen


def _today_sessions(session: Session, now: datetime) -> list[TreatmentSession]:
    """Sessions holding a chair on the local day of ``now`` at their location."""
    near = session.scalars(
        select(TreatmentSession).where(
            TreatmentSession.starts_at >= now - timedelta(days=1),
            TreatmentSession.starts_at < now + timedelta(days=1),
            TreatmentSession.status.not_in(RELEASED),
        )
    )
    return [ts for ts in near if _local_day(ts.starts_at, ts) == _local_day(now, ts)]


def _local_day(moment: datetime, ts: TreatmentSession) -> date:
    return _aware(moment).astimezone(ZoneInfo(ts.location.time_zone)).date()


def _keys_today(session: Session, patient_id: int, now: datetime) -> set[ConsentKey]:
    return {
        key
        for ts in _today_sessions(session, now)
        if ts.patient_id == patient_id
        for key in required_for(ts.modality)
    }
