"""``ketadesk superbill``: one patient's superbill, or the whole month's, as PDFs.

Two ways to run it:

* ``--patient MRN --from DATE [--to DATE] -o FILE`` builds the superbill of one visit or a
  date range with :func:`ketadesk.billing.superbill.superbill_view` and prints it with
  :func:`ketadesk.documents.superbill.render_superbill`. A superbill that lacks a required
  item (the provider's NPI, the TIN, a diagnosis…) is refused with the list of them, exit 2.
* ``--month YYYY-MM --out DIR`` runs
  :func:`ketadesk.documents.superbill_batch.write_superbills` over every self-pay patient
  with visits that month, on ``--workers`` processes (both cores by default), with a
  progress bar on stderr. Refused patients are listed with what is missing; the exit status
  is 0 when any superbill was written (or there was nothing to write), and 2 when every one
  was refused. SIGTERM stops the batch as Ctrl-C does (:func:`_terminate_as_interrupt`):
  chunks not started are dropped, the running ones finish, the workers exit. A command
  killed outright takes its workers with it (see :mod:`ketadesk.documents.superbill_batch`).
"""

from __future__ import annotations

import argparse
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from ketadesk.cli import billing_common as bc
from ketadesk.cli import common
from ketadesk.errors import ValidationError

if TYPE_CHECKING:
    from ketadesk.billing.views import SuperbillView
    from ketadesk.documents.superbill_batch import BatchResult

OPTIONS = {
    "patient": "--patient",
    "patient_id": "--patient",
    "from": "--from",
    "date_from": "--from",
    "to": "--to",
    "date_to": "--to",
    "month": "--month",
    "output": "--out",
    "location": "--location",
    "location_id": "--location",
    "workers": "--workers",
}
EXAMPLES = """\
  ketadesk superbill --patient 100001 --from 2026-12-07 -o superbill.pdf
  ketadesk superbill --patient 100001 --from 2026-12-01 --to 2026-12-31 -o december.pdf
  ketadesk superbill --month 2026-12 --out superbills/2026-12
  ketadesk superbill --month 2026-12 --out superbills --location NYC --json"""
EXIT_ALL_REFUSED = 2


def register(commands: Any) -> None:
    parser = common.command_parser(
        commands,
        "superbill",
        summary="superbills for patients to claim out of network: one patient, or a month",
        description="Print superbills: what a patient sends an insurer to claim out of "
        "network (dates of\nservice and place, CPT/HCPCS codes with modifiers and units, "
        "ICD-10-CM diagnoses,\ncharges and payments, the provider's and the practice's "
        "NPI and TIN).\n\nWith --patient: one visit (--from only) or a date range, to "
        "one file. With --month:\nevery self-pay patient with visits that month, one "
        "PDF each into a folder, on\nseveral processes. A superbill missing a required "
        "item is refused with the list of\nwhat is missing.",
        examples=EXAMPLES,
        json_output=True,
    )
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--patient", metavar="MRN", help="one patient's superbill")
    which.add_argument("--month", metavar="YYYY-MM", help="every self-pay patient's, that month")
    parser.add_argument("--from", dest="date_from", metavar="DATE", help="first date of service")
    parser.add_argument(
        "--to", dest="date_to", metavar="DATE", help="last date of service (default: --from)"
    )
    parser.add_argument(
        "-o",
        "--out",
        "--output",
        dest="output",
        metavar="PATH",
        required=True,
        help="the PDF file (--patient) or the folder (--month) to write",
    )
    parser.add_argument("--location", metavar="CODE", help="--month: only this location's visits")
    parser.add_argument(
        "--workers",
        metavar="N",
        type=_workers,
        default=2,
        help="--month: processes to use",
    )
    parser.set_defaults(func=run, options=OPTIONS)


def _workers(text: str) -> int:
    if not text.strip().isdigit() or not 1 <= int(text) <= 64:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of processes from 1 to 64")
    return int(text)


def run(args: argparse.Namespace) -> int:
    if args.patient:
        if args.location:
            raise ValidationError.single("location", "is for --month")
        return one_patient(args)
    if args.date_from or args.date_to:
        raise ValidationError.single("month", "a month's batch takes no --from or --to")
    return month(args)


# --------------------------------------------------------------------------------------
# One patient
# --------------------------------------------------------------------------------------


