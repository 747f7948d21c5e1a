"""Tables of the clinic: where care happens, who gives it, who pays, and who receives it.

Enumerations are ``StrEnum`` so their values read well in SQL, JSON and CSV alike.
Patients and policies carry a ``version`` column: an edit made from a stale copy raises
``StaleDataError``, which the services turn into :class:`ketadesk.errors.StaleEdit`.
"""

from __future__ import annotations

import enum
from datetime import date, datetime, time
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ketadesk.clinic.text import WORD_LENGTH, search_key
from ketadesk.db import Base, EnumSet, Scaled, UTCDateTime, created_at, enum_column, intpk, utcnow


class Modality(enum.StrEnum):
    IV = "iv"
    IM = "im"
    ESKETAMINE = "esketamine"
    ORAL = "oral"
    KAP = "kap"

    @property
    def label(self) -> str:
        return _MODALITY_LABELS[self]


_MODALITY_LABELS = {
    Modality.IV: "IV infusion",
    Modality.IM: "IM injection",
    Modality.ESKETAMINE: "Esketamine nasal",
    Modality.ORAL: "Oral / sublingual",
    Modality.KAP: "Ketamine-assisted psychotherapy",
}


class Sex(enum.StrEnum):
    FEMALE = "F"
    MALE = "M"
    NONBINARY = "X"
    UNKNOWN = "U"

    @property
    def label(self) -> str:
        return {"F": "Female", "M": "Male", "X": "X (non-binary)", "U": "Unknown"}[self.value]


class ScreeningFlag(enum.StrEnum):
    """Findings that change whether or how ketamine may be given (shown as warnings)."""

    PSYCHOSIS_HISTORY = "psychosis_history"
    UNCONTROLLED_HYPERTENSION = "uncontrolled_hypertension"
    PREGNANCY = "pregnancy"
    ANEURYSMAL_VASCULAR_DISEASE = "aneurysmal_vascular_disease"
    INTRACEREBRAL_HEMORRHAGE = "intracerebral_hemorrhage"
    SUBSTANCE_USE_DISORDER = "substance_use_disorder"
    CARDIAC_DISEASE = "cardiac_disease"
    SEIZURE_DISORDER = "seizure_disorder"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class PolicyRank(enum.StrEnum):
    PRIMARY = "primary"
    SECONDARY = "secondary"
    TERTIARY = "tertiary"


class Relationship(enum.StrEnum):
    """The patient's relationship to the subscriber (X12 individual relationship codes)."""

    SELF = "self"
    SPOUSE = "spouse"
    CHILD = "child"
    OTHER = "other"


provider_location = Table(
    "provider_location",
    Base.metadata,
    Column("provider_id", ForeignKey("provider.id", ondelete="CASCADE"), primary_key=True),
    Column("location_id", ForeignKey("location.id", ondelete="CASCADE"), primary_key=True),
)


class Location(Base):
    __tablename__ = "location"

    id: Mapped[intpk]
    code: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    address_line1: Mapped[str] = mapped_column(String(120))
    address_line2: Mapped[str] = mapped_column(String(120), default="")
    city: Mapped[str] = mapped_column(String(80))
    state: Mapped[str] = mapped_column(String(2))
    zip_code: Mapped[str] = mapped_column(String(10))
    phone: Mapped[str] = mapped_column(String(10), default="")
    pos_code: Mapped[str] = mapped_column(String(2), default="11")
    npi: Mapped[str] = mapped_column(String(10))
    tin: Mapped[str] = mapped_column(String(9))
    time_zone: Mapped[str] = mapped_column(String(60))
    observe_holidays: Mapped[bool] = mapped_column(Boolean, default=True)
    # A cancellation less than this many hours before the session is a late cancellation.
    late_cancel_hours: Mapped[int] = mapped_column(SmallInteger, default=24, server_default="24")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[created_at]

    hours: Mapped[list[OpeningHours]] = relationship(
        back_populates="location",
        cascade="all, delete-orphan",
        order_by="(OpeningHours.weekday, OpeningHours.opens)",
    )
    closures: Mapped[list[Closure]] = relationship(
        back_populates="location", cascade="all, delete-orphan", order_by="Closure.first_day"
    )
    holidays_worked: Mapped[list[HolidayWorked]] = relationship(
        back_populates="location", cascade="all, delete-orphan"
    )
    chairs: Mapped[list[Chair]] = relationship(back_populates="location", order_by="Chair.name")


