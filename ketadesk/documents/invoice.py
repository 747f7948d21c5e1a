"""The invoice PDF: what a self-pay patient owes for a group of posted charges.

:func:`render_invoice` lays out an :class:`~ketadesk.billing.views.InvoiceView`:

* the letterhead with the invoice number, its state (draft, issued, partly paid, paid,
  void), the dates issued and due, and the service period;
* the patient it is billed to beside a box with the balance due and the due date (a
  draft says it is not a bill yet; a void invoice says so with its reason);
* one row per charge: date, code, description, units, charge, paid, adjusted and balance,
  splitting across pages with the headings repeated; then the totals;
* the payments applied to it, and the patient's whole account balance when it differs
  from this invoice's (other invoices, or credit on file).
"""

from __future__ import annotations

from reportlab.platypus import Flowable, Paragraph, Spacer, Table

from ketadesk.billing.views import InvoiceState, InvoiceView
from ketadesk.documents.fonts import paragraph_markup
from ketadesk.documents.format import date_text, money_text, period_text, phone_text
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
    notice_box,
    party_block,
    patient_lines,
    side_by_side,
    text,
    totals,
)

LINE_COLUMNS = (
    Column("Date", 58),
    Column("Code", 44),
    Column("Description", 170),
    Column("Units", 32, right=True),
    Column("Charge", 56, right=True),
    Column("Paid", 56, right=True),
    Column("Adjusted", 56, right=True),
    Column("Balance", 56, right=True),
)
PAYMENT_COLUMNS = (
    Column("Date", 58),
    Column("Method", 64),
    Column("Reference", 110),
    Column("Description", 220),
    Column("Amount", 76, right=True),
)


def render_invoice(view: InvoiceView, *, deterministic: bool = False) -> bytes:
    """The invoice as PDF bytes; ``deterministic`` gives the same bytes for the same view."""
    style = look()
    story: list[Flowable] = [
        *_letterhead(view, style),
        side_by_side(
            party_block("Bill to", view.patient.name, patient_lines(view.patient), style),
            [_amount_due(view, style)],
            split=0.56,
        ),
        Spacer(1, 4),
        heading("Charges", style),
        _lines(view, style),
        Spacer(1, 6),
        _totals(view, style),
    ]
    if view.payments:
        story += [heading("Payments received", style), _payments(view, style)]
    story += _closing(view, style)
    meta = DocumentMeta(
        title=f"Invoice {view.number}",
        subject=f"Invoice for {view.patient.mrn}",
        author=view.practice.name,
        footer=f"Invoice {view.number} · {view.patient.name}",
    )
    return build_pdf(story, meta, deterministic=deterministic)


def _letterhead(view: InvoiceView, style: Look) -> list[Flowable]:
    period = ""
    if view.period_from and view.period_to:
        period = period_text(view.period_from, view.period_to)
    facts = [
        ("Invoice no.", view.number),
        ("Status", view.state.label),
        ("Issued", date_text(view.issued_on)),
        ("Due", date_text(view.due_on)),
        ("Services", period),
    ]
    return letterhead(view.practice, "Invoice", facts, style)


def _amount_due(view: InvoiceView, style: Look) -> Table:
    """The box the patient reads first: what to pay and by when, or why not to pay."""
    body = style.base.body
    if view.state is InvoiceState.VOID:
        lines = [Paragraph("<b>VOID</b>: this invoice has been cancelled.", body)]
        if view.void_reason:
            lines.append(text(f"Reason: {view.void_reason}", style.base.small))
    elif view.state is InvoiceState.DRAFT:
        lines = [
            Paragraph("<b>DRAFT</b>: not yet issued; nothing is due on it yet.", body),
            Paragraph(f"Balance {money_text(view.balance_due)}", body),
        ]
    elif view.balance_due <= 0:
        lines = [Paragraph("<b>Paid in full.</b> Thank you.", body)]
    else:
        due = f" by {date_text(view.due_on)}" if view.due_on else ""
        lines = [
            Paragraph(f"Balance due{due}", style.base.cell),
            Paragraph(f"<b>{money_text(view.balance_due)}</b>", style.base.title),
        ]
    return notice_box(lines, width=WIDTH * 0.44)


def _lines(view: InvoiceView, style: Look) -> Table:
    rows = [
        [
            date_text(line.service_date),
            line.code or "Fee",
            f"{line.description} ({line.modifiers})" if line.modifiers else line.description,
            str(line.units),
            money_text(line.amount),
            money_text(line.paid),
            money_text(line.adjusted),
            money_text(line.balance),
        ]
        for line in view.lines
    ]
    return grid(LINE_COLUMNS, rows, style)


def _totals(view: InvoiceView, style: Look) -> Table:
    return totals(
        [
            ("Total charges", money_text(view.total)),
            ("Payments", money_text(-view.paid)),
            ("Adjustments", money_text(-view.adjusted)),
            ("Balance due", money_text(view.balance_due)),
        ],
        style,
    )


def _payments(view: InvoiceView, style: Look) -> Table:
    rows = [
        [
            date_text(p.on),
            p.method.label if p.method else "",
            p.reference,
            p.description,
            money_text(p.amount),
        ]
        for p in view.payments
    ]
    return grid(PAYMENT_COLUMNS, rows, style)


def _closing(view: InvoiceView, style: Look) -> list[Flowable]:
    notes: list[Flowable] = [Spacer(1, 10)]
    if view.account_balance != view.balance_due:
        if view.account_balance < 0:
            account = f"You have a credit of {money_text(-view.account_balance)} on your account."
        else:
            account = f"Your whole account balance is {money_text(view.account_balance)}."
        notes.append(Paragraph(paragraph_markup(account), style.base.body))
    contact = "Questions about this invoice?"
    if view.practice.phone:
        contact += f" Call us at {phone_text(view.practice.phone)}."
    contact += f" Please quote invoice {view.number} with your payment."
    notes.append(Paragraph(paragraph_markup(contact), style.base.small))
    return notes
