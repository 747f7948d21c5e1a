"""Tables of outcomes: every score taken, the clinic's own measures, and the self-harm alert.

* :class:`OutcomeScore` is one questionnaire or rating: whose, which measure (a key such as
  ``phq9`` or a custom measure's key), the total, the item answers when they were given, when
  it was taken, the session it was taken at (if any) and who recorded it. It is the record of
  every score; one per measure and session.
* :class:`CustomMeasure` is a measure the clinic defines (name, range, which way is better,
  an optional remission threshold).
* :class:`SafetyAlert` is raised when PHQ-9 item 9 (thoughts of self-harm) is above zero; it
  stays open until a clinician acknowledges it with a note, and stays in history after.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ketadesk.clinic.models import Patient
from ketadesk.db import Base, UTCDateTime, created_at, intpk

ITEMS_LENGTH = 120


class OutcomeScore(Base):
    __tablename__ = "outcome_score"
    __table_args__ = (
        UniqueConstraint("session_id", "measure", name="uq_outcome_score_session_measure"),
        CheckConstraint("total >= 0", name="total"),
        Index("ix_outcome_score_patient", "patient_id", "measure", "taken_at"),
    )

    id: Mapped[intpk]
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"))
    measure: Mapped[str] = mapped_column(String(40))
    total: Mapped[int] = mapped_column(SmallInteger)
    # The item answers in order, comma-separated ("1,2,0,..."); empty when only a total.
    items: Mapped[str] = mapped_column(String(ITEMS_LENGTH), default="")
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("treatment_session.id"), default=None)
    recorded_by: Mapped[str] = mapped_column(String(80), default="")
    created_at: Mapped[created_at]

    patient: Mapped[Patient] = relationship()

    @property
    def answers(self) -> tuple[int, ...]:
        return tuple(int(part) for part in self.items.split(",") if part)


class CustomMeasure(Base):
    __tablename__ = "outcome_measure"
    __table_args__ = (
        CheckConstraint("minimum < maximum", name="range"),
        CheckConstraint("minimum >= 0", name="minimum"),
    )

    id: Mapped[intpk]
    key: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    minimum: Mapped[int] = mapped_column(SmallInteger, default=0)
    maximum: Mapped[int] = mapped_column(SmallInteger)
    lower_is_better: Mapped[bool] = mapped_column(Boolean, default=True)
    remission_threshold: Mapped[int | None] = mapped_column(SmallInteger, default=None)
    created_at: Mapped[created_at]
    created_by: Mapped[str] = mapped_column(String(80), default="")


class SafetyAlert(Base):
    __tablename__ = "safety_alert"
    __table_args__ = (
        Index("ix_safety_alert_patient", "patient_id", "acknowledged_at"),
        Index("ix_safety_alert_open", "acknowledged_at", "raised_at"),
    )

    id: Mapped[intpk]
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"))
    score_id: Mapped[int] = mapped_column(ForeignKey("outcome_score.id"))
    item_value: Mapped[int] = mapped_column(SmallInteger)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(String(80), default=None)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    note: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)

    patient: Mapped[Patient] = relationship()
    score: Mapped[OutcomeScore] = relationship()

    __mapper_args__ = {"version_id_col": version}

    @property
    def reference(self) -> str:
        return f"A-{self.id}"