class OpeningHours(Base):
    """One opening interval on one weekday (0 = Monday); a day may have several."""

    __tablename__ = "opening_hours"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
        CheckConstraint("opens < closes", name="order"),
    )

    id: Mapped[intpk]
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id", ondelete="CASCADE"))
    weekday: Mapped[int] = mapped_column(SmallInteger)
    opens: Mapped[time] = mapped_column(Time)
    closes: Mapped[time] = mapped_column(Time)
    location: Mapped[Location] = relationship(back_populates="hours")


class Closure(Base):
    """Days a location is closed besides public holidays (training, repairs, weather)."""

    __tablename__ = "closure"
    __table_args__ = (CheckConstraint("first_day <= last_day", name="order"),)

    id: Mapped[intpk]
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id", ondelete="CASCADE"))
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(200))
    location: Mapped[Location] = relationship(back_populates="closures")


class HolidayWorked(Base):
    """A public holiday, by name, on which this location stays open (switched off)."""

    __tablename__ = "holiday_worked"
    __table_args__ = (UniqueConstraint("location_id", "holiday_name"),)

    id: Mapped[intpk]
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id", ondelete="CASCADE"))
    holiday_name: Mapped[str] = mapped_column(String(120))
    location: Mapped[Location] = relationship(back_populates="holidays_worked")


class Chair(Base):
    """A treatment chair or room, and the modalities it can host."""

    __tablename__ = "chair"
    __table_args__ = (UniqueConstraint("location_id", "name"),)

    id: Mapped[intpk]
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"))
    name: Mapped[str] = mapped_column(String(60))
    modalities: Mapped[frozenset[Modality]] = mapped_column(EnumSet(Modality))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    location: Mapped[Location] = relationship(back_populates="chairs")


class Provider(Base):
    __tablename__ = "provider"

    id: Mapped[intpk]
    family_name: Mapped[str] = mapped_column(String(100))
    given_name: Mapped[str] = mapped_column(String(100))
    credentials: Mapped[str] = mapped_column(String(40))
    npi: Mapped[str] = mapped_column(String(10), unique=True)
    licence_number: Mapped[str] = mapped_column(String(30))
    licence_state: Mapped[str] = mapped_column(String(2))
    rems_enrolled: Mapped[bool] = mapped_column(Boolean, default=False)
    max_concurrent_chairs: Mapped[int] = mapped_column(SmallInteger, default=4)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    locations: Mapped[list[Location]] = relationship(secondary=provider_location)

    @property
    def display_name(self) -> str:
        return f"{self.given_name} {self.family_name}, {self.credentials}"


class Payer(Base):
    __tablename__ = "payer"

    id: Mapped[intpk]
    name: Mapped[str] = mapped_column(String(120), unique=True)
    edi_payer_id: Mapped[str] = mapped_column(String(20))
    address_line1: Mapped[str] = mapped_column(String(120), default="")
    city: Mapped[str] = mapped_column(String(80), default="")
    state: Mapped[str] = mapped_column(String(2), default="")
    zip_code: Mapped[str] = mapped_column(String(10), default="")
    phone: Mapped[str] = mapped_column(String(10), default="")
    timely_filing_days: Mapped[int] = mapped_column(SmallInteger, default=90)
    appeal_days: Mapped[int] = mapped_column(SmallInteger, default=180)
    is_medicare: Mapped[bool] = mapped_column(Boolean, default=False)
    in_network: Mapped[bool] = mapped_column(Boolean, default=True)
    # The services it pays for, as codes ("G2082,G2083,J0013,99213"); a charge for any
    # other code stays with the patient.
    covered_codes: Mapped[str] = mapped_column(String(400), default="")
    # Its own coding choices: "g_code" bills esketamine as G2082/G2083 (Medicare's way),
    # "visit" as the E/M with prolonged staff time and the drug; swaps such as
    # "J0013>S0013" replace a code the payer does not take yet.
    esketamine_billing: Mapped[str] = mapped_column(String(10), default="visit")
    bills_drug: Mapped[bool] = mapped_column(Boolean, default=True)
    rems_kx: Mapped[bool] = mapped_column(Boolean, default=False)
    code_swaps: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    @property
    def covered(self) -> frozenset[str]:
        return frozenset(c.strip() for c in self.covered_codes.split(",") if c.strip())


