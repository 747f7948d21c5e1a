"""The consent form PDF a patient (or a guardian) signs, with a witness.

:func:`consent_form` gathers a frozen :class:`ConsentFormView` — the clinic, the patient,
the treatment's text in effect on the day printed with its version — and
:func:`render_consent_form` lays it out:

* the clinic's letterhead (:mod:`ketadesk.documents.letterhead`) titled with the form's
  title, its version and the day printed;
* the patient's name, date of birth and MRN;
* the text, paragraph by paragraph, a line that stands alone read as a heading;
* the signature block, kept on one page: the patient or guardian (with the
  relationship), the witness, each with a date line.

The text stays extractable, and ``stable=True`` gives the same bytes for the same view.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from reportlab.platypus import Flowable, KeepTogether, Spacer, Table, TableStyle
from sqlalchemy.orm import Session

from ketadesk.access.permissions import Actor, Permission
from ketadesk.billing.parties import patient_info, practice_info
from ketadesk.billing.views import PatientInfo, PracticeInfo
from ketadesk.clinic.consent.models import ConsentKey
from ketadesk.clinic.consent.texts import chosen_effective_on, text_in_effect
from ketadesk.clinic.models import Location, Patient
from ketadesk.documents.format import date_text, long_date
from ketadesk.documents.letterhead import (
    WIDTH,
    DocumentMeta,
    Look,
    build_pdf,
    letterhead,
    look,
    party_block,
    patient_lines,
    text,
)
from ketadesk.scheduling.consent_check import series_consent_key

HEADING_LENGTH = 60  # a paragraph this short without a full stop is a heading


@dataclass(frozen=True)
class ConsentFormView:
    practice: PracticeInfo
    patient: PatientInfo
    key: ConsentKey
    title: str
    version: int
    effective_on: date | None  # None: a shipped text, in effect from the start
    body: str
    printed_on: date


def consent_form(
    session: Session,
    actor: Actor,
    patient: Patient,
    location: Location,
    key: ConsentKey | None,
    *,
    today: date,
) -> ConsentFormView:
    """The form to print for ``patient`` (``key``, else the current series' treatment)."""
    actor.require(Permission.CONSENT_TAKE)
    chosen = key if key is not None else series_consent_key(session, patient)
    consent_text = text_in_effect(session, chosen, today)
    return ConsentFormView(
        practice=practice_info(location),
        patient=patient_info(patient, today),
        key=chosen,
        title=consent_text.title,
        version=consent_text.version,
        effective_on=chosen_effective_on(consent_text),
        body=consent_text.body,
        printed_on=today,
    )


def render_consent_form(view: ConsentFormView, *, stable: bool = False) -> bytes:
    """The form as PDF bytes; ``stable`` gives the same bytes for the same view."""
    style = look()
    facts = [
        ("Form", view.key.label),
        ("Version", str(view.version) if view.effective_on is None
         else f"{view.version} (from {date_text(view.effective_on)})"),
        ("Printed", long_date(view.printed_on)),
    ]
    story: list[Flowable] = [
        *letterhead(view.practice, view.title, facts, style),
        *party_block("Patient", view.patient.name, patient_lines(view.patient), style),
        Spacer(1, 8),
        *_body(view.body, style),
        _signatures(style),
    ]
    meta = DocumentMeta(
        title=f"{view.title} (version {view.version})",
        subject=f"Consent form for {view.patient.name}, MRN {view.patient.mrn}",
        author=view.practice.name,
        footer=f"{view.key.label} consent, version {view.version} · {view.patient.name} · "
        f"MRN {view.patient.mrn}",
    )
    return build_pdf(story, meta, deterministic=stable)


def _body(body: str, style: Look) -> list[Flowable]:
    spaced = style.base.body.clone("consent_body", spaceAfter=5)
    lead = style.base.cell_bold.clone("consent_heading", fontSize=10, leading=13, spaceBefore=4)
    parts = [line.strip() for line in body.replace("\r\n", "\n").split("\n")]
    return [
        text(part, lead if _is_heading(part) else spaced) for part in parts if part
    ]


def _is_heading(line: str) -> bool:
    return len(line) <= HEADING_LENGTH and not line.endswith((".", ":", ";", ","))


def _signatures(style: Look) -> KeepTogether:
    """Two signature rows (signer, witness), each with a printed name and a date."""
    rows = [
        ["", "", ""],
        [
            text("Signature of patient, or of guardian", style.label),
            text("Printed name", style.label),
            text("Date", style.label),
        ],
        [text("If a guardian signs, relationship to the patient:", style.base.cell), "", ""],
        ["", "", ""],
        [
            text("Signature of witness", style.label),
            text("Printed name", style.label),
            text("Date", style.label),
        ],
    ]
    widths = [WIDTH * 0.45, WIDTH * 0.35, WIDTH * 0.2]
    table = Table(rows, colWidths=widths, rowHeights=[30, 14, 26, 30, 14], hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 12),
                ("LINEBELOW", (0, 0), (-1, 0), 0.6, style.label.textColor),
                ("LINEBELOW", (0, 3), (-1, 3), 0.6, style.label.textColor),
                ("LINEBELOW", (1, 2), (2, 2), 0.6, style.label.textColor),
            ]
        )
    )
    return KeepTogether([Spacer(1, 14), table])
