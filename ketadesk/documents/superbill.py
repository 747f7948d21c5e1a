"""The superbill PDF: one visit or a range of visits, for an out-of-network claim.

:func:`render_superbill` lays out a :class:`~ketadesk.billing.views.SuperbillView` (built,
and checked for completeness, by :mod:`ketadesk.billing.superbill`) in the order an
insurer's claims examiner reads it:

* the letterhead with the practice's organisation NPI and TIN;
* the patient (name, date of birth, member id and group when known) beside the billing and
  rendering providers (names, credentials, NPIs) and the place of service; under the
  patient, the subscriber (insured) when the patient is a dependant on someone's policy;
* the diagnoses, lettered A, B, C… with their ICD-10-CM codes;
* every service: date, place-of-service code, CPT/HCPCS code, modifiers, description,
  diagnosis pointers, units, charge and what the patient paid, grouped by visit under a
  line naming the rendering provider; the table splits across pages with its headings. A
  drug line adds, under its description, the NDC as a claim's shaded area holds it (``N4``,
  11 digits, unit qualifier and quantity), the drug's name, its dose and the NDC in 5-4-2;
* the totals, a note that the patient has paid the practice and who should be reimbursed
  (the subscriber), and the provider's certification with a signature and date line.
"""

from __future__ import annotations

from reportlab.platypus import Flowable, KeepTogether, Paragraph, Spacer, Table, TableStyle

from ketadesk.billing.views import DrugInfo, ProviderInfo, SuperbillLine, SuperbillView
from ketadesk.clinic.codes import ndc_claim_text, ndc_text
from ketadesk.documents.fonts import REGULAR, paragraph_markup
from ketadesk.documents.format import date_text, money_text, period_text
from ketadesk.documents.letterhead import (
    INK,
    WIDTH,
    Column,
    DocumentMeta,
    Look,
    build_pdf,
    grid,
    heading,
    letterhead,
    look,
    party_block,
    patient_lines,
    practice_lines,
    side_by_side,
    text,
    totals,
)

SERVICE_COLUMNS = (
    Column("Date", 58),
    Column("POS", 26),
    Column("CPT/HCPCS", 60),
    Column("Modifier", 48),
    Column("Description", 146),
    Column("Dx pointer", 42),
    Column("Units", 32, right=True),
    Column("Charge", 58, right=True),
    Column("Paid", 58, right=True),
)
DIAGNOSIS_COLUMNS = (Column("Pointer", 44), Column("ICD-10-CM", 64), Column("Description", 420))


def render_superbill(view: SuperbillView, *, deterministic: bool = False) -> bytes:
    """The superbill as PDF bytes; ``deterministic`` gives the same bytes for the same view."""
    style = look()
    story: list[Flowable] = [
        *_letterhead(view, style),
        side_by_side(_patient(view, style), _providers(view, style)),
        Spacer(1, 6),
        heading("Diagnoses (ICD-10-CM)", style),
        _diagnoses(view, style),
        heading("Services", style),
        _services(view, style),
        Spacer(1, 6),
        _totals(view, style),
        Spacer(1, 8),
        _closing(view, style),
    ]
    meta = DocumentMeta(
        title=f"Superbill {view.number}",
        subject=f"Services {period_text(view.period_from, view.period_to)}",
        author=view.practice.name,
        footer=(
            f"Superbill {view.number} · {view.patient.name} · "
            f"DOB {date_text(view.patient.date_of_birth)}"
        ),
    )
    return build_pdf(story, meta, deterministic=deterministic)


def _letterhead(view: SuperbillView, style: Look) -> list[Flowable]:
    facts = [
        ("Superbill no.", view.number),
        ("Issued", date_text(view.issued_on)),
        ("Dates of service", period_text(view.period_from, view.period_to)),
    ]
    return letterhead(view.practice, "Superbill", facts, style, identifiers=True)


def _patient(view: SuperbillView, style: Look) -> list[Flowable]:
    lines = patient_lines(view.patient, member=True)
    if view.group_number:
        lines.append(f"Group number {view.group_number}")
    block = party_block("Patient", view.patient.name, lines, style)
    subscriber = view.subscriber
    if subscriber is not None:
        born = subscriber.date_of_birth
        about = [
            f"The patient is the subscriber's {subscriber.relationship}",
            *([f"Date of birth {date_text(born)}"] if born else []),
            f"Member ID {subscriber.member_id} ({subscriber.payer_name})",
            *([f"Group number {subscriber.group_number}"] if subscriber.group_number else []),
        ]
        block.append(Spacer(1, 4))
        block += party_block("Subscriber (insured)", subscriber.name, about, style)
    return block


