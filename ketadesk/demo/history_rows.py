"""Where the demo's history writes: the bulk writer with the stage's ids and counts.

Rows go to the database through :class:`~ketadesk.demo.bulk.Sink` in chunks, series
first, then sessions, then their steps, vital signs and observations
(:data:`HISTORY_MODELS`); series and session ids are assigned here (and PostgreSQL's
sequences moved past them), and :class:`HistoryCounts` says how many of each were written.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from sqlalchemy.orm import Session

from ketadesk.demo.bulk import Sink
from ketadesk.scheduling.models import (
    Observation,
    Series,
    SessionStep,
    TreatmentSession,
    VitalSign,
    WaitlistEntry,
)

# What the stage writes, in foreign-key order.
HISTORY_MODELS = (Series, TreatmentSession, SessionStep, VitalSign, Observation, WaitlistEntry)


@dataclass(frozen=True)
class HistoryCounts:
    """How many scheduling records :func:`add_history` wrote."""

    series: int
    sessions: int
    completed_sessions: int
    session_steps: int
    vital_signs: int
    observations: int
    waitlist_entries: int

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


class HistorySink(Sink):
    """The bulk writer (:class:`~ketadesk.demo.bulk.Sink`), with this stage's ids and counts."""

    def __init__(self, session: Session) -> None:
        super().__init__(session, HISTORY_MODELS)
        self.completed = 0

    def series_id(self) -> int:
        return self.next_id(Series)

    def session_id(self) -> int:
        return self.next_id(TreatmentSession)

    def counts(self) -> HistoryCounts:
        w = self.written
        return HistoryCounts(
            series=w[Series],
            sessions=w[TreatmentSession],
            completed_sessions=self.completed,
            session_steps=w[SessionStep],
            vital_signs=w[VitalSign],
            observations=w[Observation],
            waitlist_entries=w[WaitlistEntry],
        )
