"""The appeal letter PDF: a request that a payer reconsider the lines it denied.

:func:`render_appeal_letter` lays out an :class:`~ketadesk.billing.claims.appeal_view.AppealView`
as a business letter on the clinic's letterhead (the one the invoices use):

* the letterhead titled "Request for reconsideration", with the letter's date and claim;
* the payer's name, attention line and address, where a window envelope shows them;
* the reference block: patient, date of birth, member and group ids, both claim numbers,
  the dates of service, the rendering provider and when the denial came;
* the denied lines in a small table, each reason code followed by its meaning in words;
* the body as billing staff wrote it (a blank line parts paragraphs);
* the appeal deadline, the enclosures and the signature block.

A short letter takes one page; a long body or many lines run onto a second, with the
table's heading repeated and the footer numbering the pages.
"""

from __future__ import annotations

from reportlab.platypus import Flowable, KeepTogether, Paragraph, Spacer, Table, TableStyle

from ketadesk.billing.claims.appeal_view import AppealView, DeniedLine
from ketadesk.documents.fonts import paragraph_markup
from ketadesk.documents.format import date_text, long_date, money_text, phone_text
from ketadesk.documents.letterhead import (
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
    text,
    totals,
)

TITLE = "Request for reconsideration"
LINE_COLUMNS = (
    Column("Date", 58),
    Column("Code", 58),
    Column("Service", 132),
    Column("Billed", 60, right=True),
    Column("Reason for denial", 220),
)


def render_appeal_letter(view: AppealView, *, stable: bool = False) -> bytes:
    """The appeal letter as PDF bytes; ``stable`` gives the same bytes for the same view."""
    style = look()
    facts = [("Date", long_date(view.letter_date)), ("Our claim", view.claim_number)]
    story: list[Flowable] = [
        *letterhead(view.practice, TITLE, facts, style, identifiers=True),
        *_recipient(view, style),
        Spacer(1, 8),
        _references(view, style),
        Spacer(1, 6),
        heading("Services denied", style),
        _denied_lines(view, style),
        Spacer(1, 4),
        totals([("Total denied", money_text(view.billed_total))], style),
        Spacer(1, 6),
        *_body(view, style),
        *_deadline(view, style),
        *_enclosures(view, style),
        _signature(view, style),
    ]
    meta = DocumentMeta(
        title=f"{TITLE}: claim {view.claim_number}",
        subject=f"Appeal of claim {view.claim_number} to {view.payer_name}",
        author=view.practice.name,
        footer=f"{TITLE} · claim {view.claim_number} · {view.patient_name}",
    )
    return build_pdf(story, meta, deterministic=stable)


def _recipient(view: AppealView, style: Look) -> list[Flowable]:
    lines = [view.attention, *view.payer_address_lines] if view.attention else []
    lines = lines or list(view.payer_address_lines)
    return party_block("To", view.payer_name, lines, style)


def _references(view: AppealView, style: Look) -> Table:
    """The block a payer's clerk finds the claim by: label and value pairs in two columns."""
    pairs = [
        ("Patient", view.patient_name),
        ("Date of birth", date_text(view.patient_date_of_birth)),
        ("Member ID", view.member_id),
        ("Group number", view.group_number),
        ("Our claim number", view.claim_number),
        ("Payer claim number", view.payer_claim_number or "not yet assigned"),
        ("Dates of service", ", ".join(date_text(day) for day in sorted(view.service_dates))),
        ("Rendering provider", _provider(view)),
        ("Denied on", date_text(view.denial_date)),
    ]
    shown = [(label, value) for label, value in pairs if value]
    half = (len(shown) + 1) // 2
    rows = []
    for n in range(half):
        row: list[Flowable | str] = []
        for label, value in shown[n : n + 1] + shown[n + half : n + half + 1]:
            row += [text(label, style.label), text(value, style.base.cell)]
        rows.append(row + [""] * (4 - len(row)))
    table = Table(rows, colWidths=[92, WIDTH / 2 - 92, 92, WIDTH / 2 - 92], hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 1),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
                ("BOX", (0, 0), (-1, -1), 0.4, style.label.textColor),
                ("LEFTPADDING", (0, 0), (0, -1), 6),
            ]
        )
    )
    return table


def _provider(view: AppealView) -> str:
    if view.rendering_provider and view.rendering_npi:
        return f"{view.rendering_provider} (NPI {view.rendering_npi})"
    return view.rendering_provider


def _denied_lines(view: AppealView, style: Look) -> Table:
    rows = [_line_row(line, style) for line in view.denied_lines]
    return grid(LINE_COLUMNS, rows, style)


def _line_row(line: DeniedLine, style: Look) -> list[str | Flowable]:
    code = " ".join((line.code, *line.modifiers))
    reasons = [
        Paragraph(
            f"<b>{paragraph_markup(reason.label)}</b> {paragraph_markup(reason.description)}",
            style.base.cell,
        )
        for reason in line.reasons
    ] or [text("No reason given", style.base.cell)]
    return [date_text(line.service_date), code, line.description, money_text(line.billed), reasons]


def _body(view: AppealView, style: Look) -> list[Flowable]:
    paragraphs = [part.strip() for part in view.body.replace("\r\n", "\n").split("\n\n")]
    spaced = style.base.body.clone("letter_body", spaceAfter=6)
    return [text(part, spaced) for part in paragraphs if part]


def _deadline(view: AppealView, style: Look) -> list[Flowable]:
    if view.appeal_deadline is None:
        return []
    sentence = (
        "This request is made within your appeal period, which ends on "
        f"{long_date(view.appeal_deadline)}. Please send your decision to the address above."
    )
    return [text(sentence, style.base.body)]


def _enclosures(view: AppealView, style: Look) -> list[Flowable]:
    if not view.enclosures:
        return []
    items = [text(f"Enclosures ({len(view.enclosures)}):", style.base.body)]
    items += [text(f"• {item}", style.base.cell) for item in view.enclosures]
    return [Spacer(1, 4), *items]


def _signature(view: AppealView, style: Look) -> KeepTogether:
    """Sincerely, room to sign, then who signs and how to reach them; never split."""
    lines = [view.signer_name, view.signer_title, view.practice.name]
    if view.practice.phone:
        lines.append(phone_text(view.practice.phone))
    block: list[Flowable] = [Spacer(1, 10), text("Sincerely,", style.base.body), Spacer(1, 28)]
    block += [text(line, style.base.body) for line in lines if line]
    return KeepTogether(block)