def _providers(view: SuperbillView, style: Look) -> list[Flowable]:
    practice = view.practice
    block = party_block(
        "Billing provider",
        practice.name,
        [*practice_lines(practice, identifiers=True), f"Place of service {practice.pos_code}"],
        style,
    )
    block.append(Spacer(1, 4))
    block.append(Paragraph("RENDERING PROVIDER", style.label))
    block += [text(_provider_text(p), style.base.cell) for p in _rendering(view)]
    return block


def _rendering(view: SuperbillView) -> list[ProviderInfo]:
    """Each rendering provider once, in the order they first appear."""
    seen: dict[str, ProviderInfo] = {}
    for visit in view.visits:
        seen.setdefault(visit.provider.npi, visit.provider)
    return list(seen.values())


def _provider_text(provider: ProviderInfo) -> str:
    return f"{provider.name}, {provider.credentials} · NPI {provider.npi}"


def _diagnoses(view: SuperbillView, style: Look) -> Table:
    rows = [[d.pointer, d.code, d.description] for d in view.diagnoses]
    return grid(DIAGNOSIS_COLUMNS, rows, style)


def _services(view: SuperbillView, style: Look) -> Table:
    rows: list[list[str]] = []
    banners: list[int] = []
    for visit in view.visits:
        banners.append(len(rows))
        where = f" · {visit.facility}" if visit.facility else ""
        rows.append(
            [f"Visit {date_text(visit.service_date)} · {_provider_text(visit.provider)}{where}"]
        )
        rows += [
            [
                date_text(visit.service_date),
                visit.pos_code,
                line.code,
                line.modifiers,
                _description(line),
                line.diagnosis_pointers,
                str(line.units),
                money_text(line.charge),
                money_text(line.paid),
            ]
            for line in visit.lines
        ]
    return grid(SERVICE_COLUMNS, rows, style, banners=banners)


def _description(line: SuperbillLine) -> str:
    """The line's words, and for a drug line its NDC, name and dose on lines beneath."""
    drug = line.drug
    return line.description if drug is None else f"{line.description}\n{_drug_text(drug)}"


def _drug_text(drug: DrugInfo) -> str:
    return (
        f"{ndc_claim_text(drug.ndc, drug.quantity, drug.unit)}\n"
        f"{drug.name}\n{drug.dose}\nNDC {ndc_text(drug.ndc)}"
    )


def _totals(view: SuperbillView, style: Look) -> Table:
    rows = [
        ("Total charges", money_text(view.total_charges)),
        ("Amount paid by the patient", money_text(view.total_paid)),
    ]
    other = view.total_charges - view.total_paid - view.balance
    if other:
        rows.append(("Discounts and adjustments", money_text(-other)))
    rows.append(("Balance due", money_text(view.balance)))
    return totals(rows, style, width=260)


def _closing(view: SuperbillView, style: Look) -> Flowable:
    """The note to the insurer and the provider's signature, kept on one page."""
    reimburse = (
        "the patient (the subscriber)"
        if view.subscriber is None
        else f"the subscriber, {view.subscriber.name}"
    )
    note = (
        "The patient has paid the amounts shown to the practice, which is not in the "
        f"insurer's network. Please send any reimbursement to {reimburse}."
    )
    certify = (
        "I certify that the services listed above were rendered by the provider named for "
        "each visit and were medically necessary."
    )
    sign = Table(
        [["Provider signature", "", "Date", ""]],
        colWidths=[86, 250, 30, WIDTH - 366],
        rowHeights=28,
        hAlign="LEFT",
    )
    sign.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), REGULAR, 8.5),
                ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
                ("LEFTPADDING", (0, 0), (0, 0), 0),
                ("LINEBELOW", (1, 0), (1, 0), 0.6, INK),
                ("LINEBELOW", (3, 0), (3, 0), 0.6, INK),
            ]
        )
    )
    return KeepTogether(
        [
            Paragraph(paragraph_markup(note), style.base.small),
            Spacer(1, 4),
            Paragraph(paragraph_markup(certify), style.base.body),
            sign,
        ]
    )
