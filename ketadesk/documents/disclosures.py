"""A patient's accounting of disclosures: every read and change of their record, as a PDF.

:func:`audit_filter` turns what was typed (an MRN, a user, dates, an entity) into an
:class:`~ketadesk.access.audit.AuditFilter` for the viewer and ``ketadesk audit``.
:func:`disclosures_view` gathers, for one patient, the audit rows that name them (by MRN,
or by their id inside the recorded values) oldest first, through
:func:`ketadesk.access.audit.search` (``AUDIT_VIEW``), into a frozen
:class:`DisclosuresView`. :func:`render_disclosures` lays the view out with the shared
letterhead tools, never touching a database: a heading naming the patient and the period,
then one line per access, the local time, the user and what they did in words
(:func:`ketadesk.access.audit.sentence`), and for a change the fields before and after.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from reportlab.platypus import Flowable, Spacer
from sqlalchemy.orm import Session

from ketadesk.access import audit
from ketadesk.access.permissions import Actor
from ketadesk.clinic.models import Patient
from ketadesk.clinic.patients import patient_by_mrn
from ketadesk.documents.letterhead import Column, DocumentMeta, build_pdf, grid, heading, look, text

COLUMNS = (Column("When", 92), Column("Who", 70), Column("What", 190), Column("Details", 176))
LIMIT = 20_000  # lines in one accounting; a longer one is cut and says so


@dataclass(frozen=True)
class DisclosuresView:
    """What the accounting shows: the patient, the period, and each access, oldest first."""

    patient_name: str
    mrn: str
    start: date | None
    end: date | None
    time_zone: str
    printed_at: datetime
    lines: tuple[audit.AuditLine, ...]
    cut: bool = False


def audit_filter(
    session: Session,
    actor: Actor,
    *,
    mrn: str | None = None,
    username: str | None = None,
    start: date | None = None,
    end: date | None = None,
    entity: str | None = None,
) -> tuple[Patient | None, audit.AuditFilter]:
    """The filter the viewer and ``ketadesk audit`` build from what was typed: a patient's
    MRN looked up (a :class:`~ketadesk.errors.NotFound` in words when there is none), so
    rows naming the patient by MRN or by id are both found; blanks mean "any"."""
    patient = patient_by_mrn(session, actor, mrn) if mrn and mrn.strip() else None
    flt = audit.AuditFilter(
        mrn=patient.mrn if patient else None,
        patient_id=patient.id if patient else None,
        username=username.strip() or None if username else None,
        start=start,
        end=end,
        entity=entity.strip() or None if entity else None,
    )
    return patient, flt


def disclosures_view(
    session: Session,
    actor: Actor,
    patient: Patient,
    *,
    start: date | None,
    end: date | None,
    time_zone: str,
    printed_at: datetime,
) -> DisclosuresView:
    """The accounting of ``patient``'s record between ``start`` and ``end`` (days, both
    included; open-ended when ``None``). Needs ``AUDIT_VIEW``; leaves a "print" audit row in
    the caller's transaction."""
    flt = audit.AuditFilter(mrn=patient.mrn, patient_id=patient.id, start=start, end=end)
    lines = audit.search(session, actor, flt, limit=LIMIT + 1, oldest_first=True)
    # Printing the accounting is itself a disclosure: the next accounting lists it.
    audit.record(session, actor, "print", "disclosures", patient.mrn)
    return DisclosuresView(
        patient_name=patient.display_name,
        mrn=patient.mrn,
        start=start,
        end=end,
        time_zone=time_zone,
        printed_at=printed_at,
        lines=tuple(lines[:LIMIT]),
        cut=len(lines) > LIMIT,
    )


def _period(view: DisclosuresView) -> str:
    if view.start is None and view.end is None:
        return "the whole record"
    first = view.start.isoformat() if view.start else "the beginning"
    last = view.end.isoformat() if view.end else "today"
    return f"{first} to {last}"


def _values(values: dict[str, Any] | None) -> str:
    if not values:
        return ""
    return "; ".join(f"{key}: {values[key]}" for key in sorted(values))


def details(line: audit.AuditLine) -> str:
    """The values a row carries, in words: "before → after" for a change."""
    if line.action == "update" and line.after:
        before = line.before or {}
        return "; ".join(
            f"{key}: {before.get(key, '')} → {line.after[key]}" for key in sorted(line.after)
        )
    return _values(line.after or line.before)


def render_disclosures(view: DisclosuresView, *, deterministic: bool = False) -> bytes:
    """The accounting of disclosures as PDF bytes."""
    style = look()
    zone = ZoneInfo(view.time_zone)
    story: list[Flowable] = [
        text("Accounting of disclosures", style.doc_title),
        heading(f"{view.patient_name} · MRN {view.mrn}", style),
        text(
            f"Every read and change of this patient's record kept in the audit log, "
            f"{_period(view)}: {len(view.lines)} entries. Times are in {view.time_zone}; "
            f"printed {view.printed_at.astimezone(zone):%Y-%m-%d %H:%M}.",
            style.fine,
        ),
        Spacer(1, 6),
    ]
    if view.lines:
        rows = [
            [
                f"{line.at.astimezone(zone):%Y-%m-%d %H:%M}",
                line.actor,
                audit.sentence(line),
                details(line),
            ]
            for line in view.lines
        ]
        story.append(grid(COLUMNS, rows, style))
    else:
        story.append(text("No one has read or changed this record in the period.", style.fine))
    if view.cut:
        story.append(text(f"Only the first {LIMIT} entries are shown.", style.fine))
    meta = DocumentMeta(
        title=f"Accounting of disclosures, MRN {view.mrn}",
        subject="Accounting of disclosures",
        author="KetaDesk",
        footer=f"Accounting of disclosures · {view.patient_name} · MRN {view.mrn}",
    )
    return build_pdf(story, meta, deterministic=deterministic)
