"""Builders for outcome tests: a score recorded as a clinician would."""

from __future__ import annotations

from datetime import datetime

from builders import at
from sqlalchemy.orm import Session

from ketadesk.access.permissions import Actor, Role
from ketadesk.scheduling.outcomes import scores
from ketadesk.scheduling.outcomes.models import OutcomeScore

CLINICIAN = Actor(username="dr-ames", role=Role.CLINICAL)
NOW = at("2026-12-07 17:00")
PHQ9_CALM = (1, 1, 1, 1, 0, 0, 1, 0, 0)  # 5, item 9 at 0
PHQ9_ITEM9 = (2, 2, 2, 2, 1, 1, 2, 1, 1)  # 14, item 9 at 1


def score(
    session: Session,
    patient_id: int,
    total: int | None,
    when: str | datetime,
    *,
    measure: str = "phq9",
    items: tuple[int, ...] | None = None,
    session_id: int | None = None,
) -> OutcomeScore:
    taken = at(when) if isinstance(when, str) else when
    return scores.record_score(
        session,
        CLINICIAN,
        patient_id,
        measure,
        scores.Answers(total=total, items=items),
        session_id=session_id,
        taken_at=taken,
        now=NOW if taken <= NOW else taken,
    )
