"""``ketadesk charges``: the charge review queue from the command line.

Charges go through three steps, the same as in the window's review queue:

1. ``charges capture`` turns every completed, late-cancelled or no-show session not yet
   captured into *pending* charges (:func:`ketadesk.billing.capture.capture_pending`): the
   protocol's services priced from the fee schedule, or the location's fee;
2. ``charges list`` shows the pending charges (:func:`ketadesk.billing.review.review_queue`),
   each with the note saying why it needs a look, if it does;
3. ``charges post`` makes chosen charges (or ``--all``) final
   (:func:`ketadesk.billing.review.post_charges`): each becomes a ledger entry, packages
   cover their sessions and credit the patient holds is applied.

Each command is one transaction; ``--json`` gives the rows and results for scripts.
"""

from __future__ import annotations

import argparse
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ketadesk.cli import billing_common as bc
from ketadesk.cli import common
from ketadesk.errors import ValidationError

if TYPE_CHECKING:
    from ketadesk.billing.models import LedgerEntry
    from ketadesk.billing.review import QueueRow

OPTIONS = {
    "location": "--location",
    "location_id": "--location",
    "patient": "--patient",
    "patient_id": "--patient",
    "through": "--through",
    "charge_ids": "ID",
    "charge_id": "ID",
    "ids": "ID",
    "on": "--on",
}
GROUP_EXAMPLES = """\
  ketadesk charges capture
  ketadesk charges list --json
  ketadesk charges post 12 13 14
  ketadesk charges post --all --location NYC
"""


def register(commands: Any) -> None:
    actions = common.command_group(
        commands,
        "charges",
        summary="capture charges from sessions, review them and post them",
        description="The charge review queue: capture charges from finished sessions, list "
        "what is\npending, and post charges to the patients' ledgers.",
        examples=GROUP_EXAMPLES,
    )
    capture = common.command_parser(
        actions,
        "capture",
        summary="capture pending charges from sessions not yet captured",
        description="Capture charges from every completed session (its protocol's services, "
        "priced from\nthe fee schedule; infusion hours from the recorded times) and "
        "every late-cancelled\nor no-show session the location's policy charges a fee "
        "for. A session is captured\nonce; its charges wait in the review queue.",
        examples="""\
  ketadesk charges capture
  ketadesk charges capture --location NYC --through 2026-12-31 --json""",
        json_output=True,
    )
    capture.add_argument("--location", metavar="CODE", help="only this location's sessions")
    capture.add_argument("--through", metavar="DATE", help="only sessions up to this day")
    capture.set_defaults(func=capture_command, options=OPTIONS)
    listing = common.command_parser(
        actions,
        "list",
        summary="the pending charges in the review queue",
        description="List the pending charges, oldest first: patient, date, code, units, "
        "price and\namount, and why a charge needs a look when it does.",
        examples="""\
  ketadesk charges list
  ketadesk charges list --patient 100001 --json""",
        json_output=True,
    )
    listing.add_argument("--location", metavar="CODE", help="only this location's charges")
    listing.add_argument("--patient", metavar="MRN", help="only this patient's charges")
    listing.set_defaults(func=list_command, options=OPTIONS)
    post = common.command_parser(
        actions,
        "post",
        summary="post pending charges to the ledger (final)",
        description="Post pending charges: each becomes a charge on the patient's ledger and "
        "can no\nlonger be edited (a mistake is then reversed, not changed). A package "
        "the patient\nbought covers its sessions, and credit the patient holds is "
        "applied.",
        examples="""\
  ketadesk charges post 12 13 14
  ketadesk charges post --all
  ketadesk charges post --all --location NYC --json""",
        json_output=True,
    )
    post.add_argument("ids", metavar="ID", nargs="*", help="the charges to post (see list)")
    post.add_argument(
        "--all",
        action="store_true",
        help="post every pending charge that needs no look (no review note, priced, not "
        "in the future)",
    )
    post.add_argument("--location", metavar="CODE", help="with --all: only this location's")
    post.set_defaults(func=post_command, options=OPTIONS)


# --------------------------------------------------------------------------------------
# The commands
# --------------------------------------------------------------------------------------


def capture_command(args: argparse.Namespace) -> int:
    from ketadesk.billing.capture import capture_pending

    clock = common.clock_of(args)
    through = bc.parse_date(args.through, "through", clock) if args.through else None
    with common.opened(args) as db, db.transaction() as session:
        actor = common.actor(args)
        location = common.location_by_code(session, args.location) if args.location else None
        result = capture_pending(
            session, actor, location_id=location.id if location else None, through=through
        )
    data = {"sessions": result.sessions, "charges": result.charges}
    common.emit(args, data, lambda: capture_text(result.sessions, result.charges))
    return 0


