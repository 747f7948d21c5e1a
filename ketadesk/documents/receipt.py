"""Receipts: one payment's, and the year-end receipt of payments for HSA/FSA and taxes.

:func:`render_receipt` lays out a :class:`~ketadesk.billing.views.ReceiptView`; the same
layout serves both kinds, because a year's receipt is many payments where a single
receipt is one:

* the letterhead with the practice's NPI and TIN (an HSA/FSA administrator asks for
  them) and the receipt's number and period;
* who paid: the patient;
* the payments (date, method, reference, description, amount), then any refunds, then
  the totals paid, refunded and net;
* on a year-end receipt, the services the payments were for (date, code, description,
  charge and what the patient paid), so the receipt stands as proof of medical expense.
"""

from __future__ import annotations

from reportlab.platypus import Flowable, Paragraph, Spacer, Table

from ketadesk.billing.views import PaymentLine, ReceiptView
from ketadesk.documents.fonts import paragraph_markup
from ketadesk.documents.format import date_text, money_text, period_text, tin_text
from ketadesk.documents.letterhead import (
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
    totals,
)

PAYMENT_COLUMNS = (
    Column("Date", 58),
    Column("Method", 64),
    Column("Reference", 100),
    Column("Description", 230),
    Column("Amount", 76, right=True),
)
SERVICE_COLUMNS = (
    Column("Date", 58),
    Column("Code", 44),
    Column("Description", 240),
    Column("Units", 34, right=True),
    Column("Charge", 76, right=True),
    Column("Paid", 76, right=True),
)


def render_receipt(view: ReceiptView, *, deterministic: bool = False) -> bytes:
    """The receipt as PDF bytes; ``deterministic`` gives the same bytes for the same view."""
    style = look()
    facts = [
        ("Receipt no.", view.number),
        ("Period", period_text(view.period_from, view.period_to)),
    ]
    story: list[Flowable] = [
        *letterhead(view.practice, view.title, facts, style, identifiers=True),
        *party_block("Received from", view.patient.name, patient_lines(view.patient), style),
        Spacer(1, 4),
        heading("Payments", style),
        _payment_table(view.payments, style, "No payments in this period."),
    ]
    if view.refunds:
        story += [heading("Refunds", style), _payment_table(view.refunds, style, "")]
    story += [Spacer(1, 6), _totals(view, style)]
    if view.services:
        story += [heading("Services paid for", style), _services(view, style)]
    story += _closing(view, style)
    meta = DocumentMeta(
        title=f"Receipt {view.number}",
        subject=view.title,
        author=view.practice.name,
        footer=f"Receipt {view.number} · {view.patient.name}",
    )
    return build_pdf(story, meta, deterministic=deterministic)


def _payment_table(lines: tuple[PaymentLine, ...], style: Look, empty: str) -> Table:
    rows = [
        [
            date_text(p.on),
            p.method.label if p.method else "",
            p.reference,
            p.description,
            money_text(p.amount),
        ]
        for p in lines
    ]
    if not rows:
        rows = [["", "", "", empty, ""]]
    return grid(PAYMENT_COLUMNS, rows, style)


def _totals(view: ReceiptView, style: Look) -> Table:
    rows = [("Total paid", money_text(view.total_paid))]
    if view.total_refunded:
        rows.append(("Refunded", money_text(-view.total_refunded)))
    rows.append(("Net paid", money_text(view.net_paid)))
    return totals(rows, style)


def _services(view: ReceiptView, style: Look) -> Table:
    rows = [
        [
            date_text(line.service_date),
            line.code or "Fee",
            f"{line.description} ({line.modifiers})" if line.modifiers else line.description,
            str(line.units),
            money_text(line.amount),
            money_text(line.paid),
        ]
        for line in view.services
    ]
    return grid(SERVICE_COLUMNS, rows, style)


def _closing(view: ReceiptView, style: Look) -> list[Flowable]:
    practice = view.practice
    note = (
        f"Received with thanks by {practice.name} (TIN {tin_text(practice.tin)}, "
        f"NPI {practice.npi}) for health care services. Keep this receipt for your records, "
        "for example for a health savings or flexible spending account, or for your taxes."
    )
    return [Spacer(1, 10), Paragraph(paragraph_markup(note), style.base.small)]
