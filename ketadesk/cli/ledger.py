"""``ketadesk ledger``: a patient's money history with the running balance, and its papers.

Without options it prints every ledger entry (:func:`ketadesk.billing.ledger.lines`) in
date order with the balance after each, then the out-of-pocket summary for this year and in
total (:func:`ketadesk.billing.account.account_summary`). ``--json`` gives the same with
amounts as decimal strings. ``--statement -o FILE`` prints the patient statement and
``--year-receipt YEAR -o FILE`` the year's receipt of payments for HSA/FSA and tax use.
Everything is read in one read-only transaction.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ketadesk.cli import billing_common as bc
from ketadesk.cli import common
from ketadesk.errors import ValidationError

if TYPE_CHECKING:
    from ketadesk.billing.account import AccountSummary
    from ketadesk.billing.ledger import LedgerLine

OPTIONS = {
    "patient": "--patient",
    "patient_id": "--patient",
    "output": "--output",
    "year": "--year-receipt",
    "year_receipt": "--year-receipt",
}
EXAMPLES = """\
  ketadesk ledger --patient 100001
  ketadesk ledger --patient 100001 --json
  ketadesk ledger --patient 100001 --statement -o statement.pdf
  ketadesk ledger --patient 100001 --year-receipt 2026 -o receipt-2026.pdf"""


def register(commands: Any) -> None:
    parser = common.command_parser(
        commands,
        "ledger",
        summary="a patient's ledger with the running balance; statements and year receipts",
        description="Show a patient's ledger: every charge, payment, adjustment, refund and "
        "reversal in\ndate order with the running balance, then what was charged, paid, "
        "adjusted and is\nstill owed this year and in total. --statement and "
        "--year-receipt print those PDFs.",
        examples=EXAMPLES,
        json_output=True,
    )
    parser.add_argument("--patient", metavar="MRN", required=True, help="the patient's MRN")
    papers = parser.add_mutually_exclusive_group()
    papers.add_argument(
        "--statement", action="store_true", help="write the patient statement to --output"
    )
    papers.add_argument(
        "--year-receipt",
        metavar="YEAR",
        type=_year,
        help="write the year's receipt of payments (for HSA/FSA and taxes) to --output",
    )
    parser.add_argument("-o", "--output", metavar="FILE", help="the PDF file to write")
    parser.set_defaults(func=run, options=OPTIONS)


def _year(text: str) -> int:
    """A calendar year in ASCII digits, within the dates every option takes."""
    word = text.strip()
    if not (word.isascii() and word.isdigit() and len(word) == 4):
        raise argparse.ArgumentTypeError(f"{text!r} is not a year; write it like 2026")
    if not common.EARLIEST_DATE.year <= int(word) <= common.LATEST_DATE.year:
        raise argparse.ArgumentTypeError(
            f"{word} is outside {common.EARLIEST_DATE.year} to {common.LATEST_DATE.year}"
        )
    return int(word)


def run(args: argparse.Namespace) -> int:
    wants_pdf = args.statement or args.year_receipt is not None
    if wants_pdf and not args.output:
        raise ValidationError.single("output", "say where to write the PDF: -o FILE")
    if args.output and not wants_pdf:
        raise ValidationError.single("output", "is for --statement or --year-receipt")
    if wants_pdf:
        return _paper(args)
    return _show(args)


def _show(args: argparse.Namespace) -> int:
    from ketadesk.billing.account import account_summary
    from ketadesk.billing.ledger import lines

    today = common.clock_of(args).today()
    with common.opened(args) as db, db.transaction() as session:  # the read is audited
        actor = common.actor(args)
        patient = common.patient_by_mrn(session, actor, args.patient)
        summary = account_summary(session, actor, patient.id, year=today.year)
        rows = lines(session, patient.id)
        who = {"mrn": patient.mrn, "name": patient.display_name}
    data = {"patient": who, "lines": [line_data(r) for r in rows], **summary_data(summary)}
    common.emit(args, data, lambda: ledger_text(who, rows, summary))
    return 0


def _paper(args: argparse.Namespace) -> int:
    from ketadesk.billing.account import statement_view, year_receipt
    from ketadesk.documents.receipt import render_receipt
    from ketadesk.documents.statement import render_statement

    today = common.clock_of(args).today()
    with common.opened(args) as db, db.transaction() as session:  # the read is audited
        actor = common.actor(args)
        patient = common.patient_by_mrn(session, actor, args.patient)
        if args.statement:
            statement = statement_view(session, actor, patient.id, on=today)
            receipt = None
        else:
            receipt = year_receipt(session, actor, patient.id, args.year_receipt)
            statement = None
    if statement is not None:
        path = bc.write_pdf(render_statement(statement), Path(args.output))
        print(
            f"Statement for {statement.patient.name} (balance "
            f"{bc.balance_words(statement.closing_balance)}) written to {path}"
        )
    elif receipt is not None:
        path = bc.write_pdf(render_receipt(receipt), Path(args.output))
        print(
            f"Receipt of {args.year_receipt} payments for {receipt.patient.name} "
            f"({bc.dollars(receipt.net_paid)} net) written to {path}"
        )
    return 0


# --------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------


def line_data(line: LedgerLine) -> dict[str, Any]:
    return {
        "entry_id": line.entry_id,
        "posted_on": line.posted_on,
        "kind": line.kind,
        "description": line.description,
        "amount": line.amount,
        "balance": line.balance,
        "method": line.method,
        "reference": line.reference,
        "reason": line.reason,
        "note": line.note,
        "reverses": line.reverses_id,
        "reversed_by": line.reversed_by_id,
    }


def summary_data(summary: AccountSummary) -> dict[str, Any]:
    return {
        "balance": summary.balance,
        "owed": summary.owed,
        "credit": summary.credit,
        "unapplied_prepayments": summary.unapplied_prepayments,
        "year": {
            "year": summary.year,
            "charged": summary.charged_year,
            "paid": summary.paid_year,
            "adjusted": summary.adjusted_year,
            "refunded": summary.refunded_year,
        },
        "total": {
            "charged": summary.charged_total,
            "paid": summary.paid_total,
            "adjusted": summary.adjusted_total,
            "refunded": summary.refunded_total,
        },
    }


def _what(line: LedgerLine) -> str:
    """The description, with the method and reference when it does not already say them."""
    extras = []
    if line.method is not None and line.method.label not in line.description:
        extras.append(line.method.label)
    if line.reference:
        extras.append(line.reference)
    text = line.description + (f" ({', '.join(extras)})" if extras else "")
    if line.reversed_by_id is not None:
        text += f" [reversed by entry {line.reversed_by_id}]"
    return text


def ledger_text(who: dict[str, str], rows: list[LedgerLine], summary: AccountSummary) -> str:
    head = f"Ledger of {who['name']} (MRN {who['mrn']})"
    if not rows:
        return f"{head}\n\nNo entries yet."
    table = common.table(
        ["Date", "Entry", "Kind", "Description", "Amount", "Balance"],
        [
            [
                r.posted_on.isoformat(),
                str(r.entry_id),
                r.kind.label,
                _what(r),
                bc.dollars(r.amount),
                bc.dollars(r.balance),
            ]
            for r in rows
        ],
    )
    year, total = summary.year, "In total"
    figures = common.table(
        ["", "Charged", "Paid", "Adjusted", "Refunded"],
        [
            [
                str(year),
                bc.dollars(summary.charged_year),
                bc.dollars(summary.paid_year),
                bc.dollars(summary.adjusted_year),
                bc.dollars(summary.refunded_year),
            ],
            [
                total,
                bc.dollars(summary.charged_total),
                bc.dollars(summary.paid_total),
                bc.dollars(summary.adjusted_total),
                bc.dollars(summary.refunded_total),
            ],
        ],
    )
    lines = [head, "", table, "", figures, "", f"Balance: {bc.balance_words(summary.balance)}"]
    if summary.unapplied_prepayments:
        lines.append(f"Prepaid packages not yet used: {bc.dollars(summary.unapplied_prepayments)}")
    return "\n".join(lines)
