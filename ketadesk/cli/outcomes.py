"""``ketadesk outcomes``: a patient's outcome scores per series, recording a score, and the
PHQ-9 item-9 safety alerts.

* ``outcomes --patient MRN`` prints, per measure, each series' baseline, latest score,
  change, response and remission (:func:`ketadesk.scheduling.outcomes.summary.patient_outcomes`)
  and the patient's open alerts;
* ``outcomes record`` records a score through
  :func:`ketadesk.scheduling.outcomes.scores.record_score` (the one the floor and the chart
  use), which raises the alert when item 9 is above zero;
* ``outcomes alerts`` lists the open alerts, ``outcomes ack`` acknowledges one with a note;
* ``outcomes measures`` lists the measures, ``outcomes define`` adds a clinic's own.
"""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from ketadesk.cli import common
from ketadesk.errors import ValidationError

if TYPE_CHECKING:
    from ketadesk.scheduling.outcomes.alerts import AlertView
    from ketadesk.scheduling.outcomes.measures import Measure
    from ketadesk.scheduling.outcomes.summary import PatientOutcomes, SeriesOutcome

OPTIONS = {
    "patient": "--patient",
    "measure": "--measure",
    "score": "--score",
    "items": "--items",
    "session": "--session",
    "taken_at": "--on",
    "on": "--on",
    "alert": "--alert",
    "note": "--note",
    "key": "--key",
    "name": "--name",
    "minimum": "--min",
    "maximum": "--max",
    "remission_threshold": "--remission",
}
EXAMPLES = """\
  ketadesk outcomes --patient 100001
  ketadesk outcomes --patient 100001 --json
  ketadesk outcomes record --patient 100001 --measure phq9 --items 2,2,1,1,1,0,1,0,0
  ketadesk outcomes record --patient 100001 --measure gad7 --score 9 --on 2026-12-01
  ketadesk outcomes alerts
  ketadesk outcomes ack --alert A-3 --note "Safety plan reviewed with the patient"
  ketadesk outcomes measures
  ketadesk outcomes define --key wsas --name "Work and social adjustment" --max 40
"""


def register(commands: Any) -> None:
    group = commands.add_parser(
        "outcomes",
        help="outcome scores, response and remission, and self-harm alerts",
        description="A patient's outcome scores per series (baseline, latest, change, "
        "response, remission)\nwith --patient; the actions record scores and work the "
        "PHQ-9 item-9 alerts.",
        epilog=f"examples:\n{EXAMPLES.rstrip()}\n\n'ketadesk outcomes ACTION --help' "
        "describes each action.",
        formatter_class=common.HelpFormatter,
    )
    common.add_db_option(group)
    common.add_json_option(group)
    group.add_argument("--patient", metavar="MRN", help="show this patient's outcomes")
    group.set_defaults(func=show, options=OPTIONS)
    actions = group.add_subparsers(dest="action", metavar="ACTION", title="actions")
    _record_parser(actions)
    alerts = _parser(actions, "alerts", "list the open item-9 alerts", json_output=True)
    alerts.set_defaults(func=list_alerts)
    ack = _parser(actions, "ack", "acknowledge an alert with a note")
    ack.add_argument("--alert", metavar="ID", required=True, help="the alert, e.g. A-3 or 3")
    ack.add_argument("--note", metavar="TEXT", required=True, help="what was done about it")
    ack.set_defaults(func=acknowledge)
    listed = _parser(actions, "measures", "list the outcome measures", json_output=True)
    listed.set_defaults(func=list_measures)
    _define_parser(actions)


def _parser(
    actions: Any, name: str, summary: str, *, json_output: bool = False
) -> argparse.ArgumentParser:
    examples = "\n".join(line for line in EXAMPLES.splitlines() if f"outcomes {name}" in line)
    parser = common.command_parser(
        actions,
        name,
        summary=summary,
        description=summary[0].upper() + summary[1:] + ".",
        examples=examples,
        json_output=json_output,
    )
    parser.set_defaults(options=OPTIONS)
    return parser


def _record_parser(actions: Any) -> None:
    record = _parser(
        actions, "record", "record a score (a total, or the item answers)", json_output=True
    )
    record.add_argument("--patient", metavar="MRN", required=True, help="the patient's MRN")
    record.add_argument(
        "--measure", metavar="KEY", required=True, help="phq9, gad7, pcl5, pain or a clinic's key"
    )
    record.add_argument("--score", metavar="N", help="the total (may be left out with --items)")
    record.add_argument("--items", metavar="A,B,...", help="the item answers, in order")
    record.add_argument("--session", metavar="ID", help="the session it was taken at (S-123)")
    record.add_argument("--on", metavar="DATE", help="the day it was taken (default: now)")
    record.set_defaults(func=record_score)


