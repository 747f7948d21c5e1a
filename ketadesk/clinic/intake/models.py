"""Tables of candidacy: intake assessments, their answers, medications and overrides, and
the clinic's screening rules and intake settings.

An assessment is never edited in place: a new one supersedes the previous (``supersedes_id``
links them, the older rows stay as history) and the current one is the latest by its date.
An override belongs to one assessment and one condition, so a new intake asks a provider to
decide again. Screening rules hold only what the clinic changed from the shipped defaults
(``ketadesk/resources/screening_rules.toml``).
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ketadesk.clinic.models import Patient, Provider
from ketadesk.db import Base, Scaled, UTCDateTime, created_at, enum_column, intpk, utcnow


class FindingRule(enum.StrEnum):
    """What a finding does: refuse dosing, warn, or nothing."""

    ABSOLUTE = "absolute"
    RELATIVE = "relative"
    IGNORE = "ignore"

    @property
    def label(self) -> str:
        return {
            "absolute": "Absolute (dosing refused unless overridden)",
            "relative": "Relative (a warning to acknowledge)",
            "ignore": "Ignored",
        }[self.value]


class IntakeAssessment(Base):
    """One signed intake: the provider who assessed, the day, vitals, weight."""

    __tablename__ = "intake_assessment"
    __table_args__ = (
        Index("ix_intake_patient", "patient_id", "assessed_on", "id"),
        CheckConstraint("systolic > diastolic", name="pressure_order"),
    )

    id: Mapped[intpk]
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"))
    assessed_on: Mapped[date] = mapped_column(Date)
    provider_id: Mapped[int] = mapped_column(ForeignKey("provider.id"))
    recorded_by: Mapped[str] = mapped_column(String(60))
    recorded_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), default=None)
    systolic: Mapped[int] = mapped_column(SmallInteger)
    diastolic: Mapped[int] = mapped_column(SmallInteger)
    heart_rate: Mapped[int] = mapped_column(SmallInteger)
    weight_kg: Mapped[Decimal] = mapped_column(Scaled(1))
    supersedes_id: Mapped[int | None] = mapped_column(
        ForeignKey("intake_assessment.id"), default=None
    )
    created_at: Mapped[created_at]

    patient: Mapped[Patient] = relationship()
    provider: Mapped[Provider] = relationship()
    answers: Mapped[list[IntakeAnswer]] = relationship(
        back_populates="assessment", cascade="all, delete-orphan", order_by="IntakeAnswer.id"
    )
    medications: Mapped[list[IntakeMedication]] = relationship(
        back_populates="assessment",
        cascade="all, delete-orphan",
        order_by="IntakeMedication.position",
    )
    overrides: Mapped[list[FindingOverride]] = relationship(
        back_populates="assessment", cascade="all, delete-orphan", order_by="FindingOverride.id"
    )


class IntakeAnswer(Base):
    """The answer to one condition: present or absent, with what the provider noted."""

    __tablename__ = "intake_answer"
    __table_args__ = (UniqueConstraint("assessment_id", "condition"),)

    id: Mapped[intpk]
    assessment_id: Mapped[int] = mapped_column(
        ForeignKey("intake_assessment.id", ondelete="CASCADE")
    )
    condition: Mapped[str] = mapped_column(String(40))
    present: Mapped[bool] = mapped_column(Boolean)
    details: Mapped[str] = mapped_column(String(200), default="")
    assessment: Mapped[IntakeAssessment] = relationship(back_populates="answers")


class IntakeMedication(Base):
    """A current medication as the patient takes it (name and dose as written)."""

    __tablename__ = "intake_medication"
    __table_args__ = (Index("ix_intake_medication_assessment", "assessment_id"),)

    id: Mapped[intpk]
    assessment_id: Mapped[int] = mapped_column(
        ForeignKey("intake_assessment.id", ondelete="CASCADE")
    )
    position: Mapped[int] = mapped_column(SmallInteger)
    name: Mapped[str] = mapped_column(String(80))
    dose: Mapped[str] = mapped_column(String(40), default="")
    assessment: Mapped[IntakeAssessment] = relationship(back_populates="medications")


class FindingOverride(Base):
    """A provider's written decision that an absolute finding does not stop dosing."""

    __tablename__ = "intake_override"
    __table_args__ = (UniqueConstraint("assessment_id", "condition"),)

    id: Mapped[intpk]
    assessment_id: Mapped[int] = mapped_column(
        ForeignKey("intake_assessment.id", ondelete="CASCADE")
    )
    condition: Mapped[str] = mapped_column(String(40))
    provider_id: Mapped[int] = mapped_column(ForeignKey("provider.id"))
    reason: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(60))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    assessment: Mapped[IntakeAssessment] = relationship(back_populates="overrides")
    provider: Mapped[Provider] = relationship()


class ScreeningRule(Base):
    """The clinic's choice for one finding, where it differs from the shipped default."""

    __tablename__ = "screening_rule"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    rule: Mapped[FindingRule] = mapped_column(enum_column(FindingRule))
    changed_by: Mapped[str] = mapped_column(String(60))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class IntakeSetting(Base):
    """The clinic's intake settings: one row (id 1); without it the defaults hold."""

    __tablename__ = "intake_setting"
    __table_args__ = (CheckConstraint("valid_months BETWEEN 1 AND 60", name="valid_months"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    valid_months: Mapped[int] = mapped_column(SmallInteger, default=12)
    changed_by: Mapped[str] = mapped_column(String(60), default="")
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
