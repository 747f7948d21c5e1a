"""Consent tables: versioned texts per treatment, signed consents, withdrawals.

All three are append-only (revision 0010 makes the database refuse UPDATE and DELETE):

* :class:`ConsentText` — one row per version of a treatment's text. An edit is a new row
  with the next version number; it says whether it changes the consent *materially* (a
  material version, once in effect, makes every consent signed on an older version need
  signing again), from which day it takes effect, how many months a signature on it stays
  valid, and who wrote it.
* :class:`SignedConsent` — a patient's signature on one version: the local day signed, the
  signer (the patient, or a guardian with the relationship), the witness, who took it.
  A mistake is never edited: it is withdrawn and signed again.
* :class:`ConsentWithdrawal` — the patient stopped consenting (their right at any time), or
  a consent recorded in error was withdrawn; from ``withdrawn_on`` it no longer holds.
"""

from __future__ import annotations

import enum
from datetime import date

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

from ketadesk.clinic.models import Modality
from ketadesk.db import Base, created_at, enum_column, intpk


class ConsentKey(enum.StrEnum):
    """The treatments a clinic keeps a consent form for."""

    IV_KETAMINE = "iv_ketamine"
    IM_KETAMINE = "im_ketamine"
    ESKETAMINE = "esketamine"
    KAP = "kap"
    REMS_ENROLMENT = "rems_enrolment"

    @property
    def label(self) -> str:
        return _KEY_LABELS[self]


_KEY_LABELS = {
    ConsentKey.IV_KETAMINE: "IV ketamine",
    ConsentKey.IM_KETAMINE: "IM ketamine",
    ConsentKey.ESKETAMINE: "Esketamine (Spravato)",
    ConsentKey.KAP: "Ketamine-assisted psychotherapy",
    ConsentKey.REMS_ENROLMENT: "Spravato REMS patient enrolment",
}

# The consents a session of each modality needs. Oral and sublingual ketamine is given in
# KetaDesk's clinics as lozenges within ketamine-assisted psychotherapy, and the KAP form
# describes ketamine by mouth or under the tongue (with or without therapy), so it is the
# form that covers it. Esketamine needs its own consent and the REMS patient enrolment.
REQUIRED: dict[Modality, tuple[ConsentKey, ...]] = {
    Modality.IV: (ConsentKey.IV_KETAMINE,),
    Modality.IM: (ConsentKey.IM_KETAMINE,),
    Modality.ESKETAMINE: (ConsentKey.ESKETAMINE, ConsentKey.REMS_ENROLMENT),
    Modality.ORAL: (ConsentKey.KAP,),
    Modality.KAP: (ConsentKey.KAP,),
}


def required_for(modality: Modality) -> tuple[ConsentKey, ...]:
    """The consent keys a session of ``modality`` needs signed and valid."""
    return REQUIRED[Modality(modality)]


class ConsentText(Base):
    """One version of a treatment's consent text (never changed once written)."""

    __tablename__ = "consent_text"
    __table_args__ = (
        UniqueConstraint("key", "version"),
        CheckConstraint("version > 0", name="version"),
        CheckConstraint("valid_months IS NULL OR valid_months > 0", name="valid_months"),
    )

    id: Mapped[intpk]
    key: Mapped[ConsentKey] = mapped_column(enum_column(ConsentKey))
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    # Whether this version changes the consent materially (signatures on older versions
    # stop holding once it takes effect); version 1 is always material.
    material: Mapped[bool] = mapped_column(Boolean, default=True)
    # How long a signature on this version stays valid; None: until withdrawn or replaced.
    valid_months: Mapped[int | None] = mapped_column(SmallInteger)
    effective_on: Mapped[date] = mapped_column(Date)
    edited_by: Mapped[str] = mapped_column(String(60))
    created_at: Mapped[created_at]


class SignedConsent(Base):
    """A consent a patient (or a guardian) signed on one version of a text."""

    __tablename__ = "signed_consent"
    __table_args__ = (Index("ix_signed_consent_patient", "patient_id", "key"),)

    id: Mapped[intpk]
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"))
    key: Mapped[ConsentKey] = mapped_column(enum_column(ConsentKey))
    text_id: Mapped[int] = mapped_column(ForeignKey("consent_text.id"))
    signed_on: Mapped[date] = mapped_column(Date)
    signer_name: Mapped[str] = mapped_column(String(120))
    # Empty when the patient signed; otherwise the guardian's relationship ("mother").
    guardian_relationship: Mapped[str] = mapped_column(String(40), default="")
    witness_name: Mapped[str] = mapped_column(String(120))
    taken_by: Mapped[str] = mapped_column(String(60))
    created_at: Mapped[created_at]

    text: Mapped[ConsentText] = relationship()
    withdrawal: Mapped[ConsentWithdrawal | None] = relationship(
        back_populates="consent", uselist=False
    )


class ConsentWithdrawal(Base):
    """The end of one signed consent: from ``withdrawn_on`` it no longer holds."""

    __tablename__ = "consent_withdrawal"

    id: Mapped[intpk]
    consent_id: Mapped[int] = mapped_column(ForeignKey("signed_consent.id"), unique=True)
    withdrawn_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(200), default="")
    withdrawn_by: Mapped[str] = mapped_column(String(60))
    created_at: Mapped[created_at]

    consent: Mapped[SignedConsent] = relationship(back_populates="withdrawal")
