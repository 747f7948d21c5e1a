"""``ketadesk gfe``: print a self-pay patient's Good Faith Estimate (No Surprises Act).

The flow, in one write transaction:

1. :func:`ketadesk.billing.estimates.refresh_estimates` brings the patient's estimates up to
   date first, so a series that changed since its estimate (sessions added, another
   protocol, new prices) is re-drafted now and the paper printed is the current one;
2. the estimate is the series' current one (``--series ID``), or, without ``--series``, the
   patient's only current estimate (or the only one still to be given); when several
   series qualify the command names them and asks for ``--series``;
3. :func:`~ketadesk.billing.estimates.estimate_view` is printed with
   :func:`ketadesk.documents.estimate.render_estimate` once the transaction has committed.

It prints the number, the total and the date by which the patient must have it.
"""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ketadesk.cli import billing_common as bc
from ketadesk.cli import common
from ketadesk.errors import ValidationError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ketadesk.access.permissions import Actor
    from ketadesk.billing.estimates import EstimateRow
    from ketadesk.billing.views import EstimateView
    from ketadesk.clinic.models import Patient

OPTIONS = {
    "patient": "--patient",
    "patient_id": "--patient",
    "series": "--series",
    "series_id": "--series",
    "output": "--output",
}
EXAMPLES = """\
  ketadesk gfe --patient 100001 -o estimate.pdf
  ketadesk gfe --patient 100001 --series 12 -o estimate.pdf --json"""


def register(commands: Any) -> None:
    parser = common.command_parser(
        commands,
        "gfe",
        summary="print a self-pay patient's Good Faith Estimate",
        description="Print the Good Faith Estimate of a self-pay patient's booked series: "
        "every expected\nitem for all its sessions (up to 12 months of recurring care), "
        "the total, and the\ndate by which the patient must have it. Estimates are "
        "re-drafted first if the\nseries changed since, so the printed estimate is the "
        "current one.",
        examples=EXAMPLES,
        json_output=True,
    )
    parser.add_argument("--patient", metavar="MRN", required=True, help="the patient's MRN")
    parser.add_argument(
        "--series", metavar="ID", type=_series_id, help="the series (needed when several)"
    )
    parser.add_argument(
        "-o", "--output", metavar="FILE", required=True, help="the PDF file to write"
    )
    parser.set_defaults(func=run, options=OPTIONS)


def _series_id(text: str) -> int:
    if not text.strip().isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a series number")
    return int(text)


def run(args: argparse.Namespace) -> int:
    from ketadesk.billing.estimates import estimate_view, refresh_estimates
    from ketadesk.documents.estimate import render_estimate

    on = common.clock_of(args).today()
    with common.opened(args) as db, db.transaction() as session:
        actor = common.actor(args)
        patient = common.patient_by_mrn(session, actor, args.patient)
        refresh_estimates(session, actor, today=on, patient_id=patient.id)
        estimate_id = chosen_estimate(session, actor, patient, args.series, on)
        view = estimate_view(session, actor, estimate_id)
    path = bc.write_pdf(render_estimate(view), Path(args.output))
    common.emit(args, estimate_data(view, path), lambda: estimate_text(view, path))
    return 0


def chosen_estimate(
    session: Session, actor: Actor, patient: Patient, series_id: int | None, on: date
) -> int:
    """The id of the estimate to print; an error naming the choices when it is unclear."""
    from ketadesk.billing.estimates import current_estimate, list_estimates
    from ketadesk.billing.models import EstimateStatus
    from ketadesk.scheduling.models import Series

    who = f"{patient.display_name} (MRN {patient.mrn})"
    if series_id is not None:
        series = session.get(Series, series_id)
        if series is None or series.patient_id != patient.id:
            raise ValidationError.single("series", f"{who} has no series {series_id}")
        estimate = current_estimate(session, series_id)
        if estimate is None:
            reason = _why_none(session, patient, on)
            raise ValidationError.single("series", f"series {series_id} has no estimate; {reason}")
        return estimate.id
    rows = [
        r
        for r in list_estimates(session, actor, today=on, patient_id=patient.id)
        if r.status is not EstimateStatus.SUPERSEDED
    ]
    if not rows:
        reason = _why_none(session, patient, on)
        raise ValidationError.single("patient", f"{who} has no Good Faith Estimate; {reason}")
    drafts = [r for r in rows if r.status is EstimateStatus.DRAFT]
    if len(rows) == 1 or len(drafts) == 1:
        return (rows if len(rows) == 1 else drafts)[0].id
    raise ValidationError.single(
        "series", f"{who} has estimates for {_choices(rows)}; choose one with --series"
    )


def _why_none(session: Session, patient: Patient, on: date) -> str:
    from ketadesk.billing.estimates import is_self_pay

    if not is_self_pay(session, patient.id, on):
        return "estimates are for self-pay patients, and this patient has insurance in force"
    return "book a series first ('ketadesk series plan ... --book')"


def _choices(rows: list[EstimateRow]) -> str:
    return ", ".join(
        f"series {r.series_id} ({r.series_name}, {r.number}, {r.status.value})" for r in rows
    )


def estimate_data(view: EstimateView, path: Path) -> dict[str, Any]:
    return {
        "number": view.number,
        "status": view.status,
        "mrn": view.patient.mrn,
        "patient": view.patient.name,
        "series": view.series_name,
        "sessions": view.session_count,
        "first_service_on": view.first_service_on,
        "last_service_on": view.last_service_on,
        "total": view.total,
        "drafted_on": view.drafted_on,
        "give_by": view.give_by,
        "given_on": view.given_on,
        "supersedes": view.supersedes or None,
        "lines": [
            {
                "code": line.code,
                "modifiers": line.modifiers,
                "description": line.description,
                "sessions": line.sessions,
                "units": line.units,
                "unit_price": line.unit_price,
                "amount": line.amount,
                "note": line.note,
            }
            for line in view.lines
        ],
        "file": str(path),
    }


def estimate_text(view: EstimateView, path: Path) -> str:
    head = (
        f"Good Faith Estimate {view.number} for {view.patient.name} (MRN {view.patient.mrn}): "
        f"{view.series_name}, {bc.plural(view.session_count, 'session')} from "
        f"{view.first_service_on.isoformat()} to {view.last_service_on.isoformat()}, "
        f"total {bc.dollars(view.total)}."
    )
    if view.given_on is not None:
        due = f"Given on {view.given_on.isoformat()}."
    elif view.give_by is not None:
        due = f"Give it to the patient by {view.give_by.isoformat()} (not given yet)."
    else:
        due = "No deadline to give it (the first session is less than 3 business days away)."
    lines = [head, due]
    if view.supersedes:
        lines.append(f"It replaces {view.supersedes}, because the series changed.")
    lines.append(f"Written to {path}")
    return "\n".join(lines)
