"""``ketadesk side-effects``: a patient's side effects, recording one, clearing a review.

* ``ketadesk side-effects --patient MRN [--json]`` lists the side effects as they stand
  (:func:`~ketadesk.scheduling.side_effects.chart.side_effect_chart`), whether a provider's
  review is pending after a serious one, and the clearances.
* ``ketadesk side-effects record --session ID --kind K --severity S [--serious] ...`` records
  one (or, with ``--corrects SE-ID``, a correction) through
  :func:`~ketadesk.scheduling.side_effects.recording.record_side_effect`.
* ``ketadesk side-effects clear --patient MRN --note TEXT`` is a provider clearing the review
  (:func:`~ketadesk.scheduling.side_effects.review.clear_review`).

Each runs in one transaction; bad input is one line and exit status 2, and nothing changes.
"""

from __future__ import annotations

import argparse
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from ketadesk.cli import common
from ketadesk.cli.sessions import session_number
from ketadesk.errors import ValidationError

if TYPE_CHECKING:
    from ketadesk.scheduling.side_effects.chart import SideEffectChart

OPTIONS = {
    "patient": "--patient",
    "session": "--session",
    "kind": "--kind",
    "severity": "--severity",
    "onset": "--onset",
    "action": "--action",
    "detail": "--detail",
    "corrects": "--corrects",
    "note": "--note",
}
KINDS = (
    "nausea, vomiting, dissociation, blood_pressure, headache, bladder, dizziness, sedation, other"
)
EXAMPLES = """\
  ketadesk side-effects --patient 100001
  ketadesk side-effects --patient 100001 --json
  ketadesk side-effects record --session S-120 --kind nausea --severity mild \\
      --action "ondansetron 4 mg IV"
  ketadesk side-effects record --session 120 --kind vomiting --severity severe --serious \\
      --onset 25 --action "infusion stopped; ondansetron 4 mg IV"
  ketadesk side-effects clear --patient 100001 --note "Seen; antiemetic before each dose\""""


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "side-effects",
        help="a patient's side effects; record one; clear the provider review after a serious one",
        description="Without an action, show a patient's side effects and whether a provider "
        "must review\nthem before the next dose. A serious side effect flags every later "
        "session until a\nprovider clears the review with a note.",
        epilog="examples:\n" + EXAMPLES,
        formatter_class=common.HelpFormatter,
    )
    common.add_db_option(parser)
    common.add_json_option(parser)
    parser.add_argument("--patient", metavar="MRN", help="the patient's MRN")
    parser.set_defaults(func=show, options=OPTIONS)
    actions = parser.add_subparsers(dest="doing", metavar="ACTION", title="actions")
    _register_record(actions)
    _register_clear(actions)


def _register_record(actions: Any) -> None:
    parser = common.command_parser(
        actions,
        "record",
        summary="record a side effect of a dosed session (or correct one)",
        description="Record a side effect of a session that has been dosed. --onset is "
        "minutes after\nthe dose (default: now). A correction (--corrects SE-ID) is a new "
        "entry replacing\nthe earlier one, which is kept.",
        examples=EXAMPLES,
        json_output=True,
    )
    parser.add_argument("--session", metavar="ID", required=True, help="the session: S-120 or 120")
    parser.add_argument("--kind", required=True, help=f"what happened: {KINDS}")
    parser.add_argument("--severity", required=True, help="mild, moderate or severe")
    parser.add_argument(
        "--serious", action="store_true", help="a serious adverse event: flags the next booking"
    )
    parser.add_argument("--onset", metavar="MINUTES", help="minutes after the dose it began")
    parser.add_argument("--action", default="", help="what was done, e.g. 'ondansetron 4 mg IV'")
    parser.add_argument("--detail", default="", help="what it was, in words (needed for other)")
    parser.add_argument("--corrects", metavar="SE-ID", help="the side effect this corrects")
    parser.set_defaults(func=record, options=OPTIONS)


def _register_clear(actions: Any) -> None:
    parser = common.command_parser(
        actions,
        "clear",
        summary="a provider clears the review after a serious side effect, with a note",
        description="Clear a patient's provider review after a serious side effect; the "
        "note says why\ndosing may go on. Needs a clinical role.",
        examples=EXAMPLES,
        json_output=True,
    )
    parser.add_argument("--patient", metavar="MRN", required=True, help="the patient's MRN")
    parser.add_argument("--note", required=True, help="the provider's note")
    parser.set_defaults(func=clear, options=OPTIONS)


