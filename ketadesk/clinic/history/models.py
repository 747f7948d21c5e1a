"""The table of prior treatments.

One row per treatment tried before: what kind, which drug or therapy, at what dose and for
how long, how it went and why it stopped, when it started (to the month) and whether it
belongs to the current episode of the illness. Rows are never edited in place: a mistake
is corrected by a new row that ``supersedes`` the old one, or the old one is removed with a
reason; both stay in the table (and the audit log), so the record shows what was believed
when.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, Date, ForeignKey, Index, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from ketadesk.db import Base, Scaled, UTCDateTime, enum_column, intpk, utcnow


class TreatmentKind(enum.StrEnum):
    ANTIDEPRESSANT = "antidepressant"
    AUGMENTATION = "augmentation"
    PSYCHOTHERAPY = "psychotherapy"
    ECT = "ect"
    TMS = "tms"
    OTHER = "other"

    @property
    def label(self) -> str:
        return _KIND_LABELS[self]


_KIND_LABELS = {
    TreatmentKind.ANTIDEPRESSANT: "Antidepressant trial",
    TreatmentKind.AUGMENTATION: "Augmentation",
    TreatmentKind.PSYCHOTHERAPY: "Psychotherapy",
    TreatmentKind.ECT: "ECT",
    TreatmentKind.TMS: "TMS",
    TreatmentKind.OTHER: "Other",
}


class Response(enum.StrEnum):
    NONE = "none"
    PARTIAL = "partial"
    REMISSION = "remission"
    NOT_TOLERATED = "not_tolerated"
    UNKNOWN = "unknown"

    @property
    def label(self) -> str:
        return {
            "none": "No response",
            "partial": "Partial response",
            "remission": "Remission",
            "not_tolerated": "Not tolerated",
            "unknown": "Unknown",
        }[self.value]


class PriorTreatment(Base):
    """A treatment tried before; live while neither removed nor superseded."""

    __tablename__ = "prior_treatment"
    __table_args__ = (Index("ix_prior_treatment_patient", "patient_id", "id"),)

    id: Mapped[intpk]
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"))
    kind: Mapped[TreatmentKind] = mapped_column(enum_column(TreatmentKind))
    treatment: Mapped[str] = mapped_column(String(80))  # "sertraline", "CBT", "ECT"
    dose_amount: Mapped[Decimal | None] = mapped_column(Scaled(2), default=None)
    dose_unit: Mapped[str] = mapped_column(String(12), default="")  # "mg", "sessions"
    weeks: Mapped[int | None] = mapped_column(SmallInteger, default=None)
    response: Mapped[Response] = mapped_column(enum_column(Response), default=Response.UNKNOWN)
    stopped_because: Mapped[str] = mapped_column(String(200), default="")
    started_on: Mapped[date | None] = mapped_column(Date, default=None)  # the 1st: a month
    current_episode: Mapped[bool] = mapped_column(Boolean, default=True)
    recorded_by: Mapped[str] = mapped_column(String(80))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    supersedes_id: Mapped[int | None] = mapped_column(
        ForeignKey("prior_treatment.id"), default=None
    )
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    removed_by: Mapped[str] = mapped_column(String(80), default="")
    removed_reason: Mapped[str] = mapped_column(String(200), default="")

    @property
    def live(self) -> bool:
        return self.removed_at is None