def capture_text(sessions: int, charges: int) -> str:
    if not sessions:
        return "No sessions waiting to be captured."
    return (
        f"Captured {bc.plural(charges, 'charge')} from {bc.plural(sessions, 'session')}; "
        "review them with 'ketadesk charges list'."
    )


def list_command(args: argparse.Namespace) -> int:
    from ketadesk.billing.review import review_queue

    with common.opened(args) as db, db.reading() as session:
        actor = common.actor(args)
        location = common.location_by_code(session, args.location) if args.location else None
        patient = common.patient_by_mrn(session, actor, args.patient) if args.patient else None
        rows = review_queue(
            session,
            actor,
            location_id=location.id if location else None,
            patient_id=patient.id if patient else None,
        )
    common.emit(args, [row_data(r) for r in rows], lambda: list_text(rows))
    return 0


def post_command(args: argparse.Namespace) -> int:
    from ketadesk.billing.review import post_charges, review_queue

    if args.all == bool(args.ids):
        raise ValidationError.single("ids", "name the charges to post, or give --all")
    if args.location and not args.all:
        raise ValidationError.single("location", "is for --all")
    ids = [charge_number(text) for text in args.ids]
    on = common.clock_of(args).today()
    held: list[QueueRow] = []
    with common.opened(args) as db, db.transaction() as session:
        actor = common.actor(args)
        if args.all:
            location = common.location_by_code(session, args.location) if args.location else None
            queue = review_queue(session, actor, location_id=location.id if location else None)
            held = [row for row in queue if needs_a_look(row, on)]
            held_ids = {row.charge_id for row in held}
            ids = [row.charge_id for row in queue if row.charge_id not in held_ids]
        entries = post_charges(session, actor, ids, on=on) if ids else []
        data = {**posted_data(entries), "held": [row.charge_id for row in held]}
    common.emit(args, data, lambda: posted_text(data))
    return 0


def needs_a_look(row: QueueRow, on: date) -> bool:
    """Whether ``--all`` leaves a charge in the queue: it carries a review note, has no
    price yet, or is for a day still to come. Such charges are posted by number once seen."""
    return bool(row.review_note) or row.amount <= 0 or row.service_date > on


def charge_number(text: str) -> int:
    digits = text.strip()
    if not digits.isdigit():
        raise ValidationError.single("ids", f"{digits!r} is not a charge number (see 'list')")
    return int(digits)


# --------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------


def row_data(row: QueueRow) -> dict[str, Any]:
    return {
        "id": row.charge_id,
        "version": row.version,
        "mrn": row.mrn,
        "patient": row.patient_name,
        "service_date": row.service_date,
        "location": row.location_code,
        "provider": row.provider_name,
        "session": row.session_ref,
        "source": row.source,
        "code": row.code,
        "modifiers": row.modifiers,
        "description": row.description,
        "units": row.units,
        "unit_price": row.unit_price,
        "amount": row.amount,
        "diagnosis_pointers": row.diagnosis_pointers,
        "review_note": row.review_note,
    }


def list_text(rows: list[QueueRow]) -> str:
    if not rows:
        return "No charges waiting for review."
    table = common.table(
        ["ID", "Date", "Patient", "MRN", "Code", "Description", "Units", "Price", "Amount"],
        [
            [
                str(r.charge_id),
                r.service_date.isoformat(),
                r.patient_name,
                r.mrn,
                " ".join(part for part in (r.code, r.modifiers) if part) or "(fee)",
                r.description,
                str(r.units),
                bc.dollars(r.unit_price),
                bc.dollars(r.amount),
            ]
            for r in rows
        ],
    )
    lines = table.splitlines()
    out = lines[:2]
    for line, row in zip(lines[2:], rows, strict=True):
        out.append(line)
        if row.review_note:
            out.append(f"    ! {row.review_note}")
    total = sum((r.amount for r in rows), Decimal("0.00"))
    out += ["", f"{bc.plural(len(rows), 'charge')} pending, {bc.dollars(total)} in all."]
    return "\n".join(out)


def posted_data(entries: list[LedgerEntry]) -> dict[str, Any]:
    return {
        "posted": len(entries),
        "patients": len({e.patient_id for e in entries}),
        "total": sum((e.amount for e in entries), Decimal("0.00")),
        "entry_ids": [e.id for e in entries],
    }


def posted_text(data: dict[str, Any]) -> str:
    if data["posted"]:
        lines = [
            f"Posted {bc.plural(data['posted'], 'charge')} ({bc.dollars(data['total'])}) for "
            f"{bc.plural(data['patients'], 'patient')}."
        ]
    else:
        lines = ["Nothing was posted."]
    if data["held"]:
        numbers = ", ".join(str(i) for i in data["held"])
        lines.append(
            f"Left in the queue because they need a look first: {numbers} "
            "(see 'ketadesk charges list'; post them by number once reviewed)."
        )
    elif not data["posted"]:
        lines[0] = "No charges waiting for review; nothing was posted."
    return "\n".join(lines)