def _define_parser(actions: Any) -> None:
    define = _parser(actions, "define", "add a clinic's own outcome measure")
    define.add_argument("--key", required=True, help="a short lower-case key, e.g. wsas")
    define.add_argument("--name", required=True, help="how staff read it")
    define.add_argument("--min", metavar="N", default="0", help="the lowest total")
    define.add_argument("--max", metavar="N", required=True, help="the highest total")
    define.add_argument(
        "--higher-is-better", action="store_true", help="a rise is improvement (default: a fall)"
    )
    define.add_argument(
        "--remission", metavar="N", help="the threshold past which the patient is in remission"
    )
    define.set_defaults(func=define_measure)


# --- show ----------------------------------------------------------------------------------


def show(args: argparse.Namespace) -> int:
    from ketadesk.scheduling.outcomes.summary import patient_outcomes

    if not args.patient:
        raise common.UsageError("give --patient MRN to show a patient's outcomes, or an action")
    with common.opened(args) as db, db.transaction() as session:
        actor = common.actor(args)
        patient = common.patient_by_mrn(session, actor, args.patient)
        found = patient_outcomes(session, actor, patient.id)
    common.emit(args, outcomes_data(found), lambda: outcomes_text(found))
    return 0


def outcomes_data(found: PatientOutcomes) -> dict[str, Any]:
    return {
        "mrn": found.mrn,
        "patient": found.patient_name,
        "measures": [
            {
                "measure": m.measure.key,
                "name": m.measure.name,
                "scores": [
                    {
                        "taken_at": p.taken_at,
                        "total": p.total,
                        "items": list(p.items),
                        "session_id": p.session_id,
                    }
                    for p in m.points
                ],
                "series": [_series_data(s) for s in m.series],
            }
            for m in found.measures
        ],
        "open_alerts": [_alert_data(a) for a in found.open_alerts],
    }


def _series_data(item: SeriesOutcome) -> dict[str, Any]:
    fraction = item.change_fraction
    return {
        "series_id": item.series_id,
        "protocol": item.protocol_name,
        "phase": item.phase,
        "starts_at": item.starts_at,
        "baseline": None if item.baseline is None else item.baseline.total,
        "baseline_taken_at": None if item.baseline is None else item.baseline.taken_at,
        "latest": None if item.latest is None else item.latest.total,
        "latest_taken_at": None if item.latest is None else item.latest.taken_at,
        "change": item.change,
        "change_ratio": None
        if fraction is None
        else f"{fraction.numerator}/{fraction.denominator}",
        "response": item.responded,
        "remission": item.remitted,
    }


def _alert_data(alert: AlertView) -> dict[str, Any]:
    return {
        "alert": alert.reference,
        "mrn": alert.mrn,
        "patient": alert.patient_name,
        "item_9": alert.item_value,
        "phq9_total": alert.phq9_total,
        "raised_at": alert.raised_at,
        "acknowledged_by": alert.acknowledged_by,
        "acknowledged_at": alert.acknowledged_at,
        "note": alert.note,
    }


def outcomes_text(found: PatientOutcomes) -> str:
    from ketadesk.scheduling.outcomes.rules import percent_words

    zone = ZoneInfo(found.time_zone)
    lines = [f"{found.patient_name} (MRN {found.mrn})"]
    for alert in found.open_alerts:
        lines.append(f"OPEN ALERT {alert.reference}: {alert.words}, {_when(alert.raised_at, zone)}")
    if not found.measures:
        lines.append("No outcome scores recorded.")
    for block in found.measures:
        lines.append("")
        lines.append(f"{block.measure.name} ({_scale_words(block.measure)})")
        rows = [
            (
                f"{s.protocol_name} #{s.series_id}",
                f"{s.starts_at.astimezone(zone):%Y-%m-%d}",
                "—" if s.baseline is None else s.baseline.total,
                "—" if s.latest is None else s.latest.total,
                "—" if s.change is None else f"{s.change:+d} ({percent_words(s.change_fraction)})",
                s.words,
            )
            for s in block.series
        ]
        if rows:
            headers = ("Series", "Started", "Baseline", "Latest", "Change", "Result")
            lines.append(common.table(headers, rows))
        taken = [f"{p.taken_at.astimezone(zone):%Y-%m-%d} {p.total}" for p in block.points]
        lines.append("Scores: " + " · ".join(taken))
    return "\n".join(lines)


def _scale_words(scale: Measure) -> str:
    words = f"{scale.range_words}, {'lower' if scale.lower_is_better else 'higher'} is better"
    if scale.remission_threshold is not None:
        side = "under" if scale.lower_is_better else "over"
        words += f"; remission {side} {scale.remission_threshold}"
    return words


def _when(moment: datetime, zone: ZoneInfo) -> str:
    return f"{moment.astimezone(zone):%Y-%m-%d %H:%M}"


# --- record --------------------------------------------------------------------------------


