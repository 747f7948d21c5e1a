"""The Good Faith Estimate PDF, as the No Surprises Act asks a clinic to give it.

:func:`render_estimate` lays out an :class:`~ketadesk.billing.views.EstimateView` for a
self-pay or uninsured patient's series, in the order of the federal model notice:

* the letterhead with the estimate's number and dates (drafted, to be given by, given on,
  and the estimate it replaces when the series changed) — not the clinic's workflow status,
  since this is the patient's copy; a replaced estimate says so in a sentence;
* the patient's right to a Good Faith Estimate, in a box the reader cannot miss;
* the patient beside the provider and facility (name, address, phone, NPI and TIN) and
  the rendering provider with credentials and NPI;
* the expected services: the series, its expected dates of service and number of
  sessions, and the diagnosis codes;
* every expected item (code, modifiers, description, sessions, units, unit price and
  amount) and the total estimated cost;
* the disclaimer: the estimate is not a contract, the right to dispute a bill of $400 or
  more above it through patient-provider dispute resolution within 120 days of the bill,
  and where to learn more (www.cms.gov/nosurprises).
"""

from __future__ import annotations

from reportlab.platypus import Flowable, KeepTogether, Paragraph, Spacer, Table

from ketadesk.billing.models import EstimateStatus
from ketadesk.billing.views import EstimateView
from ketadesk.documents.fonts import paragraph_markup
from ketadesk.documents.format import date_text, money_text, period_text
from ketadesk.documents.letterhead import (
    Column,
    DocumentMeta,
    Look,
    build_pdf,
    grid,
    heading,
    letterhead,
    look,
    notice_box,
    party_block,
    patient_lines,
    practice_lines,
    side_by_side,
    text,
    totals,
)

ITEM_COLUMNS = (
    Column("Code", 48),
    Column("Modifier", 48),
    Column("Description", 172),
    Column("Sessions", 52, right=True),
    Column("Units", 36, right=True),
    Column("Unit price", 80, right=True),
    Column("Amount", 92, right=True),
)
DIAGNOSIS_COLUMNS = (Column("ICD-10-CM", 70), Column("Description", 458))
CMS_SITE = "www.cms.gov/nosurprises"
CMS_PHONE = "1-800-985-3059"

RIGHT_TO_ESTIMATE = (
    "You have the right to receive a Good Faith Estimate explaining how much your health "
    "care will cost. Under the law, health care providers need to give patients who do not "
    "have insurance, or who are not using insurance, an estimate of the bill for health care "
    "items and services before those items or services are provided. You have the right to "
    "a Good Faith Estimate of the total expected cost of any non-emergency items or "
    "services, on request or when you schedule them. If you receive a bill that is at "
    "least $400 more than your Good Faith Estimate, you can dispute the bill. Make sure to "
    "save a copy or a picture of your Good Faith Estimate and of the bill."
)
DISCLAIMER = (
    "This Good Faith Estimate shows the costs of items and services that are reasonably "
    "expected for your health care needs. The estimate is based on information known when "
    "it was created. It does not include unknown or unexpected costs that may arise during "
    "treatment: you could be charged more if complications or special circumstances occur."
)
NOT_A_CONTRACT = (
    "This Good Faith Estimate is not a contract and does not require you to obtain the "
    "items or services from any of the providers or facilities named in it."
)
DISPUTE = (
    "If you are billed $400 or more above this Good Faith Estimate, you have the right to "
    "dispute the bill. You may contact the provider or facility named above to tell them the "
    "billed charges are higher than the estimate, ask them to update the bill to match it, "
    "ask to negotiate the bill, or ask whether financial assistance is available. You may "
    "also start the patient-provider dispute resolution process with the U.S. Department "
    "of Health and Human Services (HHS); you must start it within 120 calendar days (about "
    "4 months) of the date on the original bill. If the agency reviewing your dispute agrees "
    "with you, you will pay the price on this Good Faith Estimate; if it agrees with the "
    "provider or facility, you will pay the higher amount."
)
LEARN_MORE = (
    "To learn more about your right to a Good Faith Estimate and the dispute process, or to "
    f"get a form to start a dispute, visit {CMS_SITE} or call {CMS_PHONE}. Keep a copy of "
    "this Good Faith Estimate in a safe place; you may need it if you are billed a higher "
    "amount."
)


