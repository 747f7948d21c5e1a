"""``ketadesk schedule day``: one location's day, chair by chair, as text, JSON or a PDF.

The command reads :func:`ketadesk.scheduling.calendar.calendar_window` for one local day
in one read-only session, then prints the sessions grouped by chair (the grouping is the
printed day sheet's own, :func:`ketadesk.documents.day_sheet.sessions_by_chair`), and with
``--pdf`` writes the day sheet :func:`ketadesk.documents.day_sheet.render_day_sheet` lays
out.
"""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ketadesk.cli import common
from ketadesk.cli.billing_common import write_pdf

if TYPE_CHECKING:
    from ketadesk.documents.day_sheet import ChairSessions
    from ketadesk.scheduling.calendar import CalendarEntry, CalendarWindow

DAY_OPTIONS = {"day": "DATE", "location": "--location", "pdf": "--pdf"}
GROUP_EXAMPLES = """\
  ketadesk schedule day today
  ketadesk schedule day 2026-12-07 --location NYC --pdf nyc-2026-12-07.pdf
"""


def register(commands: Any) -> None:
    actions = common.command_group(
        commands,
        "schedule",
        summary="a location's schedule and its printed day sheet",
        description="Read the schedule of a location: every session of a day, chair by chair.",
        examples=GROUP_EXAMPLES,
    )
    parser = common.command_parser(
        actions,
        "day",
        summary="a day's sessions by chair; --pdf prints the day sheet",
        description="List a location's sessions on one day, grouped by chair: time, patient, "
        "MRN,\nprotocol and progress (3 of 6), status, provider and whether the "
        "ride home is\nconfirmed. Says when the location is closed, and why. "
        "--pdf writes the printed\nday sheet.",
        examples="""\
  ketadesk schedule day 2026-12-07
  ketadesk schedule day tomorrow --location NYC --json
  ketadesk schedule day 12/07/2026 --pdf day-sheet.pdf""",
        json_output=True,
    )
    parser.add_argument(
        "day",
        metavar="DATE",
        help="the day: YYYY-MM-DD, MM/DD/YYYY, today or tomorrow (the location's own today)",
    )
    parser.add_argument(
        "--location", metavar="CODE", help="the location's code (needed when there are several)"
    )
    parser.add_argument("--pdf", metavar="FILE", help="also write the printed day sheet here")
    parser.set_defaults(func=day, options=DAY_OPTIONS)


def day(args: argparse.Namespace) -> int:
    from ketadesk.scheduling.calendar import calendar_window

    with common.opened(args) as db, db.reading() as session:
        actor = common.actor(args)
        location = common.only_or_chosen_location(session, actor, args.location)
        wanted = common.parse_day(args.day, location.time_zone, common.clock_of(args))
        window = calendar_window(session, actor, location.id, wanted, 1)
    pdf = _write_pdf(window, Path(args.pdf)) if args.pdf else None
    common.emit(args, day_data(window, wanted, pdf), lambda: day_text(window, wanted, pdf))
    return 0


def _write_pdf(window: CalendarWindow, path: Path) -> Path:
    from ketadesk.documents.day_sheet import render_day_sheet

    return write_pdf(render_day_sheet(window, clinic_name=window.location_name), path, "pdf")


# --------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------


def entry_data(entry: CalendarEntry) -> dict[str, Any]:
    """One session of the schedule as JSON types (instants in UTC and local time)."""
    return {
        "id": entry.session_id,
        "reference": entry.reference,
        "series_id": entry.series_id,
        "number": entry.number,
        "series_size": entry.series_size,
        "progress": entry.progress,
        "patient": entry.patient_name,
        "mrn": entry.mrn,
        "protocol": entry.protocol_key,
        "protocol_name": entry.protocol_name,
        "modality": entry.modality,
        "status": entry.status,
        "chair": entry.chair_name,
        "chair_id": entry.chair_id,
        "provider": entry.provider_name,
        "provider_id": entry.provider_id,
        "starts_at": entry.starts_at,
        "ends_at": entry.ends_at,
        "local_start": entry.local_start,
        "local_end": entry.local_end,
        "driver_confirmed": entry.driver_confirmed,
    }


def _chairs(window: CalendarWindow, wanted: date) -> list[ChairSessions]:
    from ketadesk.documents.day_sheet import sessions_by_chair

    return sessions_by_chair(window, wanted)


def day_data(window: CalendarWindow, wanted: date, pdf: Path | None) -> dict[str, Any]:
    (calendar_day,) = window.days
    return {
        "location": {
            "code": window.location_code,
            "name": window.location_name,
            "time_zone": window.time_zone,
        },
        "date": wanted,
        "closed": calendar_day.closed,
        "hours": [str(interval) for interval in calendar_day.hours],
        "chairs": [
            {
                "id": group.chair_id,
                "name": group.name,
                "active": group.active,
                "sessions": [entry_data(e) for e in group.entries],
            }
            for group in _chairs(window, wanted)
        ],
        "pdf": str(pdf) if pdf else None,
    }


def day_text(window: CalendarWindow, wanted: date, pdf: Path | None) -> str:
    from ketadesk.documents.day_sheet import opening_text, time_range
    from ketadesk.documents.format import weekday_date

    (calendar_day,) = window.days
    lines = [
        f"{window.location_name} ({window.location_code}) · {weekday_date(wanted)} · "
        f"{opening_text(calendar_day)}",
    ]
    for group in _chairs(window, wanted):
        name = group.name if group.active else f"{group.name} (out of service)"
        lines += ["", name]
        if not group.entries:
            lines.append("  no sessions")
            continue
        rows = [
            [
                time_range(e, "-"),
                e.patient_name,
                e.mrn,
                f"{e.protocol_name} {e.progress}",
                e.status.label,
                e.provider_name,
                "yes" if e.driver_confirmed else "no",
            ]
            for e in group.entries
        ]
        table = common.table(
            ["Time", "Patient", "MRN", "Protocol", "Status", "Provider", "Driver confirmed"], rows
        )
        lines += ["  " + line for line in table.splitlines()]
    lines += ["", _count_line(window.on(wanted))]
    if pdf is not None:
        lines.append(f"Day sheet written to {pdf}")
    return "\n".join(lines)


def _count_line(entries: list[CalendarEntry]) -> str:
    held = sum(1 for e in entries if e.holds_chair)
    released = len(entries) - held
    text = f"{held} session{'' if held == 1 else 's'} booked"
    return text + (f"; {released} cancelled or no-show." if released else ".")