class Patient(Base):
    __tablename__ = "patient"
    __table_args__ = (
        Index("ix_patient_name_order", "search_family", "search_given", "id"),
        Index("ix_patient_phone", "phone"),
        Index("ix_patient_phone_tail", "phone_tail"),
        Index("ix_patient_dob", "date_of_birth"),
    )

    id: Mapped[intpk]
    mrn: Mapped[str] = mapped_column(String(12), unique=True)
    family_name: Mapped[str] = mapped_column(String(100))
    given_name: Mapped[str] = mapped_column(String(100))
    middle_name: Mapped[str] = mapped_column(String(100), default="")
    preferred_name: Mapped[str] = mapped_column(String(100), default="")
    date_of_birth: Mapped[date] = mapped_column(Date)
    sex: Mapped[Sex] = mapped_column(enum_column(Sex))
    phone: Mapped[str] = mapped_column(String(10), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    address_line1: Mapped[str] = mapped_column(String(120), default="")
    address_line2: Mapped[str] = mapped_column(String(120), default="")
    city: Mapped[str] = mapped_column(String(80), default="")
    state: Mapped[str] = mapped_column(String(2), default="")
    zip_code: Mapped[str] = mapped_column(String(10), default="")
    emergency_contact_name: Mapped[str] = mapped_column(String(120), default="")
    emergency_contact_phone: Mapped[str] = mapped_column(String(10), default="")
    emergency_contact_relationship: Mapped[str] = mapped_column(String(40), default="")
    driver_name: Mapped[str] = mapped_column(String(120), default="")
    driver_phone: Mapped[str] = mapped_column(String(10), default="")
    screening_flags: Mapped[frozenset[ScreeningFlag]] = mapped_column(
        EnumSet(ScreeningFlag), default=frozenset
    )
    rems_enrolled_on: Mapped[date | None] = mapped_column(Date, default=None)
    weight_kg: Mapped[Decimal | None] = mapped_column(Scaled(1), default=None)
    home_location_id: Mapped[int | None] = mapped_column(ForeignKey("location.id"), default=None)
    notes: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[created_at]
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)
    # Derived keys for search as you type: folded names give the list its order, the
    # reversed phone lets "last four digits" use an index; words live in PatientSearchWord.
    search_family: Mapped[str] = mapped_column(search_key(100))
    search_given: Mapped[str] = mapped_column(search_key(100))
    phone_tail: Mapped[str] = mapped_column(search_key(10), default="")

    diagnoses: Mapped[list[Diagnosis]] = relationship(
        back_populates="patient", cascade="all, delete-orphan", order_by="Diagnosis.position"
    )
    policies: Mapped[list[InsurancePolicy]] = relationship(
        back_populates="patient", order_by="(InsurancePolicy.rank, InsurancePolicy.id)"
    )
    home_location: Mapped[Location | None] = relationship()
    search_words: Mapped[list[PatientSearchWord]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def display_name(self) -> str:
        """Family, Given ("Preferred") — how staff read a patient list."""
        preferred = f' "{self.preferred_name}"' if self.preferred_name else ""
        return f"{self.family_name}, {self.given_name}{preferred}"


class PatientSearchWord(Base):
    """One folded word of a patient's names; its primary key is the search index."""

    __tablename__ = "patient_search_word"

    word: Mapped[str] = mapped_column(search_key(WORD_LENGTH), primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patient.id", ondelete="CASCADE"), primary_key=True
    )


class Diagnosis(Base):
    """An ICD-10-CM code on the patient's problem list; ``position`` 1 is the primary."""

    __tablename__ = "diagnosis"
    __table_args__ = (UniqueConstraint("patient_id", "code"),)

    id: Mapped[intpk]
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(8))
    position: Mapped[int] = mapped_column(SmallInteger)
    patient: Mapped[Patient] = relationship(back_populates="diagnoses")


class InsurancePolicy(Base):
    __tablename__ = "insurance_policy"
    __table_args__ = (Index("ix_policy_patient", "patient_id", "rank"),)

    id: Mapped[intpk]
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"))
    payer_id: Mapped[int] = mapped_column(ForeignKey("payer.id"))
    rank: Mapped[PolicyRank] = mapped_column(enum_column(PolicyRank))
    member_id: Mapped[str] = mapped_column(String(30))
    group_number: Mapped[str] = mapped_column(String(30), default="")
    subscriber_name: Mapped[str] = mapped_column(String(120), default="")
    subscriber_dob: Mapped[date | None] = mapped_column(Date, default=None)
    relationship_to_subscriber: Mapped[Relationship] = mapped_column(
        enum_column(Relationship), default=Relationship.SELF
    )
    effective_from: Mapped[date] = mapped_column(Date)
    effective_to: Mapped[date | None] = mapped_column(Date, default=None)
    prior_auth_number: Mapped[str] = mapped_column(String(40), default="")
    sessions_authorized: Mapped[int | None] = mapped_column(Integer, default=None)
    auth_from: Mapped[date | None] = mapped_column(Date, default=None)
    auth_to: Mapped[date | None] = mapped_column(Date, default=None)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    patient: Mapped[Patient] = relationship(back_populates="policies")
    payer: Mapped[Payer] = relationship()

    __mapper_args__ = {"version_id_col": version}
