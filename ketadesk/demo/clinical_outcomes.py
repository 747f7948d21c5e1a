"""The demo's outcome scores and item-9 alerts, written in bulk after the sessions.

The history (:mod:`ketadesk.demo.history_floor`) already puts a PHQ-9 or GAD-7 score on
each treated session, falling as far as the patient responds. This stage

1. copies each of those into ``outcome_score``, taken when the session was (the scores
   table is the record; the session row keeps its copy, as ``record_score`` would leave it);
2. adds a baseline a few days before the first session of every induction, near the first
   session's score;
3. follows PTSD patients (F43.1x) on PCL-5 and chronic-pain patients (G89.x, M79.7) on the
   0–10 pain rating, at every scored session, moving as their PHQ-9/GAD-7 moves;
4. raises the item-9 alert on one or two PHQ-9 scores taken today, so the Today board shows
   them open.

Compact rows and one bulk insert per table, as the rest of the demo writes.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ketadesk.clinic.models import Diagnosis
from ketadesk.demo.bulk import insert_rows, table_of
from ketadesk.demo.dice import Dice
from ketadesk.scheduling.floor import ON_THE_FLOOR
from ketadesk.scheduling.models import Phase, Protocol, Series, TreatmentSession
from ketadesk.scheduling.outcomes.measures import PAIN, PCL5, PHQ9, SELF_HARM_ITEM, shipped
from ketadesk.scheduling.outcomes.models import OutcomeScore, SafetyAlert

RECORDED_BY = "demo"
OPEN_ALERTS_TODAY = 2
ALERT_WINDOW = timedelta(hours=14)  # "today": what the board of the demo's day shows
PTSD_CODES = ("F43.1",)
PAIN_CODES = ("G89.", "M79.7")
FOLLOWED = {PCL5: (45, 70, 3.0), PAIN: (5, 9, 0.7)}  # baseline range and noise


@dataclass(frozen=True)
class _Scored:
    session_id: int
    series_id: int
    patient_id: int
    measure: str
    total: int
    taken_at: datetime
    induction: bool
    on_floor: bool


def add_outcomes(session: Session, rng: random.Random, *, now: datetime) -> int:
    """Write the demo's outcome scores and today's alerts; return how many scores."""
    dice = Dice(rng)
    scored = _scored_sessions(session)
    rows = [_row(s.patient_id, s.measure, s.total, s.taken_at, s.session_id) for s in scored]
    rows += list(_baselines(dice, scored))
    rows += list(_followed(session, dice, scored))
    insert_rows(session, table_of(OutcomeScore), rows)
    _alerts_today(session, dice, scored, now)
    return len(rows)


def _row(
    patient_id: int, measure: str, total: int, taken_at: datetime, session_id: int | None
) -> dict[str, Any]:
    return {
        "patient_id": patient_id,
        "measure": measure,
        "total": total,
        "items": "",
        "taken_at": taken_at,
        "session_id": session_id,
        "recorded_by": RECORDED_BY,
        "created_at": taken_at,
    }


def _scored_sessions(session: Session) -> list[_Scored]:
    # Core columns, not ORM attributes: a compact row per session, without the ORM's loading.
    visit, series, protocol = table_of(TreatmentSession).c, table_of(Series).c, table_of(Protocol).c
    query = (
        select(
            visit.id,
            visit.series_id,
            visit.patient_id,
            visit.score_kind,
            visit.score,
            visit.discharged_at,
            visit.dosed_at,
            visit.checked_in_at,
            visit.starts_at,
            visit.status,
            protocol.phase,
        )
        .join_from(table_of(TreatmentSession), table_of(Series), series.id == visit.series_id)
        .join(table_of(Protocol), protocol.id == series.protocol_id)
        .where(visit.score.is_not(None), visit.score_kind.is_not(None))
        .order_by(visit.series_id, visit.number)
    )
    return [
        _Scored(
            session_id=row[0],
            series_id=row[1],
            patient_id=row[2],
            measure=str(row[3]),
            total=row[4] or 0,
            taken_at=row[5] or row[6] or row[7] or row[8],
            induction=row[10] is Phase.INDUCTION,
            on_floor=row[9] in ON_THE_FLOOR,
        )
        for row in session.execute(query)
    ]


def _firsts(scored: Iterable[_Scored]) -> dict[int, _Scored]:
    """The first scored session of each series."""
    firsts: dict[int, _Scored] = {}
    for item in scored:
        firsts.setdefault(item.series_id, item)
    return firsts


def _maximum(key: str) -> int:
    return next(m.maximum for m in shipped() if m.key == key)


def _baselines(dice: Dice, scored: list[_Scored]) -> Iterable[dict[str, Any]]:
    """A score a few days before each induction's first session, near that session's."""
    for first in _firsts(scored).values():
        if not first.induction:
            continue
        before = timedelta(days=dice.between(2, 12), hours=dice.between(0, 6))
        total = max(0, min(_maximum(first.measure), first.total + round(dice.gauss(0.0, 1.5))))
        yield _row(first.patient_id, first.measure, total, first.taken_at - before, None)


def _followed(session: Session, dice: Dice, scored: list[_Scored]) -> Iterable[dict[str, Any]]:
    """PCL-5 and pain scores that move as the patient's PHQ-9/GAD-7 moves."""
    wanted = _patients_with(session)
    firsts = _firsts(scored)
    opening: dict[int, int] = {}  # each patient's first PHQ-9/GAD-7 ever
    for item in sorted(scored, key=lambda s: s.taken_at):
        opening.setdefault(item.patient_id, item.total)
    started: dict[tuple[int, str], int] = {}
    for item in scored:
        for key in wanted.get(item.patient_id, ()):
            low, high, noise = FOLLOWED[key]
            baseline = started.setdefault((item.patient_id, key), dice.between(low, high))
            first = firsts[item.series_id]
            if item is first and first.induction:
                before = item.taken_at - timedelta(days=dice.between(2, 12))
                yield _row(item.patient_id, key, baseline, before, None)
            share = item.total / opening[item.patient_id] if opening[item.patient_id] else 1.0
            value = round(baseline * min(share, 1.2) + dice.gauss(0.0, noise))
            total = max(0, min(_maximum(key), value))
            yield _row(item.patient_id, key, total, item.taken_at, item.session_id)