def one_patient(args: argparse.Namespace) -> int:
    from ketadesk.billing.superbill import superbill_view
    from ketadesk.documents.superbill import render_superbill

    if not args.date_from:
        raise ValidationError.single("from", "say which visit: --from DATE (and --to DATE)")
    clock = common.clock_of(args)
    first = bc.parse_date(args.date_from, "from", clock)
    last = bc.parse_date(args.date_to, "to", clock) if args.date_to else first
    if last < first:
        raise ValidationError.single("to", f"{last.isoformat()} is before --from")
    with common.opened(args) as db, db.transaction() as session:  # the read is audited
        actor = common.actor(args)
        patient = common.patient_by_mrn(session, actor, args.patient)
        view = superbill_view(session, actor, patient.id, first, last, issued_on=clock.today())
    path = bc.write_pdf(render_superbill(view), Path(args.output))
    common.emit(args, superbill_data(view, path), lambda: superbill_text(view, path))
    return 0


def superbill_data(view: SuperbillView, path: Path) -> dict[str, Any]:
    return {
        "number": view.number,
        "mrn": view.patient.mrn,
        "patient": view.patient.name,
        "period_from": view.period_from,
        "period_to": view.period_to,
        "visits": len(view.visits),
        "lines": sum(len(visit.lines) for visit in view.visits),
        "total_charges": view.total_charges,
        "total_paid": view.total_paid,
        "file": str(path),
    }


def superbill_text(view: SuperbillView, path: Path) -> str:
    visits = bc.plural(len(view.visits), "visit")
    return (
        f"Superbill {view.number} for {view.patient.name} (MRN {view.patient.mrn}): "
        f"{visits}, charges {bc.dollars(view.total_charges)}, paid "
        f"{bc.dollars(view.total_paid)}; written to {path}"
    )


# --------------------------------------------------------------------------------------
# The month's batch
# --------------------------------------------------------------------------------------


def month(args: argparse.Namespace) -> int:
    from ketadesk.documents.superbill_batch import write_superbills

    first, last = bc.parse_month(args.month)
    folder = Path(args.output)
    if folder.exists() and not folder.is_dir():
        raise ValidationError.single("output", f"{folder} is a file; --month writes to a folder")
    with common.opened(args) as db:
        actor = common.actor(args)
        location_id = None
        if args.location:
            with db.reading() as session:
                location_id = common.location_by_code(session, args.location).id
        bar = common.Progress()
        with _terminate_as_interrupt():
            result = write_superbills(
                db.url,
                first,
                last,
                folder,
                actor=actor,
                issued_on=common.clock_of(args).today(),
                workers=args.workers,
                location_id=location_id,
                progress=lambda done, total, _text: bar("Superbills", done, total),
            )
        bar.finish(f"{bc.plural(len(result.written), 'superbill')} written to {folder}")
    common.emit(args, batch_data(result, first, folder), lambda: batch_text(result, first, folder))
    if result.refused and not result.written:
        common.print_error(
            f"every superbill was refused ({len(result.refused)}); see the reasons above"
        )
        return EXIT_ALL_REFUSED
    return 0


@contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """While the batch runs, SIGTERM raises :class:`KeyboardInterrupt` as Ctrl-C does, so
    the batch stops its pool on the way out instead of the process vanishing and leaving it
    to the workers' own watch; the entry point turns it into the interrupted exit status."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers belong to the main thread
        return

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def batch_data(result: BatchResult, first: date, folder: Path) -> dict[str, Any]:
    return {
        "month": f"{first:%Y-%m}",
        "folder": str(folder),
        "patients": result.total,
        "processes": result.processes,
        "written": [str(path) for path in result.written],
        "refused": [{"mrn": mrn, "reason": reason} for mrn, reason in result.refused],
    }


def batch_text(result: BatchResult, first: date, folder: Path) -> str:
    if not result.total:
        return f"No self-pay visits to bill in {first:%B %Y}; nothing was written."
    lines = [
        f"{first:%B %Y}: {bc.plural(len(result.written), 'superbill')} written to {folder}, "
        f"{len(result.refused)} refused (of {bc.plural(result.total, 'self-pay patient')})."
    ]
    if result.refused:
        lines += ["", "Refused:"]
        lines += [f"  MRN {mrn}: {reason}" for mrn, reason in result.refused]
    return "\n".join(lines)