def render_estimate(view: EstimateView, *, deterministic: bool = False) -> bytes:
    """The Good Faith Estimate as PDF bytes; ``deterministic`` gives the same bytes."""
    style = look()
    story: list[Flowable] = [
        *_letterhead(view, style),
        *_status_note(view, style),
        notice_box(
            [
                Paragraph("<b>Your right to a Good Faith Estimate</b>", style.base.body),
                Paragraph(RIGHT_TO_ESTIMATE, style.fine),
            ]
        ),
        Spacer(1, 8),
        side_by_side(
            party_block("Patient", view.patient.name, patient_lines(view.patient), style),
            _provider_block(view, style),
        ),
        heading("Expected services", style),
        *_expected(view, style),
        heading("Estimated items and costs", style),
        _items(view, style),
        Spacer(1, 6),
        totals([("Total estimated cost", money_text(view.total))], style, width=260),
        Spacer(1, 8),
        *_disclaimer(style),
    ]
    meta = DocumentMeta(
        title=f"Good Faith Estimate {view.number}",
        subject=f"{view.series_name}, {period_text(view.first_service_on, view.last_service_on)}",
        author=view.practice.name,
        footer=f"Good Faith Estimate {view.number} · {view.patient.name}",
    )
    return build_pdf(story, meta, deterministic=deterministic)


def _letterhead(view: EstimateView, style: Look) -> list[Flowable]:
    # The patient's copy: the clinic's workflow state ("draft" until handed over) is not
    # printed; a replaced estimate says so in words under the letterhead instead.
    facts = [
        ("Estimate no.", view.number),
        ("Date of estimate", date_text(view.drafted_on)),
        ("To be given by", date_text(view.give_by) if view.given_on is None else ""),
        ("Given", date_text(view.given_on)),
        ("Replaces", view.supersedes),
    ]
    return letterhead(view.practice, "Good Faith Estimate", facts, style, identifiers=True)


def _status_note(view: EstimateView, style: Look) -> list[Flowable]:
    if view.status is not EstimateStatus.SUPERSEDED:
        return []
    note = (
        "<b>Replaced.</b> The planned series changed after this estimate was drafted; a newer "
        "Good Faith Estimate replaces it."
    )
    return [Paragraph(note, style.base.body), Spacer(1, 4)]


def _provider_block(view: EstimateView, style: Look) -> list[Flowable]:
    practice = view.practice
    block = party_block(
        "Provider and facility",
        practice.name,
        practice_lines(practice, identifiers=True),
        style,
    )
    if view.provider is not None:
        who = view.provider
        block += [
            Spacer(1, 4),
            Paragraph("RENDERING PROVIDER", style.label),
            text(f"{who.name}, {who.credentials} · NPI {who.npi}", style.base.cell),
        ]
    return block


def _expected(view: EstimateView, style: Look) -> list[Flowable]:
    sessions = "1 session" if view.session_count == 1 else f"{view.session_count} sessions"
    facts = [
        ("Treatment", view.series_name),
        (
            "Expected dates of service",
            f"{period_text(view.first_service_on, view.last_service_on)} ({sessions})",
        ),
    ]
    flowables: list[Flowable] = [
        Paragraph(f"{label}: <b>{paragraph_markup(value)}</b>", style.base.body)
        for label, value in facts
    ]
    flowables.append(Spacer(1, 4))
    if view.diagnoses:
        rows = [[d.code, d.description] for d in view.diagnoses]
        flowables.append(grid(DIAGNOSIS_COLUMNS, rows, style))
    else:
        flowables.append(Paragraph("Diagnosis codes: none recorded yet.", style.base.body))
    return flowables


def _items(view: EstimateView, style: Look) -> Table:
    rows = [
        [
            line.code,
            line.modifiers,
            f"{line.description}\n{line.note}" if line.note else line.description,
            str(line.sessions),
            str(line.units),
            money_text(line.unit_price),
            money_text(line.amount),
        ]
        for line in view.lines
    ]
    if not rows:
        rows = [["", "", "No items are expected.", "", "", "", ""]]
    return grid(ITEM_COLUMNS, rows, style)


def _disclaimer(style: Look) -> list[Flowable]:
    sections = (
        ("About this estimate", DISCLAIMER),
        ("Not a contract", NOT_A_CONTRACT),
        ("If your bill is $400 or more above this estimate", DISPUTE),
        ("Where to learn more", LEARN_MORE),
    )
    flowables: list[Flowable] = []
    for title, body in sections:
        flowables.append(
            KeepTogether(
                [
                    Paragraph(f"<b>{paragraph_markup(title)}</b>", style.base.cell),
                    Paragraph(paragraph_markup(body), style.fine),
                ]
            )
        )
    return flowables