def _patients_with(session: Session) -> dict[int, tuple[str, ...]]:
    """Patients with PTSD or chronic pain among their diagnoses, and what follows them."""
    found: dict[int, set[str]] = {}
    for patient_id, code in session.execute(select(Diagnosis.patient_id, Diagnosis.code)):
        if code.startswith(PTSD_CODES):
            found.setdefault(patient_id, set()).add(PCL5)
        if code.startswith(PAIN_CODES):
            found.setdefault(patient_id, set()).add(PAIN)
    return {pid: tuple(sorted(keys)) for pid, keys in found.items()}


def _alerts_today(session: Session, dice: Dice, scored: list[_Scored], now: datetime) -> None:
    """Item 9 answered 1 on up to two PHQ-9 scores taken today, patients in a chair first."""
    today = [
        s
        for s in scored
        if s.measure == PHQ9 and now - ALERT_WINDOW <= s.taken_at <= now and s.total >= 1
    ]
    today.sort(key=lambda s: (not s.on_floor, s.taken_at))
    chosen = today[:OPEN_ALERTS_TODAY]
    if not chosen:
        return
    score_ids = dict(
        session.execute(
            select(OutcomeScore.session_id, OutcomeScore.id).where(
                OutcomeScore.session_id.in_([s.session_id for s in chosen]),
                OutcomeScore.measure == PHQ9,
            )
        ).all()
    )
    alerts = []
    for item in chosen:
        answers = _answers(item.total, dice.between(1, 2) if item.total >= 2 else 1)
        session.execute(
            update(OutcomeScore)
            .where(OutcomeScore.id == score_ids[item.session_id])
            .values(items=",".join(map(str, answers)))
        )
        alerts.append(
            {
                "patient_id": item.patient_id,
                "score_id": score_ids[item.session_id],
                "item_value": answers[SELF_HARM_ITEM - 1],
                "raised_at": item.taken_at,
                "acknowledged_by": None,
                "acknowledged_at": None,
                "note": "",
                "version": 1,
            }
        )
    insert_rows(session, table_of(SafetyAlert), alerts)


def _answers(total: int, self_harm: int) -> tuple[int, ...]:
    """Nine PHQ-9 answers (0–3) adding up to ``total``, item 9 at ``self_harm``."""
    rest = [0] * (SELF_HARM_ITEM - 1)
    self_harm = max(self_harm, total - 3 * len(rest))  # the others hold 24 at most
    left = total - self_harm
    index = 0
    while left > 0:
        if rest[index] < 3:
            rest[index] += 1
            left -= 1
        index = (index + 1) % len(rest)
    return (*rest, self_harm)
