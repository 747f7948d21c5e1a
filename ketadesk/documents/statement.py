"""The patient statement: a period's account activity and what is owed, by age.

:func:`render_statement` lays out a :class:`~ketadesk.billing.views.StatementView`:

* the letterhead with the statement date, the period, the account (MRN) and due date;
* the patient beside a box with the amount due by the statement's due date (never before
  the statement date) and, when invoices are late, how much of it is past due and since when
  (or the credit held, or "nothing due");
* the activity: a "balance forward" row, then each charge, payment, adjustment and
  refund with its running balance, splitting across pages with the headings repeated;
* the totals for the period, the invoices past due (due date, days late, still owed), the
  balance by age (current, 31–60 days, …), package
  prepayments not yet used, and the clinic's message.
"""

from __future__ import annotations

from decimal import Decimal

from reportlab.platypus import Flowable, Paragraph, Spacer, Table

from ketadesk.billing.views import StatementView
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
from ketadesk.money import ZERO

ACTIVITY_COLUMNS = (
    Column("Date", 58),
    Column("Description", 218),
    Column("Charges", 76, right=True),
    Column("Payments & credits", 100, right=True),
    Column("Balance", 76, right=True),
)

PAST_DUE_COLUMNS = (
    Column("Invoice", 150),
    Column("Was due", 100),
    Column("Days late", 90, right=True),
    Column("Still owed", 188, right=True),
)


def render_statement(view: StatementView, *, deterministic: bool = False) -> bytes:
    """The statement as PDF bytes; ``deterministic`` gives the same bytes for the same view."""
    style = look()
    facts = [
        ("Statement date", date_text(view.statement_date)),
        ("Period", period_text(view.period_from, view.period_to)),
        ("Account (MRN)", view.patient.mrn),
        ("Payment due", date_text(view.due_on) if view.closing_balance > 0 else ""),
    ]
    story: list[Flowable] = [
        *letterhead(view.practice, "Statement", facts, style),
        side_by_side(
            party_block("Statement for", view.patient.name, patient_lines(view.patient), style),
            [_amount_due(view, style)],
            split=0.56,
        ),
        Spacer(1, 4),
        heading("Account activity", style),
        _activity(view, style),
        Spacer(1, 6),
        _totals(view, style),
    ]
    if view.past_due:
        story += [heading("Past due", style), _past_due(view, style), Spacer(1, 6)]
    if view.aging:
        story += [heading("What you owe, by age", style), _aging(view, style)]
    story += _closing(view, style)
    meta = DocumentMeta(
        title=f"Statement {view.patient.mrn} {view.statement_date.isoformat()}",
        subject=f"Account statement {period_text(view.period_from, view.period_to)}",
        author=view.practice.name,
        footer=f"Statement {date_text(view.statement_date)} · {view.patient.name}",
    )
    return build_pdf(story, meta, deterministic=deterministic)


def _amount_due(view: StatementView, style: Look) -> Table:
    balance = view.closing_balance
    if balance > 0:
        due = f" by {date_text(view.due_on)}" if view.due_on else ""
        lines = [
            Paragraph(f"Amount due{due}", style.base.cell),
            Paragraph(f"<b>{money_text(balance)}</b>", style.base.title),
        ]
        if view.past_due:
            since = date_text(view.past_due_since)
            lines.append(
                Paragraph(
                    f"<b>{money_text(view.past_due_total)} is past due</b> (since {since}): "
                    "please pay it now.",
                    style.base.cell,
                )
            )
    elif balance < 0:
        lines = [
            Paragraph("Credit on your account", style.base.cell),
            Paragraph(f"<b>{money_text(-balance)}</b>", style.base.title),
            Paragraph("Nothing is due.", style.base.cell),
        ]
    else:
        lines = [Paragraph("<b>Nothing is due.</b> Thank you.", style.base.body)]
    return notice_box(lines, width=WIDTH * 0.44)


def _activity(view: StatementView, style: Look) -> Table:
    rows = [["", "Balance forward", "", "", money_text(view.opening_balance)]]
    rows += [
        [
            date_text(line.on),
            line.description,
            _amount_or_blank(line.charges),
            _amount_or_blank(line.credits),
            money_text(line.balance),
        ]
        for line in view.lines
    ]
    return grid(ACTIVITY_COLUMNS, rows, style)


def _amount_or_blank(amount: Decimal) -> str:
    return money_text(amount) if amount else ""


def _totals(view: StatementView, style: Look) -> Table:
    charges = sum((line.charges for line in view.lines), ZERO)
    credits = sum((line.credits for line in view.lines), ZERO)
    closing = view.closing_balance
    return totals(
        [
            ("Previous balance", money_text(view.opening_balance)),
            ("New charges", money_text(charges)),
            ("Payments and credits", money_text(-credits)),
            ("Credit balance" if closing < 0 else "Balance", money_text(closing)),
        ],
        style,
    )


def _past_due(view: StatementView, style: Look) -> Table:
    rows: list[list[str]] = [
        [p.number, date_text(p.due_on), str(p.days_late), money_text(p.owed)]
        for p in view.past_due
    ]
    rows.append(["Past due in all", "", "", money_text(view.past_due_total)])
    return grid(PAST_DUE_COLUMNS, rows, style, strong=(len(rows) - 1,))


def _aging(view: StatementView, style: Look) -> Table:
    width = WIDTH / len(view.aging)
    columns = [Column(label, width, right=True) for label, _amount in view.aging]
    return grid(columns, [[money_text(amount) for _label, amount in view.aging]], style)


def _closing(view: StatementView, style: Look) -> list[Flowable]:
    notes: list[Flowable] = [Spacer(1, 10)]
    if view.insurance_pending:
        pending = (
            f"Billed to your insurance and not yet settled: "
            f"{money_text(view.insurance_pending)}. This is not part of your balance; we "
            "bill you only the share your insurer assigns to you."
        )
        notes.append(Paragraph(paragraph_markup(pending), style.base.body))
    if view.unapplied_prepayments:
        prepaid = (
            f"Prepaid package sessions not yet used: {money_text(view.unapplied_prepayments)}. "
            "This prepayment is held for your coming package sessions."
        )
        notes.append(Paragraph(paragraph_markup(prepaid), style.base.body))
    if view.message:
        notes.append(text(view.message, style.base.body))
    contact = "Questions about your account?"
    if view.practice.phone:
        contact += f" Call us at {phone_text(view.practice.phone)}."
    contact += f" Please quote your account number {view.patient.mrn} with your payment."
    notes.append(Paragraph(paragraph_markup(contact), style.base.small))
    return notes
