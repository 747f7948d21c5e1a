"""``ketadesk invoice``: create, list, print and void a self-pay patient's invoices.

``invoice create`` gathers the patient's *posted* charges (it captures nothing; that is
``ketadesk charges``) that are not on another invoice, in the date range if one is given,
through :func:`ketadesk.billing.invoices.create_invoice`, and issues the invoice at once
(:func:`~ketadesk.billing.invoices.issue_invoice`, which sets the due date and applies any
credit the patient holds) unless ``--draft``. It prints the number, the lines and the
total, and says how many of the patient's charges are still waiting in the review queue,
since those are not on the invoice. ``invoice pdf`` prints an invoice with
:func:`ketadesk.documents.invoice.render_invoice`; ``invoice void`` reverses an issued
invoice's charges (:func:`~ketadesk.billing.invoices.void_invoice`). Each command is one
transaction.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ketadesk.cli import billing_common as bc
from ketadesk.cli import common
from ketadesk.errors import ValidationError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ketadesk.access.permissions import Actor
    from ketadesk.billing.invoices import InvoicePage, InvoiceRow
    from ketadesk.billing.views import InvoiceView

OPTIONS = {
    "patient": "--patient",
    "patient_id": "--patient",
    "location": "--location",
    "location_id": "--location",
    "from": "--from",
    "date_from": "--from",
    "to": "--to",
    "date_to": "--to",
    "invoice": "NUMBER",
    "number": "NUMBER",
    "reason": "--reason",
    "output": "--output",
    "state": "--state",
    "search": "--search",
    "limit": "--limit",
    "offset": "--offset",
}
STATES = ("draft", "issued", "partly_paid", "paid", "void")
GROUP_EXAMPLES = """\
  ketadesk invoice create --patient 100001
  ketadesk invoice pdf NYC-2026-00001 -o invoice.pdf
  ketadesk invoice list --patient 100001
  ketadesk invoice void NYC-2026-00001 --reason "charged twice"
