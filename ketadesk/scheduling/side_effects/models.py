"""The side-effect tables: what happened in a session, and the provider's clearing note.

Both are append-only, in the database too (revision 0013's triggers): a side effect is never
edited in place; a correction is a new :class:`SideEffect` row whose ``corrects_id`` names the
row it replaces (``withdrawn`` when the first was entered in error). The rows in force are
those no later row corrects. A :class:`ReviewClearance` clears every serious event recorded
before it, for its patient.

``patient_id`` is kept on the side effect (the session names the patient too) because the
review flag is a question about the patient: "any serious event since the last clearance?",
asked for every card on the Today board in one query.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ketadesk.db import Base, UTCDateTime, enum_column, intpk
from ketadesk.scheduling.models import TreatmentSession


class SideEffectKind(enum.StrEnum):
    """What happened. Dizziness and sedation are among esketamine's common reactions."""

    NAUSEA = "nausea"
    VOMITING = "vomiting"
    DISSOCIATION = "dissociation"
    BLOOD_PRESSURE = "blood_pressure"
    HEADACHE = "headache"
    BLADDER = "bladder"
    DIZZINESS = "dizziness"
    SEDATION = "sedation"
    OTHER = "other"

    @property
    def label(self) -> str:
        return _KIND_LABELS[self]


_KIND_LABELS = {
    SideEffectKind.NAUSEA: "Nausea",
    SideEffectKind.VOMITING: "Vomiting",
    SideEffectKind.DISSOCIATION: "Dissociation beyond the expected",
    SideEffectKind.BLOOD_PRESSURE: "Blood pressure above the limit",
    SideEffectKind.HEADACHE: "Headache",
    SideEffectKind.BLADDER: "Bladder symptoms",
    SideEffectKind.DIZZINESS: "Dizziness",
    SideEffectKind.SEDATION: "Sedation beyond the expected",
    SideEffectKind.OTHER: "Other",
}


class SideEffectSeverity(enum.StrEnum):
    MILD = "mild"
    MODERATE = "moderate"
    SEVERE = "severe"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class SideEffect(Base):
    """One side effect or adverse event of one session, as recorded (never changed)."""

    __tablename__ = "side_effect"
    __table_args__ = (
        Index("ix_side_effect_patient", "patient_id", "recorded_at"),
        Index("ix_side_effect_session", "session_id"),
        Index("ix_side_effect_corrects", "corrects_id"),
    )

    id: Mapped[intpk]
    session_id: Mapped[int] = mapped_column(ForeignKey("treatment_session.id"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"))
    kind: Mapped[SideEffectKind] = mapped_column(enum_column(SideEffectKind))
    # For "other", what it was; for the floor's blood-pressure rule, the reading and limit.
    detail: Mapped[str] = mapped_column(String(200), default="")
    severity: Mapped[SideEffectSeverity] = mapped_column(enum_column(SideEffectSeverity))
    serious: Mapped[bool] = mapped_column(Boolean, default=False)
    onset_at: Mapped[datetime] = mapped_column(UTCDateTime)
    action: Mapped[str] = mapped_column(String(200), default="")  # what was done
    recorded_by: Mapped[str] = mapped_column(String(80))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("side_effect.id"), default=None)
    withdrawn: Mapped[bool] = mapped_column(Boolean, default=False)  # entered in error

    session: Mapped[TreatmentSession] = relationship()

    @property
    def reference(self) -> str:
        """How staff name a side effect: ``SE-12``."""
        return f"SE-{self.id}"

    @property
    def words(self) -> str:
        """``"Vomiting (severe, serious)"``, ``"Other: rash (mild)"``."""
        what = self.kind.label
        if self.kind is SideEffectKind.OTHER and self.detail:
            what = f"Other: {self.detail}"
        grade = self.severity.value + (", serious" if self.serious else "")
        return f"{what} ({grade})"


class ReviewClearance(Base):
    """A provider cleared a patient's review after a serious event, with a note."""

    __tablename__ = "review_clearance"
    __table_args__ = (Index("ix_review_clearance_patient", "patient_id", "cleared_at"),)

    id: Mapped[intpk]
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"))
    cleared_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cleared_by: Mapped[str] = mapped_column(String(80))
    note: Mapped[str] = mapped_column(Text)
