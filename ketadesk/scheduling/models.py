"""Tables of scheduling: protocols, a patient's series, and each session of a series.

How they fit together:

* A :class:`Protocol` is a clinic's template of a series (``iv-induction``,
  ``esketamine-maintenance``…): modality, phase, how many sessions in which weekly
  pattern, the spacing rules, chair time, fasting rules and the services each session
  bills. The defaults ship in ``ketadesk/resources/protocols.toml``; a manager edits them.
* A :class:`Series` is one patient's run of one protocol at one location, with a status
  (planned → active → completed, or discontinued with a reason).
* A :class:`TreatmentSession` is one visit of a series, its own row with its own chair,
  provider and booked time range (UTC instants). Its ``status`` walks the floor:
  scheduled → confirmed → checked-in → dosing → monitoring → completed, or ends in
  cancelled / late-cancelled / no-show. Every step is also a :class:`SessionStep` row
  (what, when, who), so the floor's history is append-only.
* :class:`VitalSign` and :class:`Observation` rows hold what the floor measures during a
  session (blood pressure at the esketamine checkpoints, sedation and dissociation).
* :class:`WaitlistEntry` is a patient who wants an earlier slot.

A session "holds its chair" unless it was cancelled, late-cancelled or a no-show
(:data:`RELEASED`). On PostgreSQL an exclusion constraint (migration 0002) forbids two
holding sessions overlapping in one chair; on SQLite the booking transaction takes the
write lock before it checks.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ketadesk.clinic.models import Chair, Location, Modality, Patient, Provider
from ketadesk.db import Base, Scaled, UTCDateTime, created_at, enum_column, intpk


class Phase(enum.StrEnum):
    INDUCTION = "induction"
    MAINTENANCE = "maintenance"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class SeriesStatus(enum.StrEnum):
    PLANNED = "planned"
    ACTIVE = "active"
    COMPLETED = "completed"
    DISCONTINUED = "discontinued"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class SessionStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    CONFIRMED = "confirmed"
    CHECKED_IN = "checked_in"
    DOSING = "dosing"
    MONITORING = "monitoring"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    LATE_CANCELLED = "late_cancelled"
    NO_SHOW = "no_show"

    @property
    def label(self) -> str:
        return _STATUS_LABELS[self]

    @property
    def holds_chair(self) -> bool:
        return self not in RELEASED

    @property
    def is_open(self) -> bool:
        """Still ahead of the floor or on it: may be moved, cancelled or advanced."""
        return self in OPEN


_STATUS_LABELS = {
    SessionStatus.SCHEDULED: "Scheduled",
    SessionStatus.CONFIRMED: "Confirmed",
    SessionStatus.CHECKED_IN: "Checked in",
    SessionStatus.DOSING: "Dosing",
    SessionStatus.MONITORING: "Monitoring",
    SessionStatus.COMPLETED: "Completed",
    SessionStatus.CANCELLED: "Cancelled",
    SessionStatus.LATE_CANCELLED: "Late cancelled",
    SessionStatus.NO_SHOW: "No-show",
}

RELEASED = frozenset({SessionStatus.CANCELLED, SessionStatus.LATE_CANCELLED, SessionStatus.NO_SHOW})
OPEN = frozenset(
    {
        SessionStatus.SCHEDULED,
        SessionStatus.CONFIRMED,
        SessionStatus.CHECKED_IN,
        SessionStatus.DOSING,
        SessionStatus.MONITORING,
    }
)
REMS_OPEN_SQL = "rems_form_due_on IS NOT NULL AND rems_form_filed_on IS NULL"
# Spelled out for SQL: the PostgreSQL exclusion constraint and partial indexes use it.
RELEASED_SQL = "status NOT IN ('cancelled', 'late_cancelled', 'no_show')"


class Checkpoint(enum.StrEnum):
    """When a vital sign was taken; esketamine requires the first three."""

    PRE_DOSE = "pre_dose"
    FORTY_MINUTES = "forty_minutes"
    DISCHARGE = "discharge"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {
            "pre_dose": "Before dose",
            "forty_minutes": "40 minutes",
            "discharge": "Before discharge",
            "other": "Other",
        }[self.value]


class ObservationKind(enum.StrEnum):
    SEDATION = "sedation"
    DISSOCIATION = "dissociation"


class Severity(enum.StrEnum):
    NONE = "none"
    MILD = "mild"
    MODERATE = "moderate"
    SEVERE = "severe"


class Route(enum.StrEnum):
    IV = "iv"
    IM = "im"
    INTRANASAL = "intranasal"
    SUBLINGUAL = "sublingual"
    ORAL = "oral"

    @property
    def label(self) -> str:
        return {"iv": "IV", "im": "IM"}.get(self.value, self.value.capitalize())


class ScoreKind(enum.StrEnum):
    PHQ9 = "phq9"
    GAD7 = "gad7"

    @property
    def label(self) -> str:
        return {"phq9": "PHQ-9", "gad7": "GAD-7"}[self.value]

    @property
    def maximum(self) -> int:
        return {"phq9": 27, "gad7": 21}[self.value]


class WaitlistStatus(enum.StrEnum):
    WAITING = "waiting"
    OFFERED = "offered"
    BOOKED = "booked"
    REMOVED = "removed"


class Protocol(Base):
    """A template of a series. ``session_count`` is ``None`` for open-ended maintenance.

    Spacing is described three ways, each optional:

    * ``weekly_pattern``: sessions per consecutive week, e.g. ``"2,2,2,2,1,1,1,1"`` (the
      esketamine induction); empty for interval protocols;
    * ``interval_weeks``: the choices offered at booking for interval protocols, the first
      being the default, e.g. ``"1,2"`` (weekly or every two weeks);
    * ``min_hours_between`` (always), ``max_gap_days`` between consecutive sessions and
      ``max_span_days`` for the whole series.
    """

    __tablename__ = "protocol"
    __table_args__ = (
        CheckConstraint("treatment_minutes > 0", name="treatment"),
        CheckConstraint("monitoring_minutes >= 0", name="monitoring"),
        CheckConstraint("min_hours_between >= 0", name="spacing"),
    )

    id: Mapped[intpk]
    key: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    modality: Mapped[Modality] = mapped_column(enum_column(Modality))
    phase: Mapped[Phase] = mapped_column(enum_column(Phase))
    session_count: Mapped[int | None] = mapped_column(SmallInteger, default=None)
    weekly_pattern: Mapped[str] = mapped_column(String(60), default="")
    interval_weeks: Mapped[str] = mapped_column(String(30), default="")
    min_hours_between: Mapped[int] = mapped_column(SmallInteger, default=0)
    max_gap_days: Mapped[int | None] = mapped_column(SmallInteger, default=None)
    max_span_days: Mapped[int | None] = mapped_column(SmallInteger, default=None)
    treatment_minutes: Mapped[int] = mapped_column(SmallInteger)
    monitoring_minutes: Mapped[int] = mapped_column(SmallInteger, default=0)
    fasting_food_hours: Mapped[int] = mapped_column(SmallInteger, default=0)
    fasting_drink_minutes: Mapped[int] = mapped_column(SmallInteger, default=0)
    services: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    @property
    def chair_minutes(self) -> int:
        return self.treatment_minutes + self.monitoring_minutes

    @property
    def requires_rems(self) -> bool:
        return self.modality is Modality.ESKETAMINE

    @property
    def pattern(self) -> list[int]:
        return [int(part) for part in self.weekly_pattern.split(",") if part.strip()]

    @property
    def interval_choices(self) -> list[int]:
        return [int(part) for part in self.interval_weeks.split(",") if part.strip()]

    @property
    def service_codes(self) -> list[str]:
        return [part.strip() for part in self.services.split(",") if part.strip()]


class Series(Base):
    __tablename__ = "series"
    __table_args__ = (Index("ix_series_patient", "patient_id", "id"),)

    id: Mapped[intpk]
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"))
    protocol_id: Mapped[int] = mapped_column(ForeignKey("protocol.id"))
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"))
    status: Mapped[SeriesStatus] = mapped_column(
        enum_column(SeriesStatus), default=SeriesStatus.PLANNED
    )
    interval_weeks: Mapped[int | None] = mapped_column(SmallInteger, default=None)
    discontinued_reason: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[created_at]
    created_by: Mapped[str] = mapped_column(String(80), default="")
    version: Mapped[int] = mapped_column(Integer, default=1)

    patient: Mapped[Patient] = relationship()
    protocol: Mapped[Protocol] = relationship()
    location: Mapped[Location] = relationship()
    sessions: Mapped[list[TreatmentSession]] = relationship(
        back_populates="series", order_by="TreatmentSession.number"
    )

    __mapper_args__ = {"version_id_col": version}


class TreatmentSession(Base):
    """One visit: its booked chair time, who supervises it, and what happened on the floor.

    ``starts_at``/``ends_at`` are the booked chair time. The floor's own clock lives in
    the ``*_at`` columns each step fills in; infusion start and stop are recorded apart
    because billing derives the infusion hours from them.
    """

    __tablename__ = "treatment_session"
    __table_args__ = (
        CheckConstraint("starts_at < ends_at", name="order"),
        Index("ix_session_location_start", "location_id", "starts_at"),
        Index("ix_session_chair_start", "chair_id", "starts_at"),
        Index("ix_session_provider_start", "provider_id", "starts_at"),
        Index("ix_session_patient_start", "patient_id", "starts_at"),
        Index("ix_session_series", "series_id", "number"),
        # Only the REMS forms still to file: small, and what the board reads every refresh.
        # Partial on both back ends: migration 0002 creates it with the same predicate for
        # PostgreSQL too. The model names only SQLite's, because a ``postgresql_*`` option
        # makes SQLAlchemy import its PostgreSQL dialect (and asyncio) with the models, on
        # every start, SQLite or not; autogenerate does not compare the predicate, and
        # tests/test_migrations.py checks the index is partial in both databases.
        Index(
            "ix_session_rems_open",
            "location_id",
            "rems_form_due_on",
            sqlite_where=text(REMS_OPEN_SQL),
        ),
    )

    id: Mapped[intpk]
    series_id: Mapped[int] = mapped_column(ForeignKey("series.id"))
    number: Mapped[int] = mapped_column(SmallInteger)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"))
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"))
    chair_id: Mapped[int] = mapped_column(ForeignKey("chair.id"))
    provider_id: Mapped[int] = mapped_column(ForeignKey("provider.id"))
    modality: Mapped[Modality] = mapped_column(enum_column(Modality))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[SessionStatus] = mapped_column(
        enum_column(SessionStatus), default=SessionStatus.SCHEDULED
    )
    # The floor, step by step (each also has a SessionStep row naming who did it).
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    dosed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    monitoring_from: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    discharged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    infusion_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    infusion_stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # Pre-dose checklist.
    driver_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    fasting_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    checklist_passed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # The dose.
    dose_mg: Mapped[Decimal | None] = mapped_column(Scaled(1), default=None)
    dose_mg_per_kg: Mapped[Decimal | None] = mapped_column(Scaled(3), default=None)
    route: Mapped[Route | None] = mapped_column(enum_column(Route), default=None)
    lot_number: Mapped[str] = mapped_column(String(40), default="")
    ndc: Mapped[str] = mapped_column(String(11), default="")  # the product given, 11 digits
    score_kind: Mapped[ScoreKind | None] = mapped_column(enum_column(ScoreKind), default=None)
    score: Mapped[int | None] = mapped_column(SmallInteger, default=None)
    # Cancellation, late cancellation and no-show.
    ended_reason: Mapped[str] = mapped_column(String(200), default="")
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    policy_window_hours: Mapped[int | None] = mapped_column(SmallInteger, default=None)
    # Spravato REMS patient monitoring form: due 7 calendar days after the session.
    rems_form_due_on: Mapped[date | None] = mapped_column(default=None)
    rems_form_filed_on: Mapped[date | None] = mapped_column(default=None)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[created_at]
    version: Mapped[int] = mapped_column(Integer, default=1)

    series: Mapped[Series] = relationship(back_populates="sessions")
    patient: Mapped[Patient] = relationship()
    location: Mapped[Location] = relationship()
    chair: Mapped[Chair] = relationship()
    provider: Mapped[Provider] = relationship()
    steps: Mapped[list[SessionStep]] = relationship(order_by="SessionStep.id")
    vitals: Mapped[list[VitalSign]] = relationship(order_by="VitalSign.taken_at")
    observations: Mapped[list[Observation]] = relationship(order_by="Observation.at")

    __mapper_args__ = {"version_id_col": version}

    @property
    def reference(self) -> str:
        """How staff name a session in a message: ``S-1234``."""
        return f"S-{self.id}"


class SessionStep(Base):
    """One step of a session's life on the floor: to which status, when, by whom."""

    __tablename__ = "session_step"
    __table_args__ = (Index("ix_step_session", "session_id"),)

    id: Mapped[intpk]
    session_id: Mapped[int] = mapped_column(ForeignKey("treatment_session.id"))
    status: Mapped[SessionStatus] = mapped_column(enum_column(SessionStatus))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(80))
    note: Mapped[str] = mapped_column(String(200), default="")