"""


def register(commands: Any) -> None:
    actions = common.command_group(
        commands,
        "invoice",
        summary="create, list, print and void invoices",
        description="Invoice self-pay patients for their posted charges, print invoices and "
        "void them.",
        examples=GROUP_EXAMPLES,
    )
    _register_create(actions)
    _register_pdf(actions)
    _register_list(actions)
    _register_void(actions)


def _register_create(actions: Any) -> None:
    parser = common.command_parser(
        actions,
        "create",
        summary="invoice a patient's posted charges, and issue the invoice",
        description="Put a patient's posted charges that are on no other invoice onto a new "
        "invoice,\nnumbered per location and year, and issue it (due date from the "
        "location's\nbilling policy; credit the patient holds is applied). Nothing is "
        "captured here:\ncharges still in the review queue are counted, not invoiced "
        "(see 'ketadesk charges').",
        examples="""\
  ketadesk invoice create --patient 100001
  ketadesk invoice create --patient 100001 --from 2026-12-01 --to 2026-12-31 --draft
  ketadesk invoice create --patient 100001 --location NYC --json""",
        json_output=True,
    )
    parser.add_argument("--patient", metavar="MRN", required=True, help="the patient's MRN")
    parser.add_argument("--from", dest="date_from", metavar="DATE", help="first service date")
    parser.add_argument("--to", dest="date_to", metavar="DATE", help="last service date")
    parser.add_argument(
        "--location", metavar="CODE", help="only charges of this location (and its numbering)"
    )
    parser.add_argument("--draft", action="store_true", help="leave the invoice as a draft")
    parser.set_defaults(func=create, options=OPTIONS)


def _register_pdf(actions: Any) -> None:
    parser = common.command_parser(
        actions,
        "pdf",
        summary="print an invoice to a PDF file",
        description="Write an invoice as a PDF: the practice, the patient, each charge, what "
        "was paid\nand adjusted, the balance due and the due date.",
        examples="  ketadesk invoice pdf NYC-2026-00001 -o invoice.pdf",
    )
    parser.add_argument("number", metavar="NUMBER", help="the invoice number, e.g. NYC-2026-00001")
    parser.add_argument(
        "-o", "--output", metavar="FILE", required=True, help="the PDF file to write"
    )
    parser.set_defaults(func=pdf, options=OPTIONS)


def _register_list(actions: Any) -> None:
    parser = common.command_parser(
        actions,
        "list",
        summary="list invoices, newest first",
        description="List invoices with their state (draft, issued, partly paid, paid, void), "
        "total and\nbalance due: every one that matches, or a page of them with --limit and "
        "--offset\n(the count of all that match is said).",
        examples="""\
  ketadesk invoice list
  ketadesk invoice list --patient 100001 --json
  ketadesk invoice list --location NYC --state issued --state partly_paid
  ketadesk invoice list --search 00042
  ketadesk invoice list --limit 50 --offset 100""",
        json_output=True,
    )
    parser.add_argument("--patient", metavar="MRN", help="only this patient's invoices")
    parser.add_argument("--location", metavar="CODE", help="only this location's invoices")
    parser.add_argument(
        "--state",
        action="append",
        choices=STATES,
        metavar="STATE",
        help=f"only invoices in this state ({', '.join(STATES)}); repeat for several",
    )
    parser.add_argument(
        "--search", metavar="TEXT", help="an invoice number (or part of one), an MRN or a name"
    )
    parser.add_argument("--limit", metavar="N", help="show N invoices (default: every one)")
    parser.add_argument("--offset", metavar="N", help="skip the newest N invoices")
    parser.set_defaults(func=list_command, options=OPTIONS)


def _count(text: str | None, field: str) -> int | None:
    """A page size or offset as typed; ``None`` when not given."""
    if text is None:
        return None
    if not text.strip().isdigit():
        raise ValidationError.single(field, f"{text.strip()!r} is not a whole number, like 50")
    return int(text)


def _register_void(actions: Any) -> None:
    parser = common.command_parser(
        actions,
        "void",
        summary="void an invoice; an issued one has its charges reversed",
        description="Void an invoice. A draft is simply voided; an issued invoice has each of "
        "its charges\nreversed by a new ledger entry (nothing is deleted), and "
        "payments on them become\ncredit.",
        examples='  ketadesk invoice void NYC-2026-00001 --reason "charged twice"',
    )
    parser.add_argument("number", metavar="NUMBER", help="the invoice number")
    parser.add_argument("--reason", metavar="TEXT", required=True, help="why it is voided")
    parser.set_defaults(func=void, options=OPTIONS)


# --------------------------------------------------------------------------------------
# The commands
# --------------------------------------------------------------------------------------


def create(args: argparse.Namespace) -> int:
    from ketadesk.billing.invoices import create_invoice, invoice_view, issue_invoice

    on = common.clock_of(args).today()
    with common.opened(args) as db, db.transaction() as session:
        actor = common.actor(args)
        patient = common.patient_by_mrn(session, actor, args.patient)
        location = common.location_by_code(session, args.location) if args.location else None
        first, last = bc.date_range(args.date_from, args.date_to, common.clock_of(args))
        invoice = create_invoice(
            session,
            actor,
            patient_id=patient.id,
            today=on,
            location_id=location.id if location else None,
            date_from=first,
            date_to=last,
        )
        if not args.draft:
            invoice = issue_invoice(session, actor, invoice.id, on=on)
        view = invoice_view(session, actor, invoice.id)
        in_review = _charges_in_review(session, actor, patient.id)
    data = {**invoice_data(view), "charges_in_review": in_review}
    common.emit(args, data, lambda: created_text(view, in_review))
    return 0


def _charges_in_review(session: Session, actor: Actor, patient_id: int) -> int:
    from ketadesk.billing.review import review_queue

    return len(review_queue(session, actor, patient_id=patient_id))


def pdf(args: argparse.Namespace) -> int:
    from ketadesk.billing.invoices import find_invoice, invoice_view
    from ketadesk.documents.invoice import render_invoice

    with common.opened(args) as db, db.transaction() as session:  # the read is audited
        actor = common.actor(args)
        view = invoice_view(session, actor, find_invoice(session, args.number).id)
    path = bc.write_pdf(render_invoice(view), Path(args.output))
    print(f"Invoice {view.number} ({view.state.label.lower()}) written to {path}")
    return 0


def list_command(args: argparse.Namespace) -> int:
    from ketadesk.billing.invoices import search_invoices
    from ketadesk.billing.views import InvoiceState

    limit, offset = _count(args.limit, "limit"), _count(args.offset, "offset") or 0
    with common.opened(args) as db, db.reading() as session:
        actor = common.actor(args)
        patient = common.patient_by_mrn(session, actor, args.patient) if args.patient else None
        location = common.location_by_code(session, args.location) if args.location else None
        page = search_invoices(
            session,
            actor,
            args.search or "",
            patient_id=patient.id if patient else None,
            location_id=location.id if location else None,
            states=[InvoiceState(s) for s in args.state] if args.state else None,
            limit=limit,
            offset=offset,
        )
    common.emit(args, [row_data(r) for r in page.rows], lambda: list_text(page))
    return 0


def void(args: argparse.Namespace) -> int:
    from ketadesk.billing.invoices import find_invoice, invoice_view, void_invoice

    on = common.clock_of(args).today()
    with common.opened(args) as db, db.transaction() as session:
        actor = common.actor(args)
        invoice = find_invoice(session, args.number)
        void_invoice(session, actor, invoice.id, args.reason, on=on)
        view = invoice_view(session, actor, invoice.id)
    print(
        f"Voided invoice {view.number} ({bc.plural(len(view.lines), 'line')}, "
        f"{bc.dollars(view.total)}). The patient's balance is now "
        f"{bc.balance_words(view.account_balance)}."
    )
    return 0


# --------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------


def invoice_data(view: InvoiceView) -> dict[str, Any]:
    """An invoice as JSON types; amounts as decimal strings."""
    return {
        "number": view.number,
        "state": view.state,
        "mrn": view.patient.mrn,
        "patient": view.patient.name,
        "location": view.practice.location_code,
        "issued_on": view.issued_on,
        "due_on": view.due_on,
        "period_from": view.period_from,
        "period_to": view.period_to,
        "lines": [
            {
                "entry_id": line.entry_id,
                "service_date": line.service_date,
                "code": line.code,
                "modifiers": line.modifiers,
                "description": line.description,
                "units": line.units,
                "amount": line.amount,
                "paid": line.paid,
                "adjusted": line.adjusted,
                "balance": line.balance,
            }
            for line in view.lines
        ],
        "total": view.total,
        "paid": view.paid,
        "adjusted": view.adjusted,
        "balance_due": view.balance_due,
        "account_balance": view.account_balance,
    }


def lines_table(view: InvoiceView) -> str:
    rows = [
        [
            line.service_date.isoformat(),
            " ".join(part for part in (line.code, line.modifiers) if part),
            line.description,
            str(line.units),
            bc.dollars(line.amount),
            bc.dollars(line.balance),
        ]
        for line in view.lines
    ]
    return common.table(["Date", "Code", "Description", "Units", "Amount", "Owed"], rows)


def created_text(view: InvoiceView, in_review: int) -> str:
    state = "Drafted" if view.issued_on is None else "Issued"
    head = f"{state} invoice {view.number} for {view.patient.name} (MRN {view.patient.mrn})"
    if view.due_on is not None:
        head += f", due {view.due_on.isoformat()}"
    lines = [head, "", lines_table(view), "", f"Total {bc.dollars(view.total)}"]
    if view.paid or view.adjusted:
        lines.append(
            f"Paid {bc.dollars(view.paid)}, adjusted {bc.dollars(view.adjusted)}; "
            f"balance due {bc.dollars(view.balance_due)}"
        )
    else:
        lines.append(f"Balance due {bc.dollars(view.balance_due)}")
    if in_review:
        waiting = bc.plural(in_review, "charge is", "charges are")
        lines.append(
            f"{waiting} still in review and not on this invoice; see 'ketadesk charges list'."
        )
    return "\n".join(lines)


def row_data(row: InvoiceRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "number": row.number,
        "mrn": row.mrn,
        "patient": row.patient_name,
        "location": row.location_code,
        "issued_on": row.issued_on,
        "due_on": row.due_on,
        "state": row.state,
        "total": row.total,
        "balance_due": row.balance_due,
    }


def list_text(page: InvoicePage) -> str:
    """The page as a table, and how many invoices it shows of how many match."""
    rows = page.rows
    if not rows:
        if page.total:
            return f"No invoices past --offset {page.offset}; {page.total:,} match in all."
        return "No invoices."
    table = common.table(
        ["Number", "Patient", "MRN", "Issued", "Due", "State", "Total", "Balance due"],
        [
            [
                r.number,
                r.patient_name,
                r.mrn,
                r.issued_on.isoformat() if r.issued_on else "",
                r.due_on.isoformat() if r.due_on else "",
                r.state.label,
                bc.dollars(r.total),
                bc.dollars(r.balance_due),
            ]
            for r in rows
        ],
    )
    if len(rows) == page.total:
        return f"{table}\n\n{bc.plural(page.total, 'invoice')}"
    first, last = page.offset + 1, page.offset + len(rows)
    return (
        f"{table}\n\nShowing {first:,}–{last:,} of {page.total:,} invoices; "
        f"the next page: --offset {last}"
    )