def record_score(args: argparse.Namespace) -> int:
    from ketadesk.scheduling.outcomes import scores

    clock = common.clock_of(args)
    total = None if args.score is None else _whole(args.score, "score")
    items = None if args.items is None else scores.read_items(args.items)
    session_id = None if args.session is None else _reference(args.session, "S", "session")
    with common.opened(args) as db, db.transaction() as session:
        actor = common.actor(args)
        patient = common.patient_by_mrn(session, actor, args.patient)
        taken_at = None
        if args.on is not None:
            day = common.parse_date(args.on, "on", clock=clock)
            taken_at = scores.taken_on(session, patient.id, day, clock.now())
        made = scores.record_score(
            session,
            actor,
            patient.id,
            args.measure,
            scores.Answers(total=total, items=items),
            session_id=session_id,
            taken_at=taken_at,
            now=clock.now(),
        )
        alert = session.scalar(_alert_of(made.id))
        data = {
            "score_id": made.id,
            "mrn": patient.mrn,
            "measure": made.measure,
            "total": made.total,
            "taken_at": made.taken_at,
            "session_id": made.session_id,
            "alert": None if alert is None else f"A-{alert}",
        }
    text = f"Recorded {made.measure} {made.total} for MRN {data['mrn']}."
    if alert is not None:
        text += (
            f"\nALERT A-{alert} raised: PHQ-9 item 9 above zero; a clinician must acknowledge it."
        )
    common.emit(args, data, lambda: text)
    return 0


def _alert_of(score_id: int) -> Any:
    from sqlalchemy import select

    from ketadesk.scheduling.outcomes.models import SafetyAlert

    return select(SafetyAlert.id).where(SafetyAlert.score_id == score_id)


def _whole(text: str, field: str) -> int:
    cleaned = text.strip()
    if not cleaned.isdigit():
        raise ValidationError.single(field, f"give a whole number, not {text!r}")
    return int(cleaned)


def _reference(text: str, prefix: str, field: str) -> int:
    """``"S-123"``, ``"s123"`` or ``"123"`` → 123."""
    cleaned = text.strip().upper().removeprefix(prefix).lstrip("-")
    if not cleaned.isdigit():
        raise ValidationError.single(field, f"give a number such as {prefix}-12, not {text!r}")
    return int(cleaned)


# --- alerts and measures -------------------------------------------------------------------


def list_alerts(args: argparse.Namespace) -> int:
    from ketadesk.scheduling.outcomes.alerts import open_alerts

    with common.opened(args) as db, db.reading() as session:
        actor = common.actor(args)
        found = open_alerts(session, actor)
    rows = [
        (a.reference, a.mrn, a.patient_name, f"{a.raised_at:%Y-%m-%d %H:%M} UTC", a.words)
        for a in found
    ]
    headers = ("Alert", "MRN", "Patient", "Raised", "What")
    common.emit(
        args,
        [_alert_data(a) for a in found],
        lambda: common.table(headers, rows) if rows else "No open alerts.",
    )
    return 0


def acknowledge(args: argparse.Namespace) -> int:
    from ketadesk.scheduling.outcomes import alerts

    alert_id = _reference(args.alert, "A", "alert")
    with common.opened(args) as db, db.transaction() as session:
        actor = common.actor(args)
        done = alerts.acknowledge(
            session, actor, alert_id, args.note, now=common.clock_of(args).now()
        )
        reference = done.reference
    print(f"Acknowledged {reference}.")
    return 0


def list_measures(args: argparse.Namespace) -> int:
    from ketadesk.scheduling.outcomes.measures import all_measures

    with common.opened(args) as db, db.reading() as session:
        found = all_measures(session)
    data = [
        {
            "key": m.key,
            "name": m.name,
            "minimum": m.minimum,
            "maximum": m.maximum,
            "lower_is_better": m.lower_is_better,
            "remission_threshold": m.remission_threshold,
            "items": m.items,
            "condition": m.condition,
            "source": m.source,
        }
        for m in found
    ]
    rows = [(m.key, m.name, m.condition, _scale_words(m), m.source) for m in found]
    headers = ("Key", "Name", "Condition", "Scale", "Source")
    common.emit(args, data, lambda: common.table(headers, rows))
    return 0


def define_measure(args: argparse.Namespace) -> int:
    from ketadesk.scheduling.outcomes import measures

    minimum = _whole(args.min, "minimum")
    maximum = _whole(args.max, "maximum")
    threshold = None if args.remission is None else _whole(args.remission, "remission_threshold")
    with common.opened(args) as db, db.transaction() as session:
        actor = common.actor(args)
        made = measures.define_measure(
            session,
            actor,
            args.key,
            args.name,
            maximum,
            minimum=minimum,
            lower_is_better=not args.higher_is_better,
            remission_threshold=threshold,
        )
    print(f"Added the measure {made.key} ({made.name}, {_scale_words(made)}).")
    return 0