class VitalSign(Base):
    __tablename__ = "vital_sign"
    __table_args__ = (Index("ix_vital_session", "session_id"),)

    id: Mapped[intpk]
    session_id: Mapped[int] = mapped_column(ForeignKey("treatment_session.id"))
    checkpoint: Mapped[Checkpoint] = mapped_column(enum_column(Checkpoint))
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime)
    systolic: Mapped[int] = mapped_column(SmallInteger)
    diastolic: Mapped[int] = mapped_column(SmallInteger)
    heart_rate: Mapped[int | None] = mapped_column(SmallInteger, default=None)
    spo2: Mapped[int | None] = mapped_column(SmallInteger, default=None)
    actor: Mapped[str] = mapped_column(String(80))


class Observation(Base):
    """Sedation or dissociation seen during esketamine monitoring (REMS form items)."""

    __tablename__ = "observation"
    __table_args__ = (Index("ix_observation_session", "session_id"),)

    id: Mapped[intpk]
    session_id: Mapped[int] = mapped_column(ForeignKey("treatment_session.id"))
    kind: Mapped[ObservationKind] = mapped_column(enum_column(ObservationKind))
    severity: Mapped[Severity] = mapped_column(enum_column(Severity))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(String(200), default="")
    actor: Mapped[str] = mapped_column(String(80))


class WaitlistEntry(Base):
    """A patient who would take an earlier slot, offered when one frees."""

    __tablename__ = "waitlist_entry"
    __table_args__ = (Index("ix_waitlist_location", "location_id", "status"),)

    id: Mapped[intpk]
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"))
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"))
    modality: Mapped[Modality] = mapped_column(enum_column(Modality))
    weekdays: Mapped[str] = mapped_column(String(30), default="")
    earliest_on: Mapped[date | None] = mapped_column(default=None)
    note: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[WaitlistStatus] = mapped_column(
        enum_column(WaitlistStatus), default=WaitlistStatus.WAITING
    )
    created_at: Mapped[created_at]
    created_by: Mapped[str] = mapped_column(String(80), default="")

    patient: Mapped[Patient] = relationship()


__all__ = [
    "OPEN",
    "RELEASED",
    "RELEASED_SQL",
    "Checkpoint",
    "Observation",
    "ObservationKind",
    "Phase",
    "Protocol",
    "Route",
    "ScoreKind",
    "Series",
    "SeriesStatus",
    "SessionStatus",
    "SessionStep",
    "Severity",
    "TreatmentSession",
    "VitalSign",
    "WaitlistEntry",
    "WaitlistStatus",
]
