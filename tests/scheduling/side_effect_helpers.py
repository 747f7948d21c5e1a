"""Builders for side-effect tests: a dosed session and a side effect recorded in it."""

from __future__ import annotations

from datetime import datetime, timedelta

from builders import SchedulingClinic, at
from scheduling.floor_helpers import NURSE, book, dose_esketamine
from sqlalchemy.orm import Session

from ketadesk.scheduling.models import TreatmentSession
from ketadesk.scheduling.side_effects.models import SideEffect
from ketadesk.scheduling.side_effects.recording import SideEffectInput, record_side_effect


def dosed_esketamine(
    session: Session, clinic: SchedulingClinic, start: str = "2026-12-07 09:00"
) -> TreatmentSession:
    """An esketamine session dosed five minutes after its start, now in monitoring."""
    ts = book(session, clinic, start=start)
    dose_esketamine(session, ts, at(start) + timedelta(minutes=5))
    return ts


def record(
    session: Session,
    ts: TreatmentSession,
    kind: str = "vomiting",
    severity: str = "severe",
    *,
    serious: bool = False,
    minutes: int = 20,
    now: datetime | None = None,
    corrects: int | None = None,
    **extra: str,
) -> SideEffect:
    """A side effect ``minutes`` after the dose, recorded by the nurse 30 minutes after it."""
    assert ts.dosed_at is not None
    given = SideEffectInput(kind, severity, serious=serious, onset_minutes=minutes, **extra)
    moment = now or ts.dosed_at + timedelta(minutes=30)
    return record_side_effect(session, NURSE, ts.id, given, corrects=corrects, now=moment)
