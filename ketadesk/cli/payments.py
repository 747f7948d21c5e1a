"""``ketadesk payment``: take a patient's payment, and print its receipt.

``payment add`` reads the amount with :func:`ketadesk.money.amount_above_zero` (the parser
every face shares; never a float) and the method by name, then
:func:`ketadesk.billing.payments.take_payment` posts the payment and allocates it: to the
invoice's lines with ``--invoice``, else to the patient's open charges, oldest first;
whatever is left stays on the account as credit. The command prints what the payment paid,
any credit, and the balance after it. ``payment receipt`` prints one payment's
receipt with :func:`ketadesk.documents.receipt.render_receipt`.
"""

from __future__ import annotations

import argparse
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ketadesk.cli import billing_common as bc
from ketadesk.cli import common

if TYPE_CHECKING:
    from ketadesk.billing.payments import PaymentResult

OPTIONS = {
    "patient": "--patient",
    "patient_id": "--patient",
    "amount": "--amount",
    "method": "--method",
    "invoice": "--invoice",
    "invoice_id": "--invoice",
    "reference": "--reference",
    "note": "--note",
    "location": "--location",
    "location_id": "--location",
    "entry": "ENTRY",
    "entry_id": "ENTRY",
    "output": "--output",
}
GROUP_EXAMPLES = """\
  ketadesk payment add --patient 100001 --amount 450.00 --method card --reference "Visa 4242"
  ketadesk payment add --patient 100001 --amount 200 --method hsa --invoice NYC-2026-00001
  ketadesk payment receipt 42 -o receipt.pdf
"""


def register(commands: Any) -> None:
    actions = common.command_group(
        commands,
        "payment",
        summary="take a patient's payment and print its receipt",
        description="Record a patient's payment (cash, card, check, HSA/FSA, other) and print "
        "receipts.",
        examples=GROUP_EXAMPLES,
    )
    add = common.command_parser(
        actions,
        "add",
        summary="record a payment; it pays open charges, oldest first, the rest is credit",
        description="Record a payment and apply it: to the lines of --invoice, else to the "
        "patient's\nopen charges, oldest first. Anything left over is kept as credit on "
        "the account\n(a later charge uses it; 'ketadesk ledger' shows it).",
        examples="""\
  ketadesk payment add --patient 100001 --amount 450.00 --method card
  ketadesk payment add --patient 100001 --amount 1,200 --method check --reference 1042 \\
      --invoice NYC-2026-00001 --json""",
        json_output=True,
    )
    add.add_argument("--patient", metavar="MRN", required=True, help="the patient's MRN")
    add.add_argument(
        "--amount", metavar="AMOUNT", required=True, help="the amount paid, e.g. 450.00"
    )
    add.add_argument("--method", metavar="METHOD", required=True, help=bc.METHODS_HELP)
    add.add_argument("--invoice", metavar="NUMBER", help="pay this invoice's lines first")
    add.add_argument(
        "--reference", metavar="TEXT", default="", help="card slip, check number, transaction id"
    )
    add.add_argument("--note", metavar="TEXT", default="", help="a note kept with the payment")
    add.add_argument(
        "--location", metavar="CODE", help="where it was taken (default: the patient's home)"
    )
    add.set_defaults(func=add_payment, options=OPTIONS)
    receipt = common.command_parser(
        actions,
        "receipt",
        summary="print one payment's receipt to a PDF file",
        description="Write the receipt of one payment (its ledger entry number, shown by "
        "'payment add'\nand 'ketadesk ledger').",
        examples="  ketadesk payment receipt 42 -o receipt.pdf",
    )
    receipt.add_argument("entry", metavar="ENTRY", help="the payment's ledger entry number")
    receipt.add_argument(
        "-o", "--output", metavar="FILE", required=True, help="the PDF file to write"
    )
    receipt.set_defaults(func=print_receipt, options=OPTIONS)


def add_payment(args: argparse.Namespace) -> int:
    from ketadesk.billing.ledger import balance
    from ketadesk.billing.payments import take_payment

    amount = bc.parse_amount(args.amount)
    method = bc.parse_method(args.method)
    with common.opened(args) as db, db.transaction() as session:
        actor = common.actor(args)
        patient = common.patient_by_mrn(session, actor, args.patient)
        location = common.location_by_code(session, args.location) if args.location else None
        invoice = bc.invoice_by_number(session, args.invoice) if args.invoice else None
        result = take_payment(
            session,
            actor,
            patient_id=patient.id,
            amount=amount,
            method=method,
            on=common.clock_of(args).today(),
            location_id=location.id if location else None,
            reference=args.reference,
            invoice_id=invoice.id if invoice else None,
            note=args.note,
        )
        after = balance(session, patient.id)
        who = f"{patient.display_name} (MRN {patient.mrn})"
    data = {
        **payment_data(result),
        "mrn": args.patient.strip(),
        "method": method,
        "invoice": invoice.number if invoice else None,
        "balance": after,
    }
    how = method.value if method.label.lower() == method.value else method.label  # "HSA/FSA"
    common.emit(args, data, lambda: payment_text(result, how, who, after))
    return 0


def print_receipt(args: argparse.Namespace) -> int:
    from ketadesk.billing.account import payment_receipt
    from ketadesk.documents.receipt import render_receipt

    entry_id = entry_number(args.entry)
    with common.opened(args) as db, db.transaction() as session:  # the read is audited
        actor = common.actor(args)
        view = payment_receipt(session, actor, entry_id)
    path = bc.write_pdf(render_receipt(view), Path(args.output))
    print(f"Receipt {view.number} ({bc.dollars(view.net_paid)}) written to {path}")
    return 0


def entry_number(text: str, field: str = "entry") -> int:
    """A ledger entry number as typed (``42`` or ``R-42``)."""
    from ketadesk.errors import ValidationError

    digits = text.strip().upper().removeprefix("R-")
    if not digits.isdigit():
        raise ValidationError.single(field, f"{text.strip()!r} is not a ledger entry number")
    return int(digits)


def payment_data(result: PaymentResult) -> dict[str, Any]:
    return {
        "entry_id": result.entry_id,
        "amount": result.amount,
        "applied": result.applied,
        "credit": result.credit,
        "allocations": [
            {"entry_id": entry_id, "amount": amount} for entry_id, amount in result.allocations
        ],
    }


def payment_text(result: PaymentResult, method: str, who: str, after: Decimal) -> str:
    head = (
        f"Payment of {bc.dollars(result.amount)} by {method} from {who} recorded "
        f"(entry {result.entry_id})."
    )
    paid = len({entry_id for entry_id, _amount in result.allocations})
    parts = []
    if result.applied:
        parts.append(f"{bc.dollars(result.applied)} paid {bc.plural(paid, 'charge')}")
    if result.credit:
        parts.append(f"{bc.dollars(result.credit)} kept as credit")
    lines = [head]
    if parts:
        lines.append("; ".join(parts) + ".")
    lines.append(f"Balance now {bc.balance_words(after)}.")
    return "\n".join(lines)