def show(args: argparse.Namespace) -> int:
    from ketadesk.clinic.patients import open_patient
    from ketadesk.scheduling.side_effects.chart import side_effect_chart

    if not args.patient:
        raise ValidationError.single("patient", "say whose side effects to show: --patient MRN")
    with common.opened(args) as db, db.transaction() as session:
        actor = common.actor(args)
        patient = common.patient_by_mrn(session, actor, args.patient)
        open_patient(session, actor, patient.id)  # reading the record is audited
        chart = side_effect_chart(session, actor, patient.id)
    common.emit(args, asdict(chart), lambda: chart_text(chart))
    return 0


def record(args: argparse.Namespace) -> int:
    from ketadesk.scheduling.side_effects.recording import SideEffectInput, record_side_effect

    number = session_number(args.session)
    given = SideEffectInput(
        kind=args.kind,
        severity=args.severity,
        serious=args.serious,
        onset_minutes=None if args.onset is None else _minutes(args.onset),
        action=args.action,
        detail=args.detail,
    )
    corrects = None if args.corrects is None else _side_effect_number(args.corrects)
    now = common.clock_of(args).now()
    with common.opened(args) as db, db.transaction() as session:
        actor = common.actor(args)
        row = record_side_effect(session, actor, number, given, corrects=corrects, now=now)
        data = {
            "side_effect": row.reference,
            "session": row.session.reference,
            "words": row.words,
            "serious": row.serious,
            "corrects": f"SE-{row.corrects_id}" if row.corrects_id else None,
        }
    common.emit(args, data, lambda: _recorded_text(data))
    return 0


def clear(args: argparse.Namespace) -> int:
    from ketadesk.scheduling.side_effects.review import clear_review

    now = common.clock_of(args).now()
    with common.opened(args) as db, db.transaction() as session:
        actor = common.actor(args)
        patient = common.patient_by_mrn(session, actor, args.patient)
        row = clear_review(session, actor, patient.id, args.note, now=now)
        data = {
            "mrn": patient.mrn,
            "cleared_at": row.cleared_at,
            "cleared_by": row.cleared_by,
            "note": row.note,
        }
    common.emit(args, data, lambda: f"Review cleared for MRN {data['mrn']} by {data['cleared_by']}")
    return 0


def _minutes(text: str) -> int:
    word = text.strip()
    if not (word.isascii() and word.isdigit()) or len(word) > 6:
        raise ValidationError.single(
            "onset", f"{text.strip()!r} is not a number of minutes after the dose; write e.g. 20"
        )
    return int(word)


def _side_effect_number(text: str) -> int:
    """``"SE-12"``, ``"se12"`` or ``"12"`` → 12."""
    digits = text.strip().upper().removeprefix("SE").removeprefix("-")
    if not (digits.isascii() and digits.isdigit()) or not 0 < int(digits) < 2**31:
        raise ValidationError.single(
            "corrects", f"{text.strip()!r} is not a side effect; write it as SE-12 or 12"
        )
    return int(digits)


def _recorded_text(data: dict[str, Any]) -> str:
    what = f"Recorded {data['side_effect']} in {data['session']}: {data['words']}"
    if data["corrects"]:
        what += f" (corrects {data['corrects']})"
    if data["serious"]:
        what += "\nA provider must clear the patient's review before the next dose."
    return what


def chart_text(chart: SideEffectChart) -> str:
    """The patient, the review state, the side effects as a table, then the clearances."""
    lines = [f"{chart.patient_name} (MRN {chart.mrn})"]
    lines.append(chart.review_needed if chart.review_needed else "No review pending")
    if not chart.side_effects:
        lines.append("No side effects recorded.")
    else:
        rows = [
            (
                row.reference,
                row.session_reference,
                f"{row.onset:%Y-%m-%d %H:%M}",
                "" if row.minutes_after_dose is None else f"+{row.minutes_after_dose} min",
                row.kind_label + (f": {row.detail}" if row.detail else ""),
                row.severity + (", serious" if row.serious else ""),
                row.action,
                row.recorded_by,
            )
            for row in chart.side_effects
        ]
        headers = ("ID", "Session", "Onset", "After dose", "What", "Severity", "Done", "By")
        lines += ["", common.table(headers, rows)]
    for cleared in chart.clearances:
        lines.append(
            f"Review cleared {cleared.cleared_at:%Y-%m-%d %H:%M} by {cleared.cleared_by}: "
            f"{cleared.note}"
        )
    return "\n".join(lines)
